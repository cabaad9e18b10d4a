"""``rl-zoo train``'s command line: its parser and ``--help`` (every config field with the value it runs
with), the checks made before JAX starts (``--set`` pairs, ``--config`` files, flags a ``--resume`` takes from
the run), and the call to ``rl_zoo.train.train``. ``rl_zoo.cli`` dispatches to ``main``.
"""

from __future__ import annotations

import argparse
import dataclasses
import shlex
import sys
from pathlib import Path

from rl_zoo.config import ConfigError, check_total_steps_once, field_docs, parse_env_kwargs, whole_number


#: ``--config``'s help (train and sweep)
CONFIG_HELP = ("a YAML file of config fields, put on the tuned values (--set and --total-steps go on top): a sweep's best.yaml "
               "or a file like rl_zoo/hyperparams/ALGO.yaml (ENV_ID: blocks; --env's is used), plain field: value lines, "
               "or a run's config.json (train that run's config again, e.g. on other --seed values; its config fields only: "
               "--seeds, --backend and the other flags are this command's). Numbers read as YAML 1.2 (016 sixteen, as --set "
               "reads it); a key given twice is refused")


def add_parser(sub, help_for: tuple[str, str] | None) -> None:
    """``rl-zoo train``; ``help_for = (algo, env)``: whose config fields its ``--help`` lists (None: none)."""
    from rl_zoo import algos

    t = sub.add_parser(
        "train",
        help="train an algorithm on an environment, all seeds vmapped",
        description="Train ALGO on ENV with SEEDS seeds (vmapped in one compiled program) and write a run "
        "directory with config.json, metrics.csv, summary.json and curve.png.",
        epilog=(config_help(*help_for) if help_for else "") + f"\n\nalgorithms: {', '.join(algos.names())} (rl-zoo train --algo NAME --help shows NAME's fields)"
        + "\n\nexample: rl-zoo train --algo dqn --env CartPole-v1 --seeds 4 --set learning_rate=1e-3 --out runs/dqn-lr"
        "\nexit status: 0 trained; 1 stopped by the system or the env (a full disk, an env that raised: the run keeps its "
        "checkpoints); 2 bad input (one line, nothing compiled); 3 the run diverged (NaN/Inf; the last good checkpoint "
        "kept); 130 Ctrl-C, 143 SIGTERM (--resume RUN_DIR continues)",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    t.add_argument("--algo", action=StoreGiven, default="ppo", help=f"algorithm: {', '.join(algos.names())} (default ppo)")
    t.add_argument("--env", action=StoreGiven, default="CartPole-v1", help="environment id (rl-zoo envs lists them; default CartPole-v1); an env your module registers with gymnasium: MODULE:ID, e.g. my_envs:MyEnv-v0")
    t.add_argument("--seeds", action=StoreGiven, type=int, default=1, help="number of seeds, trained together (default 1)")
    t.add_argument("--seed", action=StoreGiven, type=int, default=0, help="first seed; seeds are SEED, SEED+1, ... (default 0)")
    t.add_argument("--total-steps", type=total_steps_arg, default=None, help="env steps per seed, rounded down to whole updates (default: the tuned value for the algorithm and env, "
                        "else the algorithm's default: rl-zoo train --algo A --env E --help shows it)")
    t.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="override a config field (repeatable; on top of --config)")
    t.add_argument("--config", action=StoreOnce, default=None, metavar="FILE", help=CONFIG_HELP)
    t.add_argument("--env-kwargs", action="extend", nargs="+", default=[], metavar="KEY=VALUE",
                   help="options of the env, recorded in config.json: gymnasium.make's keyword arguments for a gymnasium env "
                        "(LunarLander-v3 continuous=true; MuJoCo's ctrl_cost_weight=0.1), a JAX port's physical constants or "
                        "options (CartPole-v1 gravity=12.0, FrozenLake-v1 is_slippery=false map_name=8x8), the time limit for "
                        "either (max_episode_steps=200); `rl-zoo envs ID` lists an env's options and defaults. Values read as YAML 1.2 (1e-3 a "
                        "number, true a boolean, 8x8 and yes strings, [a, b] a list). The tuned hyperparameters are still the env id's")
    t.add_argument("--out", default=None, help="run directory (default runs/<algo>-<env>-<time>); must not hold files")
    t.add_argument("--runs-root", default="runs", help="where default run directories go (default runs/; not with --out, "
                   "which names the run directory)")
    t.add_argument("--evals", action=StoreGiven, type=int, default=10,
                   help="greedy evaluations during training (default 10), about: one at the start and one after each of "
                        "N equal segments of whole updates, N between floor(EVALS/2) and 2*EVALS chosen to divide the updates "
                        "(39 updates with --evals 7: 3 segments; when none divides them, segments of ceil(updates/EVALS) and a last "
                        "shorter one, EVALS at most: 1,171 updates with --evals 10 make 9 of 118 and one of 109); at most one per update "
                        "(--evals 100 on a run of 16 updates: 16 and the start's). On gymnasium envs (no JAX port), whose segments need no "
                        "compiled program each: EVALS evenly spaced, after segments of ceil(updates/EVALS) where that makes EVALS "
                        "segments (39 updates with --evals 7: after 6, 12, ..., 36 and 39), else of floor(updates/EVALS), "
                        "EVALS of them picked evenly (9 updates with --evals 6: after 2, 3, 5, 6, 8 and 9); fewer where the worst case of those after the start (every "
                        "episode to the time limit) would pass 10%% of training's env steps (the start's comes on top; the "
                        "final one is always made); "
                        "their env steps are counted in summary.json (eval_env_steps_total)")
    t.add_argument("--eval-episodes", action=StoreGiven, type=int, default=None,
                   help="episodes per evaluation and seed (default 10; 1,000 on Blackjack-v1, whose return is one +-1 draw)")
    t.add_argument("--backend", action=StoreGiven, choices=["jax", "gymnasium"], default=None,
                   help="force the env backend (default: the pure-JAX port where the id has one, else gymnasium through the adapter)")
    t.add_argument("--vector-env", action=StoreGiven, choices=["sync", "async"], default=None,
                   help="gymnasium envs only: all seeds' env copies in one SyncVectorEnv (default; fastest on 2 cores, "
                        "benchmarks/results/gymnasium/vector_env.md) or AsyncVectorEnv (a subprocess per copy: many cores, slow envs); "
                        "a resumed run may switch (its envs restart with fresh episodes anyway)")
    t.add_argument("--resume", default=None, metavar="RUN_DIR",
                   help="continue an interrupted run from its last checkpoint (its config.json decides everything else but "
                        "--record-video, --tensorboard and --wandb, which are given again; exact on JAX envs, "
                        "while gymnasium envs restart with fresh episodes); a finished run is left as it is")
    t.add_argument("--keep-checkpoints", action=StoreGiven, type=int, default=None,
                   help="checkpoints kept in RUN_DIR/checkpoints (default 3; a resumed run keeps its own setting)")
    t.add_argument("--devices", type=int, default=None,
                   help="split the seeds over this many devices; N must divide the seeds (default: the largest device count "
                        "that divides them, said in the output). On a CPU, "
                        "rl-zoo first makes one device per core, as many as divide the seeds (RL_ZOO_CPU_DEVICES=N "
                        "sets the count, 1 keeps one device)")
    t.add_argument("--coordinator", default=None, metavar="HOST:PORT",
                   help="multi-host: address of process 0 (or RL_ZOO_COORDINATOR); see rl_zoo/distributed.py")
    t.add_argument("--num-processes", type=int, default=None, help="multi-host: number of processes (or RL_ZOO_NUM_PROCESSES)")
    t.add_argument("--process-id", type=int, default=None, help="multi-host: this process's index (or RL_ZOO_PROCESS_ID)")
    t.add_argument("--no-progress", action="store_true", help="no progress bar")
    add_live_flags(t)


def add_live_flags(t) -> None:
    """``rl-zoo train --tensorboard / --wandb / --record-video`` (recorder hooks: rl_zoo/loggers.py, rl_zoo/enjoy.py)."""
    t.add_argument("--tensorboard", nargs="?", const="", default=None, metavar="DIR",
                   help="write TensorBoard event files, one folder per seed, in RUN_DIR/tensorboard (or, given a DIR other runs may "
                   "share, in DIR/<run folder name>, or <name>-2, -3, ... where another run of that name has it): metrics.csv's "
                   "quantities under the same names, the training metrics one point per update, steps_per_s")
    t.add_argument("--wandb", action="store_true", help="log the same to Weights & Biases (pip install -e \".[wandb]\")")
    t.add_argument("--record-video", nargs="?", const="final_episode.gif", default=None, metavar="NAME",  # recorder.DEFAULT_VIDEO
                   help="at the end, record one greedy episode of the first seed to RUN_DIR/NAME "
                   "(default final_episode.gif; .mp4 needs imageio-ffmpeg)")


def live_flags(args) -> list[str]:
    """The ``add_live_flags`` flags ``args`` gave, as words to repeat in a ``--resume`` command (config.json does
    not hold them; ``recorder.live_flag_groups``, as the hooks' ``resume_flags`` the driver's own note repeats)."""
    return [word for group in _live_groups(args) for word in group]


def _live_groups(args) -> list[tuple[str, ...]]:
    from rl_zoo.driver.recorder import live_flag_groups

    return live_flag_groups(args.record_video, args.tensorboard, args.wandb)


def total_steps_arg(text: str) -> int:
    """``--total-steps``' argparse type: a whole number, written ``100000``, ``100_000`` or ``1e5``."""
    try:
        return whole_number(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(f"{e}: give env steps as 100000, 100_000 or 1e5") from None


class StoreOnce(argparse.Action):
    """Store the value; the flag given twice is refused (argparse keeps the last without a word: ``--config a.yaml
    --config b.yaml`` read b alone, where layering the two files was meant). Other flags keep argparse's rule, the
    last one given wins (``help_fields_for`` reads them so)."""

    def __call__(self, parser, namespace, values, option_string=None):
        seen = getattr(namespace, "_stored_once", frozenset())
        if self.dest in seen:
            parser.error(f"{'/'.join(self.option_strings)} given twice ({getattr(namespace, self.dest)} and {values}): "
                         f"give it once")
        setattr(namespace, self.dest, values)
        namespace._stored_once = seen | {self.dest}


class StoreGiven(argparse.Action):
    """Store the value and remember that the flag was given, however it was spelt (``--seed 0``, ``--see=0``,
    an abbreviation argparse resolved): ``train --resume`` refuses one that contradicts the run's config.json."""

    def __call__(self, parser, namespace, values, option_string=None):
        setattr(namespace, self.dest, values)
        namespace.given = frozenset(getattr(namespace, "given", frozenset()) | {self.dest})


def config_help(algo: str, env_id: str) -> str:
    """Every config field of ``algo`` with the value ``--env env_id`` runs it with (the defaults after the
    algorithm's presets, then the env's tuned values, marked) and its meaning."""
    from rl_zoo import algos
    from rl_zoo.driver.spec import load_hyperparams, unsolved_note

    try:
        module, preset = algos.get(algo)
    except ValueError as e:
        return str(e)
    docs, tuned = field_docs(module.Config), load_hyperparams(algo, env_id)
    source = (f"'tuned' = rl_zoo/hyperparams/{algo}.yaml's value for {env_id}" if tuned
              else f"rl_zoo/hyperparams/{algo}.yaml tunes nothing for {env_id}: the defaults")
    lines = [f"config fields of {algo!r} as `rl-zoo train --algo {algo} --env {env_id}` runs them (set with --set key=value or --config FILE; "
             f"{source}; --env NAME --help shows another env's)"
             + (" (tabular: it runs on envs of finitely many states, not on the default --env CartPole-v1)"
                if tabular(algo) and env_id == TABULAR_HELP_ENV else "") + ":"]
    for f in dataclasses.fields(module.Config):
        default = preset.get(f.name, f.default)
        value = repr(default)
        if f.name in tuned:
            value = f"{tuned[f.name]!r}  (tuned)" if tuned[f.name] == default else f"{tuned[f.name]!r}  (tuned; default {default!r})"
        lines.append(f"  {f.name} = {value}\n      {docs.get(f.name, '')}")
    if unsolved := unsolved_note(algo, env_id):
        lines.append(unsolved)
    return "\n".join(lines)


def help_fields_for(argv: list[str]) -> tuple[str, str]:
    """``(algo, env)`` named on the command line (or train's defaults), for ``train --help``'s field list;
    ``--algo`` also as argparse takes it abbreviated (``--alg dqn``: no other option of train starts ``--a``); the
    last one given, as argparse keeps it (``--algo dqn --algo ppo --help`` listed DQN's fields for a PPO run)."""
    def given(flag: str, default: str) -> str:
        for i, a in reversed(list(enumerate(argv))):
            name = a.split("=", 1)[0]
            if not (name == flag or (flag == "--algo" and len(name) >= 3 and flag.startswith(name))):
                continue
            if "=" in a:
                return a.split("=", 1)[1]
            if i + 1 < len(argv):
                return argv[i + 1]
        return default

    algo = given("--algo", "ppo")
    return algo, given("--env", TABULAR_HELP_ENV if tabular(algo) else "CartPole-v1")


#: the env ``train --algo q-learning --help`` shows the fields for when no --env is given (the default,
#: CartPole-v1, is refused for tabular Q-learning: its states are not a finite set)
TABULAR_HELP_ENV = "FrozenLake-v1"


def tabular(algo: str) -> bool:
    from rl_zoo import algos

    return algo in algos.ALGOS and algos.ALGOS[algo][0].endswith(".q_learning")


def parse_sets(pairs: list[str]) -> dict[str, str]:
    """``--set KEY=VALUE`` pairs as ``{KEY: VALUE}`` (strings, parsed by each field's type later); a key
    given twice is refused."""
    out = {}
    for pair in pairs:
        if "=" not in pair:
            raise ConfigError(f"--set expects key=value, got {pair!r}")
        key, value = pair.split("=", 1)
        key = key.strip()
        if key in out:  # the last would win silently (as --total-steps with --set total_timesteps is refused)
            raise ConfigError(f"--set {key} is given twice ({out[key]} and {value.strip()}): give it once")
        out[key] = value.strip()
    return out


def overrides_from(args, decided: tuple[str, ...] = (), note=None) -> dict:
    """The config fields ``rl-zoo train`` (or ``sweep``) sets on the tuned values: ``--config FILE``'s for
    ``--env`` (``rl_zoo.driver.config_file.read_config_file``), then ``--set``'s on top. The file's values of the
    fields the command sets otherwise (``decided``: ``total_timesteps`` when ``--total-steps`` is given, a
    sweep's swept fields) are left out; ``note`` is called with their names."""
    sets = parse_sets(args.set)
    if not getattr(args, "config", None):
        return sets
    from rl_zoo.driver.config_file import read_config_file

    values = read_config_file(args.config, args.algo, args.env)
    dropped = [k for k in values if k in decided]
    if dropped and note is not None:
        note(dropped)
    return {**{k: v for k, v in values.items() if k not in dropped}, **sets}


def note_config_env_kwargs(path: str, env_kwargs: dict, sweep: bool = False) -> None:
    """``--config`` a run's config.json (or a sweep's best.yaml) whose env was made with options other than
    ``--env-kwargs``'s: said on
    stderr, with the ``--env-kwargs`` pairs (shell-quoted, written as ``--env-kwargs`` reads them back) that make
    the same env (the file gives config fields only; the env and its options are the command line's; ``sweep``:
    the command is ``rl-zoo sweep``, whose ``--env-kwargs`` are ``env_kwargs``)."""
    from rl_zoo.config import check_env_kwargs
    from rl_zoo.driver.config_file import read_mapping
    from rl_zoo.runs import env_kwargs_args
    from rl_zoo.sweep.spec import BEST_YAML_TRAIN_LINE

    text, data = read_mapping(path, f"--config {path}")  # read already by overrides_from: a mapping
    theirs = data.get("env_kwargs") if {"algo", "env", "config"} <= set(data) else None
    what = "a run"
    if (swept := BEST_YAML_TRAIN_LINE.search(text)) and theirs is None:  # a sweep's best.yaml: its train command's options
        what = "the best config of a sweep"
        try:
            theirs = parse_env_kwargs(shlex.split(swept["pairs"]))
        except (ConfigError, ValueError):
            return  # an edited comment: not this note's to say
    try:
        theirs = check_env_kwargs(theirs)  # the time limit by one name, as env_kwargs are
    except ConfigError:
        return  # a damaged record: not this note's to say
    if theirs and theirs != env_kwargs:
        flag = env_kwargs_args(theirs).strip()
        print(f"rl-zoo: note: --config {path} is {what} whose env had the options {flag.removeprefix('--env-kwargs ')}; "
              f"this {'sweep' if sweep else 'run'}'s env has {'other ones' if env_kwargs else 'none'} (--config sets config "
              f"fields only: give {flag} for the same env)", file=sys.stderr)


#: ``rl-zoo train`` flags a resumed run takes from its config.json: (flag, its argparse dest, the RunSpec field)
RESUME_RECORDED = (("--algo", "algo", "algo"), ("--env", "env", "env_id"), ("--seeds", "seeds", "seeds"),
                   ("--seed", "seed", "seed"), ("--evals", "evals", "num_evals"),
                   ("--eval-episodes", "eval_episodes", "eval_episodes"), ("--backend", "backend", "backend"),
                   ("--keep-checkpoints", "keep_checkpoints", "keep_checkpoints"))


def check_resume_flags(args, defaults: dict) -> None:
    """``train --resume RUN`` with a flag that config.json decides, given (``StoreGiven``, or a value other
    than its default) with a value other than the run's: refused (it would be ignored without a word),
    naming each and the run's value. ``--seed 0`` on a run of seed 3 is refused too, though 0 is the default."""
    from rl_zoo.driver import read_spec

    if not (Path(args.resume) / "config.json").is_file():
        return  # not a run directory: train says what it is instead
    spec = read_spec(args.resume)
    given = getattr(args, "given", frozenset())
    clash = [f"{flag} {getattr(args, dest)} (the run's: {getattr(spec, field)})" for flag, dest, field in RESUME_RECORDED
             if (dest in given or getattr(args, dest) != defaults[dest]) and getattr(args, dest) != getattr(spec, field)]
    if args.runs_root != defaults["runs_root"]:
        clash.append(f"--runs-root {args.runs_root} (a resumed run stays in {args.resume})")
    if clash:
        raise ConfigError(f"--resume continues {args.resume} as its config.json records it; drop {', '.join(clash)}")


def _started_live_groups(args, parser: argparse.ArgumentParser) -> list[tuple[str, ...]]:
    """The live flags' groups (``_live_groups``) the run ``train --resume RUN`` continues was started with, as
    config.json's command records them; [] where the run was not started by ``rl-zoo train`` (from Python), is
    finished, or its command does not parse."""
    import contextlib
    import io

    from rl_zoo.driver import read_spec

    try:
        command = read_spec(args.resume).command
        words = shlex.split(command) if isinstance(command, str) else []  # an edited one (5, a list): nothing to say
    except (ValueError, OSError):  # no config.json, or one train refuses in its own words
        return []
    if words[:2] != ["rl-zoo", "train"] or (Path(args.resume) / "summary.json").is_file():  # a finished run: nothing
        return []  # is left to log
    try:
        with contextlib.redirect_stderr(io.StringIO()):
            started, _ = parser.parse_known_args(words[1:])
    except SystemExit:
        return []
    return _live_groups(started)


def dropped_live_flags(args, parser: argparse.ArgumentParser) -> list[str]:
    """The live flags (``--record-video``, ``--tensorboard``, ``--wandb``: ``live_flags``) the run ``train --resume
    RUN`` continues was started with (``_started_live_groups``), that ``args`` do not give again: config.json does
    not decide them, and a resume without them quietly stopped the event files and made no video."""
    given = {flag for flag, *_ in _live_groups(args)}
    return [word for group in _started_live_groups(args, parser) if group[0] not in given for word in group]


def moved_tensorboard(args, parser: argparse.ArgumentParser) -> tuple[tuple[str, ...], tuple[str, ...]] | None:
    """``(started, given)`` where ``train --resume RUN`` gives ``--tensorboard`` another DIR than the run started with
    (or none where it gave one): the rest of the curve's events go to another folder, which said nothing."""
    started = [g for g in _started_live_groups(args, parser) if g[0] == "--tensorboard"]
    given = [g for g in _live_groups(args) if g[0] == "--tensorboard"]
    return (started[0], given[0]) if started and given and started != given else None


def command_without_process_id(argv: list[str]) -> list[str]:
    """``argv`` without ``--process-id I`` (``--process-id=I``), the one flag a multi-host run's processes differ in."""
    out, skip = [], False
    for a in argv:
        if skip:
            skip = False
        elif a == "--process-id":
            skip = True
        elif not a.startswith("--process-id="):
            out.append(a)
    return out


MULTI_HOST_VIDEO = ("--record-video is not taken by a multi-host run (the recording would wait for the other processes "
                    "forever): record the policy of one of its seeds in a run of its own")


def train_hooks(args, env_kwargs: dict | None = None) -> list:
    """The recorder hooks the train flags ask for; what they need is checked before anything trains
    (``env_kwargs``: ``--env-kwargs`` parsed)."""
    hooks = []
    try:
        if args.record_video is not None:
            from rl_zoo import distributed

            if distributed.started():  # the hook runs in process 0 and reads every host's seeds: a collective no other enters
                raise ConfigError(MULTI_HOST_VIDEO)
            from rl_zoo.enjoy import VideoHook, check_can_record

            env_id, backend = args.env, args.backend
            if args.resume:
                from rl_zoo.driver import read_spec

                spec = read_spec(args.resume)
                env_id, backend, env_kwargs = spec.env_id, spec.backend, spec.env_kwargs
            hooks.append(VideoHook(args.record_video))  # checks its format's writer is installed (the folder: --out's)
            check_can_record(env_id, backend, env_kwargs)
        if args.tensorboard is not None:
            from rl_zoo.loggers import tensorboard_hook

            hooks.append(tensorboard_hook(args.tensorboard or None))
        if args.wandb:
            from rl_zoo.loggers import wandb_hook

            hooks.append(wandb_hook())
    except ImportError as e:
        raise ConfigError(str(e)) from None
    except RuntimeError as e:  # envs.render.RenderError: the env cannot be drawn here
        from envs.gymnasium_adapter import HostEnvError

        if isinstance(e, HostEnvError):  # the env itself raised (its first check): its own error, not the video's
            raise
        raise ConfigError(f"--record-video: {e}") from None
    return hooks


def print_hook_results(hooks) -> None:
    for hook in hooks:
        if getattr(hook, "message", None):
            print(hook.message)


def main(args, argv: list[str], parser: argparse.ArgumentParser) -> int:
    """Run parsed ``rl-zoo train`` arguments: check them, train, print the summary; the exit status."""
    from rl_zoo import distributed
    from rl_zoo.train import enable_compilation_cache, format_summary, train

    if args.resume and (args.set or args.config or args.out or args.total_steps is not None or args.env_kwargs):
        raise ConfigError("--resume continues a run with its own saved config: do not combine it with --set, --config, "
                          "--env-kwargs, --out or --total-steps")
    if args.resume:
        check_resume_flags(args, vars(parser.parse_args(["train"])))
        if dropped := dropped_live_flags(args, parser):
            print(f"note: {args.resume} was started with {shlex.join(dropped)}, which this resume does not give: the "
                  f"rest of the run goes without {'them' if sum(w.startswith('--') for w in dropped) > 1 else 'it'} (stop and resume with {shlex.join(dropped)} to keep it)", file=sys.stderr)
        if moved := moved_tensorboard(args, parser):
            print(f"note: {args.resume} was started with {shlex.join(moved[0])} and this resume gives {shlex.join(moved[1])}: "
                  f"the rest of its TensorBoard events go to another folder, and its curves are split between the two "
                  f"(stop and resume with {shlex.join(moved[0])} to keep them in one)", file=sys.stderr)
        if distributed.processes_from_args(args.num_processes) > 1:  # its device count was refused, misleadingly
            raise ConfigError(f"--resume {args.resume}: a multi-host run keeps no checkpoints, so there is nothing to "
                              "continue: start the same command again into a new --out (or resume it in one process, "
                              "which starts it again from its config.json)")
    check_total_steps_once(args.total_steps, parse_sets(args.set))
    env_kwargs = parse_env_kwargs(args.env_kwargs)
    overrides = overrides_from(args, decided=("total_timesteps",) if args.total_steps is not None else ())
    if args.config:
        note_config_env_kwargs(args.config, env_kwargs)
    if args.record_video is not None and distributed.processes_from_args(args.num_processes) > 1:  # before the wait for
        # the others, as --resume is (a lone process waited 300 s for them, then JAX aborted it)
        raise ConfigError(MULTI_HOST_VIDEO)
    if distributed.initialize(args.coordinator, args.num_processes, args.process_id):
        # every process given the same command (but its id): checked before any refusal, which all then make alike
        distributed.agree_on_command(command_without_process_id(argv))
    enable_compilation_cache()
    hooks = train_hooks(args, env_kwargs)
    from_file = set(overrides) - set(parse_sets(args.set)) if args.config else set()
    try:
        result = train(
            args.algo, args.env, seeds=args.seeds, seed=args.seed, total_steps=args.total_steps,
            overrides=overrides, out=args.out, runs_root=args.runs_root, num_evals=args.evals,
            eval_episodes=args.eval_episodes, backend=args.backend, progress=not args.no_progress,
            command="rl-zoo " + shlex.join(argv), resume=args.resume, keep_checkpoints=args.keep_checkpoints,
            devices=args.devices, hooks=hooks, vector_env=args.vector_env, env_kwargs=env_kwargs,
        )
    except ConfigError as e:  # a value of the --config file out of its range: the file named, as its type errors name it
        if e.field not in from_file:
            raise
        raise ConfigError(f"--config {args.config}: {e}", field=e.field) from None
    print(format_summary(result))
    print_hook_results(hooks)
    return 0
