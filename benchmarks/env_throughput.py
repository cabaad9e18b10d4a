"""Environment steps per second: the five pure-JAX classic-control ports against gymnasium.

    python benchmarks/env_throughput.py                  # all five, 1024 envs, writes the results table
    python benchmarks/env_throughput.py --quick          # short timings (smoke test), writes nothing

For each id, in the same run on the same machine:

* **JAX port**: ``num_envs`` copies stepped with ``jax.vmap(env.step)`` inside ``jax.lax.scan``,
  jitted; random actions sampled inside the scan; auto-reset in the same step (the base
  ``Environment.step``, so every step also computes a reset). Compile time is measured apart
  (``jit(...).lower().compile()``) and excluded from steps/s; the best of ``--repeats`` timed calls
  of ``--scan-steps`` steps is reported.
  Repeated with ``unsafe_rbg`` keys (a cheaper PRNG; same environment code) in a last column.
* **gymnasium SyncVectorEnv**: ``gymnasium.vector.SyncVectorEnv`` of ``num_envs``
  ``gymnasium.make(id)`` copies (TimeLimit included), same-step auto-reset, random actions from a
  numpy generator: what the adapter (``envs/gymnasium_adapter.py``) runs on.
* **gymnasium native vector env** where the id registers a ``vector_entry_point`` (CartPole-v1's
  numpy-vectorised ``CartPoleVectorEnv``; next-step auto-reset, its only mode).

Steps/s counts single-env transitions (vector steps x num_envs). The table goes to
``benchmarks/results/env_throughput.md`` with the date, core count and library versions.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import time
from pathlib import Path

import gymnasium
import jax
import jax.numpy as jnp
import numpy as np

import envs
from _results import RERUN_KEEPS, cpu_name, recorded_command, require_counts, require_results_file, write_report  # benchmarks/_results.py (this script's folder is on the path)
from envs import spaces

IDS = ["CartPole-v1", "Acrobot-v1", "MountainCar-v0", "MountainCarContinuous-v0", "Pendulum-v1"]
RESULTS = Path(__file__).parent / "results" / "env_throughput.md"


def _sample_actions(space, key, num_envs):
    if isinstance(space, spaces.Discrete):
        # uniform over the n actions up to a 2^-32 bias; half the cost of jax.random.randint
        return (space.start + jax.random.bits(key, (num_envs,), jnp.uint32) % space.n).astype(jnp.int32)
    return jax.random.uniform(key, (num_envs, *space.shape), jnp.float32, jnp.asarray(space.low), jnp.asarray(space.high))


def make_rollout(env, params, num_envs: int, scan_steps: int):
    """A jitted ``rollout(key, state) -> (state, checksum)`` of ``scan_steps`` vector steps."""
    space = env.action_space(params)
    vstep = jax.vmap(env.step, in_axes=(0, 0, 0, None))

    def rollout(key, obs, state):
        def body(carry, _):
            key, obs, state, total = carry
            key, k_act, k_step = jax.random.split(key, 3)
            action = _sample_actions(space, k_act, num_envs)
            obs, state, reward, terminated, truncated, info = vstep(jax.random.split(k_step, num_envs), state, action, params)
            # keep every output live, as a training loop would use them
            total = total + reward.sum() + terminated.sum() + truncated.sum() + info["final_obs"].sum() + obs.sum()
            return (key, obs, state, total), None

        (key, obs, state, total), _ = jax.lax.scan(body, (key, obs, state, jnp.float32(0.0)), None, length=scan_steps)
        return obs, state, total

    return jax.jit(rollout)


def bench_jax(env_id: str, num_envs: int, scan_steps: int, repeats: int, impl: str = "threefry2x32") -> dict:
    """``impl``: the PRNG behind the keys (JAX's default ``threefry2x32``, or ``unsafe_rbg``)."""
    env, params = envs.make(env_id)
    venv = envs.JaxVecEnv(env, params, num_envs)
    key = jax.random.key(0, impl=impl)
    obs, state = jax.jit(venv.reset)(key)
    rollout = make_rollout(env, params, num_envs, scan_steps)
    t0 = time.perf_counter()
    compiled = rollout.lower(key, obs, state).compile()
    compile_s = time.perf_counter() - t0
    jax.block_until_ready(compiled(jax.random.fold_in(key, 1), obs, state))  # warm-up
    best = float("inf")
    for r in range(repeats):
        t0 = time.perf_counter()
        obs, state, total = jax.block_until_ready(compiled(jax.random.fold_in(key, 2 + r), obs, state))
        best = min(best, time.perf_counter() - t0)
    return dict(steps_per_s=num_envs * scan_steps / best, compile_s=compile_s, seconds=best)


def _gym_random_actions(space, rng, num_envs):
    if isinstance(space, gymnasium.spaces.Discrete):
        return rng.integers(space.start, space.start + space.n, num_envs)
    return rng.uniform(space.low, space.high, (num_envs, *space.shape)).astype(space.dtype)


def _time_gym_venv(venv, num_envs: int, seconds: float) -> dict:
    rng = np.random.default_rng(0)
    venv.reset(seed=0)
    space = venv.single_action_space
    for _ in range(3):  # warm-up
        venv.step(_gym_random_actions(space, rng, num_envs))
    steps, t0 = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - t0) < seconds:
        venv.step(_gym_random_actions(space, rng, num_envs))
        steps += 1
    venv.close()
    return dict(steps_per_s=num_envs * steps / elapsed, seconds=elapsed)


def bench_gym_sync(env_id: str, num_envs: int, seconds: float) -> dict:
    venv = gymnasium.vector.SyncVectorEnv(
        [lambda: gymnasium.make(env_id) for _ in range(num_envs)], autoreset_mode=gymnasium.vector.AutoresetMode.SAME_STEP
    )
    return _time_gym_venv(venv, num_envs, seconds)


def bench_gym_native(env_id: str, num_envs: int, seconds: float) -> dict | None:
    if gymnasium.spec(env_id).vector_entry_point is None:
        return None
    venv = gymnasium.make_vec(env_id, num_envs=num_envs, vectorization_mode="vector_entry_point")
    return _time_gym_venv(venv, num_envs, seconds)


def _fmt(x: float) -> str:
    return f"{x / 1e6:.2f} M" if x >= 1e6 else f"{x / 1e3:.1f} k"


def main(argv=None) -> str:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--num-envs", type=int, default=1024, help="envs stepped side by side (default 1024)")
    parser.add_argument("--scan-steps", type=int, default=None, help="vector steps per jitted call (default 1000; 100 with --quick)")
    parser.add_argument("--repeats", type=int, default=None, help="timed jitted calls, the best reported (default 5; 2 with --quick)")
    parser.add_argument("--gym-seconds", type=float, default=None,
                        help="seconds of stepping per gymnasium measurement (default 3.0; 0.5 with --quick)")
    parser.add_argument("--ids", nargs="*", default=IDS, help=f"the JAX ports to time (default {' '.join(IDS)})")
    parser.add_argument("--quick", action="store_true", help="short timings (the defaults above; flags given keep their values), no results file")
    parser.add_argument("--out", type=Path, default=RESULTS,
                        help=f"the results file (default benchmarks/results/env_throughput.md; --quick writes nothing); {RERUN_KEEPS}")
    args = parser.parse_args(argv)
    quick = dict(scan_steps=100, repeats=2, gym_seconds=0.5) if args.quick else dict(scan_steps=1000, repeats=5, gym_seconds=3.0)
    for name, value in quick.items():  # --quick gave its values over the flags given with it
        if getattr(args, name) is None:
            setattr(args, name, value)
    load_before = os.getloadavg() if hasattr(os, "getloadavg") else None  # the results give the load before and after
    unknown = [i for i in args.ids if i not in envs.list()]  # a port each (the adapter's gymnasium ids are timed beside)
    if unknown:
        parser.error(f"--ids: {', '.join(unknown)} {'is' if len(unknown) == 1 else 'are'} not a JAX port; the ports: {', '.join(envs.list())}")
    require_counts(parser, args, "num_envs", "scan_steps", "repeats")  # 0 wrote a table of zeros (or crashed inside JAX)
    require_results_file(parser, args.out)
    if not args.gym_seconds > 0:
        parser.error(f"--gym-seconds = {args.gym_seconds} is invalid: must be above 0")

    rows = []
    for env_id in args.ids:
        j = bench_jax(env_id, args.num_envs, args.scan_steps, args.repeats)
        u = bench_jax(env_id, args.num_envs, args.scan_steps, args.repeats, impl="unsafe_rbg")
        s = bench_gym_sync(env_id, args.num_envs, args.gym_seconds)
        n = bench_gym_native(env_id, args.num_envs, args.gym_seconds)
        rows.append((env_id, j, u, s, n))
        print(
            f"{env_id:26s} jax {_fmt(j['steps_per_s'])}/s (compile {j['compile_s']:.2f} s; unsafe_rbg {_fmt(u['steps_per_s'])}/s)  "
            f"sync {_fmt(s['steps_per_s'])}/s  x{j['steps_per_s'] / s['steps_per_s']:.0f}"
            + (f"  native {_fmt(n['steps_per_s'])}/s  x{j['steps_per_s'] / n['steps_per_s']:.1f}" if n else ""),
            flush=True,
        )

    load = os.getloadavg() if hasattr(os, "getloadavg") else None
    lines = [
        "# Environment throughput: JAX ports vs gymnasium",
        "",
        f"Generated by `{recorded_command('env_throughput.py', argv)}` on {datetime.datetime.now().isoformat(timespec='minutes')}.",
        "",
        f"- machine: {cpu_name()} ({platform.machine()}), {os.cpu_count()} CPU cores ({platform.platform()}), "
        f"JAX device: {jax.devices()[0].device_kind} ({jax.default_backend()})"
        + (f", 1-min load average {load_before[0]:.2f} before the run and {load[0]:.2f} at its end (other work shares the "
           "cores)" if load and load_before else ""),
        f"- python {platform.python_version()}, jax {jax.__version__}, jaxlib {jax.lib.__version__ if hasattr(jax.lib, '__version__') else ''}, "
        f"gymnasium {gymnasium.__version__}, numpy {np.__version__}",
        f"- {args.num_envs} envs, random actions, auto-reset; JAX: jit(lax.scan(vmap(env.step))) with {args.scan_steps} "
        f"steps per call, best of {args.repeats} calls, compile time excluded (listed apart); gymnasium: "
        f"{args.gym_seconds:g} s of stepping each",
        "- steps/s = single-environment transitions per second (vector steps x envs)",
        "",
        "| env | JAX port steps/s | compile (s) | gymnasium SyncVectorEnv steps/s | JAX / sync | gymnasium native vector env steps/s | JAX / native | JAX port, `unsafe_rbg` keys |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for env_id, j, u, s, n in rows:
        native = f"{_fmt(n['steps_per_s'])} | {j['steps_per_s'] / n['steps_per_s']:.1f}x" if n else "- | -"
        lines.append(
            f"| {env_id} | {_fmt(j['steps_per_s'])} | {j['compile_s']:.2f} | {_fmt(s['steps_per_s'])} | "
            f"{j['steps_per_s'] / s['steps_per_s']:.0f}x | {native} | {_fmt(u['steps_per_s'])} |"
        )
    lines += [
        "",
        "SyncVectorEnv runs in same-step auto-reset mode (as the adapter does); the native CartPole vector env",
        "(`gymnasium.make_vec(..., vectorization_mode=\"vector_entry_point\")`) only has next-step auto-reset.",
        "Random-number generation dominates the JAX cost: every env step splits a key per env, splits it again in",
        "`Environment.step` and draws a reset state, while the classic-control dynamics are a few dozen flops (profiling",
        "CartPole, `step_env` alone without keys, resets or random actions ran ~10x faster). The last column uses a",
        "cheaper PRNG, `jax.random.key(seed, impl=\"unsafe_rbg\")` (same environment code): it helps some envs, not all.",
        "",
    ]
    table = "\n".join(lines)
    if not args.quick:
        write_report(args.out, table)
        print(f"wrote {args.out}")
    return table


if __name__ == "__main__":
    print(main())
