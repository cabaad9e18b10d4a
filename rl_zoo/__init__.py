"""rl_zoo: pure-functional JAX reinforcement learning."""

__version__ = "0.1.0"


def __getattr__(name: str):
    """``rl_zoo.load(run_dir)``, the greedy policy of a trained run (``rl_zoo.policy.load``), imported
    on first use so that ``import rl_zoo`` stays light."""
    if name == "load":
        from rl_zoo.policy import load

        return load
    raise AttributeError(f"module 'rl_zoo' has no attribute {name!r}")
