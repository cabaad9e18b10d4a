"""rl_zoo: pure-functional JAX reinforcement learning."""

__version__ = "0.1.0"
