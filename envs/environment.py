"""The functional environment API every rl_zoo algorithm trains on.

An environment is a set of pure functions with explicit PRNG key and parameters (gymnax style):

    obs, state = env.reset(key, params)
    obs, state, reward, terminated, truncated, info = env.step(key, state, action, params)

``terminated`` (the MDP reached a terminal state: the value of what follows is zero) and
``truncated`` (the time limit cut the episode: the value of what follows is *not* zero) are kept
apart. ``step`` resets automatically when either is true, in the same step; the observation that
the episode ended on is kept in ``info["final_obs"]`` so that a truncated step can be
bootstrapped from V(final_obs).

Subclasses implement ``reset_env``/``step_env`` (one episode, no time limit, no auto-reset),
``default_params``, ``observation_space`` and ``action_space``; the time limit and auto-reset live
here, once.
"""

from __future__ import annotations

from typing import Any, ClassVar

import jax
import jax.numpy as jnp
from flax import struct

from envs import spaces


@struct.dataclass
class EnvParams:
    """Parameters shared by every environment. ``max_steps_in_episode`` is gymnasium's TimeLimit.

    A port declares the values its dynamics are defined for (``POSITIVE``, ``NON_NEGATIVE``: field names;
    ``ORDERED``: ``(low, high)`` pairs of fields, low below high; ``NOT_ABOVE``: pairs with low at most high, a
    range that may be one value, as gymnasium takes a start range); `invalid` says the first one broken, and
    ``envs.make`` refuses params made with it (a pole of length 0 would divide by zero at every step)."""

    max_steps_in_episode: int = 500

    POSITIVE: ClassVar[tuple[str, ...]] = ()
    NON_NEGATIVE: ClassVar[tuple[str, ...]] = ()
    ORDERED: ClassVar[tuple[tuple[str, str], ...]] = ()
    NOT_ABOVE: ClassVar[tuple[tuple[str, str], ...]] = ()
    MAY_BE_INFINITE: ClassVar[tuple[str, ...]] = ()  # float fields an infinity means something for (no limit)

    def invalid(self) -> str | None:
        """The first rule these params break, in words (None: none): a float field that is NaN, or infinite where
        ``MAY_BE_INFINITE`` does not allow it (the dynamics would carry it into every observation), then
        ``POSITIVE``, ``NON_NEGATIVE``, ``ORDERED`` and ``NOT_ABOVE``; a finite value float32 cannot hold (it
        would step as infinite or 0: ``rl_zoo.config.float32_problem``) is refused with the first. Traced values
        (params made under ``jax.vmap``, a sweep's rows) are not checked."""
        import dataclasses

        import numpy as np

        from rl_zoo.config import FLOAT32_MAX, float32_problem

        def concrete(*names):
            return all(not isinstance(getattr(self, n), jax.core.Tracer) for n in names)

        def shown(name):
            value = np.asarray(getattr(self, name))
            return f"{value.item():g}" if value.ndim == 0 and value.dtype.kind in "biuf" else repr(getattr(self, name))

        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if not concrete(f.name) or np.asarray(value).dtype.kind != "f":
                continue
            if np.any(np.isnan(value)) or (f.name not in self.MAY_BE_INFINITE and not np.all(np.isfinite(value))):
                return f"{f.name} = {shown(f.name)} must be a finite number"
            finite = np.ravel(value)[np.isfinite(np.ravel(value))]
            if f.name in self.MAY_BE_INFINITE:  # 1e40 there means what inf means (no limit)
                finite = finite[np.abs(finite) <= FLOAT32_MAX]
            problem = next(filter(None, map(float32_problem, finite)), None)
            if problem:  # gravity=1e40 stepped as inf, length=1e-50 as 0 (past "> 0"): the ports compute in float32
                return f"{f.name} = {shown(f.name)} {problem}"
        for name in self.POSITIVE:
            if concrete(name) and not np.all(np.asarray(getattr(self, name)) > 0):
                return f"{name} = {shown(name)} must be > 0"
        for name in self.NON_NEGATIVE:
            if concrete(name) and not np.all(np.asarray(getattr(self, name)) >= 0):
                return f"{name} = {shown(name)} must be >= 0"
        for low, high in self.ORDERED:
            if concrete(low, high) and not np.all(np.asarray(getattr(self, low)) < np.asarray(getattr(self, high))):
                return f"{low} = {shown(low)} must be below {high} = {shown(high)}"
        for low, high in self.NOT_ABOVE:
            if concrete(low, high) and not np.all(np.asarray(getattr(self, low)) <= np.asarray(getattr(self, high))):
                return f"{low} = {shown(low)} must be at most {high} = {shown(high)}"
        return None


@struct.dataclass
class EnvState:
    """Every environment state carries the step count within the episode."""

    time: jax.Array


class Environment:
    """Base class of the pure-JAX environments (see module docstring for the contract)."""

    #: gymnasium id this environment ports, e.g. ``"CartPole-v1"``
    id: str = ""
    #: ``"jax"`` for pure-JAX ports; the gymnasium adapter says ``"gymnasium"``
    backend: str = "jax"
    #: greedy episodes per evaluation and seed that rl-zoo's commands play unless told (``--eval-episodes``):
    #: an env whose return is one noisy draw (Blackjack's +-1) needs many more than 10 to say anything
    default_eval_episodes: int = 10
    #: what each constructor option takes, in words, where the constructor refuses other values (``rl-zoo envs ID``'s
    #: allowed column; a bool option says "true or false" without it)
    option_rules: dict = {}
    #: constructor options that choose one thing between them (FrozenLake's map: ``desc`` or ``map_name``): a run played
    #: with one of a group given anew drops its recorded others (``envs.options.replaced_options``)
    option_groups: tuple = ()

    def drawn_options(self) -> dict:
        """What this env drew at random from the options it was made with, as options (``envs.make``'s overrides)
        that make it again (FrozenLake's random map as ``desc``), for a run directory to record beside them; {} for
        an env that draws nothing."""
        return {}

    # --- to implement -------------------------------------------------------------------------
    @property
    def default_params(self) -> EnvParams:
        raise NotImplementedError

    def reset_env(self, key: jax.Array, params: EnvParams) -> tuple[jax.Array, Any]:
        raise NotImplementedError

    def step_env(
        self, key: jax.Array, state: Any, action: jax.Array, params: EnvParams
    ) -> tuple[jax.Array, Any, jax.Array, jax.Array, dict]:
        """One step of one episode: ``(obs, state, reward, terminated, info)``; must increment ``state.time``."""
        raise NotImplementedError

    def observation_space(self, params: EnvParams | None = None) -> spaces.Space:
        raise NotImplementedError

    def action_space(self, params: EnvParams | None = None) -> spaces.Space:
        raise NotImplementedError

    # --- the contract -------------------------------------------------------------------------
    def reset(self, key: jax.Array, params: EnvParams | None = None) -> tuple[jax.Array, Any]:
        params = self.default_params if params is None else params
        return self.reset_env(key, params)

    def step(self, key: jax.Array, state: Any, action: jax.Array, params: EnvParams | None = None):
        """Step, apply the time limit, and auto-reset in the same step when the episode ended."""
        params = self.default_params if params is None else params
        key_step, key_reset = jax.random.split(key)
        obs_step, state_step, reward, terminated, truncated, info = self._step_in_episode(key_step, state, action, params)
        done = jnp.logical_or(terminated, truncated)
        obs_reset, state_reset = self.reset_env(key_reset, params)
        state = jax.tree.map(lambda r, s: jnp.where(done, r, s), state_reset, state_step)
        obs = jnp.where(done, obs_reset, obs_step)
        info = dict(info, final_obs=obs_step)
        return obs, state, reward, terminated, truncated, info

    def step_no_reset(self, key: jax.Array, state: Any, action: jax.Array, params: EnvParams | None = None):
        """`step` without the auto-reset: the same transition for the same key, time limit included,
        but the state an episode ended in is returned as it is. For evaluation, which only follows
        each env's first episode; an env whose dynamics draw no randomness then costs no PRNG work."""
        params = self.default_params if params is None else params
        return self._step_in_episode(jax.random.split(key)[0], state, action, params)

    def _step_in_episode(self, key_step: jax.Array, state: Any, action: jax.Array, params: EnvParams):
        obs, state, reward, terminated, info = self.step_env(key_step, state, action, params)
        truncated = state.time >= params.max_steps_in_episode
        return obs, state, jnp.asarray(reward, jnp.float32), terminated, truncated, info  # a Python float too

    @property
    def num_actions(self) -> int:
        space = self.action_space()
        return space.n if isinstance(space, spaces.Discrete) else space.shape[0]

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.id!r}, backend={self.backend!r})"


def check_env(env: Environment, params: EnvParams | None = None, name: str | None = None) -> None:
    """Check an environment of your own against the contract above, before anything trains on it:
    ``reset_env`` and ``step_env`` traced once with ``jax.eval_shape`` (nothing runs or compiles), and
    ``ValueError`` naming the first broken rule: the observation's shape and kind against
    ``observation_space``, the same observation and state (``state.time`` included) from reset and
    step (a ``lax.scan`` carries them), a scalar number for the reward, a scalar boolean ``terminated``, an
    ``info`` dict of arrays. It cannot see whether ``step_env`` increments ``state.time`` (without
    it the time limit never cuts an episode). ``envs.make`` runs it on envs registered from outside
    this package."""
    params = env.default_params if params is None else params
    name = name or env.id or type(env).__name__  # ``name``: the id it was registered under
    where = "(the env contract: envs/environment.py)"

    def fail(what: str):
        raise ValueError(f"environment {name}: {what} {where}")

    def desc(x) -> str:
        return f"shape {tuple(x.shape)}, dtype {x.dtype}"

    obs_space, act_space = env.observation_space(params), env.action_space(params)
    if isinstance(obs_space, spaces.Box) and len(obs_space.shape) != 1:  # as spaces.check_observation refuses a gymnasium env's
        fail(f"observation_space is {obs_space} (rank {len(obs_space.shape)}): rl_zoo's networks are MLPs over a vector "
             f"observation (a Box of shape (n,)) or a Discrete index; flatten it in reset_env and step_env (jnp.ravel) and "
             f"declare a Box of the flat shape")
    key = jax.random.key(0)
    try:
        obs, state = jax.eval_shape(lambda k: env.reset_env(k, params), key)
    except Exception as e:  # noqa: BLE001 - any tracing error is the env's; say where it came from
        fail(f"reset_env(key, params) cannot be traced as JAX ({type(e).__name__}: {str(e).splitlines()[0][:300]})")
    if tuple(obs.shape) != tuple(obs_space.shape):
        fail(f"reset_env gives an observation of {desc(obs)}, but observation_space is {obs_space}")
    want_int = isinstance(obs_space, spaces.Discrete) or jnp.issubdtype(obs_space.dtype, jnp.integer)
    if jnp.issubdtype(obs.dtype, jnp.integer) != want_int:
        fail(f"reset_env gives an observation of {desc(obs)}, but observation_space {obs_space} wants "
             + ("integers" if want_int else "floats"))
    if not hasattr(state, "time"):
        fail("the state reset_env returns has no field `time` (subclass envs.EnvState: the time limit counts it)")
    action = jax.ShapeDtypeStruct(act_space.shape, act_space.dtype)
    try:
        out = jax.eval_shape(lambda k, s, a: env.step_env(k, s, a, params), key, state, action)
    except Exception as e:  # noqa: BLE001
        fail(f"step_env(key, state, action, params) cannot be traced as JAX ({type(e).__name__}: "
             f"{str(e).splitlines()[0][:300]})")
    if not isinstance(out, tuple) or len(out) != 5:
        fail("step_env must return (obs, state, reward, terminated, info)")
    obs2, state2, reward, terminated, info = out
    if (tuple(obs2.shape), obs2.dtype) != (tuple(obs.shape), obs.dtype):
        fail(f"step_env gives an observation of {desc(obs2)}, reset_env one of {desc(obs)}")
    before, after = jax.tree.structure(state), jax.tree.structure(state2)
    if before != after:
        fail(f"step_env returns a state of another structure than reset_env's ({after} vs {before})")
    for a, b in zip(jax.tree.leaves(state), jax.tree.leaves(state2)):
        if (tuple(a.shape), a.dtype) != (tuple(b.shape), b.dtype):
            fail(f"a state field changes from {desc(a)} at reset to {desc(b)} after step_env (it must keep its shape and dtype)")
    if tuple(reward.shape) != () or not (jnp.issubdtype(reward.dtype, jnp.floating) or jnp.issubdtype(reward.dtype, jnp.integer)):
        fail(f"step_env's reward must be a scalar number (step casts it to float32), got {desc(reward)}")
    if tuple(terminated.shape) != () or terminated.dtype != jnp.bool_:
        fail(f"step_env's terminated must be a boolean scalar, got {desc(terminated)}")
    if not isinstance(info, dict):
        fail(f"step_env's info must be a dict, got {type(info).__name__}")
