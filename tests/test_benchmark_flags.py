"""Bad flags of the benchmark scripts are refused with exit 2 and one line naming the flag, before any
work and before anything is written (some were tracebacks, a table of zeros, or a run that replaced the
committed results). Each script runs from a copy of ``benchmarks/`` with an empty results folder, so
that a broken check cannot touch the committed files. No training."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


@pytest.mark.parametrize("script, argv, message", [
    ("driver_overhead.py", ["--repeats", "0"], "--repeats = 0 is invalid: must be at least 1"),
    ("driver_overhead.py", ["--seeds", "1,x"], "--seeds = '1,x' is invalid: comma-separated seed counts"),
    ("driver_overhead.py", ["--seeds", "1,0"], "--seeds = '1,0' is invalid: every seed count must be at least 1"),
    ("driver_overhead.py", ["--out", "{tmp}"], "is a folder: give the results file to write"),
    ("compile_programs.py", ["--repeats", "0"], "--repeats = 0 is invalid: must be at least 1"),
    ("compile_programs.py", ["--rows", " ; "], "--rows = ' ; ' names no command"),
    ("compile_programs.py", ["--out", "{tmp}"], "is a folder: give the results file to write"),
    ("compile_levels.py", ["--repeats", "0"], "--repeats = 0 is invalid: must be at least 1"),
    ("compile_levels.py", ["--rows", " ; "], "--rows = ' ; ' names no command"),
    ("compile_levels.py", ["--rows", "--algo ppo"], "--rows: '--algo ppo': the following arguments are required: --env"),
    ("compile_levels.py", ["--rows", "--algo ppo --env CartPole-v1 --lr 1"], "unrecognized arguments: --lr 1 (each row takes"),
    ("compile_levels.py", ["--out", "{tmp}"], "is a folder: give the results file to write"),
    ("command_start.py", ["--base", "HEAD", "--train", "--algo ppo --out x"], "--train '--algo ppo --out x': give the run's settings"),
    ("command_start.py", ["--base", "HEAD", "--train", " "], "--train ' ': give the run's settings"),
    ("gymnasium_speed.py", ["--repeats", "0"], "--repeats = 0 is invalid: must be at least 1"),
    ("gymnasium_speed.py", ["--out", "{tmp}/a_file"], "is a file: give the folder for speed.json and speed.md"),
    ("policy_gradient.py", ["returns", "--algo", "sac"], "no row is sac on any env; the rows: trpo CartPole-v1,"),
    ("policy_gradient.py", ["returns", "--env", "Hopper-v5"], "no row is any algorithm on Hopper-v5; the rows:"),
    ("policy_gradient.py", ["returns", "--repeats", "0"], "--repeats = 0 is invalid: must be at least 1"),
    ("policy_gradient.py", ["speed", "max_kl=0.02"], "speed takes no field=value pairs (max_kl=0.02): they are for tune"),
    ("policy_gradient.py", ["tune", "trpo"], "tune needs ALGO ENV [field=value ...]"),
    ("policy_gradient.py", ["report", "--out", "{tmp}/a_file"], "is a file: give the folder for policy_gradient.json"),
    ("env_throughput.py", ["--num-envs", "0"], "--num-envs = 0 is invalid: must be at least 1"),
    ("env_throughput.py", ["--gym-seconds", "0"], "--gym-seconds = 0.0 is invalid: must be above 0"),
    ("gpu_check.py", ["--seeds", "1,0"], "--seeds = '1,0' is invalid: every seed count must be at least 1"),
    ("gpu_check.py", ["--seeds", "1,a"], "--seeds = '1,a' is invalid: comma-separated seed counts, such as 1,64,512"),
    ("ppo_speed.py", ["--seeds", "1,x"], "--seeds = '1,x' is invalid: comma-separated seed counts, such as 1,16"),
    ("ppo_speed.py", ["--repeats", "0"], "--repeats = 0 is invalid: must be at least 1"),
    ("gpu_check.py", ["--sweep-separate", "13"], "--sweep-separate = 13 is invalid: 0 (skip) to 12"),
    ("gpu_determinism.py", ["--steps", "100"], "--steps = 100 is invalid: must be at least one update's batch"),
    ("gpu_determinism.py", ["--repeats", "0"], "--repeats = 0 is invalid: must be at least 1"),
    ("gpu_determinism.py", ["--train-repeats", "-1"], "--train-repeats = -1 is invalid: must be at least 0"),
    ("gpu_determinism.py", ["--out", "{tmp}"], "is a folder: give the results file to write"),
    ("gpu_determinism.py", ["--variants", "default,fast"], "--variants = 'default,fast' is invalid: comma-separated, of default,"),
    ("segment_calls.py", ["--render", "{tmp}/nope.json"], "nope.json: no such file"),
    ("segment_calls.py", ["--render", "{tmp}/a_file"], "not the JSON object this script prints"),
    ("segment_calls.py", ["--out", "{tmp}/no/such.md"], "no/such.md: no folder"),
    ("segment_calls.py", ["--out", "{tmp}"], "is a folder: give the results file to write"),
    ("segment_calls.py", ["--where", "here"], "--where names the machine of a rendered table"),
    ("gymnasium_results.py", ["run", "--only", "ppo:Hopper-v5,ppo:Foo-v1"], "--only ppo:Foo-v1: no such cell; the cells: ppo:"),
    ("gymnasium_results.py", ["report", "--out", "{tmp}/a_file"], "is a file: give the folder for the cells"),
    ("gymnasium_results.py", ["report", "--out", "{tmp}/typo"], "holds no cells"),
    ("flat_optimizer.py", ["--repeats", "0"], "--repeats = 0 is invalid: must be at least 1"),
    ("flat_optimizer.py", ["--steps", "-3"], "--steps = -3 is invalid: must be at least 1"),
    ("flat_optimizer.py", ["--out", "{tmp}"], "is a folder: give the results file to write"),
    ("arithmetic_floor.py", ["--repeats", "0"], "--repeats = 0 is invalid: must be at least 1"),
    ("command_start.py", ["--base", "HEAD", "--repeats", "0"], "--repeats = 0 is invalid: must be at least 1"),
    ("cpu_split.py", ["--seeds", "0"], "--seeds = 0 is invalid: must be at least 1"),
    ("q_learning.py", ["--agents", "0"], "--agents = 0 is invalid: must be at least 1"),
    ("ml_dtypes_import.py", ["--repeats", "0"], "--repeats = 0 is invalid: must be at least 1"),
    ("ml_dtypes_import.py", ["--versions", "0.6.0"], "--versions '0.6.0': give at least two, comma-separated"),
    ("peer_speed.py", ["--repeats", "0"], "--repeats = 0 is invalid: must be at least 1"),
    ("peer_speed.py", ["--out", "{tmp}"], "is a folder: give the results file to write"),
    ("sweep_speed.py", ["--seeds", "0"], "--seeds = 0 is invalid: must be at least 1"),
    ("sweep_speed.py", ["--out", "{tmp}"], "is a folder: give the results file to write"),
    ("arithmetic_floor.py", ["--out", "{tmp}"], "is a folder: give the results file to write"),
    ("command_start.py", ["--base", "HEAD", "--out", "{tmp}"], "is a folder: give the results file to write"),
    ("cpu_split.py", ["--out", "{tmp}"], "is a folder: give the results file to write"),
    ("env_throughput.py", ["--out", "{tmp}"], "is a folder: give the results file to write"),
    ("ppo_speed.py", ["--out", "{tmp}"], "is a folder: give the results file to write"),
    ("ml_dtypes_import.py", ["--out", "{tmp}"], "is a folder: give the results file to write"),
    ("gpu_check.py", ["--out", "{tmp}"], "is a folder: give the results file to write"),
    ("gpu_check.py", ["--sweep-md", "{tmp}"], "--sweep-md {tmp} is a folder: give the results file to write"),
    ("dqn.py", ["learning", "--out", "{tmp}/a_file"], "is a file: give the folder for dqn.json and dqn.md"),
    ("q_learning.py", ["--out", "{tmp}/a_file"], "is a file: give the folder for q_learning.json and q_learning.md"),
    ("ppo_learning.py", ["--out", "{tmp}/a_file"], "is a file: give the folder for ppo_learning.json and .md"),
    # a review: tracebacks after set-up (an unknown algorithm or field, a missing result file, an id not a port)
    ("ppo_learning.py", ["--algo", "foo", "--cells", "CartPole-v1"], "--algo 'foo' is not an algorithm: ppo, ppo-kl"),
    ("dqn.py", ["learning", "CartPole-v1", "--algo", "foo"], "--algo 'foo': this benchmark runs dqn or double-dqn"),
    ("dqn.py", ["add", "{tmp}/missing.json"], "add: {tmp}/missing.json: no such result file"),
    ("dqn.py", ["figure", "{tmp}/missing.json"], "figure: {tmp}/missing.json: no such result file"),
    ("policy_gradient.py", ["tune", "trpo", "CartPole-v1", "bogus=1"], "tune trpo CartPole-v1: unknown config field 'bogus'"),
    ("env_throughput.py", ["--ids", "Foo-v0", "--quick"], "--ids: Foo-v0 is not a JAX port; the ports: Acrobot-v1"),
])
def test_bad_flags_are_refused_before_any_work(script, argv, message, tmp_path):
    copy = tmp_path / "benchmarks"
    (copy / "results").mkdir(parents=True)
    for path in BENCHMARKS.glob("*.py"):
        shutil.copy(path, copy / path.name)
    (tmp_path / "a_file").write_text("mine\n")
    before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(BENCHMARKS.parent), os.environ.get("PYTHONPATH", "")]))
    argv = [a.format(tmp=tmp_path) for a in argv]
    message = message.format(tmp=tmp_path)
    done = subprocess.run([sys.executable, str(copy / script), *argv], capture_output=True, text=True, timeout=120,
                          env=env, cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    assert f"{script}: error: " in done.stderr and message in done.stderr, done.stderr
    assert "Traceback" not in done.stderr
    assert sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*") if "__pycache__" not in p.parts) == before
    assert (tmp_path / "a_file").read_text() == "mine\n"


def test_gymnasium_speed_writes_into_its_out_folder_and_keeps_its_other_envs(tmp_path, monkeypatch):
    """``gymnasium_speed.py --out DIR`` (it wrote only to benchmarks/results/gymnasium): speed.json and
    speed.md go to DIR, and an env measured there by an earlier call stays in both, as does a section written
    by hand below speed.md's tables (a rerun dropped it)."""
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    import gymnasium_speed

    sys.modules.pop("gymnasium_speed", None)
    committed = {p: p.stat().st_mtime_ns for p in (BENCHMARKS / "results" / "gymnasium").glob("speed.*")}
    run = dict(wall_s=10.0, final_return=100.0, compile_s=2.0, train_s=7.0, eval_env_steps=5_000)

    def results(env_id):
        return dict(machine="Some CPU, 2 cores", uptime_before="up", sb3="2.9", torch="2.13", steps=100_000, repeats=1,
                    envs={env_id: dict(settings={}, runs={"sb3": [dict(wall_s=20.0, final_return=90.0)],
                                                          "rl-zoo 1 seed cold": [run]},
                                       bare_env_steps_per_s={"sync x8": 1234.0}, uptime_after="up")})

    gymnasium_speed.write(results("LunarLander-v3"), tmp_path)
    reading = "\n## What else ran (written by hand)\n\nThe third repeat shared the machine.\n"
    with open(tmp_path / "speed.md", "a") as page:
        page.write(reading)
    gymnasium_speed.write(results("Hopper-v5"), tmp_path)
    text = (tmp_path / "speed.md").read_text()
    assert "| LunarLander-v3 | rl-zoo 1 seed cold | 10.0 | 10.0 | 0.50 | <= 0.6: met |" in text
    assert "| Hopper-v5 | rl-zoo 1 seed cold | 10.0 |" in text and "| Hopper-v5 | sync x8 | 1,234 |" in text
    assert text.endswith("| Hopper-v5 | sync x8 | 1,234 |\n" + reading), text  # the hand-written section kept, once
    assert {p: p.stat().st_mtime_ns for p in (BENCHMARKS / "results" / "gymnasium").glob("speed.*")} == committed


def test_gymnasium_results_reports_into_its_out_folder(tmp_path):
    """``gymnasium_results.py report --out DIR`` (it wrote only to benchmarks/results/gymnasium): with one
    committed cell copied into DIR, DIR's page has that cell's row as the committed page has it, every
    other cell still to run with a command into DIR, and the committed page is not touched."""
    committed = BENCHMARKS / "results" / "gymnasium"
    page = (committed / "README.md").read_text()
    shutil.copytree(committed / "cells" / "dqn-LunarLander-v3", tmp_path / "out" / "cells" / "dqn-LunarLander-v3")
    done = subprocess.run([sys.executable, str(BENCHMARKS / "gymnasium_results.py"), "report", "--out", str(tmp_path / "out")],
                          capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    written = (tmp_path / "out" / "README.md").read_text()
    row = next(line for line in page.splitlines() if line.startswith("| dqn | LunarLander-v3 |"))
    assert row in written.splitlines()
    assert "| ppo | Hopper-v5 | - (1000k) | not run yet |" in written
    assert f"--out {tmp_path.resolve() / 'out' / 'cells' / 'ppo-Hopper-v5'} --no-progress" in written
    assert (tmp_path / "out" / "curves.png").stat().st_size > 0
    assert (committed / "README.md").read_text() == page


def test_a_benchmark_scripts_row_records_its_software_and_the_report_reads_the_rows(monkeypatch):
    """The scripts' results rows kept no jax, jaxlib, numpy or commit; ppo_learning.md printed the jax and core
    count of the process that wrote the report, not of the runs (rows of 2026-11-30 under today's jax)."""
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    import _results
    import ppo_learning

    recorded = _results.versions()
    assert {"jax", "jaxlib", "numpy", "jax_enable_x64"} <= set(recorded) and "cpu" not in recorded and "flax" not in recorded
    row = dict(final=[1.0], cpu="AMD EPYC", cores=2, versions=dict(jax="0.9.9"))
    old = dict(final=[1.0])
    text = ppo_learning.report("ppo", {"a": row, "b": old})
    assert "Measured on AMD EPYC, 2 cores (shared with other jobs), jax 0.9.9 (older rows: not recorded)" in text
    assert "a jax version not recorded" in ppo_learning.report("ppo", {"b": old})


def test_a_report_into_a_folder_not_there_yet_is_written(tmp_path, monkeypatch):
    """peer_speed, ppo_speed, cpu_split, arithmetic_floor and flat_optimizer wrote their report with a bare ``write_text``: an
    ``--out`` in a folder not made yet lost the whole run at that last write. ``write_report`` makes the folder,
    as ``save_results`` does for the JSON beside it."""
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    import _results

    path = tmp_path / "new" / "deeper" / "peer_speed.md"
    _results.write_report(path, "| row |\n")
    assert path.read_text() == "| row |\n"


def test_a_rerun_writes_its_report_above_what_the_file_held(tmp_path, monkeypatch):
    """Rerunning a speed script (``python benchmarks/peer_speed.py``, its default ``--out``) replaced the whole
    results file: the earlier tables and the readings written by hand below them (peer_speed.md held a
    thousand lines of them) were gone. ``write_report`` now puts the new report on top and keeps the rest
    under a dated heading, its repeated title line once; the same text twice is written once."""
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    import _results

    path = tmp_path / "peer_speed.md"
    _results.write_report(path, "# Peers\n\n| old table |\n")
    path.write_text(path.read_text() + "\n## Reading (by hand)\n\n* slower host\n")
    _results.write_report(path, "# Peers\n\n| new table |\n")
    text = path.read_text()
    assert text.startswith("# Peers\n\n| new table |\n\n## Earlier in this file (before the report above, written ")
    assert text.endswith(" UTC)\n\n| old table |\n\n## Reading (by hand)\n\n* slower host\n")
    assert text.count("# Peers") == 1 and not list(tmp_path.glob("*.tmp"))
    _results.write_report(path, text)
    assert path.read_text() == text
    other = tmp_path / "other.md"
    other.write_text("# Another title\n")
    _results.write_report(other, "# Peers\n| t |\n")
    assert other.read_text().endswith(" UTC)\n\n# Another title\n")
    only_title = tmp_path / "only_title.md"
    only_title.write_text("# Peers\n")
    _results.write_report(only_title, "# Peers\n| t |\n")
    assert only_title.read_text() == "# Peers\n| t |\n"


def test_a_report_rewritten_after_every_row_keeps_only_what_the_file_held_before_the_run(tmp_path, monkeypatch):
    """gpu_check.py and gpu_determinism.py rewrite their report after every row: read from the file each time, the
    run's own partial tables piled up under "Earlier in this file", one inside the other (4 writes, 3 stale copies).
    What the file held is read once, at the start (``file_text``), and passed as ``earlier``."""
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    import _results

    path = tmp_path / "gpu_check.md"
    path.write_text("# GPU check\n\n| last week's table |\n")
    earlier = _results.file_text(path)
    for rows in range(1, 4):
        _results.write_report(path, "# GPU check\n\n" + "| row |\n" * rows, earlier)
    text = path.read_text()
    assert text.startswith("# GPU check\n\n| row |\n| row |\n| row |\n\n## Earlier in this file")
    assert text.count("## Earlier in this file") == 1 and text.endswith(" UTC)\n\n| last week's table |\n")
    assert _results.file_text(tmp_path / "none.md") == ""
    for script in ("gpu_check.py", "gpu_determinism.py"):  # both pass the run's start to every write
        assert "earlier = file_text(" in (BENCHMARKS / script).read_text() or ", file_text(args.out)" in (BENCHMARKS / script).read_text()


def test_env_throughputs_quick_keeps_the_flags_given_with_it(monkeypatch):
    """``--quick --scan-steps 10 --repeats 1 --gym-seconds 0.2`` measured with 100, 2 and 0.5: --quick replaced them."""
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    import env_throughput

    seen = {}

    def measured(env_id, num_envs, scan_steps, repeats, impl="threefry2x32"):
        seen.update(scan_steps=scan_steps, repeats=repeats)
        raise SystemExit(0)  # the settings are all this test needs

    monkeypatch.setattr(env_throughput, "bench_jax", measured)
    with pytest.raises(SystemExit):
        env_throughput.main(["--quick", "--ids", "CartPole-v1", "--scan-steps", "10"])
    assert seen == dict(scan_steps=10, repeats=2)  # the flag given, and --quick's value for the one not given


def test_compile_programs_matches_repeats_by_name_and_says_the_compiles_overlap(monkeypatch):
    """Review: since the driver compiles the evaluation beside the segment, the report called each program's
    seconds "of that program alone", summed overlapping seconds past the plan's compile without a word, and matched
    repeats by position, where the finishing order can differ between them."""
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    import compile_programs

    def run(compile_s, programs):
        return dict(wall_s=10.0, compile_s=compile_s, train_s=1.0, final_return_mean=9.0,
                    programs=[dict(program=n, compile_s=s, hlo_chars=c, beside=b) for n, s, c, b in programs])

    runs = [run(5.0, [("jit_eval_all", 1.0, 10, True), ("jit_segment", 5.0, 20, False)]),
            run(6.0, [("jit_segment", 3.0, 20, False), ("jit_eval_all", 2.0, 10, True)]),
            run(5.5, [("jit_eval_all", 3.0, 10, True), ("jit_segment", 4.0, 20, False)])]
    text = compile_programs.report({"--algo ppo": runs}, dict(when="w", machine="m", command="c", versions={},
                                                              load_before=1, load_after=2))
    assert "| jit_eval_all | beside | 2.00 | 1.00, 2.00, 3.00 | 10 |" in text
    assert "| jit_segment | main | 4.00 | 5.00, 3.00, 4.00 | 20 |" in text
    assert "| all programs, summed | | 6.00 (overlapping: 0.50 s more than the plan's whole compile) | | |" in text
    assert "alone" not in text


def test_gymnasium_results_passes_sigterm_on_to_its_grid(tmp_path):
    """Review: SIGTERM to `benchmarks/gymnasium_results.py run` (a script meant for the background) killed it alone:
    its `rl-zoo benchmark` trained on, and the same command again was refused, the cell's folder in use."""
    import signal
    import time

    pid_file = tmp_path / "child.pid"
    child = f"import os, time; open({str(pid_file)!r}, 'w').write(str(os.getpid())); time.sleep(120)"
    code = (f"import sys; sys.path.insert(0, {str(BENCHMARKS)!r}); import gymnasium_results as g; "
            f"sys.exit(g._run_child([sys.executable, '-c', {child!r}]))")
    script = subprocess.Popen([sys.executable, "-c", code])
    deadline = time.time() + 60
    while time.time() < deadline and not (pid_file.exists() and pid_file.read_text()):
        time.sleep(0.1)
    pid = int(pid_file.read_text())
    script.send_signal(signal.SIGTERM)
    assert script.wait(timeout=30) == 143
    with pytest.raises(ProcessLookupError):  # gone (and reaped by the script's wait)
        os.kill(pid, 0)
