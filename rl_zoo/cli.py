"""``rl-zoo``: train an algorithm, list environments and algorithms.

    rl-zoo train --algo ppo --env CartPole-v1 [--seeds N] [--total-steps N] [--set key=value ...] [--out DIR]
    rl-zoo envs [--all] | rl-zoo envs ID [--backend jax|gymnasium]
    rl-zoo algos
    rl-zoo benchmark --algos ppo,ppo-kl,trpo,vpg,dqn --envs CartPole-v1,Acrobot-v1,Pendulum-v1 --seeds 10 [--out DIR]
    rl-zoo plot DIR [-o FILE|FOLDER] | rl-zoo plot RUN_DIR RUN_DIR ... [-o FILE|FOLDER]
    rl-zoo enjoy RUN_DIR [--checkpoint FILE] [--episodes N] [--record OUT.gif|OUT.mp4]
"""

from __future__ import annotations

import argparse
import atexit
import errno
import os
import shlex
import sys
from typing import NoReturn

from rl_zoo import small_commands, train_command
from rl_zoo.config import ConfigError
from rl_zoo.lock import FolderInUse


#: ``rl-zoo --help``'s end: a first command of each kind, and what the exit status means
MAIN_EPILOG = """examples:
  rl-zoo train --algo ppo --env CartPole-v1 --seeds 8       a run directory in runs/ (rl-zoo train --help: the options)
  rl-zoo enjoy runs/ppo-CartPole-v1-<time> --record ep.gif  watch (or record) its greedy policy
  rl-zoo plot runs/A runs/B -o compare.png                  learning curves of runs side by side
  rl-zoo benchmark --algos ppo,dqn --envs CartPole-v1       a grid of algorithms x envs, report.md and figures
  rl-zoo sweep --algo ppo --grid learning_rate=1e-3,3e-3    a hyperparameter sweep, every config vmapped
  rl-zoo envs                                               the env ids (rl-zoo envs ID: one env's options)

exit status: 0 done; 1 stopped by the system or an env (a full disk, an env that raised), or a benchmark with a
failed cell; 2 bad input (said in one line, after the command's usage where the command line itself is wrong,
before anything compiles); 3 a run diverged (NaN/Inf); 130 Ctrl-C,
143 SIGTERM (a run keeps its checkpoints: rl-zoo train --resume RUN_DIR)."""


def _build_parser(help_for: tuple[str, str] | None = ("ppo", "CartPole-v1")) -> argparse.ArgumentParser:
    """The ``rl-zoo`` parser; ``help_for = (algo, env)``: whose config fields ``train --help`` lists
    (None: none, for a command that is not asking for help: resolving them imports the driver)."""
    parser = argparse.ArgumentParser(prog="rl-zoo", description="Pure-functional JAX reinforcement learning.",
                                     epilog=MAIN_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action=_Version, help="print rl-zoo's version and the JAX it runs on, and exit")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    train_command.add_parser(sub, help_for)
    small_commands.add_listing_parsers(sub)
    from rl_zoo.benchmark import command as benchmark_command

    benchmark_command.add_parsers(sub)
    from rl_zoo.rlhf import command as rlhf_command

    rlhf_command.add_parser(sub)
    small_commands.add_enjoy_parser(sub)
    from rl_zoo.sweep import command as sweep_command

    sweep_command.add_parser(sub)
    parser.subcommands = sub.choices  # name -> its parser, for `_refuse_unknown`
    return parser


def _refuse_unknown(parser: argparse.ArgumentParser, command: str, unknown: list[str]) -> NoReturn:
    """Exit 2 on arguments ``command`` does not take, with its own usage line and the nearest option names
    (argparse alone prints the top-level usage, which does not list them)."""
    import difflib

    sub = parser.subcommands[command]
    known = [o for action in sub._actions for o in action.option_strings if o.startswith("--")]
    hints = []
    for arg in unknown:
        name = arg.split("=", 1)[0]
        close = difflib.get_close_matches(name, known, n=2, cutoff=0.7) if name.startswith("--") else []
        if not name.startswith("-"):  # `rl-zoo train ppo CartPole-v1`: the flags' values without them; benchmark's
            # --algos and --envs take comma-separated lists (`rl-zoo benchmark ppo,dqn` was given no hint)
            close = [f"{flag} {arg}" for flag in ("--algo", "--env", "--algos", "--envs") if flag in known and
                     all(_names_a(command, flag.rstrip("s"), item) for item in (arg.split(",") if flag.endswith("s") else [arg]))]
        hints += [f" {name}: did you mean {' or '.join(close)}?"] if close else []
    sub.error(f"unrecognized arguments: {' '.join(unknown)}.{''.join(hints)} `rl-zoo {command} --help` lists the options")


def _refuse_unknown_command(parser: argparse.ArgumentParser, argv: list[str]) -> None:
    """Exit 2 on a misspelt command (``rl-zoo trian``) naming the nearest (argparse lists the choices only)."""
    import difflib

    first = argv[0] if argv and not argv[0].startswith("-") else None  # the top level takes no option with a value
    if first is None or first in parser.subcommands:
        return
    close = difflib.get_close_matches(first, list(parser.subcommands), n=1, cutoff=0.6)
    hint = f" (did you mean {close[0]}?)" if close else ""
    parser.error(f"unknown command {first!r}{hint}; the commands: {', '.join(parser.subcommands)}")


def _names_a(command: str, flag: str, word: str) -> bool:
    """Whether ``word`` is a value of ``command``'s ``flag``: an algorithm it takes (``--algo``: rlhf's RL updates
    are its own) or an env id rl-zoo knows (``--env``)."""
    if flag == "--algo" and command == "rlhf":  # `rl-zoo rlhf dqn` was told "did you mean --algo dqn?", then refused
        from rl_zoo.rlhf.policy_opt import ALGOS

        return word in ALGOS
    if flag == "--algo":
        from rl_zoo import algos

        return word in algos.names()
    import envs

    return word in envs.list() or envs.registry.is_gymnasium_id(word)


class PipeGuard:
    """A text stream that, once its reader has gone (``BrokenPipeError``: ``rl-zoo envs --all | head``),
    sends the rest of its output to ``os.devnull`` instead of raising, so that the command finishes as it
    would have (a run keeps training and writes its files) rather than ending in a traceback."""

    def __init__(self, stream):
        self._stream = stream

    def write(self, text: str) -> int:
        try:
            return self._stream.write(text)
        except BrokenPipeError:
            self._to_devnull()
            return len(text)

    def flush(self) -> None:
        try:
            self._stream.flush()
        except BrokenPipeError:
            self._to_devnull()

    def _to_devnull(self) -> None:
        null = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(null, self._stream.fileno())  # what is still buffered goes there too
        finally:
            os.close(null)

    def __getattr__(self, name: str):
        return getattr(self._stream, name)


class _Version(argparse.Action):
    """``--version``: rl-zoo's and its JAX's versions (read from the installed packages' metadata, only
    when asked: importing JAX would cost every command's parser a second)."""

    def __init__(self, option_strings, dest, **kwargs):
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, **kwargs)

    def __call__(self, parser, namespace, values, option_string=None):
        from importlib import metadata

        from rl_zoo import __version__

        def installed(name: str) -> str:
            try:
                return metadata.version(name)
            except metadata.PackageNotFoundError:
                return "not installed"

        print(f"rl-zoo {__version__} (jax {installed('jax')}, jaxlib {installed('jaxlib')}, Python {sys.version.split()[0]})")
        parser.exit()


def console_main() -> NoReturn:
    """The ``rl-zoo`` command: ``main`` in a process of its own, which may first split the CPU into one
    JAX device per core for the seeds it trains (``rl_zoo.distributed.split_cpu``), and ends it with
    ``exit_now``. ``main`` called in-process (tests, notebooks) leaves the device count to the caller, and does
    not use the program store (``rl_zoo.driver.program_store.enable``).
    Its output survives a reader that goes away (`PipeGuard`). Ctrl-C and SIGTERM are taken (``interrupt.installed``)
    before the driver's ~1 s of imports, and held through them (``interrupt.deferred``): one there was a traceback,
    or was lost in an ignored callback and the run trained on to exit 0."""
    from rl_zoo import interrupt

    sys.stdout, sys.stderr = PipeGuard(sys.stdout), PipeGuard(sys.stderr)
    with interrupt.installed(terminate=True):  # main's own `installed` then leaves these in place
        try:
            with interrupt.deferred():  # a KeyboardInterrupt inside JAX's native imports aborted the process (rc -6, -11)
                from rl_zoo.driver import program_store

                program_store.enable()  # a process of its own: nothing in it patched at run time
        except KeyboardInterrupt:
            code = interrupt.say_stop()
        else:
            code = main(cpu_devices=True)
    exit_now(code)


def _exit_if_a_peer_was_lost(error: BaseException) -> None:
    """A multi-host run whose collective failed (another process died): one line, then the process ends at
    once, exit 1. Its exit handlers would wait ~90 s in jax.distributed's shutdown for the lost process and
    then abort with a C++ stack trace (a review: rc 134 after 72-87 s, a Python traceback before it)."""
    from rl_zoo import distributed

    if not distributed.lost_a_peer(error):
        return
    first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    print(f"rl-zoo: error: a collective of this multi-host run failed, as when another of its processes stops "
          f"({first[:300]}); a multi-host run keeps no checkpoints: stop every process and start the same command "
          "again into a new --out", file=sys.stderr, flush=True)
    sys.stdout.flush()
    os._exit(1)


def _end_a_multi_host_process(code: int, refused: bool = True) -> None:
    """A process of a multi-host run refusing its input (``refused``), or stopped by Ctrl-C or SIGTERM (also while it
    waited for the others), ends without its exit handlers, which would wait in jax.distributed's shutdown barrier
    for processes that go on, or on the wait itself (reviews: a C++ abort after 30-100 s, rc 134; "terminated"
    printed, the process alive until JAX's abort); a refusing process 0 first waits a few seconds for the others' own
    refusals (``distributed.refusal_said``). Processes that go on stop at their next collective (one line, exit 1),
    or JAX's heartbeat check ends them. A no-op in a single process."""
    from rl_zoo import distributed

    if distributed.started() or distributed.waiting():
        sys.stdout.flush()
        sys.stderr.flush()
        if refused and distributed.started():
            distributed.refusal_said()  # process 0 waits for the others' refusals before its end ends the run
        os._exit(code)


def exit_now(code: int | None) -> NoReturn:
    """End a finished command's process: run the exit handlers (logging, jax.distributed, loggers'
    own), flush, and exit without the interpreter's teardown of jax, XLA and ~2,000 modules, which took
    0.3-0.9 s of every command. Only once every file is written and closed and every env is shut. A Ctrl-C or
    SIGTERM during the exit handlers (a second one, after a run stopped) ends the process at once with ``code``:
    it was a traceback from JAX's handler and, now and then, exit -2 where 130 or 143 was due."""
    import signal

    def at_once(signum, frame):
        _flushed_exit(code)

    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, at_once)
    atexit._run_exitfuncs()
    _flushed_exit(code)


def _flushed_exit(code: int | None) -> NoReturn:
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a reader gone, a closed stream: nothing more to say
            pass
    os._exit(code or 0)


def _split_cpu_for(args) -> None:
    """Before JAX starts: one CPU device per core for ``train`` (a new run's seeds, or a resumed run's
    recorded device count) and ``sweep`` (as many as divide the rows of each of its programs)."""
    from rl_zoo import distributed

    if args.command == "train" and args.resume:
        from rl_zoo.driver.resume import split_cpu_as_recorded

        split_cpu_as_recorded(args.resume, args.devices)
    elif args.command == "train" and args.seeds >= 1:
        procs = distributed.processes_from_args(args.num_processes)  # multi-host: each host splits for its share
        if args.seeds % procs == 0 and (args.devices is None or args.devices % procs == 0):
            distributed.split_cpu(args.seeds // procs, None if args.devices is None else args.devices // procs)
        else:
            distributed.split_cpu(args.seeds, args.devices)  # the driver refuses the split, saying why
    elif args.command == "sweep" and args.seeds >= 1:
        from rl_zoo.sweep.command import rows_per_program

        distributed.split_cpu(rows_per_program(args))


#: ``train`` and ``rlhf``'s ``--runs-root`` default
RUNS_ROOT = "runs"


def _check_output_folders(args) -> None:
    """Before anything starts: every folder the command will write must be makeable
    (``rl_zoo.runs.check_output_folder``); ``--out`` where given, else where the default goes. A dry
    run writes nothing but is checked the same: it tells what the real run would refuse."""
    from rl_zoo.runs import check_output_folder

    for flag in ("out", "runs_root", "resume"):
        if getattr(args, flag, None) is not None and not str(getattr(args, flag)).strip():
            raise ConfigError(f"--{flag.replace('_', '-')} is empty: name a folder (an empty name was the current folder)")
    if getattr(args, "config", None) is not None and not str(args.config).strip():  # it trained on the tuned values
        raise ConfigError("--config is empty: name a file (config fields in YAML, a sweep's best.yaml or a run's config.json)")
    if args.command == "plot" and args.output is not None and not str(args.output).strip():
        raise ConfigError("-o is empty: name a file or a folder (an empty name was the current folder)")
    out = getattr(args, "out", None)
    if args.command in ("train", "rlhf") and out and args.runs_root != RUNS_ROOT:
        raise ConfigError(f"--out {out} names the run directory, --runs-root only where default ones go: give one "
                          f"(--runs-root {args.runs_root} would be ignored)")
    if args.command in ("train", "rlhf") and not getattr(args, "resume", None):
        check_output_folder(*((out, "--out") if out else (args.runs_root, "--runs-root")))
    elif args.command == "benchmark":
        check_output_folder(out, "--out")
    elif args.command == "sweep":
        from rl_zoo.sweep.command import output_folder

        check_output_folder(output_folder(args), "--out" if out else "the default --out")
    if getattr(args, "tensorboard", None):  # a DIR of its own (the default is inside the run directory)
        check_output_folder(args.tensorboard, "--tensorboard")


def name_too_long(e: OSError) -> str:
    """One line for an ``ENAMETOOLONG``: the path and the byte length of its longest part (a traceback before)."""
    from pathlib import Path

    path = os.fsdecode(e.filename) if e.filename is not None else ""
    longest = max((os.fsencode(part) for part in Path(path).parts), key=len, default=b"")
    if len(longest) <= 255:  # every name fits: the whole path is over PATH_MAX
        return (f"a path is too long: {path[:200]!r}... is {len(os.fsencode(os.path.abspath(path)))} bytes long, over the "
                f"most a path may have here (usually 4,096 bytes); give a shorter one")
    return (f"a file or folder name is too long: {path!r} has a part of {len(longest)} bytes, over the most a name may "
            f"have here (usually 255 bytes); give a shorter one")


def _resume_words(args) -> str:
    """``rl-zoo train --resume RUN_DIR`` and the live flags (``--record-video``, ...) ``args`` gave, to go on again."""
    return shlex.join(["rl-zoo", "train", "--resume", str(args.resume), *train_command.live_flags(args)])


def main(argv: list[str] | None = None, *, cpu_devices: bool = False) -> int:
    """``rl-zoo ARGV``: the exit status (0 done, 1 the system or the env stopped it, 2 bad input, 3 a run
    diverged, 130 interrupted by Ctrl-C, 143 by SIGTERM, which stops a run as Ctrl-C does)."""
    from rl_zoo import interrupt
    from rl_zoo.config import one_read_per_file

    argv = list(sys.argv[1:] if argv is None else argv)
    with interrupt.installed(terminate=True), one_read_per_file():  # a --config <(...) pipe is read once
        try:
            return _main(argv, cpu_devices)
        except KeyboardInterrupt:  # before the command started (building the parser imports for a second)
            return interrupt.say_stop()


def _main(argv: list[str], cpu_devices: bool) -> int:
    # its field list imports JAX; "--hel" too, an abbreviation argparse takes (no other train option starts "--h")
    asks_train_help = argv[:1] == ["train"] and any(a == "-h" or (len(a) >= 3 and "--help".startswith(a)) for a in argv)
    parser = _build_parser(train_command.help_fields_for(argv) if asks_train_help else None)
    _refuse_unknown_command(parser, argv)
    args, unknown = parser.parse_known_args(argv)
    if unknown:
        _refuse_unknown(parser, args.command, unknown)
    try:
        _check_output_folders(args)
        if cpu_devices:
            _split_cpu_for(args)
        if args.command in ("envs", "algos"):
            return small_commands.listing_main(args)
        if args.command == "train":
            return train_command.main(args, argv, parser)
        if args.command in ("benchmark", "plot"):
            from rl_zoo.benchmark import command as benchmark_command

            return benchmark_command.main(args, argv)
        if args.command == "rlhf":
            from rl_zoo.rlhf import command as rlhf_command

            return rlhf_command.main(args, argv)
        if args.command == "enjoy":
            return small_commands.enjoy_main(args)
        if args.command == "sweep":
            from rl_zoo.sweep import command as sweep_command

            return sweep_command.main(args, argv)
    except (ConfigError, ValueError, FileExistsError, FileNotFoundError, FolderInUse) as e:
        _exit_if_a_peer_was_lost(e)
        print(f"rl-zoo: error: {e}", file=sys.stderr)
        _end_a_multi_host_process(2)
        return 2
    except ImportError as e:  # an env's optional install missing (LunarLander: box2d, MuJoCo): its message, one line
        from envs.gymnasium_adapter import MissingDependency

        if not isinstance(e, MissingDependency):
            raise
        print(f"rl-zoo: error: {e}", file=sys.stderr)
        return 2
    except OSError as e:  # a disk full, a read-only folder (train says what the run keeps): one line, not a traceback
        from rl_zoo.lock import LocksUnavailable
        from rl_zoo.runs import STORAGE_ERRNOS

        if e.errno == errno.ENAMETOOLONG:  # `--out`, `-o`, `--tensorboard` given a name over NAME_MAX: bad input
            print(f"rl-zoo: error: {name_too_long(e)}", file=sys.stderr)
            return 2
        if e.errno not in STORAGE_ERRNOS and not isinstance(e, LocksUnavailable):  # anything else is a bug to see whole
            raise
        print(f"rl-zoo: error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt as e:  # Ctrl-C: what was written stays (train says how to resume)
        from rl_zoo import interrupt

        same = "the same command without --rerun" if getattr(args, "rerun", False) else "the same command"  # --rerun would start over
        resumes = getattr(args, "resume", None) and not isinstance(e, interrupt.AfterTheRun)  # not a finished run's video
        again = {"train": f": `{_resume_words(args)}` takes it up again" if resumes else "",
                 "sweep": f": run {same} again; finished groups and halving rungs are kept, an interrupted group trains again from its start (or its last finished rung)",
                 "benchmark": f": run {same} again; finished cells are skipped, an interrupted one resumes"}
        code = interrupt.say_stop(f": {e.words}" if isinstance(e, interrupt.StoppedWithWords) else again.get(args.command, ""))
        _end_a_multi_host_process(code, refused=False)
        return code
    except RuntimeError as e:
        from rl_zoo.driver.guard import memory_advice, out_of_memory
        from rl_zoo.host.batched_env import HostEnvError
        from rl_zoo.train import NonFiniteError

        if isinstance(e, HostEnvError):  # the env's own traceback (not XLA's twice), then one line
            from rl_zoo import interrupt

            if interrupt.signalled():  # a worker the same SIGTERM (or Ctrl-C) reached first: the stop, not a crash
                print(f"rl-zoo: {interrupt.received()} (an env's subprocess ended with the signal: {e})", file=sys.stderr)
                return interrupt.exit_status()
            if e.env_traceback:
                print(e.env_traceback.rstrip(), file=sys.stderr)
            print(f"rl-zoo: error: {e}", file=sys.stderr)
            return 1
        if (oom := out_of_memory(e)) is not None:  # XLA's (a RuntimeError): what to ask for instead, one line
            print(f"rl-zoo: error: out of memory ({oom}): {memory_advice(args.command)}", file=sys.stderr)
            return 1
        _exit_if_a_peer_was_lost(e)
        if not isinstance(e, NonFiniteError):
            raise
        print(f"rl-zoo: error: {e}", file=sys.stderr)
        return 3
    return 1


if __name__ == "__main__":  # python -m rl_zoo.cli: the rl-zoo command
    console_main()
