"""PPO-clip speed on CartPole-v1: whole-process seconds cold (empty compilation cache) and warm.

Hyperparameters (issue 3): 8 envs x 32 steps, 20 epochs of one minibatch of 256, gamma 0.98,
lambda 0.8, lr 1e-3, clip 0.2, entropy 0, 64x64 tanh networks, 100k env steps per seed.

Each measurement is a fresh ``python`` process that imports rl_zoo, compiles, trains and evaluates
the greedy policy (10 episodes per seed); the parent times the whole process. Compile and run
seconds are reported apart, with peak resident memory.

    python benchmarks/ppo_speed.py            # writes benchmarks/results/ppo_speed.md
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CHILD = r"""
import json, resource, sys, time
t_import = time.perf_counter()
import jax, jax.numpy as jnp
import envs
from rl_zoo.algos import ppo
from rl_zoo.core.evaluate import evaluate
from rl_zoo.train import enable_compilation_cache
enable_compilation_cache(sys.argv[2])
seeds = int(sys.argv[1])
cfg = ppo.Config(total_timesteps=100_000, num_envs=8, num_steps=32, update_epochs=20, num_minibatches=1,
                 gamma=0.98, gae_lambda=0.8, learning_rate=1e-3, clip_eps=0.2, ent_coef=0.0,
                 hidden_size=64, num_layers=2, activation="tanh")
env, params = envs.make("CartPole-v1")
agent = ppo.make_agent(cfg, env, params)
train = ppo.make_train(cfg, env, params)
def run(keys):
    states, metrics = jax.vmap(train)(keys)
    eval_keys = jax.vmap(lambda k: jax.random.fold_in(k, 1))(keys)
    returns = jax.vmap(lambda s, k: evaluate(agent.act, s, env, params, k, 10))(states, eval_keys)
    return returns.mean(axis=1)
keys = jax.vmap(jax.random.key)(jnp.arange(seeds))
t0 = time.perf_counter()
compiled = jax.jit(run).lower(keys).compile()
t1 = time.perf_counter()
returns = jax.block_until_ready(compiled(keys))
t2 = time.perf_counter()
print(json.dumps(dict(import_s=t0 - t_import, compile_s=t1 - t0, run_s=t2 - t1, returns=[float(r) for r in returns],
                      peak_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)))
"""


def measure(seeds: int, cache_dir: str) -> dict:
    t0 = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", CHILD, str(seeds), cache_dir], capture_output=True, text=True, check=True)
    wall = time.perf_counter() - t0
    result = json.loads(out.stdout.strip().splitlines()[-1])
    result["wall_s"] = wall
    result["env_steps_per_s"] = 100_000 * seeds / result["run_s"]
    return result


def main() -> None:
    import jax

    rows = []
    for seeds in (1, 16):
        with tempfile.TemporaryDirectory() as cache:
            cold = measure(seeds, cache)
            warm = measure(seeds, cache)
        for label, r in (("cold", cold), ("warm", warm)):
            rows.append((seeds, label, r))
            print(f"seeds={seeds:>2} {label}: wall {r['wall_s']:.2f}s (compile {r['compile_s']:.2f}s, run {r['run_s']:.2f}s), "
                  f"{r['env_steps_per_s']:,.0f} env steps/s, mean return {sum(r['returns']) / len(r['returns']):.1f}, "
                  f"min {min(r['returns']):.1f}, peak {r['peak_mb']:.0f} MB")
    lines = [
        "# PPO-clip speed on CartPole-v1",
        "",
        f"Measured {time.strftime('%Y-%m-%d')} on {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"jax {jax.__version__} ({jax.default_backend()}), by `python benchmarks/ppo_speed.py`.",
        "Hyperparameters: 8 envs x 32 steps, 20 epochs x 1 minibatch of 256, gamma 0.98, lambda 0.8, lr 1e-3 (annealed), "
        "clip 0.2, entropy 0, 64x64 tanh; 100k env steps per seed. Wall = whole fresh process (import, compile, train, "
        "greedy evaluation of 10 episodes per seed); cold = empty persistent compilation cache, warm = second run on the same cache.",
        "",
        "| seeds | cache | wall s | import s | compile s | run s | env steps/s | mean return | min return | peak MB |",
        "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for seeds, label, r in rows:
        lines.append(f"| {seeds} | {label} | {r['wall_s']:.2f} | {r['import_s']:.2f} | {r['compile_s']:.2f} | {r['run_s']:.2f} | "
                     f"{r['env_steps_per_s']:,.0f} | {sum(r['returns']) / len(r['returns']):.1f} | {min(r['returns']):.1f} | {r['peak_mb']:.0f} |")
    lines += ["", "Targets (issue 3): 1 seed cold <= 8 s, warm <= 5 s, return 500; 16 seeds cold <= 40 s.",
              f"1-minute load average at the end: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores (other work on the machine slows every figure)."]
    path = Path(__file__).parent / "results" / "ppo_speed.md"
    path.write_text("\n".join(lines) + "\n")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
