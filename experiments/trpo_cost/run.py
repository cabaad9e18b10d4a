"""Is TRPO computationally expensive next to PPO?

    python -m experiments.trpo_cost.run            # writes trpo_cost.png, CSVs and the README beside this file
    python -m experiments.trpo_cost.run --quick    # a small smoke run (into /tmp/trpo_cost)
    python -m experiments.trpo_cost.run --replot   # the figure and README again from raw.npz and run_info.json
    python -m experiments.trpo_cost.run --report   # README.md and finding.md again from run_info.json and curves.csv

TRPO and PPO-clip with their tuned configs (rl_zoo/hyperparams/{trpo,ppo}.yaml) on CartPole-v1 and
Pendulum-v1, the same env-step budget per env for both (each trains every whole update of it), seeds
1000 and up (``--seed``; the configs were tuned on 0-9) vmapped in one program. As the driver does,
training runs in jitted segments of K updates (and a shorter last one where K does not divide them);
each segment is timed on the host (compilation excluded), and the greedy policy is evaluated between
segments (not timed). The two algorithms' segments are interleaved (PPO, TRPO, PPO, ...) so that
both see the same background load on a shared machine. Per update the script records

* wall seconds (segment time / K) and, apart, the wall seconds of the rollout alone (the same
  policy and env, no learning), so that learning = total - rollout;
* gradient-type evaluations: PPO ``update_epochs x num_minibatches`` gradients of the joint
  policy+value loss on minibatches; TRPO (from its ``Metrics``) 1 policy gradient, ``cg_iters``
  Fisher-vector products (forward-over-reverse, on the full batch), the line search's forward
  passes, and ``value_iters x value_minibatches`` value-function gradients;

and normalises both per 1,000 env steps, since the two configs use different batch sizes.
``compute.py`` trains and times, ``plots.py`` draws, ``report.py`` fills in ``readme_template.md``.
"""

from __future__ import annotations

import argparse
import csv
import json
import time
from pathlib import Path

from experiments import common, reporting
from experiments.trpo_cost import compute, plots, report

HERE = Path(__file__).resolve().parent
COMMAND = "python -m experiments.trpo_cost.run"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="budgets cut tenfold, 2 seeds unless --seeds (into /tmp/trpo_cost)")
    ap.add_argument("--seeds", type=common.positive_int, default=None, help="seeds per algorithm (default 8; 2 with --quick)")
    ap.add_argument("--seed", type=int, default=common.REPORT_SEED,
                    help=f"first seed (default {common.REPORT_SEED}: the tuned configs were chosen on seeds 0-9)")
    ap.add_argument("--out", default=None)
    ap.add_argument("--replot", action="store_true", help="redraw the figure and README from raw.npz (no training)")
    ap.add_argument("--report", action="store_true", help="only rewrite README.md, finding.md and cost.csv")
    args = ap.parse_args()
    out = common.output_folder(args.out, Path("/tmp/trpo_cost") if args.quick else HERE)
    if args.report or args.replot:
        info = common.read_record(out, "run_info.json", ("summaries", "command", "machine", "wall_s"))
        curves_csv = common.require_file(out / "curves.csv", "the learning curves of the run")
        raw = common.require_file(out / "raw.npz", "the raw arrays of the last run, kept for --replot") if args.replot else None
        curves = compute.load_curves(raw) if raw is not None else None
        with open(curves_csv, newline="") as fh:
            curve_rows = list(csv.DictReader(fh))
        with common.reading_record(out / "run_info.json"):
            cost = compute.cost_rows(info["summaries"])
            if curves is not None:
                plots.plot(curves, info["summaries"], out, info["summaries"][0]["seeds"])
            finding = report.write(out, info, curve_rows)  # what reads the record most: before cost.csv is rewritten
            common.write_csv(out / "cost.csv", cost)
            print(finding)
        reporting.finish_index(out, HERE)  # the index quotes finding.md
        return
    common.check_seed_args(args.seed, args.seeds or (2 if args.quick else 8))  # before any work
    out.mkdir(parents=True, exist_ok=True)
    t_start = time.perf_counter()
    machine = common.machine()
    seeds = args.seeds or (2 if args.quick else 8)
    runners = compute.run_all(seeds, args.quick, args.seed)
    summaries = compute.summaries(runners)
    curves = {key: r.curve() for key, r in runners.items()}
    compute.save_curves(curves, out / "raw.npz")
    plots.plot(curves, summaries, out, seeds)
    common.write_csv(out / "cost.csv", compute.cost_rows(summaries))
    curve_rows = compute.curve_rows(curves)
    common.write_csv(out / "curves.csv", curve_rows)
    command = COMMAND + (" --quick" if args.quick else "") + (f" --seeds {seeds}" if args.seeds else "") + (
        f" --seed {args.seed}" if args.seed != common.REPORT_SEED else "")
    info = dict(machine=machine, versions=common.versions(), wall_s=round(time.perf_counter() - t_start, 1),
                eval_episodes=compute.EVAL_EPISODES, command=command, summaries=summaries)
    (out / "run_info.json").write_text(json.dumps(info, indent=1, default=str))
    print(report.write(out, info, curve_rows))
    reporting.finish_index(out, HERE)

if __name__ == "__main__":
    common.command(main)
