"""All seeds at once on host (gymnasium) envs: rl_zoo.host (batched env, evaluation, runner, resume).

The gymnasium adapter's CartPole (``backend="gymnasium"``) stands in for LunarLander and MuJoCo: it
needs no optional install and steps fast.
"""

import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import gymnasium
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import envs
from rl_zoo import checkpoint, runs
from rl_zoo.algos import ppo
from rl_zoo.driver import RecorderHook
from rl_zoo.driver import run as driver_run
from rl_zoo.host import evaluation
from rl_zoo.host.batched_env import SeedBatchedEnv, copy_seeds
from rl_zoo.host.runner import BatchedHostRunner
from run_helpers import Float64Tenth

SMALL_PPO = ppo.Config(total_timesteps=4 * 32 * 6, num_envs=4, num_steps=32, update_epochs=1, num_minibatches=1)
SMALL_OVERRIDES = dict(num_envs=4, num_steps=32, update_epochs=2, num_minibatches=2)


def test_the_driver_runs_gymnasium_envs_with_the_batched_runner():
    assert isinstance(driver_run.RUNNERS["gymnasium"], BatchedHostRunner) and BatchedHostRunner.can_resume


@pytest.mark.parametrize("module", ["rl_zoo.host.runner", "rl_zoo.host.evaluation"])
def test_a_host_module_imports_first_in_a_fresh_process(module):
    # the driver's RUNNERS holds the host runner, which is built from the driver's parts: an import cycle
    # that the driver breaks by making the host runner on first use
    done = subprocess.run([sys.executable, "-c", f"import {module}"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]


def test_an_algorithms_make_train_does_not_import_the_driver():
    """make_train takes a gymnasium env through rl_zoo.host.batched_env; the host package's __init__ imported
    the whole driver for it (an algos -> host -> driver -> algos cycle)."""
    code = ("import sys, envs; from rl_zoo.algos import ppo; env, p = envs.make('CartPole-v1'); "
            "ppo.make_train(ppo.Config(total_timesteps=512, num_envs=2, num_steps=64), env, p); "
            "assert 'rl_zoo.host.batched_env' in sys.modules; "
            "print(sorted(m for m in sys.modules if m.startswith('rl_zoo.driver')))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and done.stdout.strip() == "[]", (done.stdout, done.stderr[-2000:])


def _cartpole():
    return envs.make("CartPole-v1", backend="gymnasium")


def _rollout_obs(seeds, steps=60, vector="sync"):
    """Observations ``[steps + 1, S, N, 4]`` of ``seeds`` stepped together with a fixed action pattern,
    through a gymnasium ``SyncVectorEnv`` or ``AsyncVectorEnv`` (``vector``)."""
    gym_env, params = _cartpole()
    batched = SeedBatchedEnv(gym_env, vector)
    venv = batched.make_vec(3, params)
    obs, state = jax.jit(jax.vmap(venv.reset))(jax.vmap(jax.random.key)(jnp.asarray(seeds)))
    step = jax.jit(jax.vmap(venv.step))
    out = [np.asarray(obs)]
    for t in range(steps):
        action = jnp.full((len(seeds), 3), t % 2, jnp.int32)
        obs, state, *_ = step(jax.vmap(jax.random.key)(jnp.arange(len(seeds))), state, action)
        out.append(np.asarray(obs))
    batched.close()
    return np.stack(out)


@pytest.mark.parametrize("vmapped", [False, True])
def test_steps_follow_the_reset_even_when_the_actions_ignore_the_observations(vmapped, seed_offset):
    """A policy whose actions do not read the observation (random, scripted) gave XLA no reason to run the
    reset before the steps, and it ran a step first ("stepped before any reset"): the env state token
    now orders them. Its observations equal those of the same program whose actions read them."""
    gym_env, params = _cartpole()
    batched = SeedBatchedEnv(gym_env)
    venv = batched.make_vec(2, params)

    def program(key, reads_obs):
        obs0, state = venv.reset(key)

        def body(carry, t):
            state, obs = carry
            action = jnp.stack([t % 2, 1 - t % 2]).astype(jnp.int32)
            if reads_obs:
                action = jnp.where(jnp.isnan(obs.sum()), 0, action)  # the same action, once obs is there
            obs, state, *_ = venv.step(key, state, action)
            return (state, obs), obs

        return obs0, jax.lax.scan(body, (state, obs0), jnp.arange(6))[1]

    keys = jax.random.split(jax.random.key(seed_offset), 2)
    runs_ = [jax.jit(jax.vmap(lambda k: program(k, r)) if vmapped else lambda k: program(k, r))(keys if vmapped else keys[0])
             for r in (False, True)]
    batched.close()
    for ignoring, reading in zip(*runs_):
        np.testing.assert_array_equal(np.asarray(ignoring), np.asarray(reading))


def test_copy_seeds_are_distinct_and_depend_only_on_their_seed():
    both = copy_seeds(np.array([7, 8]), 4)
    assert len(set(both)) == 8
    assert both[4:] == copy_seeds(np.array([8]), 4)


def test_each_seed_gets_its_own_env_stream(seed_offset):
    s = 100 + seed_offset
    together = _rollout_obs([s, s + 1, s + 2])  # [T, 3 seeds, 3 copies, 4]
    alone = _rollout_obs([s + 1])
    # a seed's episodes do not depend on its company ...
    np.testing.assert_array_equal(together[:, 1], alone[:, 0])
    # ... and no two seeds (nor two copies) share one: their first observations all differ
    first = together[0].reshape(9, 4)
    assert len({tuple(row) for row in first.tolist()}) == 9
    assert not np.array_equal(together[:, 0], together[:, 2])


def test_async_vector_env_steps_exactly_like_sync(seed_offset):
    """`--vector-env async` (a subprocess per copy, each building its env with gymnasium.make) gives
    the same observations, bit for bit, as the in-process SyncVectorEnv: only where the envs run differs."""
    s = 300 + seed_offset
    np.testing.assert_array_equal(_rollout_obs([s, s + 1], 30, "async"), _rollout_obs([s, s + 1], 30, "sync"))


def test_async_from_an_unguarded_script_fails_with_the_remedy(tmp_path):
    """The forkserver imports the main script again in every subprocess: without an `if __name__ ==
    "__main__":` guard they die starting, and the run says why instead of a JAX callback error."""
    script = tmp_path / "unguarded.py"
    script.write_text("from rl_zoo.train import train\n"
                      "train('ppo', 'CartPole-v1', backend='gymnasium', vector_env='async', total_steps=64, progress=False,\n"
                      "      overrides=dict(num_envs=2, num_steps=32), out='run')\n")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(Path(__file__).resolve().parents[1]), os.environ.get("PYTHONPATH", "")]))
    done = subprocess.run([sys.executable, str(script)], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode != 0
    assert "did not start" in done.stderr and 'guard its entry point with `if __name__ == "__main__":`' in done.stderr
    assert "JaxRuntimeError" not in done.stderr


@pytest.mark.slow  # 6 s; the own-env-stream and resume tests stay in the default run
def test_a_seed_in_a_batch_of_three_updates_like_the_seed_alone(seed_offset):
    """Identical first rollout (same env observations after it, same finished episodes) and the same
    first update up to float rounding (a vmap of 3 compiles differently from a vmap of 1)."""
    s = 200 + seed_offset

    def first_update(seeds):
        gym_env, params = _cartpole()
        agent = ppo.make_agent(SMALL_PPO, SeedBatchedEnv(gym_env), params)
        states = jax.jit(jax.vmap(lambda k: agent.init(jax.random.key(k))))(jnp.asarray(seeds))
        return jax.jit(jax.vmap(agent.update))(states)

    batch, m_batch = first_update([s, s + 1, s + 2])
    one, m_one = first_update([s + 1])
    np.testing.assert_array_equal(np.asarray(batch.obs[1]), np.asarray(one.obs[0]))
    np.testing.assert_array_equal(np.asarray(m_batch.episode.episodes[1]), np.asarray(m_one.episode.episodes[0]))
    jax.tree.map(lambda a, b: np.testing.assert_allclose(np.asarray(a[1]), np.asarray(b[0]), rtol=1e-4, atol=1e-5),
                 batch.params, one.params)
    assert not np.allclose(np.asarray(jax.tree.leaves(batch.params)[0][0]), np.asarray(jax.tree.leaves(batch.params)[0][1]))


def test_evaluation_steps_only_running_episodes_and_counts_them():
    gym_env, params = _cartpole()
    env = SeedBatchedEnv(gym_env)
    agent = ppo.make_agent(SMALL_PPO, env, params)
    states = jax.jit(jax.vmap(lambda k: agent.init(jax.random.key(k))))(jnp.arange(2))
    host = env.make_eval(3, params)
    returns = evaluation.evaluate_seeds(agent.act, states, host, evaluation.eval_seeds(np.arange(2), 0), env.action_space(), 500)
    assert returns.shape == (2, 3)
    # CartPole pays 1 per step: the returns are the episode lengths, and those are the steps taken
    assert env.steps(evaluation=True) == int(returns.sum())


def test_evaluation_plays_many_episodes_in_waves_of_the_same_episodes(monkeypatch):
    """``--eval-episodes 1000`` on 16 Humanoid seeds made 16,000 env copies at once (about 21 GiB): at most
    EVAL_WAVE copies per seed are made, and episode i is seeded as copy i whichever wave plays it."""
    from rl_zoo.host import batched_env

    gym_env, params = _cartpole()
    env = SeedBatchedEnv(gym_env)
    agent = ppo.make_agent(SMALL_PPO, env, params)
    states = jax.jit(jax.vmap(lambda k: agent.init(jax.random.key(k))))(jnp.arange(2))
    seeds = evaluation.eval_seeds(np.arange(2), 3)
    whole = evaluation.evaluate_seeds(agent.act, states, env.make_eval(5, params), seeds, env.action_space(), 500)
    steps = env.steps(evaluation=True)
    monkeypatch.setattr(batched_env, "EVAL_WAVE", 2)
    host = env.make_eval(5, params)
    assert host.copies == 2
    waves = evaluation.evaluate_seeds(agent.act, states, host, seeds, env.action_space(), 500, episodes=5)
    assert whole.shape == waves.shape == (2, 5) and len(set(whole.ravel())) > 1
    np.testing.assert_array_equal(waves, whole)
    assert env.steps(evaluation=True) - steps == steps == int(whole.sum())  # the 6th copy of the last wave never steps


def test_evaluation_runs_continuous_actions():
    """A Box action space (numpy bounds, unhashable) evaluates too: MuJoCo and LunarLanderContinuous need it.
    Pendulum-v1 through the adapter stands in; every episode runs to its 200-step limit, cut here at 20."""
    gym_env, params = envs.make("Pendulum-v1", backend="gymnasium")
    env = SeedBatchedEnv(gym_env)
    agent = ppo.make_agent(SMALL_PPO, env, params)
    states = jax.jit(jax.vmap(lambda k: agent.init(jax.random.key(k))))(jnp.arange(2))
    host = env.make_eval(2, params)
    returns = evaluation.evaluate_seeds(agent.act, states, host, evaluation.eval_seeds(np.arange(2), 0), env.action_space(), 20)
    assert returns.shape == (2, 2) and np.all(returns < 0)  # Pendulum's reward is a cost, negative at every step
    assert env.steps(evaluation=True) == 2 * 2 * 20


def test_eval_count_keeps_evaluation_a_small_fraction():
    assert evaluation.eval_count(1_000_000, 1000, 10, 10) == 10  # after the start: 10 x 10k worst case = 10% of 1M
    assert evaluation.eval_count(100_000, 1000, 10, 20) == 1  # only the final one
    assert evaluation.eval_count(100_000, 500, 2, 20) == 10


def test_eval_cut_note_says_how_many_and_when_even_one_is_too_many():
    assert evaluation.eval_cut_note(1_000_000, 1000, 10, 10) is None  # all 10 fit
    assert evaluation.eval_cut_note(196_608, 1000, 2, 10) == (
        "9 evaluation(s) instead of 10: 2 episodes of up to 1000 steps each time would cost more than 10% "
        "of the 196,608 training env steps")  # 9 x 2k = 18k <= 19,660 < 10 x 2k
    assert evaluation.eval_cut_note(16_384, 1000, 10, 10).endswith(
        "of the 16,384 training env steps; even one may cost 61% (fewer --eval-episodes cost less)")  # 10k / 16,384


class _Crash(RuntimeError):
    pass


class _CrashAfter(RecorderHook):
    """Raise after the ``n``-th evaluation was written (``at="evaluation"``: after its segment's checkpoint,
    before that checkpoint is written again to record the evaluation) or the ``n``-th segment ended
    (``at="segment"``, before its checkpoint): the worst moments."""

    def __init__(self, n, at="evaluation"):
        self.n, self.at, self.seen = n, at, 0

    def _count(self, at):
        self.seen += at == self.at
        if at == self.at and self.seen == self.n:
            raise _Crash("killed")

    def on_evaluation(self, ev):
        self._count("evaluation")

    def on_segment(self, seg):
        self._count("segment")


def _expected_rows(seeds, steps):
    return sorted((st, s) for st in steps for s in seeds)


# 11 s in the parallel default run: the one default-run test of a host (gymnasium) resume
def test_resume_restores_the_learner_and_continues_counters_and_metrics_without_gaps(tmp_path, monkeypatch, seed_offset):
    """The resumed run's first segment starts from the checkpoint's learner (parameters, optimiser,
    normaliser, keys, counters: each seed's, leaf for leaf) with fresh envs, and its rows join the
    stopped run's without a gap or a duplicate. The run stops during the evaluation after segment 2:
    that segment was checkpointed before it (it was lost with the evaluation), and the resumed run makes
    the evaluation first, with the same returns, written once."""
    from rl_zoo.host.runner import HostPlan

    monkeypatch.setattr(evaluation, "EVAL_FRACTION", 100.0)  # evaluate after every segment
    started = []  # the states each segment program is called with
    program = HostPlan.program
    monkeypatch.setattr(HostPlan, "program", lambda self, k: (lambda states: started.append(states) or program(self, k)(states)))
    out = tmp_path / "run"
    kwargs = dict(seeds=2, seed=seed_offset, total_steps=128 * 6, overrides=SMALL_OVERRIDES, num_evals=3, eval_episodes=2,
                  backend="gymnasium", progress=False, log=lambda *_: None, out=out)
    with pytest.raises(_Crash):
        driver_run.train("ppo", "CartPole-v1", hooks=[_CrashAfter(3)], **kwargs)  # start, segment 1, segment 2 (crash)
    assert [int(p.name[5:14]) for p in checkpoint.list_checkpoints(out)] == [2, 4]
    stopped_rows = [(int(r["env_steps"]), int(r["seed"]), r["return"]) for r in runs.read_csv(out / "metrics.csv")]
    assert [r[0] for r in stopped_rows] == [0, 0, 256, 256, 512, 512]  # written before the crash, not yet checkpointed
    started.clear()
    result = driver_run.train(resume=out, progress=False, log=lambda *_: None)
    first = started[0]
    saved, _ = checkpoint.restore(checkpoint.list_checkpoints(out)[1], first, leading="seeds")
    assert int(first.update_step[0]) == 4
    # as host arrays, typed PRNG keys as their raw words (what the checkpoint stores)
    learner = lambda s: jax.tree.map(checkpoint._to_host, (s.params, s.opt_state, s.obs_stats, s.key, s.update_step, s.kl_beta))  # noqa: E731
    for got, want in zip(jax.tree.leaves(learner(first)), jax.tree.leaves(learner(saved)), strict=True):
        np.testing.assert_array_equal(np.asarray(got), np.asarray(want))
    assert not np.array_equal(np.asarray(first.obs), np.asarray(saved.obs))  # fresh episodes: a reset's observations
    rows = runs.read_csv(out / "metrics.csv")
    got = sorted((int(r["env_steps"]), int(r["seed"])) for r in rows)
    assert got == _expected_rows([seed_offset, seed_offset + 1], [0, 256, 512, 768])
    assert [(int(r["env_steps"]), int(r["seed"]), r["return"]) for r in rows[:6]] == stopped_rows  # made again, the same
    assert result.summary["env_steps_per_seed"] == 768 and result.summary["evaluations"] == 4
    assert [int(p.name[5:14]) for p in checkpoint.list_checkpoints(out)][-1] == 6
    meta = checkpoint.read(checkpoint.list_checkpoints(out)[-1])[1]  # written again after its evaluation
    assert meta["evaluated"] is True and meta["evaluation_due"] is False and meta["eval_env_steps"] > 0


@pytest.mark.slow  # two host compiles (about 30 s)
def test_a_state_index_run_on_gymnasium_envs_resumes(tmp_path, monkeypatch, seed_offset):
    """PPO on gymnasium's FrozenLake: the resumed run restarts its envs wrapped as the agent wraps them
    (one-hot observations); they came back as bare indices and the compiled segment refused them."""
    monkeypatch.setattr(evaluation, "EVAL_FRACTION", 100.0)
    out = tmp_path / "run"
    kwargs = dict(seeds=2, seed=seed_offset, total_steps=128 * 6, overrides=SMALL_OVERRIDES, num_evals=3, eval_episodes=2,
                  backend="gymnasium", progress=False, log=lambda *_: None, out=out)
    with pytest.raises(_Crash):
        driver_run.train("ppo", "FrozenLake-v1", hooks=[_CrashAfter(3)], **kwargs)
    said = []
    result = driver_run.train(resume=out, progress=False, log=said.append, vector_env="async", devices=3)  # a resume may switch it
    assert "--devices 3 does not apply: FrozenLake-v1 runs on gymnasium envs" in "\n".join(said)  # as a new run says (it was silent)
    assert result.summary["env_steps_per_seed"] == 128 * 6 and result.final_state.obs.shape == (2, 4, 16)
    assert json.loads((out / "config.json").read_text())["vector_env"] == "sync"  # what the run began with
    assert result.summary["vector_env"] == "async" and result.summary["resumes"][-1]["vector_env"] == "async"
    assert any("the run goes on with async host envs (it began with sync)" in s for s in said)
    said.clear()  # a finished run goes on with nothing: no word of switching
    driver_run.train(resume=out, progress=False, log=said.append, vector_env="async")
    assert any("is finished" in s for s in said) and not any("goes on" in s for s in said)


@pytest.mark.slow  # two host compiles of DQN (about 40 s)
def test_a_dqn_resume_ends_the_stored_episodes_where_the_envs_restart(tmp_path, monkeypatch, seed_offset):
    """The host envs restart with fresh episodes on resume: the replay buffer's newest step of each env
    must end its episode (``replay_buffer_end_episodes``, unit-tested in test_replay_buffer), or n-step
    sums run on into the new episode. Here: the resumed program applies it, once, to each seed's envs."""
    import rl_zoo.core.buffers as buffers

    ended = []
    original = buffers.replay_buffer_end_episodes
    monkeypatch.setattr(buffers, "replay_buffer_end_episodes", lambda state, n: ended.append(n) or original(state, n))
    monkeypatch.setattr(evaluation, "EVAL_FRACTION", 100.0)
    out = tmp_path / "run"
    overrides = dict(num_envs=4, learning_starts=256, train_frequency=8, gradient_steps=2, n_step=3, buffer_size=4096)
    kwargs = dict(seeds=2, seed=seed_offset, total_steps=1024, overrides=overrides, num_evals=4, eval_episodes=1,
                  backend="gymnasium", progress=False, log=lambda *_: None, out=out)
    with pytest.raises(_Crash):
        driver_run.train("dqn", "CartPole-v1", hooks=[_CrashAfter(3)], **kwargs)
    assert ended == []  # a fresh run has nothing to end
    result = driver_run.train(resume=out, progress=False, log=lambda *_: None)
    assert ended == [4] and result.summary["env_steps_per_seed"] == 1024  # traced once, vmapped over the 2 seeds


def test_a_run_has_a_segment_for_every_evaluation_asked():
    """101 updates asked for 100 evaluations ran segments of 2 (rounded up): 51 segments, 51 evaluations, nothing
    said (evaluation cost 3% of training, far under the cut's 10%)."""
    from rl_zoo.host.runner import evaluation_segments, segment_length

    assert [segment_length(u, a) for u, a in ((101, 100), (97, 10), (5, 5), (1000, 10), (7, 1))] == [1, 10, 1, 100, 7]
    for updates in range(1, 120):
        for asked in range(1, updates + 1):
            k = segment_length(updates, asked)
            segments = -(-updates // k)
            assert asked <= segments < 2 * asked + 1 and len(evaluation_segments(segments, asked)) == asked


@pytest.mark.parametrize("updates, asked, after", [
    # rounded down alone: segments of 2, evaluated after 4, 6, 10, 12, ..., 28, 29 (2 and 4 apart, the first skipped)
    (29, 10, [3, 6, 9, 12, 15, 18, 21, 24, 27, 29]),
    # segments of 312: evaluated after 624, 936, ..., 3,120 and 3,125 (the first at a fifth of the run)
    (3125, 10, [313 * i for i in range(1, 10)] + [3125]),
    (101, 100, list(range(2, 102))),  # as many segments as updates: 100 of them picked, evenly
    (39, 7, [6, 12, 18, 24, 30, 36, 39]),  # --evals's help: a JAX run makes 3 here (segments that divide 39)
    (9, 6, [2, 3, 5, 6, 8, 9]),  # --evals's help's other rule: segments of 1, 6 of the 9 picked
])
def test_evaluations_are_spaced_evenly(updates, asked, after):
    from rl_zoo.host.runner import evaluation_segments, segment_length

    k = segment_length(updates, asked)
    ends = [min(i * k, updates) for i in range(1, -(-updates // k) + 1)]
    assert [ends[s - 1] for s in sorted(evaluation_segments(len(ends), asked))] == after


def test_the_evals_help_says_a_gymnasium_runs_own_rule(capsys):
    """--evals's help described the JAX runs' rule (39 updates with --evals 7: 3 segments) and said gymnasium runs
    made "fewer"; they make the 7 asked (more) unless evaluation would cost over 10% of training."""
    from rl_zoo.cli import main

    with pytest.raises(SystemExit):
        main(["train", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "(39 updates with --evals 7: 3 segments;" in text
    assert "On gymnasium envs (no JAX port), whose segments need no compiled program each: EVALS evenly spaced, after " \
           "segments of ceil(updates/EVALS) where that makes EVALS segments (39 updates with --evals 7: after 6, 12, ..., " \
           "36 and 39), else of floor(updates/EVALS), EVALS of them picked evenly (9 updates with --evals 6: after 2, 3, " \
           "5, 6, 8 and 9)" in text


def test_a_run_checkpointed_along_longer_segments_goes_on_along_them():
    """A gymnasium run of 9 updates asked for 4 evaluations, checkpointed by the rule that rounded up (segments of
    3) and resumed under segment_length's (2): it reported evaluations beside other rows, one's seeds played twice.
    Nor does a run of 29 updates asked for 10, checkpointed by the rule that rounded down (2), go on in 3s."""
    from rl_zoo.host.runner import recorded_segment_length, segment_length

    assert segment_length(9, 4) == 2 and segment_length(29, 10) == 3
    assert recorded_segment_length(3, 1, 2) == 3 and recorded_segment_length(6, 2, 2) == 3  # the old rule's segments
    assert recorded_segment_length(4, 2, 2) == 2 and recorded_segment_length(0, 0, 2) == 2  # on this rule's: as is
    assert recorded_segment_length(9, 5, 2) == 2  # a finished run's last, shorter segment: nothing to go on with
    assert recorded_segment_length(4, 2, 3) == 2 and recorded_segment_length(6, 2, 3) == 3


def test_evaluation_segments_by_hand():
    from rl_zoo.host.runner import evaluation_segments, evaluations_through

    assert evaluation_segments(10, 10) == set(range(1, 11))  # not cut: after every segment
    assert evaluation_segments(10, 1) == {10}  # the final one only
    assert evaluation_segments(10, 3) == {4, 7, 10}
    assert evaluation_segments(3, 5) == {1, 2, 3}
    assert [evaluations_through(s, frozenset({4, 7, 10})) for s in (0, 3, 4, 9, 10)] == [0, 0, 1, 2, 3]


@pytest.mark.slow  # 10 s: two host compiles (not cached); test_evaluation_segments_by_hand stays in the default run
def test_cut_evaluations_keep_a_checkpoint_per_segment_and_resume_between_evaluations(tmp_path, seed_offset):
    """Evaluations cut to the final one (10% of 768 steps cannot pay for 2 CartPole episodes of up to
    500 steps) still leave the run its 3 segments and their checkpoints, and a run stopped between
    evaluations resumes from the last one (it had none before the end)."""
    out = tmp_path / "run"
    kwargs = dict(seeds=2, seed=seed_offset, total_steps=128 * 6, overrides=SMALL_OVERRIDES, num_evals=3, eval_episodes=2,
                  backend="gymnasium", progress=False, log=lambda *_: None, out=out)
    with pytest.raises(_Crash):
        driver_run.train("ppo", "CartPole-v1", hooks=[_CrashAfter(2, at="segment")], **kwargs)
    assert [int(p.name[5:14]) for p in checkpoint.list_checkpoints(out)] == [2]  # segment 1's, no evaluation after it
    result = driver_run.train(resume=out, progress=False, log=lambda *_: None)
    got = sorted((int(r["env_steps"]), int(r["seed"])) for r in runs.read_csv(out / "metrics.csv"))
    assert got == _expected_rows([seed_offset, seed_offset + 1], [0, 768])  # the start and the final evaluation
    assert [int(p.name[5:14]) for p in checkpoint.list_checkpoints(out)] == [2, 4, 6]
    assert result.summary["evaluations"] == 2
    for path in checkpoint.list_checkpoints(out):  # each records whose states it holds (resume and load check them)
        assert checkpoint.read(path)[1]["seeds"] == [seed_offset, seed_offset + 1]


def test_the_cut_evaluations_note_counts_from_the_evaluations_the_updates_allow(tmp_path):
    """With 6 updates and --evals 10 the driver said "--evals 10 asked, 6 made", then the host runner
    "1 evaluation(s) instead of 10": it now counts from the 6."""
    lines: list[str] = []
    driver_run.train("ppo", "CartPole-v1", seeds=1, total_steps=128 * 6, overrides=SMALL_OVERRIDES, num_evals=10,
                     eval_episodes=2, backend="gymnasium", progress=False, log=lines.append, out=tmp_path / "run")
    assert any(line.startswith("--evals 10 asked, 6 made") for line in lines)
    assert any(line.startswith("1 evaluation(s) instead of 6: ") for line in lines), lines


@pytest.mark.slow
def test_kill_9_then_resume_loses_and_duplicates_no_row(tmp_path, monkeypatch, seed_offset):
    monkeypatch.setattr(evaluation, "EVAL_FRACTION", 100.0)  # the killed process's schedule: a row per update
    out = tmp_path / "run"
    code = (
        "from rl_zoo.driver import run; from rl_zoo.host import evaluation\n"
        "evaluation.EVAL_FRACTION = 100.0\n"
        f"run.train('ppo', 'CartPole-v1', seeds=2, seed={seed_offset}, total_steps=128 * 40, num_evals=40, eval_episodes=2,"
        f" overrides={SMALL_OVERRIDES!r}, backend='gymnasium', progress=False, out={str(out)!r})\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", code], env=dict(os.environ, RL_ZOO_NO_CACHE="1"))
    deadline = time.time() + 240
    while time.time() < deadline and len(checkpoint.list_checkpoints(out)) < 3:
        time.sleep(0.2)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert 3 <= len(checkpoint.list_checkpoints(out)), "the run never wrote three checkpoints"
    driver_run.train(resume=out, progress=False, log=lambda *_: None)
    got = sorted((int(r["env_steps"]), int(r["seed"])) for r in runs.read_csv(out / "metrics.csv"))
    assert got == _expected_rows([seed_offset, seed_offset + 1], range(0, 128 * 41, 128))


def test_missing_mujoco_is_explained_on_the_batched_path(monkeypatch):
    """Without the optional install, the batched path stops where the adapter does, with its message."""
    def not_installed(*args, **kwargs):
        raise gymnasium.error.DependencyNotInstalled("No module named 'mujoco'")

    monkeypatch.setattr(gymnasium, "make", not_installed)
    with pytest.raises(ImportError, match=r"Hopper-v5 needs MuJoCo.*\.\[mujoco\]"):
        envs.make("Hopper-v5", backend="gymnasium")


@pytest.mark.slow  # about 15 s: AsyncVectorEnv subprocesses
def test_ctrl_c_on_async_envs_is_one_line_not_a_traceback_per_worker(tmp_path):
    """The terminal sends SIGINT to the whole process group: the AsyncVectorEnv workers leave it to the
    main process, which stops as a sync run does (exit 130), instead of each dying with its traceback."""
    out = tmp_path / "run"
    proc = _async_run(out, seeds=2, total_steps=200000)
    _first_checkpoint(out)
    os.killpg(proc.pid, signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert "Traceback" not in err and "Received the following error from Worker" not in err, err


def _group(pgid: int) -> list[int]:
    """The live pids of process group ``pgid`` (from /proc; zombies waiting to be reaped left out)."""
    out = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if os.getpgid(int(entry)) == pgid and Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z":
                    out.append(int(entry))
            except (ProcessLookupError, FileNotFoundError):
                pass
    return out


def _async_run(out, seeds: int = 1, total_steps: int = 400000) -> subprocess.Popen:
    """``rl-zoo train`` of CartPole on ``--vector-env async`` into ``out``, in a process group of its own."""
    with _sigint_not_ignored():
        return subprocess.Popen([sys.executable, "-m", "rl_zoo.cli", "train", "--env", "CartPole-v1", "--backend", "gymnasium",
                                 "--vector-env", "async", "--seeds", str(seeds), "--total-steps", str(total_steps),
                                 "--eval-episodes", "1", "--out", str(out), "--no-progress"],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)


def _first_checkpoint(out, timeout: float = 180) -> None:
    """Wait until the run in ``out`` has written a checkpoint (it trains then, its workers started)."""
    deadline = time.time() + timeout
    while time.time() < deadline and not checkpoint.list_checkpoints(out):
        time.sleep(0.2)
    assert checkpoint.list_checkpoints(out), "the run never wrote a checkpoint"


@pytest.mark.slow  # about 20 s: AsyncVectorEnv subprocesses
@pytest.mark.skipif(not os.path.isdir("/proc"), reason="lists the process group from /proc")
def test_sigterm_to_every_process_of_an_async_run_is_terminated_not_a_crash(tmp_path):
    """A batch scheduler's end of job sends SIGTERM to every process, the workers and multiprocessing's forkserver
    before the main one: the forkserver's death made multiprocessing report every live worker dead (exit code
    255), and the run ended as an env crash (exit 1, 6 of 8 tries in a review), where a sync run exits 143."""
    out = tmp_path / "run"
    proc = _async_run(out)
    _first_checkpoint(out)
    for pid in _group(proc.pid):
        if pid != proc.pid:
            os.kill(pid, signal.SIGTERM)
    time.sleep(0.3)  # the workers and the forkserver first
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 143, err
    assert "rl-zoo: terminated" in err and "Traceback" not in err, err


@pytest.mark.slow  # about 15 s: AsyncVectorEnv subprocesses
@pytest.mark.skipif(not os.path.isdir("/proc"), reason="lists the process group from /proc")
def test_ctrl_c_as_async_workers_start_is_one_line_and_no_hang(tmp_path):
    """A Ctrl-C (to the whole group) as the workers start killed some of them with a traceback each (before they
    ignored it), and once was reported as a script without a main guard; and a venv built as the interrupt came,
    never closed, left multiprocessing's exit handler waiting on workers that ignore its SIGTERM."""
    out = tmp_path / "run"
    proc = _async_run(out)
    deadline = time.time() + 180
    while time.time() < deadline and len(_group(proc.pid)) < 5 and proc.poll() is None:  # the forkserver, 3 workers
        time.sleep(0.005)
    assert proc.poll() is None, "the run ended before its workers started"
    os.killpg(proc.pid, signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert "Traceback" not in err, err
    deadline = time.time() + 10  # the forkserver and the resource tracker end as the main process's pipes close
    while time.time() < deadline and _group(proc.pid):
        time.sleep(0.1)
    assert _group(proc.pid) == [], "workers left behind"


def test_an_async_env_never_closed_does_not_hang_the_exit(tmp_path):
    """Workers ignore SIGTERM (a scheduler's, sent to every process, is the main process's to act on), with which
    multiprocessing's exit handler ends daemonic children before it waits for them: a vector env never closed
    (an interrupt as it started, a caller's own code) hung the process at exit. Killed at exit instead."""
    script = ("from rl_zoo.host.batched_env import _HostEnvs\n"
              "h = _HostEnvs('CartPole-v1', copies=2, make_kwargs={}, vector='async', evaluation=False)\n"
              "h.build(1)\n"
              "print(len(h.venv.processes), flush=True)\n")  # exits without closing it
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and done.stdout.strip() == "2", done.stderr


def test_eval_seeds_take_negative_run_seeds():
    """--seed -2 is a valid run seed (the JAX path and the training copies take it): evaluation's
    SeedSequence refused it ('expected non-negative integer') at the first evaluation, after compiling."""
    seeds = evaluation.eval_seeds(np.array([-2, -1, 0]), 3)
    assert seeds.shape == (3,) and len(set(seeds.tolist())) == 3
    assert (evaluation.eval_seeds(np.array([0]), 3) == seeds[2]).all()  # seed 0's stream unchanged


def test_an_env_without_a_time_limit_is_evaluated_as_long_everywhere():
    """One cap for an env with no time limit: the host evaluation took 100,000 steps where the JAX
    evaluation and enjoy take 1,000; a real limit is kept."""
    from envs import EnvParams
    from envs.gymnasium_adapter import NO_TIME_LIMIT
    from rl_zoo.core.evaluate import episode_cap
    unlimited, limited = EnvParams(max_steps_in_episode=NO_TIME_LIMIT), EnvParams(max_steps_in_episode=1600)
    assert episode_cap(unlimited) == 1000  # the host runner's and enjoy's cap too (they call episode_cap)
    assert episode_cap(limited) == 1600


CRASHING_ENV = '''
import os, signal, time
import numpy as np, gymnasium as gym
from gymnasium import spaces


class Crash(gym.Env):
    """Raises at its CRASH_AT-th step (a % in the message and in the line that raises it); sleeps STEP_SLEEP a step."""

    def __init__(self):
        self.observation_space = spaces.Box(-1, 1, (2,), np.float32)
        self.action_space = spaces.Discrete(2)
        self.n, self.doomed = 0, False

    def reset(self, seed=None, options=None):
        super().reset(seed=seed)
        if seed is not None:  # SEGV_SEED: the copy reset with this gymnasium seed is the one that segfaults
            self.doomed = str(seed) == os.environ.get("SEGV_SEED")
        return np.zeros(2, np.float32), {}

    def step(self, a):
        self.n += 1
        time.sleep(float(os.environ.get("STEP_SLEEP", "0")))
        if self.n > int(os.environ.get("CRASH_AT", "1000000000")):
            raise RuntimeError("simulator exploded at step %d" % self.n)
        if self.n > int(os.environ.get("SEGV_AT", "1000000000")) and self.doomed:  # a crash in native code, no exception
            os.kill(os.getpid(), signal.SIGSEGV)
        if self.n > int(os.environ.get("NAN_AT", "1000000000")):  # a simulator that goes NaN without raising
            return np.array([0.5, np.nan], np.float32), 1.0, False, self.n % 50 == 0, {}
        return np.zeros(2, np.float32), 1.0, False, self.n % 50 == 0, {}


gym.register("Crash-v0", entry_point=Crash, max_episode_steps=50)


class WorkerFail(Crash):
    """Cannot be made in a subprocess (a device or licence only the main process holds)."""

    def __init__(self):
        import multiprocessing

        if multiprocessing.parent_process() is not None:
            raise OSError("cannot open /dev/simulator in a worker")
        super().__init__()


gym.register("WorkerFail-v0", entry_point=WorkerFail, max_episode_steps=50)
'''


@contextlib.contextmanager
def _sigint_not_ignored():
    """Around starting a child these tests send SIGINT: a shell's background job (``cmd &``, nohup) hands its
    children SIGINT ignored, and Python then installs no KeyboardInterrupt handler, so the Ctrl-C tests
    failed when the suite itself ran in the background (the run ignored the signal and finished). A
    handled signal is reset to its default by exec, an ignored one is not: handle it while the child starts
    (no ``preexec_fn``, whose Python code between fork and exec is unsafe beside JAX's threads)."""
    ignored = signal.getsignal(signal.SIGINT) == signal.SIG_IGN and threading.current_thread() is threading.main_thread()
    if ignored:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        if ignored:
            signal.signal(signal.SIGINT, signal.SIG_IGN)


def _crash_run(tmp_path, extra_env: dict, *flags: str) -> subprocess.Popen:
    (tmp_path / "crashmod.py").write_text(CRASHING_ENV)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(tmp_path), os.environ.get("PYTHONPATH", "")]), **extra_env)
    with _sigint_not_ignored():
        return subprocess.Popen([sys.executable, "-m", "rl_zoo.cli", "train", "--env", "crashmod:Crash-v0", "--evals", "4",
                                 "--eval-episodes", "1", "--out", str(tmp_path / "run"), "--no-progress", *flags],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)


@pytest.mark.parametrize("vector", ["sync", pytest.param("async", marks=pytest.mark.slow)])
def test_an_env_that_raises_mid_run_is_named_with_its_own_traceback(tmp_path, vector):
    """It was XLA's `CpuCallback error` with the env's traceback twice and no word on the checkpoints
    (sync); with async workers a `%` in the env's traceback replaced its error by gymnasium's
    `TypeError: not enough arguments for format string`."""
    out, err = _crash_run(tmp_path, {"CRASH_AT": "400"}, "--total-steps", "8192", "--vector-env", vector).communicate(timeout=600)
    lines = err.strip().splitlines()
    assert lines[-1].startswith("rl-zoo: error: crashmod:Crash-v0 (a training step) raised ") and \
        lines[-1].count("simulator exploded at step 401") == 1, err
    assert 'raise RuntimeError("simulator exploded at step %d" % self.n)' in err  # the env's frame, its % intact
    assert "CpuCallback" not in err and "io_callback failed" not in err and "not enough arguments" not in err
    assert "stopped by the env's error" in out and checkpoint.list_checkpoints(tmp_path / "run")  # segment 1 kept
    # once, not once per async worker (gymnasium logged each of the 8 workers' tracebacks: ~250 lines)
    assert err.count('raise RuntimeError("simulator exploded at step %d" % self.n)') == 1 and len(lines) < 60
    assert "Received the following error" not in err


def test_an_env_whose_async_copies_cannot_be_made_is_named_once_in_one_line(tmp_path):
    """Each of the 8 workers printed its traceback, then a RuntimeError blamed a missing `if __name__ == "__main__":`
    guard, which the CLI cannot lack: now the env's traceback once and its error in the last line."""
    out, err = _crash_run(tmp_path, {}, "--env", "crashmod:WorkerFail-v0", "--total-steps", "4096",
                          "--vector-env", "async").communicate(timeout=300)
    lines = err.strip().splitlines()
    assert lines[-1] == ("rl-zoo: error: crashmod:WorkerFail-v0: a --vector-env async subprocess could not make its copy "
                         "of the env: OSError: cannot open /dev/simulator in a worker"), err
    assert err.count('raise OSError("cannot open /dev/simulator in a worker")') == 1 and len(lines) < 30, err
    assert "__main__" not in err and "stopped by the env's error" in out


def test_env_copies_that_cannot_be_made_here_are_named_as_the_envs_error():
    """A sync vector env (or the evaluation copies) whose later copy the env refuses: a bare traceback, no
    `rl-zoo: error:` line; now ``HostEnvError``, its traceback kept for the CLI to print."""
    from rl_zoo.host.batched_env import HostEnvError, _HostEnvs

    class Licensed(gymnasium.Env):
        made = 0
        observation_space, action_space = gymnasium.spaces.Box(-1, 1, (2,), np.float32), gymnasium.spaces.Discrete(2)

        def __init__(self):
            Licensed.made += 1
            if Licensed.made > 3:
                raise OSError("only 3 simulator licences")

    gymnasium.register("RlZooTestLicensed-v0", entry_point=Licensed, max_episode_steps=5)
    try:
        for evaluation in (False, True):
            Licensed.made = 0
            host = _HostEnvs("RlZooTestLicensed-v0", copies=4, make_kwargs={}, vector="sync", evaluation=evaluation)
            with pytest.raises(HostEnvError, match=r"^RlZooTestLicensed-v0: making its copies raised OSError: only 3 "
                                                   r"simulator licences$") as caught:
                host.reset(np.array([0]))
            assert 'raise OSError("only 3 simulator licences")' in caught.value.env_traceback
    finally:
        gymnasium.registry.pop("RlZooTestLicensed-v0", None)


class _IntReset(gymnasium.Env):
    """A float32 Box whose reset gives ints (``np.array([0, 0])``, as hand-written envs often do)."""

    observation_space, action_space = gymnasium.spaces.Box(-10, 10, (2,), np.float32), gymnasium.spaces.Discrete(2)

    def reset(self, seed=None, options=None):
        super().reset(seed=seed)
        self.t = 0
        return np.array([0, 0]), {}

    def step(self, action):
        self.t += 1
        return np.array([0.25 * self.t, 0.75], np.float32), 1.0, self.t >= 5, False, {}


def test_an_evaluation_keeps_float_observations_after_an_int_reset():
    """The evaluation copies wrote each step's observation into the reset's array in place: an int reset cut
    every later one to ints (0.25 -> 0), and the greedy policy was evaluated on them: returns at chance level."""
    from rl_zoo.host.batched_env import _HostEnvs

    gymnasium.register("RlZooTestIntReset-v0", entry_point=_IntReset, max_episode_steps=10)
    try:
        host = _HostEnvs("RlZooTestIntReset-v0", copies=2, make_kwargs={}, vector="sync", evaluation=True)
        (obs,) = host.reset(np.array([0]))
        assert obs.dtype == np.float32
        obs, _, _ = host.step_first_episode(np.zeros((1, 2), np.int64))
        np.testing.assert_array_equal(obs, np.full((1, 2, 2), [0.25, 0.75], np.float32))
        host.close()
    finally:
        gymnasium.registry.pop("RlZooTestIntReset-v0", None)


def test_an_async_worker_that_dies_is_named_and_the_envs_close(tmp_path):
    """A worker process that segfaults mid-step (MuJoCo, Box2D, the OOM killer) left gymnasium's AsyncVectorEnv
    waiting: closing it hung for ever (a dead copy past the first) or raised a bare EOFError (the first copy),
    the cause never said. Each case in its own process, under a timeout. Two seeds: the steps it died after are
    counted per seed (3 steps of 4 copies), as the run's progress counts them, not over both seeds' copies (24)."""
    (tmp_path / "crashmod.py").write_text(CRASHING_ENV)
    script = (
        "import sys, numpy as np, envs, crashmod\n"
        "from rl_zoo.host.batched_env import SeedBatchedEnv, copy_seeds\n"
        "from rl_zoo.host.workers import EnvWorkerDied\n"
        "if __name__ == '__main__':\n"
        "    import os\n"
        "    os.environ['SEGV_SEED'] = str(copy_seeds(np.array([0]), 4)[int(sys.argv[1])])\n"
        "    env, params = envs.make('crashmod:Crash-v0')\n"
        "    batched = SeedBatchedEnv(env, 'async')\n"
        "    host = batched.make_vec(4, params)._host\n"
        "    host.reset(np.array([0, 1]))\n"
        "    try:\n"
        "        for _ in range(10):\n"
        "            host.step(np.zeros((2, 4), np.int64))\n"
        "    except EnvWorkerDied as e:\n"
        "        print('died:', e, flush=True)\n"
        "    host.close()\n"
        "    print('closed', flush=True)\n")
    (tmp_path / "die.py").write_text(script)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(tmp_path), os.environ.get("PYTHONPATH", "")]), SEGV_AT="3")
    for copy in (0, 2):
        done = subprocess.run([sys.executable, str(tmp_path / "die.py"), str(copy)], capture_output=True, text=True,
                              env=env, timeout=120, cwd=tmp_path)
        said = done.stdout.splitlines()
        assert done.returncode == 0 and said[-1] == "closed", done.stdout + done.stderr
        assert said[0].startswith("died: an async worker process of crashmod:Crash-v0 died in a step, after 12 env steps per seed in this "
                                  f"process (seed index 0, copy {copy}: signal SIGSEGV) with no Python exception"), done.stdout


def test_an_env_that_returns_nan_is_named_not_left_to_the_nan_guard(tmp_path):
    """A NaN observation went into the network: the parameters turned NaN and the NaN guard stopped the run
    with no word of the env. Each copy returns NaN from its 401st step, after the first segment's checkpoint."""
    out, err = _crash_run(tmp_path, {"NAN_AT": "400"}, "--total-steps", "8192").communicate(timeout=600)
    last = err.strip().splitlines()[-1]
    assert re.match(r"rl-zoo: error: (crashmod:)?Crash-v0 \(a training step\) raised ValueError: (crashmod:)?Crash-v0 returned "
                    r"a non-finite observation \[0.5, nan\] after [0-9,]+ env steps per seed in this process \(seed index 0, copy 0\)", last), err
    assert "non-finite value" not in err + out  # the NaN guard's words (rl_zoo.driver.guard): not reached
    assert checkpoint.list_checkpoints(tmp_path / "run")  # the segment before it kept


def test_an_env_that_raises_in_an_evaluation_is_named_too(tmp_path):
    """The evaluation envs' steps ran outside the compiled program's error handling: a raw traceback, no
    `rl-zoo: error:` line. Each env copy raises at its 11th step: in the first evaluation, before training."""
    out, err = _crash_run(tmp_path, {"CRASH_AT": "10"}, "--total-steps", "8192").communicate(timeout=600)
    last = err.strip().splitlines()[-1]
    assert re.match(r"rl-zoo: error: (crashmod:)?Crash-v0 \(an evaluation, a step\) raised RuntimeError: simulator exploded "
                    r"at step 11", last), err
    assert 'raise RuntimeError("simulator exploded at step %d" % self.n)' in err and "stopped by the env's error" in out


@pytest.mark.parametrize("signum, status, word", [(signal.SIGINT, 130, "interrupted"), (signal.SIGTERM, 143, "terminated")])
def test_ctrl_c_stops_a_host_segment_at_its_next_env_step(tmp_path, signum, status, word):
    """The main thread waited inside XLA for the whole segment (here about a minute of 5 ms steps) and
    then lost it: now a Ctrl-C stops the program at its next env step. SIGTERM (``timeout``, ``docker
    stop``, a scheduler's end of job) killed the process with no word: it now stops the run as Ctrl-C does."""
    proc = _crash_run(tmp_path, {"STEP_SLEEP": "0.005"}, "--total-steps", "32768", "--evals", "2")
    for line in proc.stdout:
        if line.startswith("compiled"):
            break
    time.sleep(2)
    t0 = time.time()
    proc.send_signal(signum)
    out, err = proc.communicate(timeout=600)
    assert proc.returncode == status, err
    assert time.time() - t0 < 20, "the segment ran on after the Ctrl-C"  # the segment: 2048 steps of 8 x 5 ms
    assert f"\n{word}: " in out and f"--resume {tmp_path / 'run'}" in out and "Traceback" not in err  # SIGTERM: not "interrupted"
    assert err.strip().splitlines()[-1] == f"rl-zoo: {word}", err


#: 40 host env steps of 0.2 s each, run and reported under ``interrupt.installed()`` by the Ctrl-C scripts below
HOST_PROGRAM = '''
import os, signal, sys, threading, time
import jax, jax.numpy as jnp, numpy as np
from jax.experimental import io_callback
from rl_zoo import interrupt
from rl_zoo.host.calls import host_call, run_host_program


def step(a):
    time.sleep(0.2)
    return np.asarray(a + 1, np.float32)


@jax.jit
def program(x):  # 40 env steps of 0.2 s
    body = lambda c, _: (io_callback(lambda a: host_call(step, a), jax.ShapeDtypeStruct((), jnp.float32), c), None)
    return jax.lax.scan(body, x, None, 40)[0]


program.lower(jnp.float32(0)).compile()
ended = threading.Event()


def run(x):  # the program, noting when it ended
    try:
        return jax.block_until_ready(program(x))
    finally:
        ended.set()


def run_and_report():
    t0 = time.time()
    with interrupt.installed():
        try:
            run_host_program(run, jnp.float32(0))
        except KeyboardInterrupt:
            print(f"interrupted after {time.time() - t0:.2f} s; the program had ended: {ended.is_set()}")
'''

TWO_CTRL_C = HOST_PROGRAM + '''

def ctrl_c_twice():
    for wait in (0.9, 0.05):
        time.sleep(wait)
        os.kill(os.getpid(), signal.SIGINT)


threading.Thread(target=ctrl_c_twice, daemon=True).start()
run_and_report()
'''


def test_a_second_ctrl_c_does_not_let_the_host_program_run_to_its_end():
    """The second Ctrl-C cleared the stop flag while the program was still running: it ran all its
    remaining env steps (8 s here) instead of stopping at the next one."""
    with _sigint_not_ignored():
        proc = subprocess.Popen([sys.executable, "-c", TWO_CTRL_C], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    done = subprocess.CompletedProcess(proc.args, None, *proc.communicate(timeout=300))
    assert done.stdout.startswith("interrupted after "), done.stdout + done.stderr
    assert float(done.stdout.split()[2]) < 4.0, done.stdout
    assert done.stdout.rstrip().endswith("the program had ended: True"), done.stdout


CTRL_C_IN_THREAD_START = HOST_PROGRAM + '''
real_start = threading.Thread.start


def start_then_ctrl_c(self):  # the Ctrl-C lands inside Thread.start, the thread already running
    real_start(self)
    if self.name.startswith("rl-zoo-host"):
        os.kill(os.getpid(), signal.SIGINT)


threading.Thread.start = start_then_ctrl_c
run_and_report()
'''


def test_a_ctrl_c_inside_the_host_threads_start_still_stops_the_program_first():
    """A Ctrl-C that landed inside ``Thread.start`` (the pool's submit) came out of ``run_host_program`` at
    once, the program still stepping the envs on its thread: the run then closed the AsyncVectorEnv under
    it, a traceback and exit 1 (seen once in the slow Ctrl-C test). Held across the start, it stops the
    program at its next env step and comes out after it."""
    with _sigint_not_ignored():
        proc = subprocess.Popen([sys.executable, "-c", CTRL_C_IN_THREAD_START], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True)
    done = subprocess.CompletedProcess(proc.args, None, *proc.communicate(timeout=300))
    assert done.stdout.startswith("interrupted after "), done.stdout + done.stderr
    assert done.stdout.rstrip().endswith("the program had ended: True"), done.stdout
    assert float(done.stdout.split()[2]) < 4.0, done.stdout  # its next env step, not its 40th (8 s)


def test_make_train_takes_an_adapter_env_as_the_docs_promise(seed_offset):
    """``make_train(config, env, params)`` with ``envs.make``'s gymnasium adapter (every id without a JAX port)
    failed under ``jax.jit`` with a tracer error: the adapter's vector env steps in a Python loop. It is now
    stepped through the seed-batched host env, jitted and vmapped over seeds alike."""
    import jax

    import envs
    from rl_zoo.algos import ppo

    env, params = envs.make("CartPole-v1", backend="gymnasium")
    config = ppo.Config(total_timesteps=512, num_envs=2, num_steps=64, num_minibatches=1, update_epochs=1)
    train = ppo.make_train(config, env, params)
    _, one = jax.jit(train)(jax.random.key(seed_offset))
    _, two = jax.jit(jax.vmap(train))(jax.random.split(jax.random.key(seed_offset), 2))
    assert np.asarray(one.episode.episodes).sum() > 0  # 512 random-ish CartPole steps end some episodes
    assert (np.asarray(two.episode.episodes).sum(axis=1) > 0).all()


def test_float64_action_bounds_reach_the_env_inside_its_space():
    """The policy clips to the bounds as float32 (0.1 -> 0.100000001), just outside a float64 Box: the env's own
    check refused the bound itself. The host envs clip to the env's own bounds in its dtype; the adapter
    accepts the float32 bound and an exact float64 one (0.7 was refused against 0.699999988)."""
    from envs.gymnasium_adapter import GymnasiumVecEnv
    from rl_zoo.host.batched_env import _HostEnvs

    gymnasium.register("RlZooTestFloat64Tenth-v0", entry_point=Float64Tenth, max_episode_steps=5)
    try:
        edge = np.float32(0.1)  # what env_action's clip to the float32 space gives
        assert float(edge) > 0.1
        host = _HostEnvs("RlZooTestFloat64Tenth-v0", copies=2, make_kwargs={}, vector="sync", evaluation=False)
        host.reset(np.array([0]))
        host.step(np.array([[[edge], [-edge]]], np.float32))  # [seeds, copies, 1]: the env asserts containment
        host.close()
        venv = GymnasiumVecEnv("RlZooTestFloat64Tenth-v0", 2)
        checked = venv._check_action(np.array([[edge], [0.1]]))
        assert checked.dtype == np.float64 and (checked <= 0.1).all()
        with pytest.raises(ValueError, match="outside the action space"):
            venv._check_action(np.array([[0.2], [0.0]]))
    finally:
        gymnasium.registry.pop("RlZooTestFloat64Tenth-v0", None)


def test_a_bad_device_count_is_refused_on_gymnasium_envs_too():
    """--devices 0 on a gymnasium run trained on (the count is not used there); it is refused as on a JAX env."""
    from rl_zoo.config import ConfigError
    from rl_zoo.driver.spec import new_spec

    for devices in (0, -1):
        with pytest.raises(ConfigError, match=f"--devices = {devices} is invalid: must be at least 1"):
            new_spec("ppo", "CartPole-v1", backend="gymnasium", devices=devices)


def test_a_diverged_policys_nan_action_is_the_nan_guards_stop_not_the_envs_error(tmp_path):
    """Parameters gone NaN inside a segment handed the gymnasium env NaN actions; it returned a NaN reward
    and the run blamed the env ("fix the env or wrap it", exit 1, `--resume` offered, which only diverges
    again). The actions are checked before the env steps: the NaN guard's error (exit 3), naming the seed."""
    from rl_zoo.train import NonFiniteError, train

    with pytest.raises(NonFiniteError, match=r"the policy's action for Pendulum-v1 after [0-9,]+ env steps per seed in this process is not finite "
                                             r"\(seed index 0: \[nan\]\): the learner diverged, not the env.*smaller learning_rate"):
        train("ppo", "Pendulum-v1", backend="gymnasium", total_steps=256, num_evals=1, eval_episodes=1, progress=False,
              out=tmp_path / "run", overrides=dict(num_envs=1, num_steps=64, num_minibatches=1, update_epochs=1, learning_rate=1e30))
    assert not (tmp_path / "run" / "summary.json").exists()


@pytest.mark.parametrize("flags", [(), ("--record-video",)])
def test_an_env_that_raises_in_the_first_check_is_named_with_its_traceback(tmp_path, flags):
    """An env of your own is tried (one reset, one step) before anything is made: an exception there was a
    bare Python traceback with no `rl-zoo: error:` line (and under --record-video, whose check makes the env
    first, a `--record-video:` error without the env's traceback)."""
    proc = _crash_run(tmp_path, {"CRASH_AT": "0"}, "--total-steps", "8192", *flags)
    out, err = proc.communicate(timeout=600)
    assert proc.returncode == 1, err
    assert re.match(r"rl-zoo: error: environment (crashmod:)?Crash-v0 raised RuntimeError: simulator exploded at step 1 in "
                    r"step\(a random action\), during the one reset and step with which rl_zoo tries an env of your own",
                    err.strip().splitlines()[-1]), err
    assert 'raise RuntimeError("simulator exploded at step %d" % self.n)' in err  # the env's own frame
    assert not (tmp_path / "run").exists()


def test_an_async_worker_whose_main_process_is_gone_ends_without_a_traceback():
    """A ``kill -9`` of an async run's main process made each worker print a two-part traceback: its ``recv`` found
    the pipe closed (EOFError), and sending that error back raised BrokenPipeError out of the worker."""
    import multiprocessing as mp
    import queue

    from gymnasium.vector.async_vector_env import _async_worker

    from rl_zoo.host.workers import orphan_quiet_worker

    def orphaned():
        mine, main_end = mp.Pipe()  # the worker closes the main process's end as it starts: gone
        return (0, lambda: gymnasium.make("CartPole-v1"), mine, main_end, None, queue.Queue(),
                gymnasium.vector.AutoresetMode.SAME_STEP, None)

    with pytest.raises((BrokenPipeError, ConnectionResetError)):
        _async_worker(*orphaned())  # gymnasium's own worker: the error escapes it (and multiprocessing prints it)
    args = orphaned()
    assert orphan_quiet_worker(*args) is None
    assert args[5].get_nowait()[1] is EOFError  # its report of the closed pipe was made, then not sendable


USERS_OWN_PROCESS = '''
import multiprocessing, sys, tempfile


def child(failures):
    from rl_zoo.host.workers import worker_make
    try:
        worker_make("RlZooNoSuchEnv-v0", {}, failures)  # the main process's copy, made in a process the user started
    except Exception as e:
        print("raised", type(e).__name__, flush=True)


if __name__ == "__main__":
    p = multiprocessing.get_context("spawn").Process(target=child, args=(tempfile.mkdtemp(),))
    p.start()
    p.join()
    print("exit", p.exitcode)
'''


def test_an_env_made_in_a_process_the_user_started_raises_there(tmp_path):
    """worker_make took any multiprocessing child for an AsyncVectorEnv worker: the copy gymnasium makes in the
    main process to read the spaces, in a user's own subprocess, ended that process with os._exit(1), no word said
    (and ignored its Ctrl-C). Only a worker (``orphan_quiet_worker``) writes its error and exits."""
    (tmp_path / "user.py").write_text(USERS_OWN_PROCESS)
    done = subprocess.run([sys.executable, str(tmp_path / "user.py")], capture_output=True, text=True, timeout=120)
    assert done.stdout.split() == ["raised", "NameNotFound", "exit", "0"], done.stdout + done.stderr


def test_a_host_envs_training_episodes_do_not_depend_on_jax_enable_x64():
    """Under JAX_ENABLE_X64 the training envs' reset drew their gymnasium seed as int64: another number from the
    same key, so the same --seed trained on other episodes (the adapter's own vector env too)."""
    import envs

    env, params = envs.make("CartPole-v1", backend="gymnasium")
    first = {}
    for x64 in (False, True):
        with jax.enable_x64(x64):
            batched = SeedBatchedEnv(env)
            try:
                obs, _ = jax.jit(batched.make_vec(2, params).reset)(jax.random.key(7))
                plain, _ = env.make_vec(2, params).reset(jax.random.key(7))
                first[x64] = (np.asarray(obs), np.asarray(plain))
            finally:
                batched.close()
    np.testing.assert_array_equal(first[False][0], first[True][0])
    np.testing.assert_array_equal(first[False][1], first[True][1])


def test_the_progress_line_says_the_step_of_an_older_evaluation(monkeypatch, capsys, tmp_path, seed_offset):
    """Review: a gymnasium run evaluates after some segments only (its evaluations cut to a share of training's env
    steps), and its progress line showed the last evaluation's return as if it were made at the current step."""
    monkeypatch.setattr(evaluation, "EVAL_FRACTION", 1e-9)  # no evaluation between the start and the end
    driver_run.train("ppo", "CartPole-v1", seeds=1, seed=seed_offset, total_steps=128 * 4, overrides=SMALL_OVERRIDES, num_evals=4,
                     eval_episodes=1, backend="gymnasium", progress=True, log=lambda *_: None, out=tmp_path / "run")
    lines = [line for line in capsys.readouterr().out.splitlines() if "steps (" in line]
    assert [line.split(": ")[1].split(" steps")[0] for line in lines] == ["0/512", "128/512", "256/512", "384/512", "512/512"], lines
    assert all("(at 0 steps)" in line for line in lines[1:4]), lines
    assert "(at " not in lines[0] and "(at " not in lines[4], lines
