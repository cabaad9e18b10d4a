"""The arithmetic floor under issue 15's peer rows: the gradient steps their hyperparameters fix, alone.

    python benchmarks/arithmetic_floor.py [--repeats 3] [--out benchmarks/results/arithmetic_floor.md]

A library can spend less than `rl-zoo train` on process start, compilation, environments, replay and
evaluation, but every library on the same hyperparameters does the same gradient steps. This script
times those steps and nothing else, written as plainly as JAX allows (no rl_zoo code): 16 random
minibatches drawn once, step i training on minibatch i mod 16 (no environment, buffer, rollout or
random numbers in the loop: drawing a fresh batch each step with JAX's threefry generator cost more
than the PPO steps themselves on this CPU; one fixed batch would let XLA hoist the target network's
forward pass out of the loop), one ``jit`` of a ``lax.scan`` over the steps, compiled first and then
run ``--repeats`` times (the median is reported):

* ``dqn``: rl-zoo's tuned DQN CartPole-v1 settings (read as `rl-zoo train` resolves them): 50k env steps,
  learning from 1,000, 128 gradient steps every 256 env steps = 192 phases = 24,576 Adam steps (gradient
  norm clipped at 10) of a 4-256-256-2 ReLU Q-network on batches of 128, each with a target-network
  forward pass on the next observations.
* ``ppo16``: rl-zoo's tuned PPO CartPole-v1 settings, 16 seeds vmapped: 390 updates x 20 epochs of one
  minibatch of 256 = 7,800 Adam steps per seed of the clipped surrogate, value loss and entropy through
  separate 4-64-64-2 and 4-64-64-1 tanh networks (gradient norm clipped at 0.5). The seeds are split
  over one CPU device per core, as `rl-zoo train --seeds 16` splits them.

Each row also counts its matrix products' floating-point operations (2 per multiply-add; the
activations, losses and Adam are not counted) and divides them by the run time. Beside it the script
times the matrix product that dominates the row alone (the hidden layer's, batch x hidden by hidden x
hidden, chained through tanh, one chain per seed, vmapped and split as the row's seeds are), and a
2048 x 2048 one: the rates XLA's CPU backend reaches on those shapes here. A row that runs at its
dominant product's rate is bound by the matrix products its hyperparameters fix.

Compare each row with the same hyperparameters' `rl-zoo train` and peer rows in ``peer_speed.md``.
"""

from __future__ import annotations

import argparse
import os
import sys
import platform
import statistics
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import jax
import jax.numpy as jnp
import numpy as np
import optax

from _results import RERUN_KEEPS, cpu_name, load_average, now_utc, recorded_command, require_counts, require_results_file, write_report
from rl_zoo import distributed
from rl_zoo.driver.spec import resolve_config

ROOT = Path(__file__).resolve().parents[1]


POOL = 16  # minibatches drawn once; step i trains on minibatch i % POOL


def from_pool(pool, i):
    """Minibatch ``i % POOL`` of ``pool`` (a tuple of arrays with a leading POOL axis): a slice, not a
    fresh draw, and not the same batch every step (XLA would hoist the target network's forward pass)."""
    return tuple(x[i % POOL] for x in pool)


def mlp_init(key, sizes):
    params = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        key, sub = jax.random.split(key)
        params.append((jax.random.normal(sub, (fan_in, fan_out)) / np.sqrt(fan_in), jnp.zeros(fan_out)))
    return params


def mlp(params, x, act):
    for i, (w, b) in enumerate(params):
        x = x @ w + b
        if i < len(params) - 1:
            x = act(x)
    return x


def layer_macs(sizes) -> tuple[int, int]:
    """(multiply-adds of one sample's forward pass through an MLP of ``sizes``, those of its first layer)."""
    return sum(a * b for a, b in zip(sizes[:-1], sizes[1:])), sizes[0] * sizes[1]


def trained_net_flops(sizes) -> int:
    """FLOPs (2 per multiply-add) of one sample's forward and backward pass through an MLP of ``sizes``:
    the forward products, the weight gradients (as many), and the input gradients of every layer but
    the first (nothing needs the gradient of the observation)."""
    forward, first = layer_macs(sizes)
    return 2 * (3 * forward - first)


def matmul_rate(rows: int, width: int, repeats: int, seeds: int = 1, chain: int = 2000) -> float:
    """GFLOP/s XLA reaches here on a ``rows`` x ``width`` by ``width`` x ``width`` matrix product alone:
    ``chain`` of them in one ``fori_loop``, each through tanh (so none can be hoisted), median of
    ``repeats``. With ``seeds`` > 1, one chain per seed, vmapped and split over the devices as the rows
    split their seeds."""
    def chained(x, w):
        return jax.lax.fori_loop(0, chain, lambda i, h: jnp.tanh(h @ w), x)

    x = jax.random.normal(jax.random.key(1), (seeds, rows, width))
    w = jax.random.normal(jax.random.key(2), (seeds, width, width)) / np.sqrt(width)
    if seeds == 1:
        program, x, w = jax.jit(chained), x[0], w[0]
    else:
        sharding = distributed.seed_sharding(jax.device_count())
        program = jax.jit(jax.vmap(chained), in_shardings=sharding, out_shardings=sharding)
    _, runs = time_program(lambda key: program(x, w), repeats)
    return seeds * chain * 2 * rows * width * width / statistics.median(runs) / 1e9


def dqn_steps(steps: int, batch: int, hidden: int, gamma: float, learning_rate: float, max_grad_norm: float):
    """``steps`` DQN gradient steps (Mnih et al. 2015, eq. 2) on random batches: a jitted function of a key."""
    opt = optax.chain(optax.clip_by_global_norm(max_grad_norm), optax.adam(learning_rate))

    def loss(params, target, obs, action, reward, next_obs):
        q = jnp.take_along_axis(mlp(params, obs, jax.nn.relu), action[:, None], 1)[:, 0]
        y = reward + gamma * mlp(target, next_obs, jax.nn.relu).max(1)
        return ((q - jax.lax.stop_gradient(y)) ** 2).mean()

    def step(carry, batch):
        params, target, opt_state = carry
        grads = jax.grad(loss)(params, target, *batch)
        updates, opt_state = opt.update(grads, opt_state, params)
        return (optax.apply_updates(params, updates), target, opt_state), None

    def run(key):
        k1, k2, k3, k4 = jax.random.split(key, 4)
        obs = jax.random.normal(k1, (POOL, batch, 4))
        pool = (obs, jax.random.randint(k2, (POOL, batch), 0, 2), obs[:, :, 0], jax.random.normal(k3, (POOL, batch, 4)))
        params = mlp_init(k4, [4, hidden, hidden, 2])
        (params, _, _), _ = jax.lax.scan(lambda c, i: step(c, from_pool(pool, i)), (params, params, opt.init(params)), jnp.arange(steps))
        return params[-1][0].sum()

    return jax.jit(run)


def ppo_steps(steps: int, seeds: int, batch: int, hidden: int, clip: float, learning_rate: float, max_grad_norm: float,
              vf_coef: float, ent_coef: float):
    """``steps`` PPO-clip gradient steps (Schulman et al. 2017, eq. 7 and 9) per seed on random batches,
    ``seeds`` seeds vmapped and split over the devices: a jitted function of ``seeds`` keys."""
    opt = optax.chain(optax.clip_by_global_norm(max_grad_norm), optax.adam(learning_rate))

    def loss(params, obs, action, old_logp, adv, target):
        logits = mlp(params["policy"], obs, jnp.tanh)
        logp_all = jax.nn.log_softmax(logits)
        ratio = jnp.exp(jnp.take_along_axis(logp_all, action[:, None], 1)[:, 0] - old_logp)
        surrogate = jnp.minimum(ratio * adv, jnp.clip(ratio, 1 - clip, 1 + clip) * adv).mean()
        value_loss = ((mlp(params["value"], obs, jnp.tanh)[:, 0] - target) ** 2).mean()
        entropy = -(jnp.exp(logp_all) * logp_all).sum(-1).mean()
        return -surrogate + vf_coef * value_loss - ent_coef * entropy  # computed with ent_coef 0 too, as rl-zoo does

    def step(carry, batch):
        params, opt_state = carry
        grads = jax.grad(loss)(params, *batch)
        updates, opt_state = opt.update(grads, opt_state, params)
        return (optax.apply_updates(params, updates), opt_state), None

    def run(key):
        k1, k2, k3, kp, kv = jax.random.split(key, 5)
        noise = jax.random.normal(k2, (3, POOL, batch))
        pool = (jax.random.normal(k1, (POOL, batch, 4)), jax.random.randint(k3, (POOL, batch), 0, 2), -0.69 + 0.1 * noise[0], noise[1], noise[2])
        params = {"policy": mlp_init(kp, [4, hidden, hidden, 2]), "value": mlp_init(kv, [4, hidden, hidden, 1])}
        (params, _), _ = jax.lax.scan(lambda c, i: step(c, from_pool(pool, i)), (params, opt.init(params)), jnp.arange(steps))
        return params["value"][-1][0].sum()

    sharding = distributed.seed_sharding(jax.device_count())  # the devices main() made of the cores
    train = jax.jit(jax.vmap(run), in_shardings=sharding, out_shardings=sharding)
    return lambda key: train(jax.random.split(key, seeds))


def time_program(program, repeats: int) -> tuple[float, list[float]]:
    """Compile seconds (the first call) and the run seconds of ``repeats`` further calls."""
    key = jax.random.key(0)
    start = time.perf_counter()
    program(key).block_until_ready()
    compile_s = time.perf_counter() - start
    runs = []
    for _ in range(repeats):
        start = time.perf_counter()
        program(key).block_until_ready()
        runs.append(time.perf_counter() - start)
    return compile_s, runs


@dataclass(frozen=True)
class Row:
    """One row: its label, its jitted program (a function of a key), the matrix-product FLOPs of one
    whole run, the dominant product's shape (batch rows, hidden width), and the seeds vmapped."""
    label: str
    program: Callable
    flops: float
    shape: tuple[int, int]
    seeds: int = 1


def dqn_row() -> Row:
    """rl-zoo's tuned DQN on CartPole-v1: its gradient phases times their steps. A step's products: the
    Q-network's forward and backward pass on the batch, and the target network's forward pass."""
    _, c = resolve_config("dqn", "CartPole-v1")
    steps, h, b = (c.num_updates - c.num_warmup_updates) * c.gradient_steps, c.hidden_size, c.batch_size
    sizes = [4, h, h, 2]
    flops = steps * b * (trained_net_flops(sizes) + 2 * layer_macs(sizes)[0])
    return Row(f"DQN CartPole-v1, 1 seed: {steps:,} steps, 4-{h}-{h}-2, batch {b}",
               dqn_steps(steps, b, h, c.gamma, c.learning_rate, c.max_grad_norm), flops, (b, h))


def ppo16_row(seeds: int = 16) -> Row:
    """rl-zoo's tuned PPO on CartPole-v1, ``seeds`` seeds: updates x epochs x minibatches. A step's
    products: the forward and backward passes of the policy and the value network on the minibatch."""
    _, c = resolve_config("ppo", "CartPole-v1")
    steps, h, b = c.num_updates * c.update_epochs * c.num_minibatches, c.hidden_size, c.minibatch_size
    flops = seeds * steps * b * (trained_net_flops([4, h, h, 2]) + trained_net_flops([4, h, h, 1]))
    return Row(f"PPO CartPole-v1, {seeds} seeds: {steps:,} steps each, two 4-{h}-{h} nets, batch {b}",
               ppo_steps(steps, seeds, b, h, c.clip_eps, c.learning_rate, c.max_grad_norm, c.vf_coef, c.ent_coef),
               flops, (b, h), seeds)


ROWS = {"dqn": dqn_row, "ppo16": ppo16_row}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=3, help="timed runs of each compiled program, the median reported (default 3)")
    ap.add_argument("--only", default=",".join(ROWS), help=f"rows, comma-separated ({', '.join(ROWS)})")
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "arithmetic_floor.md"),
                    help=f"results file (default benchmarks/results/arithmetic_floor.md); {RERUN_KEEPS}")
    args = ap.parse_args(argv)
    names = [n for n in args.only.split(",") if n]
    unknown = [n for n in names if n not in ROWS]
    if unknown:
        ap.error(f"unknown rows {unknown}; known: {', '.join(ROWS)}")
    require_counts(ap, args, "repeats")
    require_results_file(ap, args.out)
    distributed.split_cpu(16)  # before any backend starts: the cores split as `rl-zoo train --seeds 16` splits them
    load_before = load_average()
    table = ["| row | gradient steps alone: run s (median) | runs | compile + first run s "
             "| matrix-product GFLOP/s reached | the dominant product alone: GFLOP/s |", "|---|---:|---|---:|---:|---:|"]
    for name in names:
        row = ROWS[name]()
        compile_s, runs = time_program(row.program, args.repeats)
        run_s = statistics.median(runs)
        rows, width = row.shape
        table.append(f"| {row.label} | {run_s:.2f} | {', '.join(f'{r:.2f}' for r in runs)} | {compile_s:.2f} "
                     f"| {row.flops / run_s / 1e9:.0f} ({row.flops / 1e12:.2f} TFLOP) "
                     f"| {matmul_rate(rows, width, args.repeats, row.seeds):.0f} ({row.seeds} x {rows} x {width} by {width} x {width}) |")
        print(table[-1], flush=True)
    peak = matmul_rate(2048, 2048, args.repeats, chain=20)
    lines = ["# The arithmetic floor under issue 15's peer rows", "",
             f"Measured {now_utc()} on {cpu_name()}, {os.cpu_count()} cores, "
             f"Python {platform.python_version()}, jax {jax.__version__} ({len(jax.devices())} CPU devices), by "
             f"`{recorded_command('arithmetic_floor.py', argv)}`. Load average before: {load_before}; "
             f"after: {load_average()}.", "",
             "Only the gradient steps the rows' hyperparameters fix, on 16 random minibatches drawn once "
             "(no environment, buffer, rollout, sampling or evaluation), one jit of a scan, plain JAX and optax (no rl_zoo code); "
             "what each step computes is in the script's docstring. Run s excludes compilation.", "", *table, "",
             f"A 2048 x 2048 by 2048 x 2048 product alone runs at {peak:.0f} GFLOP/s here (the CPU's large-product rate). "
             "FLOPs count 2 per multiply-add of the matrix products only; the dominant product alone is chained "
             "through tanh, one per seed, split over the devices as the row's seeds are.", ""]
    write_report(args.out, "\n".join(lines))
    print(f"written to {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
