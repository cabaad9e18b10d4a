"""One compiled group of a sweep: every config x every seed in one program.

The configs of a group differ only in numeric fields (`rl_zoo.config.numeric_fields`). Those
values enter the program as arrays ``[configs * seeds]``; inside ``jax.vmap`` each row rebuilds its
agent from ``dataclasses.replace(config, field=tracer)``, so the learning rate, gamma, clip range ...
of each row are traced numbers while every shape and branch is the group's. Seeds are initialised
and evaluated exactly as ``rl-zoo train`` does (``jax.random.key(seed)``; evaluation keys folded
from it), so a config's runs are the same experiment as ``rl-zoo train --seeds S`` of that config
(the same numbers up to the float rounding of a different compiled program).

The row axis is split over the local devices like the seeds of a run (``rl_zoo.distributed``).
Between segments of K updates the host evaluates every row (greedy policy) and records the returns,
whether the row's parameters are all finite (the NaN guard's check, `rl_zoo.driver.guard`), and,
where asked (``record``), scalar fields of each update's ``Metrics`` (e.g. ``kl``).
`rl_zoo.sweep.halving` drives the same pieces rung by rung on fewer and fewer rows.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from rl_zoo import distributed, interrupt
from rl_zoo.config import ConfigError
from rl_zoo.driver.plan import compile_options
from rl_zoo.driver.runner import segment_schedule, whole_updates_note
from rl_zoo.stats import return_decimals
from rl_zoo.sweep.spec import Group, env_param, is_env_field


@dataclass(frozen=True)
class GroupResult:
    env_steps: np.ndarray  # [E] env steps per seed at each evaluation (0 first)
    returns: np.ndarray  # [configs, seeds, E] mean greedy return of each evaluation (NaN: not trained that far)
    compile_s: float
    train_s: float  # segments and evaluations, after compilation
    num_devices: int
    recorded: dict[str, np.ndarray] = field(default_factory=dict)  # name -> [configs, seeds, U] per update (NaN: not trained)
    evals_done: np.ndarray | None = None  # [configs] evaluations each config has (None: all E; successive halving: fewer)
    finite: np.ndarray | None = None  # [configs, seeds, E] bool: parameters all finite at each evaluation (None: not checked)

    def evals_of(self, config: int) -> int:
        return self.returns.shape[-1] if self.evals_done is None else int(self.evals_done[config])

    def finite_runs(self) -> np.ndarray:
        """``[configs, seeds]`` bool: the run's parameters stayed finite (no NaN/Inf) at every evaluation."""
        return np.ones(self.returns.shape[:2], bool) if self.finite is None else self.finite.all(axis=-1)


def traced_values(group: Group, seeds: int) -> dict[str, np.ndarray]:
    """For each swept numeric field (a Config's or the env's, ``env.NAME``), its value per row
    ``[configs * seeds]`` (config-major), float32."""
    def value(p, name):
        return dict(p.values)[name] if is_env_field(name) else getattr(p.config, name)

    return {name: np.repeat(np.array([value(p, name) for p in group.points], np.float32), seeds) for name in group.traced}


def row_params(env_params, hp: dict):
    """The env params of one row: ``env_params`` with the swept ``env.NAME`` fields of ``hp`` set (tracers inside ``vmap``)."""
    env_hp = {env_param(k): v for k, v in hp.items() if is_env_field(k)}
    return env_params.replace(**env_hp) if env_hp else env_params


def agent_for(module, config, env, env_params, hp: dict):
    """The agent of one row: ``config`` with the swept numeric fields set to ``hp`` (tracers inside ``vmap``),
    on the row's env params (`row_params`)."""
    config_hp = {k: v for k, v in hp.items() if not is_env_field(k)}
    return module.make_agent(dataclasses.replace(config, **config_hp), env, row_params(env_params, hp))


def metric_of(metrics, name: str):
    """``metrics.<name>`` for a dotted ``name`` (``"kl"``, ``"details.accepted"``, ``"episode.episode_return"``)."""
    for part in name.split("."):
        metrics = getattr(metrics, part)
    return metrics


def check_record(module, config, env, env_params, record: tuple[str, ...]) -> None:
    """Each recorded name must be a scalar field of one update's ``Metrics`` (traced abstractly, nothing compiles)."""
    if not record:
        return
    import jax

    agent = module.make_agent(config, env, env_params)
    metrics = jax.eval_shape(lambda: agent.update(agent.init(jax.random.key(0)))[1])
    repeated = sorted({name for name in record if record.count(name) > 1})
    if repeated:  # kept once, but another digest: the same sweep would read as a different one
        raise ConfigError(f"--record {', '.join(repeated)} given more than once: name each field once")
    for name in record:
        try:
            value = metric_of(metrics, name)
        except AttributeError:
            fields = ", ".join(_metric_names(metrics))
            raise ConfigError(f"--record {name}: not a field of {type(metrics).__module__}.{type(metrics).__name__}; "
                              f"scalar fields: {fields}") from None
        shape = getattr(value, "shape", None)
        if shape is None:  # a group of fields (``details``): its scalars are named with a dot
            fields = ", ".join(_metric_names(value, f"{name}."))
            raise ConfigError(f"--record {name}: a group of fields, not a scalar per update; record one of them: {fields}")
        if shape != ():
            raise ConfigError(f"--record {name}: not a scalar per update (shape {shape}); record a scalar field")


def _metric_names(metrics, prefix: str = "") -> list[str]:
    if hasattr(metrics, "_fields"):
        return [n for f in metrics._fields for n in _metric_names(getattr(metrics, f), f"{prefix}{f}.")]
    return [prefix.rstrip(".")] if getattr(metrics, "shape", None) == () else []


@dataclass(frozen=True)
class Functions:
    """The per-row functions of a group (vmapped and compiled by `compile_rows`)."""

    init: Callable
    segment: Callable  # (hp, state, updates) -> (state, {name: [updates]})
    evaluation: Callable  # (hp, state, seed, i) -> mean greedy return of evaluation i


def functions(module, base, env, env_params, eval_episodes: int, record: tuple[str, ...] = ()) -> Functions:
    import jax

    from rl_zoo.core.evaluate import eval_key, evaluate

    def init(hp, seed):
        return agent_for(module, base, env, env_params, hp).init(jax.random.key(seed))

    def segment(hp, state, updates):
        agent = agent_for(module, base, env, env_params, hp)
        state, metrics = jax.lax.scan(lambda s, _: agent.update(s), state, None, updates)
        return state, {name: metric_of(metrics, name) for name in record}

    def evaluation(hp, state, seed, i):
        return evaluate(agent_for(module, base, env, env_params, hp).act, state, env, row_params(env_params, hp),
                        eval_key(seed, i), eval_episodes).mean()

    return Functions(init, segment, evaluation)


@dataclass(frozen=True)
class Rows:
    """Some configs' rows (each config x every seed, config-major), laid out over the devices."""

    configs: tuple[int, ...]  # indices into the group's points
    hp: dict  # name -> [rows] device array
    seeds: Any  # [rows] int32 device array
    sharding: Any
    num_devices: int


def place_rows(group: Group, configs, seeds: int, first_seed: int) -> Rows:
    import jax

    configs = tuple(configs)
    num_devices, _ = distributed.choose_devices(len(configs) * seeds, None)
    sharding = distributed.seed_sharding(num_devices)
    rows = np.concatenate([np.arange(c * seeds, (c + 1) * seeds) for c in configs])
    hp = {name: jax.device_put(v[rows], sharding) for name, v in traced_values(group, seeds).items()}
    seed_rows = np.tile(np.arange(first_seed, first_seed + seeds, dtype=np.int32), len(configs))
    return Rows(configs, hp, jax.device_put(seed_rows, sharding), sharding, num_devices)


def finite_rows(states):
    """``[rows]`` bool: every floating parameter of the row is finite, by the NaN guard's check of
    ``rl-zoo train`` (`rl_zoo.driver.guard.param_flags`), traced."""
    import functools

    import jax
    import jax.numpy as jnp

    from rl_zoo.driver.guard import param_flags

    return functools.reduce(jnp.logical_and, jax.tree.leaves(param_flags(states)))


def compile_rows(fns: Functions, rows: Rows, states, lengths: set[int]):
    """``({updates: segment program}, evaluation program)`` compiled for these rows' shapes; the
    evaluation program returns ``(mean greedy return [rows], parameters finite [rows])``."""
    import jax

    # every output keeps the rows split over the devices, as the inputs are (several devices: a CPU split
    # per core, an accelerator's), so that a segment's states go back into the next as they came out
    out = rows.sharding
    segments = {u: jax.jit(jax.vmap(lambda h, s, u=u: fns.segment(h, s, u)), out_shardings=out).lower(rows.hp, states).compile(compile_options("segment"))
                for u in sorted(lengths - {0})}

    def evaluation_rows(hp, states, seeds, i):
        return jax.vmap(fns.evaluation, in_axes=(0, 0, 0, None))(hp, states, seeds, i), finite_rows(states)

    evaluation = jax.jit(evaluation_rows, out_shardings=out).lower(rows.hp, states, rows.seeds, 0).compile(compile_options("eval"))
    return segments, evaluation


def init_rows(fns: Functions, rows: Rows):
    import jax

    init = jax.jit(jax.vmap(fns.init), out_shardings=rows.sharding).lower(rows.hp, rows.seeds)
    return init.compile(compile_options("init"))(rows.hp, rows.seeds)


def segment_plan(num_updates: int, num_evals: int) -> list[int]:
    """Updates of each segment between evaluations, as ``rl-zoo train`` runs them (``segment_schedule``): ``n``
    of K, and one shorter rest if K does not divide."""
    return list(segment_schedule(num_updates, num_evals))


def run_group(module, group: Group, env, env_params, seeds: int, first_seed: int, num_evals: int, eval_episodes: int,
              log: Callable[[str], None] = print, record: tuple[str, ...] = ()) -> GroupResult:
    """Train every config of ``group`` on ``seeds`` seeds in one compiled program; evaluate between segments."""
    base = group.points[0].config  # the group's static fields; its swept numeric ones are replaced per row
    probe = module.make_agent(base, env, env_params)  # concrete sizes: updates, env steps per update
    plan = segment_plan(probe.num_updates, num_evals)
    if note := whole_updates_note(base.total_timesteps, probe.num_updates, probe.env_steps_per_update):
        log(f"  {note}")
    fns = functions(module, base, env, env_params, eval_episodes, record)
    rows = place_rows(group, range(len(group.points)), seeds, first_seed)

    t0 = time.perf_counter()
    states = init_rows(fns, rows)
    programs, evaluation = compile_rows(fns, rows, states, set(plan))
    compile_s = time.perf_counter() - t0
    log(f"  compiled in {compile_s:.1f}s: {len(group.points)} config(s) x {seeds} seed(s) = {len(group.points) * seeds} runs "
        f"in one program ({rows.num_devices} device(s)), {probe.num_updates} updates of {probe.env_steps_per_update} env steps, "
        f"{len(plan)} segment(s) of {', '.join(str(u) for u in sorted(set(plan), reverse=True))}")

    t0 = time.perf_counter()
    evaluated = [tuple(map(np.asarray, evaluation(rows.hp, states, rows.seeds, 0)))]  # (returns, finite) [rows] each
    env_steps, recorded = [0], []
    for i, updates in enumerate(plan):
        states, metrics = programs[updates](rows.hp, states)
        recorded.append({k: np.asarray(v) for k, v in metrics.items()})
        evaluated.append(tuple(map(np.asarray, evaluation(rows.hp, states, rows.seeds, i + 1))))
        env_steps.append(env_steps[-1] + updates * probe.env_steps_per_update)
        interrupt.check()  # a Ctrl-C Python swallowed stops the sweep here (finished groups are kept)
        mean = evaluated[-1][0].mean()
        log(f"  {env_steps[-1]:>10,} env steps  mean return {mean:8.{return_decimals(mean)}f}  ({time.perf_counter() - t0:.1f}s)")
    shape = (len(group.points), seeds)
    per_update = {name: np.concatenate([r[name] for r in recorded], axis=1).reshape(shape + (-1,)) for name in record}
    returns, finite = (np.stack(x, axis=1).reshape(shape + (len(env_steps),)) for x in zip(*evaluated))
    result = GroupResult(np.asarray(env_steps), returns, compile_s, time.perf_counter() - t0, rows.num_devices, per_update,
                         finite=finite)
    if note := non_finite_note(group, result, first_seed):
        log(f"  {note}")
    return result


def non_finite_note(group: Group, result: GroupResult, first_seed: int) -> str:
    """A line naming the runs whose parameters became NaN/Inf (empty: none); ``rl-zoo train`` would stop them."""
    bad = np.argwhere(~result.finite_runs())
    if not len(bad):
        return ""
    runs = ", ".join(f"config {group.points[c].index} seed {first_seed + s}" for c, s in bad)
    return (f"non-finite parameters (NaN/Inf) in {len(bad)} run(s): {runs}; those configs are marked non-finite and "
            f"cannot be the best")


def result_arrays(result: GroupResult) -> dict[str, Any]:
    arrays = dict(env_steps=result.env_steps, returns=result.returns, compile_s=np.float64(result.compile_s),
                  train_s=np.float64(result.train_s), num_devices=np.int64(result.num_devices))
    arrays.update({f"record.{k}": v for k, v in result.recorded.items()})
    if result.evals_done is not None:
        arrays["evals_done"] = result.evals_done
    if result.finite is not None:
        arrays["finite"] = result.finite
    return arrays


def result_from_arrays(arrays) -> GroupResult:
    recorded = {k[len("record."):]: np.asarray(arrays[k]) for k in arrays.files if k.startswith("record.")}
    evals_done = np.asarray(arrays["evals_done"]) if "evals_done" in arrays.files else None
    finite = np.asarray(arrays["finite"]) if "finite" in arrays.files else None  # written before the check: not checked
    return GroupResult(np.asarray(arrays["env_steps"]), np.asarray(arrays["returns"]), float(arrays["compile_s"]),
                       float(arrays["train_s"]), int(arrays["num_devices"]), recorded, evals_done, finite)
