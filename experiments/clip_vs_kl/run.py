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

``compute.py`` trains and summarises, ``plots.py`` draws, ``report.py`` fills in ``readme_template.md``.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from experiments import common
from experiments.clip_vs_kl import compute, plots, report

HERE = Path(__file__).resolve().parent


def configs_of(info: dict) -> dict:
    """env -> the PPO-clip config a recorded run used (its budget from ``run_info.json``)."""
    return {env_id: compute.configs(env_id, int(common.config_field(info["configs"][f"{env_id} PPO-clip"],
                                                                     "total_timesteps")))["PPO-clip"]
            for env_id in compute.ENVS}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="budgets cut tenfold, 2 seeds, 5 evaluations (into /tmp/clip_vs_kl)")
    ap.add_argument("--seeds", type=int, default=8)
    ap.add_argument("--out", default=None)
    ap.add_argument("--replot", action="store_true",
                    help="redraw the figure and rewrite the tables and README from raw.npz (no training)")
    ap.add_argument("--report", action="store_true", help="only rewrite README.md and finding.md from run_info.json")
    args = ap.parse_args()
    out = Path(args.out) if args.out else (Path("/tmp/clip_vs_kl") if args.quick else HERE)
    out.mkdir(parents=True, exist_ok=True)
    if args.report:
        info = json.loads((out / "run_info.json").read_text())
        n_points = info.get("n_points", (5 if info.get("quick") else next(iter(compute.ENVS.values()))[1]) + 1)
        print(report.write(out, info["summary"], configs_of(info), info["seeds"], n_points, info))
        return
    if args.replot:
        old = json.loads((out / "run_info.json").read_text())
        results = compute.load_raw(out / "raw.npz")
        machine, wall, seeds, quick = old["machine"], old["wall_s"], old["seeds"], old.get("quick", False)
    else:
        t0 = time.perf_counter()
        machine, quick = common.machine(), args.quick
        seeds = 2 if args.quick else args.seeds
        results = {}
        for env_id, (total, num_evals, overrides) in compute.ENVS.items():
            results[env_id] = compute.run_env(env_id, total // 10 if args.quick else total,
                                              4 if args.quick else num_evals, overrides, seeds)
        compute.save_raw(results, out / "raw.npz")
    plots.plot(results, out, seeds)
    rows = compute.summarise(results)
    common.write_csv(out / "summary.csv", rows)
    if not args.replot:
        wall = round(time.perf_counter() - t0, 1)
    first = {e: next(iter(res.values())) for e, res in results.items()}
    info = dict(machine=machine, wall_s=wall, quick=quick, seeds=seeds, summary=rows,
                n_points=int(next(iter(first.values()))["returns"].shape[1]),
                configs={f"{e} {n}": str(r["config"]) for e, res in results.items() for n, r in res.items()})
    (out / "run_info.json").write_text(json.dumps(info, indent=1, default=str))
    finding = report.write(out, rows, {e: r["config"] for e, r in first.items()}, seeds, info["n_points"], info)
    if out.resolve() == HERE:
        common.write_index()
    print(finding)


if __name__ == "__main__":
    main()
