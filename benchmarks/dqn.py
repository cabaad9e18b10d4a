"""DQN benchmarks: learning (greedy returns over seeds) and speed (whole process, cold), issue 5.

Learning: the tuned hyperparameters of ``rl_zoo/hyperparams/{dqn,double-dqn}.yaml``, all seeds of
an env trained at once (``jax.jit(jax.vmap(train))``), with a greedy evaluation
(``rl_zoo.core.evaluate.evaluate`` with ``agent.act``, 10 episodes) some 25-40 times inside the jitted
program. Two seed sets (issue 19): *tuning* seeds (``TUNING_SEED0``.., what ``tune`` runs on) choose
hyperparameters; *held-out* seeds (``REPORT_SEED0`` = 1000.., what ``learning`` records by default) only
report. Per seed: the final return (the headline), the best one with the env steps where it happened,
and whether the seed collapsed after solving (reached the solved level, ended below it). Targets
(held-out, issue 19): CartPole-v1 final >= 475 in at least 8 of 10 seeds; Acrobot-v1 mean final
>= -100; MountainCar-v0 mean final >= -120.

Speed: DQN on CartPole-v1 for 50k env steps with the issue's fixed settings (lr 2.3e-3, batch 64,
buffer 100k, 1000 learning starts, gamma 0.99, train every 256 steps with 128 gradient steps,
target update every 10 gradient steps, epsilon 1 -> 0.04 over 16% of training, 256x256 ReLU
network), one seed, in a fresh ``python`` process with no compilation cache. The parent times the
whole process (what ``time python benchmarks/dqn.py speed-child`` reports); the child reports
import, compile and run seconds apart, and the process's CPU seconds (the machine may be shared).

    python benchmarks/dqn.py                      # everything, then writes benchmarks/results/dqn.md
    python benchmarks/dqn.py learning CartPole-v1 [--algo double-dqn] [--seeds 10]   # held-out seeds, recorded
    python benchmarks/dqn.py tune CartPole-v1 n_step=3 [--save FILE]   # tuning seeds, printed, not recorded
    python benchmarks/dqn.py add FILE... [--label NAME]   # record runs saved with --save (a label: beside the headline)
    python benchmarks/dqn.py figure FILE...       # dqn.collapse.png: a collapsing and a stable seed per saved run
    python benchmarks/dqn.py speed                # the cold-process speed measurement
    python benchmarks/dqn.py report               # rewrite dqn.md from benchmarks/results/dqn.json

``--out DIR`` writes ``dqn.json``, ``dqn.md`` and the figure there instead of ``benchmarks/results/``.
``learning`` on the held-out seeds with other settings than the headline's (``field=value``, ``--steps``,
``--seeds``, ``--seed0``) is refused into the committed results, whose held-out row of that algorithm and
env it would replace: give ``--out`` for a trial, or ``tune ... --save FILE`` and ``add FILE --label NAME``
(``add`` without a label over an existing row is refused too).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

from _results import (cpu_name, load_results, machine, no_cache_env, require_counts, require_results, require_results_folder,
                      save_results, versions)

RESULTS = Path(__file__).parent / "results"
RAW = RESULTS / "dqn.json"
REPORT = RESULTS / "dqn.md"

#: env -> (seeds per run, target description), issue 19: held-out seeds, mean of 10 greedy episodes per seed
TARGETS = {
    "CartPole-v1": (10, "final >= 475 in at least 8 of 10 seeds (<= 100k steps)"),
    "Acrobot-v1": (10, "mean final >= -100 over 10 seeds (100k steps)"),
    "MountainCar-v0": (10, "mean final >= -120 over 10 seeds (<= 200k steps)"),
}

#: the seeds hyperparameters were chosen on, and the seeds results are reported on (no tuning looked at them)
TUNING_SEED0 = 200  # issue 19 found the defaults failing here (4 of 10); seeds 0-9 were the earlier tuning set
REPORT_SEED0 = 1000
SOLVED = {"CartPole-v1": 475.0, "Acrobot-v1": -100.0, "MountainCar-v0": -120.0}

SPEED_CONFIG = dict(
    total_timesteps=50_000, learning_rate=2.3e-3, batch_size=64, buffer_size=100_000, learning_starts=1_000,
    gamma=0.99, train_frequency=256, gradient_steps=128, target_update_interval=10, tau=1.0, epsilon_start=1.0,
    epsilon_end=0.04, exploration_fraction=0.16, hidden_size=256, num_layers=2, activation="relu", num_envs=1,
)


def passes(env_id: str, final: list[float]) -> bool:
    """Whether ``final`` (one greedy return per seed) meets ``TARGETS[env_id]``. CartPole's rule counts seeds
    (8 of 10); with another number of seeds it asks the same share (at least 80%, rounded up)."""
    if not final:
        return False
    if env_id == "CartPole-v1":
        return 5 * sum(r >= 475 for r in final) >= 4 * len(final)
    if env_id in ("Acrobot-v1", "MountainCar-v0"):
        return sum(final) / len(final) >= SOLVED[env_id]
    raise KeyError(env_id)


def collapsed_after_solving(env_id: str, curve: list[float]) -> bool:
    """Reached the solved level (CartPole 475, Acrobot -100, MountainCar -120) at some evaluation and
    ended below it."""
    return max(curve) >= SOLVED[env_id] and curve[-1] < SOLVED[env_id]


def _segments(num_updates: int, num_evals: int) -> int:
    """Updates per evaluation segment: the divisor of ``num_updates`` nearest ``num_updates / num_evals``."""
    want = max(1, num_updates // max(num_evals, 1))
    divisors = [d for d in range(1, num_updates + 1) if num_updates % d == 0]
    return min(divisors, key=lambda d: (abs(d - want), d))


def learning_curves(algo: str, env_id: str, seeds: int, overrides: dict | None = None, total_steps: int | None = None,
                    num_evals: int = 25, eval_episodes: int = 10, seed0: int = 0) -> dict:
    """Train ``seeds`` seeds at once; greedy mean return every segment. Returns a JSON-able dict."""
    import jax
    import jax.numpy as jnp
    import numpy as np

    import envs
    from rl_zoo.core.evaluate import evaluate
    from rl_zoo.train import resolve_config

    module, config = resolve_config(algo, env_id, overrides, total_steps)
    env, params = envs.make(env_id)
    agent = module.make_agent(config, env, params)
    k = _segments(agent.num_updates, num_evals)

    def run(key):
        key_init, key_eval = jax.random.split(key)

        def segment(state, key):
            state, metrics = jax.lax.scan(lambda s, _: agent.update(s), state, None, k)
            returns = evaluate(agent.act, state, env, params, key, eval_episodes)
            learning = jnp.maximum(metrics.learning.sum(), 1)  # loss and q_max are 0 before learning starts
            return state, (returns.mean(), metrics.q_max.sum() / learning, metrics.loss.sum() / learning)

        _, curves = jax.lax.scan(segment, agent.init(key_init), jax.random.split(key_eval, agent.num_updates // k))
        return curves

    keys = jax.vmap(jax.random.key)(jnp.arange(seed0, seed0 + seeds))
    t0 = time.perf_counter()
    compiled = jax.jit(jax.vmap(run)).lower(keys).compile()
    t1 = time.perf_counter()
    returns, q_max, loss = jax.block_until_ready(compiled(keys))
    t2 = time.perf_counter()
    returns = np.asarray(returns)  # [seeds, evals]
    steps = [(i + 1) * k * agent.env_steps_per_update for i in range(returns.shape[1])]
    best_at = returns.argmax(axis=1)  # first evaluation with the best return
    return dict(
        algo=algo, env_id=env_id, seeds=seeds, seed_list=list(range(seed0, seed0 + seeds)), overrides=overrides or {},
        config={f: getattr(config, f) for f in config.__dataclass_fields__},
        env_steps=steps, eval_returns=returns.round(2).tolist(), q_max=np.asarray(q_max).round(3).tolist(),
        td_loss=np.asarray(loss).round(5).tolist(),
        final=returns[:, -1].round(2).tolist(), best=returns.max(axis=1).round(2).tolist(),
        best_step=[steps[i] for i in best_at],
        collapsed=int(sum(collapsed_after_solving(env_id, list(c)) for c in returns)),
        compile_s=round(t1 - t0, 1), run_s=round(t2 - t1, 1), loadavg=os.getloadavg()[0], machine=machine(),
        versions=versions(),
    )


SPEED_CHILD_NOTE = "the child: train only, one seed, no compilation cache"


def speed_child() -> dict:
    t_start = time.perf_counter()
    import jax

    import envs
    from rl_zoo.algos import dqn

    config = dqn.Config(**SPEED_CONFIG)
    config.validate()
    env, params = envs.make("CartPole-v1")
    train = jax.jit(dqn.make_train(config, env, params))
    key = jax.random.key(0)
    t0 = time.perf_counter()
    compiled = train.lower(key).compile()
    t1 = time.perf_counter()
    state, metrics = jax.block_until_ready(compiled(key))
    t2 = time.perf_counter()
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return dict(import_s=round(t0 - t_start, 2), compile_s=round(t1 - t0, 2), run_s=round(t2 - t1, 2),
                cpu_s=round(usage.ru_utime + usage.ru_stime, 2), peak_mb=round(usage.ru_maxrss / 1024),
                gradient_steps=int(state.gradient_step), env_steps=config.num_updates * config.env_steps_per_update)


def speed(repeats: int = 1) -> dict:
    """Time ``python benchmarks/dqn.py speed-child`` as a whole, ``repeats`` times (fresh processes)."""
    runs = []
    env = no_cache_env()  # the child turns no cache on; without JAX_COMPILATION_CACHE_DIR it reads none either
    for _ in range(repeats):
        load = os.getloadavg()[0]
        t0 = time.perf_counter()
        out = subprocess.run([sys.executable, __file__, "speed-child"], capture_output=True, text=True, check=True, env=env)
        wall = time.perf_counter() - t0
        child = json.loads(out.stdout.strip().splitlines()[-1])
        runs.append(dict(process_s=round(wall, 2), loadavg_before=load, **child))
        print(runs[-1], flush=True)
    return dict(config=SPEED_CONFIG, runs=runs, cpus=os.cpu_count(), machine=cpu_name())


def _row_name(r: dict) -> str:
    """A learning row's name in the report: its label (or algorithm), with the fields it changed."""
    changed = ", ".join(f"{k}={v}" for k, v in (r.get("overrides") or {}).items())
    return r.get("label", r["algo"]) + (f" [{changed}]" if changed else "")


def _seed_label(r: dict) -> str:
    """A row's seed set as the table says it: Double DQN's CartPole n_step 3 was adopted after comparing it with
    one-step targets on the held-out seeds themselves (the notes below), so its rows there are a weaker hold-out."""
    if r.get("seed_set", "tuning") != "report":
        return "tuning"
    return "held-out†" if (r["algo"], r["env_id"]) == ("double-dqn", "CartPole-v1") else "held-out"


def _verdict(env_id: str, final: list[float]) -> str:
    """The table's "met" cell: yes or no, and, where the row has fewer or more seeds than the target is set
    for (the 5-seed tuning rows of before issue 19), on how many it was judged."""
    verdict = "yes" if passes(env_id, final) else "no"
    wanted = TARGETS[env_id][0]
    return verdict if len(final) == wanted else f"{verdict}, on {len(final)} seeds, not {wanted}"


def report(raw: dict) -> str:
    import numpy as np

    lines = ["# DQN benchmarks", "", "Written by `python benchmarks/dqn.py` (raw numbers in `dqn.json`).", ""]
    lines += ["## Learning", "",
              f"**Seeds.** Hyperparameters (`rl_zoo/hyperparams/{{dqn,double-dqn}}.yaml`) were chosen on *tuning* seeds "
              f"(0-9 before issue 19; {TUNING_SEED0}-{TUNING_SEED0 + 9} for issue 19's changes). The headline rows are "
              f"*held-out* seeds {REPORT_SEED0}-{REPORT_SEED0 + 9}, which played no part in choosing them "
              "(`python benchmarks/dqn.py learning ENV [--algo double-dqn]`); tuning-seed rows are marked as such.", "",
              "Greedy return (`evaluate` with `agent.act`, mean of 10 episodes per seed), all seeds in one "
              "`jax.jit(jax.vmap(...))` program, evaluated at the end of each segment of updates, a segment being the divisor of the update count nearest (updates / 25), so some 25-40 times along the run (15-20 in the rows before issue 19, made with fewer). *Final* (the headline) is the "
              "evaluation at the end of the budget; *best* the best evaluation along the way, with the env steps "
              "where it happened (what a best-model checkpoint such as SB3's EvalCallback would keep). "
              "*Collapsed* counts the seeds that reached the solved level (CartPole 475, Acrobot -100, "
              "MountainCar -120) at some evaluation and ended below it.", "",
              "| algo | env | env steps | seeds (set) | target | final per seed | final mean | met (final) | best per seed @ k steps | collapsed after solving |",
              "|---|---|---|---|---|---|---|---|---|---|"]
    rows = sorted(raw.get("learning", {}).values(),
                  key=lambda r: (r.get("seed_set", "") != "report", "label" in r, r["algo"], r["env_id"], r.get("label", "")))
    for r in rows:
        final, best = r["final"], r["best"]
        seed_list = r.get("seed_list") or list(range(r["seeds"]))
        label = _seed_label(r)
        best_at = r.get("best_step") or [None] * len(best)
        best_txt = ", ".join(f"{x:.0f}" + (f" @{s / 1000:.0f}k" if s else "") for x, s in zip(best, best_at))
        collapsed = r.get("collapsed")
        lines.append(
            f"| {_row_name(r)} | {r['env_id']} | {r['env_steps'][-1]:,} | {seed_list[0]}-{seed_list[-1]} ({label}) | "
            f"{TARGETS[r['env_id']][1]} | {', '.join(f'{x:.0f}' for x in final)} | {np.mean(final):.1f} | "
            f"{_verdict(r['env_id'], final)} | {best_txt} | {'-' if collapsed is None else collapsed} |"
        )
    if any(_seed_label(r) == "held-out†" for r in rows):
        lines += ["", "† Double DQN's CartPole `n_step: 3` was adopted after comparing it with one-step targets on these "
                  "held-out seeds (the notes below): a weaker hold-out than the other held-out rows."]
    lines += ["", "Mean greedy return over seeds along training (and mean max_a Q(s, a) of sampled states, "
              "to compare value estimates with realised returns):", ""]
    for r in rows:
        ret = np.asarray(r["eval_returns"]).mean(0)
        q = np.asarray(r["q_max"]).mean(0)
        label = _seed_label(r)
        lines.append(f"- **{_row_name(r)} {r['env_id']}, {label} seeds** (compile {r['compile_s']} s, run {r['run_s']} s, load average {r['loadavg']:.1f}, {r.get('machine', 'a machine not recorded')}): "
                     + ", ".join(f"{s // 1000}k: {x:.0f} (Q {y:.0f})" for s, x, y in zip(r["env_steps"], ret, q)))
    sp = raw.get("speed")
    if sp:
        lines += ["", "## Speed", "",
                  "DQN, CartPole-v1, 50k env steps, one seed, the issue's fixed settings: " +
                  ", ".join(f"{k}={v}" for k, v in sp["config"].items()) + ". ",
                  "Each row is a fresh process with no compilation cache, timed as a whole by the parent "
                  "(what `time python benchmarks/dqn.py speed-child` reports). CPU seconds are the process's "
                  f"user + system time: the machine ({sp['cpus']} cores, {sp['machine']}, CPU only) is shared, so wall time above CPU time is "
                  "time spent waiting for a core.", "",
                  "| process wall s | import s | compile s | run s | CPU s | peak MB | load average before |",
                  "|---|---|---|---|---|---|---|"]
        for r in sp["runs"]:
            lines.append(f"| {r['process_s']} | {r['import_s']} | {r['compile_s']} | {r['run_s']} | {r['cpu_s']} | {r['peak_mb']} | {r['loadavg_before']:.1f} |")
    notes = raw.get("notes")
    if notes:
        lines += ["", "## Notes", "", notes]
    return "\n".join(lines) + "\n"


def collapse_figure(runs: list[tuple[str, dict]], out: Path) -> str:
    """Greedy return, mean max_a Q(s, a) and mean Huber TD loss of sampled minibatches along training, for
    one collapsing and one stable seed of each run in ``runs`` (``(title, learning_curves result)``)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    fig, axes = plt.subplots(3, len(runs), figsize=(5 * len(runs), 7.5), sharex="col", squeeze=False)
    picked = []
    for col, (title, r) in enumerate(runs):
        ret, q, loss = (np.asarray(r[k]) for k in ("eval_returns", "q_max", "td_loss"))
        steps = np.asarray(r["env_steps"]) / 1000
        solved = SOLVED[r["env_id"]]
        collapsing = [i for i, c in enumerate(ret) if collapsed_after_solving(r["env_id"], list(c))]
        stable = [i for i, c in enumerate(ret) if c[-1] >= solved]
        for i, style in ((collapsing[0] if collapsing else None, "tab:red"), (stable[0] if stable else None, "tab:blue")):
            if i is None:
                continue
            seed = r["seed_list"][i]
            kind = "collapses" if style == "tab:red" else "ends solved"
            picked.append(f"{title}: seed {seed} {kind}")
            for row, y in enumerate((ret[i], q[i], loss[i])):
                axes[row, col].plot(steps, y, color=style, label=f"seed {seed} ({kind})")
        axes[0, col].set_title(title, fontsize=9)
        axes[0, col].axhline(solved, color="grey", lw=0.5, ls="--")
        if r["env_id"] == "CartPole-v1":  # reward 1 a step: no value exceeds 1 / (1 - gamma), balancing forever
            axes[1, col].axhline(1 / (1 - r["config"]["gamma"]), color="grey", lw=0.5, ls="--")
        axes[0, col].legend(fontsize=7)
        axes[2, col].set_xlabel("env steps (thousands)")
        axes[2, col].set_yscale("log")
    for row, name in enumerate(("greedy return", "mean max_a Q(s, a)", "mean Huber TD loss")):
        axes[row, 0].set_ylabel(name)
    fig.tight_layout()
    tmp = out.with_suffix(".tmp.png")
    fig.savefig(tmp, dpi=80)
    tmp.replace(out)
    return "; ".join(picked)


def _parse_overrides(items: list[str]) -> dict:
    out = {}
    for item in items:
        k, sep, v = item.partition("=")
        if not sep or not k:
            raise SystemExit(f"dqn.py: error: {item!r} is not field=value")
        out[k] = v
    return out


def _check_args(ap: argparse.ArgumentParser, args) -> None:
    """Bad flags refused before anything trains or is rewritten (they were tracebacks, some after a run)."""
    require_counts(ap, args, "seeds", "steps", "repeats")
    require_results_folder(ap, args.out, "dqn.json and dqn.md")
    if args.command in ("learning", "tune", "all") and args.env_id is not None and args.env_id not in TARGETS:
        ap.error(f"{args.command} runs one of {', '.join(TARGETS)} (their targets and solved levels), not {args.env_id!r}")
    if args.command in ("learning", "tune", "all") and (bad := [o for o in args.overrides if not o.partition("=")[0] or "=" not in o]):
        ap.error(f"{', '.join(map(repr, bad))} is not field=value")  # was exit 1, after the imports
    if args.command in ("add", "figure") and not args.env_id:
        ap.error(f"{args.command} needs result files (written by tune ... --save FILE)")
    # what learning records is the row "ALGO ENV SEEDSET": on the held-out (report) set, the headline's settings only
    seed_set = args.seed_set or ("tuning" if args.command == "tune" else "report")
    headline_seeds = {TARGETS[e][0] for e in ([args.env_id] if args.env_id in TARGETS else TARGETS)}
    changed = [name for name, given in (
        ("field=value", args.overrides), ("--steps", args.steps),
        ("--seeds", args.seeds is not None and {args.seeds} != headline_seeds),
        ("--seed0", args.seed0 is not None and args.seed0 != (TUNING_SEED0 if seed_set == "tuning" else REPORT_SEED0))) if given]
    if args.command in ("learning", "all") and seed_set == "report" and changed and args.out.resolve() == RESULTS.resolve():
        ap.error(f"learning with {', '.join(changed)} would replace the held-out row of the tuned settings in {RAW}: "
                 "give --out DIR for a trial, or record it as a labelled row (tune ... --save FILE, then add FILE --label NAME)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("command", nargs="?", default="all", choices=["all", "learning", "speed", "speed-child", "report", "tune", "add", "figure"])
    ap.add_argument("env_id", nargs="?")
    ap.add_argument("overrides", nargs="*", help="field=value (learning, tune); result JSON files (add, figure)")
    ap.add_argument("--algo", default="dqn")
    ap.add_argument("--seeds", type=int, help="learning, tune: seeds per env (default: the target's, 10 on each env)")
    ap.add_argument("--steps", type=int, help="learning, tune: env steps per seed (default: the tuned config's, "
                                              "rl_zoo/hyperparams/<algo>.yaml)")
    ap.add_argument("--repeats", type=int, default=1)
    ap.add_argument("--seed-set", choices=["tuning", "report"],
                    help=f"tuning: seeds {TUNING_SEED0}.. (default of tune), report: held-out seeds {REPORT_SEED0}.. (default of learning)")
    ap.add_argument("--seed0", type=int, help="first seed, instead of the seed set's")
    ap.add_argument("--save", help="also write this run's raw result to this JSON file")
    ap.add_argument("--label", help="add: the rows' name in the report, kept beside the held-out headline rows (e.g. 'dqn, Polyak tau 0.005')")
    ap.add_argument("--out", type=Path, default=RESULTS, help="folder of dqn.json and dqn.md, and of dqn.collapse.png for the figure command (default benchmarks/results)")
    args = ap.parse_intermixed_args()
    _check_args(ap, args)
    if args.command == "speed-child":  # timed from its start: imports nothing else first
        print(json.dumps(speed_child()))
        return
    from rl_zoo.config import ConfigError

    try:
        _main(ap, args)
    except ConfigError as e:  # a config the library refuses (e.g. --steps below learning_starts): its message, no traceback
        ap.exit(2, f"dqn.py: error: {e}\n")


def _main(ap: argparse.ArgumentParser, args) -> None:
    raw_path, report_path = args.out / RAW.name, args.out / REPORT.name
    if args.algo not in ("dqn", "double-dqn"):  # else a traceback from the algorithm registry, after set-up
        ap.error(f"--algo {args.algo!r}: this benchmark runs dqn or double-dqn")
    if args.command in ("add", "figure"):  # their result files, before the raw file is read or the figure drawn
        missing = [p for p in [args.env_id, *args.overrides] if p is None or not Path(p).is_file()]
        if missing:
            ap.error(f"{args.command}: {', '.join(map(str, missing))}: no such result file (JSON files that `tune --save` "
                     "or `learning --save` wrote)")
    if args.command == "report":
        require_results(raw_path, "dqn.py")
    args.out.mkdir(parents=True, exist_ok=True)
    raw = load_results(raw_path)
    if args.command in ("learning", "tune", "all"):
        todo = [(args.algo, args.env_id)] if args.env_id else [(a, e) for a in ("dqn", "double-dqn") for e in TARGETS]
        seed_set = args.seed_set or ("tuning" if args.command == "tune" else "report")
        seed0 = args.seed0 if args.seed0 is not None else (TUNING_SEED0 if seed_set == "tuning" else REPORT_SEED0)
        for algo, env_id in todo:
            seeds = args.seeds or TARGETS[env_id][0]
            overrides = _parse_overrides(args.overrides)
            result = learning_curves(algo, env_id, seeds, overrides, args.steps or None, seed0=seed0)
            result["seed_set"] = seed_set
            print(json.dumps({k: result[k] for k in ("algo", "env_id", "seed_set", "seed_list", "overrides", "final",
                                                     "best", "best_step", "collapsed", "compile_s", "run_s")}), flush=True)
            print("mean curve:", [round(float(sum(c) / len(c))) for c in zip(*result["eval_returns"])], flush=True)
            print("mean q_max:", [round(float(sum(c) / len(c))) for c in zip(*result["q_max"])], flush=True)
            if args.save:
                save_results(Path(args.save), result)
            if args.command != "tune":
                raw = load_results(raw_path)  # again: another learning run may have written it meanwhile
                raw.setdefault("learning", {})[f"{algo} {env_id} {seed_set}"] = result
                save_results(raw_path, raw)
    if args.command in ("speed", "all"):
        raw["speed"] = speed(args.repeats)
        save_results(raw_path, raw)
    if args.command == "add":
        raw = load_results(raw_path)
        for path in [args.env_id, *args.overrides]:
            result = json.loads(Path(path).read_text())
            key = f"{result['algo']} {result['env_id']} {result['seed_set']}"
            if args.label:  # a row beside the headline, named in the report (with the fields it changed)
                result["label"] = args.label
                key += f", {args.label}"
            elif key in raw.get("learning", {}):  # `tune --seed-set report` then `add` would replace the headline row
                ap.error(f"{path} would replace the row {key!r} of {raw_path}: give it a --label (a row beside it), "
                         f"or record the headline with `learning`")
            raw.setdefault("learning", {})[key] = result
        save_results(raw_path, raw)
    if args.command == "figure":
        runs = [(Path(path).stem, json.loads(Path(path).read_text())) for path in [args.env_id, *args.overrides]]
        print(collapse_figure(runs, args.out / "dqn.collapse.png"))
        return
    if args.command != "tune":
        from rl_zoo.runs import atomic_write_text

        atomic_write_text(report_path, report(raw))  # a render of the raw file: a kill mid-write leaves the old page
        print(f"wrote {report_path}")


if __name__ == "__main__":
    main()
