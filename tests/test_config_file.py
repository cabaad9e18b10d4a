"""``rl-zoo train --config FILE`` (and ``sweep --config``): a sweep's best.yaml, a file of fields, ENV_ID
blocks or a run's config.json, put on the tuned values under --set and --total-steps; bad files refused
with the file named, before anything compiles."""

import argparse
import os
import json

import pytest
import yaml

from rl_zoo.cli import main
from rl_zoo.config import ConfigError
from rl_zoo.driver.config_file import read_config_file
from rl_zoo.driver.spec import RunSpec, resolve_config
from rl_zoo.train_command import overrides_from


def _write(path, text):
    path.write_text(text)
    return path


def test_the_three_forms_give_the_fields_for_the_env(tmp_path):
    blocks = _write(tmp_path / "blocks.yaml", "CartPole-v1:\n  learning_rate: 0.002\n  num_envs: 4\nAcrobot-v1:\n  gamma: 0.9\n")
    assert read_config_file(blocks, "ppo", "CartPole-v1") == {"learning_rate": 0.002, "num_envs": 4}
    assert read_config_file(blocks, "ppo", "Acrobot-v1") == {"gamma": 0.9}
    flat = _write(tmp_path / "flat.yaml", "learning_rate: 1e-3\nnorm_adv: false\n")  # YAML 1.2's float (1.1: a string)
    assert read_config_file(flat, "ppo", "Pendulum-v1") == {"learning_rate": 1e-3, "norm_adv": False}
    assert resolve_config("ppo", "Pendulum-v1", read_config_file(flat, "ppo", "Pendulum-v1"))[1].learning_rate == 1e-3
    empty_block = _write(tmp_path / "empty_block.yaml", "CartPole-v1:\n")
    assert read_config_file(empty_block, "ppo", "CartPole-v1") == {}


def test_a_runs_config_json_trains_that_config_again(tmp_path):
    _, config = resolve_config("dqn", "CartPole-v1", {"learning_rate": 5e-4, "buffer_size": 5000})
    path = tmp_path / "config.json"
    path.write_text(json.dumps(RunSpec(algo="dqn", env_id="CartPole-v1", config=config, seed=3).to_json()))
    assert resolve_config("dqn", "CartPole-v1", read_config_file(path, "dqn", "CartPole-v1"))[1] == config
    with pytest.raises(ConfigError, match=r"config of a run of dqn on CartPole-v1; give --algo dqn --env CartPole-v1"):
        read_config_file(path, "dqn", "Acrobot-v1")
    with pytest.raises(ConfigError, match=r"run of dqn on CartPole-v1; give --algo dqn"):
        read_config_file(path, "double-dqn", "CartPole-v1")


def test_a_sweeps_best_yaml_round_trips_to_the_chosen_config(tmp_path):
    from rl_zoo.sweep import make_spec, plan_sweep, report

    plan = plan_sweep(make_spec("ppo", "CartPole-v1", grid=["learning_rate=3e-4,2e-3"], total_steps=40_960,
                                overrides=dict(num_steps=128)))
    chosen = plan.points[1].config
    summary = type("S", (), dict(stopped_early=False))()
    text = report.best_yaml_header(plan.spec, [summary, summary]) + report.best_yaml(plan.spec, chosen, plan.default, plan.tuned)
    path = _write(tmp_path / "best.yaml", text)
    assert resolve_config("ppo", "CartPole-v1", read_config_file(path, "ppo", "CartPole-v1"))[1] == chosen
    # its first line names the algorithm: a ppo config given to dqn (whose fields would mostly take it) is refused
    with pytest.raises(ConfigError, match=r"best.yaml is a sweep's best config of ppo .*not of dqn: give --algo ppo"):
        read_config_file(path, "dqn", "CartPole-v1")
    # review: the sweep.json beside it was refused as "mixes config fields with blocks"
    sweep_json = _write(tmp_path / "sweep.json", json.dumps(dict(digest="d", spec=plan.spec.to_json(), groups=[])))
    with pytest.raises(ConfigError, match=r"sweep.json is a sweep's plan \(sweep.json\), not a config: give the best.yaml"):
        read_config_file(sweep_json, "ppo", "CartPole-v1")


@pytest.mark.parametrize("text, message", [
    (None, r"--config .*missing.yaml: no such file"),
    ("", r"holds nothing: it should map config fields to values"),
    ("[1, 2]\n", r"holds no mapping"),
    ("a: [1, 2\n", r"is not YAML at line 2, column 1: expected ',' or '\]'"),
    ("CartPole-v1:\n\tgamma: 0.9\n", r"is not YAML at line 2, column 1: found character '\\t'"),
    ("CartPole-v1:\n  true: 1\n", r"the key True is not a field name \(YAML reads true and false as booleans"),
    ("gamma: 0.9\ngamma: 0.5\n", r"--config .*bad.yaml, line 2, column 1: the key 'gamma' is given twice \(the last would win"),
    ("CartPole-v1:\n  gamma: 0.9\n  gamma: 0.5\n", r"bad.yaml, line 3, column 3: the key 'gamma' is given twice"),
    ('{"gamma": 0.9, "gamma": 0.5}', r"bad.yaml: the key 'gamma' is given twice \(the last would win silently\)"),
    ("learnig_rate: null\n", r"unknown config field 'learnig_rate' \(did you mean 'learning_rate'\?\)"),
    ("Acrobot-v1:\n  gamma: 0.9\nPendulum-v1:\n  gamma: 0.9\n", r"has no block for CartPole-v1 \(it has Acrobot-v1, Pendulum-v1\): give --env"),
    ("CartPole-v1:\n  gamma: 0.9\nnum_envs: 4\n", r"mixes config fields with blocks"),
    ("num_env: 4\n", r"--config .*: unknown config field 'num_env' \(did you mean 'num_envs'\?\) for ppo"),
    ("learning_rate: abc\n", r"--config .*: config field 'learning_rate': expected float, got 'abc'"),
    ("learning_rate: [1, 2]\n", r"--config .*: config field 'learning_rate' = \[1, 2\] is invalid: must be a number"),
    ('{"algo": "ppo", "env": "CartPole-v1", "config": [1, 2]}', r"the config should map fields to values"),
    ("CartPole-v1: [1, 2]\n", r"unknown config field 'CartPole-v1'"),
])
def test_a_bad_file_is_refused_naming_it(tmp_path, text, message):
    path = tmp_path / "missing.yaml" if text is None else _write(tmp_path / "bad.yaml", text)
    with pytest.raises(ConfigError, match=message):
        read_config_file(path, "ppo", "CartPole-v1")


def test_whole_number_floats_count_as_integers_and_a_byte_order_mark_is_read_past(tmp_path):
    path = _write(tmp_path / "f.yaml", "total_timesteps: 100000.0\nhidden_size: 64.0\n")
    assert read_config_file(path, "ppo", "CartPole-v1") == {"total_timesteps": 100_000, "hidden_size": 64}
    with pytest.raises(ConfigError, match=r"config field 'hidden_size' = 64.5 is invalid: must be an integer"):
        read_config_file(_write(tmp_path / "g.yaml", "hidden_size: 64.5\n"), "ppo", "CartPole-v1")
    # a BOM (a file saved by some editors) hid the first line's algorithm from the check
    bom = tmp_path / "best.yaml"
    bom.write_text("\ufeff# rl-zoo sweep: the best of 4 configs of dqn on CartPole-v1, by the IQM of final returns over "
                   "seeds 0-7\nCartPole-v1:\n  learning_rate: 0.1\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="best config of dqn .*not of ppo"):
        read_config_file(bom, "ppo", "CartPole-v1")


def test_numbers_read_as_set_reads_them_and_an_empty_config_flag_is_refused(tmp_path, capsys):
    """YAML 1.1 read ``016`` as octal 14 (``--set num_envs=016`` is 16) and ``yes`` as a boolean key; an empty
    ``--config ''`` trained on the tuned values with the flag in its recorded command."""
    from rl_zoo.cli import main

    path = _write(tmp_path / "f.yaml", "num_envs: 016\nlearning_rate: 1e-3\nanneal_lr: no\n")
    assert read_config_file(path, "ppo", "CartPole-v1") == {"num_envs": 16, "learning_rate": 0.001, "anneal_lr": "no"}
    assert resolve_config("ppo", "CartPole-v1", read_config_file(path, "ppo", "CartPole-v1"))[1].anneal_lr is False
    for argv in (["train", "--config", "", "--out", str(tmp_path / "run")], ["train", "--resume", str(tmp_path), "--config", " "]):
        assert main(argv) == 2
        assert capsys.readouterr().err.startswith("rl-zoo: error: --config is empty: name a file")
    assert not (tmp_path / "run").exists()


def test_a_value_of_the_file_out_of_its_range_is_refused_naming_the_file(tmp_path, capsys):
    """Its type errors named the file, its range errors only the field: a field the user never typed."""
    path = _write(tmp_path / "f.yaml", "num_envs: -1\n")
    assert main(["train", "--config", str(path), "--out", str(tmp_path / "run")]) == 2
    assert capsys.readouterr().err.strip() == (f"rl-zoo: error: --config {path}: config field 'num_envs' = -1 is invalid: "
                                               f"must be a positive integer")
    assert main(["train", "--config", str(path), "--set", "num_envs=-2", "--out", str(tmp_path / "run")]) == 2
    assert capsys.readouterr().err.strip() == "rl-zoo: error: config field 'num_envs' = -2 is invalid: must be a positive integer"
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize("algo, env_id", [("trpo", "Pendulum-v1"), ("vpg", "CartPole-v1"), ("ppo", "CartPole-v1")])
def test_the_tuned_files_load_as_config_files_merges_and_all(algo, env_id, tmp_path):
    """The duplicate-key check read `<<: *base` as a key and refused trpo.yaml and vpg.yaml (their merges) as
    files "not YAML"; a key set again under a merge overrides it, as YAML means, and is not "twice"."""
    from pathlib import Path

    import rl_zoo

    tuned = Path(rl_zoo.__file__).parent / "hyperparams" / f"{algo}.yaml"
    assert read_config_file(tuned, algo, env_id) == yaml.safe_load(tuned.read_text())[env_id]
    merged = _write(tmp_path / "m2.yaml", "CartPole-v1: &b\n  gamma: 0.9\n  num_envs: 4\nAcrobot-v1:\n  <<: *b\n  gamma: 0.95\n")
    assert read_config_file(merged, "ppo", "Acrobot-v1") == {"gamma": 0.95, "num_envs": 4}


def test_a_tabular_runs_config_json_trains_again(tmp_path):
    """q-learning's resolved config holds the fields only its make_train reads (evaluation settings), which
    --config refuses: a run's config.json of it was always refused."""
    _, config = resolve_config("q-learning", "FrozenLake-v1", {"learning_rate": 0.3})
    path = tmp_path / "config.json"
    path.write_text(json.dumps(RunSpec(algo="q-learning", env_id="FrozenLake-v1", config=config).to_json()))
    assert resolve_config("q-learning", "FrozenLake-v1", read_config_file(path, "q-learning", "FrozenLake-v1"))[1] == config


def test_a_folder_is_refused(tmp_path):
    with pytest.raises(ConfigError, match=r"a folder, not a file"):
        read_config_file(tmp_path, "ppo", "CartPole-v1")


def test_set_goes_on_top_and_total_steps_replaces_the_files_budget(tmp_path):
    path = _write(tmp_path / "f.yaml", "gamma: 0.9\nnum_envs: 4\ntotal_timesteps: 8192\n")

    def args(*sets, total_steps=None):
        return argparse.Namespace(set=list(sets), config=str(path), algo="ppo", env="CartPole-v1", total_steps=total_steps)

    assert overrides_from(args("gamma=0.95")) == {"gamma": "0.95", "num_envs": 4, "total_timesteps": 8192}
    noted = []
    got = overrides_from(args(total_steps=4096), decided=("total_timesteps",), note=noted.append)
    assert got == {"gamma": 0.9, "num_envs": 4} and noted == [["total_timesteps"]]
    assert overrides_from(argparse.Namespace(set=["gamma=0.9"], config=None)) == {"gamma": "0.9"}


def test_train_config_on_the_command_line(tmp_path, capsys, seed_offset):
    """The file's budget trains (not the tuned 100,000), a --set on top wins; the same programs as
    test_cli's reference run (gamma back at its tuned 0.98), so nothing new compiles."""
    path = _write(tmp_path / "best.yaml", "CartPole-v1:\n  total_timesteps: 2560\n  gamma: 0.5\n")
    out = tmp_path / "run"
    assert main(["train", "--config", str(path), "--set", "gamma=0.98", "--seeds", "2", "--seed", str(seed_offset),
                 "--evals", "5", "--eval-episodes", "1", "--out", str(out), "--no-progress"]) == 0
    config = json.loads((out / "config.json").read_text())
    assert config["config"]["total_timesteps"] == 2560 and config["config"]["gamma"] == 0.98
    assert config["config"]["num_steps"] == 32  # the tuned value, under the file
    assert "--config" in config["command"]
    capsys.readouterr()
    # with --resume it is refused (the run's config.json decides), and nothing is written
    before = sorted(p.name for p in out.iterdir())
    assert main(["train", "--resume", str(out), "--config", str(path)]) == 2
    assert "do not combine it with --set, --config, --env-kwargs, --out or --total-steps" in capsys.readouterr().err
    assert sorted(p.name for p in out.iterdir()) == before
    # a bad file: exit 2 before anything is made
    assert main(["train", "--config", str(tmp_path / "nope.yaml"), "--out", str(tmp_path / "r2")]) == 2
    assert "--config" in capsys.readouterr().err and not (tmp_path / "r2").exists()


def test_sweep_config_leaves_the_swept_fields_to_the_sweep(tmp_path, capsys):
    from rl_zoo.cli import _build_parser
    from rl_zoo.sweep.command import spec_from_args

    path = _write(tmp_path / "best.yaml", yaml.safe_dump({"CartPole-v1": {"learning_rate": 0.002, "num_envs": 4}}))
    args = _build_parser(None).parse_args(["sweep", "--config", str(path), "--grid", "learning_rate=1e-3,3e-3", "--seeds", "2"])
    spec = spec_from_args(args, notes=True)
    assert dict(spec.overrides) == {"num_envs": 4}
    assert "sets learning_rate, which this sweep sets otherwise" in capsys.readouterr().err


def _fed(path, text: bytes):
    """A thread writing ``text`` into the pipe or FIFO ``path`` (opened for writing there), started."""
    import threading

    def feed():
        with open(path, "wb") as f:
            f.write(text)

    thread = threading.Thread(target=feed)
    thread.start()
    return thread


def test_a_config_given_through_a_pipe_is_read_once_in_a_command_and_afresh_outside(tmp_path):
    """``--config <(printf ...)`` and ``--config /dev/stdin``: the command reads its --config twice (the fields, then
    a run's env options to note; a sweep its spec before JAX starts, then again), and the second read of the pipe was
    empty: "holds nothing", exit 2. Within one command (``one_read_per_file``, around ``rl_zoo.cli.main``) the text
    is kept; outside, a named FIFO fed again is read again (a kept text would be stale)."""
    from rl_zoo.config import one_read_per_file
    from rl_zoo.train_command import note_config_env_kwargs

    fifo = tmp_path / "cfg.yaml"
    os.mkfifo(fifo)
    writer = _fed(fifo, b"learning_rate: 3e-4\n")
    with one_read_per_file():
        assert read_config_file(fifo, "ppo", "CartPole-v1") == {"learning_rate": 3e-4}
        note_config_env_kwargs(str(fifo), {})  # read it again: the text kept, no "holds nothing"
        assert read_config_file(fifo, "ppo", "CartPole-v1") == {"learning_rate": 3e-4}
    writer.join()
    for rate in (b"0.5", b"0.25"):  # outside a command: each read its own
        writer = _fed(fifo, b"learning_rate: " + rate + b"\n")
        assert read_config_file(fifo, "ppo", "CartPole-v1") == {"learning_rate": float(rate)}
        writer.join()


def test_the_command_line_reads_a_config_pipe_once(tmp_path, monkeypatch, capsys):
    """`rl-zoo sweep --config <(...)` reads its spec twice (before JAX starts, for the CPU split, then to run):
    through ``rl_zoo.cli.main`` the second read is the first's text."""
    from rl_zoo.sweep import command as sweep_command

    fifo = tmp_path / "cfg.yaml"
    os.mkfifo(fifo)
    writer = _fed(fifo, b"gamma: 0.98\n")
    real = sweep_command.spec_from_args
    monkeypatch.setattr(sweep_command, "spec_from_args", lambda args, notes=False: (real(args), real(args, notes))[1])
    monkeypatch.chdir(tmp_path)
    assert main(["sweep", "--algo", "ppo", "--config", str(fifo), "--grid", "learning_rate=1e-3,3e-3", "--total-steps",
                 "2048", "--seeds", "1", "--dry-run"]) == 0, capsys.readouterr().err
    writer.join()
