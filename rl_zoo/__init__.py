"""rl_zoo: pure-functional JAX reinforcement learning.

``rl_zoo.train.train(algo, env_id, ...)`` trains and writes a run directory (the ``rl-zoo train``
command's function); ``rl_zoo.load(run_dir)`` is a trained run's greedy policy; ``envs.make(env_id)``
makes an environment; each algorithm is one module of ``rl_zoo.algos`` (``make_train``, ``Config``).
"""

__version__ = "0.1.0"

__all__ = ["load"]


#: the submodules the docstring above names, imported on first use (``import rl_zoo; rl_zoo.train.train(...)`` was
#: an AttributeError: a submodule is an attribute only once imported)
_SUBMODULES = ("train", "algos")


def __getattr__(name: str):
    """``rl_zoo.load(run_dir)``, the greedy policy of a trained run (``rl_zoo.policy.load``), and the submodules
    of ``_SUBMODULES``, imported on first use so that ``import rl_zoo`` stays light."""
    if name == "load":
        from rl_zoo.policy import load

        return load
    if name in _SUBMODULES:
        import importlib

        return importlib.import_module(f"rl_zoo.{name}")
    raise AttributeError(f"module 'rl_zoo' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__, *_SUBMODULES})
