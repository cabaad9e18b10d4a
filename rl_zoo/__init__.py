"""rl_zoo: pure-functional JAX reinforcement learning.

``rl_zoo.train.train(algo, env_id, ...)`` trains and writes a run directory (the ``rl-zoo train``
command's function); ``rl_zoo.load(run_dir)`` is a trained run's greedy policy; ``envs.make(env_id)``
makes an environment; each algorithm is one module of ``rl_zoo.algos`` (``make_train``, ``Config``).
"""

__version__ = "0.1.0"

__all__ = ["load"]


def _submodule(package: str, name: str):
    """``package.name`` imported, if it is a submodule (``None`` otherwise): a submodule is an attribute of its
    package only once imported, so ``import rl_zoo; rl_zoo.train.train(...)``, ``rl_zoo.enjoy.VideoHook()`` (the
    README's hooks) or ``rl_zoo.algos.ppo`` were an AttributeError, or not, by what had been imported before."""
    import importlib
    import importlib.util

    if name.startswith("_") or importlib.util.find_spec(f"{package}.{name}") is None:
        return None
    return importlib.import_module(f"{package}.{name}")


def __getattr__(name: str):
    """``rl_zoo.load(run_dir)``, the greedy policy of a trained run (``rl_zoo.policy.load``), and every submodule
    (``rl_zoo.train``, ``rl_zoo.algos``, ``rl_zoo.enjoy``, ...), imported on first use so that ``import rl_zoo``
    stays light."""
    if name == "load":
        from rl_zoo.policy import load

        return load
    if (module := _submodule(__name__, name)) is not None:
        return module
    raise AttributeError(f"module 'rl_zoo' has no attribute {name!r}")


def __dir__() -> list[str]:
    import pkgutil

    return sorted({*globals(), *__all__, *(m.name for m in pkgutil.iter_modules(__path__) if not m.name.startswith("_"))})
