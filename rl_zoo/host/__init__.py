"""Host (gymnasium) envs with all seeds at once: the env behind the JAX interface (``batched_env``),
batched greedy evaluation at a counted cost (``evaluation``), the driver's runner with checkpoints and
resume (``runner``). ``rl-zoo train`` uses them for every env without a JAX port."""
