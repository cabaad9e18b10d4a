"""Host (gymnasium) envs with all seeds at once: the env behind the JAX interface (``batched_env``), the host
calls inside compiled programs and how such a program runs (``calls``), their worker subprocesses (``workers``),
batched greedy evaluation at a counted cost (``evaluation``), the driver's runner with checkpoints and
resume (``runner``). ``rl-zoo train`` uses them for every env without a JAX port."""

# Nothing is imported here: ``batched_env`` (what every algorithm's ``make_train`` takes a gymnasium env
# through) needs only ``envs``; ``runner`` and ``evaluation`` import the driver's parts themselves, and
# the driver makes its host runner on first use (``rl_zoo.driver.run.RUNNERS``).
