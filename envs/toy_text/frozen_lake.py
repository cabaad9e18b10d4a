"""FrozenLake-v1 (and FrozenLake8x8-v1) in pure JAX: gymnasium's ``FrozenLakeEnv``, table for table.

Cross a frozen lake from the start ``S`` to the goal ``G`` without falling into a hole ``H``
(``F`` is frozen ice). The observation is the cell index ``row * ncol + col``; actions are
0 left, 1 down, 2 right, 3 up. Moving into the border leaves the agent in place.

* ``is_slippery=True`` (default): the agent moves in the intended direction with probability
  ``success_rate`` (default 1/3) and in each perpendicular direction with probability
  ``(1 - success_rate) / 2``; outcomes listed in gymnasium's order ``(a - 1) % 4, a, (a + 1) % 4``.
* ``reward_schedule=(goal, hole, frozen)`` (default ``(1, 0, 0)``) is the reward for *entering* a
  cell of that kind (the start counts as frozen).
* Entering ``G`` or ``H`` terminates. ``G``/``H`` cells themselves self-loop with reward 0 and
  ``terminated=True`` (gymnasium's table; unreachable in an episode).
* The episode starts uniformly on the ``S`` cells (one in every built-in map).
* Time limit: that of the id, as gymnasium's (its ``TimeLimit`` comes with the registration):
  ``envs.make("FrozenLake-v1", ...)`` 100 steps, ``envs.make("FrozenLake8x8-v1", ...)`` 200, whatever
  the map (``map_name="8x8"`` under ``FrozenLake-v1`` keeps 100); ``max_episode_steps=`` chooses.
  ``FrozenLake(...)`` built directly takes 200 for the built-in 8x8 map, 100 otherwise.
* ``desc=[...]`` gives a custom map; ``desc=None, map_name=None`` a random valid 8x8 map
  (:func:`generate_random_map`, the same generator and seeding as gymnasium's).

Out-of-range actions are clipped into ``{0, 1, 2, 3}`` (gymnasium raises ``KeyError``); see
``envs.toy_text.tabular``.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from envs.toy_text.tabular import TabularEnv, TransitionTable, grid_letters, is_number

LEFT, DOWN, RIGHT, UP = 0, 1, 2, 3

MAPS = {
    "4x4": ["SFFF", "FHFH", "FFFH", "HFFG"],
    "8x8": [
        "SFFFFFFF",
        "FFFFFFFF",
        "FFFHFFFF",
        "FFFFFHFF",
        "FFFHFFFF",
        "FHHFFFHF",
        "FHFFHFHF",
        "FFFHFFFG",
    ],
}


def is_valid(board, max_size: int) -> bool:
    """Whether the goal can be reached from (0, 0) without crossing a hole (gymnasium's DFS)."""
    frontier, discovered = [(0, 0)], set()
    while frontier:
        r, c = frontier.pop()
        if (r, c) not in discovered:
            discovered.add((r, c))
            for x, y in [(1, 0), (0, 1), (-1, 0), (0, -1)]:
                r_new, c_new = r + x, c + y
                if r_new < 0 or r_new >= max_size or c_new < 0 or c_new >= max_size:
                    continue
                if board[r_new][c_new] == "G":
                    return True
                if board[r_new][c_new] != "H":
                    frontier.append((r_new, c_new))
    return False


def generate_random_map(size: int = 8, p: float = 0.8, seed: int | None = None) -> list[str]:
    """A random map with a path from start to goal; same draws as gymnasium's for the same seed."""
    np_random = np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed)))
    valid, board = False, []
    while not valid:
        p = min(1, p)
        board = np_random.choice(["F", "H"], (size, size), p=[p, 1 - p])
        board[0][0] = "S"
        board[-1][-1] = "G"
        valid = is_valid(board, size)
    return ["".join(x) for x in board]


def build_table(desc: list[str], is_slippery: bool, success_rate: float, reward_schedule) -> TransitionTable:
    """gymnasium's ``FrozenLakeEnv.P`` and ``initial_state_distrib`` for map ``desc``."""
    nrow, ncol = len(desc), len(desc[0])
    fail_rate = (1.0 - success_rate) / 2.0

    def inc(row, col, a):
        if a == LEFT:
            col = max(col - 1, 0)
        elif a == DOWN:
            row = min(row + 1, nrow - 1)
        elif a == RIGHT:
            col = min(col + 1, ncol - 1)
        elif a == UP:
            row = max(row - 1, 0)
        return row, col

    def outcome(row, col, a):
        new_row, new_col = inc(row, col, a)
        letter = desc[new_row][new_col]
        reward = reward_schedule["GHF".index(letter if letter in "GHF" else "F")]
        return new_row * ncol + new_col, reward, letter in "GH"

    P: dict = {}
    for row in range(nrow):
        for col in range(ncol):
            s = row * ncol + col
            P[s] = {}
            for a in range(4):
                if desc[row][col] in "GH":
                    P[s][a] = [(1.0, s, 0, True)]
                elif is_slippery:
                    P[s][a] = [
                        (success_rate if b == a else fail_rate, *outcome(row, col, b)) for b in [(a - 1) % 4, a, (a + 1) % 4]
                    ]
                else:
                    P[s][a] = [(1.0, *outcome(row, col, a))]
    init = np.array([[c == "S" for c in r] for r in desc], np.float64).ravel()
    init /= init.sum()
    return TransitionTable.from_lists(P, init)


class FrozenLake(TabularEnv):
    """FrozenLake-v1; constructor arguments as gymnasium's ``FrozenLakeEnv`` (minus rendering)."""

    #: arrows for actions 0..3, for printing policies
    action_symbols = ("←", "↓", "→", "↑")
    option_rules = {"desc": "rows of S, F, H, G, one S at least, all as long (over map_name)",
                    "map_name": "4x4, 8x8, or null (a random 8x8 map, drawn once)",
                    "success_rate": "0 .. 1", "reward_schedule": "[goal, hole, frozen], numbers within float32"}
    option_groups = (("desc", "map_name"),)

    def __init__(
        self,
        desc: list[str] | None = None,
        map_name: str | None = "4x4",
        is_slippery: bool = True,
        success_rate: float = 1.0 / 3.0,
        reward_schedule: tuple[float, float, float] = (1, 0, 0),
        max_episode_steps: int | None = None,
    ):
        self.random_map = desc is None and map_name is None  # drawn_options: a map drawn here, not given
        if self.random_map:
            desc = generate_random_map()
        elif desc is None:
            if map_name not in MAPS:
                raise ValueError(f"map_name must be one of {sorted(MAPS)} (or pass desc=[...]), got {map_name!r}")
            desc = MAPS[map_name]
        desc = grid_letters(desc)
        if len({len(r) for r in desc}) != 1:
            raise ValueError(f"desc rows must all have the same length, got {desc}")
        if any(c not in "SFHG" for r in desc for c in r) or not any("S" in r for r in desc):
            raise ValueError(f"desc must use the letters S, F, H, G and hold at least one S, got {desc}")
        if (isinstance(reward_schedule, (str, bytes)) or not isinstance(reward_schedule, Iterable)
                or len(tuple(reward_schedule)) != 3 or not all(is_number(r) for r in reward_schedule)):
            # (1, None, 0) made the hole's reward NaN; ("a", "b", "c") and 1 were float()'s and iter()'s errors
            raise ValueError(f"reward_schedule is (goal, hole, frozen): 3 finite numbers, got {reward_schedule!r}")
        if any(abs(float(r)) > float(np.finfo(np.float32).max) for r in reward_schedule):  # 1e40 was an inf reward in JAX's float32
            raise ValueError(f"reward_schedule {tuple(reward_schedule)!r} overflows float32, where JAX computes the rewards: "
                             f"give values at most {float(np.finfo(np.float32).max):.1e} in size")
        if not is_number(success_rate) or not 0.0 <= success_rate <= 1.0:
            raise ValueError(f"success_rate must be a number in [0, 1], got {success_rate!r}")
        self.desc = desc
        self.nrow, self.ncol = len(desc), len(desc[0])
        self.is_slippery = bool(is_slippery)
        self.success_rate = success_rate
        self.reward_schedule = tuple(reward_schedule)
        builtin_8x8 = desc == MAPS["8x8"] and map_name == "8x8"
        self.id = "FrozenLake8x8-v1" if builtin_8x8 else "FrozenLake-v1"
        if max_episode_steps is None:  # built directly: the limit of the id the map is registered under
            max_episode_steps = 200 if builtin_8x8 else 100
        table = build_table(desc, self.is_slippery, success_rate, self.reward_schedule)
        self._finish_init(table, max_episode_steps=max_episode_steps)

    def drawn_options(self) -> dict:
        """``map_name=None`` drew a random map (each ``make`` another, as gymnasium's): recorded as ``desc``, so a
        resumed, loaded or watched run plays the map it trained on."""
        return {"desc": list(self.desc)} if self.random_map else {}
