"""The command line: a short run writes a complete run directory; bad input is refused clearly."""

import json

import pytest

from rl_zoo import runs, train_command
from rl_zoo.config import ConfigError
from rl_zoo.cli import _build_parser, main


def test_train_writes_run_directory(tmp_path, capsys, seed_offset):
    out = tmp_path / "run"
    # the same programs as test_run_directory.py's reference run (compiled once per test session)
    code = main(["train", "--algo", "ppo", "--env", "CartPole-v1", "--seeds", "2", "--seed", str(seed_offset), "--total-steps", "2560",
                 "--evals", "5", "--eval-episodes", "1", "--out", str(out), "--no-progress"])
    assert code == 0
    printed = capsys.readouterr().out
    assert f"run written to {out}" in printed
    config = json.loads((out / "config.json").read_text())
    assert config["algo"] == "ppo" and config["config"]["total_timesteps"] == 2560
    assert config["config"]["num_steps"] == 32  # the tuned CartPole value from hyperparams/ppo.yaml
    assert "jax" in config["versions"] and "gymnasium" in config["versions"]
    rows = runs.read_csv(out / "metrics.csv")
    assert {r["seed"] for r in rows} == {str(seed_offset), str(seed_offset + 1)}
    assert len(rows) == 2 * 6  # evaluations at 0 and after each of 5 segments, per seed
    assert [int(r["env_steps"]) for r in rows[-2:]] == [2560, 2560]
    summary = json.loads((out / "summary.json").read_text())
    assert len(summary["final_return"]) == 2 and summary["env_steps_per_seed"] == 2560
    assert summary["compile_s"] > 0 and summary["steps_per_s"] > 0
    assert (out / "curve.png").stat().st_size > 1000
    assert "asked" not in printed  # 2560 env steps are 10 whole updates of 8 x 32: no rounding note


def test_vector_env_on_a_jax_env_is_said_not_to_apply():
    from rl_zoo.driver.spec import new_spec

    spec, *_, note = new_spec("ppo", "CartPole-v1", devices=1, vector_env="async")  # resolves and validates; compiles nothing
    assert note.startswith("--vector-env async does not apply: CartPole-v1 runs on its JAX port")
    assert spec.vector_env == "sync" and spec.backend == "jax"  # config.json records what ran, not what was asked
    assert new_spec("ppo", "CartPole-v1", devices=1)[-1] is None  # not asked: nothing to say (devices=1: no device note)
    spec, *_, note = new_spec("ppo", "CartPole-v1", backend="gymnasium", vector_env="async")
    assert note is None and spec.vector_env == "async"
    with pytest.raises(ConfigError, match="--vector-env = 'threads' is invalid"):
        new_spec("ppo", "CartPole-v1", vector_env="threads")
    spec, *_, note = new_spec("ppo", "CartPole-v1", seeds=2, devices=2, backend="gymnasium")
    assert note.startswith("--devices 2 does not apply: CartPole-v1 runs on gymnasium envs") and spec.devices == 1


@pytest.mark.parametrize("asked, per_update, expected", [
    (20_000, 16_384, "20,000 env steps per seed asked, 16,384 run: 1 whole update(s) of 16,384 env steps"),
    (100_000, 256, None),  # 99,840 run: 0.16% dropped, under the 1% that earns a line
    (2_560, 256, None),
])
def test_a_run_that_drops_steps_says_so(asked, per_update, expected):
    from rl_zoo.driver.runner import whole_updates_note

    note = whole_updates_note(asked, asked // per_update, per_update)
    if expected is None:
        assert note is None
    else:
        assert note.startswith(expected)


def test_more_evaluations_than_updates_says_so(tmp_path, capsys, seed_offset):
    """--evals 100 on a 16-update run made 17 evaluations without a word."""
    from rl_zoo.driver.runner import evals_note

    assert evals_note(16, 16) is None and evals_note(10, 16) is None and evals_note(17, 16).startswith("--evals 17 asked, 16 made")
    assert main(["train", "--total-steps", "4096", "--evals", "100", "--out", str(tmp_path / "r"), "--no-progress",
                 "--seed", str(seed_offset)]) == 0
    out = capsys.readouterr().out
    assert "--evals 100 asked, 16 made: a run evaluates at most once per update, and this one runs 16 (plus the evaluation at " \
        "the start)" in out and "the last 5 of 17 evaluations" in out


def test_existing_run_directory_is_not_overwritten(tmp_path, capsys):
    out = tmp_path / "run"
    out.mkdir()
    (out / "keep.txt").write_text("precious")
    assert main(["train", "--total-steps", "256", "--out", str(out), "--no-progress"]) == 2
    assert "already exists" in capsys.readouterr().err
    assert (out / "keep.txt").read_text() == "precious"
    assert sorted(p.name for p in out.iterdir()) == ["keep.txt"]


@pytest.mark.parametrize(
    "argv,message",
    [
        (["train", "--algo", "ppx"], "Known algorithms: ppo"),
        (["train", "--env", "CartPol-v1"], "CartPole-v1"),
        (["train", "--set", "learnin_rate=0.1"], "valid fields"),
        (["train", "--set", "num_minibatches=3"], "num_minibatches"),
        (["train", "--set", "learning_rate=-1"], "learning_rate"),
        (["train", "--set", "num_envs=two"], "num_envs"),
        (["train", "--set", "gamma"], "key=value"),
        (["train", "--set", "learning_rate=1e-3", "--set", "learning_rate=2e-3"], "--set learning_rate is given twice (1e-3 and 2e-3)"),
        (["train", "--algo", "PPO"], "Did you mean ppo"),
        (["train", "--env", "CartPol-v1", "--total-steps", "1000"], "Did you mean: CartPole-v1"),  # before the budget's error
        (["train", "--seeds", "0"], "seeds"),
        (["train", "--evals", "0"], "--evals = 0 is invalid"),
        (["train", "--eval-episodes", "0"], "--eval-episodes = 0 is invalid"),
        # the algorithm as typed, not its module ("for q_learning" of --algo double-q-learning)
        (["train", "--algo", "double-q-learning", "--env", "FrozenLake-v1", "--set", "alpha=1"],
         "unknown config field 'alpha' for double-q-learning; valid fields: "),
        (["train", "--env", "Blackjack-v1", "--backend", "gymnasium"],  # gymnasium's Tuple space; the port's is Discrete
         "rl_zoo handles Discrete and Box spaces; got Tuple"),
        # seeds are int32 in the programs: 2**31 - 1 and the next one wrapped to -2**31 (or a traceback)
        (["train", "--seed", "2147483647", "--seeds", "2"], "--seed = 2147483647 is invalid: seeds must lie in -2,147,483,648 .. 2,147,483,647"),
        (["train", "--seed", "-2147483649"], "--seed = -2147483649 is invalid"),  # negative seeds in int32 are valid
    ],
)
def test_bad_input_is_refused_before_compiling(argv, message, tmp_path, capsys):
    assert main(argv + ["--runs-root", str(tmp_path), "--no-progress"]) == 2
    assert message in capsys.readouterr().err
    assert not any(tmp_path.iterdir())  # nothing was created


@pytest.mark.parametrize("argv, message", [
    (["--updates", "0"], "--updates: config field 'num_updates' = 0 is invalid"),
    (["--algo", "dpo"], "--algo: config field 'algo' = 'dpo' is invalid: must be one of"),
    (["--beta", "inf"], "--beta: config field 'beta' = inf is invalid: must be a finite number"),
    (["--seeds", "0"], "--seeds = 0 is invalid: must be at least 1"),  # as train, sweep and benchmark say it
])
def test_rlhf_names_the_flag_of_a_refused_field(argv, message, tmp_path, capsys):
    assert main(["rlhf", "--small", *argv, "--out", str(tmp_path / "out")]) == 2
    assert message in capsys.readouterr().err
    assert not any(tmp_path.iterdir())


@pytest.mark.parametrize("argv, message", [
    (["sweep", "--grid", "clip_eps=0.1,0.2", "--seed", "3000000000"], "--seed = 3000000000 is invalid"),
    (["sweep", "--sample", "2", "--range", "gamma=0.9:0.99", "--sample-seed", "-1"], "--sample-seed = -1 is invalid: must be in 0 .."),
    (["rlhf", "--small", "--seed", "3000000000"], "asked for 3000000000 to 3000000002"),  # was an OverflowError traceback
    (["benchmark", "--algos", "ppo", "--envs", "CartPole-v1", "--seed", "2147483640"], "asked for 2147483640 to 2147483649"),
])
def test_seeds_out_of_int32_are_refused_by_every_command(argv, message, tmp_path, capsys):
    assert main(argv + ["--out", str(tmp_path / "out")]) == 2
    assert message in capsys.readouterr().err
    assert not any(tmp_path.iterdir())


@pytest.mark.parametrize("algo, field, value, other", [
    ("ppo-kl", "loss", "clip", "ppo"), ("ppo", "loss", "kl", "ppo-kl"), ("double-dqn", "double", "false", "dqn"),
    ("dqn", "double", "true", "double-dqn"), ("q-learning", "double", "true", "double-q-learning"),
])
def test_a_set_that_turns_one_algorithm_into_another_is_refused(algo, field, value, other, tmp_path, capsys):
    """--algo ppo-kl --set loss=clip trained PPO, with ppo-kl's tuned values, labelled ppo-kl everywhere."""
    env = "FrozenLake-v1" if "q-learning" in algo else "CartPole-v1"
    assert main(["train", "--algo", algo, "--env", env, "--set", f"{field}={value}", "--total-steps", "5000",
                 "--out", str(tmp_path / "run")]) == 2
    err = capsys.readouterr().err
    assert f"--algo {algo} with {field}=" in err and f"is {other}: use the algorithm name {other}" in err
    assert not any(tmp_path.iterdir())


@pytest.mark.parametrize("field, instead", [("eval_max_steps", "the env's time limit"), ("eval_episodes", "--eval-episodes"),
                                           ("num_evals", "--evals")])
def test_a_field_only_make_train_reads_is_refused_by_train(field, instead, tmp_path, capsys):
    """Q-learning's evaluation fields drive its standalone make_train; rl-zoo train evaluated as its flags say,
    and --set eval_max_steps=50 or eval_episodes=0 changed nothing without a word."""
    assert main(["train", "--algo", "q-learning", "--env", "CliffWalking-v1", "--set", f"{field}=5", "--total-steps", "2000",
                 "--out", str(tmp_path / "run")]) == 2
    assert f"--set {field}: q-learning's {field} is read by its make_train only" in (err := capsys.readouterr().err) and instead in err
    assert not any(tmp_path.iterdir())


@pytest.mark.parametrize(
    "argv",
    [
        ["train", "--total-steps", "256", "--no-progress", "--out"],
        ["train", "--total-steps", "256", "--no-progress", "--runs-root"],
        ["benchmark", "--algos", "ppo", "--envs", "CartPole-v1", "--total-steps", "256", "--out"],
        ["sweep", "--algo", "ppo", "--env", "CartPole-v1", "--grid", "gamma=0.9,0.99", "--total-steps", "256", "--out"],
        ["rlhf", "--small", "--out"],
        ["train", "--total-steps", "256", "--no-progress", "--tensorboard"],
    ],
)
def test_an_output_folder_below_a_file_is_refused_before_anything_runs(argv, tmp_path, capsys, monkeypatch):
    """A file where a folder must go (``--out results.csv/run``) is one line naming the option and the
    file, not a traceback from ``mkdir`` after the work began; the file is untouched. So is a folder no
    file can be made in although its permissions allow it (a read-only mount, /sys or /proc as root: it
    was a bare ``[Errno 1]`` naming no option)."""
    import tempfile

    blocker = tmp_path / "results.csv"
    blocker.write_text("precious")
    for out, said in ((blocker / "run", "is a file, so no folder can be made below it"), (blocker, "it is a file, not a folder")):
        assert main(argv + [str(out)]) == 2
        err = capsys.readouterr().err
        assert err.startswith(f"rl-zoo: error: {argv[-1]} '{out}'") and said in err, err
    monkeypatch.chdir(tmp_path)  # the default --runs-root too lies in the folder no file can be made in

    def read_only(*args, **kwargs):
        raise OSError(30, "Read-only file system")

    with monkeypatch.context() as m:
        m.setattr(tempfile, "NamedTemporaryFile", read_only)
        assert main(argv + [str(tmp_path / "run")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("rl-zoo: error: --") and f"the folder {str(tmp_path)!r} is not writable" in err, err
    assert blocker.read_text() == "precious" and sorted(p.name for p in tmp_path.iterdir()) == ["results.csv"]
    dangling = tmp_path / "dangling"  # a link to no folder: "[Errno 17] File exists" from mkdir, naming no option (and
    # --runs-root there tried run names -2, -3, ... for ever)
    dangling.symlink_to(tmp_path / "gone")
    for out in (dangling, dangling / "run"):
        assert main(argv + [str(out)]) == 2
        err = capsys.readouterr().err
        assert err.startswith(f"rl-zoo: error: {argv[-1]} '{out}': '{dangling}' is a link to '{tmp_path / 'gone'}', which "
                              f"does not exist; make that folder first, or give another"), err
    assert not (tmp_path / "gone").exists()


def test_resuming_a_file_or_a_missing_folder_says_which(tmp_path, capsys):
    (tmp_path / "metrics.csv").write_text("step\n")
    assert main(["train", "--resume", str(tmp_path / "metrics.csv")]) == 2
    assert "it is a file, not a run directory" in capsys.readouterr().err
    assert main(["train", "--resume", str(tmp_path / "gone")]) == 2
    assert "no such directory" in capsys.readouterr().err


def test_help_lists_config_fields(capsys):
    with pytest.raises(SystemExit):
        main(["train", "--help"])
    text = capsys.readouterr().out
    assert "clip_eps = 0.2" in text and "Clip range" in text
    # the values the default command runs: CartPole-v1's tuned ones, marked, beside the untuned default
    assert "total_timesteps = 100000  (tuned; default 1000000)" in text and "num_steps = 32  (tuned; default 128)" in text
    with pytest.raises(SystemExit):
        main(["train", "--algo", "dqn", "--env", "Pendulum-v1", "--help"])
    text = capsys.readouterr().out
    assert "dqn.yaml tunes nothing for Pendulum-v1" in text and "total_timesteps = 500000\n" in text
    with pytest.raises(SystemExit):  # tabular: not the default CartPole-v1, which it refuses, but FrozenLake-v1
        main(["train", "--algo", "q-learning", "--help"])
    text = capsys.readouterr().out
    assert "`rl-zoo train --algo q-learning --env FrozenLake-v1` runs them" in text
    assert "not on the default --env CartPole-v1" in text and "total_timesteps = 200000  (tuned)" in text


def test_help_lists_the_fields_of_an_algo_given_with_an_abbreviated_flag(capsys):
    """argparse takes ``--alg dqn`` for ``--algo dqn`` (and trains DQN): ``--help`` listed PPO's fields."""
    from rl_zoo.cli import _build_parser
    from rl_zoo.train_command import help_fields_for

    train = _build_parser(None).subcommands["train"]
    assert [o for a in train._actions for o in a.option_strings if o.startswith("--a")] == ["--algo"]  # unambiguous
    for argv in (["--alg", "dqn"], ["--al=dqn"], ["--a", "dqn"], ["--algo", "dqn"]):
        assert help_fields_for(["train", *argv, "--help"]) == ("dqn", "CartPole-v1"), argv
    with pytest.raises(SystemExit):
        main(["train", "--alg", "dqn", "--help"])
    assert "config fields of 'dqn'" in capsys.readouterr().out


def test_envs_and_algos_listing(capsys):
    assert main(["envs"]) == 0
    text = capsys.readouterr().out
    assert "CartPole-v1" in text and "jax" in text and "Discrete(2)" in text
    assert "`rl-zoo envs --all` lists those installed" in text  # where LunarLander and MuJoCo are
    assert main(["algos"]) == 0
    assert "ppo-kl" in capsys.readouterr().out


@pytest.mark.parametrize("command", ["train", "sweep"])
def test_config_given_twice_is_refused(command, capsys):
    """argparse kept the last --config: the first file was not read, where the two were meant to be layered."""
    with pytest.raises(SystemExit) as exit_:
        main([command, "--config", "a.yaml", "--config", "b.yaml"])
    assert exit_.value.code == 2 and "--config given twice (a.yaml and b.yaml): give it once" in capsys.readouterr().err


def test_help_lists_the_fields_of_the_algorithm_that_would_run(capsys):
    """``--algo dqn --algo ppo --help`` listed DQN's fields, where argparse runs the last one given (PPO); ``--hel``
    is --help to argparse, which printed it without the algorithm's fields."""
    with pytest.raises(SystemExit):
        main(["train", "--algo", "dqn", "--algo", "ppo", "--env", "Acrobot-v1", "--env=CartPole-v1", "--help"])
    out = capsys.readouterr().out
    assert "config fields of 'ppo' as `rl-zoo train --algo ppo --env CartPole-v1` runs them" in out
    with pytest.raises(SystemExit):
        main(["train", "--algo", "dqn", "--hel"])
    assert "config fields of 'dqn'" in capsys.readouterr().out


def test_an_unknown_option_is_refused_with_the_subcommand_usage_and_the_nearest_names(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["train", "--steps", "10", "--no-progress"])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("usage: rl-zoo train") and "--total-steps" in err.splitlines()[-1]
    assert "unrecognized arguments: --steps 10." in err and "did you mean --seeds or --total-steps?" in err
    with pytest.raises(SystemExit):
        main(["sweep", "--foo"])
    assert "did you mean" not in capsys.readouterr().err  # nothing close to --foo: no guess
    # the flags' values typed without the flags: named as the flags they belong to
    with pytest.raises(SystemExit):
        main(["train", "ppo", "CartPole-v1"])
    assert "ppo: did you mean --algo ppo? CartPole-v1: did you mean --env CartPole-v1?" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["train", "foo"])
    assert "did you mean" not in capsys.readouterr().err
    with pytest.raises(SystemExit):  # benchmark's lists: no hint at all
        main(["benchmark", "ppo,dqn", "CartPole-v1"])
    assert "ppo,dqn: did you mean --algos ppo,dqn? CartPole-v1: did you mean --envs CartPole-v1?" in capsys.readouterr().err
    with pytest.raises(SystemExit):  # train takes one algorithm: a list is no --algo
        main(["train", "ppo,dqn"])
    assert "did you mean" not in capsys.readouterr().err
    # rlhf has no --env and RL updates of its own: `rlhf dqn` was told "did you mean --algo dqn?", then refused
    for word, hint in (("CartPole-v1", None), ("dqn", None), ("grpo", "grpo: did you mean --algo grpo?")):
        with pytest.raises(SystemExit):
            main(["rlhf", word])
        err = capsys.readouterr().err
        assert (hint in err) if hint else "did you mean" not in err


@pytest.mark.parametrize("metrics, config, message", [
    ("env_steps,return\n1,abc\n", None, "has the columns ['env_steps', 'return']"),
    ("env_steps,wall_s,seed,return,train_return\n", None, "has no evaluation rows yet"),
    ("env_steps,wall_s,seed,return,train_return\n0,0.1,0,x,9.0\n", None, "line 2: return = 'x' is not a number"),
    ("env_steps,wall_s,seed,return,train_return\n256.0,0.1,0,1.0,9.0\n", None, "line 2: env_steps = '256.0' is not a whole number"),
    ("env_steps,wall_s,seed,return,train_return\n0,0.1,0,10.0,9.0\n", "{bad", "config.json: is not valid JSON"),
])
def test_plot_of_a_damaged_run_directory_says_which_file(metrics, config, message, tmp_path, capsys):
    (tmp_path / "metrics.csv").write_text(metrics)
    if config is not None:
        (tmp_path / "config.json").write_text(config)
    assert main(["plot", str(tmp_path)]) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "curve.png").exists()


def test_plot_of_a_run_directory_draws_its_curve(tmp_path, capsys):
    (tmp_path / "metrics.csv").write_text("env_steps,wall_s,seed,return,train_return\n0,0.1,0,10.0,9.0\n512,0.2,0,20.0,15.0\n")
    assert main(["plot", str(tmp_path)]) == 0
    assert (tmp_path / "curve.png").stat().st_size > 0


def _recorded_run(folder, **kwargs):
    """A run directory's config.json alone (what --resume reads first), for a PPO CartPole run."""
    from rl_zoo.driver.spec import new_spec

    spec = new_spec("ppo", "CartPole-v1", **kwargs)[0]
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps(spec.to_json()))
    return folder


@pytest.mark.parametrize("flags, message", [
    (["--algo", "dqn", "--seeds", "4"], "drop --algo dqn (the run's: ppo), --seeds 4 (the run's: 2)"),
    (["--evals", "3"], "drop --evals 3 (the run's: 5)"),
    (["--env", "Acrobot-v1"], "drop --env Acrobot-v1 (the run's: CartPole-v1)"),
    (["--keep-checkpoints", "7"], "drop --keep-checkpoints 7 (the run's: 3)"),
    (["--runs-root", "elsewhere"], "drop --runs-root elsewhere (a resumed run stays in"),
    (["--seed", "0"], "drop --seed 0 (the run's: 3)"),  # the default value, given: it was ignored without a word
    (["--evals=10", "--algo", "ppo"], "drop --evals 10 (the run's: 5)\n"),  # --algo ppo agrees with the run: only --evals named
    (["--eval-ep", "10"], "drop --eval-episodes 10 (the run's: 4)"),  # an abbreviation, of the default value
])
def test_resume_refuses_flags_its_config_decides(flags, message, tmp_path, capsys):
    run = _recorded_run(tmp_path / "run", seeds=2, seed=3, num_evals=5, eval_episodes=4)
    assert main(["train", "--resume", str(run), *flags, "--no-progress"]) == 2
    assert message in capsys.readouterr().err


def test_total_steps_given_twice_is_refused(tmp_path, capsys):
    assert main(["train", "--set", "total_timesteps=5120", "--total-steps", "10240", "--runs-root", str(tmp_path)]) == 2
    assert "say the same thing twice" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_a_missing_optional_install_is_one_line_not_a_traceback(tmp_path, capsys, monkeypatch):
    import gymnasium

    def not_installed(*args, **kwargs):
        raise gymnasium.error.DependencyNotInstalled("No module named 'mujoco'")

    monkeypatch.setattr(gymnasium, "make", not_installed)
    assert main(["train", "--env", "Hopper-v5", "--runs-root", str(tmp_path), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("rl-zoo: error: Hopper-v5 needs MuJoCo") and '.[mujoco]' in err and "Traceback" not in err
    assert list(tmp_path.iterdir()) == []


def test_an_env_the_algorithm_cannot_run_on_is_said_before_a_config_error(tmp_path, capsys):
    """DQN on Pendulum with 500 steps was told learning_starts 1000 must be below 500, and only after a
    fix of that, that DQN cannot run on Pendulum at all."""
    assert main(["train", "--algo", "dqn", "--env", "Pendulum-v1", "--total-steps", "500", "--runs-root", str(tmp_path)]) == 2
    assert capsys.readouterr().err.startswith("rl-zoo: error: DQN cannot run on Pendulum-v1")
    assert list(tmp_path.iterdir()) == []


def test_a_compilation_cache_folder_that_cannot_be_made_leaves_the_cache_off(tmp_path, monkeypatch, capsys):
    """A read-only home (containers, HPC) stopped every training command with a bare ``[Errno 30]``: the
    cache only saves time, so it is left off with a note. (A file where the folder should be fails the
    same way, as root too.)"""
    import jax

    from rl_zoo.train import enable_compilation_cache

    (tmp_path / "cache").write_text("a file, not a folder")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("RL_ZOO_NO_CACHE", raising=False)
    before = jax.config.jax_compilation_cache_dir
    assert enable_compilation_cache() is None
    assert jax.config.jax_compilation_cache_dir == before
    err = capsys.readouterr().err
    assert err.startswith("rl-zoo: note: the JAX compilation cache is off") and "XDG_CACHE_HOME" in err


def test_a_gymnasium_id_that_cannot_be_made_here_is_one_line_not_a_traceback(tmp_path, capsys):
    """gymnasium raises a plain ImportError for 22 registered ids (the MuJoCo v2/v3 ones: mujoco-py;
    GymV21Environment-v0: shimmy), which no extra of ours installs: it was a 25-line traceback."""
    import gymnasium

    try:
        gymnasium.make("HalfCheetah-v3")
    except ImportError as e:
        said = str(e)
    else:
        pytest.skip("HalfCheetah-v3 can be made here")
    assert main(["train", "--env", "HalfCheetah-v3", "--runs-root", str(tmp_path), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("rl-zoo: error: HalfCheetah-v3 cannot be made here: gymnasium's make raised ImportError")
    assert said in err and "rl-zoo envs --all" in err and "Traceback" not in err
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("flags", [["--out", ""], ["--runs-root", " "], ["--resume", ""]])
def test_an_empty_folder_name_is_refused(flags, tmp_path, capsys, monkeypatch):
    """``--out ""`` trained into the current folder ("run written to .")."""
    monkeypatch.chdir(tmp_path)
    assert main(["train", *flags, "--total-steps", "256", "--no-progress"]) == 2
    assert "is empty: name a folder" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("command", ["train", "rlhf"])
def test_runs_root_with_out_is_refused_not_ignored(command, tmp_path, capsys, monkeypatch):
    """``--out`` names the run directory: a ``--runs-root`` beside it was ignored without a word (exit 0)."""
    from rl_zoo.cli import RUNS_ROOT, _build_parser

    assert _build_parser(None).subcommands[command].get_default("runs_root") == RUNS_ROOT
    monkeypatch.chdir(tmp_path)
    assert main([command, "--out", "o1", "--runs-root", "elsewhere", "--no-progress"]) == 2
    assert "--out o1 names the run directory, --runs-root only where default ones go" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("kind", ["out of memory", "diverged", "another XLA error"])
def test_a_run_stopped_by_xla_or_the_nan_guard_ends_in_one_line_with_its_exit_code(kind, tmp_path, capsys, monkeypatch):
    """XLA failing to allocate (e.g. --eval-episodes 100000000: an evaluation plays its episodes at once) was a
    JAX traceback; now one line and exit 1 (and train says what the run keeps). The NaN guard's error is one
    line and exit 3 (the out-of-memory branch, first put before the RuntimeError one, turned it into a
    traceback). Any other XLA error keeps its traceback (a bug to see whole)."""
    import jax

    from rl_zoo.driver.guard import NonFiniteError, out_of_memory
    from rl_zoo.driver.jax_runner import JaxRunner

    error = {"out of memory": jax.errors.JaxRuntimeError("RESOURCE_EXHAUSTED: Out of memory allocating 55800000568 bytes."),
             "diverged": NonFiniteError("update 3 of seed 0: loss = nan"),
             "another XLA error": jax.errors.JaxRuntimeError("INTERNAL: something else broke")}[kind]

    def run(self, ctx, recorder, resume):
        raise error

    monkeypatch.setattr(JaxRunner, "run", run)
    argv = ["train", "--algo", "ppo", "--env", "CartPole-v1", "--total-steps", "2048", "--out", str(tmp_path / "run"), "--no-progress"]
    if kind == "another XLA error":
        with pytest.raises(jax.errors.JaxRuntimeError):
            main(argv)
        assert out_of_memory(error) is None
        return
    assert main(argv) == (1 if kind == "out of memory" else 3)
    out, err = capsys.readouterr()
    if kind == "diverged":
        assert err == "rl-zoo: error: update 3 of seed 0: loss = nan\n"
        return
    assert err.strip() == ("rl-zoo: error: out of memory (Out of memory allocating 55800000568 bytes): a run's memory grows "
                           "with its seeds (and a sweep's configs), --eval-episodes (an evaluation plays all its episodes at "
                           "once) and the algorithm's num_envs, num_steps (PPO, TRPO, VPG), buffer_size and batch_size (DQN) (--set): "
                           "ask for fewer")
    assert f"stopped: out of memory: {tmp_path / 'run'} keeps what it wrote, but `--resume` asks for the same memory" in out
    assert out_of_memory(RuntimeError(str(error))) is None  # only XLA's own error
    for text, said in (("RESOURCE_EXHAUSTED:", "RESOURCE_EXHAUSTED"), ("INTERNAL: RESOURCE_EXHAUSTED while x", "while x")):
        assert out_of_memory(jax.errors.JaxRuntimeError(text)) == said  # (an IndexError inside the handler, before)


def test_ctrl_c_of_a_resume_names_the_resume_command(tmp_path, capsys, monkeypatch):
    """A Ctrl-C before a resumed run's driver took over (its imports, the checks) printed only
    `rl-zoo: interrupted`; the train command now names how to go on, as sweep and benchmark do."""
    import rl_zoo.train

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(rl_zoo.train, "train", interrupted)
    (tmp_path / "run").mkdir()
    assert main(["train", "--resume", str(tmp_path / "run"), "--no-progress"]) == 130
    assert capsys.readouterr().err == f"rl-zoo: interrupted: `rl-zoo train --resume {tmp_path / 'run'}` takes it up again\n"
    # the live flags it was given, which config.json does not hold, go with it (a resume without them made no video)
    assert main(["train", "--resume", str(tmp_path / "run"), "--no-progress", "--tensorboard", str(tmp_path / "tb")]) == 130
    assert capsys.readouterr().err == (f"rl-zoo: interrupted: `rl-zoo train --resume {tmp_path / 'run'} --tensorboard "
                                       f"{tmp_path / 'tb'}` takes it up again\n")
    parse = lambda *words: train_command.live_flags(_build_parser().parse_args(["train", *words]))  # noqa: E731
    assert parse("--record-video", "--tensorboard", "--wandb", "--seeds", "2") == ["--record-video", "--tensorboard", "--wandb"]
    assert parse("--record-video", "a.mp4", "--tensorboard", "tb") == ["--record-video", "a.mp4", "--tensorboard", "tb"]
    assert parse("--record-video", "final_episode.gif") == ["--record-video"] and parse() == []


def test_output_into_a_closed_pipe_goes_to_devnull_and_the_command_goes_on():
    """`rl-zoo envs --all | head` ended in a BrokenPipeError traceback (and a piped `rl-zoo train` stopped
    half-way): once the reader has gone, the rest of the output is dropped and the command finishes."""
    import io
    import os
    import subprocess
    import sys

    from rl_zoo.cli import PipeGuard

    read, write = os.pipe()
    os.close(read)  # the reader has gone
    stream = io.TextIOWrapper(os.fdopen(write, "wb"), line_buffering=True)
    guard = PipeGuard(stream)
    assert guard.write("a line\n") == len("a line\n")  # the flush raised inside; it is dropped, not raised
    guard.write("x" * 100_000)
    guard.flush()
    assert os.path.samestat(os.fstat(stream.fileno()), os.stat(os.devnull))  # the rest goes to devnull
    stream.close()
    cli = subprocess.Popen([sys.executable, "-m", "rl_zoo.cli", "envs", "--all"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert cli.stdout.readline().startswith(b"id ")
    cli.stdout.close()  # as `| head -1` does
    assert cli.wait(timeout=120) == 0 and b"Traceback" not in cli.stderr.read()


def test_version_names_rl_zoo_and_its_jax(capsys):
    """`rl-zoo --version` answered "the following arguments are required: COMMAND"."""
    import jax

    import rl_zoo

    with pytest.raises(SystemExit) as e:
        main(["--version"])
    assert e.value.code == 0
    assert capsys.readouterr().out.startswith(f"rl-zoo {rl_zoo.__version__} (jax {jax.__version__}, jaxlib ")


def test_a_budget_below_one_batch_is_named_as_the_flag_that_gave_it(tmp_path, capsys):
    """--total-steps 4096 on LunarLander-v3 (a 16,384-step batch) was refused as "config field 'total_timesteps'"."""
    assert main(["train", "--env", "Acrobot-v1", "--set", "num_envs=16", "--total-steps", "100", "--out", str(tmp_path / "a")]) == 2
    assert "--total-steps = 100 is invalid: must be at least one batch (num_envs * num_steps = " in capsys.readouterr().err
    assert main(["train", "--env", "Acrobot-v1", "--set", "num_envs=16", "--set", "total_timesteps=100", "--out", str(tmp_path / "b")]) == 2
    assert "config field 'total_timesteps' = 100 is invalid: must be at least one batch" in capsys.readouterr().err
    assert main(["train", "--total-steps", "3e9", "--out", str(tmp_path / "c")]) == 2  # JAX's 32-bit integers: named so too
    assert "--total-steps = 3000000000 is invalid: must be an integer below 2**31" in capsys.readouterr().err
    assert not any((tmp_path / d).exists() for d in "abc")


@pytest.mark.parametrize("algo, fields, fix", [
    ("ppo", dict(num_envs=4, num_steps=1024, num_minibatches=32, total_timesteps=2000), "num_steps=496"),
    ("ppo", dict(num_envs=4, num_steps=1024, num_minibatches=32, total_timesteps=20),
     "num_steps=5, num_minibatches=1"),
    ("ppo", dict(num_envs=4, num_steps=1024, num_minibatches=32, total_timesteps=3),
     "num_envs=3, num_steps=1, num_minibatches=1"),
    ("vpg", dict(num_envs=8, num_steps=256, total_timesteps=1000), "num_steps=125"),
    # the other rules of validate: TRPO's value_minibatches (LunarLander-v3's 32 refused the num_steps=1500 it was told),
    # PPO's minibatches of 2 samples or more (num_steps=16 made 256 minibatches of one)
    ("trpo", dict(num_envs=2, num_steps=2048, value_minibatches=32, total_timesteps=3000), "num_steps=1488"),
    ("vpg", dict(num_envs=8, num_steps=256, value_minibatches=16, total_timesteps=1000), "num_steps=124"),
    ("ppo", dict(num_envs=16, num_steps=1024, num_minibatches=256, total_timesteps=500), "num_steps=31, num_minibatches=1"),
    ("trpo", dict(num_envs=4, num_steps=2048, value_minibatches=32, total_timesteps=30), "num_steps=7, value_minibatches=1"),
    ("dqn", dict(num_envs=1, train_frequency=256, learning_starts=1000, total_timesteps=100),
     "train_frequency=100, learning_starts=0"),
    ("dqn", dict(num_envs=4, train_frequency=256, learning_starts=0, total_timesteps=3),
     "num_envs=3, train_frequency=1"),
])
def test_a_budget_below_one_batch_names_values_that_make_it_fit(algo, fields, fix):
    """The rule said "(--set num_envs=4)" whatever the config (Pendulum-v1's PPO runs 4 envs of 1,024 steps, so
    that hint changed nothing); it names the fields' values now, and the values it suggests make the config valid."""
    import dataclasses

    from rl_zoo.algos import dqn, ppo, trpo, vpg

    config = {"ppo": ppo, "vpg": vpg, "trpo": trpo, "dqn": dqn}[algo].Config(**fields)
    with pytest.raises(ConfigError) as e:
        config.validate()
    assert str(e.value).endswith(f"shrink the {'update' if algo == 'dqn' else 'batch'} to fit ({fix})")
    pairs = (item.split("=") for item in fix.split(", "))
    dataclasses.replace(config, **{key: int(value) for key, value in pairs}).validate()


def test_a_pair_known_not_to_solve_its_env_says_so(capsys):
    """PPO's MountainCarContinuous block said "NOT a working config" only in a YAML comment, and `--help`
    called it tuned; the policy gradients on MountainCar-v0 ran their defaults without a word. Every pair of
    rl_zoo/hyperparams/unsolved.yaml is a real algorithm and env the algorithm runs on, and `train --help`
    and the run's note say what was measured."""
    import yaml

    import envs
    from rl_zoo import algos
    from rl_zoo.driver.spec import UNSOLVED_FILE, unsolved_note

    table = yaml.safe_load(UNSOLVED_FILE.read_text())
    assert {"ppo", "ppo-kl", "trpo", "vpg"} <= set(table)
    for algo, pairs in table.items():
        module, _ = algos.get(algo)
        for env_id, measured in pairs.items():
            env, params = envs.make(env_id)
            if hasattr(module, "check_env"):
                module.check_env(env, params)
            assert isinstance(measured, str) and unsolved_note(algo, env_id).endswith(f"{measured} (rl_zoo/hyperparams/unsolved.yaml)")
    assert unsolved_note("ppo", "CartPole-v1") is None and unsolved_note("dqn", "MountainCar-v0") is None
    with pytest.raises(SystemExit):
        main(["train", "--algo", "trpo", "--env", "MountainCarContinuous-v0", "--help"])
    assert "note: trpo's settings for MountainCarContinuous-v0" in capsys.readouterr().out
    from rl_zoo.driver.spec import new_spec

    assert new_spec("vpg", "MountainCar-v0", devices=1)[3] == unsolved_note("vpg", "MountainCar-v0")  # the run's note
    assert new_spec("vpg", "MountainCar-v0", devices=1, total_steps=4096)[3].endswith(
        "; this run changes some of them (--set, --total-steps)")


def test_building_the_command_line_imports_no_jax_scipy_or_matplotlib():
    """Every command builds the whole parser (`rl-zoo algos`, `--help`, and `rl-zoo train` too). Importing JAX
    there cost every command that does not train about a second (the sweep package pulled it in through its
    runner); scipy.stats, which the benchmark package's statistics imported, about 0.7 s of every command,
    `rl-zoo train` included, which never uses it (benchmarks/results/command_start.md); matplotlib is drawn
    only when a figure is."""
    import subprocess
    import sys

    heavy = ("jax", "scipy", "matplotlib")
    code = ("import sys; from rl_zoo.cli import _build_parser; _build_parser(None); "
            f"print(sorted(m for m in sys.modules if m.split('.')[0] in {heavy!r}))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


@pytest.mark.parametrize("text, value", [("100000", 100_000), ("100_000", 100_000), ("1e5", 100_000), ("1.5e3", 1500), (" 64 ", 64)])
def test_total_steps_takes_the_notation_the_help_writes(text, value):
    """`--help` writes budgets as 1e5 and 1e6, and `--set total_timesteps=1e5` took them; `--total-steps 1e5`
    was refused by argparse's int()."""
    from rl_zoo.cli import _build_parser
    from rl_zoo.config import whole_number

    assert whole_number(text) == value
    for command in (["train"], ["sweep", "--grid", "learning_rate=1e-3,2e-3"]):
        assert _build_parser(None).parse_args([*command, "--total-steps", text]).total_steps == value


@pytest.mark.parametrize("text, said", [("2.5", "is not a whole number"), ("1e5x", "is not a whole number"),
                                        ("nan", "is not a whole number"), ("inf", "is not a whole number"), ("", "is not a whole number"),
                                        ("1e308", "is too large a count"), ("_6_4", "is not a whole number"),
                                        ("1_000_", "is not a whole number"), ("1__000", "is not a whole number")])
def test_total_steps_refuses_what_is_not_a_whole_number(text, said, capsys):
    from rl_zoo.cli import _build_parser

    with pytest.raises(SystemExit):
        _build_parser(None).parse_args(["train", "--total-steps", text])
    assert f"{said}: give env steps as 100000, 100_000 or 1e5" in capsys.readouterr().err


def test_python_dash_m_rl_zoo_is_the_command_and_a_misspelt_command_is_named(capsys):
    """`python -m rl_zoo` said "No module named rl_zoo.__main__"; `rl-zoo trian` listed the commands without the
    nearest; `rl-zoo --help` named no exit status and no example."""
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-m", "rl_zoo", "--help"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and done.stdout.startswith("usage: rl-zoo") and "exit status: 0 done;" in done.stdout
    assert "  rl-zoo train --algo ppo --env CartPole-v1 --seeds 8" in done.stdout
    for typo, meant in (("trian", "train"), ("bench", "benchmark"), ("env", "envs")):
        with pytest.raises(SystemExit) as e:
            main([typo])
        assert e.value.code == 2
        assert f"rl-zoo: error: unknown command {typo!r} (did you mean {meant}?); the commands: train, " in capsys.readouterr().err


def test_sweep_help_names_no_option_sweep_lacks(capsys):
    """sweep's --config help reused train's, which named --backend (sweep has none: "unrecognized arguments")."""
    with pytest.raises(SystemExit):
        main(["sweep", "--help"])
    assert "--backend" not in capsys.readouterr().out


def test_a_name_over_name_max_is_one_line_of_bad_input_and_one_just_under_it_is_written(tmp_path, capsys, monkeypatch):
    """`--out`, `--tensorboard`, `-o` given a 300-byte name were OSError tracebacks (exit 1); a 254-byte figure name,
    a valid one, failed too: its temporary file's name (the whole name and 12 bytes more) was over 255."""
    (tmp_path / "r").mkdir()
    (tmp_path / "r" / "metrics.csv").write_text("env_steps,wall_s,seed,return,train_return\n0,0.0,0,1.0,\n")
    tmp_path = tmp_path / "w"  # the folder the commands write in
    tmp_path.mkdir()
    monkeypatch.chdir(tmp_path)
    long = "d" * 300
    for argv in (["train", "--algo", "ppo", "--env", "CartPole-v1", "--out", long],
                 ["train", "--algo", "ppo", "--env", "CartPole-v1", "--out", "run", "--tensorboard", long],
                 ["sweep", "--algo", "ppo", "--env", "CartPole-v1", "--grid", "learning_rate=1e-3", "--out", long],
                 ["benchmark", "--algos", "ppo", "--envs", "CartPole-v1", "--out", long],
                 ["plot", str(tmp_path.parent / "r"), "-o", long + ".png"]):
        assert main(argv) == 2, argv
        err = capsys.readouterr().err
        assert err.startswith("rl-zoo: error: a file or folder name is too long: ") and "a part of 30" in err, argv
        assert err.count("\n") == 1 and list(tmp_path.iterdir()) == []
    from rl_zoo import runs

    runs.atomic_write_bytes(tmp_path / ("a" * 250 + ".png"), b"x")
    assert [p.name for p in tmp_path.iterdir()] == ["a" * 250 + ".png"]
    # the temporary of a name up to 200 bytes is named after it whole (the program store prunes its `.*.pkl.*.tmp`)
    assert runs.temporary_stem("f" * 64 + ".pkl") == "f" * 64 + ".pkl" and runs.temporary_stem("a" * 250 + ".png") == "a" * 64 + ".png"
    # a path whose every name fits but whose whole is over PATH_MAX: said so (it said a part of 200 bytes was over 255)
    assert main(["train", "--algo", "ppo", "--env", "CartPole-v1", "--out", "/".join(["d" * 200] * 25)]) == 2
    assert "rl-zoo: error: a path is too long: " in capsys.readouterr().err


def test_a_resume_without_the_live_flags_the_run_was_started_with_says_so(tmp_path, capsys):
    """config.json does not decide --tensorboard, --record-video or --wandb: a resume without them stopped the
    event files and made no video, without a word. The flags are read from the command config.json records
    (abbreviated or not); a finished run, or one started from Python, has nothing to say."""
    from rl_zoo.train import train

    run = tmp_path / "run"
    train("q-learning", "FrozenLake-v1", out=run, total_steps=2000, progress=False, log=lambda s: None,
          command="rl-zoo train --algo q-learning --tensorb tb --record-video a.mp4 --wandb --total-steps 2000")
    parser = _build_parser()
    dropped = lambda *words: train_command.dropped_live_flags(parser.parse_args(["train", "--resume", str(run), *words]), parser)  # noqa: E731
    assert dropped() == []  # finished
    (run / "summary.json").unlink()
    assert dropped() == ["--record-video", "a.mp4", "--tensorboard", "tb", "--wandb"]
    assert dropped("--tensorboard", "--wandb") == ["--record-video", "a.mp4"]
    assert dropped("--record-video", "b.gif", "--tensorboard", "tb", "--wandb") == []
    # another --tensorboard DIR: the rest of the curve went to another folder, without a word
    moved = lambda *words: train_command.moved_tensorboard(parser.parse_args(["train", "--resume", str(run), *words]), parser)  # noqa: E731
    assert moved("--tensorboard", "tbdir") == (("--tensorboard", "tb"), ("--tensorboard", "tbdir"))
    assert moved("--tensorboard") == (("--tensorboard", "tb"), ("--tensorboard",))  # the run directory's, not tb
    assert moved("--tensorboard", "tb") is None and moved() is None  # the same folder; none given: dropped says it
    config = json.loads((run / "config.json").read_text())
    (run / "config.json").write_text(json.dumps(dict(config, command="python my_script.py --tensorboard")))
    assert dropped() == []
    for edited in (5, ["rl-zoo", "train", "--wandb"]):  # a hand-edited command: nothing to say, not a traceback
        (run / "config.json").write_text(json.dumps(dict(config, command=edited)))
        assert dropped() == []
    assert capsys.readouterr().err == ""


def test_the_package_names_its_docstring_gives_are_reached_from_import_rl_zoo_alone():
    """Review: `import rl_zoo; rl_zoo.train.train(...)`, as the package docstring writes it, was an AttributeError
    (a submodule is an attribute only once imported); `import rl_zoo` itself stays light."""
    import subprocess
    import sys

    code = ("import sys, rl_zoo; light = 'jax' not in sys.modules; "
            "print(light, rl_zoo.train.train.__name__, rl_zoo.algos.__name__, callable(rl_zoo.load), 'train' in dir(rl_zoo))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["True", "train", "rl_zoo.algos", "True", "True"]


def test_every_submodule_the_docs_name_is_reached_from_import_rl_zoo_alone():
    """`rl_zoo.enjoy.VideoHook()` and `rl_zoo.loggers.tensorboard_hook()` (the README's hooks), `rl_zoo.algos.ppo`
    (the package docstring) and `rl_zoo.distributed.split_cpu` (which must run before JAX starts) were an
    AttributeError after a bare `import rl_zoo`, or not, by what had been imported before; a name that is no
    submodule is still an AttributeError."""
    import subprocess
    import sys

    code = ("import sys, rl_zoo; rl_zoo.distributed.split_cpu; light = 'jax' not in sys.modules; "
            "names = [rl_zoo.algos.ppo.__name__, rl_zoo.algos.q_learning.__name__, rl_zoo.enjoy.VideoHook.__name__, "
            "rl_zoo.loggers.tensorboard_hook.__name__, rl_zoo.sweep.make_spec.__name__, rl_zoo.policy.load.__name__]\n"
            "for owner, name in ((rl_zoo, 'nope'), (rl_zoo.algos, 'nope'), (rl_zoo, '_private')):\n"
            "    try: getattr(owner, name); names.append('reached ' + name)\n"
            "    except AttributeError: pass\n"
            "print(light, *names, 'enjoy' in dir(rl_zoo))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["True", "rl_zoo.algos.ppo", "rl_zoo.algos.q_learning", "VideoHook", "tensorboard_hook", "make_spec",
                           "load", "True"]
