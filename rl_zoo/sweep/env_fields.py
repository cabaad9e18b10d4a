"""A sweep over the env's own numbers: ``--grid env.gravity=9.8,12,15.7`` or ``--range env.length=0.25:1``.

A float field of a JAX port's params (CartPole-v1's gravity, pole length, force; Pendulum-v1's mass;
``rl-zoo envs ID`` lists them) enters the sweep's program as an array, like a numeric config field:
each row (config x seed) steps, and is evaluated on, its own env, all in one compiled program. Crossed
with a config field (``--grid learning_rate=...``) it asks which setting of the algorithm holds up
across the envs (`rl_zoo.sweep.report` then scores each setting over every env value it met).

What is checked here, against the env, before anything compiles: the field is a float of the env's
params (an integer, such as the time limit, or an array is not traced: one value at a time with
``--env-kwargs``), ``--env-kwargs`` does not also fix it, the env takes every value swept (made with
it, as ``rl-zoo train --env-kwargs`` makes it), and the env's and the algorithm's code can trace it (an env
whose action space is built from the field, as Pendulum-v1's from its ``max_torque``, needs it concrete).
"""

from __future__ import annotations

import dataclasses
import difflib

from rl_zoo.config import ConfigError
from rl_zoo.sweep.spec import SweepSpec, env_param, is_env_field


def float_fields(env_params) -> list[str]:
    """The fields of ``env_params`` that hold a Python float (what a sweep can trace)."""
    return [f.name for f in dataclasses.fields(env_params) if type(getattr(env_params, f.name)) is float]


def check_env_fields(spec: SweepSpec, plan, env, env_params) -> None:
    """Refuse, naming the field, an ``env.NAME`` the sweep cannot train (module docstring); nothing if none is swept."""
    if not spec.env_fields:
        return
    from rl_zoo.driver.spec import make_env

    defaults = env.default_params  # the fields' kinds as the env declares them (--env-kwargs m=3 makes Pendulum's m an int)
    floats = float_fields(defaults)
    every = [f.name for f in dataclasses.fields(defaults)]
    for name in spec.env_fields:
        field = env_param(name)
        if field in spec.env_kwargs:
            raise ConfigError(f"--env-kwargs fixes {field}, which {name} sweeps: the swept values would replace the fixed "
                              f"one; drop one of the two")
        if field not in every:
            close = difflib.get_close_matches(field, floats, 1)
            hint = f" (did you mean env.{close[0]}?)" if close else ""
            raise ConfigError(f"{name}: {spec.env_id}'s params have no field {field!r}{hint}; the float fields a sweep "
                              f"can trace: {', '.join(floats) or 'none'} (`rl-zoo envs {spec.env_id}` lists its options)")
        if field not in floats:
            value = getattr(defaults, field)
            if isinstance(value, int):
                why = f"is an integer, not a float: a sweep traces float fields only; train one value per sweep with {_one_value(field)}"
            else:
                why = (f"is {'an array' if hasattr(value, 'shape') else 'a ' + type(value).__name__} (built from the "
                       f"env's options), not a float: a sweep traces float fields only")
            raise ConfigError(f"{name}: {spec.env_id}'s {field} {why} (its float fields: {', '.join(floats) or 'none'})")
    for values in sorted({tuple((k, v) for k, v in p.values if is_env_field(k)) for p in plan.points}):
        options = {**spec.env_kwargs, **{env_param(k): v for k, v in values}}
        try:
            make_env(spec.env_id, "jax", options)
        except ConfigError as e:
            label = ", ".join(f"{k}={v:g}" for k, v in values)
            raise ConfigError(f"sweep config {label}: {e}") from None
    for group in plan.groups:
        check_traceable(plan.module, group.points[0].config, env, env_params, spec)


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

    # a JAX error where the code needs a concrete number; the ValueError of envs.spaces.Box, whose bounds must be concrete
    untraceable = (jax.errors.JAXTypeError, ValueError)
    try:
        trace(spec.env_fields)
    except untraceable:
        for name in spec.env_fields:  # which one (the first the code cannot trace)
            try:
                trace((name,))
            except untraceable as e:
                first = str(e).strip().splitlines()[0]
                raise ConfigError(f"{name}: {spec.env_id}'s or {spec.algo}'s code needs {env_param(name)} as a concrete "
                                  f"number ({first}), so its values cannot share one program; train one value per sweep "
                                  f"with {_one_value(env_param(name))}") from None
        raise


def _one_value(field: str) -> str:
    """The flag that gives the env param ``field`` one value (the time limit goes by gymnasium's name)."""
    return f"--env-kwargs {'max_episode_steps' if field == 'max_steps_in_episode' else field}=VALUE"
