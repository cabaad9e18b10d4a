"""Does cutting a run into segments cost training speed? PPO CartPole-v1's driver segment program, called
one segment at a time, against the bare whole-run program, per call and per update, in one process.

`rl-zoo train` trains in segments of K updates (one compiled ``lax.scan`` of ``agent.update``, plus the NaN
guard's per-parameter finiteness flags, ``rl_zoo.driver.plan.compile_plan``) so that it can evaluate,
checkpoint and draw progress between them; the bare program is one ``jit`` of ``make_train`` (all
updates in one scan). This script compiles, on JAX's default device, with one seed and the tuned
CartPole-v1 defaults (390 updates of 256 env steps):

- bare: ``jit(map_seeds(make_train))``, called 3 times;
- the segment program with the K `rl-zoo train` runs (``segment_schedule`` at the default 10 evaluations:
  K = 39, 10 segments), with and without the flags;
- K = 390 (the whole run in one segment) and K = 1 (a call per update: the per-call cost);

and reports each program's compile seconds, its HLO size (lines, fusions, while loops), the first
call's seconds and the median of the later calls (each segment call continues from the last one's
states), and the median seconds per update. XLA's defaults everywhere (no ``compile_options``).

    python benchmarks/segment_calls.py [--out benchmarks/results/segment_calls_cpu.md]
    python benchmarks/segment_calls.py --render RUN.json --out FILE.md   # a table from a run's printed JSON
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _results import RERUN_KEEPS, load_average, machine, now_utc, require_results_file, write_report  # noqa: E402

RESULTS = Path(__file__).parent / "results"


def driver_k(num_updates: int) -> int:
    """The updates per segment `rl-zoo train` runs at its default number of evaluations."""
    from rl_zoo.driver.runner import segment_schedule
    from rl_zoo.driver.spec import RunSpec

    return segment_schedule(num_updates, RunSpec.num_evals)[0]


def segments(num_updates: int) -> tuple[tuple[int, bool], ...]:
    """(K, with the NaN guard's flags) of each segment program measured."""
    k = driver_k(num_updates)
    return (k, True), (k, False), (num_updates, True), (1, True)


def hlo_size(compiled) -> dict:
    """Lines, fusions, while loops and custom calls of a compiled program's optimised HLO text."""
    txt = compiled.as_text()
    return dict(lines=txt.count("\n"), fusions=txt.count(" fusion("), whiles=txt.count(" while("),
                custom_calls=txt.count("custom-call("))


def measure() -> dict:
    import jax
    import jax.numpy as jnp

    import envs
    from rl_zoo.driver.guard import param_flags
    from rl_zoo.driver.plan import init_seeds, map_seeds, update_seeds
    from rl_zoo.train import resolve_config

    module, cfg = resolve_config("ppo", "CartPole-v1")
    env, params = envs.make("CartPole-v1")
    agent = module.make_agent(cfg, env, params)
    train = module.make_train(cfg, env, params)
    seeds = jnp.arange(1)
    out = {"backend": jax.default_backend(), "jax": jax.__version__, "num_updates": agent.num_updates}

    keys = jax.vmap(jax.random.key)(seeds)
    t = time.perf_counter()
    bare = jax.jit(map_seeds(train)).lower(keys).compile()
    out["bare_compile_s"] = round(time.perf_counter() - t, 3)
    out["bare_hlo"] = hlo_size(bare)
    calls = []
    for _ in range(3):
        t = time.perf_counter()
        jax.block_until_ready(bare(keys))
        calls.append(round(time.perf_counter() - t, 4))
    out["bare_calls_s"] = calls

    states = jax.jit(partial(init_seeds, agent))(seeds)
    for k, flags in segments(agent.num_updates):
        def segment(s, k=k, flags=flags):
            s2, m = update_seeds(agent, s, k)
            return (s2, m, param_flags(s2)) if flags else (s2, m)

        t = time.perf_counter()
        c = jax.jit(segment).lower(states).compile()
        compile_s = round(time.perf_counter() - t, 3)
        st, ts = states, []
        for _ in range(min(20, 2 * agent.num_updates // k)):
            t0 = time.perf_counter()
            r = c(st)
            jax.block_until_ready(r[0])
            ts.append(time.perf_counter() - t0)
            st = r[0]
        rest = sorted(ts[1:])
        median = rest[len(rest) // 2] if rest else None
        out[f"segment_k{k}_flags{int(flags)}"] = dict(
            compile_s=compile_s, hlo=hlo_size(c), first_s=round(ts[0], 4),
            rest_median_s=None if median is None else round(median, 4),
            per_update_ms_rest=None if median is None else round(1000 * median / k, 4), calls=len(ts))
        print(json.dumps(out), flush=True)
    return out


def report(r: dict, where: str) -> str:
    n = r["num_updates"]
    bare = r["bare_calls_s"]
    later = sorted(bare[1:])  # the calls after the first, which compiled nothing
    lines = [
        "# PPO CartPole-v1: the driver's segment program against the bare whole-run program, per call",
        "",
        f"{where}; JAX backend `{r['backend']}`, jax {r['jax']}. One seed, tuned CartPole-v1 defaults ({n} updates "
        "of 256 env steps), XLA's default compiler options. Measured by `benchmarks/segment_calls.py` (its "
        "docstring says what each row is).",
        "",
        "| program | compile s | HLO lines | fusions | while loops | first call s | later calls s (median; bare: range) | ms per update (later calls) | calls |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
        f"| bare: `make_train`, all {n} updates | {r['bare_compile_s']:.2f} | {r['bare_hlo']['lines']} | "
        f"{r['bare_hlo']['fusions']} | {r['bare_hlo']['whiles']} | {bare[0]:.3f} | {later[0]:.3f}-{later[-1]:.3f} | "
        f"{1000 * statistics.median(later) / n:.2f} | {len(bare)} |",
    ]
    for k, flags in segments(n):
        s = r.get(f"segment_k{k}_flags{int(flags)}")
        if s is None:
            continue
        name = f"segment, K = {k}" + ("" if flags else ", no finiteness flags")
        lines.append(f"| {name} | {s['compile_s']:.2f} | {s['hlo']['lines']} | {s['hlo']['fusions']} | {s['hlo']['whiles']} | "
                     f"{s['first_s']:.3f} | {s['rest_median_s']:.3f} | {s['per_update_ms_rest']:.2f} | {s['calls']} |")
    k = driver_k(n)
    lines += ["", f"The bare row's ms per update is the median of its calls over {n} updates (its program also makes the initial state). `rl-zoo train` calls the K = {k} "
              f"program {n // k} times: its training seconds are about {n // k} x that row's later calls."]
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=None, help=f"results file (default benchmarks/results/segment_calls_<backend>.md); {RERUN_KEEPS}")
    ap.add_argument("--render", default=None, help="a JSON object this script printed: write its table, measure nothing")
    ap.add_argument("--where", default=None, help="the machine line of a rendered table (with --render)")
    args = ap.parse_args()
    if args.out:
        if not Path(args.out).parent.is_dir():
            ap.error(f"--out {args.out}: no folder {Path(args.out).parent}")
        require_results_file(ap, args.out)
    if args.where and not args.render:
        ap.error("--where names the machine of a rendered table: give it with --render")
    if args.render:
        try:
            r = json.loads(Path(args.render).read_text())
        except FileNotFoundError:
            ap.error(f"--render {args.render}: no such file")
        except json.JSONDecodeError as e:
            ap.error(f"--render {args.render}: not the JSON object this script prints ({e})")
        if not isinstance(r, dict) or "bare_calls_s" not in r:
            ap.error(f"--render {args.render}: not the JSON object this script prints (no bare_calls_s)")
        where = args.where or "machine not recorded"
    else:
        t0, before = now_utc(), load_average()
        r = measure()
        where = f"Measured {t0} on {machine()}; load average before: {before}, after: {load_average()}"
    out = Path(args.out or RESULTS / f"segment_calls_{r['backend']}.md")
    text = report(r, where)
    write_report(out, text)
    print(text)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
