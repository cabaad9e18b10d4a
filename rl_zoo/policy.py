"""``rl_zoo.load(run_dir)`` (``rl_zoo.policy.load``): the greedy policy of a trained run, as a function of observations.

    policy = rl_zoo.load("runs/ppo-CartPole-v1-20260101-120000")
    action = policy(obs)              # one observation or a batch; numpy in, numpy out; JAX in, JAX out

Everything comes from the run directory: the algorithm, the env and the resolved config from
``config.json`` (nothing is typed again), the learner's state from a checkpoint (the newest intact
one, or ``checkpoint=``). The state's pytree is rebuilt by the algorithm's own ``make_agent(...).init`` and the
saved arrays are checked against it (``rl_zoo.checkpoint.restore``). The policy is the algorithm's
greedy ``Agent.act`` (the mode of the policy, or argmax Q) with the observation normalisation
statistics of training frozen, and the action clipped into a continuous action space as the driver's
evaluation sends it to the env.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any, Callable

import jax
import jax.numpy as jnp
import numpy as np

from envs.spaces import Discrete, to_gymnasium_action
from rl_zoo import checkpoint as ckpt
from rl_zoo import lock


def read_run(run_dir: str | Path):
    """The ``RunSpec`` of a run directory (``rl_zoo.driver.read_spec``); a folder that is not a run
    directory gets an error saying so. A damaged ``config.json`` is a ``RunFileError`` naming it."""
    import os

    from rl_zoo.driver import read_spec
    from rl_zoo.runs import folder_kind

    if not isinstance(run_dir, (str, os.PathLike)):
        raise TypeError(f"run_dir must be a path (a str or pathlib.Path) of a run directory, got {run_dir!r}")
    if not os.fspath(run_dir):  # Path("") is ".": the message named the current folder
        raise FileNotFoundError(f"the run directory given is empty ({os.fspath(run_dir)!r}); expected a run directory "
                                "written by `rl-zoo train`")
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise FileNotFoundError(f"{str(run_dir)!r} is not a folder; expected a run directory written by `rl-zoo train`")
    if not (run_dir / "config.json").is_file():
        if folder_kind(run_dir) == "sweep":
            raise FileNotFoundError(
                f"{str(run_dir)!r} is a sweep folder (`rl-zoo sweep`): it keeps returns, not trained agents; train its "
                f"best config (best.yaml, as `rl-zoo train --set` pairs) and load that run directory")
        if where := _benchmark_runs(run_dir):
            raise FileNotFoundError(f"{str(run_dir)!r} is {where}")
        raise FileNotFoundError(
            f"{str(run_dir)!r} is not a run directory: it has no config.json (a run directory is the folder "
            "`rl-zoo train` prints at the end, e.g. runs/ppo-CartPole-v1-<time>/)"
        )
    return read_spec(run_dir)


def _benchmark_runs(folder: Path) -> str | None:
    """What a benchmark folder, or one of its cells' folders, is and where its run directories are (``None`` for
    another folder): a cell's is ``cells/<cell>/run``."""
    from rl_zoo.runs import folder_kind

    if (folder / "cell.json").is_file() and (folder / "run" / "config.json").is_file():
        return f"a benchmark cell's folder: its run directory is {str(folder / 'run')!r}"
    if folder_kind(folder) != "benchmark":
        return None
    cells = sorted(p.parent for p in (folder / "cells").glob("*/run/config.json"))
    example = f", e.g. {str(cells[0])!r}" if cells else " (none has trained yet)"
    return f"a benchmark folder (`rl-zoo benchmark`): each cell's run directory is cells/<cell>/run{example}"


def find_checkpoint(run_dir: Path, checkpoint: str | Path | None, backend: str = "jax",
                    log: Callable[[str], Any] | None = None) -> Path:
    """The checkpoint file to load: ``checkpoint`` (a path, taken as given; or a bare file name inside
    ``run_dir/checkpoints``) or, by default, the newest intact one (``newest_intact``: damaged newer ones
    are skipped and ``log`` says which and why); a run without any gets an error saying why and what to do."""
    if checkpoint is not None:
        if not isinstance(checkpoint, (str, os.PathLike)):  # checkpoint=78: a bare "expected str, bytes or os.PathLike"
            raise ValueError(f"checkpoint = {checkpoint!r} is invalid: give a checkpoint file's name (ckpt_000000078.msgpack) "
                             f"or path, as a str or a pathlib.Path")
        given = Path(checkpoint)
        # a bare file name is the run's own checkpoint first: a file of that name in the current folder (another
        # run's, an older copy) was loaded in its place, with nothing said. A name with a folder in it ("./NAME" too,
        # which Path shortens to NAME) is a path, taken as given.
        text = os.fspath(checkpoint)
        bare = os.sep not in text and (os.altsep is None or os.altsep not in text)
        if bare and (run_dir / "checkpoints" / given.name).is_file():
            return run_dir / "checkpoints" / given.name
        if given.is_file():
            check_same_run(run_dir, given)
            return given
        found = ", ".join(p.name for p in ckpt.list_checkpoints(run_dir)) or "none"
        raise FileNotFoundError(f"checkpoint {str(checkpoint)!r} not found (checkpoints of {run_dir}: {found})")
    path = newest_intact(run_dir, log)
    if path is None and (run_dir / "summary.json").is_file():
        raise FileNotFoundError(
            f"run {str(run_dir)!r} finished (summary.json) but keeps no checkpoints (checkpoints/ckpt_*.msgpack): they "
            "were removed, as `rl-zoo benchmark` does for a finished cell (unless run with --record-video, which keeps "
            "the last)" + (", or never written (gymnasium-adapter runs of older rl_zoo versions)" if backend != "jax" else
                          ", or never written (a multi-host run writes none)")
            + f". To watch or load this policy, train its config again (into a new folder): {_retrain_text(run_dir)}"
        )
    if path is None and (pid := lock.holder(run_dir)) is not None:
        raise FileNotFoundError(
            f"run {str(run_dir)!r} is still training ({f'process {pid}' if pid else 'another process'} holds it) and has "
            "written no checkpoint yet: the driver writes one after every segment of training; load it after the first")
    if path is None and (run_dir / "metrics.host0.csv").is_file():  # its hosts' own tables: a multi-host run
        raise FileNotFoundError(
            f"run {str(run_dir)!r} is a multi-host run, which writes no checkpoints: there is no policy to load. To watch "
            f"or load its policy, train its config again in one process (into a new folder): {_retrain_text(run_dir)}")
    if path is None:  # the same reasons on gymnasium-adapter envs, whose runs this driver checkpoints too
        older = (" (or an rl_zoo older than its adapter's checkpoints trained it: train such a run again)"
                 if backend != "jax" else "")
        raise FileNotFoundError(
            f"run {str(run_dir)!r} has no checkpoints (checkpoints/ckpt_*.msgpack): the driver writes one after every "
            "segment of training, so the run stopped before its first segment ended (killed, or stopped by the NaN "
            f"guard: exit 3, 'non-finite value ...') or its checkpoints were deleted{older}. Continue a killed run with "
            f"`rl-zoo train --resume {run_dir}` (from Python, `train(resume=...)`); train one that stopped on a "
            "non-finite value again with a smaller learning rate (a resume would repeat the same updates)."
        )
    return path


def retrain_command(run) -> str:
    """The ``rl-zoo train`` command that trains a run's config again (``run``: a ``RunSpec``): its seeds,
    budget and evaluations (each where it differs from the default: the env's own episode count,
    ``envs.registry.default_eval_episodes``), the env's options (``--env-kwargs``), and a ``--set`` for each
    field whose value is not what the algorithm and env resolve to now (defaults, presets, tuned hyperparameters)."""
    import dataclasses
    import shlex

    import envs
    from rl_zoo.driver.spec import RunSpec, resolve_config
    from rl_zoo.runs import env_kwargs_args

    _, now = resolve_config(run.algo, run.env_id)
    argv = ["rl-zoo", "train", "--algo", run.algo, "--env", run.env_id, "--seeds", str(run.seeds), "--seed", str(run.seed),
            "--total-steps", str(run.config.total_timesteps)]
    if run.num_evals != RunSpec.num_evals:
        argv += ["--evals", str(run.num_evals)]
    if run.eval_episodes != envs.registry.default_eval_episodes(run.env_id, run.backend):
        argv += ["--eval-episodes", str(run.eval_episodes)]
    if run.backend == "gymnasium" and run.env_id in envs.registry.list():  # a port exists: the adapter was asked for
        argv += ["--backend", "gymnasium"]
    for field in dataclasses.fields(run.config):
        value = getattr(run.config, field.name)
        if field.name != "total_timesteps" and value != getattr(now, field.name):
            argv += ["--set", f"{field.name}={value}"]
    return shlex.join(argv) + env_kwargs_args(run.env_kwargs)


def _retrain_text(run_dir: Path) -> str:
    """`retrain_command` of the run in ``run_dir``, or where to read it from when its config.json cannot say."""
    from rl_zoo.driver.spec import read_spec

    try:
        return f"`{retrain_command(read_spec(run_dir))}`."
    except ValueError:  # a config.json this version cannot resolve: the user reads it
        return "`rl-zoo train` with the algorithm, env, seed and `--set` values of its config.json."


def newest_intact(run_dir: Path, log: Callable[[str], Any] | None = None) -> Path | None:
    """The newest checkpoint of ``run_dir`` that reads back intact (as ``rl-zoo train --resume`` chooses
    it: ``rl_zoo.driver.resume.choose_checkpoint``), ``None`` if it has none; each damaged newer one is
    reported through ``log`` (default: a line on stderr), nothing is renamed. Every checkpoint damaged:
    ``CheckpointDamaged`` listing them."""
    from rl_zoo.driver.resume import CheckpointsDamaged, choose_checkpoint

    try:
        choice = choose_checkpoint(run_dir)
    except CheckpointsDamaged as e:  # its reasons, as choose_checkpoint found them (no file is read again)
        reasons = "; ".join(f"{p.name}: {why}" for p, why in reversed(e.damaged))
        folder = run_dir / "checkpoints"
        raise ckpt.CheckpointDamaged(folder, reasons, f"every checkpoint in {folder} is damaged ({reasons}); there is no "
                                     "policy to load: train a new run with the settings its config.json records") from None
    if choice.point is None:
        return None
    log = log or (lambda line: print(line, file=sys.stderr))
    for path, why in choice.damaged:
        log(f"checkpoint {path} is damaged ({why}): loading {choice.point.path.name}, the newest intact one")
    return choice.point.path


def check_same_run(run_dir: Path, path: Path) -> None:
    """A checkpoint file inside another run directory (``OTHER/checkpoints/...``) is refused unless that
    run has this run's algorithm, env and config: its arrays could have the same shapes (PPO and PPO-KL,
    DQN and Double DQN, another learning rate) and load without complaint as weights they are not."""
    owner = path.resolve().parent.parent
    if path.resolve().parent.name != "checkpoints" or owner == run_dir.resolve() or not (owner / "config.json").is_file():
        return
    mine, theirs = read_run(run_dir), read_run(owner)
    differ = [name for name, a, b in (("algorithm", mine.algo, theirs.algo), ("env", mine.env_id, theirs.env_id),
                                      ("config", mine.config, theirs.config)) if a != b]
    if differ:
        raise ValueError(f"checkpoint {str(path)!r} belongs to the run {str(owner)!r} ({theirs.algo} on {theirs.env_id}), "
                         f"whose {' and '.join(differ)} {'differs' if len(differ) == 1 else 'differ'} from this run's ({mine.algo} on {mine.env_id}): "
                         f"load it with its own run, e.g. `rl-zoo enjoy {owner} --checkpoint {path.name}`")


def state_template(agent, run):
    """The structure of the run's state, every seed stacked on a leading axis as the driver saves it:
    only structure, shapes, dtypes and key types matter (``checkpoint.restore`` fills in the values).

    ``init`` is only traced (``jax.eval_shape``), not compiled or run, for JAX ports and for the
    driver's seed-batched gymnasium envs alike (their env steps are callbacks, which tracing does not
    call): placeholders of the right shape stand in for the arrays."""
    seeds = np.arange(run.seed, run.seed + run.seeds)
    init = jax.vmap(lambda s: agent.init(jax.random.key(s)))
    shapes = jax.eval_shape(init, jnp.asarray(seeds))
    default_key = jax.random.key(0)
    is_key = [jax.dtypes.issubdtype(x.dtype, jax.dtypes.prng_key) for x in jax.tree.leaves(shapes)]
    if any(k and x.dtype != default_key.dtype for k, x in zip(is_key, jax.tree.leaves(shapes))):
        return jax.jit(init)(jnp.asarray(seeds))  # keys of another implementation: make real ones

    def placeholder(x):
        if x.dtype == default_key.dtype:
            return jax.random.split(default_key, x.shape) if x.shape else default_key
        return np.zeros(x.shape, x.dtype)

    return jax.tree.map(placeholder, shapes)


def greedy_policy(agent, action_space, clip: bool = True):
    """``greedy(state, obs) -> action`` for one observation: the algorithm's greedy ``act`` (frozen
    normalisation statistics included), its action clipped into a continuous action space as the
    driver's evaluation sends it to the env (``clip=False``: the raw mode). A discrete action is the
    env's either way (``start + index`` for a ``Discrete(n, start)``). Pure and jittable."""
    from rl_zoo.core.rollout import env_action

    return lambda state, obs: env_action(agent.act(state, obs), action_space, clip)


def seed_state(states, index: int):
    """One seed's state out of a run's final or restored state: every leaf's leading (seed) axis
    indexed, or the ``index``-th entry of a list of per-seed states (the host runner's)."""
    if isinstance(states, list):
        return states[index]
    return jax.tree.map(lambda x: x[index], states)


def check_discrete(obs, space: Discrete, env_id: str) -> None:
    """Refuse observations of a ``Discrete`` space that are not whole numbers in ``{start, ..., start + n - 1}``
    (cast to int, 3.7 would become state 3; a state out of range would index past the policy's table or
    one-hot encoding), and a float one-hot vector of length n (the network's input, not the env's
    observation: it read as a batch of n states): ``ValueError`` naming the valid range and the first bad value."""
    x = np.asarray(obs)
    if x.dtype == bool or not (np.issubdtype(x.dtype, np.integer) or np.issubdtype(x.dtype, np.floating)):
        raise ValueError(f"{env_id} observations are integers {space.start} to {space.start + space.n - 1}; got {x.dtype} values")
    low, high = space.start, space.start + space.n - 1
    if (np.issubdtype(x.dtype, np.floating) and x.ndim >= 1 and x.shape[-1] == space.n and space.n > 2
            and np.isin(x, (0.0, 1.0)).all() and (x.sum(axis=-1) == 1).all()):  # read as a batch of n states 0 and 1
        raise ValueError(f"{env_id} observations are state indices {low} to {high}; got a one-hot vector of length "
                         f"{space.n} (shape {x.shape}): pass the index instead (np.argmax(obs, axis=-1)"
                         f"{f' + {low}' if low else ''}); if these are {space.n} state indices, pass them as integers")
    bad = ~((x >= low) & (x <= high) & (x == np.round(x)))
    if np.any(bad):
        first = x[bad].flat[0] if x.ndim else x
        raise ValueError(f"{env_id} observations are integers {low} to {high} (its Discrete({space.n}) states); "
                         f"got {first.item()!r}" + (f" among {x.size} values" if x.size > 1 else ""))


class NotARunSeed(ValueError):
    """``load(seed=...)`` of a seed the run did not train (the message names the run's seeds)."""


class Policy:
    """The greedy policy of one seed of a trained run: ``policy(obs) -> action``.

    ``obs`` is one observation (the observation space's shape) or a batch of them (one more leading
    axis). A numpy array (or a list, or a Python number) gives a numpy action (for a gymnasium env, in its action
    space's own dtype and bounds, as training steps it); a JAX array gives a JAX array. Attributes: ``algo``,
    ``env_id``, ``env`` and ``env_params`` (the run's env: ``envs.make`` for a JAX port; for a gymnasium-backend
    run the driver's host-backed env, which ``rl-zoo enjoy`` steps: to step one yourself,
    ``gymnasium.make(env_id)``), ``env_kwargs`` (the options ``env`` was made with: the run's, or those `load` was
    given), ``config``, ``state`` (the learner's state of this seed), ``seed``, ``checkpoint`` (the file loaded).
    """

    def __init__(self, run, agent, state, seed: int, checkpoint: Path, env, env_params, clip: bool = True,
                 env_kwargs: dict | None = None):
        self.run, self.algo, self.env_id, self.config = run, run.algo, run.env_id, run.config
        #: the options ``env`` was made with: the run's (``run.env_kwargs``), or others it plays on (`load`'s ``env_kwargs``)
        self.env_kwargs = dict(run.env_kwargs) if env_kwargs is None else env_kwargs
        self.env, self.env_params, self.state, self.seed, self.checkpoint = env, env_params, state, seed, checkpoint
        self.observation_space, self.action_space = env.observation_space(env_params), env.action_space(env_params)
        #: ``greedy(state, obs) -> action`` for one observation: pure and jittable (``rl_zoo.enjoy`` scans it)
        self.greedy = greedy_policy(agent, self.action_space, clip)
        self._act = jax.jit(jax.vmap(self.greedy, in_axes=(None, 0)))  # [B, *obs_shape] -> [B, *act_shape]
        # a gymnasium env's own action space: a numpy action is given in its dtype and bounds, as training steps it
        # (a float64 bound 0.1 is 0.100000001 in float32, and the env refused the action)
        self._gym_action_space = getattr(env, "gymnasium_action_space", None) if clip else None

    def __call__(self, obs):
        is_jax = isinstance(obs, jax.Array)
        if isinstance(self.observation_space, Discrete) and not isinstance(obs, jax.core.Tracer):
            check_discrete(obs, self.observation_space, self.env_id)
        x = jnp.asarray(obs, dtype=self.observation_space.dtype)
        shape = tuple(self.observation_space.shape)
        if x.shape[x.ndim - len(shape):] != shape or x.ndim not in (len(shape), len(shape) + 1):
            raise ValueError(
                f"{self.env_id} observations have shape {shape} (a batch: (B, {', '.join(map(str, shape))})); got shape {x.shape}"
            )
        single = x.ndim == len(shape)
        action = self._act(self.state, x[None] if single else x)
        action = action[0] if single else action
        if is_jax:
            return action
        return np.asarray(action) if self._gym_action_space is None else to_gymnasium_action(np.asarray(action), self._gym_action_space)

    def __repr__(self) -> str:
        return f"Policy({self.algo} on {self.env_id}, seed {self.seed}, {self.checkpoint})"


def check_seeds(meta: dict, run, path: Path) -> None:
    """Refuse a checkpoint whose progress record names other seeds than the run's (config.json's ``seed``
    edited, or another run's checkpoint): its states would be reported as seeds they are not. Checkpoints
    written before the seeds were recorded pass."""
    from rl_zoo.driver.runner import seeds_mismatch

    if why := seeds_mismatch(meta.get("seeds"), run.seed_ids):
        raise ValueError(f"checkpoint {path} does not fit this run: {why} (config.json's seed or seeds were changed "
                         f"after it was written, or it belongs to another run)")


#: what a checkpoint's record holds besides what it trains: a checkpoint of another run directory may differ there
SCHEDULE_KEYS = ("seeds", "seed", "num_evals", "eval_episodes")


def recorded_run_mismatch(run, recorded: str | None, own: bool = True) -> str | None:
    """Why a checkpoint recording ``recorded`` (``RunSpec.trajectory_record``, in its meta since the record
    was added) is not ``run``'s, or ``None`` when they agree or the checkpoint predates the record: written
    by another algorithm or env, or, for one of the run's ``own`` checkpoints, config.json edited since. A
    checkpoint of another run directory (``own=False``) need only share the algorithm, env, backend and
    config: its seeds are checked on their own (``check_seeds``), its evaluation schedule is its run's."""
    from rl_zoo.driver.spec import other_run_words, trajectory_mismatch

    if recorded is None:
        return None
    if why := other_run_words(recorded, run):
        return f"{why}: load it with the run directory that wrote it"
    if own:
        return trajectory_mismatch(recorded, run)
    return trajectory_mismatch(recorded, run, ignore=SCHEDULE_KEYS, lead="it was written by a run with other settings",
                               where="here")


def spaces_words(run, env, env_params) -> str:
    """Why a checkpoint that records ``run``'s own settings does not fit the state ``env`` makes: the env's spaces are
    not the ones it trained on (a custom env's code changed: "array 3 has shape (2, 1, 64), expected (2, 2, 64)" said
    no more)."""
    return (f"this checkpoint records this run's own settings, so {run.env_id} itself is likely not the env it trained on: "
            f"its observation space is now {env.observation_space(env_params)} and its action space "
            f"{env.action_space(env_params)} (an env's code changed since the run trained gives its networks other shapes)")


def check_recorded_run(path: Path, run, recorded: str | None, own: bool = True) -> None:
    """Refuse a checkpoint that records another run than ``run``'s config.json (``recorded_run_mismatch``).
    Arrays of the same shapes load without complaint (PPO and PPO-KL; another activation or
    ``normalize_obs``) and the policy would silently not be the one trained, so any difference is refused,
    as ``rl-zoo train --resume`` refuses it."""
    if why := recorded_run_mismatch(run, recorded, own):
        raise ValueError(f"checkpoint {path} does not fit this run: {why}; a checkpoint loads only with the config.json of "
                         f"the run that wrote it (with another network, normalisation or algorithm its weights would not "
                         f"act as the policy trained)")


#: times ``load`` takes the newest checkpoint again when the one it chose was removed before it was read
LOAD_TRIES = 5


def load(run_dir: str | Path, checkpoint: str | Path | None = None, seed: int | None = None, clip: bool = True,
         env_kwargs: dict | None = None) -> Policy:
    """The greedy policy of a run directory written by ``rl-zoo train``.

    ``checkpoint``: a file name in ``run_dir/checkpoints``, or a path (a file inside another run
    directory only if that run has this one's algorithm, env and config); default: the run's newest
    intact one (damaged newer ones are named on stderr and skipped, as ``rl-zoo train --resume`` skips
    them; a damaged ``checkpoint`` given explicitly is refused). ``seed``: which of the run's seeds
    (default: its first). ``clip=False`` returns the policy's raw mode for continuous actions instead
    of the action clipped into the action space. ``env_kwargs``: play on the env made with these options
    on top of the run's (``{"length": 1.0}``: a longer pole than it trained on); an env whose observation or
    action space is not the trained one's in kind and shape is refused (``ConfigError``). Raises
    ``FileNotFoundError`` / ``ValueError`` with the reason (not a run directory, no checkpoint, a damaged
    checkpoint, a checkpoint of other seeds, an unknown seed).
    """
    import numbers

    from rl_zoo.config import check_bools, python_scalar

    check_bools({"clip": clip})  # clip="no" clipped
    seed = python_scalar(seed)  # a numpy or JAX integer scalar as the int it holds
    run = read_run(run_dir)
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, numbers.Real) or not float(seed).is_integer()):
        raise ValueError(f"seed must be a whole number, got {seed!r}")  # "1" was taken for 1
    seed = run.seed if seed is None else int(seed)
    if not run.seed <= seed < run.seed + run.seeds:
        raise NotARunSeed(f"seed {seed} is not one of this run's seeds ({run.seed} to {run.seed + run.seeds - 1})")
    path = find_checkpoint(Path(run_dir), checkpoint, run.backend)
    env, env_params = run.make_env()
    played = other_env(run, env, env_params, env_kwargs) if env_kwargs else None  # refused before anything loads
    agent = run.module.make_agent(run.config, env, env_params)
    for _ in range(LOAD_TRIES):
        own = path.resolve().parent == (Path(run_dir) / "checkpoints").resolve()  # else a file of another run directory
        try:
            states, meta = ckpt.restore(path, state_template(agent, run), leading="seeds")
            break
        except ckpt.CheckpointGone:  # pruned by the run still training since it was chosen: the newest again
            if checkpoint is not None:
                raise
            path = find_checkpoint(Path(run_dir), None, run.backend)
        except ValueError as e:  # shapes that do not fit: say which run wrote it or which field changed, when it knows
            recorded = ckpt.read(path)[1].get("spec")
            why = recorded_run_mismatch(run, recorded, own) or (
                isinstance(e, ckpt.ShapeMismatch) and own and recorded is not None and spaces_words(run, env, env_params))
            raise ValueError(f"{e} ({why})" if why else str(e)) from None
    else:
        raise FileNotFoundError(f"run {str(run_dir)!r} removed each checkpoint chosen before it could be read ({LOAD_TRIES} "
                                f"times): it is still training, pruning them (keep_checkpoints); load it again")
    check_seeds(meta, run, path)
    check_recorded_run(path, run, meta.get("spec"), own)
    state = seed_state(states, seed - run.seed)
    options, env, env_params = played if played is not None else (None, env, env_params)  # None: the run's options
    return Policy(run, agent, state, seed, path, env, env_params, clip, options)


def other_env(run, env, env_params, env_kwargs: dict) -> tuple[dict, Any, Any]:
    """``(options, env, env_params)``: the env of ``run`` made with ``env_kwargs`` on top of its own options, for
    its policy to play; ``ConfigError`` where the env refuses them (in its words) or where its spaces are not the
    trained env's in kind and shape (the network could not read its observations or give its actions). Box
    bounds may differ: a continuous action is clipped into the played env's."""
    from rl_zoo.config import ConfigError, check_env_kwargs
    from rl_zoo.runs import env_kwargs_args

    from envs.options import replaced_options

    given = check_env_kwargs(env_kwargs, "--env-kwargs")
    dropped = replaced_options(run.env_id, given)  # map_name given: the run's drawn desc goes
    options = {**{k: v for k, v in run.env_kwargs.items() if k not in dropped}, **given}
    try:
        played, played_params = run.replace(env_kwargs=options).make_env()  # refused options: ConfigError naming them
    except ConfigError as e:  # it names the options made with, the run's own among them: say which were given here
        combined, kept = env_kwargs_args(options).strip(), {k: v for k, v in options.items() if k not in given}
        if not kept or not str(e).startswith(combined):
            raise
        own = env_kwargs_args(kept).removeprefix(" --env-kwargs ")
        raise ConfigError(f"{env_kwargs_args(env_kwargs).strip()} (on the run's own {own})"
                          f"{str(e).removeprefix(combined)}") from None
    for what, trained, now in (("observation", env.observation_space(env_params), played.observation_space(played_params)),
                               ("action", env.action_space(env_params), played.action_space(played_params))):
        if _space_kind(trained) != _space_kind(now):
            raise ConfigError(f"{env_kwargs_args(env_kwargs).strip()}: the {what} space becomes {now}, where the policy was "
                              f"trained on {trained}: it cannot play that env")
    return options, played, played_params


def _space_kind(space) -> tuple:
    """A space's type, shape, dtype and (Discrete) size and start: what a policy's network is built for."""
    return (type(space).__name__, tuple(space.shape), str(np.dtype(space.dtype)), getattr(space, "n", None),
            getattr(space, "start", None))
