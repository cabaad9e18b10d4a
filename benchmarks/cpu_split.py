"""What splitting a CPU into one JAX device per core buys: `rl-zoo train` with its default split
(`rl_zoo.distributed.split_cpu`: one device per core, as many as divide the seeds) against the same
command with `RL_ZOO_CPU_DEVICES=1` (one device, JAX's default on a CPU), whole processes, alternated,
medians.

    split:       python -m rl_zoo.cli train --algo ppo --env CartPole-v1 --seeds 16 --no-progress --out TMP
    one device:  the same with RL_ZOO_CPU_DEVICES=1

Each run is a fresh process with an empty compilation cache; the table gives the whole command's
wall seconds and, from its summary.json, the compile and training (segment) seconds. The README's
paragraph on devices quotes this file.

    python benchmarks/cpu_split.py                 # 3 pairs, PPO CartPole-v1, 16 seeds
    python benchmarks/cpu_split.py --repeats 1 --seeds 8
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _results import RERUN_KEEPS, cold_cache_env, cpu_name, load_average, now_utc, require_counts, require_results_file, timed, write_report  # noqa: E402

RESULTS = Path(__file__).parent / "results"
WAYS = {"split (default)": {}, "one device (RL_ZOO_CPU_DEVICES=1)": {"RL_ZOO_CPU_DEVICES": "1"}}


def run_once(seeds: int, extra_env: dict) -> dict:
    """One cold `rl-zoo train` process: wall seconds, and compile / train seconds from its summary."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "run"
        cmd = [sys.executable, "-m", "rl_zoo.cli", "train", "--algo", "ppo", "--env", "CartPole-v1",
               "--seeds", str(seeds), "--no-progress", "--out", str(out)]
        env = dict(cold_cache_env(Path(tmp) / "cache"), **extra_env)  # a cold JAX cache, not a cold font cache
        for name in ("JAX_NUM_CPU_DEVICES",) + (() if extra_env else ("RL_ZOO_CPU_DEVICES",)):  # cold_cache_env left out RL_ZOO_NO_CACHE
            if name not in extra_env:
                env.pop(name, None)
        t = timed(cmd, env)
        s = json.loads((out / "summary.json").read_text())
    return dict(wall_s=t.wall_s, compile_s=s["compile_s"], train_s=s["train_s"], devices=s.get("devices"),
                final=statistics.mean(s["final_return"]))


def report(runs: dict[str, list[dict]], args, load_before: str, load_after: str) -> str:
    import jax

    lines = [
        "# One JAX device per CPU core against one device: `rl-zoo train`, PPO CartPole-v1",
        "",
        f"Measured {now_utc()} on {cpu_name()}, {os.cpu_count()} cores, jax {jax.__version__}, "
        f"by `python benchmarks/cpu_split.py --repeats {args.repeats} --seeds {args.seeds}`. Load average before: "
        f"{load_before}; after: {load_after}.",
        "",
        f"`python -m rl_zoo.cli train --algo ppo --env CartPole-v1 --seeds {args.seeds} --no-progress`, each run a fresh "
        "process with an empty compilation cache, the two ways alternated; medians (every run listed below). Seeds 0..N-1 "
        "(the command's default first seed; a speed check, not a held-out result).",
        "",
        "| way | devices | wall s | compile s | train s (segments) | final return (mean over seeds) |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for way, rows in runs.items():
        med = {k: statistics.median(r[k] for r in rows) for k in ("wall_s", "compile_s", "train_s", "final")}
        lines.append(f"| {way} | {rows[0]['devices']} | {med['wall_s']:.2f} | {med['compile_s']:.2f} | "
                     f"{med['train_s']:.2f} | {med['final']:.1f} |")
    lines += ["", "Every run (wall s / train s):", ""]
    for way, rows in runs.items():
        lines.append(f"- {way}: " + ", ".join(f"{r['wall_s']:.2f} / {r['train_s']:.2f}" for r in rows))
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=3, help="runs of each way, alternated (default 3)")
    parser.add_argument("--seeds", type=int, default=16, help="seeds per run (default 16)")
    parser.add_argument("--out", default=str(RESULTS / "cpu_split.md"), help=f"results file; {RERUN_KEEPS}")
    args = parser.parse_args()
    require_counts(parser, args, "repeats", "seeds")
    require_results_file(parser, args.out)
    load_before = load_average()
    runs: dict[str, list[dict]] = {way: [] for way in WAYS}
    for i in range(args.repeats):
        for way, extra in WAYS.items():
            r = run_once(args.seeds, extra)
            runs[way].append(r)
            print(f"#{i + 1} {way}: wall {r['wall_s']:.2f} s, compile {r['compile_s']:.2f} s, train {r['train_s']:.2f} s, "
                  f"devices {r['devices']}, load {os.getloadavg()[0]:.1f}", flush=True)
    text = report(runs, args, load_before, load_average())
    write_report(args.out, text)
    print(text)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
