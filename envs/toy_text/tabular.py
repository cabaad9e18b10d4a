"""Finite MDPs stepped from a dense transition table: the shared core of the toy-text ports.

gymnasium's toy-text environments keep their dynamics as a dict ``P[s][a] = [(prob, next_state,
reward, terminated), ...]`` and step by drawing one outcome of the list (``categorical_sample``).
A port builds the same table in numpy at construction, pads each list to ``K`` outcomes with
probability 0, and stores it as dense arrays in the params pytree:

    probs       [S, A, K] float32   P(outcome k | s, a)
    next_state  [S, A, K] int32
    reward      [S, A, K] float32
    terminated  [S, A, K] bool

``step_env`` draws ``u ~ U[0, 1)`` and takes the first outcome whose cumulative probability exceeds
``u`` (gymnasium's rule, so outcome order matters and is kept). When ``K == 1`` (deterministic
variants) no random number is drawn at all. The initial state is drawn the same way from the
support of gymnasium's ``initial_state_distrib`` (``initial_states [M]`` and its cumulative
probabilities ``initial_cdf [M]``, searched with a binary search; no draw when ``M == 1``).

The float64 table exactly as gymnasium holds it is kept on the environment (``env.table``) so that
tests can compare it with ``env.unwrapped.P`` bit for bit; params hold its float32 cast.

Out-of-range actions: gymnasium raises ``KeyError`` from ``P[s][a]``. A jitted step cannot raise,
so actions are clipped into ``{0, ..., A - 1}`` (``-1 -> 0``, ``A -> A - 1``), after a float action is
truncated toward zero (``1.9 -> 1``; the gymnasium adapter refuses it). Pass valid integer actions.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from flax import struct

from envs import spaces
from envs.environment import EnvParams, Environment

#: a time limit that never binds (for ids gymnasium registers without ``max_episode_steps``)
NO_TIME_LIMIT = 2**31 - 1


class TransitionTable(NamedTuple):
    """gymnasium's ``P`` as dense float64/int numpy arrays, padded to ``K`` outcomes."""

    probs: np.ndarray  # [S, A, K] float64
    next_state: np.ndarray  # [S, A, K] int64
    reward: np.ndarray  # [S, A, K] float64
    terminated: np.ndarray  # [S, A, K] bool
    num_outcomes: np.ndarray  # [S, A] int64, length of gymnasium's list P[s][a] (the rest is padding)
    initial_distribution: np.ndarray  # [S] float64

    @classmethod
    def from_lists(cls, P: dict, initial_distribution: np.ndarray) -> TransitionTable:
        """Pad a gymnasium-style ``P[s][a] = [(p, s', r, terminated), ...]`` into dense arrays."""
        num_states = len(P)
        num_actions = len(P[0])
        K = max(len(P[s][a]) for s in range(num_states) for a in range(num_actions))
        probs = np.zeros((num_states, num_actions, K), np.float64)
        next_state = np.zeros((num_states, num_actions, K), np.int64)
        reward = np.zeros((num_states, num_actions, K), np.float64)
        terminated = np.zeros((num_states, num_actions, K), bool)
        num_outcomes = np.zeros((num_states, num_actions), np.int64)
        for s in range(num_states):
            for a in range(num_actions):
                outcomes = P[s][a]
                num_outcomes[s, a] = len(outcomes)
                for k, (p, s2, r, t) in enumerate(outcomes):
                    probs[s, a, k], next_state[s, a, k], reward[s, a, k], terminated[s, a, k] = p, s2, r, t
                # padded outcomes (probability 0) repeat the last real one: never drawn, but harmless
                for k in range(len(outcomes), K):
                    next_state[s, a, k], reward[s, a, k], terminated[s, a, k] = outcomes[-1][1:]
        return cls(probs, next_state, reward, terminated, num_outcomes, np.asarray(initial_distribution, np.float64))

    def to_lists(self) -> dict:
        """Back to gymnasium's dict-of-lists form, dropping the padding (for comparison with ``P``)."""
        S, A, _ = self.probs.shape
        out: dict = {}
        for s in range(S):
            out[s] = {}
            for a in range(A):
                out[s][a] = [
                    (float(self.probs[s, a, k]), int(self.next_state[s, a, k]), float(self.reward[s, a, k]), bool(self.terminated[s, a, k]))
                    for k in range(int(self.num_outcomes[s, a]))
                ]
        return out


@struct.dataclass(kw_only=True)
class TabularParams(EnvParams):
    """The transition table (see module docstring) and the time limit, as one vmappable pytree."""

    probs: jax.Array  # [S, A, K] float32
    next_state: jax.Array  # [S, A, K] int32
    reward: jax.Array  # [S, A, K] float32
    terminated: jax.Array  # [S, A, K] bool
    initial_states: jax.Array  # [M] int32, the support of the initial state distribution
    initial_cdf: jax.Array  # [M] float32, its cumulative probabilities
    max_steps_in_episode: int = 100


@struct.dataclass
class TabularState:
    s: jax.Array  # int32 state index (the observation)
    time: jax.Array  # int32 steps taken in this episode


class TabularEnv(Environment):
    """A finite MDP from a :class:`TransitionTable`. Subclasses build ``self.table`` in ``__init__``
    and call :meth:`_finish_init`."""

    table: TransitionTable
    max_episode_steps: int = 100

    def _finish_init(self, table: TransitionTable, max_episode_steps: int) -> None:
        self.table = table
        self.max_episode_steps = int(max_episode_steps)
        support = np.flatnonzero(table.initial_distribution > 0)
        self._params = TabularParams(
            probs=jnp.asarray(table.probs, jnp.float32),
            next_state=jnp.asarray(table.next_state, jnp.int32),
            reward=jnp.asarray(table.reward, jnp.float32),
            terminated=jnp.asarray(table.terminated, bool),
            initial_states=jnp.asarray(support, jnp.int32),
            initial_cdf=jnp.asarray(np.cumsum(table.initial_distribution[support]), jnp.float32),
            max_steps_in_episode=self.max_episode_steps,
        )

    @property
    def num_states(self) -> int:
        return int(self.table.probs.shape[0])

    @property
    def default_params(self) -> TabularParams:
        return self._params

    def observation_space(self, params=None):
        n = self.num_states if params is None else int(params.probs.shape[-3])
        return spaces.Discrete(n)

    def action_space(self, params=None):
        n = int(self.table.probs.shape[1]) if params is None else int(params.probs.shape[-2])
        return spaces.Discrete(n)

    # --- sampling -------------------------------------------------------------------------------
    @staticmethod
    def sample_initial_state(key: jax.Array, params: TabularParams) -> jax.Array:
        """Draw from the initial state distribution (no draw when it is a single state)."""
        if params.initial_states.shape[0] == 1:
            return params.initial_states[0]
        cdf = params.initial_cdf
        u = jax.random.uniform(key, (), jnp.float32) * cdf[-1]
        idx = jnp.searchsorted(cdf, u, side="right")
        return params.initial_states[jnp.minimum(idx, cdf.shape[0] - 1)]

    @staticmethod
    def sample_transition(key: jax.Array, s: jax.Array, action: jax.Array, params: TabularParams):
        """``(next_state, reward, terminated, prob)`` of one draw from ``P[s][a]`` (action clipped)."""
        num_actions = params.probs.shape[1]
        a = jnp.clip(jnp.asarray(action).astype(jnp.int32), 0, num_actions - 1)  # a Python int too
        probs = params.probs[s, a]  # [K]
        if probs.shape[0] == 1:
            k = 0
        else:
            cdf = jnp.cumsum(probs)
            u = jax.random.uniform(key, (), jnp.float32) * cdf[-1]
            k = jnp.minimum(jnp.sum(cdf <= u), probs.shape[0] - 1)  # gymnasium's categorical_sample, argmax(cdf > u)
        return params.next_state[s, a, k], params.reward[s, a, k], params.terminated[s, a, k], probs[k]

    # --- the Environment interface --------------------------------------------------------------
    def reset_env(self, key, params):
        s = self.sample_initial_state(key, params)
        state = TabularState(s=s, time=jnp.array(0, jnp.int32))
        return s, state

    def step_env(self, key, state, action, params):
        s, reward, terminated, prob = self.sample_transition(key, state.s, action, params)
        state = state.replace(s=s, time=state.time + 1)
        return s, state, reward, terminated, {"prob": prob}

    def initial_state_distribution(self) -> np.ndarray:
        """gymnasium's ``initial_state_distrib`` ``[S]`` (float64)."""
        return self.table.initial_distribution.copy()


def is_number(x) -> bool:
    """A finite real number (not a bool): what a constructor option that is a probability or a reward must be
    (``None`` failed in a comparison as a bare TypeError, and became NaN in a reward table)."""
    if not isinstance(x, (int, float, np.integer, np.floating)) or isinstance(x, (bool, np.bool_)):
        return False
    try:
        return bool(np.isfinite(float(x)))
    except OverflowError:  # an int past any float (10**400 was a TypeError from np.isfinite)
        return False


def grid_letters(desc) -> list[str]:
    """``desc`` as a list of ``str`` rows, whatever gymnasium-style form it came in (a list of rows, or
    gymnasium's array of bytes); one string alone is refused (gymnasium raises on it too), not read as a
    one-column map."""
    if isinstance(desc, (str, bytes, np.str_, np.bytes_)):
        raise ValueError(f"desc is a list of rows, e.g. ['SFFF', 'FHFH', 'FFFH', 'HFFG'], got the single string {desc!r}")
    rows = []
    for row in desc:
        if isinstance(row, (bytes, np.bytes_)):
            rows.append(row.decode())
        elif isinstance(row, str):
            rows.append(row)
        elif isinstance(row, (list, tuple, np.ndarray)):  # a row of letters (gymnasium's array of bytes)
            rows.append("".join(c.decode() if isinstance(c, (bytes, np.bytes_)) else str(c) for c in row))
        else:
            raise ValueError(f"desc is a list of rows of letters, e.g. ['SFFF', 'FHFH', 'FFFH', 'HFFG'], got the row "
                             f"{row!r} in {desc!r}")
    return rows
