"""What a run is: one frozen ``RunSpec``, resolved and validated before anything compiles.

The spec is exactly what ``config.json`` stores and what ``rl-zoo train --resume`` reads back: the
algorithm, the env and its backend, the seeds, the evaluation schedule, the device count, how many
checkpoints to keep, and the algorithm's resolved ``Config`` (defaults <- the algorithm name's presets
<- tuned hyperparameters <- ``--set``). ``config.json`` adds the library versions and the command.
"""

from __future__ import annotations

import dataclasses
import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rl_zoo import runs
from rl_zoo.config import (ConfigError, apply_overrides, check_env_kwargs, check_int_args, check_overrides,
                           check_seed_range, check_total_steps_once, check_types)

HYPERPARAMS_DIR = Path(__file__).resolve().parent.parent / "hyperparams"
#: what to do about a damaged config.json
CONFIG_TODO = ("It is written by rl-zoo train and should not be edited: restore it from a copy, or start a new run "
               "(nothing was changed)")
#: the keys every config.json has recorded since the first driver (bb03b22): a file without one of them was
#: edited, and a default in its place would silently change the run (its seeds, its evaluation schedule).
#: ``devices``, ``keep_checkpoints``, ``vector_env`` and ``env_kwargs`` came later and take their defaults when absent.
REQUIRED_KEYS = ("algo", "env", "backend", "seeds", "seed", "num_evals", "eval_episodes", "config")
#: config.json keys a resumed run may see changed (``RunSpec.trajectory_record`` leaves them out)
RESUMABLE_CHANGES = ("devices", "keep_checkpoints", "vector_env", "command", "versions")


def enable_compilation_cache(path: str | os.PathLike | None = None) -> str | None:
    """Turn on JAX's persistent compilation cache (default ``~/.cache/rl_zoo/jax``) so that a
    repeated run starts warm; the program store beside it (``program_store``: the same command run again skips
    tracing too, in the commands' own processes) is on where this cache is. ``RL_ZOO_NO_CACHE=1`` turns both
    off. A folder that cannot be made or written (a read-only home in a container) leaves it off, with a note
    on stderr: the cache only saves time, and it stopped every training command with a bare ``[Errno 30]
    Read-only file system``."""
    if os.environ.get("RL_ZOO_NO_CACHE"):
        return None
    import jax

    # an empty XDG_CACHE_HOME is unset (the XDG spec); taken as a path, it put the cache in ./rl_zoo/jax
    path = Path(path or Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "rl_zoo" / "jax")
    try:
        path.mkdir(parents=True, exist_ok=True)
        if not os.access(path, os.W_OK | os.X_OK):
            raise PermissionError(f"the folder {path} is not writable")
    except OSError as e:
        print(f"rl-zoo: note: the JAX compilation cache is off (every run compiles from scratch): cannot write to "
              f"{path} ({e}); set XDG_CACHE_HOME to a writable folder, or RL_ZOO_NO_CACHE=1 to silence this",
              file=sys.stderr)
        return None
    jax.config.update("jax_compilation_cache_dir", str(path))
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
    jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)
    return str(path)


#: (algo, env) pairs whose settings (tuned, or the defaults) are known not to solve the env, each with what
#: was measured: ``rl-zoo train`` says so when it starts, ``train --help`` beside the fields
UNSOLVED_FILE = HYPERPARAMS_DIR / "unsolved.yaml"


def unsolved_note(algo: str, env_id: str, changed: bool = False) -> str | None:
    """The note ``rl-zoo train --algo algo --env env_id`` prints when ``unsolved.yaml`` lists the pair:
    its settings are known not to solve the env, and what was measured (``changed``: the run changes some
    of them, which the note says); None otherwise."""
    import yaml

    table = yaml.safe_load(UNSOLVED_FILE.read_text()) if UNSOLVED_FILE.exists() else {}
    measured = ((table or {}).get(algo) or {}).get(env_id)
    if not measured:
        return None
    return (f"note: {algo}'s settings for {env_id} (rl_zoo/hyperparams/{algo}.yaml, else the defaults) are known not "
            f"to solve it: {measured} (rl_zoo/hyperparams/unsolved.yaml)"
            + ("; this run changes some of them (--set, --total-steps)" if changed else ""))


def load_hyperparams(algo: str, env_id: str) -> dict[str, Any]:
    """Tuned fields for ``(algo, env_id)`` from ``rl_zoo/hyperparams/<algo>.yaml`` (empty if none)."""
    import yaml

    path = HYPERPARAMS_DIR / f"{algo}.yaml"
    if not path.exists():
        return {}
    table = yaml.safe_load(path.read_text()) or {}
    return dict(table.get(env_id) or {})


def resolve_config(algo: str, env_id: str, overrides: dict[str, Any] | None = None, total_steps: int | None = None):
    """Config = defaults <- the algorithm name's presets <- tuned hyperparams <- ``overrides``; validated.

    Returns ``(module, config)``; raises ``ValueError``/``ConfigError`` naming the field and the rule
    before anything is compiled. ``env_id`` only selects the tuned entry: an id without one (a typo included) gets
    the defaults, and ``total_steps`` wins over an ``overrides`` budget; ``train`` (``new_spec``) refuses an unknown
    env and the two budgets given together.
    """
    from rl_zoo import algos

    module, preset = algos.get(algo)
    check_driver_fields(algo, overrides or {}, "--set")
    config = apply_overrides(module.Config(), {**preset, **load_hyperparams(algo, env_id)})
    config = apply_overrides(config, dict(overrides or {}), algo)
    if total_steps is not None:
        config = apply_overrides(config, {"total_timesteps": total_steps})
    try:
        check_types(config)  # 3e9 steps: over JAX's 32-bit integers
        config.validate()
    except ConfigError as e:  # the budget the user gave as --total-steps: named as they typed it
        if total_steps is None or e.field != "total_timesteps":
            raise
        raise ConfigError(str(e).replace("config field 'total_timesteps'", "--total-steps", 1)) from None
    check_algorithm_name(algo, config)
    return module, config


def check_driver_fields(algo: str, values: dict, option: str) -> None:
    """Refuse ``values`` (``--set`` or a sweep's ``--grid`` / ``--range``) naming a config field that only the
    algorithm's standalone ``make_train`` reads (``MAKE_TRAIN_ONLY``): the driver would ignore it."""
    from rl_zoo import algos

    module = algos.get(algo)[0]
    for name in sorted(set(values) & set(getattr(module, "MAKE_TRAIN_ONLY", {}))):
        raise ConfigError(f"{option} {name}: {algo}'s {name} is read by its make_train only; rl-zoo train, sweep and "
                          f"benchmark evaluate on their own schedule (rl-zoo train: {module.MAKE_TRAIN_ONLY[name]})")


def check_algorithm_name(algo: str, config) -> None:
    """Refuse a config that trains another of the algorithm names sharing ``algo``'s module (``ppo`` with
    ``loss="kl"`` is ``ppo-kl``): it would train one algorithm under another's name and tuned values."""
    from rl_zoo import algos

    if (other := algos.implied_name(algo, config)) != algo:
        fields = ", ".join(f"{k}={getattr(config, k)!r}" for k in sorted(set(algos.get(algo)[1]) | set(algos.get(other)[1])))
        raise ConfigError(f"--algo {algo} with {fields} is {other}: use the algorithm name {other} (its name labels "
                          f"the run, and its tuned hyperparameters apply)")


@dataclass(frozen=True)
class RunSpec:
    """One training run, as ``config.json`` records it (``to_json`` / ``from_json``)."""

    algo: str  # a name of rl_zoo.algos.ALGOS ("ppo", "ppo-kl", ...)
    env_id: str  # the env id ("CartPole-v1"); stored as "env"
    config: Any  # the algorithm's resolved, validated Config (frozen dataclass)
    backend: str = "jax"  # "jax" (a pure-JAX port) or "gymnasium" (the adapter)
    seeds: int = 1  # how many seeds, trained together
    seed: int = 0  # the first seed: seeds are seed, seed + 1, ...
    num_evals: int = 10  # greedy evaluations during training (about; one per segment)
    eval_episodes: int = 10  # episodes per evaluation and seed
    devices: int = 1  # devices the seed axis is split over
    keep_checkpoints: int = 3  # checkpoints kept in RUN_DIR/checkpoints
    command: str | None = None  # the command line that started the run
    vector_env: str = "sync"  # gymnasium envs: the host vector env, "sync" or "async" (rl_zoo.host.batched_env)
    env_kwargs: dict[str, Any] = dataclasses.field(default_factory=dict)  # the env's options (envs.make's overrides)

    @property
    def module(self):
        """The algorithm's module (``Config``, ``make_agent``, ...)."""
        from rl_zoo import algos

        return algos.get(self.algo)[0]

    @property
    def seed_ids(self) -> tuple[int, ...]:
        return tuple(range(self.seed, self.seed + self.seeds))

    def make_env(self):
        """``(env, env_params)`` on this spec's backend (options the env refuses: `make_env`'s ``ConfigError``). An id
        this process does not know, of a run that trained on it (an env registered by ``envs.register`` in the
        process that trained, which a new process loading or resuming the run has not run): said how to make it
        known, where "Unknown environment id" alone pointed at a typo."""
        from envs.registry import UnknownEnvironment

        try:
            env, env_params = make_env(self.env_id, self.backend, self.env_kwargs)
        except UnknownEnvironment as e:
            if ":" in self.env_id:
                raise
            raise ValueError(f"{e} This run trained on {self.env_id!r}: an env of your own registered with envs.register "
                             f"is known only to the process that registered it: register it again first (import the "
                             f"module that does), or train on MODULE:{self.env_id}, an id that imports its module "
                             f"itself") from None
        return seed_batched(env, self.vector_env), env_params

    def replace(self, **changes) -> "RunSpec":
        return dataclasses.replace(self, **changes)

    def trajectory_record(self) -> str:
        """The fields that decide what the run trains, as canonical JSON: every checkpoint stores it and
        ``--resume`` compares it with ``config.json``'s before compiling (``trajectory_mismatch``), so that
        an edited config.json does not silently continue as another run. ``devices`` and
        ``keep_checkpoints`` (which ``--resume`` may change), ``vector_env`` (how host envs are stepped),
        the command and the versions (reported on their own) are left out."""
        record = {k: v for k, v in self.to_json().items() if k not in RESUMABLE_CHANGES}
        return json.dumps(record, sort_keys=True)

    def fields_json(self) -> dict[str, Any]:
        """``config.json``'s fields but the versions and the command (``to_json``); what the program store keys a
        run's programs on (``rl_zoo.driver.program_store``), without the versions' lookup (0.02-0.6 s)."""
        out: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            if f.name not in ("config", "command"):
                out["env" if f.name == "env_id" else f.name] = getattr(self, f.name)
        return dict(out, config=dataclasses.asdict(self.config))

    def to_json(self) -> dict[str, Any]:
        """The contents of ``config.json`` (with the library versions)."""
        return dict(self.fields_json(), versions=runs.versions(), command=self.command)

    @classmethod
    def from_json(cls, data: dict[str, Any], path: str | os.PathLike = "config.json") -> "RunSpec":
        """The spec in a ``config.json`` read back; ``RunFileError`` naming the file for anything wrong
        (missing or mistyped fields, an unknown algorithm, a config that no longer validates). Every key
        of ``REQUIRED_KEYS`` must be there (one error names all those missing); fields added to the spec
        after the first driver (``devices``, ``keep_checkpoints``, ``vector_env``, ``command``,
        ``env_kwargs``) take their defaults when absent."""
        from rl_zoo import algos

        todo = CONFIG_TODO
        missing = missing_keys(data)
        if missing:
            raise runs.file_error(path, f"lacks the field(s) {', '.join(map(repr, missing))}", todo)
        values: dict[str, Any] = {}
        for f in dataclasses.fields(cls):
            key = "env" if f.name == "env_id" else f.name
            if key in data:
                values[f.name] = data[key]
        for name in ("algo", "env_id", "backend"):
            if not isinstance(values.get(name, ""), str):
                raise runs.file_error(path, f"field {name!r} = {values[name]!r} is not a string", todo)
        from rl_zoo.host.batched_env import VECTOR_ENVS

        for name, allowed in (("backend", ("jax", "gymnasium")), ("vector_env", VECTOR_ENVS)):
            if name in values and values[name] not in allowed:
                raise runs.file_error(path, f"field {name!r} = {values[name]!r} is none of {', '.join(map(repr, allowed))}", todo)
        for name in ("seeds", "seed", "num_evals", "eval_episodes", "devices", "keep_checkpoints"):
            v = values.get(name, 1)
            if not isinstance(v, int) or isinstance(v, bool) or (name != "seed" and v < 1):
                raise runs.file_error(path, f"field {name!r} = {v!r} is not a positive integer", todo)
        if values["seeds"] % values.get("devices", 1):
            raise runs.file_error(path, f"field 'devices' = {values['devices']} does not divide its 'seeds' = {values['seeds']} "
                                        f"(the seeds are split evenly over the devices)", todo)
        try:
            check_seed_range(values["seed"], values["seeds"], "field 'seed'")
        except ConfigError as e:
            raise runs.file_error(path, str(e), todo) from None
        if not isinstance(values["config"], dict):
            raise runs.file_error(path, "field 'config' is not an object", todo)
        try:
            values["env_kwargs"] = check_env_kwargs(values.get("env_kwargs", {}), "field 'env_kwargs'")
        except ConfigError as e:
            raise runs.file_error(path, str(e), todo) from None
        try:
            module, _ = algos.get(values["algo"])
        except ValueError as e:
            raise runs.file_error(path, str(e), todo) from None
        known = {f.name for f in dataclasses.fields(module.Config)}
        unknown = sorted(set(values["config"]) - known)
        if unknown:
            raise runs.file_error(path, f"config holds fields {unknown} that {values['algo']!r} does not have", todo)
        try:
            config = module.Config(**{k: tuple(v) if isinstance(v, list) else v for k, v in values["config"].items()})
            check_types(config)
            config.validate()
        except (ConfigError, TypeError, ValueError) as e:
            raise runs.file_error(path, f"its config is not valid: {e}", todo) from None
        return cls(**dict(values, config=config))


def missing_keys(data: dict[str, Any]) -> list[str]:
    """The keys of ``REQUIRED_KEYS`` that a ``config.json``'s contents ``data`` lacks, in that order."""
    return [key for key in REQUIRED_KEYS if key not in data]


def other_run_words(recorded: str, spec: RunSpec) -> str | None:
    """"it was written by a dqn run on CartPole-v1, not by this run's ppo on CartPole-v1", where the run that
    ``recorded`` (``RunSpec.trajectory_record``, in a checkpoint's meta) had another algorithm or env than ``spec``;
    else ``None``. `rl-zoo enjoy` and ``--resume`` each add what to do."""
    data = json.loads(recorded)
    if (data.get("algo"), data.get("env")) == (spec.algo, spec.env_id):
        return None
    return (f"it was written by a {data.get('algo')} run on {data.get('env')}, not by this run's {spec.algo} on "
            f"{spec.env_id}")


def trajectory_mismatch(recorded: str, spec: RunSpec, ignore: tuple[str, ...] = (),
                        lead: str = "config.json was edited since", where: str = "there") -> str | None:
    """Why ``spec`` (read from config.json) is not the run whose checkpoint recorded ``recorded``
    (``RunSpec.trajectory_record``), or ``None``: after ``lead``, each changed field named with both values
    (``spec``'s said to be ``where``). A field the record lacks that holds its default now was added to the
    library since the checkpoint was written (config.json's absent fields take their defaults too): not a
    change. Top-level keys in ``ignore`` are not compared."""
    def flat(d: dict, prefix: str = "") -> dict[str, Any]:
        out: dict[str, Any] = {}
        for k, v in d.items():
            out.update(flat(v, f"{prefix}{k}.") if isinstance(v, dict) else {f"{prefix}{k}": v})
        return out

    def value(d: dict, k: str) -> str:
        return repr(d[k]) if k in d else "absent"

    before, now = (flat({k: v for k, v in json.loads(text).items() if k not in ignore})
                   for text in (recorded, spec.trajectory_record()))
    defaults = flat(json.loads(RunSpec(algo=spec.algo, env_id=spec.env_id, config=type(spec.config)()).trajectory_record()))
    added = {k for k in now.keys() - before.keys() if k in defaults and now[k] == defaults[k]}

    def default_note(k: str) -> str:  # a config field deleted from config.json reads as its default: say so
        required = k in ("algo", "env")  # config.json must hold them: their "default" is the spec's own value
        return ("" if required or k not in now or defaults.get(k, ...) != now[k]
                else " (its default: a field deleted from config.json reads as it, or it was set to it there)")

    changed = [f"{k} is {value(now, k)} {where}{default_note(k)} but was {value(before, k)} when it was written"
               for k in sorted((before.keys() | now.keys()) - added) if before.get(k, ...) != now.get(k, ...)]
    return None if not changed else f"{lead}: {'; '.join(changed)}"


def read_spec(run_dir: str | os.PathLike) -> RunSpec:
    """The ``RunSpec`` of an existing run directory, from its ``config.json``."""
    run_dir = Path(run_dir)
    path = run_dir / "config.json"
    if not path.is_file():
        raise runs.RunFileError(f"cannot resume {str(run_dir)!r}: no config.json there (is it a run directory?)")
    data = runs.read_json_file(path, todo=CONFIG_TODO)
    if runs.is_rlhf_config(data):  # not a damaged train run: say what it is (its fields are all "missing")
        raise runs.RunFileError(f"{str(run_dir)!r} is {runs.rlhf_run_words(run_dir)}")
    return RunSpec.from_json(data, path)  # every REQUIRED_KEYS field checked there


def make_env(env_id: str, backend: str | None, env_kwargs: dict[str, Any]):
    """``envs.make(env_id, backend, **env_kwargs)``; an option the env refuses becomes a ``ConfigError``
    that names ``--env-kwargs`` and the env's own words (an unknown id keeps its own error)."""
    import envs

    if not env_kwargs:
        return envs.make(env_id, backend=backend)
    try:
        return envs.make(env_id, backend=backend, **env_kwargs)
    except Exception as e:  # a gymnasium env's constructor may assert (LunarLander's gravity), or raise anything
        try:
            envs.make(env_id, backend=backend)
        except (ValueError, ImportError):  # the id itself is at fault (unknown, no JAX port, a MODULE:ID that registers
            raise  # none) or the env's package is missing (box2d): its error, not the options'
        except Exception:  # noqa: BLE001 - an env that cannot be made without options at all: theirs is the error to say
            pass
        e = _port_words(env_id, backend, env_kwargs) or e
        given, said = runs.env_kwargs_args(env_kwargs).strip(), str(e).removeprefix(f"{env_id}: ")  # the id once
        # an assert's text, or a KeyError's (only the key: gymnasium's FrozenLake map_name=5x5 said "'5x5'"), needs its type
        raise ConfigError(f"{given}: refused by {env_id}: "
                          f"{type(e).__name__ + ': ' if isinstance(e, (AssertionError, KeyError)) else ''}{said}") from None


def _port_words(env_id: str, backend: str | None, env_kwargs: dict[str, Any]) -> Exception | None:
    """For gymnasium's own env of an id that has a JAX port (the same constructor options): the port's refusal of ``env_kwargs``,
    in words ("map_name must be one of ['4x4', '8x8']", where gymnasium's was a KeyError of '5x5'); None where
    there is no port or it takes them."""
    import envs
    from envs.options import env_options, has_gymnasium_twin

    if backend != "gymnasium" or not has_gymnasium_twin(env_id):
        return None
    if not set(env_kwargs) <= {o.name for o in env_options(env_id, "jax")[1] if o.kind == "constructor"}:
        return None  # an option gymnasium's env lacks (foo, or a port's params field): gymnasium's words say so
    try:
        envs.make(env_id, backend="jax", **env_kwargs)
    except ValueError as port_error:
        return port_error
    except Exception:  # noqa: BLE001 - the port's own failure says nothing of gymnasium's
        return None
    return None


def check_algorithm_env(module, env, env_params, env_kwargs: dict[str, Any]) -> None:
    """The algorithm's own check of the env (``module.check_env``: DQN needs discrete actions), its refusal
    naming the ``--env-kwargs`` that made the env what it is (``continuous=true``), where there are some."""
    if not hasattr(module, "check_env"):
        return
    try:
        module.check_env(env, env_params)
    except ValueError as e:
        if not env_kwargs:
            raise
        raise ConfigError(f"{e} (the env as {runs.env_kwargs_args(env_kwargs).strip()} made it)") from None


def devices_do_not_apply(devices: int, env_id: str) -> str:
    """The line a gymnasium run (new or resumed) logs for ``--devices N`` above 1, which it does not use."""
    return (f"--devices {devices} does not apply: {env_id} runs on gymnasium envs, whose steps are host calls; its "
            f"seeds run in one program on one device (their envs in one vector env, --vector-env async spreads them)")


def new_spec(algo: str | None, env_id: str | None, *, seeds: int = 1, seed: int = 0, total_steps: int | None = None,
             overrides: dict[str, Any] | None = None, num_evals: int = 10, eval_episodes: int | None = None,
             backend: str | None = None, keep_checkpoints: int | None = None, devices: int | None = None,
             command: str | None = None, vector_env: str | None = None, env_kwargs: dict[str, Any] | None = None):
    """A validated ``RunSpec`` for a new run, with its env: ``(spec, env, env_params, note)``, where
    ``note`` says why fewer devices than available are used, that ``vector_env`` (gymnasium envs
    only; default "sync") does not apply to a JAX env, or that the pair's settings are known not to solve
    the env (``unsolved_note``), or is ``None``. Raises ``ConfigError`` /
    ``ValueError`` naming what is wrong before anything is compiled or written."""
    from rl_zoo import distributed

    if algo is None or env_id is None:
        raise ConfigError("train needs an algorithm and an environment (or resume=RUN_DIR)")
    for flag, value in (("--seeds", seeds), ("--seed", seed), ("--evals", num_evals)):  # None means "not given" only
        if value is None:  # where the default is None: num_evals=None wrote config.json, then failed in the runner
            raise ConfigError(f"{flag} = None is invalid: must be an integer (leave it out for its default)")
    seeds, seed, total_steps, num_evals, eval_episodes, keep_checkpoints, devices = check_int_args(
        {"--seeds": seeds, "--seed": seed, "--total-steps": total_steps, "--evals": num_evals,
         "--eval-episodes": eval_episodes, "--keep-checkpoints": keep_checkpoints, "--devices": devices})
    overrides = check_overrides(overrides)
    env_kwargs = check_env_kwargs(env_kwargs, "--env-kwargs")
    check_total_steps_once(total_steps, overrides)  # the command line checks it too; train() from Python did not
    if seeds < 1:
        raise ConfigError(f"--seeds = {seeds} is invalid: must be at least 1")
    check_seed_range(seed, seeds)
    for flag, value in (("--evals", num_evals), ("--eval-episodes", eval_episodes)):
        if value is not None and value < 1:
            raise ConfigError(f"{flag} = {value} is invalid: must be at least 1")
    if devices is not None and devices < 1:  # on every backend (gymnasium runs ignore a count, not a bad one)
        raise ConfigError(f"--devices = {devices} is invalid: must be at least 1")
    keep_checkpoints = 3 if keep_checkpoints is None else keep_checkpoints
    if keep_checkpoints < 1:
        raise ConfigError(f"--keep-checkpoints = {keep_checkpoints} is invalid: must be at least 1")
    from rl_zoo.host.batched_env import VECTOR_ENVS

    asked_vector_env, vector_env = vector_env, vector_env or "sync"
    if vector_env not in VECTOR_ENVS:
        raise ConfigError(f"--vector-env = {vector_env!r} is invalid: must be one of {', '.join(VECTOR_ENVS)}")
    from rl_zoo import algos

    # an unknown algorithm, then an unknown env, then an env the algorithm cannot run on (DQN on Pendulum),
    # before a config error that each of them would hide (a typo'd env id; DQN's learning_starts on Pendulum)
    module, _ = algos.get(algo)
    env, env_params = make_env(env_id, backend, env_kwargs)
    check_algorithm_env(module, env, env_params, env_kwargs)
    if env.backend == "jax":
        drawn = env.drawn_options() if hasattr(env, "drawn_options") else {}
    elif drawn := _drawn_by_port(env_id, env_kwargs):  # every gymnasium copy (training, evaluation) plays one draw
        env, env_params = make_env(env_id, backend, {**env_kwargs, **drawn})
    module, config = resolve_config(algo, env_id, overrides, total_steps)
    if eval_episodes is None:  # the env's own count (Blackjack's one-draw returns need 1,000), else 10
        from envs.registry import default_eval_episodes

        eval_episodes = default_eval_episodes(env_id, env.backend)
    import jax

    if env.backend != "jax" and jax.process_count() > 1:  # refused in every process, before any collective
        raise ConfigError(f"{env_id} runs on gymnasium envs (--backend {env.backend}), whose steps are host calls of one "
                          "process: a multi-host run trains JAX envs only; run it on one host")
    num_devices, note = distributed.choose_devices(seeds, devices) if env.backend == "jax" else (1, None)
    if env_kwargs and load_hyperparams(algo, env_id):
        tuned = (f"note: {algo}'s tuned settings for {env_id} (rl_zoo/hyperparams/{algo}.yaml) apply, though they were "
                 f"tuned without --env-kwargs")
        note = f"{note}\n{tuned}" if note else tuned
    if unsolved := unsolved_note(algo, env_id, changed=bool(overrides or env_kwargs) or total_steps is not None):
        note = f"{note}\n{unsolved}" if note else unsolved
    if asked_vector_env is not None and env.backend == "jax":
        ignored = (f"--vector-env {asked_vector_env} does not apply: {env_id} runs on its JAX port, its envs inside the "
                   f"compiled program (--backend gymnasium runs gymnasium's)")
        note = f"{note}\n{ignored}" if note else ignored
        vector_env = "sync"  # the default, as config.json records it for a JAX run: what ran, not what was asked
    if devices is not None and devices > 1 and env.backend == "gymnasium":
        one = devices_do_not_apply(devices, env_id)
        note = f"{note}\n{one}" if note else one
    if drawn:  # FrozenLake's map_name=None: the map it drew, recorded so that resume, enjoy and load play it
        said = (f"{runs.env_kwargs_args(env_kwargs).strip()} drew {runs.env_kwargs_pairs(drawn)} "
                "at random: config.json records it, so a resumed, loaded or watched run plays the same")
        note = f"{note}\n{said}" if note else said
    spec = RunSpec(algo=algo, env_id=env_id, config=config, backend=env.backend, seeds=seeds, seed=seed,
                   num_evals=num_evals, eval_episodes=eval_episodes, devices=num_devices,
                   keep_checkpoints=keep_checkpoints, command=command, vector_env=vector_env,
                   env_kwargs={**env_kwargs, **drawn})
    return spec, seed_batched(env, vector_env), env_params, note


def _drawn_by_port(env_id: str, env_kwargs: dict[str, Any]) -> dict[str, Any]:
    """For a gymnasium-backend env: the options its JAX port draws at random from ``env_kwargs`` (FrozenLake's
    ``map_name=None``: a ``desc``), drawn once by the port. Without it every gymnasium copy drew its own map (each
    seed's training copies and evaluation copies different ones, others in every process), and config.json
    recorded none. ``{}`` where the env has no port or the port draws nothing."""
    import envs

    if not env_kwargs or env_id not in envs.list():
        return {}
    port, _ = make_env(env_id, "jax", env_kwargs)
    return port.drawn_options() if hasattr(port, "drawn_options") else {}


def seed_batched(env, vector_env: str | None):
    """The env a run's seeds step: a gymnasium env wrapped so that all seeds run in one program (``rl_zoo.host``);
    a JAX port as it is."""
    if env.backend != "gymnasium":
        return env
    from rl_zoo.host.batched_env import SeedBatchedEnv

    return SeedBatchedEnv(env, vector_env)
