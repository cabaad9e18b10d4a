"""CliffWalking-v1 in pure JAX: gymnasium's ``CliffWalkingEnv`` (Sutton & Barto 2018, Example 6.6).

A 4x12 grid; start at (3, 0), goal at (3, 11), a cliff along (3, 1..10). Actions: 0 up, 1 right,
2 down, 3 left; moves into the border leave the agent in place. Every step costs -1; stepping
into the cliff costs -100 and sends the agent back to the start *without* ending the episode.
Entering the goal terminates. The observation is ``row * 12 + col``; there are 48 states.

* ``is_slippery=True`` (gymnasium's ``CliffWalkingSlippery-v1``): the agent moves in the
  intended direction or either perpendicular one with probability 1/3 each, listed in gymnasium's
  order ``(a - 1) % 4, a, (a + 1) % 4``.
* Time limit: none. gymnasium 1.x registers ``CliffWalking-v1`` *without* ``max_episode_steps``,
  so the default ``max_steps_in_episode`` is 2**31 - 1 (never binds); pass
  ``max_steps_in_episode=`` to cut episodes.

Out-of-range actions are clipped into ``{0, 1, 2, 3}`` (gymnasium raises ``KeyError``); see
``envs.toy_text.tabular``.
"""

from __future__ import annotations

import numpy as np

from envs.toy_text.tabular import NO_TIME_LIMIT, TabularEnv, TransitionTable

UP, RIGHT, DOWN, LEFT = 0, 1, 2, 3
POSITION_MAPPING = {UP: (-1, 0), RIGHT: (0, 1), DOWN: (1, 0), LEFT: (0, -1)}
SHAPE = (4, 12)


def build_table(is_slippery: bool) -> TransitionTable:
    """gymnasium's ``CliffWalkingEnv.P`` and ``initial_state_distrib``."""
    nrow, ncol = SHAPE
    start = 3 * ncol + 0
    cliff = np.zeros(SHAPE, bool)
    cliff[3, 1:-1] = True
    goal = (nrow - 1, ncol - 1)

    def outcomes(row, col, move):
        moves = [(move - 1) % 4, move, (move + 1) % 4] if is_slippery else [move]
        out = []
        for m in moves:
            dr, dc = POSITION_MAPPING[m]
            r, c = min(max(row + dr, 0), nrow - 1), min(max(col + dc, 0), ncol - 1)
            if cliff[r, c]:
                out.append((1 / len(moves), start, -100, False))
            else:
                out.append((1 / len(moves), r * ncol + c, -1, (r, c) == goal))
        return out

    P = {r * ncol + c: {a: outcomes(r, c, a) for a in range(4)} for r in range(nrow) for c in range(ncol)}
    init = np.zeros(nrow * ncol)
    init[start] = 1.0
    return TransitionTable.from_lists(P, init)


class CliffWalking(TabularEnv):
    """CliffWalking-v1; ``is_slippery`` as in gymnasium."""

    id = "CliffWalking-v1"
    action_symbols = ("↑", "→", "↓", "←")
    #: the grid, for printing: S start, C cliff, G goal, F ordinary cell
    desc = ["FFFFFFFFFFFF", "FFFFFFFFFFFF", "FFFFFFFFFFFF", "SCCCCCCCCCCG"]
    nrow, ncol = SHAPE

    def __init__(self, is_slippery: bool = False):
        self.is_slippery = bool(is_slippery)
        if self.is_slippery:
            self.id = "CliffWalkingSlippery-v1"
        self._finish_init(build_table(self.is_slippery), max_episode_steps=NO_TIME_LIMIT)
