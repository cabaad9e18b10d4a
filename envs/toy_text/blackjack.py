"""Blackjack-v1 in pure JAX: gymnasium's ``BlackjackEnv`` (Sutton & Barto 2018, Example 5.1), card for card.

The player's hand against the dealer's, from an infinite deck (each card drawn uniformly from
``DECK``: ace 1, 2-10, and three face cards worth 10). Reset deals the dealer two cards (the first face
up), then the player two. Action 1 (hit) draws a card for the player: above 21 is a bust, reward -1,
the episode ends; else reward 0. Action 0 (stick) ends the episode: the dealer draws while their sum
is below 17, and the reward is +1, 0 or -1 as the player's score beats, ties or loses to the dealer's
(a bust scores 0). An ace counts 11 where that keeps the hand at 21 or below ("usable").

Options (gymnasium's constructor arguments; ``Blackjack-v1`` is registered with ``sab=True``):

* ``sab=True`` (Sutton & Barto's rules): a natural (an ace and a ten-card as the first two cards) wins
  +1 outright unless the dealer also has one (then the ordinary comparison: a draw). Overrides
  ``natural``.
* ``natural=True`` (with ``sab=False``): a natural that wins pays +1.5.

Time limit: none (gymnasium registers no ``max_episode_steps``; every episode ends by itself: a stick
ends it, and a hand busts by its 20th hit, 22 aces); ``max_steps_in_episode=`` cuts episodes.

**Observation.** gymnasium's is the tuple ``(player sum 0-31, dealer's face-up card 1-10, usable ace
0/1)`` in ``Tuple(Discrete(32), Discrete(11), Discrete(2))``; rl_zoo's algorithms take Discrete and Box
spaces, so the port gives the same tuple as one index of ``Discrete(704)``, mixed radix in the tuple's
order: ``(player_sum * 11 + dealer_card) * 2 + usable_ace`` (`encode`; `decode` gives the tuple back).
Tabular Q-learning keeps one row per tuple; the networks see it one-hot.

**Cards.** A step draws ``MAX_DEALER_DRAWS`` cards up front (`draw_cards`) and the pure transition
(`hit`, `stick`) takes them in order, as gymnasium's ``draw_card`` hands them out: a hit uses the first,
a stick as many as the dealer needs. The parity test feeds gymnasium's own draws through the same
functions. Out-of-range actions are clipped into ``{0, 1}`` (gymnasium asserts), as in the other
toy-text ports.

**Exact values.** `policy_return` gives the expected return of any policy over the observations,
computed over every deal rather than sampled, and `optimal_policy` the best one (Sutton & Barto's
Figure 5.2, drawn by `format_policy`; it returns -0.0431 under ``sab``): a learned policy is scored
without sampling noise.
A sampled evaluation needs many episodes, each return being one draw of +-1: rl-zoo's commands play
``default_eval_episodes`` = 1,000 per evaluation here, not 10.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from flax import struct

from envs import spaces
from envs.environment import EnvParams, Environment
from envs.toy_text.tabular import NO_TIME_LIMIT

#: gymnasium's ``deck``: 1 = ace, 2-10, and jack, queen, king worth 10
DECK = (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 10, 10, 10)
STICK, HIT = 0, 1
#: cards a stick can need: after the deal the dealer's sum (aces as 1) is at least 2, each card adds at
#: least 1, and they stop once their hand is worth 17 or more (its worth is at least that sum)
MAX_DEALER_DRAWS = 15
#: gymnasium's ``Tuple(Discrete(32), Discrete(11), Discrete(2))``
OBS_SIZES = (32, 11, 2)


@struct.dataclass
class Hand:
    """A hand, as much of it as the rules read: the sum with aces counted 1, whether it holds an ace, and
    how many cards (a natural is two)."""

    total: jax.Array  # int32
    ace: jax.Array  # bool
    cards: jax.Array  # int32


@struct.dataclass
class BlackjackState:
    player: Hand
    dealer: Hand
    dealer_card: jax.Array  # int32, the dealer's face-up card (their first), 1-10
    time: jax.Array  # int32 steps taken in this episode


def new_hand(first, second) -> Hand:
    first, second = jnp.asarray(first, jnp.int32), jnp.asarray(second, jnp.int32)
    return Hand(total=first + second, ace=(first == 1) | (second == 1), cards=jnp.array(2, jnp.int32))


def add_card(hand: Hand, card) -> Hand:
    card = jnp.asarray(card, jnp.int32)
    return Hand(total=hand.total + card, ace=hand.ace | (card == 1), cards=hand.cards + 1)


def usable_ace(hand: Hand) -> jax.Array:
    """gymnasium's ``usable_ace``: an ace that can count 11 without passing 21."""
    return hand.ace & (hand.total + 10 <= 21)


def hand_sum(hand: Hand) -> jax.Array:
    """gymnasium's ``sum_hand``: the total, with a usable ace counted 11."""
    return hand.total + 10 * usable_ace(hand).astype(jnp.int32)


def is_natural(hand: Hand) -> jax.Array:
    """gymnasium's ``is_natural``: the two cards are an ace and a ten-card."""
    return (hand.cards == 2) & hand.ace & (hand.total == 11)


def score(hand: Hand) -> jax.Array:
    """gymnasium's ``score``: the hand's sum, 0 for a bust."""
    total = hand_sum(hand)
    return jnp.where(total > 21, 0, total)


def encode(player_sum, dealer_card, usable) -> jax.Array:
    """gymnasium's observation tuple as one index of ``Discrete(704)`` (mixed radix, the tuple's order)."""
    return (jnp.asarray(player_sum, jnp.int32) * OBS_SIZES[1] + dealer_card) * OBS_SIZES[2] + jnp.asarray(usable, jnp.int32)


def decode(obs):
    """``(player_sum, dealer_card, usable_ace)`` of an observation index; works on ints and on jax arrays."""
    return obs // (OBS_SIZES[1] * OBS_SIZES[2]), (obs // OBS_SIZES[2]) % OBS_SIZES[1], obs % OBS_SIZES[2]


def observe(state: BlackjackState) -> jax.Array:
    """gymnasium's ``_get_obs`` (player's sum, dealer's face-up card, player's usable ace), encoded."""
    return encode(hand_sum(state.player), state.dealer_card, usable_ace(state.player))


def draw_cards(key: jax.Array, n: int) -> jax.Array:
    """``n`` cards, each uniform over ``DECK`` (gymnasium's ``np_random.choice(deck)``)."""
    return jnp.asarray(DECK, jnp.int32)[jax.random.randint(key, (n,), 0, len(DECK))]


def deal(cards: jax.Array) -> BlackjackState:
    """The reset: ``cards[0:2]`` to the dealer (``cards[0]`` face up), ``cards[2:4]`` to the player, in
    gymnasium's order (``dealer = draw_hand(); player = draw_hand()``)."""
    return BlackjackState(player=new_hand(cards[2], cards[3]), dealer=new_hand(cards[0], cards[1]),
                          dealer_card=jnp.asarray(cards[0], jnp.int32), time=jnp.array(0, jnp.int32))


def hit(player: Hand, card) -> tuple[Hand, jax.Array, jax.Array]:
    """``(player, reward, terminated)`` after drawing ``card``: -1 and the end on a bust, else 0."""
    player = add_card(player, card)
    bust = hand_sum(player) > 21
    return player, jnp.where(bust, -1.0, 0.0), bust


def _pick(cond, if_true: Hand, if_false: Hand) -> Hand:
    """``if_true`` where ``cond``, else ``if_false``, field by field (a branch a compiled step cannot take)."""
    return jax.tree.map(lambda a, b: jnp.where(cond, a, b), if_true, if_false)


def dealer_plays(dealer: Hand, cards: jax.Array) -> Hand:
    """The dealer draws ``cards`` in order while their hand is worth less than 17."""

    def draw(hand, card):
        return _pick(hand_sum(hand) < 17, add_card(hand, card), hand), None

    return jax.lax.scan(draw, dealer, cards)[0]


def stick(player: Hand, dealer: Hand, cards: jax.Array, sab: bool, natural: bool) -> tuple[Hand, jax.Array]:
    """``(dealer, reward)`` of standing: the dealer plays out their hand from ``cards``, then the scores are
    compared (gymnasium's ``cmp``), with the natural rules of ``sab`` and ``natural``."""
    dealer = dealer_plays(dealer, cards)
    mine, theirs = score(player), score(dealer)
    reward = (mine > theirs).astype(jnp.float32) - (mine < theirs).astype(jnp.float32)
    if sab:  # a natural wins outright unless the dealer has one too
        reward = jnp.where(is_natural(player) & ~is_natural(dealer), 1.0, reward)
    elif natural:  # a winning natural pays 1.5
        reward = jnp.where(is_natural(player) & (reward == 1.0), 1.5, reward)
    return dealer, reward


def transition(state: BlackjackState, action, cards: jax.Array, sab: bool, natural: bool):
    """``(state, reward, terminated)`` of ``action`` (0 stick, 1 hit; clipped into them) with the next
    ``cards`` of the deck (``MAX_DEALER_DRAWS`` of them; a hit uses the first)."""
    take_hit = jnp.clip(jnp.asarray(action).astype(jnp.int32), STICK, HIT) == HIT
    player_hit, reward_hit, bust = hit(state.player, cards[0])
    dealer_stuck, reward_stick = stick(state.player, state.dealer, cards, sab, natural)
    state = state.replace(player=_pick(take_hit, player_hit, state.player), dealer=_pick(take_hit, state.dealer, dealer_stuck),
                          time=state.time + 1)
    return state, jnp.where(take_hit, reward_hit, reward_stick), jnp.where(take_hit, bust, True)


class Blackjack(Environment):
    """Blackjack; constructor arguments as gymnasium's ``BlackjackEnv`` (minus rendering)."""

    id = "Blackjack-v1"
    #: an episode's return is one reward of +-1 (or 0): 10 episodes put the mean's standard error near 0.3,
    #: 1,000 near 0.03 (the optimal policy returns -0.043); they cost little, an episode is a few steps
    default_eval_episodes = 1000

    def __init__(self, natural: bool = False, sab: bool = False):
        self.natural = bool(natural)
        self.sab = bool(sab)

    @property
    def default_params(self) -> EnvParams:
        return EnvParams(max_steps_in_episode=NO_TIME_LIMIT)

    def observation_space(self, params=None):
        return spaces.Discrete(OBS_SIZES[0] * OBS_SIZES[1] * OBS_SIZES[2])

    def action_space(self, params=None):
        return spaces.Discrete(2)

    def reset_env(self, key, params):
        state = deal(draw_cards(key, 4))
        return observe(state), state

    def step_env(self, key, state, action, params):
        state, reward, terminated = transition(state, action, draw_cards(key, MAX_DEALER_DRAWS), self.sab, self.natural)
        return observe(state), state, reward, terminated, {}


# --- exact values (numpy): what a policy over the observations returns in expectation ----------------
# The deck is infinite, so a hand is all the rules need of the past, and sums only grow: one recursion over
# hands gives the exact expected return of any policy, and the optimal one (Sutton & Barto 2018, sec. 5.3,
# estimate these by Monte Carlo; here they are computed, to score a learned policy without sampling noise).


def _worth(total: int, ace: bool) -> int:
    return total + 10 if ace and total + 10 <= 21 else total


def _dealer_final(total: int, ace: bool, memo: dict) -> dict[int, float]:
    """Distribution of the dealer's final score (0 for a bust) from a hand of ``total`` (aces as 1)."""
    if (total, ace) not in memo:
        worth = _worth(total, ace)
        if worth >= 17:
            memo[total, ace] = {worth if worth <= 21 else 0: 1.0}
        else:
            out: dict[int, float] = {}
            for card in DECK:
                for final, p in _dealer_final(total + card, ace or card == 1, memo).items():
                    out[final] = out.get(final, 0.0) + p / len(DECK)
            memo[total, ace] = out
    return memo[total, ace]


def _stick_value(score_: int, natural_hand: bool, up: int, sab: bool, natural: bool, memo: dict) -> float:
    """Expected reward of sticking with ``score_`` (a natural if ``natural_hand``) against face-up card ``up``."""
    value = 0.0
    for hole in DECK:
        dealer_natural = sorted((up, hole)) == [1, 10]
        for final, p in _dealer_final(up + hole, up == 1 or hole == 1, memo).items():
            reward = float(score_ > final) - float(score_ < final)
            if sab and natural_hand and not dealer_natural:
                reward = 1.0
            elif not sab and natural and natural_hand and reward == 1.0:
                reward = 1.5
            value += p * reward / len(DECK)
    return value


def _action_values(policy, sab: bool, natural: bool):
    """``q(total, ace, two_cards, up) -> (stick, hit)``: the expected return of each action from a hand, then
    following ``policy`` (``[32, 11, 2]`` actions by observation tuple; ``None``: the optimal policy)."""
    import numpy as np

    policy = None if policy is None else np.asarray(policy)
    memo: dict = {}
    values: dict = {}

    def value(total: int, ace: bool, two_cards: bool, up: int) -> float:
        key = (total, ace, two_cards, up)
        if key not in values:
            stick_, hit_ = q(total, ace, two_cards, up)
            if policy is None:
                values[key] = max(stick_, hit_)
            else:
                values[key] = hit_ if int(policy[_worth(total, ace), up, int(ace and total + 10 <= 21)]) == HIT else stick_
        return values[key]

    def q(total: int, ace: bool, two_cards: bool, up: int) -> tuple[float, float]:
        stick_ = _stick_value(_worth(total, ace), two_cards and ace and total == 11, up, sab, natural, memo)
        hit_ = 0.0
        for card in DECK:  # -1 on a bust, else the hand after it
            new_total, new_ace = total + card, ace or card == 1
            hit_ += (-1.0 if _worth(new_total, new_ace) > 21 else value(new_total, new_ace, False, up)) / len(DECK)
        return stick_, hit_

    return value, q


def policy_return(policy=None, sab: bool = True, natural: bool = False) -> float:
    """The exact expected return of an episode from the deal under ``policy``, an int array ``[32, 11, 2]`` of
    actions indexed by the observation tuple (0 stick, 1 hit; a Q-table's ``argmax(-1).reshape(OBS_SIZES)``),
    or of the optimal policy for ``None``. ``sab`` and ``natural`` as the env's options (``Blackjack-v1``:
    ``sab=True``)."""
    value, _ = _action_values(policy, sab, natural)
    return sum(value(a + b, a == 1 or b == 1, True, up) for a in DECK for b in DECK for up in DECK) / len(DECK) ** 3


def optimal_policy(sab: bool = True, natural: bool = False):
    """The optimal action of every observation tuple, an int array ``[32, 11, 2]`` (Sutton & Barto 2018,
    Figure 5.2): hit where hitting's expected return is higher, else stick (and stick on the tuples no
    hand reaches: sums below 4 without an ace, dealer card 0). A hand's observation decides its future: a
    hard hand and a soft one of the same sum show different tuples, and the one thing the tuple hides, a
    natural (two cards, soft 21), is a stick either way."""
    import numpy as np

    _, q = _action_values(None, sab, natural)
    policy = np.zeros(OBS_SIZES, np.int32)
    for up in range(1, 11):
        for worth in range(4, 22):
            stick_, hit_ = q(worth, False, False, up)
            policy[worth, up, 0] = int(hit_ > stick_)
        for worth in range(12, 22):
            stick_, hit_ = q(worth - 10, True, False, up)
            policy[worth, up, 1] = int(hit_ > stick_)
    return policy


def format_policy(policy) -> str:
    """``policy`` (``[32, 11, 2]`` actions by observation tuple) as Sutton & Barto draw it in Figure 5.2: a table
    for a usable ace and one without, rows the player's sum 21 down to 12 (below 12 a hit cannot bust), columns
    the dealer's card A, 2-10; H hit, S stick. ``print(format_policy(optimal_policy()))`` draws the figure."""
    import numpy as np

    policy = np.asarray(policy)
    lines = []
    for usable, title in ((1, "usable ace"), (0, "no usable ace")):
        lines += [title, "     A 2 3 4 5 6 7 8 9 10"]
        lines += [f"  {s:2d} " + " ".join("H" if policy[s, d, usable] == HIT else "S" for d in range(1, 11))
                  for s in range(21, 11, -1)]
    return "\n".join(lines)
