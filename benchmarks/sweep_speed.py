"""Speed of `rl-zoo sweep` against the same configs as separate `rl-zoo train --seeds 8` commands.

    python benchmarks/sweep_speed.py                 # 96 runs: 4 learning rates x 3 clip ranges x 8 seeds, 100k steps
    python benchmarks/sweep_speed.py --separate 4    # time 4 of the 12 train commands, extrapolate to 12 (said)

On a machine without the `rl-zoo` script on PATH (an accelerator machine with the working tree on
PYTHONPATH, as `gpu_check.py` runs it) every command is `python -m rl_zoo.cli ...` instead.

Every command runs as its own process, cold (``RL_ZOO_NO_CACHE=1``: no persistent compilation
cache), one after another in this script, on the same machine under the same load (``uptime`` is
recorded before and after). The floor is the bare program: ``rl-zoo algos``, which imports the
library and exits. The sweep's folder is kept (``benchmarks/results/sweep_ppo_cartpole/``: its
report.md and figures are the README's sweep example). Targets (issue 16): the sweep under 3 minutes
on 2 CPU cores, at least 5x faster than the 12 separate commands; and per config, the sweep's final
returns match the separate run's (same seeds; a Mann-Whitney U test over the 8 seeds each).
"""

from __future__ import annotations

import argparse
import csv
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _results import (RERUN_KEEPS, cpu_name, load_average, no_cache_env, require_counts, require_results_file, timed,
                      write_report)

ROOT = Path(__file__).resolve().parents[1]
LRS = ["1e-4", "3e-4", "1e-3", "3e-3"]
CLIPS = ["0.1", "0.2", "0.3"]
SWEEP_OUT = "benchmarks/results/sweep_ppo_cartpole"  # the README's sweep example


def wall(cmd: list[str]) -> float:
    """Wall seconds of ``cmd`` as a fresh process, cold (no persistent compilation cache)."""
    return timed(cmd, no_cache_env(), cwd=ROOT).wall_s


def rl_zoo_command() -> list[str]:
    """``rl-zoo`` as installed, else the same CLI through this Python (``python -m rl_zoo.cli``)."""
    found = shutil.which("rl-zoo")
    return [found] if found else [sys.executable, "-m", "rl_zoo.cli"]


def accelerator() -> str:
    """JAX's backend and devices, asked in a child process: initialising a GPU here would take the
    memory the timed commands need."""
    probe = "import jax; d = jax.devices(); print(f'{jax.default_backend()}: {len(d)} x {d[0].device_kind}, jax {jax.__version__}')"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT)
    return out.stdout.strip() or f"unknown ({out.stderr.strip()[-200:]})"


def uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()


def final_returns(metrics_csv: Path) -> list[float]:
    rows = list(csv.DictReader(open(metrics_csv)))
    last = max(int(r["env_steps"]) for r in rows)
    return [float(r["return"]) for r in rows if int(r["env_steps"]) == last]


def tuned_batch() -> int:
    """Env steps per update of the tuned PPO CartPole-v1 config every command here trains (num_envs x num_steps):
    a ``--steps`` below it failed in the first command, a RuntimeError after the floor was timed."""
    from rl_zoo import algos
    from rl_zoo.config import apply_overrides
    from rl_zoo.train import load_hyperparams

    module, preset = algos.get("ppo")
    return apply_overrides(module.Config(), {**preset, **load_hyperparams("ppo", "CartPole-v1")}).batch_size


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--steps", type=int, default=100_000)
    ap.add_argument("--seeds", type=int, default=8)
    ap.add_argument("--separate", type=int, default=12, help="how many of the 12 separate train commands to time (1-12)")
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "sweep_speed.md"), help=f"the results file; {RERUN_KEEPS}")
    ap.add_argument("--sweep-out", default=None,
                    help=f"the sweep's folder, relative to the repository root (or absolute), emptied first; default {SWEEP_OUT} "
                         "with the default --out, else sweep_ppo_cartpole/ beside --out (a committed result is not replaced)")
    args = ap.parse_args()
    require_counts(ap, args, "steps", "seeds")
    if args.steps < (batch := tuned_batch()):
        ap.error(f"--steps = {args.steps} is invalid: must be at least one update's batch ({batch} env steps)")
    require_results_file(ap, args.out)  # a folder lost the sweep's and the commands' timings at the end
    if not 1 <= args.separate <= len(LRS) * len(CLIPS):
        ap.error(f"--separate {args.separate}: time between 1 and {len(LRS) * len(CLIPS)} of the separate train commands")
    default_out = str(ROOT / "benchmarks" / "results" / "sweep_speed.md")
    if args.sweep_out is None:
        args.sweep_out = SWEEP_OUT if args.out == default_out else str(Path(args.out).resolve().parent / "sweep_ppo_cartpole")
    rl_zoo = rl_zoo_command()
    device = accelerator()
    load_before, load_start = uptime(), load_average()
    floor = wall(rl_zoo + ["algos"])
    shutil.rmtree(ROOT / args.sweep_out, ignore_errors=True)
    sweep_cmd = rl_zoo + ["sweep", "--algo", "ppo", "--env", "CartPole-v1", "--grid", f"learning_rate={','.join(LRS)}",
                          "--grid", f"clip_eps={','.join(CLIPS)}", "--seeds", str(args.seeds), "--total-steps", str(args.steps),
                          "--out", args.sweep_out]
    sweep_s = wall(sweep_cmd)
    configs = [(lr, clip) for lr in LRS for clip in CLIPS]
    # spread the timed subset over both axes: the grid's diagonals, one after another (N = 4 times each learning
    # rate once, with clips 0.1, 0.2, 0.3, 0.1; every 3rd config of the list above was one clip, 0.1, for N = 4)
    diagonals = [(LRS[i], CLIPS[(i + d) % len(CLIPS)]) for d in range(len(CLIPS)) for i in range(len(LRS))]
    chosen = diagonals[:args.separate]
    sweep_rows = list(csv.DictReader(open(ROOT / args.sweep_out / "runs.csv")))
    lines, separate = [], []
    from scipy.stats import mannwhitneyu

    with tempfile.TemporaryDirectory() as tmp:
        for lr, clip in chosen:
            out = Path(tmp) / f"lr{lr}-clip{clip}"
            wall_s = wall(rl_zoo + ["train", "--algo", "ppo", "--env", "CartPole-v1", "--seeds", str(args.seeds), "--total-steps",
                                   str(args.steps), "--set", f"learning_rate={lr}", "--set", f"clip_eps={clip}", "--no-progress", "--out", str(out)])
            separate.append(wall_s)
            alone = final_returns(out / "metrics.csv")
            swept = [float(r["final_return"]) for r in sweep_rows if float(r["learning_rate"]) == float(lr) and float(r["clip_eps"]) == float(clip)]
            p = mannwhitneyu(alone, swept).pvalue if len(set(alone + swept)) > 1 else 1.0
            lines.append(f"| {lr} | {clip} | {wall_s:.1f} | {sum(alone) / len(alone):.1f} | {sum(swept) / len(swept):.1f} | {p:.2f} |")
    load_after = uptime()
    total_separate = sum(separate) * len(configs) / len(separate)
    ratio = total_separate / sweep_s
    extrapolated = "" if len(separate) == len(configs) else (
        f" ({len(separate)} of the {len(configs)} commands timed, {sum(separate):.1f} s, scaled by {len(configs)}/{len(separate)})")
    report = Path(args.sweep_out) / "report.md"
    report_link = "[sweep_ppo_cartpole/report.md](sweep_ppo_cartpole/report.md)" if args.sweep_out == SWEEP_OUT else f"`{report}`"
    text = f"""# rl-zoo sweep vs separate rl-zoo train commands

`python benchmarks/sweep_speed.py --separate {args.separate}{'' if args.steps == 100_000 else f' --steps {args.steps}'}{'' if args.seeds == 8 else f' --seeds {args.seeds}'}`, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}.
Machine: {cpu_name()}, {os.cpu_count()} CPU cores, Python {platform.python_version()};
JAX backend {device} (a plain process; on a CPU the timed `rl-zoo` commands split it into one device per core, `rl_zoo.distributed.split_cpu`).
Load: before `{load_before}`; after `{load_after}` (the load after includes the timed commands' own
threads; other work on a shared machine inflates absolute seconds, the ratio is measured in the same script
under the same load).
Every command is a separate process, cold (`RL_ZOO_NO_CACHE=1`), run once (no repeats: at this load one
sweep plus {len(separate)} trains took {(sweep_s + sum(separate)) / 60:.1f} minutes).

PPO on CartPole-v1, {args.steps:,} env steps per run, learning_rate in {{{', '.join(LRS)}}} x clip_eps in
{{{', '.join(CLIPS)}}} x {args.seeds} seeds (0-{args.seeds - 1}) = {len(configs) * args.seeds} runs; the other fields are the tuned
CartPole values of `rl_zoo/hyperparams/ppo.yaml`.

| command | wall s |
|---|---|
| bare program (`rl-zoo algos`: import and exit), the floor | {floor:.1f} |
| `rl-zoo sweep` (all {len(configs) * args.seeds} runs, one compiled program) | {sweep_s:.1f} |
| {len(configs)} x `rl-zoo train --seeds {args.seeds}`, one after another{extrapolated} | {total_separate:.1f} |

Sweep vs separate commands: **{ratio:.1f}x** faster (target: at least 5x). Sweep under 3 minutes: **{'yes' if sweep_s < 180 else 'no'}**
({sweep_s:.0f} s; load average at the start {load_start}).

Per config, final greedy return (mean over the {args.seeds} seeds) of the separate run and of the same config
inside the sweep (same seeds; different compiled programs round differently, so the runs are the same
experiment, not the same numbers), and the Mann-Whitney U p-value of the two samples of {args.seeds}:

| learning_rate | clip_eps | train wall s | final return, train | final return, sweep | p |
|---|---|---|---|---|---|
{chr(10).join(lines)}

The sweep's report (tables, learning curves, sensitivity figures, best config): {report_link}.
"""
    write_report(args.out, text)
    print(text)


if __name__ == "__main__":
    main()
