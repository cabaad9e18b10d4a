"""Which algorithm is best overall on classic control?

    python -m experiments.overall.run            # runs `rl-zoo benchmark` afresh, then figures, README.md, finding.md
    python -m experiments.overall.run --quick    # a small smoke run (into /tmp/overall)
    python -m experiments.overall.run --replot   # only redraw figures and README from benchmark/ (not committed)

The grid is `rl-zoo benchmark` (the package rl_zoo/benchmark/): PPO-clip, PPO-KL, TRPO, VPG, DQN and Double DQN
on CartPole-v1, Acrobot-v1 and Pendulum-v1 (DQN cannot act in Pendulum's continuous action space
and is skipped there), each cell's seeds vmapped in one program, every algorithm with its tuned
config except for the shared per-env budget (and DQN's hidden layers on Acrobot, see
``compute.GRIDS``). The benchmark writes its folder to ``benchmark/`` here (ignored by git: run
directories, checkpoints), emptied first unless ``--resume`` (the benchmark would otherwise skip
cells finished by older code with the same config). This script copies the report beside itself,
redraws the learning curves (legend outside the data) and the aggregate figures with a second
aggregate over the two discrete envs only, where all six algorithms ran, and writes README.md and
finding.md from the numbers. ``compute.py`` runs the grid and the aggregates, ``plots.py`` draws,
``report.py`` fills in ``readme_template.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import time
from pathlib import Path

from experiments import common, reporting
from experiments.overall import compute, plots, report
from rl_zoo import runs

HERE = Path(__file__).resolve().parent


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="tiny budgets, 2 seeds (into /tmp/overall)")
    ap.add_argument("--seeds", type=common.positive_int, default=5, help="seeds per cell (default 5; --quick always runs 2)")
    ap.add_argument("--seed", type=int, default=common.REPORT_SEED,
                    help=f"first seed (default {common.REPORT_SEED}: held out; none of seeds {common.REPORT_SEED} up "
                         f"played a part in tuning the configs but {reporting.and_list(report.tuned_words(set(report.TUNED_ON)))}"
                         ", marked in the README's tables)")
    ap.add_argument("--jobs", type=common.positive_int, default=2, help="grid cells run at the same time, as rl-zoo benchmark --jobs (default 2: one compiles while another trains; each cell's timings then include the competition)")
    ap.add_argument("--out", default=None, help="output folder (default: beside this script; /tmp/overall with --quick)")
    ap.add_argument("--replot", action="store_true", help="only redraw the figures and README from the benchmark folder "
                    "(benchmark/, kept where the grid ran; not committed)")
    ap.add_argument("--resume", action="store_true", help="keep benchmark/ and skip the cells finished there before")
    args = ap.parse_args()
    out = common.output_folder(args.out, Path("/tmp/overall") if args.quick else HERE)
    bench = out / "benchmark"
    if args.replot:
        info = common.read_record(out, "run_info.json", ("machine", "wall_s"))
        for name in ("report.md", "cells.csv"):  # both copied beside the README: found before anything is written
            common.require_file(bench / name, "the benchmark folder of the last run, kept for --replot")
        from rl_zoo.benchmark import BenchmarkFileError

        with common.reading_record(out / "run_info.json"):  # a field in another form ("wall_s": "12 min")
            try:
                finish(bench, out, info)
            except BenchmarkFileError as e:  # a damaged file of the grid's, named by the library with what to do
                common.fail(str(e))
        return
    seeds = 2 if args.quick else args.seeds
    common.check_seed_args(args.seed, seeds)  # before benchmark/ is emptied: a typo cost the last grid
    if bench.exists() and not bench.is_dir():
        common.fail(f"{bench} is a file: the experiment's benchmark grid goes in a folder of that name; move it away")
    try:  # a folder of the user's own named benchmark/ was emptied without a word
        runs.refuse_other_kind(bench, "benchmark", "the experiment's benchmark grid")
    except ValueError as e:
        common.fail(str(e))
    out.mkdir(parents=True, exist_ok=True)
    if bench.exists() and not args.resume:
        shutil.rmtree(bench)  # a fresh grid: numbers from the library code as it is now
    t0 = time.perf_counter()
    machine = common.machine()
    commands = compute.run_benchmark(bench, seeds, args.seed, args.jobs, args.quick)
    wall = time.perf_counter() - t0
    info = dict(commands=commands, first_seed=args.seed, machine=machine, versions=common.versions(), wall_s=round(wall, 1),
                quick=args.quick, resumed=args.resume,
                compilation_cache="off (RL_ZOO_NO_CACHE=1)" if os.environ.get("RL_ZOO_NO_CACHE") else "on")
    finish(bench, out, info)
    print(f"total {wall:.0f}s")


def finish(bench: Path, out: Path, info: dict) -> None:
    """Copy the report and tables, draw the figures, write run_info.json, README.md, finding.md and
    (for the real run) the experiments index."""
    from rl_zoo import benchmark

    s = benchmark.summarize(bench)
    shutil.copy(bench / "report.md", out / "benchmark_report.md")
    shutil.copy(bench / "cells.csv", out / "cells.csv")
    auc = compute.area_under_curves(s)
    grouped = compute.groups(s.normalised, auc)
    numbers = compute.aggregates(grouped)
    plots.curve_figures(s, out)
    plots.aggregate_figure(grouped, numbers, s, out)
    plots.profile_figure(grouped, s.normalised, out, seeds=min(r.n_seeds for r in s.table))
    common.write_csv(out / "normalised_scores.csv", compute.score_rows(s.normalised, auc, info.get("first_seed", 0)))
    info["aggregates"] = {g: {a: {m: [round(x, 3) for x in v] for m, v in per.items()} for a, per in d.items()}
                          for g, d in numbers.items()}
    (out / "run_info.json").write_text(json.dumps(info, indent=1))
    finding = report.write(out, bench, s, numbers, auc, info)
    reporting.finish_index(out, HERE)
    print(finding)


if __name__ == "__main__":
    common.command(main, "the same command with --resume keeps the benchmark cells it finished")
