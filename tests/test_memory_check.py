"""A run that cannot fit in memory is refused before its run directory is made (rl_zoo.driver.memory): on the CPU
XLA aborted the process on the failed allocation (exit 134, a C++ stack trace) and left a run directory holding
only its config.json, for ``--eval-episodes 3000000000`` and ``--seeds 300000000``."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import pytest

from rl_zoo.cli import main
from rl_zoo.config import ConfigError
from rl_zoo.driver import memory
from rl_zoo.driver.spec import new_spec
from rl_zoo.train import train


def test_tree_bytes_and_size_text_on_hand_worked_values():
    tree = {"a": jax.ShapeDtypeStruct((3,), jnp.float32), "b": jnp.zeros((2, 5), jnp.int8), "k": jax.random.key(1)}
    assert memory.tree_bytes(tree) == 3 * 4 + 2 * 5 + 8  # a threefry key holds two uint32
    assert [memory.size_text(n) for n in (36, 1024, 110_316, 3 * 2**30 // 2, 2**41)] == [
        "36 B", "1.0 KiB", "107.7 KiB", "1.5 GiB", "2.0 TiB"]


def test_the_lower_bound_counts_each_seed_and_each_evaluated_env_copy():
    """CartPole's env copy is its observation (4 float32) and its state (x, x_dot, theta, theta_dot float32 and the
    step count, int32): 16 + 20 = 36 bytes per evaluated episode; the training state once per seed."""
    spec, env, params, _ = new_spec("ppo", "CartPole-v1")
    agent = spec.module.make_agent(spec.config, env, params)
    one = memory.needed_bytes(agent, env, params, 1, 0)
    assert one > 0
    assert memory.needed_bytes(agent, env, params, 1, 1) - one == 36
    assert memory.needed_bytes(agent, env, params, 3, 7) == 3 * (one + 7 * 36)


@pytest.mark.parametrize("option", [{"eval_episodes": 10**12}, {"seeds": 300_000_000}])  # 36 TB, 30 TiB: over any host
def test_a_run_beyond_the_machines_memory_is_refused_before_its_run_directory(tmp_path, option):
    out = tmp_path / "run"
    with pytest.raises(ConfigError, match=r"this run needs at least .* of memory and .* is available"):
        train("ppo", "CartPole-v1", total_steps=1000, out=out, progress=False, log=lambda *_: None, **option)
    assert not out.exists()


def test_the_refusal_names_the_settings_and_what_to_ask_for(tmp_path, monkeypatch, capsys):
    """With 1 MiB available, 2 seeds x (Q-learning's 544 B state + 50,000 evaluated FrozenLake copies of 12 B: its
    observation, position and step count, int32 each) = 1.1 MiB is refused."""
    monkeypatch.setattr(memory, "available_bytes", lambda: 2**20)
    out = tmp_path / "run"
    assert main(["train", "--algo", "q-learning", "--env", "FrozenLake-v1", "--seeds", "2", "--eval-episodes", "50000",
                 "--total-steps", "1000", "--out", str(out), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert "is available: 2 seed(s) x (" in err and "--eval-episodes 50,000 x 12 B per evaluated env copy" in err
    assert "Ask for fewer --seeds or --eval-episodes" in err and not out.exists()
    monkeypatch.setattr(memory, "available_bytes", lambda: None)  # where it cannot be told, nothing is refused
    assert main(["train", "--algo", "q-learning", "--env", "FrozenLake-v1", "--seeds", "2", "--eval-episodes", "50000",
                 "--total-steps", "1000", "--out", str(out), "--no-progress"]) == 0


def test_a_gymnasium_backend_dqn_counts_its_replay_buffer(tmp_path, monkeypatch, capsys):
    """A gymnasium-backend run was not checked at all: DQN's buffer_size=2e9 (a JAX array whatever the backend)
    made a folder holding only its config.json, then failed allocating 32 GB. Its training state is counted
    (1e8 slots of CartPole's obs, next obs, action, reward and flags: GBs, over the 1 GiB let here); its env
    copies live in gymnasium and count nothing."""
    spec, env, params, _ = new_spec("dqn", "CartPole-v1", backend="gymnasium", total_steps=2000,
                                    overrides={"buffer_size": 100_000_000})
    agent = spec.module.make_agent(spec.config, env, params)
    state, episode = memory.seed_sizes(agent, env, params)
    assert state > 100_000_000 * 2 * 4 * 4 and episode == 0  # at least obs and next obs, 4 float32 each, per slot
    monkeypatch.setattr(memory, "available_bytes", lambda: 2**30)
    out = tmp_path / "run"
    assert main(["train", "--algo", "dqn", "--env", "CartPole-v1", "--backend", "gymnasium", "--total-steps", "2000",
                 "--set", "buffer_size=100000000", "--out", str(out), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert "this run needs at least" in err and f"is available: 1 seed(s) x ({memory.size_text(state)} of training state)." in err
    assert "buffer_size (DQN)" in err and not out.exists()


def test_a_resume_beyond_the_machines_memory_is_refused_before_it_changes_the_run(tmp_path, monkeypatch, capsys):
    """A resume never checked: a run moved to a smaller machine (here: 1 MiB left) wrote resumes.json, compiled, and
    died allocating (XLA's CPU aborts outright). Refused as a new run is, the run directory as it was."""
    out = tmp_path / "run"
    argv = ["train", "--algo", "q-learning", "--env", "FrozenLake-v1", "--seeds", "2", "--eval-episodes", "50000",
            "--total-steps", "1000", "--out", str(out), "--no-progress"]
    assert main(argv) == 0
    (out / "summary.json").unlink()  # a run stopped before its end: its checkpoints and metrics stay
    files = lambda: {p.name: (p.stat().st_mtime_ns, p.stat().st_size) for p in out.rglob("*") if p.name != ".lock"}  # noqa: E731
    before = files()
    monkeypatch.setattr(memory, "available_bytes", lambda: 2**20)
    assert main(["train", "--resume", str(out), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert "this run needs at least" in err and "is available: 2 seed(s) x (" in err and "compiled" not in err
    assert files() == before and not (out / "resumes.json").exists()


def test_a_sweep_beyond_the_machines_memory_is_refused_before_its_folder(tmp_path, capsys):
    """A sweep trains each group's configs x seeds at once: counted as such, and refused by --dry-run too."""
    out = tmp_path / "sweep"
    for dry in ([], ["--dry-run"]):
        assert main(["sweep", "--algo", "ppo", "--env", "CartPole-v1", "--grid", "learning_rate=1e-3,3e-4", "--seeds",
                     "100000000", "--total-steps", "1000", "--out", str(out), *dry]) == 2
        err = capsys.readouterr().err
        assert "this sweep needs at least" in err and "200,000,000 runs (2 config(s) x 100,000,000 seed(s))" in err
        assert not out.exists()


class _BranchingPole:
    """A user's env whose reset branches in Python on a params field (as a registered env may): the check's
    eval_shape traced the params as arguments, and the run failed with TracerBoolConversionError."""

    @staticmethod
    def make():
        from envs.classic_control.cartpole import CartPole

        class BranchingPole(CartPole):
            def reset_env(self, key, params):
                obs, state = super().reset_env(key, params)
                if params.length > 0.4:  # a concrete float where training holds it
                    return obs, state
                return obs * 0, state

        return BranchingPole()


def test_an_env_whose_reset_branches_on_its_params_is_measured_as_it_trains():
    from rl_zoo.algos import ppo

    env = _BranchingPole.make()
    params = env.default_params
    agent = ppo.make_agent(ppo.Config(total_timesteps=256, num_envs=2, num_steps=128, num_minibatches=2), env, params)
    assert memory.needed_bytes(agent, env, params, 1, 1) - memory.needed_bytes(agent, env, params, 1, 0) == 36
    memory.check_memory(agent, env, params, 1, 10)  # nothing to refuse, nothing raised


def test_the_first_process_short_of_memory_is_named():
    assert memory.short_process([(10, 20), (0, 0)]) is None  # enough; a process that could not tell
    assert memory.short_process([(10, 20), (30, 20), (40, 5)]) == (1, 30, 20)
