"""Any registered gymnasium id behind rl_zoo's vectorised-env contract (see ``envs/vector.py``).

    env, params = envs.make("LunarLander-v3")         # no JAX port: this adapter
    venv = env.make_vec(num_envs=8, params=params)     # a GymnasiumVecEnv
    obs, state = venv.reset(key)                       # obs [B, ...] float32, state a placeholder
    obs, state, reward, terminated, truncated, info = venv.step(key, state, action)

``GymnasiumVecEnv`` wraps ``gymnasium.vector.SyncVectorEnv`` in *same-step* auto-reset mode
(``AutoresetMode.SAME_STEP``): when an episode ends, the returned observation is already the first
one of the next episode, and the observation the episode ended on is in ``info["final_obs"]``
(equal to ``obs`` where no episode ended), exactly as ``JaxVecEnv`` returns it. Everything comes
back as ``jax.numpy`` arrays: obs in the observation space's dtype (float32 for boxes) [B, ...],
reward float32 [B], terminated / truncated bool [B].

It runs on the host and is not jittable (``is_jax = False``): the rollout in ``rl_zoo.core.rollout``
calls the jitted policy, then ``step`` in a Python loop. Randomness comes from the gymnasium envs'
own generators, seeded at ``reset`` from the JAX key; ``step`` ignores its key.

Unlike the JAX ports (which cannot raise inside jit), the adapter checks every action on the host
before stepping and raises a ``ValueError`` naming the action and the space when one is outside it.
"""

from __future__ import annotations

import functools
import os
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from envs import spaces
from envs.environment import EnvParams
from envs.registry import gymnasium_name

#: time limit recorded in ``default_params`` for gymnasium ids registered without one
NO_TIME_LIMIT = 2**31 - 1

_EXTRAS = {"box2d": "Box2D", "mujoco": "MuJoCo"}


def _spec(env_id: str):
    """``gymnasium.spec`` of an id, also of the ``"module:EnvId-v0"`` form that ``gymnasium.make``
    accepts and ``gymnasium.spec`` does not (``envs.make`` has imported the module by then)."""
    import gymnasium

    return gymnasium.spec(gymnasium_name(env_id))


def required_extra(env_id: str) -> str | None:
    """rl_zoo's extra (``"box2d"``, ``"mujoco"``) that a registered gymnasium id needs, from its entry
    point; None for the ids gymnasium runs without one."""
    entry_point = str(getattr(_spec(env_id), "entry_point", ""))
    return next((e for e in _EXTRAS if f".{e}." in entry_point or f".{e}:" in entry_point), None)


class MissingDependency(ImportError):
    """A gymnasium id needs an optional install that is missing; the message says which and how to get it."""


def _missing_dependency(env_id: str, error: Exception) -> MissingDependency:
    extra = required_extra(env_id)
    how = (
        f"Install it with `pip install -e \".[{extra}]\"` (rl_zoo's `{extra}` extra, i.e. `pip install \"gymnasium[{extra}]\"`"
        + ("; Box2D builds with swig: `pip install swig` first" if extra == "box2d" else "")
        + ")."
        if extra
        else "Install the package gymnasium names above."
    )
    what = _EXTRAS.get(extra, "an optional dependency")
    named = str(error).split(" is not installed", 1)[0].strip() if " is not installed" in str(error) else ""
    if named and " " not in named and named.lower() != what.lower():  # gymnasium names another module: pygame
        what = named
    return MissingDependency(f"{env_id} needs {what}, which is not installed ({error}). {how}")


def _make(env_id: str, **make_kwargs):
    import gymnasium

    from rl_zoo.host.mujoco_warnings import route_mujoco_warnings

    route_mujoco_warnings(env_id)  # not on the terminal per copy, nor in MUJOCO_LOG.TXT in the user's folder
    try:
        return gymnasium.make(env_id, **make_kwargs)
    except gymnasium.error.DependencyNotInstalled as e:
        raise _missing_dependency(env_id, e) from e
    except ImportError as e:  # gymnasium's own ids that need what no extra gives (HalfCheetah-v3: mujoco-py; shimmy)
        if _of_your_own(env_id):
            raise  # an env of one's own: its traceback is the user's to see
        raise MissingDependency(f"{env_id} cannot be made here: gymnasium's make raised ImportError: {e} "
                                "(`rl-zoo envs --all` lists the ids and which of them are available)") from e
    except Exception as e:
        gl = os.environ.get("MUJOCO_GL")
        if not gl or _of_your_own(env_id) or required_extra(env_id) != "mujoco":
            raise
        # mujoco imports the OpenGL backend MUJOCO_GL names when it is imported: without its library, PyOpenGL fails
        # with an AttributeError ('NoneType' object has no attribute 'glGetError' for osmesa)
        raise MissingDependency(f"{env_id} cannot be made here: importing MuJoCo with MUJOCO_GL={gl} raised "
                                f"{type(e).__name__}: {e} (the library of that OpenGL backend is missing: install it, "
                                "set MUJOCO_GL=egl, or unset MUJOCO_GL)") from e


def _of_your_own(env_id: str) -> bool:
    """Whether ``env_id`` is registered from outside gymnasium (its entry point is not gymnasium's own)."""
    entry = _spec(env_id).entry_point
    where = entry if isinstance(entry, str) else getattr(entry, "__module__", "") or ""  # a class or function too
    return not where.startswith("gymnasium.")


class HostEnvError(RuntimeError):
    """A gymnasium env raised: inside a compiled training program (``rl_zoo.host``), or in the one reset and
    step with which ``check_host_env`` tries an env of your own. ``__cause__`` is its exception and
    ``env_traceback`` its traceback from the env call down (without XLA's frames)."""

    def __init__(self, message: str, env_traceback: str = ""):
        super().__init__(message)
        self.env_traceback = env_traceback


def _tried(env_id: str, what: str, fn, *args):
    """``fn(*args)`` of ``check_host_env``; the env's own exception as a ``HostEnvError`` naming the call."""
    try:
        return fn(*args)
    except Exception as e:
        import traceback

        raise HostEnvError(f"environment {env_id} raised {type(e).__name__}: {e} in {what}, during the one reset and "
                           f"step with which rl_zoo tries an env of your own before training",
                           "".join(traceback.format_exception(e))) from e


def check_host_env(env, env_id: str, obs_space: spaces.Space) -> None:
    """One reset and one step of a gymnasium env of your own, checked against what rl_zoo's vector envs
    rely on (gymnasium's checker only warns): the observation's shape is its space's, the reward a
    scalar number, ``terminated`` and ``truncated`` booleans. ``ValueError`` naming the broken rule;
    without it such an env fails inside the compiled program (a host-callback error). An exception the env
    raises comes out as ``HostEnvError`` with its traceback (the CLI prints both, exit 1)."""
    def fail(what: str):
        raise ValueError(f"environment {env_id}: {what} (what rl_zoo needs of a gymnasium env: Env.reset and Env.step "
                         "as gymnasium documents them)")

    obs, _ = _tried(env_id, "reset(seed=0)", lambda: env.reset(seed=0))
    if np.shape(obs) != tuple(obs_space.shape):
        fail(f"reset() gives an observation of shape {np.shape(obs)}, but observation_space is {obs_space}")
    action = env.action_space.sample()
    obs, reward, terminated, truncated, _ = _tried(env_id, "step(a random action)", env.step, action)
    if np.shape(obs) != tuple(obs_space.shape):
        fail(f"step() gives an observation of shape {np.shape(obs)}, but observation_space is {obs_space}")
    if np.shape(reward) != () or not np.issubdtype(np.asarray(reward).dtype, np.number):
        fail(f"step() gives a reward of shape {np.shape(reward)} ({type(reward).__name__}); it must be a scalar number")
    for name, flag in (("terminated", terminated), ("truncated", truncated)):
        if np.shape(flag) != () or np.asarray(flag).dtype.kind not in "biu" or flag not in (0, 1):
            fail(f"step() gives {name} = {flag!r}; it must be a boolean")


class GymnasiumEnv:
    """Description of a gymnasium id: spaces, default params, and ``make_vec``.

    ``make_kwargs`` go to ``gymnasium.make`` (e.g. ``continuous=True``). ``max_steps_in_episode``
    (rl_zoo's name) or ``max_episode_steps`` (gymnasium's) sets the time limit; without either, it is
    the one gymnasium registered for the id (or ``NO_TIME_LIMIT``).
    """

    backend = "gymnasium"

    def __init__(self, env_id: str, **make_kwargs: Any):
        self.id = env_id
        limit = make_kwargs.pop("max_steps_in_episode", None)
        limit = make_kwargs.pop("max_episode_steps", limit)
        if limit is None:
            limit = _spec(env_id).max_episode_steps
        self._make_kwargs = make_kwargs
        self._default_params = EnvParams(max_steps_in_episode=int(limit) if limit is not None else NO_TIME_LIMIT)
        probe = _make(env_id, **make_kwargs)
        #: the env's own gymnasium action space (a float64 Box's bounds exact: ``spaces.to_gymnasium_action``)
        self.gymnasium_action_space = probe.action_space
        try:
            self._observation_space = spaces.check_observation(spaces.from_gymnasium(probe.observation_space), env_id)
            self._action_space = spaces.from_gymnasium(probe.action_space, "action")
            if _of_your_own(env_id):
                check_host_env(probe, env_id, self._observation_space)
        except spaces.UnsupportedSpace as e:
            from envs import registry

            if env_id not in registry.list():
                raise
            raise spaces.UnsupportedSpace(f"{e} Or drop --backend gymnasium: {env_id} has a JAX port, which trains (`rl-zoo "
                                          f"envs {env_id}` shows its spaces)") from None
        finally:
            probe.close()

    @property
    def default_params(self) -> EnvParams:
        return self._default_params

    def _batched_only(self, name: str):
        raise TypeError(f"{self.id} runs through the gymnasium adapter, which has no single-env {name}: it steps its "
                        f"envs in batches on the host. Use venv = env.make_vec(n, params), then venv.reset(key) and "
                        f"venv.step(key, state, actions) with actions shaped [n, ...] (the JAX ports have both)")

    def reset(self, *args, **kwargs):
        """Refused, saying what to call instead (``make_vec``): the adapter steps its envs batched."""
        self._batched_only("reset")

    def step(self, *args, **kwargs):
        """Refused, saying what to call instead (``make_vec``): the adapter steps its envs batched."""
        self._batched_only("step")

    @property
    def make_kwargs(self) -> dict[str, Any]:
        """What ``gymnasium.make`` gets besides the id (the time limit excluded)."""
        return dict(self._make_kwargs)

    def observation_space(self, params: EnvParams | None = None) -> spaces.Space:
        return self._observation_space

    def action_space(self, params: EnvParams | None = None) -> spaces.Space:
        return self._action_space

    @property
    def num_actions(self) -> int:
        space = self._action_space
        return space.n if isinstance(space, spaces.Discrete) else space.shape[0]

    def make_vec(self, num_envs: int, params: EnvParams | None = None) -> GymnasiumVecEnv:
        """``num_envs`` copies, each under a ``TimeLimit`` of ``params.max_steps_in_episode`` steps."""
        params = self.default_params if params is None else params
        return GymnasiumVecEnv(self.id, num_envs, int(params.max_steps_in_episode), **self._make_kwargs)

    def __repr__(self) -> str:
        return f"GymnasiumEnv({self.id!r}, backend='gymnasium')"


class GymnasiumVecEnv:
    """A host-side ``gymnasium.vector.SyncVectorEnv`` (same-step auto-reset) behind ``JaxVecEnv``'s interface."""

    is_jax = False

    def __init__(self, env_id: str, num_envs: int, max_episode_steps: int | None = None, **make_kwargs: Any):
        import gymnasium

        self.id, self.num_envs = env_id, int(num_envs)
        if max_episode_steps is not None:  # NO_TIME_LIMIT too: it replaces a registered limit, and never binds
            make_kwargs = dict(make_kwargs, max_episode_steps=int(max_episode_steps))
        make_one = functools.partial(_make, env_id, **make_kwargs)
        self._venv = gymnasium.vector.SyncVectorEnv(
            [make_one for _ in range(self.num_envs)], autoreset_mode=gymnasium.vector.AutoresetMode.SAME_STEP
        )
        self.observation_space = spaces.check_observation(spaces.from_gymnasium(self._venv.single_observation_space), env_id)
        self.action_space = spaces.from_gymnasium(self._venv.single_action_space, "action")
        self._gym_action_space = self._venv.single_action_space

    @property
    def envs(self) -> list:
        """The wrapped gymnasium envs (to inspect or set their state, e.g. in parity tests)."""
        return self._venv.envs

    def reset(self, key: jax.Array) -> tuple[jax.Array, jax.Array]:
        """Reset every copy; the gymnasium seed is drawn from ``key`` (copy ``i`` gets seed + i)."""
        seed = key if isinstance(key, int) else int(jax.random.randint(key, (), 0, 2**31 - self.num_envs - 1, dtype=jnp.int32))
        obs, _ = self._venv.reset(seed=seed)
        return self._obs(obs), jnp.zeros(())

    def step(self, key: jax.Array, state: jax.Array, action):
        """Step every copy (``key`` is unused: the gymnasium envs carry their own generators)."""
        action = self._check_action(action)
        obs, reward, terminated, truncated, info = self._venv.step(action)
        final_obs = np.array(obs, copy=True)
        if "_final_obs" in info:
            for i in np.flatnonzero(info["_final_obs"]):
                final_obs[i] = info["final_obs"][i]
        return (
            self._obs(obs),
            state,
            jnp.asarray(reward, jnp.float32),
            jnp.asarray(terminated, bool),
            jnp.asarray(truncated, bool),
            {"final_obs": self._obs(final_obs)},
        )

    def close(self) -> None:
        self._venv.close()

    def _obs(self, obs) -> jax.Array:
        return jnp.asarray(np.asarray(obs), self.observation_space.dtype)

    def _check_action(self, action) -> np.ndarray:
        """Host-side check: one action per copy, each inside the action space; else a ValueError."""
        space = self.action_space
        a = np.asarray(action)
        expected = (self.num_envs, *space.shape)
        if a.shape != expected:
            raise ValueError(
                f"{self.id}: expected actions of shape {expected} ({self.num_envs} envs, action space {space}), "
                f"got shape {a.shape}: {a!r}"
            )
        if isinstance(space, spaces.Discrete):
            if not np.issubdtype(a.dtype, np.integer):
                raise ValueError(f"{self.id}: actions for the action space {space} must be integers, got {a.dtype}: {a!r}")
            bad = (a < space.start) | (a >= space.start + space.n)
            a = a.astype(np.int64)
        else:  # within the bounds as float32 (the policy's) or as the env's own dtype; then clipped to the env's
            gym = self._gym_action_space  # (a float64 bound 0.1 is 0.100000001 in float32: just outside the env's)
            a = a.astype(gym.dtype)
            low, high = np.minimum(space.low, gym.low), np.maximum(space.high, gym.high)
            bad = ~np.all(np.isfinite(a) & (a >= low) & (a <= high), axis=tuple(range(1, a.ndim)))
        if np.any(bad):
            i = int(np.flatnonzero(bad)[0])
            raise ValueError(
                f"{self.id}: action {a[i].tolist()!r} (env {i} of {self.num_envs}) is outside the action space {space}"
                + ("; clip continuous actions to the bounds before stepping." if isinstance(space, spaces.Box) else ".")
            )
        return spaces.to_gymnasium_action(a, self._gym_action_space)

    def __repr__(self) -> str:
        return f"GymnasiumVecEnv({self.id!r}, num_envs={self.num_envs})"
