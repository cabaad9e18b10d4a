"""A sweep over the env's own numbers: ``--grid env.gravity=9.8,12,15.7`` or ``--range env.length=0.25:1``:
the checks against the env, and the score of a setting of the config fields over the env values it met.

A float field of a JAX port's params (CartPole-v1's gravity, pole length, force; Pendulum-v1's mass;
``rl-zoo envs ID`` lists them) enters the sweep's program as an array, like a numeric config field:
each row (config x seed) steps, and is evaluated on, its own env, all in one compiled program. Crossed
with a config field (``--grid learning_rate=...``) it asks which setting of the algorithm holds up
across the envs: `settings` scores each by the mean over its env values of its IQM at each.

What is checked here, against the env, before anything compiles: the field is a float of the env's
params (an integer, such as the time limit, or an array is not traced: one value at a time with
``--env-kwargs``), ``--env-kwargs`` does not also fix it, the env takes every value swept (made with
it, as ``rl-zoo train --env-kwargs`` makes it), and the env's and the algorithm's code can trace it (an env
whose action space is built from the field, as Pendulum-v1's from its ``max_torque``, needs it concrete).
"""

from __future__ import annotations

import dataclasses
import difflib

import numpy as np

from envs.options import float_fields
from rl_zoo.config import ConfigError
from rl_zoo.sweep.spec import SweepSpec, env_param, is_env_field


def check_env_fields(spec: SweepSpec, plan, env, env_params) -> None:
    """Refuse, naming the field, an ``env.NAME`` the sweep cannot train (module docstring); nothing if none is swept."""
    if not spec.env_fields:
        return
    defaults = env.default_params  # the fields' kinds as the env declares them (--env-kwargs m=3 makes Pendulum's m an int)
    floats = float_fields(defaults)
    every = [f.name for f in dataclasses.fields(defaults)]
    for name in spec.env_fields:
        field = env_param(name)
        if field in spec.env_kwargs:
            raise ConfigError(f"--env-kwargs fixes {field}, which {name} sweeps: the swept values would replace the fixed "
                              f"one; drop one of the two")
        if field == "max_episode_steps":
            raise ConfigError(f"{name}: the time limit is an integer, not a float: a sweep traces float fields only; train "
                              f"one value per sweep with {_one_value(field)}")
        if field not in every:
            close = difflib.get_close_matches(field, floats, 1)
            hint = f" (did you mean env.{close[0]}?)" if close else ""
            if _takes_option(env, field):
                hint = (f": {field} is an option of its constructor (it decides what the env builds and compiles: not a "
                        f"number in the program); train one value per sweep with --env-kwargs {field}=VALUE")
            raise ConfigError(f"{name}: {spec.env_id}'s params have no field {field!r}{hint}; its float fields: "
                              f"{', '.join(floats) or 'none'} (`rl-zoo envs {spec.env_id}` lists its options)")
        if field not in floats:
            value = getattr(defaults, field)
            if isinstance(value, int):
                why = f"is an integer, not a float: a sweep traces float fields only; train one value per sweep with {_one_value(field)}"
            else:
                why = (f"is {'an array' if hasattr(value, 'shape') else 'a ' + type(value).__name__} (built from the "
                       f"env's options), not a float: a sweep traces float fields only")
            raise ConfigError(f"{name}: {spec.env_id}'s {field} {why} (its float fields: {', '.join(floats) or 'none'})")
    import envs

    for values in sorted({tuple((k, v) for k, v in p.values if is_env_field(k)) for p in plan.points}):
        options = {**spec.env_kwargs, **{env_param(k): v for k, v in values}}  # the fixed ones passed check_sweep
        try:
            envs.make(spec.env_id, backend="jax", **options)
        except (ValueError, AssertionError) as e:  # the env's rules (a pole of length 0)
            label = ", ".join(f"{k}={v:g}" for k, v in values)
            raise ConfigError(f"sweep config {label}: refused by {spec.env_id}: {str(e).removeprefix(spec.env_id + ': ')}") from None
    for group in plan.groups:
        check_traceable(plan.module, group.points[0].config, env, env_params, spec)


def _takes_option(env, name: str) -> bool:
    """Whether the env's constructor takes ``name`` (FrozenLake-v1's ``success_rate``)."""
    import inspect

    try:
        return name in inspect.signature(type(env)).parameters
    except (TypeError, ValueError):
        return False


def check_traceable(module, base, env, env_params, spec: SweepSpec) -> None:
    """Trace (``jax.eval_shape``: nothing compiles or runs) the sweep's init, one update and one evaluation with
    the swept env fields as abstract numbers; a field the code needs concrete is refused, named alone."""
    import jax
    import jax.numpy as jnp

    from rl_zoo.sweep.runner import functions

    fns = functions(module, base, env, env_params, 1)
    seed = jax.ShapeDtypeStruct((), jnp.int32)

    def trace(names) -> None:
        hp = {n: jax.ShapeDtypeStruct((), jnp.float32) for n in names}
        state = jax.eval_shape(fns.init, hp, seed)
        jax.eval_shape(lambda h, s: fns.segment(h, s, 1), hp, state)
        jax.eval_shape(lambda h, s, k: fns.evaluation(h, s, k, 0), hp, state, seed)

    from envs.spaces import TracedBoundsError

    untraceable = (jax.errors.JAXTypeError, TracedBoundsError)  # the code needs a concrete number; a space's bound
    try:
        trace(spec.env_fields)
    except untraceable as e:
        together = e
        for name in spec.env_fields:  # which one (the first the code cannot trace)
            try:
                trace((name,))
            except untraceable as e:
                why = ("it bounds the env's observation or action space" if isinstance(e, TracedBoundsError)
                       else "it is made a NumPy number, e.g. for a bound of the env's spaces"
                       if isinstance(e, jax.errors.TracerArrayConversionError) else f"JAX: {str(e).strip().splitlines()[0]}")
                raise ConfigError(f"{name}: {spec.env_id}'s or {spec.algo}'s code needs {env_param(name)} as a concrete "
                                  f"number ({why}), so its values cannot share one program; train one value per sweep "
                                  f"with {_one_value(env_param(name))}") from None
        first = str(together).strip().splitlines()[0]
        raise ConfigError(f"{', '.join(spec.env_fields)}: each traces alone, but {spec.env_id}'s or {spec.algo}'s code needs "
                          f"them concrete together ({first}); sweep fewer of them at once, the others one value per sweep "
                          f"with --env-kwargs") from None


def _one_value(field: str) -> str:
    """The flag that gives the env param ``field`` one value (the time limit goes by gymnasium's name)."""
    return f"--env-kwargs {'max_episode_steps' if field == 'max_steps_in_episode' else field}=VALUE"


# --- scoring a setting of the config fields over the env values it met (the report's and best.yaml's rule) ---


def settings(summaries: list, spec: SweepSpec) -> list:
    """With the env's params swept too (``spec.env_fields``), one summary per setting of the swept config
    fields (``Point.config_values``), made of its configs, one per env value: its point the first of them with
    the config fields' values only; ``final``, ``auc``, ``steps_to_threshold`` and ``finite`` its runs, seeds x
    env values; ``iqm`` its **score**: the mean over its env values of each value's IQM over seeds, with a
    percentile interval over bootstrap resamples of the seeds within each env value (`rl_zoo.stats.task_mean_ci`:
    every env value weighs the same, so a collapse on one of five costs a fifth of its drop, where the IQM of
    the runs pooled would trim it away). Without env params swept, ``summaries`` themselves."""
    from rl_zoo import stats
    from rl_zoo.sweep.spec import Point

    if not spec.env_fields:
        return summaries
    by_setting: dict[tuple, list] = {}
    for s in sorted(summaries, key=lambda s: s.point.index):
        by_setting.setdefault(s.point.config_values, []).append(s)
    out = []
    for values, members in by_setting.items():
        score, low, high = stats.task_mean_ci(np.stack([m.final for m in members], axis=1))  # [seeds, env values]
        first = members[0]
        out.append(dataclasses.replace(
            first, point=Point(first.point.index, values, first.point.config), final=np.concatenate([m.final for m in members]),
            auc=np.concatenate([m.auc for m in members]), steps_to_threshold=np.concatenate([m.steps_to_threshold for m in members]),
            iqm=score, ci_low=low, ci_high=high, env_steps_trained=min(m.env_steps_trained for m in members),
            finite=np.concatenate([np.ones(len(m.final), bool) if m.finite is None else m.finite for m in members]),
            stopped_early=any(m.stopped_early for m in members)))
    return out


def members(setting, summaries: list) -> list:
    """The configs (one per env value) that make up ``setting`` (one of `settings`), in config order."""
    return [s for s in sorted(summaries, key=lambda s: s.point.index) if s.point.config_values == setting.point.values]


def env_values_label(summary) -> str:
    """``"env.length=0.5"``: a config's env values (several joined by ", ")."""
    from rl_zoo.sweep.spec import _fmt

    return ", ".join(f"{k}={_fmt(v)}" for k, v in summary.point.values if is_env_field(k))


def interval_label(seeds: int) -> str:
    """What the interval of a setting's score is, in words (with 2-3 seeds per env value the bootstrap cannot
    reach 95%; with 1 there is no spread to draw from)."""
    if seeds == 1:
        return "no interval: 1 seed per env value"
    if seeds <= 3:
        return f"bootstrap over {seeds} seeds per env value, too few for a 95% interval"
    return "95% CI, seeds resampled within each env value"


def worst_value(at: dict[str, float]) -> str:
    """The env value (its label) where a setting's IQM is lowest, ``at``: label -> IQM; a NaN is the lowest,
    wherever it sits (``min`` over a bare IQM key passes a NaN by unless it comes first)."""
    return min(at, key=lambda e: (not np.isnan(at[e]), at[e]))


def settings_section(ranked: list, summaries: list, spec: SweepSpec, decimals: int = 1) -> str:
    """report.md's table of every setting of the config fields, best first: its score and interval, its worst env
    value, its IQM over seeds at each env value, its non-finite runs; returns with ``decimals`` (the report's other
    table's, ``rl_zoo.sweep.report.return_decimals_of``: MountainCarContinuous's -0.03, not -0.0)."""
    d = decimals
    envs = [env_values_label(m) for m in members(ranked[0], summaries)]
    lines = ["| setting | score [" + interval_label(spec.seeds) + "] | worst env value: IQM | "
             + " | ".join(envs) + " | non-finite runs |", "|" + "---|" * (len(envs) + 4)]
    for r in ranked:
        at = {env_values_label(m): m.iqm for m in members(r, summaries)}
        worst = worst_value(at)
        lines.append(f"| {r.point.label()} | {r.iqm:.{d}f} [{r.ci_low:.{d}f}, {r.ci_high:.{d}f}] | {worst}: {at[worst]:.{d}f} | "
                     + " | ".join(f"{at[e]:.{d}f}" if e in at else "" for e in envs) + f" | {r.non_finite}/{len(r.final)} |")
    return f"""## Settings of {', '.join(spec.config_fields)} over the env values

Score: the mean over the values of {', '.join(spec.env_fields)} of the IQM of the final returns over the seeds at each
value (each env value weighs the same); in brackets: {interval_label(spec.seeds)}. The columns after the worst value:
the IQM at each env value.

{chr(10).join(lines)}

"""
