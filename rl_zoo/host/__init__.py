"""Host (gymnasium) envs with all seeds at once: the env behind the JAX interface (``batched_env``),
batched greedy evaluation at a counted cost (``evaluation``), the driver's runner with checkpoints and
resume (``runner``). ``rl-zoo train`` uses them for every env without a JAX port."""

# The driver's run module registers this package's runner, and the runner is built from the driver's
# parts: importing the driver first lets ``import rl_zoo.host.runner`` (or ``.evaluation``) come first too.
import rl_zoo.driver  # noqa: F401
