"""rl_zoo.load: a run directory's greedy policy, as the trained state acts, with nothing re-typed.

Round trip: a tiny PPO run with observation normalisation on (CartPole-v1, discrete; Pendulum-v1,
continuous) is written by the driver; the policy loaded from its directory gives the actions the
trained state's greedy ``act`` gives (clipped into the action space as the driver's evaluation sends
them), on a batch of observations, and one at a time; numpy in gives numpy out, JAX in gives JAX out.
No return is asserted: two updates learn nothing, and the test is about loading, not learning.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import gymnasium
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import rl_zoo
from rl_zoo.config import ConfigError
from rl_zoo.core.rollout import env_action
from rl_zoo.policy import load
from rl_zoo.train import resolve_config, train
from run_helpers import Float64Tenth

# two updates of a small batch: enough for the normaliser to hold statistics that change the actions
TINY = {
    "CartPole-v1": dict(num_envs=4, num_steps=16, update_epochs=2, num_minibatches=1, normalize_obs=True),
    "Pendulum-v1": dict(num_envs=4, num_steps=16, update_epochs=2, num_minibatches=1, normalize_obs=True),
}


def train_tiny(out, env_id, seed, **kwargs):
    """Two updates of PPO with observation normalisation, two seeds (``seed``, ``seed + 1``), into ``out``:
    ``(RunResult, (module, config))``. tests/test_enjoy.py and tests/test_tensorboard.py train the same
    program (a warm compile); ``kwargs`` go to ``train`` (``hooks=...``)."""
    overrides = TINY[env_id]
    steps = 2 * overrides["num_envs"] * overrides["num_steps"]
    result = train("ppo", env_id, seeds=2, seed=seed, total_steps=steps, overrides=overrides, out=out,
                   num_evals=1, eval_episodes=1, progress=False, log=lambda *_: None, **kwargs)
    return result, resolve_config("ppo", env_id, overrides, steps)


@pytest.fixture(scope="module")
def runs(tmp_path_factory, seed_offset):
    """One tiny run per env, shared by the tests of this file: ``{env_id: (run_dir, first seed, result, (module, config))}``."""
    out = {}

    def get(env_id):
        if env_id not in out:
            run_dir = tmp_path_factory.mktemp(env_id) / "run"
            seed = 11 + seed_offset
            out[env_id] = (run_dir, seed, *train_tiny(run_dir, env_id, seed))
        return out[env_id]

    return get


def _observations(space, n=64):
    """A batch of observations around the scale the env produces (unit normal, or uniform in bounds)."""
    key = jax.random.key(7)
    low, high = np.asarray(space.low), np.asarray(space.high)
    if np.all(np.isfinite(low)) and np.all(np.isfinite(high)):
        return np.asarray(jax.random.uniform(key, (n, *space.shape), minval=low, maxval=high), np.float32)
    return np.asarray(jax.random.normal(key, (n, *space.shape)), np.float32)


@pytest.mark.parametrize("env_id", ["CartPole-v1", pytest.param("Pendulum-v1", marks=pytest.mark.slow)])  # continuous: slow (6 s)
def test_loaded_policy_acts_as_the_trained_state(runs, env_id):
    import envs

    run_dir, seed, result, (module, config) = runs(env_id)
    env, params = envs.make(env_id)
    agent = module.make_agent(config, env, params)
    space = env.action_space(params)
    state = jax.tree.map(lambda x: x[1], result.final_state)  # the run's second seed
    obs = _observations(env.observation_space(params))
    expected = np.asarray(env_action(agent.act(state, jnp.asarray(obs)), space))

    policy = rl_zoo.load(run_dir, seed=seed + 1)
    assert policy.env_id == env_id and policy.algo == "ppo" and policy.seed == seed + 1
    assert policy.config == config  # nothing re-typed: the config comes from config.json
    actions = policy(obs)
    assert isinstance(actions, np.ndarray) and actions.shape == expected.shape
    if np.issubdtype(expected.dtype, np.integer):
        np.testing.assert_array_equal(actions, expected)
    else:  # the same network, compiled as a vmap: equal up to float rounding
        np.testing.assert_allclose(actions, expected, rtol=1e-5, atol=1e-6)
    # one observation at a time gives the same; JAX in, JAX out
    single = policy(obs[3])
    assert isinstance(single, np.ndarray) and single.shape == expected[3].shape
    np.testing.assert_allclose(single, expected[3], rtol=1e-5, atol=1e-6)
    assert isinstance(policy(jnp.asarray(obs)), jax.Array)

    # the normalisation statistics are the trained ones, and they matter for these actions
    assert float(state.obs_stats.count) > 1
    raw = state._replace(obs_stats=agent.init(jax.random.key(0)).obs_stats)
    assert not np.allclose(np.asarray(env_action(agent.act(raw, jnp.asarray(obs)), space)), expected)


def with_an_older_checkpoint(run_dir: Path, copy: Path) -> Path:
    """A copy of ``run_dir`` whose only checkpoint has an older copy beside it, ``ckpt_000000001``."""
    from rl_zoo import checkpoint

    shutil.copytree(run_dir, copy)
    newest = checkpoint.latest(copy)
    assert checkpoint.updates_of(newest) > 1
    shutil.copy(newest, newest.with_name("ckpt_000000001.msgpack"))
    return copy


def test_load_errors_say_what_is_wrong(tmp_path, runs):
    with pytest.raises(FileNotFoundError, match="not a folder"):
        rl_zoo.load(tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="not a run directory: it has no config.json"):
        rl_zoo.load(tmp_path / "empty")

    (tmp_path / "sweep").mkdir()
    (tmp_path / "sweep" / "sweep.json").write_text("{}")
    with pytest.raises(FileNotFoundError, match="is a sweep folder .* train its best config"):
        rl_zoo.load(tmp_path / "sweep")

    run_dir, seed, _, _ = runs("CartPole-v1")
    policy = rl_zoo.load(run_dir)
    assert policy.seed == seed  # the run's first seed by default
    with pytest.raises(ValueError, match=r"observations have shape \(4,\)"):
        policy(np.zeros((2, 3), np.float32))
    with pytest.raises(ValueError, match="is not one of this run's seeds"):
        rl_zoo.load(run_dir, seed=seed + 2)
    with pytest.raises(ValueError, match="seed must be a whole number, got"):  # int() truncated it to the first seed
        rl_zoo.load(run_dir, seed=seed + 0.7)
    with pytest.raises(ValueError, match=f"seed must be a whole number, got '{seed + 1}'"):  # a string was taken for its number
        rl_zoo.load(run_dir, seed=str(seed + 1))
    assert rl_zoo.load(run_dir, seed=jnp.int32(seed + 1)).seed == seed + 1  # numpy's and JAX's integers are numbers
    assert rl_zoo.load(run_dir, seed=np.int64(seed + 1)).seed == seed + 1
    with pytest.raises(FileNotFoundError, match="checkpoint 'ckpt_123.msgpack' not found"):
        rl_zoo.load(run_dir, checkpoint="ckpt_123.msgpack")
    # an earlier checkpoint by file name (the tiny run writes one: an older copy beside it, so that
    # loading the newest instead would be seen)
    two = with_an_older_checkpoint(run_dir, tmp_path / "older")
    older = sorted((two / "checkpoints").iterdir())[0]
    assert older.name == "ckpt_000000001.msgpack" and rl_zoo.load(two).checkpoint != older
    assert rl_zoo.load(two, checkpoint=older.name).checkpoint == older
    # a bare name is the run's own file even where the current folder holds one of that name (it was loaded instead)
    newest = sorted((two / "checkpoints").iterdir())[-1]
    here = tmp_path / "elsewhere"
    here.mkdir()
    shutil.copy(older, here / newest.name)
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(here)
        assert rl_zoo.load(two, checkpoint=newest.name).checkpoint == two / "checkpoints" / newest.name
        # "./NAME" is a path: the current folder's file, taken as given (and checked to be this run's)
        assert rl_zoo.load(two, checkpoint=f".{os.sep}{newest.name}").checkpoint == Path(".") / newest.name
    first = sorted((run_dir / "checkpoints").iterdir())[0]

    # a path with a folder is taken as given: a mistyped one is not found (not this run's file of that name)
    with pytest.raises(FileNotFoundError, match="not found"):
        rl_zoo.load(run_dir, checkpoint=tmp_path / "typo" / "checkpoints" / first.name)
    # another run's checkpoint: a copy of this run loads, a run with another config is refused
    copy = tmp_path / "copy"
    shutil.copytree(run_dir, copy)
    assert rl_zoo.load(run_dir, checkpoint=copy / "checkpoints" / first.name).checkpoint == copy / "checkpoints" / first.name
    other = json.loads((copy / "config.json").read_text())
    other["config"]["learning_rate"] = 0.5 * other["config"]["learning_rate"]
    (copy / "config.json").write_text(json.dumps(other))
    with pytest.raises(ValueError, match="belongs to the run .* whose config differs"):
        rl_zoo.load(run_dir, checkpoint=copy / "checkpoints" / first.name)

    with pytest.raises(TypeError, match="run_dir must be a path .* got 5"):  # pathlib's TypeError named no argument
        rl_zoo.load(5)
    bare = tmp_path / "no_checkpoints"
    bare.mkdir()
    shutil.copy(run_dir / "config.json", bare / "config.json")
    with pytest.raises(FileNotFoundError, match="has no checkpoints") as e:
        rl_zoo.load(bare)
    assert "stopped by the NaN guard" in str(e.value) and "again with a smaller learning rate" in str(e.value)
    from rl_zoo.lock import FolderLock

    with FolderLock(bare):  # a run still training, before its first checkpoint (it was called killed)
        with pytest.raises(FileNotFoundError, match=rf"is still training \(process {os.getpid()} holds it\) and has written no checkpoint yet"):
            rl_zoo.load(bare)
    with pytest.raises(FileNotFoundError, match="has no checkpoints"):  # released: the stopped-run reasons again
        rl_zoo.load(bare)
    (bare / "config.json").write_text(json.dumps({"algo": "ppo"}))
    with pytest.raises(ValueError, match="config.json"):
        rl_zoo.load(bare)


@pytest.mark.slow
def test_load_adapter_run(tmp_path, seed_offset):
    """A run on the gymnasium adapter (the driver's seed-batched host envs) loads the same way."""
    import envs

    seed = 5 + seed_offset
    overrides = TINY["CartPole-v1"]
    result = train("ppo", "CartPole-v1", seeds=2, seed=seed, total_steps=128, overrides=overrides, out=tmp_path / "run",
                   num_evals=1, eval_episodes=1, backend="gymnasium", progress=False, log=lambda *_: None)
    module, config = resolve_config("ppo", "CartPole-v1", overrides, 128)
    env, params = envs.make("CartPole-v1", backend="gymnasium")
    agent = module.make_agent(config, env, params)
    state = jax.tree.map(lambda x: x[1], result.final_state)
    obs = _observations(env.observation_space(params))
    policy = rl_zoo.load(tmp_path / "run", seed=seed + 1)
    assert policy.env.backend == "gymnasium"
    np.testing.assert_array_equal(policy(obs), np.asarray(agent.act(state, jnp.asarray(obs))))


def test_a_damaged_newest_checkpoint_is_skipped_unless_asked_for(tmp_path, runs, capsys):
    """Without ``checkpoint=``, the newest intact checkpoint loads (as ``--resume`` chooses it) and stderr
    names the damaged one; asked for by name, the damaged one is refused; all damaged: refused."""
    from rl_zoo import checkpoint

    run_dir, seed, _, _ = runs("CartPole-v1")
    copy = with_an_older_checkpoint(run_dir, tmp_path / "copy")  # the tiny run's only checkpoint, an intact copy beside it
    newest, older = checkpoint.latest(copy), copy / "checkpoints" / "ckpt_000000001.msgpack"
    newest.write_bytes(newest.read_bytes()[:1000])
    capsys.readouterr()
    policy = rl_zoo.load(copy)
    assert policy.checkpoint == older
    err = capsys.readouterr().err
    assert f"checkpoint {newest} is damaged (its checksum does not match" in err and f"loading {older.name}" in err
    assert newest.exists()  # nothing renamed
    with pytest.raises(ValueError, match=f"{newest.name} is damaged"):
        rl_zoo.load(copy, checkpoint=newest.name)
    with pytest.raises(ValueError, match=r"checkpoint = 78 is invalid: give a checkpoint file's name"):  # a bare TypeError
        rl_zoo.load(copy, checkpoint=78)
    older.write_bytes(b"")
    with pytest.raises(ValueError, match="every checkpoint in .*checkpoints is damaged") as e:
        rl_zoo.load(copy)
    assert not str(e.value).startswith("checkpoint ")  # it named the folder as a damaged checkpoint


def test_loading_a_run_still_training_takes_the_newest_again_when_its_choice_was_pruned(tmp_path, runs, monkeypatch, capsys):
    """A run still training keeps its newest 3 checkpoints: the one load chose could be removed before it was read
    (with short segments, 6 times out of 6 in a review's repro), and load said it was damaged. It takes the newest
    again; choose_checkpoint lists again when one it listed is gone, not calling it damaged."""
    from rl_zoo import checkpoint
    from rl_zoo.driver.resume import choose_checkpoint

    run_dir, *_ = runs("CartPole-v1")
    copy = with_an_older_checkpoint(run_dir, tmp_path / "copy")
    chosen = checkpoint.latest(copy)
    newer = chosen.with_name(f"ckpt_{checkpoint.updates_of(chosen) + 1:09d}.msgpack")
    real_restore = checkpoint.restore

    def training_goes_on(path, *args, **kwargs):  # the run writes its next checkpoint and prunes the chosen one
        if path == chosen:
            shutil.copy(chosen, newer)
            chosen.unlink()
        return real_restore(path, *args, **kwargs)

    monkeypatch.setattr(checkpoint, "restore", training_goes_on)
    capsys.readouterr()
    assert rl_zoo.load(copy).checkpoint == newer
    assert "damaged" not in capsys.readouterr().err
    with pytest.raises(checkpoint.CheckpointGone, match="removed since it was listed"):
        checkpoint.read(chosen)

    real_list, listed = checkpoint.list_checkpoints, []

    def stale_first(run):  # the first listing names a file pruned before it is read
        listed.append(run)
        return real_list(run) + ([chosen] if len(listed) == 1 else [])

    monkeypatch.setattr(checkpoint, "list_checkpoints", stale_first)
    choice = choose_checkpoint(copy)
    assert choice.point.path == newer and choice.damaged == () and len(listed) == 2


def test_a_killed_multi_host_run_is_said_to_keep_no_checkpoints(tmp_path, runs):
    """enjoy / load of a killed multi-host run said it "stopped before its first segment ended" and suggested
    --resume: a multi-host run writes no checkpoints (its hosts' metrics.host<i>.csv tell it)."""
    run_dir, *_ = runs("CartPole-v1")
    copy = tmp_path / "multi"
    shutil.copytree(run_dir, copy)
    shutil.rmtree(copy / "checkpoints")
    (copy / "summary.json").unlink()  # killed: no summary
    shutil.copy(copy / "metrics.csv", copy / "metrics.host0.csv")
    with pytest.raises(FileNotFoundError, match="is a multi-host run, which writes no checkpoints.*rl-zoo train --algo ppo"):
        rl_zoo.load(copy)
    # resumed in one process, it starts again and its hosts' old tables go: they kept load saying "multi-host"
    train(resume=copy)
    assert not list(copy.glob("metrics.host*.csv"))
    assert rl_zoo.load(copy) is not None


def test_a_checkpoint_of_more_seeds_says_so(tmp_path, runs):
    run_dir, seed, _, _ = runs("CartPole-v1")
    copy = tmp_path / "copy"
    shutil.copytree(run_dir, copy)
    config = json.loads((copy / "config.json").read_text())
    config["seeds"] = 1
    (copy / "config.json").write_text(json.dumps(config))
    with pytest.raises(ValueError, match="holds 2 seeds, this run 1"):
        rl_zoo.load(copy)


def test_a_run_on_an_env_registered_in_another_process_says_how_to_make_it_known(tmp_path, runs):
    """A run trained from Python on ``envs.register("Corr-v0", Corridor)``, loaded or resumed in a new process: "Unknown
    environment id 'Corr-v0'. Did you mean: CartPole-v0, ...?", as if it were a typo."""
    run_dir, *_ = runs("CartPole-v1")
    copy = tmp_path / "copy"
    shutil.copytree(run_dir, copy)
    config = json.loads((copy / "config.json").read_text())
    config["env"] = "RlZooRegisteredElsewhere-v0"  # as the process that registered it wrote it
    (copy / "config.json").write_text(json.dumps(config))
    for call in (lambda: rl_zoo.load(copy), lambda: train(resume=copy, log=lambda *_: None)):
        with pytest.raises(ValueError, match=r"Unknown environment id 'RlZooRegisteredElsewhere-v0'.* This run trained on "
                                             r"'RlZooRegisteredElsewhere-v0': an env of your own registered with "
                                             r"envs.register is known only to the process that registered it"):
            call()


def test_discrete_observations_must_be_states(tmp_path, seed_offset):
    """FrozenLake's observations are the states 0-15: a fractional or out-of-range one is refused, not cast."""
    from rl_zoo.policy import check_discrete

    train("q-learning", "FrozenLake-v1", seed=seed_offset, total_steps=2048, out=tmp_path / "run", num_evals=1,
          eval_episodes=1, progress=False, log=lambda *_: None)
    policy = rl_zoo.load(tmp_path / "run")
    assert policy(3).shape == () and policy([15, 0, 4]).shape == (3,) and policy(np.float32(2.0)).shape == ()
    assert isinstance(policy(jnp.asarray([1, 2])), jax.Array)
    for bad, shown in (([15, 99, -1, 0], "got 99 among 4 values"), (3.7, "got 3.7"), (-1, "got -1"), (jnp.asarray(16), "got 16")):
        with pytest.raises(ValueError, match=rf"FrozenLake-v1 observations are integers 0 to 15 .*; {shown}"):
            policy(bad)
    with pytest.raises(ValueError, match="integers 0 to 15; got bool values"):
        policy(True)
    check_discrete(np.arange(16), policy.observation_space, "FrozenLake-v1")  # every state passes
    for one_hot in (np.eye(16)[3], np.eye(16)[[3, 5]]):  # the network's input, read as 16 states 0 and 1
        with pytest.raises(ValueError, match=r"got a one-hot vector of length 16 .*np.argmax\(obs, axis=-1\)\); if these"):
            policy(one_hot)
    assert policy(np.array([0.0, 1.0])).shape == (2,)  # two states, not one-hot of length 16
    from envs.spaces import Discrete

    check_discrete(np.array([0.0, 1.0]), Discrete(2), "TwoStates")  # two float states of a 2-state space: not one-hot
    with pytest.raises(ValueError, match="if these are 3 state indices, pass them as integers"):
        check_discrete(np.array([0.0, 1.0, 0.0]), Discrete(3), "ThreeStates")
    with pytest.raises(ValueError, match=r"np.argmax\(obs, axis=-1\) \+ 2\)"):  # a space starting at 2: its offset said
        check_discrete(np.array([0.0, 1.0, 0.0]), Discrete(3, start=2), "ShiftedStates")
    check_discrete(np.array([0, 1, 0]), Discrete(3), "ThreeStates")  # as integers they pass


def test_a_discrete_action_is_the_envs_with_or_without_clip():
    """clip=False returns a continuous policy's raw mode; a Discrete(3, start=-1) action is still the
    env's (-1..1), not the network's index (0..2), as rl_zoo.load(clip=False) returned."""
    from types import SimpleNamespace

    from envs import spaces
    from rl_zoo.policy import greedy_policy

    agent = SimpleNamespace(act=lambda state, obs: jnp.int32(2))
    for clip in (True, False):
        assert int(greedy_policy(agent, spaces.Discrete(3, start=-1), clip)(None, None)) == 1
    raw = SimpleNamespace(act=lambda state, obs: jnp.array([3.0]))
    assert float(greedy_policy(raw, spaces.Box(-1.0, 1.0, (1,)), clip=False)(None, None)[0]) == 3.0


def test_a_discrete_action_reaches_a_gymnasium_env_in_its_spaces_dtype():
    """The policy's int32 action went to gymnasium as int32, where the Policy docstring promises the action
    space's own dtype (Discrete's int64, as ``space.sample()`` gives)."""
    from envs.spaces import to_gymnasium_action

    space = gymnasium.spaces.Discrete(3, start=-1)
    for action in (np.int32(1), np.array([0, -1], np.int32)):
        played = to_gymnasium_action(action, space)
        assert played.dtype == space.dtype == np.int64 and np.array_equal(played, action)


def test_an_adapter_run_without_checkpoints_is_told_to_resume(tmp_path):
    """A gymnasium-adapter run killed before its first checkpoint was told that its driver "did not
    checkpoint such runs" and to train again: this driver checkpoints them, so it is told what a JAX run
    is (resume it), the older versions' case named beside it."""
    from rl_zoo.policy import find_checkpoint

    for backend in ("gymnasium", "jax"):
        with pytest.raises(FileNotFoundError) as e:
            find_checkpoint(tmp_path, None, backend=backend)
        assert f"rl-zoo train --resume {tmp_path}" in str(e.value) and "did not checkpoint" not in str(e.value)
        assert ("older than its adapter's checkpoints" in str(e.value)) == (backend == "gymnasium")


def test_a_policy_plays_on_the_env_made_with_other_options(runs):
    """A time limit of 5 steps ends every episode at 5, whatever the policy; Pendulum's policy plays with a wider
    torque range (its actions clipped into the played env's); the run's own options are the default."""
    from rl_zoo.enjoy import enjoy

    run_dir, seed, _, _ = runs("CartPole-v1")
    said: list[str] = []
    played = enjoy(run_dir, episodes=2, env_kwargs={"max_episode_steps": 5}, log=said.append)
    assert [(ep.episode_return, ep.length) for ep in played] == [(5.0, 5), (5.0, 5)]
    assert said[0].startswith("ppo on CartPole-v1 (max_episode_steps=5) (jax), trained on CartPole-v1, seed")
    assert load(run_dir).env_kwargs == {}
    pendulum = load(runs("Pendulum-v1")[0], env_kwargs={"max_torque": 3.0})
    assert pendulum.env_kwargs == {"max_torque": 3.0} and float(pendulum.action_space.high[0]) == 3.0


@pytest.mark.parametrize("options, said", [({"length": 0}, "--env-kwargs length=0: refused by CartPole-v1: length = 0 must be > 0"),
                                           ({"render_mode": "human"}, "render_mode")])
def test_options_the_env_refuses_are_refused_by_load(runs, options, said):
    with pytest.raises(ConfigError, match=said):
        load(runs("CartPole-v1")[0], env_kwargs=options)


def test_a_refused_option_is_told_apart_from_the_runs_own(tmp_path):
    """The refusal named the options the env was made with, the run's own among them (`rl-zoo enjoy RUN
    --env-kwargs foo=1` on a run of gravity=-1 said "--env-kwargs gravity=-1 foo=1: refused ...")."""
    train("q-learning", "FrozenLake-v1", seeds=1, total_steps=200, out=tmp_path / "run", num_evals=1, eval_episodes=1,
          progress=False, log=lambda *_: None, env_kwargs={"is_slippery": False})
    with pytest.raises(ConfigError) as e:
        load(tmp_path / "run", env_kwargs={"success_rate": 2})
    assert str(e.value) == ("--env-kwargs success_rate=2 (on the run's own is_slippery=false): refused by FrozenLake-v1: "
                            "success_rate must be a number in [0, 1], got 2")
    with pytest.raises(ConfigError) as e:  # the run's own option replaced: the env was made with the given ones only
        load(tmp_path / "run", env_kwargs={"is_slippery": True, "success_rate": 2})
    assert str(e.value).startswith("--env-kwargs is_slippery=true success_rate=2: refused by FrozenLake-v1: ")


def test_an_env_whose_spaces_change_is_refused(tmp_path):
    """FrozenLake's 8x8 map has 64 states where the policy's table has 16 rows."""
    train("q-learning", "FrozenLake-v1", seeds=1, total_steps=200, out=tmp_path / "run", num_evals=1, eval_episodes=1,
          progress=False, log=lambda *_: None)
    with pytest.raises(ConfigError, match=r"map_name=8x8: the observation space becomes Discrete\(64\), where the policy was "
                                          r"trained on Discrete\(16\)"):
        load(tmp_path / "run", env_kwargs={"map_name": "8x8"})
    assert load(tmp_path / "run", env_kwargs={"is_slippery": False}).env_kwargs == {"is_slippery": False}


def test_a_map_given_anew_replaces_the_random_map_a_run_drew(tmp_path):
    """Review: a run of ``map_name=null`` records the map it drew as ``desc``, which wins over ``map_name``:
    ``enjoy RUN --env-kwargs map_name=8x8`` played the run's own random map under the header "map_name=8x8"."""
    from envs.toy_text.frozen_lake import MAPS

    train("q-learning", "FrozenLake-v1", seeds=1, total_steps=200, out=tmp_path / "run", num_evals=1, eval_episodes=1,
          progress=False, log=lambda *_: None, env_kwargs={"map_name": None, "is_slippery": False})
    drawn = load(tmp_path / "run").env_kwargs["desc"]
    played = load(tmp_path / "run", env_kwargs={"map_name": "8x8"})
    assert played.env_kwargs == {"map_name": "8x8", "is_slippery": False} and played.env.desc == MAPS["8x8"] != drawn
    other = ["SFFFFFFF"] * 7 + ["FFFFFFFG"]
    assert load(tmp_path / "run", env_kwargs={"desc": other}).env.desc == other  # a desc given anew: the run's map_name goes
    assert load(tmp_path / "run", env_kwargs={"is_slippery": True}).env.desc == drawn  # other options keep the drawn map


def test_a_loaded_policy_acts_inside_a_gymnasium_envs_own_float64_bounds():
    """``load(run)(obs)`` clipped to the bounds rounded to float32: 0.100000001, outside the env's float64 Box,
    which refused it; training and enjoy sent the env its own dtype and bounds. A numpy action is in them now."""
    from types import SimpleNamespace

    from envs.gymnasium_adapter import GymnasiumEnv
    from rl_zoo.policy import Policy

    gymnasium.register("RlZooTestLoadTenth-v0", entry_point=Float64Tenth, max_episode_steps=5)
    try:
        env = GymnasiumEnv("RlZooTestLoadTenth-v0")
        assert env.gymnasium_action_space == gymnasium.spaces.Box(-0.1, 0.1, (1,), np.float64)
        agent = SimpleNamespace(act=lambda state, obs: jnp.full((1,), 5.0) * jnp.sign(obs[0] - 0.5))  # far past a bound
        run = SimpleNamespace(algo="ppo", env_id="RlZooTestLoadTenth-v0", config=None, env_kwargs={})
        policy = Policy(run, agent, None, 0, Path("c"), env, env.default_params)
        for obs, edge in ((np.ones(2, np.float32), 0.1), (np.zeros(2, np.float32), -0.1)):
            action = policy(obs)
            assert action.dtype == np.float64 and action[0] == edge and env.gymnasium_action_space.contains(action)
        assert policy(jnp.ones(2)).dtype == jnp.float32  # a JAX array in: the JAX action, as before
        raw = Policy(run, agent, None, 0, Path("c"), env, env.default_params, clip=False)
        assert raw(np.ones(2, np.float32))[0] == 5.0  # clip=False: the raw mode, as documented
    finally:
        gymnasium.registry.pop("RlZooTestLoadTenth-v0", None)
