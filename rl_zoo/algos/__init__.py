"""The algorithms, by the names the CLI takes.

Every algorithm module provides ``Config`` (a frozen, documented dataclass with ``validate()``),
``make_agent(config, env, env_params) -> rl_zoo.core.types.Agent`` and
``make_train(config, env, env_params) -> train(key)``; optionally ``check_env(env, env_params)``,
which raises ``ValueError`` saying why the algorithm cannot run on that env and what to use instead.
A name may preset config fields (``ppo-kl`` is ``ppo`` with ``loss="kl"``).
"""

from __future__ import annotations

import difflib
import importlib
from types import ModuleType

#: name -> (module, preset config fields, one-line description)
ALGOS: dict[str, tuple[str, dict, str]] = {
    "ppo": ("rl_zoo.algos.ppo", {}, "PPO with the clipped surrogate (Schulman et al. 2017)"),
    "ppo-kl": ("rl_zoo.algos.ppo", {"loss": "kl"}, "PPO with the adaptive KL penalty (Schulman et al. 2017, sec. 4)"),
    "vpg": ("rl_zoo.algos.vpg", {}, "Vanilla policy gradient with a value baseline (Williams 1992)"),
    "trpo": ("rl_zoo.algos.trpo", {}, "Trust region policy optimisation (Schulman et al. 2015)"),
    "dqn": ("rl_zoo.algos.dqn", {}, "Deep Q-network (Mnih et al. 2015)"),
    "double-dqn": ("rl_zoo.algos.dqn", {"double": True}, "Double DQN (van Hasselt et al. 2016)"),
    "q-learning": ("rl_zoo.algos.q_learning", {}, "Tabular Q-learning (Watkins & Dayan 1992)"),
    "double-q-learning": ("rl_zoo.algos.q_learning", {"double": True}, "Tabular Double Q-learning (van Hasselt 2010)"),
}


def implied_name(name: str, config) -> str:
    """The algorithm name ``config`` trains, among the names sharing ``name``'s module: the one whose preset
    fields it holds (``ppo`` with ``loss="kl"`` is ``ppo-kl``; ``double-dqn`` with ``double=False`` is
    ``dqn``); ``name`` itself when none or several match."""
    module = ALGOS[name][0]
    siblings = [n for n, (m, _, _) in ALGOS.items() if m == module]
    keys = set().union(*(ALGOS[n][1] for n in siblings))
    default = type(config)()
    match = [n for n in siblings if all(getattr(config, k) == ALGOS[n][1].get(k, getattr(default, k)) for k in keys)]
    return match[0] if len(match) == 1 else name


def names() -> list[str]:
    return list(ALGOS)


def get(name: str) -> tuple[ModuleType, dict]:
    """The module implementing ``name`` and the config fields the name presets."""
    if not isinstance(name, str) or name not in ALGOS:  # train(["ppo"], ...) was "unhashable type: 'list'"
        close = difflib.get_close_matches(name.lower(), ALGOS, n=3) if isinstance(name, str) else []  # "PPO": did you mean ppo
        hint = f" Did you mean {', '.join(close)}?" if close else ""
        raise ValueError(f"Unknown algorithm {name!r}.{hint} Known algorithms: {', '.join(ALGOS)}.")
    module, preset, _ = ALGOS[name]
    try:
        return importlib.import_module(module), dict(preset)
    except ModuleNotFoundError as e:
        if e.name == module:
            raise ValueError(f"Algorithm {name!r} is not implemented yet in this version of rl_zoo.") from None
        raise


def __getattr__(name: str):
    """Each algorithm's module as an attribute (``rl_zoo.algos.ppo``), imported on first use."""
    from rl_zoo import _submodule

    if (module := _submodule(__name__, name)) is not None:
        return module
    raise AttributeError(f"module 'rl_zoo.algos' has no attribute {name!r}")
