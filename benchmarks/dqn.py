"""DQN benchmarks: learning (greedy returns over seeds) and speed (whole process, cold), issue 5.

Learning: the tuned hyperparameters of ``rl_zoo/hyperparams/{dqn,double-dqn}.yaml``, all seeds of
an env trained at once (``jax.jit(jax.vmap(train))``), with a greedy evaluation
(``rl_zoo.core.evaluate.evaluate`` with ``agent.act``, 10 episodes) every few thousand env steps
inside the jitted program. Targets: CartPole-v1 >= 475 in at least 8 of 10 seeds within 50k env
steps; Acrobot-v1 mean >= -100 and MountainCar-v0 mean >= -130 over 5 seeds within 200k.

Speed: DQN on CartPole-v1 for 50k env steps with the issue's fixed settings (lr 2.3e-3, batch 64,
buffer 100k, 1000 learning starts, gamma 0.99, train every 256 steps with 128 gradient steps,
target update every 10 gradient steps, epsilon 1 -> 0.04 over 16% of training, 256x256 ReLU
network), one seed, in a fresh ``python`` process with no compilation cache. The parent times the
whole process (what ``time python benchmarks/dqn.py speed-child`` reports); the child reports
import, compile and run seconds apart, and the process's CPU seconds (the machine may be shared).

    python benchmarks/dqn.py                      # everything, then writes benchmarks/results/dqn.md
    python benchmarks/dqn.py learning CartPole-v1 [--algo double-dqn] [--seeds 10]
    python benchmarks/dqn.py speed                # the cold-process speed measurement
    python benchmarks/dqn.py report               # rewrite dqn.md from benchmarks/results/dqn.json
    python benchmarks/dqn.py tune Acrobot-v1 --seeds 3 learning_rate=1e-3 ...   # nothing recorded
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

from _results import cpu_name, load_results, save_results

RESULTS = Path(__file__).parent / "results"
RAW = RESULTS / "dqn.json"
REPORT = RESULTS / "dqn.md"

#: env -> (env-step budget, seeds, target description, pass rule)
TARGETS = {
    "CartPole-v1": (50_000, 10, ">= 475 in at least 8 of 10 seeds"),
    "Acrobot-v1": (200_000, 5, "mean >= -100 over 5 seeds"),
    "MountainCar-v0": (200_000, 5, "mean >= -130 over 5 seeds"),
}

SPEED_CONFIG = dict(
    total_timesteps=50_000, learning_rate=2.3e-3, batch_size=64, buffer_size=100_000, learning_starts=1_000,
    gamma=0.99, train_frequency=256, gradient_steps=128, target_update_interval=10, tau=1.0, epsilon_start=1.0,
    epsilon_end=0.04, exploration_fraction=0.16, hidden_size=256, num_layers=2, activation="relu", num_envs=1,
)


def passes(env_id: str, final: list[float]) -> bool:
    if env_id == "CartPole-v1":
        return sum(r >= 475 for r in final) >= 8
    if env_id == "Acrobot-v1":
        return sum(final) / len(final) >= -100
    if env_id == "MountainCar-v0":
        return sum(final) / len(final) >= -130
    raise KeyError(env_id)


def _segments(num_updates: int, num_evals: int) -> int:
    """Updates per evaluation segment: the divisor of ``num_updates`` nearest ``num_updates / num_evals``."""
    want = max(1, num_updates // max(num_evals, 1))
    divisors = [d for d in range(1, num_updates + 1) if num_updates % d == 0]
    return min(divisors, key=lambda d: (abs(d - want), d))


def learning_curves(algo: str, env_id: str, seeds: int, overrides: dict | None = None, total_steps: int | None = None,
                    num_evals: int = 15, eval_episodes: int = 10, seed0: int = 0) -> dict:
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
            return state, (returns.mean(), metrics.q_max.mean(), metrics.episode.episode_return.sum() / jnp.maximum((metrics.episode.episodes > 0).sum(), 1))

        _, curves = jax.lax.scan(segment, agent.init(key_init), jax.random.split(key_eval, agent.num_updates // k))
        return curves

    keys = jax.vmap(jax.random.key)(jnp.arange(seed0, seed0 + seeds))
    t0 = time.perf_counter()
    compiled = jax.jit(jax.vmap(run)).lower(keys).compile()
    t1 = time.perf_counter()
    returns, q_max, train_return = jax.block_until_ready(compiled(keys))
    t2 = time.perf_counter()
    returns = np.asarray(returns)  # [seeds, evals]
    steps = [(i + 1) * k * agent.env_steps_per_update for i in range(returns.shape[1])]
    return dict(
        algo=algo, env_id=env_id, seeds=seeds, config={f: getattr(config, f) for f in config.__dataclass_fields__},
        env_steps=steps, eval_returns=returns.round(2).tolist(), q_max=np.asarray(q_max).round(2).tolist(),
        final=returns[:, -1].round(2).tolist(), best=returns.max(axis=1).round(2).tolist(),
        compile_s=round(t1 - t0, 1), run_s=round(t2 - t1, 1), loadavg=os.getloadavg()[0],
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
    env = dict(os.environ)
    env.pop("JAX_COMPILATION_CACHE_DIR", None)
    for _ in range(repeats):
        load = os.getloadavg()[0]
        t0 = time.perf_counter()
        out = subprocess.run([sys.executable, __file__, "speed-child"], capture_output=True, text=True, check=True, env=env)
        wall = time.perf_counter() - t0
        child = json.loads(out.stdout.strip().splitlines()[-1])
        runs.append(dict(process_s=round(wall, 2), loadavg_before=load, **child))
        print(runs[-1], flush=True)
    return dict(config=SPEED_CONFIG, runs=runs, cpus=os.cpu_count(), machine=cpu_name())


def report(raw: dict) -> str:
    import numpy as np

    lines = ["# DQN benchmarks", "", "Written by `python benchmarks/dqn.py` (raw numbers in `dqn.json`).", ""]
    lines += ["## Learning", "",
              "Greedy return (`evaluate` with `agent.act`, 10 episodes per seed) of the tuned configs in "
              "`rl_zoo/hyperparams/`, all seeds in one `jax.jit(jax.vmap(...))` program. *Final* is the "
              "evaluation at the end of the budget; *best* the best evaluation along the way (every ~1/15 "
              "of the budget).", "",
              "| algo | env | env steps | seeds | target | final per seed | final mean | best per seed | met (final) | met (best) |",
              "|---|---|---|---|---|---|---|---|---|---|"]
    for name, r in sorted(raw.get("learning", {}).items()):
        final, best = r["final"], r["best"]
        target = TARGETS[r["env_id"]][2]
        lines.append(
            f"| {r['algo']} | {r['env_id']} | {r['env_steps'][-1]:,} | {r['seeds']} | {target} | "
            f"{', '.join(f'{x:.0f}' for x in final)} | {np.mean(final):.1f} | {', '.join(f'{x:.0f}' for x in best)} | "
            f"{'yes' if passes(r['env_id'], final) else 'no'} | {'yes' if passes(r['env_id'], best) else 'no'} |"
        )
    lines += ["", "Mean greedy return over seeds along training (and mean max_a Q(s, a) of sampled states, "
              "to compare value estimates with realised returns):", ""]
    for name, r in sorted(raw.get("learning", {}).items()):
        ret = np.asarray(r["eval_returns"]).mean(0)
        q = np.asarray(r["q_max"]).mean(0)
        lines.append(f"- **{r['algo']} {r['env_id']}** (compile {r['compile_s']} s, run {r['run_s']} s, load average {r['loadavg']:.1f}): "
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


def _parse_overrides(items: list[str]) -> dict:
    out = {}
    for item in items:
        k, _, v = item.partition("=")
        out[k] = v
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("command", nargs="?", default="all", choices=["all", "learning", "speed", "speed-child", "report", "tune"])
    ap.add_argument("env_id", nargs="?")
    ap.add_argument("overrides", nargs="*", help="field=value (tune only)")
    ap.add_argument("--algo", default="dqn")
    ap.add_argument("--seeds", type=int)
    ap.add_argument("--steps", type=int)
    ap.add_argument("--repeats", type=int, default=1)
    args = ap.parse_intermixed_args()

    if args.command == "speed-child":
        print(json.dumps(speed_child()))
        return
    raw = load_results(RAW)
    if args.command in ("learning", "tune", "all"):
        todo = [(args.algo, args.env_id)] if args.env_id else [(a, e) for a in ("dqn", "double-dqn") for e in TARGETS]
        for algo, env_id in todo:
            budget, seeds, _ = TARGETS[env_id]
            result = learning_curves(algo, env_id, args.seeds or seeds, _parse_overrides(args.overrides), args.steps or None)
            print(json.dumps({k: result[k] for k in ("algo", "env_id", "final", "best", "compile_s", "run_s")}), flush=True)
            print("mean curve:", [round(float(sum(c) / len(c))) for c in zip(*result["eval_returns"])], flush=True)
            print("mean q_max:", [round(float(sum(c) / len(c))) for c in zip(*result["q_max"])], flush=True)
            if args.command != "tune":
                raw.setdefault("learning", {})[f"{algo} {env_id}"] = result
                save_results(RAW, raw)
    if args.command in ("speed", "all"):
        raw["speed"] = speed(args.repeats)
        save_results(RAW, raw)
    if args.command != "tune":
        REPORT.write_text(report(raw))
        print(f"wrote {REPORT}")


if __name__ == "__main__":
    main()
