"""PPO-clip learning results with the tuned hyperparameters (rl_zoo/hyperparams/ppo.yaml).

Each cell trains all its seeds vmapped in one compiled program through the same driver as
``rl-zoo train`` and reports the final greedy return (mean of 10 evaluation episodes) per seed.
Two seed sets (issue 19): the hyperparameters were chosen on *tuning* seeds 0..N-1 (every result
before issue 19 trained those); the record is on *held-out* seeds 1000..1000+N-1, which played no
part in choosing them. Rows accumulate in ``results/<algo>_learning.json`` (one per env and seed
set), and the .md is rewritten from it after each cell.

    python benchmarks/ppo_learning.py [--cells CartPole-v1,Acrobot-v1,...]   # held-out seeds, writes results/ppo_learning.md
    python benchmarks/ppo_learning.py --seed-set tuning --cells Pendulum-v1  # tuning seeds, recorded apart, for comparison
    python benchmarks/ppo_learning.py --report                                # rewrite the .md from the .json
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

import numpy as np

from _results import cpu_name, load_results, require_results, require_results_folder, save_results, versions
from rl_zoo.runs import atomic_write_text
from rl_zoo.train import enable_compilation_cache, train

#: env id -> (seeds, env steps per seed, pass rule, text of the target)
CELLS = {
    "CartPole-v1": (10, 100_000, lambda r: (r >= 475).sum() >= 9, ">= 475 in at least 9 of 10 seeds at 100k"),
    "Acrobot-v1": (5, 500_000, lambda r: r.mean() >= -100, "mean >= -100 over 5 seeds at 500k"),
    "Pendulum-v1": (5, 1_000_000, lambda r: r.mean() >= -250, "mean >= -250 over 5 seeds at <= 1M"),
    "MountainCarContinuous-v0": (5, 200_000, lambda r: True, "reported"),
}

#: the seeds the hyperparameters were chosen on, and the seeds results are reported on
SEED_SETS = {"tuning": 0, "report": 1000}
LABELS = {"tuning": "tuning", "report": "held-out"}
MET = {True: "yes", False: "NO", None: "-"}


def run_cell(algo: str, env_id: str, seed_set: str) -> dict:
    """Train one cell's seeds of ``seed_set`` through the driver; the row recorded for it."""
    seeds, steps, rule, target = CELLS[env_id]
    seed0 = SEED_SETS[seed_set]
    with tempfile.TemporaryDirectory() as tmp:
        result = train(algo, env_id, seeds=seeds, seed=seed0, total_steps=steps, runs_root=tmp, progress=False, log=lambda s: None)
        config = json.loads((result.run_dir / "config.json").read_text())["config"]  # the resolved config it ran
    s = result.summary
    r = np.array(s["final_return"])
    return dict(algo=algo, env=env_id, seed_set=seed_set, seed_list=list(range(seed0, seed0 + seeds)),
                env_steps_per_seed=int(s["env_steps_per_seed"]), final=[float(x) for x in r], met=None if target == "reported" else bool(rule(r)), target=target,
                compile_s=float(s["compile_s"]), train_s=float(s["train_s"]), steps_per_s=float(s["steps_per_s"]),
                date=time.strftime("%Y-%m-%d"), load=os.getloadavg()[0], cpu=cpu_name(), cores=os.cpu_count(), versions=versions(),
                config=config)


def report(algo: str, raw: dict) -> str:
    rows = [r for r in raw.values() if isinstance(r, dict) and "final" in r]
    cpus = sorted({r["cpu"] for r in rows if "cpu" in r})
    cores = sorted({str(r["cores"]) for r in rows if "cores" in r})
    jaxes = sorted({r["versions"]["jax"] for r in rows if "jax" in r.get("versions", {})})
    unrecorded = " (older rows: not recorded)" if any("versions" not in r for r in rows) else ""
    lines = [
        f"# {algo} learning results",
        "",
        f"Measured on {' and '.join(cpus) or 'a CPU whose model was not recorded'}, "
        f"{'/'.join(cores) + ' cores' if cores else 'a core count not recorded'} (shared with other jobs), "
        + (f"jax {'/'.join(jaxes)}{unrecorded} (each row's versions in ppo_learning.json), " if jaxes else "a jax version not recorded, ")
        + f"by `python benchmarks/ppo_learning.py --algo {algo}`; tuned hyperparameters from `rl_zoo/hyperparams/{algo}.yaml`, "
        "all seeds of a cell vmapped in one program through the driver of `rl-zoo train`; return = greedy policy, "
        "mean of 10 evaluation episodes per seed, at the end of the budget.",
        "",
        f"**Seeds.** The hyperparameters were chosen on *tuning* seeds {SEED_SETS['tuning']}..N-1 "
        f"({SEED_SETS['tuning']}-{SEED_SETS['tuning'] + 9} for CartPole-v1, {SEED_SETS['tuning']}-{SEED_SETS['tuning'] + 4} for the others). "
        f"The table reports *held-out* seeds {SEED_SETS['report']}..{SEED_SETS['report']}+N-1, which played no part in choosing them "
        f"(`python benchmarks/ppo_learning.py`); tuning-seed rows, where measured, follow it for comparison only.",
        "",
        "| env | seeds | env steps/seed | mean return | per-seed returns | target | met | compile s | train s | env steps/s | date, load |",
        "|---|---|---:|---:|---|---|---|---:|---:|---:|---|",
    ]
    for seed_set in ("report", "tuning"):
        for env_id in CELLS:
            r = raw.get(f"{env_id} {seed_set}")
            if r is None:
                continue
            final = np.array(r["final"])
            lines.append(f"| {env_id} | {r['seed_list'][0]}-{r['seed_list'][-1]} ({LABELS[seed_set]}) | {r['env_steps_per_seed']:,} | "
                         f"{final.mean():.1f} | {', '.join(f'{x:.0f}' for x in final)} | {r['target']} | {MET[r['met']]} | "
                         f"{r['compile_s']:.1f} | {r['train_s']:.1f} | {r['steps_per_s']:,.0f} | {r['date']}, {r['load']:.1f} |")
    missing = [e for e in CELLS if f"{e} report" not in raw]
    if missing:
        lines += ["", f"Not measured on held-out seeds yet: {', '.join(missing)}."]
    if raw.get("notes"):
        lines += ["", "## Notes", "", raw["notes"]]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cells", default=",".join(CELLS), help=f"comma-separated env ids (default {','.join(CELLS)})")
    parser.add_argument("--algo", default="ppo", help="the algorithm trained on PPO's cells (default ppo; ppo-kl, ...)")
    parser.add_argument("--seed-set", choices=list(SEED_SETS), default="report",
                        help=f"report: held-out seeds {SEED_SETS['report']}.. (default, the record); tuning: seeds {SEED_SETS['tuning']}..")
    parser.add_argument("--report", action="store_true", help="only rewrite the .md from the .json")
    parser.add_argument("--out", default=str(Path(__file__).parent / "results"),
                        help="folder of ALGO_learning.json and .md (default benchmarks/results)")
    args = parser.parse_args()
    from rl_zoo import algos

    if args.algo not in algos.names():  # else a traceback from the algorithm registry, after set-up
        parser.error(f"--algo {args.algo!r} is not an algorithm: {', '.join(algos.names())}")
    require_results_folder(parser, Path(args.out), f"{args.algo.replace('-', '_')}_learning.json and .md")
    stem = Path(args.out) / f"{args.algo.replace('-', '_')}_learning"
    raw_path, md_path = stem.with_suffix(".json"), stem.with_suffix(".md")
    cells = args.cells.split(",")
    if unknown := [env_id for env_id in cells if env_id not in CELLS]:  # all before the first trains (it exited 1 after)
        parser.error(f"--cells: unknown env {', '.join(map(repr, unknown))}; the cells: {', '.join(CELLS)}")
    if args.report:
        require_results(raw_path, "ppo_learning.py")
    else:
        enable_compilation_cache()
        for env_id in cells:
            row = run_cell(args.algo, env_id, args.seed_set)
            print(f"{env_id} seeds {row['seed_list'][0]}-{row['seed_list'][-1]}: mean {np.mean(row['final']):.1f}, "
                  f"per seed {np.round(row['final'], 1).tolist()} -> target {row['target']}: {MET[row['met']]}", flush=True)
            raw = load_results(raw_path)  # again: another run may have written it meanwhile
            raw[f"{env_id} {args.seed_set}"] = row
            save_results(raw_path, raw)
            atomic_write_text(md_path, report(args.algo, raw))
    atomic_write_text(md_path, report(args.algo, load_results(raw_path)))
    print(f"wrote {md_path}")


if __name__ == "__main__":
    main()
