"""PPO-clip on CartPole-v1 as the user runs it: the whole `rl-zoo train` process, cold and warm, beside
the bare program (the floor: one jit of make_train plus one evaluation), in alternation, medians.

Hyperparameters: the tuned CartPole-v1 defaults of `rl-zoo train --algo ppo` (8 envs x 32 steps, 20
epochs of one minibatch of 256, gamma 0.98, lambda 0.8, lr 1e-3, clip 0.2, entropy 0, 64x64 tanh,
100k env steps per seed); the bare program builds the same Config.

    rl-zoo train:  python -m rl_zoo.cli train --algo ppo --env CartPole-v1 --seeds N --no-progress --out TMP
                   (the `rl-zoo` console script minus its launcher), 11 evaluations x 10 episodes (the default 10 and one at the start), a
                   checkpoint per segment, metrics.csv, summary.json, curve.png
    bare:          import, jit(vmap(make_train) + one greedy evaluation of 10 episodes), run (one seed: not vmapped)

Each measurement is a fresh process timed whole by this script; cold = an empty compilation cache
(a fresh folder per pair), warm = the same command again on that cache. For each seed count the
runs go train, bare, train, bare, ... (cold then warm each), so a change in machine load hits both.
From `rl-zoo train` the summary also gives compile, training, evaluation and checkpoint seconds,
from the bare program its import, compile and run seconds: where the driver's time goes.

    python benchmarks/ppo_speed.py                      # 3 repeats, 1 and 16 seeds
    python benchmarks/ppo_speed.py --repeats 1 --seeds 1
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _results import RERUN_KEEPS, cold_cache_env, cpu_name, load_average, require_counts, require_results_file, seed_counts, timed, write_report  # noqa: E402

RESULTS = Path(__file__).parent / "results"

BARE = r"""
import json, resource, sys, time
t_import = time.perf_counter()
import jax, jax.numpy as jnp
import envs
from rl_zoo.core.evaluate import evaluate
from rl_zoo.train import enable_compilation_cache, resolve_config
from rl_zoo import distributed
from rl_zoo.driver.plan import map_seeds  # vmap over the seeds, or the seed alone when there is one, as rl-zoo train
enable_compilation_cache(sys.argv[2])
seeds = int(sys.argv[1])
devices = distributed.split_cpu(seeds)  # the seeds over the cores, as rl-zoo train splits them
module, cfg = resolve_config("ppo", "CartPole-v1")  # the tuned defaults rl-zoo train uses
env, params = envs.make("CartPole-v1")
agent = module.make_agent(cfg, env, params)
train = module.make_train(cfg, env, params)
def run(keys):
    states, metrics = map_seeds(train)(keys)
    eval_keys = jax.vmap(lambda k: jax.random.fold_in(k, 1))(keys)
    returns = map_seeds(lambda s, k: evaluate(agent.act, s, env, params, k, 10))(states, eval_keys)
    return returns.mean(axis=1)
sharding = distributed.seed_sharding(devices)
keys = jax.device_put(jax.vmap(jax.random.key)(jnp.arange(seeds)), sharding)
t0 = time.perf_counter()
compiled = jax.jit(run, in_shardings=sharding, out_shardings=sharding).lower(keys).compile()
t1 = time.perf_counter()
returns = jax.block_until_ready(compiled(keys))
t2 = time.perf_counter()
print(json.dumps(dict(devices=devices, import_s=t0 - t_import, compile_s=t1 - t0, run_s=t2 - t1, returns=[float(r) for r in returns],
                      peak_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)))
"""


def run_train(seeds: int, cache_home: str) -> dict:
    """One whole `rl-zoo train` process; its wall seconds and the phases its summary.json reports."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "run"
        cmd = [sys.executable, "-m", "rl_zoo.cli", "train", "--algo", "ppo", "--env", "CartPole-v1", "--seeds", str(seeds),
               "--no-progress", "--out", str(out)]
        t = timed(cmd, cold_cache_env(cache_home))  # a cold JAX cache, not a cold font cache
        s = json.loads((out / "summary.json").read_text())
    return dict(wall_s=t.wall_s, cpu_s=t.cpu_s, compile_s=s["compile_s"], train_s=s["train_s"], eval_s=s.get("eval_s", float("nan")),
                checkpoint_s=s.get("checkpoint_s", float("nan")), returns=s["final_return"], peak_mb=s["peak_memory_mb"])


def run_bare(seeds: int, cache_home: str) -> dict:
    t = timed([sys.executable, "-c", BARE, str(seeds), str(Path(cache_home) / "bare")])
    return dict(json.loads(t.stdout.strip().splitlines()[-1]), wall_s=t.wall_s, cpu_s=t.cpu_s)


def measure(seeds: int, repeats: int) -> dict[str, list[dict]]:
    """``{"train cold": [...], "train warm": [...], "bare cold": [...], "bare warm": [...]}``, alternating."""
    runs: dict[str, list[dict]] = {f"{who} {cache}": [] for who in ("train", "bare") for cache in ("cold", "warm")}
    for i in range(repeats):
        for who, fn in (("train", run_train), ("bare", run_bare)):
            with tempfile.TemporaryDirectory() as cache:
                for label in ("cold", "warm"):
                    r = fn(seeds, cache)
                    runs[f"{who} {label}"].append(r)
                    print(f"seeds={seeds} #{i + 1} {who} {label}: wall {r['wall_s']:.2f} s, CPU {r['cpu_s']:.2f} s, compile {r['compile_s']:.2f} s, "
                          + (f"train {r['train_s']:.2f} s, eval {r['eval_s']:.2f} s, checkpoints {r['checkpoint_s']:.2f} s"
                             if who == "train" else f"import {r['import_s']:.2f} s, run {r['run_s']:.2f} s")
                          + f", load {os.getloadavg()[0]:.1f}", flush=True)
    return runs


def _med(rows: list[dict], key: str) -> float:
    return statistics.median(r[key] for r in rows)


def report(results: dict[int, dict[str, list[dict]]], args, load_before: str, load_after: str) -> str:
    import jax

    lines = [
        "# PPO-clip on CartPole-v1: the whole `rl-zoo train` command against the bare program",
        "",
        f"Measured {time.strftime('%Y-%m-%d %H:%M')} on {cpu_name()}, {os.cpu_count()} cores, jax {jax.__version__} "
        f"({jax.default_backend()}), by `python benchmarks/ppo_speed.py --repeats {args.repeats} --seeds {args.seeds}`.",
        f"Load average before: {load_before}; after: {load_after}. Other work on the machine slows every figure; "
        "the ratios compare runs made in alternation, in the same minutes.",
        "",
        "Tuned CartPole-v1 defaults (8 envs x 32 steps, 20 epochs x 1 minibatch of 256, gamma 0.98, lambda 0.8, lr 1e-3, "
        "100k env steps per seed). `rl-zoo train` = `python -m rl_zoo.cli train --algo ppo --env CartPole-v1 --seeds N "
        "--no-progress --out TMP` as a fresh process (11 evaluations of 10 episodes: the default 10 and one at the start; checkpoints, metrics.csv, summary.json, "
        "curve.png); bare = one jit of make_train plus one evaluation of 10 episodes, in a fresh process. Cold = empty "
        "compilation cache, warm = the same command again. Medians of the runs listed below.",
        "",
        "| seeds | cache | rl-zoo train wall s | bare wall s | train / bare (wall) | rl-zoo train CPU s | bare CPU s "
        "| train / bare (CPU) |",
        "|---:|---|---:|---:|---:|---:|---:|---:|",
    ]
    for seeds, runs in results.items():
        for cache in ("cold", "warm"):
            t, b = _med(runs[f"train {cache}"], "wall_s"), _med(runs[f"bare {cache}"], "wall_s")
            tc, bc = _med(runs[f"train {cache}"], "cpu_s"), _med(runs[f"bare {cache}"], "cpu_s")
            lines.append(f"| {seeds} | {cache} | {t:.2f} | {b:.2f} | {t / b:.2f} | {tc:.2f} | {bc:.2f} | {tc / bc:.2f} |")
    lines += ["", "CPU s = user + system seconds of the whole process and all its threads (the kernel's account): on a "
              "loaded machine it moves far less than wall time, so its ratio is the steadier measure of what the "
              "driver adds."]
    lines += ["", "Where the time goes (medians, seconds; `rl-zoo train` phases from its summary.json, bare from its own clock):", "",
              "| seeds | cache | train: compile | train: segments | train: evaluations | train: checkpoints | train: rest of process "
              "| bare: import | bare: compile | bare: run | driver run / bare run |",
              "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for seeds, runs in results.items():
        for cache in ("cold", "warm"):
            tr, br = runs[f"train {cache}"], runs[f"bare {cache}"]
            c, s, e, k = (_med(tr, x) for x in ("compile_s", "train_s", "eval_s", "checkpoint_s"))
            rest = statistics.median(r["wall_s"] - r["compile_s"] - r["train_s"] - r["eval_s"] - r["checkpoint_s"] for r in tr)
            bi, bc, bru = (_med(br, x) for x in ("import_s", "compile_s", "run_s"))
            lines.append(f"| {seeds} | {cache} | {c:.2f} | {s:.2f} | {e:.2f} | {k:.2f} | {rest:.2f} | {bi:.2f} | {bc:.2f} | {bru:.2f} "
                         f"| {(s + e + k) / bru:.2f} |")
    lines += ["", "train: rest of process = wall minus compile, segments, evaluations and checkpoints: Python and library "
              "imports, config resolution, tracing outside the compile clock, metrics.csv, summary.json and the figure "
              "(matplotlib import included). driver run / bare run = (segments + evaluations + checkpoints) / bare run "
              "(issue 15 target <= 1.3).", "", "Every run:", ""]
    for seeds, runs in results.items():
        for key, rows in runs.items():
            lines.append(f"- {seeds} seed(s), {key}: wall " + ", ".join(f"{r['wall_s']:.2f}" for r in rows)
                         + "; CPU " + ", ".join(f"{r['cpu_s']:.2f}" for r in rows)
                         + "; final returns " + "; ".join(f"{statistics.mean(r['returns']):.1f}" for r in rows))
    lines += ["", "Targets (issue 15, on an otherwise idle 2-core CPU): 1 seed cold <= 7 s, warm <= 4 s; 16 seeds cold <= 25 s; "
              "driver run / bare run <= 1.3. The peers (rejax, SBX) are timed beside `rl-zoo train` by benchmarks/peer_speed.py (results: peer_speed.md)."]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=3, help="cold+warm pairs per program and seed count (default 3)")
    parser.add_argument("--seeds", default="1,16", help="comma-separated seed counts (default 1,16)")
    parser.add_argument("--out", default=str(RESULTS / "ppo_speed.md"), help=f"results file; {RERUN_KEEPS}")
    args = parser.parse_args()
    counts = seed_counts(parser, args.seeds)
    require_counts(parser, args, "repeats")
    require_results_file(parser, args.out)
    load_before = load_average()
    results = {n: measure(n, args.repeats) for n in counts}
    text = report(results, args, load_before, load_average())
    write_report(args.out, text)
    print(text)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
