"""Taxi-v4 in pure JAX: gymnasium's ``TaxiEnv`` (Dietterich 2000, "Hierarchical Reinforcement
Learning with the MAXQ Value Function Decomposition", JAIR 13), table for table.

A 5x5 grid with walls and four pads R(0,0), G(0,4), Y(4,0), B(4,3)::

    +---------+
    |R: | : :G|
    | : | : : |
    | : : : : |
    | | : | : |
    |Y| : |B: |
    +---------+

The state index is ``((taxi_row * 5 + taxi_col) * 5 + passenger_location) * 4 + destination``
(passenger location 4 = in the taxi); 500 states. Actions: 0 south, 1 north, 2 east, 3 west,
4 pick up, 5 drop off. Rewards: -1 per step, +20 for delivering (which terminates), -10 for an
illegal pick-up or drop-off. Dropping the passenger on another pad is legal (-1) and leaves them
there. The episode starts uniformly on the 300 states where the passenger waits on a pad that is
not their destination. Time limit 200 steps.

Options (gymnasium 1.x ``Taxi-v4``):

* ``is_rainy=True``: a move goes in the intended direction with probability ``rainy_probability``
  (0.8) and to each side with ``(1 - rainy_probability) / 2``; when the intended move is blocked,
  the taxi stays put whatever the draw. Pick-up and drop-off stay deterministic.
* ``fickle_passenger=True``: with probability ``fickle_probability`` (0.3), drawn at reset, the
  passenger changes destination (uniformly among the other three) on the first step that moves the
  taxi while they are aboard. This lives outside the table, in ``TaxiState.fickle_step``, exactly
  where gymnasium keeps it.

gymnasium's ``info["action_mask"]`` is available as :meth:`Taxi.action_mask` (not put in ``info``,
which the auto-reset would make refer to the pre-reset state). Out-of-range actions are clipped
into ``{0, ..., 5}`` (gymnasium raises ``KeyError``); see ``envs.toy_text.tabular``.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
from flax import struct

from envs.toy_text.tabular import TabularEnv, TransitionTable, is_number

MAP = [
    "+---------+",
    "|R: | : :G|",
    "| : | : : |",
    "| : : : : |",
    "| | : | : |",
    "|Y| : |B: |",
    "+---------+",
]
LOCS = [(0, 0), (0, 4), (4, 0), (4, 3)]
NUM_ROWS = NUM_COLS = 5
MAX_ROW, MAX_COL = NUM_ROWS - 1, NUM_COLS - 1


def encode(taxi_row, taxi_col, pass_loc, dest_idx):
    return ((taxi_row * 5 + taxi_col) * 5 + pass_loc) * 4 + dest_idx


def decode(i):
    """``(taxi_row, taxi_col, pass_loc, dest_idx)``; works on ints and on jax arrays."""
    return i // 100, (i // 20) % 5, (i // 4) % 5, i % 4


def _open(row, col) -> bool:
    """Whether ``MAP`` has no wall at character ``(1 + row, col)``."""
    return MAP[1 + row][col] == ":"


def _pickup(taxi_loc, pass_idx, reward):
    if pass_idx < 4 and taxi_loc == LOCS[pass_idx]:
        return 4, reward
    return pass_idx, -10


def _dropoff(taxi_loc, pass_idx, dest_idx, default_reward):
    if taxi_loc == LOCS[dest_idx] and pass_idx == 4:
        return dest_idx, 20, True
    if taxi_loc in LOCS and pass_idx == 4:
        return LOCS.index(taxi_loc), default_reward, False
    return pass_idx, -10, False


def _dry(row, col, pass_idx, dest_idx, action):
    new_row, new_col, new_pass_idx = row, col, pass_idx
    reward, terminated = -1, False
    taxi_loc = (row, col)
    if action == 0:
        new_row = min(row + 1, MAX_ROW)
    elif action == 1:
        new_row = max(row - 1, 0)
    if action == 2 and _open(row, 2 * col + 2):
        new_col = min(col + 1, MAX_COL)
    elif action == 3 and _open(row, 2 * col):
        new_col = max(col - 1, 0)
    elif action == 4:
        new_pass_idx, reward = _pickup(taxi_loc, new_pass_idx, reward)
    elif action == 5:
        new_pass_idx, reward, terminated = _dropoff(taxi_loc, new_pass_idx, dest_idx, reward)
    return [(1.0, encode(new_row, new_col, new_pass_idx, dest_idx), reward, terminated)]


def _lateral(row, col, movement):
    dr, dc = movement
    new_row = max(0, min(row + dr, MAX_ROW))
    new_col = max(0, min(col + dc, MAX_COL))
    if dc == 1 and not _open(new_row, 2 * new_col):
        return row, col
    if dc == -1 and not _open(new_row, 2 * new_col + 2):
        return row, col
    return new_row, new_col


# (forward, left, right) for each heading, gymnasium's order
_RAINY_MOVES = {
    0: ((1, 0), (0, 1), (0, -1)),
    1: ((-1, 0), (0, -1), (0, 1)),
    2: ((0, 1), (-1, 0), (1, 0)),
    3: ((0, -1), (1, 0), (-1, 0)),
}


def _rainy(row, col, pass_idx, dest_idx, action, rainy_probability):
    lateral_probability = (1.0 - rainy_probability) / 2.0
    taxi_loc = left_pos = right_pos = (row, col)
    new_row, new_col, new_pass_idx = row, col, pass_idx
    reward, terminated = -1, False
    if (
        (action == 0 and row < MAX_ROW)
        or (action == 1 and row > 0)
        or (action == 2 and _open(row, 2 * col + 2))
        or (action == 3 and _open(row, 2 * col))
    ):
        dr, dc = _RAINY_MOVES[action][0]
        new_row = max(0, min(row + dr, MAX_ROW))
        new_col = max(0, min(col + dc, MAX_COL))
        left_pos = _lateral(row, col, _RAINY_MOVES[action][1])
        right_pos = _lateral(row, col, _RAINY_MOVES[action][2])
    elif action == 4:
        new_pass_idx, reward = _pickup(taxi_loc, new_pass_idx, reward)
    elif action == 5:
        new_pass_idx, reward, terminated = _dropoff(taxi_loc, new_pass_idx, dest_idx, reward)
    intended = encode(new_row, new_col, new_pass_idx, dest_idx)
    if action <= 3:
        return [
            (rainy_probability, intended, -1, terminated),
            (lateral_probability, encode(*left_pos, new_pass_idx, dest_idx), -1, terminated),
            (lateral_probability, encode(*right_pos, new_pass_idx, dest_idx), -1, terminated),
        ]
    return [(1.0, intended, reward, terminated)]


def build_table(is_rainy: bool, rainy_probability: float) -> TransitionTable:
    """gymnasium's ``TaxiEnv.P`` and ``initial_state_distrib``."""
    P: dict = {}
    init = np.zeros(500)
    for row in range(NUM_ROWS):
        for col in range(NUM_COLS):
            for pass_idx in range(5):
                for dest_idx in range(4):
                    s = encode(row, col, pass_idx, dest_idx)
                    if pass_idx < 4 and pass_idx != dest_idx:
                        init[s] += 1
                    P[s] = {
                        a: _rainy(row, col, pass_idx, dest_idx, a, rainy_probability) if is_rainy else _dry(row, col, pass_idx, dest_idx, a)
                        for a in range(6)
                    }
    init /= init.sum()
    return TransitionTable.from_lists(P, init)


@struct.dataclass
class TaxiState:
    s: jax.Array  # int32 state index (the observation)
    time: jax.Array  # int32 steps taken in this episode
    fickle_step: jax.Array  # bool: the passenger will still change destination (fickle_passenger)


class Taxi(TabularEnv):
    """Taxi-v4; constructor arguments as gymnasium's ``TaxiEnv`` (minus rendering)."""

    id = "Taxi-v4"
    option_rules = {"rainy_probability": "0 .. 1", "fickle_probability": "0 .. 1"}

    def __init__(
        self,
        is_rainy: bool = False,
        fickle_passenger: bool = False,
        rainy_probability: float = 0.8,
        fickle_probability: float = 0.3,
    ):
        for name, p in (("rainy_probability", rainy_probability), ("fickle_probability", fickle_probability)):
            if not is_number(p) or not 0.0 <= p <= 1.0:  # None: a bare TypeError
                raise ValueError(f"{name} must be a number in [0, 1], got {p!r}")
        self.is_rainy = bool(is_rainy)
        self.fickle_passenger = bool(fickle_passenger)
        self.rainy_probability = rainy_probability
        self.fickle_probability = fickle_probability
        self._finish_init(build_table(self.is_rainy, rainy_probability), max_episode_steps=200)

    def reset_env(self, key, params):
        key_s, key_fickle = jax.random.split(key)
        s = self.sample_initial_state(key_s, params)
        if self.fickle_passenger:
            fickle = jax.random.uniform(key_fickle, ()) < self.fickle_probability
        else:
            fickle = jnp.array(False)
        return s, TaxiState(s=s, time=jnp.array(0, jnp.int32), fickle_step=fickle)

    def step_env(self, key, state, action, params):
        key_step, key_dest = jax.random.split(key)
        s, reward, terminated, prob = self.sample_transition(key_step, state.s, action, params)
        fickle_step = state.fickle_step
        if self.fickle_passenger:
            row0, col0, pass0, dest0 = decode(state.s)
            row, col, pass_loc, _ = decode(s)
            change = fickle_step & (pass0 == 4) & ((row != row0) | (col != col0))
            k = jax.random.randint(key_dest, (), 0, 3, jnp.int32)  # int32 under JAX_ENABLE_X64 too (the state's dtype)
            new_dest = jnp.where(k >= dest0, k + 1, k)  # uniform over the three other pads
            s = jnp.where(change, encode(row, col, pass_loc, new_dest), s)
            fickle_step = fickle_step & ~change
        state = TaxiState(s=s, time=state.time + 1, fickle_step=fickle_step)
        return s, state, reward, terminated, {"prob": prob}

    @staticmethod
    def action_mask(s) -> jax.Array:
        """gymnasium's ``info["action_mask"]`` for state index ``s``: int8 ``[6]``, 1 where the
        action changes the state."""
        row, col, pass_loc, dest = decode(jnp.asarray(s))
        east_open = jnp.asarray([[_open(r, 2 * c + 2) for c in range(5)] for r in range(5)])
        west_open = jnp.asarray([[_open(r, 2 * c) for c in range(5)] for r in range(5)])
        locs = jnp.asarray(LOCS)
        at = jnp.all(locs == jnp.stack([row, col]), axis=-1)  # [4] taxi on pad i
        pass_here = (pass_loc < 4) & at[jnp.minimum(pass_loc, 3)]
        mask = jnp.stack(
            [
                row < 4,
                row > 0,
                (col < 4) & east_open[row, col],
                (col > 0) & west_open[row, col],
                pass_here,
                (pass_loc == 4) & jnp.any(at),
            ]
        )
        return mask.astype(jnp.int8)
