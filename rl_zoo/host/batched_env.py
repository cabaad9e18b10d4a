"""Gymnasium envs for all seeds at once, behind the pure-JAX ``VecEnv`` interface.

The JAX path trains every seed in one compiled program: ``jax.vmap`` over seeds of ``K`` updates
in ``lax.scan``. ``SeedBatchedEnv`` lets a host (gymnasium) env run in exactly that program. Its
``make_vec`` returns a ``HostVecEnv`` whose ``reset`` and ``step`` are host calls
(``jax.experimental.io_callback``) wrapped in ``jax.custom_batching.custom_vmap``: under ``vmap``
over seeds, a step is **one** call carrying the actions of every seed ``[S, N, ...]``; the host
steps one gymnasium vector env of ``S x N`` copies (seed ``s`` owns copies ``s*N .. s*N+N-1``) and
hands back observations ``[S, N, ...]`` (a run of one seed is not vmapped: its calls carry
``S = 1``). So the policy runs once per step for all seeds (vmapped, inside the compiled rollout),
and the update is the same vmapped, jitted update the JAX envs use: the algorithm code does not know
which backend it runs on.

Each seed's copies are seeded from that seed's own JAX key (``SeedSequence([seed_s, copy])``), so
two seeds never see the same episodes. The gymnasium vector env auto-resets in the *same* step
(``AutoresetMode.SAME_STEP``); the observation an episode ended on is ``info["final_obs"]``;
``terminated`` and ``truncated`` stay apart.

Evaluation envs (``SeedBatchedEnv.make_eval``, stepped by ``rl_zoo.host.evaluation`` in a host loop)
are separate copies; each follows its first episode only, and a copy whose episode has ended is not
stepped again, so evaluation costs the env steps of its episodes (counted, ``SeedBatchedEnv.steps``).

The gymnasium objects live on the host: a checkpoint cannot hold them. A resumed run restarts them
with fresh episodes (``rl_zoo.host.runner``): exact for the learner, not for the envs.
"""

from __future__ import annotations

import contextlib
import functools
from dataclasses import dataclass, field
from typing import Any, Callable

import jax
import jax.numpy as jnp
import numpy as np

from envs import spaces
from envs.gymnasium_adapter import GymnasiumEnv, HostEnvError, _make  # noqa: F401  (HostEnvError: imported from here)
from rl_zoo import interrupt
from rl_zoo.host.calls import NonFiniteAction, batched_call
from rl_zoo.host.workers import (EnvWorkerDied, dead_workers, death_text, kill_at_exit, made_in_workers,
                                  orphan_quiet_worker, start_forkserver_ignoring_stops, subprocess_start_method, terminate,
                                  worker_errors_unprinted, worker_make)

#: the host vector envs ``SeedBatchedEnv`` can use for training (``--vector-env``)
VECTOR_ENVS = ("sync", "async")
#: ``sync`` measured faster on 2 busy cores (benchmarks/results/gymnasium/vector_env.md): the default
DEFAULT_VECTOR_ENV = "sync"
#: evaluation env copies per seed at once: more episodes are played in waves of this many (a Humanoid-v5
#: copy holds about 1.3 MiB: 16 seeds x 1,000 episodes at once would be about 21 GiB)
EVAL_WAVE = 64


def copy_seeds(seeds: np.ndarray, copies: int, first: int = 0) -> list[int]:
    """Gymnasium seeds of ``copies`` env copies for each of ``seeds`` ([S] ints): copy ``i`` of seed ``s``
    gets ``SeedSequence([seeds[s], i])``'s first word, so no two seeds' copies share a stream; ``first``
    numbers the copies from there (an evaluation's later wave of episodes)."""
    return [int(np.random.SeedSequence([int(s) & 0xFFFFFFFF, i]).generate_state(1)[0])
            for s in np.ravel(seeds) for i in range(first, first + copies)]


def _made(env_id: str, make: Callable[[], Any]):
    """``make()``, which makes an env's copies in this process: the env's exception as ``HostEnvError`` (one line
    and its traceback, as one raised in a step), not a bare traceback (a device or licence a later copy cannot get)."""
    import traceback

    try:
        return make()
    except Exception as e:
        raise HostEnvError(f"{env_id}: making its copies raised {type(e).__name__}: {e}", "".join(traceback.format_exception(e))) from e


@dataclass
class StepCounter:
    """Env steps a ``HostVecEnv`` has taken on the host (all seeds together)."""

    steps: int = 0


@dataclass
class _HostEnvs:
    """The gymnasium copies behind one ``HostVecEnv``: built at the first reset, once the number of
    seeds ``S`` is known (from the batch size the call arrives with), or before by
    ``SeedBatchedEnv.start``."""

    env_id: str
    copies: int  # per seed
    make_kwargs: dict
    vector: str
    evaluation: bool
    counter: StepCounter = field(default_factory=StepCounter)
    seeds: int | None = None
    venv: Any = None  # training: a gymnasium vector env of seeds * copies
    envs: list = field(default_factory=list)  # evaluation: plain gymnasium envs
    ended: np.ndarray | None = None  # evaluation: first episode over, per copy
    last_obs: np.ndarray | None = None

    def build(self, seeds: int) -> None:
        """The gymnasium copies for ``seeds`` seeds (kept if already built for as many)."""
        if self.seeds == seeds:
            return
        import gymnasium

        self.close()
        n = seeds * self.copies
        make_one = functools.partial(_make, self.env_id, **self.make_kwargs)
        if self.evaluation:
            self.envs = _made(self.env_id, lambda: [make_one() for _ in range(n)])
        elif self.vector == "async":
            # Subprocesses start from a fresh server process (forkserver), not as forks of this one: JAX
            # runs threads here, and forking a threaded process can deadlock the child (as SB3's
            # SubprocVecEnv does). Each gets gymnasium.make itself, not the adapter's wrapper (which
            # imports rl_zoo's envs and so JAX): 32 LunarLander copies start in about 2 s, not 11 s, on
            # 2 cores. A missing optional dependency was already reported here, when the spaces were read.
            method = subprocess_start_method()
            start = lambda failures: gymnasium.vector.AsyncVectorEnv(  # noqa: E731
                [functools.partial(worker_make, self.env_id, self.make_kwargs, failures)] * n, context=method,
                worker=orphan_quiet_worker, autoreset_mode=gymnasium.vector.AutoresetMode.SAME_STEP)
            try:
                with interrupt.deferred():  # a signal waits for the venv, which then closes whole
                    if method == "forkserver":
                        start_forkserver_ignoring_stops()
                    self.venv = made_in_workers(self.env_id, start)
                    kill_at_exit(self.venv.processes)
            except (EOFError, ConnectionError) as e:  # a subprocess died while starting
                raise RuntimeError(
                    f"--vector-env async: the {n} subprocesses of gymnasium's AsyncVectorEnv for {self.env_id} did not "
                    f"start ({type(e).__name__}: {e}; their own errors are printed above). They start by multiprocessing's "
                    f"{method!r} method, which imports the main script again: a script that "
                    f"trains with vector_env='async' must guard its entry point with `if __name__ == \"__main__\":`"
                ) from e
        else:
            self.venv = _made(self.env_id, lambda: gymnasium.vector.SyncVectorEnv(
                [make_one] * n, autoreset_mode=gymnasium.vector.AutoresetMode.SAME_STEP))
        self.seeds = seeds

    def reset(self, seeds: np.ndarray, first: int = 0, count: int | None = None) -> tuple[np.ndarray]:
        """Reset every copy, seed ``s``'s copies from ``seeds[s]``: ``(observations [S, N, ...],)``.

        Evaluation copies play episodes ``first .. first + N - 1`` of each seed (seeded as those copies of
        ``copy_seeds``); with ``count`` only the first ``count`` of them, the others ended from the start."""
        self.build(len(seeds))
        gym_seeds = copy_seeds(seeds, self.copies, first)
        if self.evaluation:  # in the space's dtype, as the vector env gives it: an int reset cut the later float steps
            obs = np.stack([env.reset(seed=s)[0] for env, s in zip(self.envs, gym_seeds)])
            obs = obs.astype(self.envs[0].observation_space.dtype or obs.dtype, copy=False)
            self.ended = np.tile(np.arange(self.copies) >= (self.copies if count is None else count), len(seeds))
        else:
            with worker_errors_unprinted(self.venv), self._worker_deaths_named("a reset"):
                obs, _ = self.venv.reset(seed=gym_seeds)
        self.last_obs = np.asarray(obs)
        self._finite("observation", obs, "after its reset")
        return (self._shape(obs),)

    def step(self, actions: np.ndarray):
        """Training step of every copy: ``(obs, reward, terminated, truncated, final_obs)``, each ``[S, N, ...]``."""
        self._check(actions)
        self._finite_actions(actions, self._after())
        with worker_errors_unprinted(self.venv), self._worker_deaths_named(f"a step, {self._after()}"):
            obs, reward, terminated, truncated, info = self.venv.step(self._flat(actions))
        final_obs = np.array(obs, copy=True)
        if "_final_obs" in info:
            for i in np.flatnonzero(info["_final_obs"]):
                final_obs[i] = info["final_obs"][i]
        self.counter.steps += len(reward)
        for name, x in (("observation", obs), ("reward", reward), ("final observation", final_obs)):
            self._finite(name, x, self._after())
        return tuple(self._shape(x) for x in (obs, reward, terminated, truncated, final_obs))

    def _after(self) -> str:
        """When a training step went wrong, in the words the run's progress uses (env steps per seed): the
        counter adds every seed's copies, and a resumed run's process starts it at 0 (it said "after 10,288 env
        steps" of a run at 5,100 per seed)."""
        return f"after {self.counter.steps // max(self.seeds or 1, 1):,} env steps per seed in this process"

    def step_first_episode(self, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Evaluation step: only the copies whose first episode is still running move; an ended copy
        holds its last observation and earns 0. Returns ``(obs, reward, ended)``, each ``[S, N, ...]``."""
        self._check(actions)
        self._finite_actions(actions, "in an evaluation")
        actions = self._flat(actions)
        reward = np.zeros(len(self.envs), np.float32)
        running = np.flatnonzero(~self.ended)
        for i in running:
            self.last_obs[i], reward[i], terminated, truncated, _ = self.envs[i].step(actions[i])
            self.ended[i] = terminated or truncated
        self.counter.steps += len(running)
        self._finite("observation", self.last_obs, "in an evaluation")
        self._finite("reward", reward, "in an evaluation")
        return self._shape(self.last_obs.copy()), self._shape(reward), self._shape(self.ended.copy())

    def _finite(self, name: str, x, when: str) -> None:
        """A ``ValueError`` naming the copy when a float ``x`` (one entry per copy) holds a NaN or an Inf, or a
        value beyond float32's range (the networks take float32): else the parameters would turn NaN and the
        run stop with no word of the env that started it."""
        x = np.asarray(x)
        if (i := _first_non_finite_row(x, np.float32)) is not None:
            raise ValueError(f"{self.env_id} returned a non-finite {name} {x[i].tolist()!r} {when} (seed index "
                             f"{i // self.copies}, copy {i % self.copies}): NaN, Inf or beyond float32's range, which the "
                             f"networks cannot take; fix the env or wrap it (gymnasium.wrappers.TransformObservation / "
                             f"TransformReward)")

    def _finite_actions(self, actions: np.ndarray, when: str) -> None:
        """``NonFiniteAction`` when the policy gives a copy a NaN or infinite action (``[S, N, ...]``): the
        learner diverged, and the env must not be stepped with it (its NaN reward would read as the env's fault)."""
        a = np.asarray(actions)
        if (s := _first_non_finite_row(a)) is not None:
            raise NonFiniteAction(f"the policy's action for {self.env_id} {when} is not finite (seed index {s}: "
                                  f"{a[s].ravel()[:4].tolist()!r}): the learner diverged, not the env", seed_index=s)

    def _check(self, actions: np.ndarray) -> None:
        if self.seeds is None:
            raise RuntimeError(f"{self.env_id}: the host envs were stepped before any reset (a resumed run resets them first)")
        if actions.shape[0] != self.seeds:
            raise RuntimeError(f"{self.env_id}: actions for {actions.shape[0]} seeds, but the host envs hold {self.seeds}; "
                               "a host env runs under at most one vmap (over seeds)")

    def _flat(self, actions: np.ndarray) -> np.ndarray:
        """One action per gymnasium copy: integers as int64; a Box action in the env's own dtype and clipped to its
        own bounds (the policy clips to them rounded to float32: a float64 bound 0.1 is 0.100000001 there)."""
        a = actions.reshape((-1,) + actions.shape[2:])
        if np.issubdtype(a.dtype, np.integer):
            return a.astype(np.int64)
        return spaces.to_gymnasium_action(a, self.venv.single_action_space if self.venv is not None else self.envs[0].action_space)

    def _shape(self, x) -> np.ndarray:
        x = np.asarray(x)
        return x.reshape((self.seeds, self.copies) + x.shape[1:])

    @contextlib.contextmanager
    def _worker_deaths_named(self, call: str):
        """An async worker that died in ``call`` (gymnasium raises a bare ``EOFError`` or ``ConnectionError`` from
        its pipe) as ``EnvWorkerDied`` naming its seed index, copy and signal or exit code."""
        try:
            yield
        except (EOFError, ConnectionError):
            if not (dead := dead_workers(self.venv, wait=1.0)):
                raise
            which = "; ".join(f"seed index {i // self.copies}, copy {i % self.copies}: {death_text(code)}" for i, code in dead[:3])
            which += f"; {len(dead) - 3} more" if len(dead) > 3 else ""
            who = "an async worker process" if len(dead) == 1 else f"{len(dead)} async worker processes"
            raise EnvWorkerDied(
                f"{who} of {self.env_id} died in {call} ({which}) with no Python exception: a crash in "
                "the env's native code (a segfault) or the out-of-memory killer. `--vector-env sync` runs the env in this "
                "process, where PYTHONFAULTHANDLER=1 shows where it crashes") from None

    def close(self) -> None:
        if self.venv is not None:
            if dead_workers(self.venv):  # a worker died mid-call: gymnasium's close would hang on, or re-read, its pipes
                terminate(self.venv)
            else:
                try:
                    self.venv.close()
                except (EOFError, OSError):  # an async worker died (its env raised) while a step was pending
                    terminate(self.venv)  # not gymnasium's close(terminate=True): its SIGTERM, the workers ignore
        for env in self.envs:
            env.close()
        self.venv, self.envs, self.seeds = None, [], None


class HostVecEnv:
    """``num_envs`` gymnasium copies per seed behind the pure ``VecEnv`` interface (``is_jax = True``:
    it runs inside ``lax.scan``, ``jit`` and ``vmap``; the env steps themselves are host calls)."""

    is_jax = True

    def __init__(self, host: _HostEnvs, observation_space, action_space):
        self._host = host
        self.num_envs = host.copies
        self.observation_space, self.action_space = observation_space, action_space
        obs = jax.ShapeDtypeStruct((host.copies, *observation_space.shape), observation_space.dtype)
        flag = jax.ShapeDtypeStruct((host.copies,), jnp.bool_)
        reward = jax.ShapeDtypeStruct((host.copies,), jnp.float32)
        token = jax.ShapeDtypeStruct((host.copies,), jnp.int32)
        self._reset = batched_call(lambda seeds: (*host.reset(seeds), np.zeros(seeds.shape + (host.copies,))),
                                    (obs, token), self._cast)
        self._step = batched_call(lambda actions, token: (*host.step(actions), token),
                                   (obs, reward, flag, flag, obs, token), self._cast)

    @property
    def counter(self) -> StepCounter:
        return self._host.counter

    def _cast(self, outputs, shapes):
        return tuple(np.asarray(x, s.dtype) for x, s in zip(outputs, shapes))

    def reset(self, key: jax.Array):
        """The state is on the host; the one returned (zeros, one per copy) is a token that each step
        takes in and hands back, so that XLA runs the reset and the steps in order even where an action
        does not depend on the observation (a random or scripted policy)."""
        return self._reset(jax.random.randint(key, (), 0, 2**31 - 1, dtype=jnp.int32))  # int32: the same seed under x64

    def step(self, key: jax.Array, state, action: jax.Array):
        obs, reward, terminated, truncated, final_obs, token = self._step(action, state)
        return obs, token, reward, terminated, truncated, {"final_obs": final_obs}

    def close(self) -> None:
        self._host.close()


def _first_non_finite_row(x: np.ndarray, as_dtype=None) -> int | None:
    """The first index along ``x``'s leading axis whose entries are not all finite (NaN, Inf, or, cast to
    ``as_dtype``, beyond its range); None for a float array without one, or one of integers."""
    if not np.issubdtype(x.dtype, np.floating):
        return None
    with np.errstate(over="ignore"):
        bad = ~np.isfinite(x if as_dtype is None else x.astype(as_dtype)).reshape(len(x), -1).all(axis=1)
    return int(np.flatnonzero(bad)[0]) if bad.any() else None


class SeedBatchedEnv:
    """A gymnasium id as an env the driver vmaps over seeds (see the module docstring).

    ``vector`` picks the training vector env: ``"sync"`` (gymnasium's ``SyncVectorEnv``, one process)
    or ``"async"`` (``AsyncVectorEnv``, one subprocess per copy, started by ``subprocess_start_method``;
    pays off with many cores or slow envs).
    """

    backend = "gymnasium"

    def __init__(self, env: GymnasiumEnv, vector: str = DEFAULT_VECTOR_ENV):
        if vector not in VECTOR_ENVS:
            raise ValueError(f"vector env {vector!r} is not one of {', '.join(VECTOR_ENVS)} (--vector-env)")
        self.gym_env, self.vector, self.id = env, vector, env.id
        self._venvs: list[HostVecEnv] = []
        self._evals: list[_HostEnvs] = []

    @property
    def default_params(self):
        return self.gym_env.default_params

    def observation_space(self, params=None) -> spaces.Space:
        return self.gym_env.observation_space(params)

    def action_space(self, params=None) -> spaces.Space:
        return self.gym_env.action_space(params)

    @property
    def gymnasium_action_space(self):
        return self.gym_env.gymnasium_action_space

    @property
    def num_actions(self) -> int:
        return self.gym_env.num_actions

    def make_vec(self, num_envs: int, params=None) -> HostVecEnv:
        """The training envs: ``num_envs`` copies per seed (what the algorithm's ``make_agent`` asks for)."""
        venv = HostVecEnv(self._host(num_envs, params, evaluation=False), self.observation_space(params), self.action_space(params))
        self._venvs.append(venv)
        return venv

    @property
    def training_envs(self) -> HostVecEnv:
        """The training envs the algorithm made (the last ``make_vec``)."""
        if not self._venvs:
            raise RuntimeError(f"{self.id}: no training envs yet (make_agent makes them)")
        return self._venvs[-1]

    def start(self, seeds: int) -> None:
        """Build the training envs for ``seeds`` seeds now, in plain Python: otherwise the first reset,
        inside the compiled program, builds them, and a failure (subprocesses that cannot start)
        would surface wrapped in a JAX runtime error."""
        for venv in self._venvs:
            venv._host.build(seeds)

    def make_eval(self, num_episodes: int, params=None) -> _HostEnvs:
        """Evaluation envs: ``num_episodes`` copies per seed, at most ``EVAL_WAVE`` (more episodes are
        played in waves of them), each following its first episode only (``rl_zoo.host.evaluation``)."""
        host = self._host(min(int(num_episodes), EVAL_WAVE), params, evaluation=True)
        self._evals.append(host)
        return host

    def _host(self, copies: int, params, evaluation: bool) -> _HostEnvs:
        params = self.default_params if params is None else params
        limit = int(params.max_steps_in_episode)
        kwargs = dict(self.gym_env.make_kwargs, max_episode_steps=limit)  # NO_TIME_LIMIT too: it never binds
        return _HostEnvs(self.id, int(copies), kwargs, self.vector, evaluation=evaluation)

    def steps(self, evaluation: bool) -> int:
        """Env steps taken so far by the training envs (``evaluation=False``) or by the evaluation envs."""
        hosts = self._evals if evaluation else [v._host for v in self._venvs]
        return sum(h.counter.steps for h in hosts)

    def close(self) -> None:
        for v in self._venvs:
            v.close()
        for h in self._evals:
            h.close()

    def __repr__(self) -> str:
        return f"SeedBatchedEnv({self.id!r}, vector={self.vector!r})"


def jittable(env):
    """``env`` as ``make_train``'s ``jax.jit`` / ``jax.vmap`` can take it: a gymnasium adapter env (``envs.make``
    of an id without a JAX port, or ``backend="gymnasium"``) as a ``SeedBatchedEnv``, whose steps are host
    callbacks (the adapter's own vector env steps in a Python loop, which no trace can run); anything else as
    it is."""
    return SeedBatchedEnv(env) if isinstance(env, GymnasiumEnv) else env
