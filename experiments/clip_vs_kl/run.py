"""PPO-clip against PPO with the adaptive KL penalty (Schulman et al. 2017, eq. 7 vs eq. 8 and sec. 4).

    python -m experiments.clip_vs_kl.run            # writes clip_vs_kl.png, CSV/JSON, README.md and finding.md here
    python -m experiments.clip_vs_kl.run --quick    # a small smoke run (into /tmp/clip_vs_kl)
    python -m experiments.clip_vs_kl.run --replot   # the figure, tables and README again from raw.npz (no training)
    python -m experiments.clip_vs_kl.run --report   # README.md and finding.md again from run_info.json

On each env both variants use the same config, PPO's tuned one (rl_zoo/hyperparams/ppo.yaml), and
differ only in ``loss`` ("clip": clip_eps 0.2; "kl": kl_target 0.01, beta_0 = 1, beta halved or
doubled once per batch). All seeds of both variants run in one vmapped program per variant. Logged
per update: the exact mean KL(pi_old || pi_new) over the batch after the update (``Metrics.kl``),
beta (``Metrics.details.kl_beta``), the clip fraction; greedy evaluations (10 episodes) at ~20 points.
Every update of the budget trains (whole updates: ``total_timesteps // batch``), so an annealed
learning rate does reach 0. Seeds 1000 and up (``--seed``): PPO's tuned configs were chosen on 0-9 (CartPole) and 0-4 (Pendulum).

``compute.py`` trains and summarises, ``plots.py`` draws, ``report.py`` fills in ``readme_template.md``.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import time
from pathlib import Path

from experiments import common, reporting
from experiments.clip_vs_kl import compute, plots, report

HERE = Path(__file__).resolve().parent
COMMAND = "python -m experiments.clip_vs_kl.run"
#: the fields of run_info.json that --report and --replot read
RECORD = ("summary", "configs", "seeds", "n_points", "machine", "wall_s")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true",
                    help="budgets cut tenfold, 2 seeds (unless --seeds), 4 evaluations (into /tmp/clip_vs_kl)")
    ap.add_argument("--seeds", type=common.positive_int, default=None, help="seeds per variant (default 8; 2 with --quick)")
    ap.add_argument("--seed", type=int, default=common.REPORT_SEED,
                    help=f"first seed (default {common.REPORT_SEED}: PPO's tuned configs were chosen on seeds 0-9 / 0-4)")
    ap.add_argument("--out", default=None)
    ap.add_argument("--replot", action="store_true",
                    help="redraw the figure and rewrite the tables and README from raw.npz (no training)")
    ap.add_argument("--report", action="store_true", help="only rewrite README.md and finding.md from run_info.json")
    args = ap.parse_args()
    out = common.output_folder(args.out, Path("/tmp/clip_vs_kl") if args.quick else HERE)
    if args.report:
        info = common.read_record(out, "run_info.json", RECORD)
        with common.reading_record(out / "run_info.json"):
            configs = compute.recorded_configs(info)
            print(report.write(out, info["summary"], {e: configs[f"{e} PPO-clip"] for e in compute.ENVS}, info["seeds"],
                               info["n_points"], info))
        reporting.finish_index(out, HERE)  # the index quotes finding.md
        return
    if args.replot:
        old = common.read_record(out, "run_info.json", RECORD)
        with common.reading_record(out / "run_info.json"):
            results = compute.load_raw(common.require_file(out / "raw.npz", "the raw arrays of the last run, kept for --replot"),
                                       compute.recorded_configs(old))
            machine, wall, seeds, first_seed, quick = (old["machine"], old["wall_s"], old["seeds"], old.get("first_seed"),
                                                       old.get("quick", False))
        versions = old.get("versions")  # the run's (None: not recorded, an older record)
        command = old.get("command", COMMAND)
    else:
        common.check_seed_args(args.seed, args.seeds or (2 if args.quick else 8))  # before any work
        out.mkdir(parents=True, exist_ok=True)
        t0 = time.perf_counter()
        machine, quick, first_seed, versions = common.machine(), args.quick, args.seed, common.versions()
        seeds = args.seeds or (2 if args.quick else 8)
        command = COMMAND + (" --quick" if quick else "") + (f" --seeds {seeds}" if args.seeds else "") + (
            f" --seed {first_seed}" if first_seed != common.REPORT_SEED else "")
        results = {}
        for env_id, (total, num_evals, overrides) in compute.ENVS.items():
            results[env_id] = compute.run_env(env_id, total // 10 if quick else total, 4 if quick else num_evals,
                                              overrides, seeds, first_seed)
        compute.save_raw(results, out / "raw.npz")
    plots.plot(results, out, seeds, first_seed)
    rows = compute.summarise(results)
    common.write_csv(out / "summary.csv", rows)
    if not args.replot:
        wall = round(time.perf_counter() - t0, 1)
    first = {e: next(iter(res.values())) for e, res in results.items()}
    info = dict(machine=machine, versions=versions, wall_s=wall, quick=quick, seeds=seeds, first_seed=first_seed, command=command,
                summary=rows, n_points=int(next(iter(first.values()))["returns"].shape[1]),
                configs={f"{e} {n}": dataclasses.asdict(r["config"]) for e, res in results.items() for n, r in res.items()})
    if args.replot and old.get("history_note"):  # the same run's numbers: its word kept (it was dropped)
        info["history_note"] = old["history_note"]
    (out / "run_info.json").write_text(json.dumps(info, indent=1, default=str))
    finding = report.write(out, rows, {e: r["config"] for e, r in first.items()}, seeds, info["n_points"], info)
    reporting.finish_index(out, HERE)
    print(finding)

if __name__ == "__main__":
    common.command(main)
