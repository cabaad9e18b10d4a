"""PPO-clip learning results with the tuned hyperparameters (rl_zoo/hyperparams/ppo.yaml).

Each cell trains all its seeds vmapped in one compiled program through the same driver as
``rl-zoo train`` and reports the final greedy return (mean of 10 evaluation episodes) per seed.

    python benchmarks/ppo_learning.py [--cells CartPole-v1,Acrobot-v1,...]   # writes results/ppo_learning.md
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import numpy as np

from rl_zoo.train import enable_compilation_cache, train

#: env id -> (seeds, env steps per seed, pass rule, text of the target)
CELLS = {
    "CartPole-v1": (10, 100_000, lambda r: (r >= 475).sum() >= 9, ">= 475 in at least 9 of 10 seeds at 100k"),
    "Acrobot-v1": (5, 500_000, lambda r: r.mean() >= -100, "mean >= -100 over 5 seeds at 500k"),
    "Pendulum-v1": (5, 1_000_000, lambda r: r.mean() >= -250, "mean >= -250 over 5 seeds at <= 1M"),
    "MountainCarContinuous-v0": (5, 200_000, lambda r: True, "reported"),
}


def main() -> None:
    import jax

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cells", default=",".join(CELLS), help="comma-separated env ids")
    parser.add_argument("--algo", default="ppo")
    parser.add_argument("--out", default=str(Path(__file__).parent / "results"))
    args = parser.parse_args()
    enable_compilation_cache()
    lines = [
        f"# {args.algo} learning results",
        "",
        f"Measured {time.strftime('%Y-%m-%d')} on {os.cpu_count()} CPU cores, jax {jax.__version__} ({jax.default_backend()}), "
        f"by `python benchmarks/ppo_learning.py --algo {args.algo}`; tuned hyperparameters from `rl_zoo/hyperparams/{args.algo}.yaml`, "
        "seeds 0..N-1 vmapped; return = greedy policy, mean of 10 evaluation episodes per seed.",
        "",
        "| env | seeds | env steps/seed | mean return | per-seed returns | target | met | compile s | train s | env steps/s |",
        "|---|---:|---:|---:|---|---|---|---:|---:|---:|",
    ]
    for env_id in args.cells.split(","):
        seeds, steps, rule, target = CELLS[env_id]
        with tempfile.TemporaryDirectory() as tmp:
            result = train(args.algo, env_id, seeds=seeds, total_steps=steps, runs_root=tmp, progress=False, log=lambda s: None)
        s = result.summary
        r = np.array(s["final_return"])
        met = "yes" if rule(r) else "NO"
        print(f"{env_id}: mean {r.mean():.1f}, per seed {np.round(r, 1).tolist()} -> target {target}: {met}")
        lines.append(f"| {env_id} | {seeds} | {s['env_steps_per_seed']:,} | {r.mean():.1f} | {', '.join(f'{x:.0f}' for x in r)} | "
                     f"{target} | {met} | {s['compile_s']:.1f} | {s['train_s']:.1f} | {s['steps_per_s']:,.0f} |")
    path = Path(args.out) / f"{args.algo.replace('-', '_')}_learning.md"
    path.write_text("\n".join(lines) + "\n")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
