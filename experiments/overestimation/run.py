"""Does Q-learning overestimate, and does Double Q-learning fix it?

    python -m experiments.overestimation.run            # writes tabular.png, deep.png, CSVs, summary.json and the README here
    python -m experiments.overestimation.run --quick    # a small smoke run (into --out, default /tmp/overestimation)
    python -m experiments.overestimation.run --report   # README.md and finding.md again from summary.json

1. Tabular: the maximisation-bias MDP of Sutton & Barto (2018, Example 6.7, Figure 6.5), Q-learning
   and Double Q-learning, 10,000 seeds each (vmapped), 300 episodes, epsilon 0.1, alpha 0.1, gamma 1.
2. Deep: DQN and Double DQN on CartPole-v1 and Acrobot-v1 (both with DQN's tuned config of
   rl_zoo/hyperparams/dqn.yaml, differing only in the double-Q target; Acrobot with 64 instead of 256
   hidden units to fit the time budget), seeds 1000 and up (``--seed``) vmapped: the
   mean max_a Q over replay minibatch states during training, and on the states the greedy policy
   visits against the discounted return it actually obtains from them (van Hasselt et al. 2016, fig. 3).

``compute.py`` trains and summarises, ``plots.py`` draws, ``report.py`` fills in ``readme_template.md``.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from experiments import common, reporting
from experiments.overestimation import compute, plots, report

HERE = Path(__file__).resolve().parent
COMMAND = "python -m experiments.overestimation.run"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true",
                    help="small smoke run: 500 tabular seeds, 2 deep seeds (unless --seeds), 10,000 steps")
    ap.add_argument("--out", default=None, help="output folder (default: beside this script; /tmp/overestimation with --quick)")
    ap.add_argument("--seeds", type=common.positive_int, default=None,
                    help="seeds of the deep runs, at least 2 (default 8; 2 with --quick)")
    ap.add_argument("--seed", type=int, default=common.REPORT_SEED,
                    help=f"first seed of the deep runs (default {common.REPORT_SEED}: the tuned configs were chosen on "
                         "seeds 0-9 and 200-209)")
    ap.add_argument("--tabular-seeds", type=common.positive_int, default=None,
                    help="seeds of the tabular maximisation-bias runs (default 10,000, vmapped; --quick: 500)")
    ap.add_argument("--report", action="store_true", help="only rewrite README.md and finding.md from summary.json")
    args = ap.parse_args()
    out = common.output_folder(args.out, Path("/tmp/overestimation") if args.quick else HERE)
    if args.report:
        record = common.read_record(out, "summary.json", ("deep", "tabular", "command", "machine", "wall_s"))
        with common.reading_record(out / "summary.json"):
            print(report.write(out, record))
        reporting.finish_index(out, HERE)  # the index quotes finding.md
        return
    if args.seeds == 1:  # one seed's "interval" is a point: its report read zero-width intervals as verdicts
        common.fail("--seeds 1: the deep runs' report compares intervals over seeds (over/under, overlap, excludes 0): "
                    "give at least 2")
    common.check_seed_args(args.seed, args.seeds or (2 if args.quick else 8))  # before any work
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    seeds = args.seeds or (2 if args.quick else 8)
    tab_seeds = args.tabular_seeds or (500 if args.quick else 10_000)  # given, it holds under --quick too
    command = COMMAND + (" --quick" if args.quick else "") + (f" --seeds {seeds}" if args.seeds else "") + (
        f" --seed {args.seed}" if args.seed != common.REPORT_SEED else "") + (
        f" --tabular-seeds {tab_seeds}" if args.tabular_seeds else "")
    info = dict(machine=common.machine(), versions=common.versions(), command=command)
    tab = compute.run_tabular(tab_seeds)
    plots.plot_tabular(tab, out, tab_seeds)
    rows, info["tabular"] = compute.tabular_summary(tab, tab_seeds)
    common.write_csv(out / "tabular.csv", rows)
    deep = compute.run_deep(seeds, args.quick, args.seed)
    plots.plot_deep(deep, out, seeds, args.seed)
    info["deep"], rows = compute.deep_summary(deep, seeds, args.seed)
    common.write_csv(out / "deep.csv", rows)
    info["wall_s"] = round(time.perf_counter() - t0, 1)
    (out / "summary.json").write_text(json.dumps(info, indent=1, default=str))
    print(f"total {info['wall_s']:.0f}s")
    print(report.write(out, info))
    reporting.finish_index(out, HERE)

if __name__ == "__main__":
    common.command(main)
