"""Reliability: exact resume after SIGKILL, determinism, validated configs, the NaN guard, atomic writes."""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import subprocess
import sys
import time
import types
from pathlib import Path

import jax
import numpy as np
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from rl_zoo import algos, checkpoint, runs
from rl_zoo.config import ConfigError
from rl_zoo.train import NonFiniteError, resolve_config, train
from run_helpers import metrics_rows

RUN = [sys.executable, "-m", "rl_zoo.cli", "train", "--no-progress", "--eval-episodes", "2"]


def _env(tmp_path: Path) -> dict:
    # a private compilation cache: the three processes share it, the user's is not touched
    return dict(os.environ, XDG_CACHE_HOME=str(tmp_path / "cache"), JAX_PLATFORMS="cpu")



def _checkpoint_leaves(run_dir: Path) -> list[np.ndarray]:
    return checkpoint.read(checkpoint.latest(run_dir))[0]


@pytest.mark.parametrize(
    "algo,args",
    [
        pytest.param("ppo", ["--total-steps", "40960", "--evals", "40", "--seeds", "2"], marks=pytest.mark.slow),  # 12 s; test_run_directory resumes after a damaged checkpoint in the default run
        pytest.param("dqn", ["--total-steps", "16384", "--evals", "32", "--set", "learning_starts=512"], marks=pytest.mark.slow),
    ],
)
def test_resume_after_sigkill_is_bit_identical(tmp_path, algo, args, seed_offset):
    cmd = RUN + ["--algo", algo, "--env", "CartPole-v1", "--seed", str(seed_offset)] + args
    ref = tmp_path / "ref"
    subprocess.run(cmd + ["--out", str(ref)], check=True, env=_env(tmp_path), capture_output=True)

    run = tmp_path / "run"
    proc = subprocess.Popen(cmd + ["--out", str(run)], env=_env(tmp_path), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 300
    while not checkpoint.list_checkpoints(run) and proc.poll() is None and time.time() < deadline:
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert checkpoint.list_checkpoints(run), "no checkpoint was written before the kill"
    assert not (run / "summary.json").exists(), "the run finished before it could be killed"
    killed_at = int(checkpoint._NAME.match(checkpoint.latest(run).name).group(1))

    out = subprocess.run(RUN + ["--resume", str(run)], check=True, env=_env(tmp_path), capture_output=True, text=True)
    assert "resuming" in out.stdout

    ref_rows, run_rows = runs.read_csv(ref / "metrics.csv"), runs.read_csv(run / "metrics.csv")
    assert metrics_rows(run_rows) == metrics_rows(ref_rows)  # kept, none duplicated, same values
    ref_leaves, run_leaves = _checkpoint_leaves(ref), _checkpoint_leaves(run)
    assert len(ref_leaves) == len(run_leaves)
    for a, b in zip(ref_leaves, run_leaves):
        np.testing.assert_array_equal(a, b)
    assert killed_at < int(checkpoint._NAME.match(checkpoint.latest(run).name).group(1))


@pytest.mark.slow  # 10 s in the parallel default run; kept under -m slow to hold the default run under 3 minutes
def test_same_seed_same_metrics_different_seed_different(tmp_path, seed_offset):
    kw = dict(total_steps=5120, num_evals=2, eval_episodes=2, progress=False, log=lambda s: None)
    a = train("ppo", "CartPole-v1", out=tmp_path / "a", seed=seed_offset, **kw)
    b = train("ppo", "CartPole-v1", out=tmp_path / "b", seed=seed_offset, **kw)
    c = train("ppo", "CartPole-v1", out=tmp_path / "c", seed=seed_offset + 1, **kw)
    rows = {k: metrics_rows(runs.read_csv(r.run_dir / "metrics.csv")) for k, r in dict(a=a, b=b, c=c).items()}
    assert rows["a"] == rows["b"]
    assert [r[2:] for r in rows["a"][1:]] != [r[2:] for r in rows["c"][1:]]
    for x, y in zip(jax.tree.leaves(a.final_state.params), jax.tree.leaves(b.final_state.params)):
        np.testing.assert_array_equal(np.asarray(x), np.asarray(y))


def _register_poisoned_ppo(monkeypatch, name: str, poison) -> None:
    """Register algorithm ``name``: PPO whose every update passes through ``poison(state, new_state,
    metrics) -> (new_state, metrics)`` (``state`` is the update's input), to exercise the NaN guard."""
    from rl_zoo.algos import ppo

    module_name = name.replace("-", "_")
    module = types.ModuleType(module_name)
    module.Config = ppo.Config

    def make_agent(config, env, env_params):
        agent = ppo.make_agent(config, env, env_params)

        def update(state):
            return poison(state, *agent.update(state))

        return agent._replace(update=update)

    module.make_agent = make_agent
    monkeypatch.setitem(algos.ALGOS, name, (module_name, {}, "test"))
    monkeypatch.setitem(sys.modules, module_name, module)


def test_nan_guard_stops_names_update_and_keeps_last_good_checkpoint(tmp_path, monkeypatch, seed_offset):
    def nan_loss_from_update_11(state, new, metrics):
        poisoned = jax.numpy.where(state.update_step >= 10, jax.numpy.nan, metrics.value_loss)
        return new, metrics._replace(value_loss=poisoned)

    _register_poisoned_ppo(monkeypatch, "nan-ppo", nan_loss_from_update_11)
    with pytest.raises(NonFiniteError, match=rf"update 11 \(env step 2,816\) of seed {seed_offset}: value_loss = nan") as err:
        train("nan-ppo", "CartPole-v1", seed=seed_offset, total_steps=40 * 256, overrides={"num_steps": 32}, num_evals=10, eval_episodes=1,
              out=tmp_path / "r", progress=False, log=lambda s: None)
    good = checkpoint.latest(tmp_path / "r")
    assert good is not None and good.name == "ckpt_000000008.msgpack" and str(good) in str(err.value)
    rows = runs.read_csv(tmp_path / "r" / "metrics.csv")
    assert max(int(r["env_steps"]) for r in rows) == 8 * 256
    assert all(np.isfinite(x).all() for x in _checkpoint_leaves(tmp_path / "r") if np.issubdtype(x.dtype, np.floating))
    # the folder says it diverged: `rl-zoo plot` labelled it "stopped", a Ctrl-C'd run's word
    record = json.loads((tmp_path / "r" / runs.DIVERGED).read_text())
    assert record["message"] == str(err.value) and record["evaluated_up_to"] == 8 * 256
    from rl_zoo.compare import unfinished_words

    config = json.loads((tmp_path / "r" / "config.json").read_text())
    metrics = runs.read_metrics(tmp_path / "r" / "metrics.csv")
    assert unfinished_words(tmp_path / "r", config, metrics) == ", diverged: evaluated up to 2,048 of 10,240 env steps"
    later = metrics + [dict(metrics[-1], env_steps=9 * 256)]  # a resume that got further, then was stopped
    assert unfinished_words(tmp_path / "r", config, later) == ", stopped: evaluated up to 2,304 of 10,240 env steps"


def test_nan_guard_catches_a_parameter_that_turns_non_finite_with_finite_metrics(tmp_path, monkeypatch, seed_offset):
    """The segment program returns whether each seed's parameters are finite: parameters poisoned by the
    last update of the second segment (its metrics, computed before, all finite) stop the run there."""
    def nan_params_after_update_8(state, new, metrics):
        poison = jax.numpy.where(state.update_step == 7, jax.numpy.nan, 1.0)  # update 8 of 8
        return new._replace(params=jax.tree.map(lambda x: x * poison, new.params)), metrics

    _register_poisoned_ppo(monkeypatch, "nan-params-ppo", nan_params_after_update_8)
    with pytest.raises(NonFiniteError, match=rf"in this segment of seed {seed_offset}: parameter .* is not finite") as err:
        train("nan-params-ppo", "CartPole-v1", seed=seed_offset, total_steps=8 * 256, overrides={"num_steps": 32}, num_evals=2, eval_episodes=1,
              out=tmp_path / "r", progress=False, log=lambda s: None)
    good = checkpoint.latest(tmp_path / "r")  # after the first segment of 4 updates
    assert good is not None and good.name == "ckpt_000000004.msgpack" and str(good) in str(err.value)
    assert all(np.isfinite(x).all() for x in _checkpoint_leaves(tmp_path / "r") if np.issubdtype(x.dtype, np.floating))


def test_absurd_learning_rate_is_caught_by_the_guard(tmp_path, seed_offset):
    with pytest.raises(NonFiniteError, match=rf"update 1 .* of seed {seed_offset}: policy_loss"):
        train("ppo", "CartPole-v1", seed=seed_offset, total_steps=2560, overrides={"learning_rate": 1e30}, num_evals=2, eval_episodes=1,
              out=tmp_path / "r", progress=False, log=lambda s: None)


# --- validation: random, partly invalid configs ------------------------------------------------

_VALUES = st.one_of(
    st.integers(-3, 300).map(str),
    st.floats(-2.0, 2.0).map(repr),
    st.sampled_from(["true", "false", "tanh", "relu", "clip", "kl", "x", "", "1e-3", "0", "-1", "1e9", "nan", "inf", "-inf"]),
)


def _algo_fields(name):
    module, _ = algos.get(name)
    return {f.name: str(f.default) for f in dataclasses.fields(module.Config) if f.name != "total_timesteps"}


def _scaled(default: str) -> st.SearchStrategy[str]:
    """Values near a field's default: mostly valid, sometimes not (0, negative)."""
    try:
        x = float(default)
    except ValueError:
        return st.just(default)
    is_int = default.lstrip("-").isdigit()
    return st.sampled_from([0.5, 1.0, 2.0, 0.0, -1.0]).map(lambda f: str(int(x * f)) if is_int else repr(x * f))


def _config_refused_clearly_or_starts(name: str, env_id: str, overrides: dict[str, str]) -> str:
    """``"refused"`` (a ConfigError / ValueError naming an overridden field, or DQN's refusal of a continuous
    env) or ``"started"`` (the agent builds and its init and update trace); anything else fails."""
    import envs

    try:
        module, config = resolve_config(name, env_id, overrides)
        env, params = envs.make(env_id)
        if hasattr(module, "check_env"):
            module.check_env(env, params)
    except (ConfigError, ValueError) as e:
        message = str(e)
        assert any(f in message for f in list(overrides) + ["DQN"]), message
        return "refused"
    agent = module.make_agent(config, env, params)
    state = jax.eval_shape(agent.init, jax.random.key(0))
    jax.eval_shape(agent.update, state)
    return "started"


@pytest.mark.parametrize("name, env_id, overrides, expected", [
    ("ppo", "CartPole-v1", {"learning_rate": "0.001", "total_timesteps": "20000"}, "started"),
    ("dqn", "CartPole-v1", {"gamma": "0.5", "total_timesteps": "20000"}, "started"),
    ("trpo", "Pendulum-v1", {"max_kl": "0.02", "total_timesteps": "20000"}, "started"),
    ("ppo", "CartPole-v1", {"learning_rate": "0.0", "total_timesteps": "20000"}, "refused"),  # must be > 0
    ("vpg", "CartPole-v1", {"hidden_size": "x", "total_timesteps": "20000"}, "refused"),  # not an int
    ("ppo", "CartPole-v1", {"max_grad_norm": "inf", "total_timesteps": "20000"}, "refused"),  # not finite
    ("trpo", "CartPole-v1", {"max_kl": "inf", "total_timesteps": "20000"}, "refused"),
    ("ppo-kl", "CartPole-v1", {"gamma": "0.99", "total_timesteps": "-5"}, "refused"),
    ("dqn", "Pendulum-v1", {"gamma": "0.99", "total_timesteps": "20000"}, "refused"),  # DQN needs discrete actions
])
def test_a_config_is_refused_clearly_or_starts(name, env_id, overrides, expected):
    """Each branch of the property below, on a config known to take it."""
    assert _config_refused_clearly_or_starts(name, env_id, overrides) == expected


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True)
@given(data=st.data())
def test_random_configs_are_refused_clearly_or_start(data):
    name = data.draw(st.sampled_from(["ppo", "ppo-kl", "vpg", "trpo", "dqn"]))
    env_id = data.draw(st.sampled_from(["CartPole-v1", "Pendulum-v1"]))
    defaults = _algo_fields(name)
    fields = data.draw(st.lists(st.sampled_from(sorted(defaults)), min_size=1, max_size=3, unique=True))
    overrides = {f: data.draw(st.one_of(_scaled(defaults[f]), _VALUES)) for f in fields}
    overrides["total_timesteps"] = data.draw(st.sampled_from(["20000", "20000", "100", "0", "-5", "4096.5"]))
    event(_config_refused_clearly_or_starts(name, env_id, overrides))


def _cli_error_or_start(seeds, steps, algo, env_id, root, monkeypatch, capsys) -> str:
    """``"started"`` (the command reached the runner, which is stubbed to exit 0 there, so nothing trains)
    or ``"refused"`` (exit code 2 and an error line, no traceback); anything else fails."""
    from rl_zoo.cli import main
    from rl_zoo.driver.jax_runner import JaxRunner

    started = []
    monkeypatch.setattr(JaxRunner, "run", lambda self, ctx, recorder, resume: started.append(ctx) or (_ for _ in ()).throw(SystemExit(0)))
    argv = ["train", "--algo", algo, "--env", env_id, "--seeds", seeds, "--total-steps", steps, "--runs-root", str(root), "--no-progress"]
    try:
        code = main(argv)
    except SystemExit as e:
        code = e.code
    err = capsys.readouterr().err
    if started:
        assert code == 0
        return "started"
    assert code == 2 and ("error" in err), err
    assert "Traceback" not in err
    return "refused"


@pytest.mark.parametrize("seeds, steps, algo, env_id, expected", [
    ("1", "4096", "ppo", "CartPole-v1", "started"),
    ("3", "4096", "trpo", "Pendulum-v1", "started"),
    ("x", "4096", "ppo", "CartPole-v1", "refused"),
    ("1", "-1", "ppo", "CartPole-v1", "refused"),
    ("1", "4096", "nope", "CartPole-v1", "refused"),
    ("1", "4096", "ppo", "CartPol-v1", "refused"),
    ("1", "4096", "dqn", "Pendulum-v1", "refused"),
])
def test_cli_arguments_get_a_clear_error_or_start(seeds, steps, algo, env_id, expected, tmp_path, monkeypatch, capsys):
    """Each branch of the property below, on arguments known to take it."""
    assert _cli_error_or_start(seeds, steps, algo, env_id, tmp_path, monkeypatch, capsys) == expected


@settings(max_examples=30, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    seeds=st.sampled_from(["1", "0", "-2", "x", "3"]),
    steps=st.sampled_from(["4096", "0", "-1", "abc", "1e3"]),
    algo=st.sampled_from(["ppo", "dqn", "nope", "trpo"]),
    env_id=st.sampled_from(["CartPole-v1", "Pendulum-v1", "CartPol-v1"]),
)
def test_random_cli_arguments_get_a_clear_error_or_start(seeds, steps, algo, env_id, tmp_path_factory, monkeypatch, capsys):
    event(_cli_error_or_start(seeds, steps, algo, env_id, tmp_path_factory.mktemp("runs"), monkeypatch, capsys))


# --- atomic writes -----------------------------------------------------------------------------

WRITER = r"""
import sys
from rl_zoo.runs import atomic_write_bytes
path = sys.argv[1]
blocks = [b"A" * 4_000_000, b"B" * 4_000_000]
i = 0
print("ready", flush=True)
while True:
    atomic_write_bytes(path, blocks[i % 2])
    i += 1
"""


def test_killed_writer_leaves_old_or_new_file_complete(tmp_path):
    target = tmp_path / "results.csv"
    target.write_bytes(b"A" * 4_000_000)
    rng = np.random.default_rng(0)
    for _ in range(5):
        proc = subprocess.Popen([sys.executable, "-c", WRITER, str(target)], stdout=subprocess.PIPE)
        proc.stdout.readline()
        time.sleep(float(rng.uniform(0.05, 0.3)))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        data = target.read_bytes()
        assert len(data) == 4_000_000 and data in (b"A" * 4_000_000, b"B" * 4_000_000)


@pytest.mark.parametrize("updates, segment_ends", [
    (11, [3, 6, 9, 11]),  # ~4 evaluations, none of 2 to 8 dividing 11: segments of ceil(11/4) = 3 and a last one of 2
    pytest.param(13, [4, 8, 12, 13], marks=pytest.mark.slow),  # segments of 4 and a last, shorter one of 1 (slow: 5 s)
])
def test_uneven_last_segment_runs_every_update_once(tmp_path, updates, segment_ends, seed_offset):
    # the last segment comes from the same compiled program as the others, told how many updates to apply.
    # 1 env x 4 steps per update: most CartPole updates end no episode (their episode return is NaN, not 0);
    # the NaN guard lets them pass, and train_return is the last ended episode's return (NaN before any).
    r = train("ppo", "CartPole-v1", seed=seed_offset, total_steps=updates * 4, overrides={"num_envs": 1, "num_steps": 4, "num_minibatches": 1},
              num_evals=4, eval_episodes=1, out=tmp_path / "run", progress=False, log=lambda s: None)
    rows = runs.read_csv(r.run_dir / "metrics.csv")
    steps = sorted({int(row["env_steps"]) for row in rows})
    assert steps == [0] + [4 * u for u in segment_ends]
    assert np.all(np.asarray(r.final_state.update_step) == updates)
    train_returns = np.array([float(row["train_return"]) for row in rows])
    assert np.isnan(train_returns[0])  # before any update
    ended = np.isfinite(train_returns)
    assert np.all(train_returns[ended] >= 8)  # a CartPole episode lasts at least 8 steps; never a 0 for "none ended"
    assert list(ended) == sorted(ended)  # once an episode has ended, its return is kept until the next one ends
