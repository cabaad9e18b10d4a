"""Blackjack-v1's port against gymnasium's ``BlackjackEnv``, card for card, and its rules on hand-made hands."""

import gymnasium
import gymnasium.envs.toy_text.blackjack as gym_blackjack
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import envs
from envs.environment import check_env
from envs.toy_text import blackjack as bj


def hand(*cards):
    h = bj.new_hand(cards[0], cards[1])
    for c in cards[2:]:
        h = bj.add_card(h, c)
    return h


@pytest.mark.parametrize("cards, total, usable", [
    ((10, 7), 17, False), ((1, 6), 17, True), ((1, 1), 12, True), ((1, 10), 21, True),
    ((1, 6, 10), 17, False), ((10, 6, 10), 26, False), ((1, 1, 9), 21, True), ((1, 1, 10), 12, False),
])
def test_a_hands_worth_counts_an_ace_eleven_where_it_fits(cards, total, usable):
    h = hand(*cards)
    assert (int(bj.hand_sum(h)), bool(bj.usable_ace(h))) == (total, usable)
    assert int(bj.score(h)) == (0 if total > 21 else total)
    assert bool(bj.is_natural(h)) == (sorted(cards) == [1, 10])


def test_the_dealer_draws_below_17_and_stands_on_a_soft_17():
    shoe = jnp.asarray([1, 5, 10] + [2] * 12, jnp.int32)
    stood = bj.dealer_plays(hand(1, 6), shoe)  # soft 17: stands, draws nothing
    assert (int(stood.total), int(stood.cards)) == (7, 2)
    drew = bj.dealer_plays(hand(10, 6), shoe)  # 16: draws the ace (hard 17), stops
    assert (int(drew.total), int(drew.cards), int(bj.hand_sum(drew))) == (17, 3, 17)
    low = bj.dealer_plays(hand(2, 2), jnp.asarray([2] * 15, jnp.int32))  # the longest run without an ace: 7 cards
    assert (int(low.total), int(low.cards)) == (18, 9)


@pytest.mark.parametrize("sab, natural, player, dealer, reward", [
    (True, False, (1, 10), (10, 9), 1.0),  # a natural wins outright (S&B), though 21 beats 19 anyway
    (True, False, (1, 10), (1, 10), 0.0),  # both naturals: a draw
    (False, True, (1, 10), (10, 9), 1.5),  # casino payout
    (False, True, (1, 10), (1, 10), 0.0),
    (False, False, (1, 10), (10, 9), 1.0),
    (True, False, (10, 8), (10, 8), 0.0),
    (True, False, (10, 8), (10, 9), -1.0),
])
def test_stick_compares_scores_with_the_natural_rules(sab, natural, player, dealer, reward):
    _, got = bj.stick(hand(*player), hand(*dealer), jnp.full((bj.MAX_DEALER_DRAWS,), 10, jnp.int32), sab, natural)
    assert float(got) == reward


def test_encode_and_decode_are_inverse_over_gymnasiums_tuple_space():
    space = gymnasium.make("Blackjack-v1").observation_space
    seen = set()
    for p in range(32):
        for d in range(11):
            for u in range(2):
                i = int(bj.encode(p, d, u))
                assert tuple(int(x) for x in bj.decode(i)) == (p, d, u) and (p, d, u) in space
                seen.add(i)
    assert seen == set(range(704)) and envs.make("Blackjack-v1")[0].observation_space().n == 704


@pytest.mark.parametrize("sab, natural", [(True, False), (False, False), (False, True)])
def test_parity_with_gymnasium_card_for_card(monkeypatch, sab, natural):
    """1,500 episodes of a random policy; gymnasium's draws (recorded where its ``draw_card`` hands them
    out) are fed to the port's pure transition: every observation, reward, terminated flag and both hands
    agree, and the port takes exactly the cards gymnasium took."""
    rng = np.random.default_rng(7)
    drawn: list[int] = []

    def draw_card(np_random):
        drawn.append(int(rng.choice(gym_blackjack.deck)))
        return drawn[-1]

    monkeypatch.setattr(gym_blackjack, "draw_card", draw_card)
    gym = gymnasium.make("Blackjack-v1", sab=sab, natural=natural).unwrapped
    env, _ = envs.make("Blackjack-v1", sab=sab, natural=natural)
    transition = jax.jit(lambda s, a, c: bj.transition(s, a, c, env.sab, env.natural))

    def same_hands(state, where):
        for name, port_hand, gym_hand in (("player", state.player, gym.player), ("dealer", state.dealer, gym.dealer)):
            assert (int(port_hand.total), bool(port_hand.ace), int(port_hand.cards)) == (
                sum(gym_hand), 1 in gym_hand, len(gym_hand)), (where, name)

    def padded(cards):
        return jnp.asarray(cards + [10] * (bj.MAX_DEALER_DRAWS - len(cards)), jnp.int32)

    rewards, steps = [], 0
    for episode in range(1500):
        drawn.clear()
        obs, _ = gym.reset(seed=episode)
        state = bj.deal(jnp.asarray(drawn, jnp.int32))
        assert tuple(int(x) for x in bj.decode(int(bj.observe(state)))) == obs
        same_hands(state, (episode, "reset"))
        terminated = False
        while not terminated:
            action = int(rng.random() < 0.5)
            drawn.clear()
            obs, reward, terminated, truncated, _ = gym.step(action)
            assert len(drawn) <= bj.MAX_DEALER_DRAWS
            state, port_reward, port_terminated = transition(state, action, padded(list(drawn)))
            assert tuple(int(x) for x in bj.decode(int(bj.observe(state)))) == obs, (episode, steps)
            assert (float(port_reward), bool(port_terminated)) == (reward, terminated), (episode, steps)
            same_hands(state, (episode, steps))
            rewards.append(reward)
            steps += 1
    kinds = set(rewards)
    assert {-1.0, 0.0, 1.0} <= kinds and (1.5 in kinds) == natural  # every outcome was met


def test_contract_jit_vmap_and_episode_lengths():
    env, params = envs.make("Blackjack-v1")
    check_env(env, params)
    keys = jax.random.split(jax.random.key(0), 4096)
    obs, state = jax.vmap(env.reset, in_axes=(0, None))(keys, params)
    step = jax.jit(jax.vmap(env.step, in_axes=(0, 0, 0, None)))
    lengths, length, done_once = np.zeros(4096, int), np.zeros(4096, int), np.zeros(4096, bool)
    rng = np.random.default_rng(0)
    for t in range(21):  # a hand busts by its 20th hit: every episode has ended once the 21st step sticks
        action = jnp.asarray(rng.random(4096) < 0.7).astype(jnp.int32) if t < 20 else jnp.zeros(4096, jnp.int32)
        obs, state, reward, terminated, truncated, _ = step(jax.random.split(jax.random.key(t + 1), 4096), state, action, params)
        length += 1
        newly = np.asarray(terminated) & ~done_once
        lengths[newly] = length[newly]
        done_once |= np.asarray(terminated)
        assert not np.any(np.asarray(truncated))
    assert done_once.all()  # the last step sticks: nothing runs on
    assert lengths.min() == 1 and lengths.max() >= 4  # a first stick or bust, and hands hit several times
    # out-of-range actions are clipped: 5 hits, -3 sticks
    _, s0 = env.reset(jax.random.key(1), params)
    for bad, good in ((5, 1), (-3, 0)):
        a = env.step(jax.random.key(2), s0, bad, params)
        b = env.step(jax.random.key(2), s0, good, params)
        assert all(bool(jnp.all(x == y)) for x, y in zip(jax.tree.leaves(a[:5]), jax.tree.leaves(b[:5])))


def test_initial_observations_follow_the_deal_distribution():
    """The dealer's face-up card is a ten-card 4 times in 13 (jack, queen, king and ten), an ace 1 in 13."""
    env, params = envs.make("Blackjack-v1")
    obs, _ = jax.vmap(env.reset, in_axes=(0, None))(jax.random.split(jax.random.key(3), 20_000), params)
    _, dealer, _ = bj.decode(np.asarray(obs))
    assert abs(np.mean(dealer == 10) - 4 / 13) < 0.015 and abs(np.mean(dealer == 1) - 1 / 13) < 0.01


# --- exact values ------------------------------------------------------------------------------------

#: Sutton & Barto (2018), Figure 5.2: the optimal policy, rows player sum 12-21, columns dealer A, 2-10; 1 hit
FIGURE_5_2_HARD = ["1110001111", "1000001111", "1000001111", "1000001111", "1000001111"] + ["0000000000"] * 5
FIGURE_5_2_SOFT = ["1111111111"] * 6 + ["1000000011"] + ["0000000000"] * 3


def test_the_optimal_policy_is_sutton_and_bartos_figure_5_2():
    policy = bj.optimal_policy()
    for usable, figure in ((0, FIGURE_5_2_HARD), (1, FIGURE_5_2_SOFT)):
        got = ["".join(str(int(a)) for a in policy[s, 1:, usable]) for s in range(12, 22)]
        assert got == figure, usable
    assert policy[4:12, 1:, 0].all()  # a hard 11 or less always hits (it cannot bust)
    assert abs(bj.policy_return() - bj.policy_return(policy)) < 1e-12
    drawn = bj.format_policy(policy).splitlines()  # as the figure draws it: sums 21 down to 12, H hit, S stick
    for usable, figure, at in ((1, FIGURE_5_2_SOFT, 0), (0, FIGURE_5_2_HARD, 12)):
        assert drawn[at] == ("usable ace" if usable else "no usable ace")
        rows = [line.split()[1:] for line in drawn[at + 2:at + 12]]
        assert ["".join("1" if a == "H" else "0" for a in row) for row in rows] == figure[::-1]


def test_exact_returns_are_the_ports_monte_carlo_returns():
    """100,000 episodes of the port under three policies: the sample mean lies within 4 standard errors of
    the exact expected return, and the exact returns are ordered optimal > always-stick > stick-on-20."""
    env, params = envs.make("Blackjack-v1")
    always_stick = np.zeros(bj.OBS_SIZES, np.int32)
    stick_on_20 = np.ones(bj.OBS_SIZES, np.int32)  # Sutton & Barto's Example 5.1 policy
    stick_on_20[20:] = 0

    @jax.jit
    def returns(policy, key):
        def episode(k):
            k_reset, k_steps = jax.random.split(k)
            obs, state = env.reset(k_reset, params)

            def step(carry, k_step):
                obs, state, total, done = carry
                obs, state, reward, terminated, _, _ = env.step_no_reset(k_step, state, policy.reshape(-1)[obs], params)
                return (obs, state, total + jnp.where(done, 0.0, reward), done | terminated), None

            carry = (obs, state, jnp.float32(0), jnp.bool_(False))
            (_, _, total, done), _ = jax.lax.scan(step, carry, jax.random.split(k_steps, 21))
            return total, done

        return jax.vmap(episode)(jax.random.split(key, 100_000))

    exact = {}
    for name, policy in (("optimal", bj.optimal_policy()), ("always stick", always_stick), ("stick on 20", stick_on_20)):
        total, done = returns(jnp.asarray(policy), jax.random.key(11))
        total = np.asarray(total)
        assert np.asarray(done).all()
        exact[name] = bj.policy_return(policy)
        assert abs(total.mean() - exact[name]) < 4 * total.std() / np.sqrt(total.size), (name, total.mean(), exact[name])
    assert exact["optimal"] > exact["always stick"] > exact["stick on 20"]
    assert round(exact["optimal"], 4) == -0.0431 and round(exact["stick on 20"], 4) == -0.3501


def test_evaluations_default_to_the_envs_own_episode_count(tmp_path):
    """A Blackjack return is one +-1 draw: 10 evaluation episodes (everyone else's default) reported a "final
    greedy return 0.10 +- 0.36" for policies whose exact return is -0.044. train, sweep and benchmark play 1,000
    unless told; an explicit count wins."""
    from envs.registry import default_eval_episodes
    from rl_zoo.benchmark import plan_grid
    from rl_zoo.driver.spec import new_spec
    from rl_zoo.sweep import make_spec

    assert default_eval_episodes("Blackjack-v1") == 1000 and default_eval_episodes("CartPole-v1") == 10
    assert default_eval_episodes("LunarLander-v3") == 10 and default_eval_episodes("Nope-v0") == 10
    for env_id, want in (("Blackjack-v1", 1000), ("FrozenLake-v1", 10)):
        assert new_spec("q-learning", env_id)[0].eval_episodes == want
        assert new_spec("q-learning", env_id, eval_episodes=3)[0].eval_episodes == 3
        assert make_spec("q-learning", env_id, grid=["learning_rate=0.1,0.2"]).eval_episodes == want
        assert make_spec("q-learning", env_id, grid=["learning_rate=0.1,0.2"], eval_episodes=3).eval_episodes == 3
    cells = plan_grid("q-learning", "Blackjack-v1,FrozenLake-v1", out=tmp_path / "grid")
    assert [c.spec.eval_episodes for c in cells] == [1000, 10]
    assert [c.spec.eval_episodes for c in plan_grid("q-learning", "Blackjack-v1", eval_episodes=3, out=tmp_path / "g")] == [3]
