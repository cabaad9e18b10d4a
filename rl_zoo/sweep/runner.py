"""One compiled group of a sweep: every config x every seed in one program.

The configs of a group differ only in numeric fields (`rl_zoo.config.numeric_fields`). Those
values enter the program as arrays ``[configs * seeds]``; inside ``jax.vmap`` each row rebuilds its
agent from ``dataclasses.replace(config, field=tracer)``, so the learning rate, gamma, clip range ...
of each row are traced numbers while every shape and branch is the group's. Seeds are initialised
and evaluated exactly as ``rl-zoo train`` does (``jax.random.key(seed)``; evaluation keys folded
from it), so a config's runs are the same experiment as ``rl-zoo train --seeds S`` of that config
(the same numbers up to the float rounding of a different compiled program).

The row axis is split over the local devices like the seeds of a run (``rl_zoo.distributed``).
Between segments of K updates the host evaluates every row (greedy policy) and records the returns.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from rl_zoo import distributed
from rl_zoo.driver.runner import segment_sizes
from rl_zoo.sweep.spec import Group


@dataclass(frozen=True)
class GroupResult:
    env_steps: np.ndarray  # [E] env steps per seed at each evaluation (0 first)
    returns: np.ndarray  # [configs, seeds, E] mean greedy return of each evaluation
    compile_s: float
    train_s: float  # segments and evaluations, after compilation
    num_devices: int


def traced_values(group: Group, seeds: int) -> dict[str, np.ndarray]:
    """For each swept numeric field, its value per row ``[configs * seeds]`` (config-major), float32."""
    return {name: np.repeat(np.array([getattr(p.config, name) for p in group.points], np.float32), seeds)
            for name in group.traced}


def agent_for(module, config, env, env_params, hp: dict):
    """The agent of one row: ``config`` with the swept numeric fields set to ``hp`` (tracers inside ``vmap``)."""
    return module.make_agent(dataclasses.replace(config, **hp), env, env_params)


def run_group(module, group: Group, env, env_params, seeds: int, first_seed: int, num_evals: int, eval_episodes: int,
              log: Callable[[str], None] = print) -> GroupResult:
    """Train every config of ``group`` on ``seeds`` seeds in one compiled program; evaluate between segments."""
    import jax

    from rl_zoo.core.evaluate import evaluate

    base = group.points[0].config  # the group's static fields; its swept numeric ones are replaced per row
    probe = module.make_agent(base, env, env_params)  # concrete sizes: updates, env steps per update
    k, n = segment_sizes(probe.num_updates, num_evals)
    rest = probe.num_updates - k * n
    rows = len(group.points) * seeds
    num_devices, _ = distributed.choose_devices(rows, None)
    sharding = distributed.seed_sharding(num_devices)

    def init(hp, seed):
        return agent_for(module, base, env, env_params, hp).init(jax.random.key(seed))

    def segment(hp, state, updates):
        agent = agent_for(module, base, env, env_params, hp)
        return jax.lax.scan(lambda s, _: agent.update(s), state, None, updates)[0]

    def evaluation(hp, state, seed, i):
        key = jax.random.fold_in(jax.random.fold_in(jax.random.key(seed), 1), i)
        return evaluate(agent_for(module, base, env, env_params, hp).act, state, env, env_params, key, eval_episodes).mean()

    hp = {name: jax.device_put(v, sharding) for name, v in traced_values(group, seeds).items()}
    seed_rows = jax.device_put(np.tile(np.arange(first_seed, first_seed + seeds, dtype=np.int32), len(group.points)), sharding)

    t0 = time.perf_counter()
    init_c = jax.jit(jax.vmap(init)).lower(hp, seed_rows).compile()
    states = init_c(hp, seed_rows)
    programs = {u: jax.jit(jax.vmap(lambda h, s, u=u: segment(h, s, u))).lower(hp, states).compile() for u in {k} | ({rest} - {0})}
    eval_c = jax.jit(jax.vmap(evaluation, in_axes=(0, 0, 0, None))).lower(hp, states, seed_rows, 0).compile()
    compile_s = time.perf_counter() - t0
    log(f"  compiled in {compile_s:.1f}s: {len(group.points)} config(s) x {seeds} seed(s) = {rows} runs in one program"
        f" ({num_devices} device(s)), {probe.num_updates} updates of {probe.env_steps_per_update} env steps, "
        f"{n} segment(s) of {k}" + (f" and one of {rest}" if rest else ""))

    t0 = time.perf_counter()
    returns = [np.asarray(eval_c(hp, states, seed_rows, 0))]
    env_steps = [0]
    done = 0
    for i, updates in enumerate([k] * n + ([rest] if rest else [])):
        states = programs[updates](hp, states)
        done += updates
        returns.append(np.asarray(eval_c(hp, states, seed_rows, i + 1)))
        env_steps.append(done * probe.env_steps_per_update)
        log(f"  {env_steps[-1]:>10,} env steps  mean return {returns[-1].mean():8.1f}  ({time.perf_counter() - t0:.1f}s)")
    returns_arr = np.stack(returns, axis=1).reshape(len(group.points), seeds, len(env_steps))
    return GroupResult(np.asarray(env_steps), returns_arr, compile_s, time.perf_counter() - t0, num_devices)


def result_arrays(result: GroupResult) -> dict[str, Any]:
    return dict(env_steps=result.env_steps, returns=result.returns, compile_s=np.float64(result.compile_s),
                train_s=np.float64(result.train_s), num_devices=np.int64(result.num_devices))


def result_from_arrays(arrays) -> GroupResult:
    return GroupResult(np.asarray(arrays["env_steps"]), np.asarray(arrays["returns"]), float(arrays["compile_s"]),
                       float(arrays["train_s"]), int(arrays["num_devices"]))
