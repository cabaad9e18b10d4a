"""The benchmark grid: planning (skips with reason, bad names), a tiny grid end to end (tables in CSV and
Parquet, finished cells skipped on re-run, report and figures), interpolation onto the shared grid."""

import json
from pathlib import Path

import numpy as np
import pytest

from rl_zoo import benchmark as bm
from rl_zoo import runs
from rl_zoo.cli import main

TINY = dict(algos="ppo,vpg", env_ids="CartPole-v1", seeds=2, total_steps=4096, points=2, eval_episodes=2)


def test_plan_skips_what_cannot_run_with_the_reason(tmp_path):
    cells = bm.plan_grid("ppo,dqn", "CartPole-v1,Pendulum-v1", seeds=2, out=tmp_path)
    status = {(c.algo, c.env): c.status for c in cells}
    assert status == {("ppo", "CartPole-v1"): "run", ("dqn", "CartPole-v1"): "run",
                      ("ppo", "Pendulum-v1"): "run", ("dqn", "Pendulum-v1"): "skipped"}
    skipped = next(c for c in cells if c.status == "skipped")
    assert "continuous" in skipped.reason and "discrete" in skipped.reason
    assert {c.total_steps for c in cells if c.env == "CartPole-v1"} == {bm.ENV_REFERENCES["CartPole-v1"].steps}
    assert not any(tmp_path.iterdir())  # planning writes nothing
    cells = bm.plan_grid("ppo,dqn", "CartPole-v1", seeds=2, out=tmp_path, exclude="dqn:CartPole-v1")
    assert [(c.algo, c.status) for c in cells] == [("ppo", "run"), ("dqn", "skipped")]
    assert "excluded" in cells[1].reason
    with pytest.raises(ValueError, match="--exclude expects ALGO:ENV"):
        bm.plan_grid("ppo", "CartPole-v1", out=tmp_path, exclude="dqn:CartPole-v1")


def test_the_plan_and_the_cells_bar_count_the_env_steps_whole_updates_run(tmp_path):
    """A 5,000-step PPO cell (updates of 4 x 64 = 256 steps) runs 4,864: the plan said "2 seed(s) x 5,000 env
    steps" and the cell's bar counted to 10,000, its last redraw before "done" at 82%. Each algorithm's config
    says the steps of one update as its agent does."""
    import envs

    from rl_zoo import algos as registry
    from rl_zoo.train import resolve_config

    sets = ["ppo:num_envs=4", "ppo:num_steps=64", "dqn:num_envs=1", "dqn:train_frequency=4"]
    cells = bm.plan_grid("ppo,dqn", "CartPole-v1", seeds=2, total_steps=5000, out=tmp_path, sets=sets)
    ppo, dqn = cells
    assert (ppo.per_update, ppo.steps_run, dqn.steps_run) == (256, 4864, 5000)
    lines = bm.format_plan(cells).splitlines()
    assert "2 seed(s) x 4,864 env steps (5,000 asked: whole updates of 256)" in lines[0]
    long = bm.format_plan(bm.plan_grid("ppo,double-q-learning", "FrozenLake-v1", seeds=1, total_steps=5000, out=tmp_path / "q"))
    # the default seeds are held out: seed 0 up were those the tuned configs were chosen on, reported unsaid
    assert [c.spec.seed for c in bm.plan_grid("ppo", "CartPole-v1", out=tmp_path / "d")] == [1000]
    assert len({line.index("FrozenLake-v1") for line in long.splitlines()}) == 1  # double-q-learning pushed its columns
    assert lines[1].endswith("2 seed(s) x 5,000 env steps")
    for algo, env_id in (("ppo", "CartPole-v1"), ("vpg", "Pendulum-v1"), ("trpo", "Acrobot-v1"), ("dqn", "CartPole-v1"),
                         ("q-learning", "FrozenLake-v1")):
        module = registry.get(algo)[0]
        _, config = resolve_config(algo, env_id, {}, 3000)
        agent = module.make_agent(config, *envs.make(env_id))
        assert config.env_steps_per_update == agent.env_steps_per_update, algo


def test_bad_names_and_configs_are_refused_before_compiling(tmp_path, capsys):
    with pytest.raises(ValueError) as e:
        bm.plan_grid("ppx,ppo", "CartPol-v1", out=tmp_path)
    assert "Known algorithms: ppo" in str(e.value) and "CartPole-v1" in str(e.value)
    with pytest.raises(ValueError, match="ppo on CartPole-v1: --total-steps = 10 is invalid: must be at least one batch"):
        bm.plan_grid("ppo", "CartPole-v1", total_steps=10, out=tmp_path)
    # a grid of more points than env steps was allocated whole after the cells trained (a gigabyte array per 1e8)
    with pytest.raises(ValueError, match="--points = 20,001 is invalid: at most the smallest env budget, 20,000 env steps \\(Acrobot-v1\\)"):
        bm.plan_grid("ppo", "CartPole-v1,Acrobot-v1", total_steps="CartPole-v1=50000,Acrobot-v1=20000", points=20_001, out=tmp_path)
    # a budget of 0 is refused as a budget (not by the --points check it would then fail), and --points
    # equal to the smallest budget (one point per env step) is the largest allowed
    with pytest.raises(ValueError, match="--total-steps for CartPole-v1 = 0 is invalid: must be at least 1"):
        bm.plan_grid("ppo", "CartPole-v1", total_steps="CartPole-v1=0", points=1, out=tmp_path)
    cells = bm.plan_grid("ppo", "CartPole-v1,Acrobot-v1", total_steps="CartPole-v1=50000,Acrobot-v1=20000", points=20_000, out=tmp_path)
    assert [c.status for c in cells] == ["run", "run"]
    with pytest.raises(ValueError, match="--set 'ppo:total_timesteps=2048': a grid sets each env's budget with --total-steps"):
        bm.plan_grid("ppo", "CartPole-v1", sets=["ppo:total_timesteps=2048"], out=tmp_path)  # every cell failed on it
    with pytest.raises(ValueError, match="--points = 0 is invalid: must be at least 1"):
        bm.plan_grid("ppo", "CartPole-v1", points=0, out=tmp_path)
    assert main(["benchmark", "--algos", "ppo,nope", "--envs", "CartPole-v1", "--out", str(tmp_path / "b")]) == 2
    assert "Known algorithms" in capsys.readouterr().err
    assert not (tmp_path / "b").exists()
    assert main(["benchmark", "--algos", "ppo,dqn", "--envs", "Pendulum-v1", "--dry-run", "--out", str(tmp_path / "b")]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"benchmark grid -> {tmp_path / 'b'}: 1 cell(s) to run, 0 finished before with the same config "
                          f"(skipped), 1 skipped (cannot run, or excluded)\n")  # where it goes, as the real run says
    assert "dqn" in out and "cannot run" in out and "continuous" in out
    # nothing that can run (a review: it wrote a folder with an empty report and exit 0): refused, nothing written;
    # a dry run shows the plan, then the same refusal
    for dry in ([], ["--dry-run"]):
        assert main(["benchmark", "--algos", "dqn", "--envs", "Pendulum-v1", "--out", str(tmp_path / "b"), *dry]) == 2
        err = capsys.readouterr().err
        assert err.startswith("rl-zoo: error: nothing to run: every cell of the grid is skipped (dqn on Pendulum-v1: DQN "
                              "cannot run") and len(err.splitlines()) == 1
        assert not (tmp_path / "b").exists()
    # a sweep folder or a run directory as --out: its report.md / files would be replaced
    (tmp_path / "sweep").mkdir()
    (tmp_path / "sweep" / "sweep.json").write_text("{}")
    (tmp_path / "sweep" / "report.md").write_text("SWEEP REPORT")
    assert main(["benchmark", "--algos", "ppo", "--envs", "CartPole-v1", "--out", str(tmp_path / "sweep")]) == 2
    assert "is a sweep folder" in capsys.readouterr().err
    assert (tmp_path / "sweep" / "report.md").read_text() == "SWEEP REPORT" and not (tmp_path / "sweep" / "cells").exists()
    assert sorted(p.name for p in (tmp_path / "sweep").iterdir()) == ["report.md", "sweep.json"]  # not even a lock file
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "config.json").write_text("{}")
    with pytest.raises(ValueError, match="is a run directory"):
        bm.plan_grid("ppo", "CartPole-v1", out=tmp_path / "run")


def test_total_steps_and_sets_parsing():
    assert bm.parse_total_steps(None, ["CartPole-v1", "Foo-v0"]) == {"CartPole-v1": 100_000, "Foo-v0": bm.FALLBACK_STEPS}
    assert bm.parse_total_steps("5000", ["CartPole-v1", "Acrobot-v1"]) == {"CartPole-v1": 5000, "Acrobot-v1": 5000}
    assert bm.parse_total_steps("Acrobot-v1=7_000", ["CartPole-v1", "Acrobot-v1"]) == {"CartPole-v1": 100_000, "Acrobot-v1": 7000}
    with pytest.raises(ValueError, match="not in the grid"):
        bm.parse_total_steps("Pendulum-v1=5", ["CartPole-v1"])
    # an env given twice kept the last value, unsaid; the same value twice is the same thing said twice
    with pytest.raises(ValueError, match=r"--total-steps gives CartPole-v1 twice \(3,000 and 5,000\): give it once"):
        bm.parse_total_steps("CartPole-v1=3000,CartPole-v1=5000", ["CartPole-v1"])
    assert bm.parse_total_steps("CartPole-v1=3000,CartPole-v1=3e3", ["CartPole-v1"]) == {"CartPole-v1": 3000}
    assert bm.parse_sets(["ppo:learning_rate=0.1", "gamma=0.9"], ["ppo", "vpg"]) == {
        "ppo": {"learning_rate": "0.1", "gamma": "0.9"}, "vpg": {"gamma": "0.9"}}
    with pytest.raises(ValueError, match="not in the grid"):
        bm.parse_sets(["dqn:gamma=0.9"], ["ppo"])
    # review: `--set ppo:learning_rate=5e-3 --set learning_rate=1e-3` trained ppo at 1e-3 (the last one won, unsaid);
    # an algorithm's own value wins in either order, and a key given twice for the same algorithms is refused
    for order in (["ppo:learning_rate=5e-3", "learning_rate=1e-3"], ["learning_rate=1e-3", "ppo:learning_rate=5e-3"]):
        assert bm.parse_sets(order, ["ppo", "dqn"]) == {"ppo": {"learning_rate": "5e-3"}, "dqn": {"learning_rate": "1e-3"}}
    with pytest.raises(ValueError, match=r"--set learning_rate is given twice \('learning_rate=1e-3' and 'learning_rate=5e-3'\)"):
        bm.parse_sets(["learning_rate=1e-3", "learning_rate=5e-3"], ["ppo"])
    with pytest.raises(ValueError, match=r"--set gamma is given twice for ppo \('ppo:gamma=0.9' and 'ppo:gamma=0.8'\)"):
        bm.parse_sets(["ppo:gamma=0.9", "ppo:gamma=0.8", "dqn:gamma=0.8"], ["ppo", "dqn"])
    # review: a second --total-steps ENV=N replaced the first, whose env fell back to its default budget
    assert bm.join_total_steps(["CartPole-v1=4096", "Acrobot-v1=2048"]) == "CartPole-v1=4096,Acrobot-v1=2048"
    assert bm.join_total_steps(None) is None and bm.join_total_steps(["5000"]) == "5000"
    with pytest.raises(ValueError, match=r"--total-steps is given 2 times \(4096, Acrobot-v1=4096\): give N"):
        bm.join_total_steps(["4096", "Acrobot-v1=4096"])


def test_a_set_some_algorithms_lack_and_an_error_of_every_env_are_said_once(tmp_path):
    """`--set learning_rate=1e-3` on the default grid said "unknown config field" once per TRPO cell, each line with
    every TRPO field; a typo said it once per cell of every algorithm."""
    with pytest.raises(ValueError) as e:
        bm.plan_grid("ppo,trpo,dqn", "CartPole-v1,Acrobot-v1", sets=["learning_rate=1e-3"], out=tmp_path)
    assert str(e.value) == ("--set 'learning_rate=1e-3' sets every algorithm of the grid, and trpo has no config field "
                            "'learning_rate': name the algorithms that take it (--set ppo:learning_rate=1e-3 "
                            "--set dqn:learning_rate=1e-3)")
    cells = bm.plan_grid("ppo,trpo", "CartPole-v1", sets=["ppo:learning_rate=1e-3", "gamma=0.9"], out=tmp_path)
    assert [c.spec.overrides for c in cells] == [{"learning_rate": "1e-3", "gamma": "0.9"}, {"gamma": "0.9"}]
    with pytest.raises(ValueError) as e:
        bm.plan_grid("ppo,trpo", "CartPole-v1,Acrobot-v1", sets=["gama=0.9"], out=tmp_path)
    lines = str(e.value).splitlines()
    assert [line.split(": ", 1)[0] for line in lines] == ["ppo on every env of the grid", "trpo on every env of the grid"]
    assert all("unknown config field 'gama' (did you mean 'gamma'?)" in line for line in lines)
    with pytest.raises(ValueError) as e:  # an error of some envs' cells names them
        bm.plan_grid("trpo", "CartPole-v1,Acrobot-v1,Pendulum-v1", total_steps="Pendulum-v1=100", out=tmp_path)
    assert str(e.value).startswith("trpo on Pendulum-v1: --total-steps = 100 is invalid") and "\n" not in str(e.value)


def test_interpolation_onto_the_shared_grid():
    grid = bm.shared_grid(1000, 4)
    np.testing.assert_array_equal(grid, [0, 250, 500, 750, 1000])
    rows = [dict(seed=0, env_steps=s, wall_s=w, **{"return": r}) for s, w, r in [(0, 0.0, 0.0), (400, 2.0, 4.0), (800, 4.0, 8.0)]]
    ret, wall = bm.interpolate_runs(rows, grid)[0]
    np.testing.assert_allclose(ret, [0.0, 2.5, 5.0, 7.5, 8.0])  # held flat after the last evaluation (800)
    np.testing.assert_allclose(wall, [0.0, 1.25, 2.5, 3.75, 4.0])


@pytest.fixture(scope="module")
def tiny(seed_offset):
    """The tiny grid's arguments, its first seed shifted by ``--seed-offset``."""
    return dict(TINY, seed=seed_offset)


@pytest.fixture(scope="module")
def tiny_grid(tmp_path_factory, tiny):
    out = tmp_path_factory.mktemp("bench") / "grid"
    lines: list[str] = []
    result = bm.run_benchmark(**tiny, out=out, progress=True, log=lines.append, note="A remark for the report.")
    return out, result, lines


@pytest.mark.slow  # the tiny grid (15 s to train); the planning, parsing and record tests stay in the default run
def test_tiny_grid_writes_tables_and_report(tiny_grid, tiny):
    out, result, lines = tiny_grid
    assert [c.status for c in result.cells] == ["done", "done"]
    # each cell records the commit that trained it (None only outside a git checkout)
    records = [bm.read_cell_record(p) for p in sorted(out.rglob("cell.json"))]
    assert len(records) == 2 and {r.result.commit for r in records} == {runs.versions().get("rl-zoo-commit")}
    rows = runs.read_csv(out / "returns.csv")
    assert list(rows[0]) == list(bm.RETURN_FIELDS)
    assert len(rows) == 2 * 2 * 3  # algorithms x seeds x grid points (0, 2048, 4096)
    assert {int(r["env_steps"]) for r in rows} == {0, 2048, 4096}
    assert {int(r["seed"]) for r in rows} == {tiny["seed"], tiny["seed"] + 1}
    import pyarrow.parquet as pq

    table = pq.read_table(out / "returns.parquet")
    assert table.num_rows == len(rows) and table.column_names == list(bm.RETURN_FIELDS)
    np.testing.assert_allclose(table.column("return").to_numpy(), [float(r["return"]) for r in rows])
    cells = runs.read_csv(out / "cells.csv")
    assert [(c["algo"], c["status"]) for c in cells] == [("ppo", "done"), ("vpg", "done")]
    for c in cells:
        assert float(c["compile_s"]) > 0 and float(c["run_s"]) > 0 and float(c["env_steps_per_s"]) > 0
        assert float(c["peak_memory_mb"]) > 0 and int(c["env_steps_per_seed"]) == 4096
    for c in cells:  # the env steps one update consumes: PPO on CartPole 8 envs x 32 steps
        agent = json.loads((out / "cells" / f"{c['algo']}__CartPole-v1" / "agent.json").read_text())
        assert int(c["env_steps_per_update"]) == agent["env_steps_per_update"] > 0
    assert cells[0]["env_steps_per_update"] == "256"
    assert pq.read_table(out / "cells.parquet").num_rows == 2
    report = (out / "report.md").read_text()
    assert "A remark for the report." in report and "2 seeds per cell" in report
    assert "| CartPole-v1 | ppo |" in report and "![CartPole-v1 learning curves](curves_CartPole-v1.png)" in report
    for png in ("curves_CartPole-v1.png", "aggregate.png", "profile.png"):
        assert (out / png).stat().st_size > 5000
    records = bm.load_cells(out)  # typed records, and the tables are exactly what they give
    assert [(r.algo, r.status, r.seeds) for r in records] == [("ppo", "done", 2), ("vpg", "done", 2)]
    assert all(r.result.compile_s > 0 and r.spec.key == r.spec.identity() for r in records)
    assert bm.read_cells_table(out / "cells.csv") == bm.read_cells_table(out / "cells.parquet") == [r.table_row() for r in records]
    assert bm.read_returns_table(out / "returns.csv") == bm.load_returns(out)
    summary = bm.summarize(out)
    assert [(r.algo, r.n_seeds, r.total_steps) for r in summary.table] == [("ppo", 2, 4096), ("vpg", 2, 4096)]
    assert set(summary.normalised) == {"ppo", "vpg"}


@pytest.mark.slow  # needs the tiny grid
def test_rerun_skips_finished_cells_and_refuses_a_changed_config(tiny_grid, tiny, tmp_path):
    out, _, _ = tiny_grid
    before = {p: p.stat().st_mtime_ns for p in out.glob("cells/*/run/metrics.csv")}
    made = json.loads((out / "benchmark.json").read_text())
    made["versions"]["rl-zoo"] = "0.0.1-made-them"  # the version of the run whose timings the report gives
    (out / "benchmark.json").write_text(json.dumps(made))
    lines: list[str] = []
    result = bm.run_benchmark(**tiny, jobs=2, out=out, progress=False, report=False, log=lines.append)
    assert [c.status for c in result.cells] == ["done", "done"]
    # nothing ran: --jobs 2 read it again, but the timings are the --jobs 1 run's ("2 cell(s) at a time" beside them)
    kept = json.loads((out / "benchmark.json").read_text())
    assert (kept["jobs"], kept["versions"]["rl-zoo"], kept["grid_wall_s"]) == (1, "0.0.1-made-them", made["grid_wall_s"])
    from rl_zoo import runs  # but the commit is this process's: the report's "written at", beside the cells' commits

    assert kept["versions"].get("rl-zoo-commit") == runs.versions().get("rl-zoo-commit")
    text = "\n".join(lines)
    assert "0 cell(s) to run, 2 finished before with the same config (skipped)" in text and "finished before, same config" in text
    assert {p: p.stat().st_mtime_ns for p in out.glob("cells/*/run/metrics.csv")} == before  # nothing re-ran
    with pytest.raises(ValueError, match="(?s)different config.*total_steps 4096 -> 8192.*--rerun"):
        bm.plan_grid(**{**tiny, "total_steps": 8192}, out=out)


@pytest.mark.slow  # needs the tiny grid
def test_plot_command_writes_report_and_pngs(tiny_grid, tmp_path, capsys):
    out, _, _ = tiny_grid
    target = tmp_path / "figs" / "summary.md"
    assert main(["plot", str(out), "-o", str(target)]) == 0
    assert str(target) in capsys.readouterr().out
    for png in ("curves_CartPole-v1.png", "aggregate.png", "profile.png"):
        assert (target.parent / png).stat().st_size > 5000
    assert "Aggregate across envs" in target.read_text()
    # a run directory of `rl-zoo train` gets its single learning curve
    run = next(out.glob("cells/ppo__*/run"))
    assert main(["plot", str(run), "-o", str(tmp_path / "one.png")]) == 0
    assert (tmp_path / "one.png").stat().st_size > 1000
    assert main(["plot", str(tmp_path)]) == 2
    config = json.loads((run / "config.json").read_text())
    assert config["seeds"] == 2 and config["config"]["total_timesteps"] == 4096


@pytest.mark.slow  # a killed grid resumed (16 s); test_benchmark_reliability keeps the kill -9 / lock checks
def test_killed_benchmark_resumes_its_cell_from_the_checkpoint(tmp_path, seed_offset):
    """A benchmark killed mid-cell continues that cell from its last checkpoint when run again."""
    import os
    import signal
    import subprocess
    import sys
    import time

    from rl_zoo import checkpoint

    out = tmp_path / "bench"
    cmd = [sys.executable, "-m", "rl_zoo.cli", "benchmark", "--algos", "ppo", "--envs", "CartPole-v1", "--seeds", "2",
           "--total-steps", "40960", "--points", "40", "--eval-episodes", "2", "--out", str(out), "--no-progress",
           "--seed", str(1000 + seed_offset)]
    env = dict(os.environ, XDG_CACHE_HOME=str(tmp_path / "cache"))
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    run_dir = out / "cells" / "ppo__CartPole-v1" / "run"
    deadline = time.time() + 300
    while checkpoint.latest(run_dir) is None and proc.poll() is None and time.time() < deadline:
        time.sleep(0.01)
    os.killpg(proc.pid, signal.SIGKILL)  # the grid process and its cell process
    proc.wait()
    assert checkpoint.latest(run_dir) is not None and not (run_dir / "summary.json").exists()

    subprocess.run(cmd, env=env, check=True, capture_output=True)
    log = (run_dir.parent / "log.txt").read_text()
    first, separator, second = log.partition("a new attempt of this cell started (resuming from its last checkpoint)")
    assert separator and "resuming" in second
    assert "compiled ppo on CartPole-v1" in first  # the killed attempt's output is kept above the new one's
    rows = runs.read_csv(run_dir / "metrics.csv")
    keys = [(r["env_steps"], r["seed"]) for r in rows]
    assert len(keys) == len(set(keys)) and max(int(r["env_steps"]) for r in rows) > 40000
    assert json.loads((run_dir.parent / "cell.json").read_text())["status"] == "done"
    # the cell's seeds were split over the CPU's cores (one cell at a time: all of them), and the resumed
    # process kept the count its run started with
    from rl_zoo.distributed import cpu_device_count, usable_cores

    chosen = {"RL_ZOO_CPU_DEVICES", "JAX_NUM_CPU_DEVICES"} & set(os.environ) or "device_count" in os.environ.get("XLA_FLAGS", "")
    devices = json.loads((run_dir / "config.json").read_text())["devices"]
    assert devices == json.loads((run_dir / "summary.json").read_text())["devices"]
    assert chosen or devices == cpu_device_count(2, usable_cores())


def test_a_finished_cell_excluded_by_the_last_command_is_named_in_the_report():
    """Its results stay (finished by an earlier command), but the report said nothing of the exclusion."""
    from types import SimpleNamespace

    from rl_zoo.benchmark import plan, report

    meta = SimpleNamespace(plan=[dict(algo="ppo", env="CartPole-v1", status="done", reason="finished before"),
                                 dict(algo="vpg", env="CartPole-v1", status="skipped",
                                      reason=f"{plan.EXCLUDED} (--exclude vpg:CartPole-v1)"),
                                 dict(algo="dqn", env="Pendulum-v1", status="skipped", reason="continuous actions")])
    records = [SimpleNamespace(algo="ppo", env="CartPole-v1", status="done"),
               SimpleNamespace(algo="vpg", env="CartPole-v1", status="done"),
               SimpleNamespace(algo="dqn", env="Pendulum-v1", status="skipped")]
    assert [(r.algo, r.env) for r in report.excluded_but_kept(records, meta)] == [("vpg", "CartPole-v1")]
    # an excluded cell that had not finished is not "kept" (grid.py records it as skipped)
    meta.plan.append(dict(algo="ppo", env="Acrobot-v1", status="skipped", reason=f"{plan.EXCLUDED} (--exclude ppo:Acrobot-v1)"))
    records.append(SimpleNamespace(algo="ppo", env="Acrobot-v1", status="skipped"))
    assert [(r.algo, r.env) for r in report.excluded_but_kept(records, meta)] == [("vpg", "CartPole-v1")]


def test_one_seed_shows_no_interval_and_a_kept_excluded_cell_is_named_in_the_header():
    from types import SimpleNamespace

    from rl_zoo.benchmark import plan, report

    result = SimpleNamespace(compile_s=1.0, run_s=2.0, env_steps_per_s=3.0, peak_memory_mb=4.0)

    def row(seeds):
        return SimpleNamespace(env="CartPole-v1", algo="ppo", threshold=None, steps_to_threshold=None, seeds_reached=0,
                               n_seeds=seeds, final_mean=9.5, final_low=9.5, final_high=9.5, final_iqm=9.5,
                               record=SimpleNamespace(result=result, cell_wall_s=5.0))

    one, two = report._cells_section([row(1)])[4], report._cells_section([row(2)])[4]
    assert report._cells_section([]) == ["## Results per cell", "", "No cell has finished yet: the table fills as cells "
                                         "finish.", ""]  # it was the table's header with no row
    assert "| 9.50 - |" in one and "| 9.50 [9.50, 9.50] |" in two  # [x, x] from one seed said nothing
    meta = SimpleNamespace(plan=[dict(algo="ppo", env="CartPole-v1", status="skipped", reason=f"{plan.EXCLUDED} (--exclude ppo:CartPole-v1)")],
                           algos=["ppo"], envs=["CartPole-v1"], command=None, note=None, versions={}, grid_wall_s=None,
                           seeds=1, eval_episodes=1, cpu_count=2, jobs=1)
    rec = SimpleNamespace(algo="ppo", env="CartPole-v1", status="done", cell_wall_s=5.0, reason="", result=None,
                          spec=SimpleNamespace(algo="ppo", env="CartPole-v1", seeds=1, seed=0, eval_episodes=1, config={}))
    header = "\n".join(report._header(SimpleNamespace(records=[rec], table=[]), meta, Path("grid")))
    assert "Excluded by the last command (`--exclude`) but finished by an earlier one" in header and "ppo on CartPole-v1" in header


def test_plot_of_a_folder_that_does_not_exist_says_so(tmp_path, capsys):
    """`rl-zoo plot runs/benchmark` before any grid ran said the folder was "neither a benchmark folder nor a run directory"."""
    assert main(["plot", str(tmp_path / "nope")]) == 2
    assert f"{tmp_path / 'nope'} does not exist: give a benchmark folder (`rl-zoo benchmark --out`, default runs/benchmark)" \
        in capsys.readouterr().err
    assert main(["plot", str(tmp_path)]) == 2  # an existing folder of neither kind
    assert "is neither a benchmark folder (cells/, benchmark.json) nor a run directory" in capsys.readouterr().err
