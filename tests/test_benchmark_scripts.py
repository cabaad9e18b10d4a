"""The benchmark scripts' own defects a review found: bad input passed through to a child (an unknown env) or given
to a step after set-up was a traceback or exit 1 after work; a rerun lost the committed raw data; recorded commands
that do not reproduce the run; results without software versions; a 2-seed trial judged against a 10-seed target;
--help without defaults. Each script runs from a copy of ``benchmarks/`` with an empty results folder (as in
``test_benchmark_flags.py``), so that a broken check cannot touch the committed files. No training.

``RL_ZOO_BENCHMARKS`` (default: this checkout's ``benchmarks/``) names the scripts to test, so that the tests can be
run against another checkout's scripts (each was checked to fail on the scripts before these fixes)."""

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

BENCHMARKS = Path(os.environ.get("RL_ZOO_BENCHMARKS") or Path(__file__).resolve().parents[1] / "benchmarks").resolve()


def _env() -> dict:
    """The scripts' checkout first on the path (the copy of benchmarks/ imports its rl_zoo)."""
    return dict(os.environ, PYTHONPATH=os.pathsep.join([str(BENCHMARKS.parent), os.environ.get("PYTHONPATH", "")]))


def _copy(tmp_path: Path) -> Path:
    """A copy of the benchmark scripts with an empty results folder."""
    copy = tmp_path / "benchmarks"
    (copy / "results").mkdir(parents=True)
    for path in BENCHMARKS.glob("*.py"):
        shutil.copy(path, copy / path.name)
    return copy


def _run(tmp_path: Path, script: str, argv: list[str], timeout: int = 120) -> subprocess.CompletedProcess:
    copy = _copy(tmp_path)
    argv = [a.format(tmp=tmp_path) for a in argv]
    return subprocess.run([sys.executable, str(copy / script), *argv], capture_output=True, text=True, timeout=timeout,
                          env=_env(), cwd=tmp_path)


def _import(monkeypatch, name: str):
    """The script or module ``name`` of ``BENCHMARKS``, imported afresh."""
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    for module in (name, "_results"):
        sys.modules.pop(module, None)
    import importlib

    return importlib.import_module(name)


@pytest.mark.parametrize("script, argv, message", [
    # 1. an unknown env (or algorithm) in a command passed through to a child, or made after the set-up
    ("command_start.py", ["--base", "HEAD", "--repeats", "1", "--train", "--algo ppo --env NoSuch-v0", "--out", "{tmp}/o.md"],
     "--train '--algo ppo --env NoSuch-v0': Unknown environment id 'NoSuch-v0'"),
    ("command_start.py", ["--base", "HEAD", "--train", "--algo foo", "--out", "{tmp}/o.md"],
     "--train '--algo foo': unknown algorithm 'foo'; the algorithms: ppo,"),
    ("compile_programs.py", ["--rows", "--algo ppo --env NoSuch-v0", "--out", "{tmp}/o.md"],
     "--rows: '--algo ppo --env NoSuch-v0': Unknown environment id 'NoSuch-v0'"),
    ("compile_levels.py", ["--rows", "--algo ppo --env CartPole-v1;--algo ppo --env NoSuch-v0", "--out", "{tmp}/o.md"],
     "--rows: '--algo ppo --env NoSuch-v0': Unknown environment id 'NoSuch-v0'"),
    ("policy_gradient.py", ["tune", "trpo", "NoSuch-v0", "--out", "{tmp}/pg"], "tune trpo NoSuch-v0: Unknown environment id"),
    # 2. other bad arguments: a traceback, a check after work, or exit 1
    ("driver_overhead.py", ["--base", "nosuch", "--out", "{tmp}/o.md"], "--base 'nosuch' is not a revision of this repository"),
    ("sweep_speed.py", ["--steps", "100", "--out", "{tmp}/o.md"], "--steps = 100 is invalid: must be at least one update's batch (256"),
    ("ppo_learning.py", ["--cells", "CartPole-v1,NoSuch-v0", "--out", "{tmp}/pl"], "--cells: unknown env 'NoSuch-v0'; the cells: CartPole-v1,"),
    ("peer_speed.py", ["--only", "bogus", "--peer-python", "{tmp}/no-python", "--out", "{tmp}/o.md"],
     "--only: unknown rows ['bogus']; choose from ppo, ppo16, dqn"),
    ("dqn.py", ["tune", "CartPole-v1", "foo", "--out", "{tmp}/d"], "'foo' is not field=value"),
    # 6. speed with other settings than the committed rows' into the committed files
    ("q_learning.py", ["speed", "--steps", "1000", "--agents", str(2 * (os.cpu_count() or 1)), "--repeats", "1"],  # a multiple of the devices
     "speed with --agents, --steps, --repeats would replace the speed rows in"),
])
def test_bad_input_is_refused_in_one_line_before_any_work(script, argv, message, tmp_path):
    (tmp_path / "a_file").write_text("mine\n")
    before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    done = _run(tmp_path, script, argv)
    assert done.returncode == 2, done.stderr
    assert f"{script}: error: " in done.stderr and message.format(tmp=tmp_path) in done.stderr, done.stderr
    assert "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()[-1]) > 0 and done.stdout == "", done.stdout
    after = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*") if "__pycache__" not in p.parts)
    assert [p for p in after if p.parts[0] != "benchmarks"] == [p for p in before if p.parts[0] != "benchmarks"]
    assert not any((tmp_path / "benchmarks" / "results").iterdir())


@pytest.mark.parametrize("pip_error, status", [
    ("ERROR: Could not find a version that satisfies the requirement ml_dtypes==9.9.9\n"
     "ERROR: No matching distribution found for ml_dtypes==9.9.9\n", 2),
    ("WARNING: Retrying\nERROR: Could not install packages due to an OSError: [Errno 28] No space left on device\n", 1),
])
def test_a_ml_dtypes_version_pip_cannot_install_is_one_line(pip_error, status, tmp_path, monkeypatch, capsys):
    """``ml_dtypes_import.py --versions 9.9.9,0.6.0`` ended in a CalledProcessError traceback: one line naming the
    version and pip's last error, exit 2 where pip found no such version (bad input), else 1."""
    ml_dtypes_import = _import(monkeypatch, "ml_dtypes_import")
    monkeypatch.setattr(ml_dtypes_import.subprocess, "run",
                        lambda cmd, **kw: subprocess.CompletedProcess(cmd, 1, "", pip_error))
    with pytest.raises(SystemExit) as stop:
        ml_dtypes_import.install("9.9.9", tmp_path)
    assert stop.value.code == status
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("ml_dtypes_import.py: error: ml_dtypes 9.9.9 could not be installed into ")
    assert pip_error.strip().splitlines()[-1] in err


def test_grid_excludes_only_cells_within_its_algos_and_envs(monkeypatch):
    """``grid.py --algos ppo --envs CartPole-v1`` exited 2: its fixed ``--exclude dqn:Acrobot-v1`` named a cell outside
    the grid, which ``rl-zoo benchmark`` refuses. The pairs outside are dropped (none left: no --exclude)."""
    grid = _import(monkeypatch, "grid")
    assert grid.exclude_within("dqn:Acrobot-v1", "ppo", "CartPole-v1") == ""
    assert grid.exclude_within("dqn:Acrobot-v1", "ppo,dqn", "CartPole-v1") == ""
    assert grid.exclude_within("dqn:Acrobot-v1,ppo:Pendulum-v1", "ppo,dqn", "Acrobot-v1,Pendulum-v1") == "dqn:Acrobot-v1,ppo:Pendulum-v1"
    assert grid.exclude_within(grid.EXCLUDE, grid.ALGOS, grid.ENVS) == grid.EXCLUDE


#: a stand-in for a cell's `rl-zoo benchmark`: says it is ready, then on Ctrl-C prints its clean line and exits 130
CHILD = """
import sys, time
print("ready", flush=True)
try:
    time.sleep(60)
except KeyboardInterrupt:
    print("rl-zoo: interrupted", file=sys.stderr, flush=True)
    sys.exit(130)
"""


def test_gymnasium_results_ctrl_c_ends_with_the_cells_line_and_130(tmp_path):
    """Ctrl-C (SIGINT to the terminal's process group) during a cell: the child's "interrupted" line was followed by a
    KeyboardInterrupt traceback from ``_run_child``'s re-raise. Now the child's line is the last, and the exit 130."""
    parent = (f"import sys; sys.path.insert(0, {str(BENCHMARKS)!r}); import gymnasium_results as g; "
              f"g._run_child([sys.executable, '-c', {CHILD!r}])")
    proc = subprocess.Popen([sys.executable, "-c", parent], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=_env(), start_new_session=True)
    try:
        assert proc.stdout.readline().strip() == "ready"
        time.sleep(0.2)
        os.killpg(proc.pid, signal.SIGINT)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert proc.returncode == 130, err
    assert "Traceback" not in err and err.strip().splitlines()[-1] == "rl-zoo: interrupted", err


def test_a_rerun_keeps_the_earlier_raw_data_under_earlier(tmp_path, monkeypatch):
    """``flat_optimizer.py --repeats 1 --steps 10`` replaced the committed flat_optimizer.json whole (48 runs became
    12) while the .md kept the old table; so did command_start, compile_levels, compile_programs and
    ml_dtypes_import. ``save_run`` keeps each earlier run's raw dict, newest first, under "earlier"."""
    _results = _import(monkeypatch, "_results")
    path = tmp_path / "flat_optimizer.json"
    path.write_text(json.dumps({"measured": "first", "rows": [1, 2, 3, 4]}))  # a committed file, written before the rule
    _results.save_run(path, {"measured": "second", "rows": [1]})
    _results.save_run(path, {"measured": "third", "rows": [2]})
    raw = json.loads(path.read_text())
    assert raw["measured"] == "third" and raw["rows"] == [2]
    assert raw["earlier"] == [{"measured": "second", "rows": [1]}, {"measured": "first", "rows": [1, 2, 3, 4]}]
    fresh = tmp_path / "new" / "compile_levels.json"
    _results.save_run(fresh, {"rows": []})
    assert json.loads(fresh.read_text()) == {"rows": []}  # nothing earlier: no "earlier" key


@pytest.mark.parametrize("script", ["command_start.py", "compile_levels.py", "compile_programs.py", "flat_optimizer.py",
                                    "ml_dtypes_import.py"])
def test_the_one_run_scripts_write_their_raw_file_with_save_run(script):
    """The five scripts whose .json holds one run write it through ``save_run`` (not ``save_results``, which replaced
    it), and their --out help says so."""
    text = (BENCHMARKS / script).read_text()
    assert "save_run(" in text and "save_results(" not in text
    done = subprocess.run([sys.executable, str(BENCHMARKS / script), "--help"], capture_output=True, text=True, env=_env(),
                          timeout=120)
    assert done.returncode == 0 and "earlier runs' raw data" in " ".join(done.stdout.split()), done.stdout


def test_a_recorded_command_is_the_command_as_given(monkeypatch):
    """compile_levels.py joined argv with spaces (a row with ';' or a space did not paste back), arithmetic_floor.py left
    out --only, gpu_check.py --sweep-separate, env_throughput.py every flag: ``recorded_command`` quotes argv whole."""
    _results = _import(monkeypatch, "_results")
    argv = ["--rows", "--algo ppo --env CartPole-v1;--algo dqn --env CartPole-v1", "--only", "dqn", "--out", "/tmp/a b.md"]
    assert _results.recorded_command("compile_levels.py", argv) == (
        "python benchmarks/compile_levels.py --rows '--algo ppo --env CartPole-v1;--algo dqn --env CartPole-v1' "
        "--only dqn --out '/tmp/a b.md'")
    monkeypatch.setattr(sys, "argv", ["benchmarks/gpu_check.py", "--sweep-separate", "0"])
    assert _results.recorded_command("gpu_check.py") == "python benchmarks/gpu_check.py --sweep-separate 0"
    assert _results.recorded_command("env_throughput.py", []) == "python benchmarks/env_throughput.py"  # no trailing space
    for script in ("compile_levels.py", "compile_programs.py", "command_start.py", "arithmetic_floor.py", "gpu_check.py",
                   "env_throughput.py", "ml_dtypes_import.py", "flat_optimizer.py", "driver_overhead.py"):
        text = (BENCHMARKS / script).read_text()
        assert f'recorded_command("{script}"' in text or f"recorded_command('{script}'" in text, script


def test_env_throughput_records_the_flags_it_was_given(monkeypatch):
    """env_throughput.py wrote `python benchmarks/env_throughput.py` whatever flags it ran with."""
    env_throughput = _import(monkeypatch, "env_throughput")
    argv = ["--quick", "--ids", "CartPole-v1", "--num-envs", "2", "--scan-steps", "2", "--repeats", "1", "--gym-seconds", "0.01"]
    table = env_throughput.main(argv)
    assert "Generated by `python benchmarks/env_throughput.py --quick --ids CartPole-v1 --num-envs 2 --scan-steps 2 " \
           "--repeats 1 --gym-seconds 0.01`" in table


def test_gpu_check_records_its_command_as_given(tmp_path, monkeypatch):
    """gpu_check.py's table quoted --seeds and --steps only (a run with --sweep-separate 0 did not say so)."""
    gpu_check = _import(monkeypatch, "gpu_check")
    import argparse

    args = argparse.Namespace(seeds="1", steps=512)
    row = dict(seeds=1, devices=1, compile_s=1.0, run_s=1.0, steps_per_s=1.0, mean_return=9.0)
    gpu_check.write_table(str(tmp_path / "g.md"), [row], args, "0.1", "", "python benchmarks/gpu_check.py --sweep-separate 0")
    assert "Command: `python benchmarks/gpu_check.py --sweep-separate 0`." in (tmp_path / "g.md").read_text()


def test_the_reports_without_software_versions_name_them(monkeypatch):
    """flat_optimizer (no jax, optax), gpu_determinism (no jax, jaxlib), command_start and driver_overhead (commits
    only) wrote no versions; ``software`` is the line they now write, ``installed_versions`` (for gpu_determinism, whose
    parent must not start JAX on the GPU) reads them without importing JAX."""
    _results = _import(monkeypatch, "_results")
    line = _results.software({"jax": "0.9.9", "jaxlib": "0.9.9", "optax": "0.2"})
    assert line == "jax 0.9.9, jaxlib 0.9.9, optax 0.2"
    assert {"python", "jax", "jaxlib", "numpy"} <= set(_results.installed_versions())
    for script, words in (("flat_optimizer.py", "Software: {software(recorded)}"),
                          ("gpu_determinism.py", "software(installed_versions())"),
                          ("command_start.py", "Software: {software(meta['versions'])}"),
                          ("driver_overhead.py", "Software (both trees): {software(commit=False)}")):
        assert words in (BENCHMARKS / script).read_text(), script
    command_start = _import(monkeypatch, "command_start")
    meta = dict(when="now", machine="CPU", command="c", base="a", head="b", load_before="0", load_after="0", train="t",
                versions={"jax": "0.9.9", "jaxlib": "0.9.9"})
    text = command_start.report({"rl-zoo algos": {"base": [1.0], "head": [1.0]}}, {}, True, meta)
    assert "Software: jax 0.9.9, jaxlib 0.9.9." in text


def test_a_policy_gradient_trial_on_fewer_seeds_is_not_judged_against_a_10_seed_target(monkeypatch):
    """`policy_gradient.py returns --algo trpo --env CartPole-v1 --seeds 2` marked FAIL / "NOT met" when both seeds
    scored 500 (the target is 8 of 10 seeds): the same share is asked, and the verdict says it was on 2 seeds, not 10,
    as dqn.py says it; such a row is left out of the met / NOT met count."""
    plan = _import(monkeypatch, "policy_gradient_plan")
    assert plan.verdict("trpo", "CartPole-v1", [500.0, 500.0]) == "pass, on 2 seeds, not 10"
    assert plan.verdict("trpo", "CartPole-v1", [500.0, 20.0]) == "FAIL, on 2 seeds, not 10"
    assert plan.verdict("trpo", "CartPole-v1", [500.0] * 8 + [10.0] * 2) == "pass"
    assert plan.verdict("trpo", "CartPole-v1", [500.0] * 7 + [10.0] * 3) == "FAIL"
    assert plan.verdict("trpo", "Acrobot-v1", [-90.0]) == "-"
    report = _import(monkeypatch, "policy_gradient_report")
    row = dict(algo="trpo", env="CartPole-v1", final=[500.0, 500.0], train_tail=[500.0], seeds=2, seed_list=[1000, 1001],
               seed_set="report", env_steps=100_000, compile_s=1.0, run_s=1.0, config={})
    notes = " ".join(report.notes({"returns": {"trpo/CartPole-v1": row}, "returns_tuning": {}, "speed": [], "cost": []}))
    assert "NOT met" not in notes and "0 met, none missed" in notes
    assert "Not judged against their targets (other seed counts than the targets name): trpo CartPole-v1 (met, on 2 seeds, not 10)" in notes


@pytest.mark.parametrize("script, argv, words", [
    ("arithmetic_floor.py", [], ["(default 3)", "(default benchmarks/results/arithmetic_floor.md)"]),
    ("flat_optimizer.py", [], ["(default benchmarks/results/flat_optimizer.md)"]),
    ("q_learning.py", [], ["seeds per env (default 10)", "(default 1024)", "(default 100000)", "the best reported (default 2)"]),
    ("dqn.py", [], ["seeds per env (default: the target's, 10", "env steps per seed (default: the tuned config's"]),
    ("env_throughput.py", [], ["side by side (default 1024)", "(default CartPole-v1"]),
    ("gymnasium_results.py", [], ["1M env steps", "hours", "Resumable", "A small run:", "--total-steps"]),
])
def test_help_says_the_defaults(script, argv, words):
    """--help left out these defaults (and gymnasium_results.py showed its docstring's first line alone)."""
    done = subprocess.run([sys.executable, str(BENCHMARKS / script), *argv, "--help"], capture_output=True, text=True,
                          env=_env(), timeout=120)
    assert done.returncode == 0, done.stderr
    text = " ".join(done.stdout.split())
    for word in words:
        assert word in text, (word, text)


def test_a_report_timing_other_trees_leaves_out_this_checkouts_commit(monkeypatch):
    """Review: driver_overhead's "Software (both trees)" named the commit of the checkout running it, neither tree's."""
    _results = _import(monkeypatch, "_results")
    recorded = {"python": "3.11", "jax": "0.10.2", "rl-zoo-commit": "abc123"}
    assert _results.software(recorded) == "python 3.11, jax 0.10.2, rl-zoo-commit abc123"
    assert _results.software(recorded, commit=False) == "python 3.11, jax 0.10.2"
    assert "software(commit=False)" in (BENCHMARKS / "driver_overhead.py").read_text()


def test_q_learnings_agents_advice_says_where_the_run_can_go(monkeypatch):
    """Review: on a machine whose cores do not divide 1024, the advice "--agents 1020" led to the refusal to replace the
    committed speed rows: the advice names --out there."""
    q_learning = _import(monkeypatch, "q_learning")
    monkeypatch.setattr(q_learning.os, "cpu_count", lambda: 6)
    parser = q_learning.argparse.ArgumentParser(prog="q_learning.py")
    args = q_learning.argparse.Namespace(what="speed", seeds=10, seed0=q_learning.REPORT_SEED0, tuning_seeds=False, agents=1024,
                                         steps=100_000, repeats=2, out=q_learning.RESULTS)
    monkeypatch.setattr(parser, "error", lambda message: (_ for _ in ()).throw(ValueError(message)))
    with pytest.raises(ValueError, match=r"e\.g\. 1020, with --out DIR: the committed speed rows were measured with --agents 1024"):
        q_learning._check_args(parser, args)


def test_grid_py_notes_only_what_holds_for_the_grid_it_runs(monkeypatch):
    """Review: grid.py's fixed note said "Seeds 1000-1004, held out" and "DQN on Acrobot-v1 is excluded" of a smaller grid
    (--algos ppo --envs CartPole-v1 --seeds 2) too; the default grid's note is the committed one."""
    grid = _import(monkeypatch, "grid")
    default = grid.grid_note(grid.SEED, grid.SEEDS, grid.EXCLUDE)
    assert default.startswith("Seeds 1000-1004, held out: ") and "DQN on Acrobot-v1 is excluded" in default
    assert default.replace("'", "'\"'\"'") in (BENCHMARKS / "results" / "grid" / "report.md").read_text()  # as shlex quotes it
    assert grid.grid_note(0, 2, "") == "Regenerate with python benchmarks/grid.py (see its docstring)."
    assert grid.grid_note(1000, 1, "").startswith("Seed 1000, held out: ")
