"""The worker side of ``--vector-env async`` (gymnasium's ``AsyncVectorEnv``, one subprocess per env copy):
how a worker makes its env and leaves Ctrl-C to the main process, how an env's exception crosses to the main
process intact (its ``%`` signs doubled for gymnasium's logger, its traceback kept), how the logger's
per-worker tracebacks are kept quiet, and how the subprocesses are started. ``rl_zoo.host.batched_env`` uses
them; ``run_host_program`` shows a worker's error once."""

from __future__ import annotations

import contextlib
from typing import Any, Callable


#: the signals an async worker leaves to the main process: a terminal's Ctrl-C and a scheduler's SIGTERM reach
#: the whole process group
STOP_SIGNALS = ("SIGINT", "SIGTERM")
#: whether this process is an AsyncVectorEnv worker (``orphan_quiet_worker`` sets it before the worker loop)
_in_worker = False


def worker_make(env_id: str, make_kwargs: dict, failures: str | None = None):
    """``gymnasium.make`` for an AsyncVectorEnv subprocess, which leaves Ctrl-C and SIGTERM to the main process
    (that closes it, as after a sync run) instead of dying of them: with a traceback per worker, or, on a SIGTERM
    sent to every process (a batch scheduler's end of job), before the main process could stop, which then
    reported the workers as crashed (exit 1, where a sync run exits 143). A worker forked by the forkserver
    ignores both from its start (``start_forkserver_ignoring_stops``); one spawned, from here. In the main process
    (gymnasium may make a copy there to read the spaces) they keep their meaning. A worker whose env cannot be
    made writes its error into the folder ``failures`` and exits quietly (``made_in_workers`` names it once; the
    main process would see only a closed pipe, after a traceback per worker)."""
    import signal

    import gymnasium

    from rl_zoo.host.mujoco_warnings import route_mujoco_warnings

    route_mujoco_warnings(env_id)
    if not _in_worker:  # the main process's copy (gymnasium reads the spaces from one), in a process of the user's too
        return gymnasium.make(env_id, **make_kwargs)
    stops = {getattr(signal, name) for name in STOP_SIGNALS}
    for signum in stops:
        signal.signal(signum, signal.SIG_IGN)
    try:
        return PercentSafe(gymnasium.make(env_id, **make_kwargs))
    except Exception as e:
        if failures is None:
            raise
        import os
        import traceback
        from pathlib import Path

        mine = Path(failures) / f"{os.getpid()}"
        try:  # the folder is gone once the main process read another worker's: nothing left to say
            mine.with_suffix(".part").write_text(f"{type(e).__name__}: {e}\n" + "".join(traceback.format_exception(e)))
            mine.with_suffix(".part").rename(mine.with_suffix(".txt"))
        finally:
            os._exit(1)


def made_in_workers(env_id: str, start: Callable[[str], Any]):
    """``start(failures)``, which starts an AsyncVectorEnv of ``worker_make`` workers that write why they could not
    make their env into the folder ``failures``: such an error comes out as ``HostEnvError`` (the env's exception in
    one line, its traceback), where the main process saw only a closed pipe (``EOFError``, ``ConnectionError``,
    raised as they are where no worker wrote why: a script that imports itself again, say)."""
    import shutil
    import tempfile
    from pathlib import Path

    from envs.gymnasium_adapter import HostEnvError

    failures = tempfile.mkdtemp(prefix="rl-zoo-workers-")
    try:
        return start(failures)
    except (EOFError, ConnectionError) as e:
        if said := sorted(Path(failures).glob("*.txt")):
            first, _, text = said[0].read_text().partition("\n")
            raise HostEnvError(f"{env_id}: a --vector-env async subprocess could not make its copy of the env: {first}",
                               text) from e
        raise
    finally:
        shutil.rmtree(failures, ignore_errors=True)


def orphan_quiet_worker(*args) -> None:
    """Gymnasium's ``_async_worker`` (the ``worker`` of an AsyncVectorEnv), ended quietly when the main process is
    gone: a ``kill -9`` of it made every worker print a two-part traceback (its ``recv`` found the pipe closed, and
    its report of that error could not be sent back). With the main process alive a worker's errors reach it as
    before (the report is sent)."""
    from gymnasium.vector.async_vector_env import _async_worker

    global _in_worker
    _in_worker = True  # for worker_make: multiprocessing.parent_process() is set in any process the user started too
    try:
        _async_worker(*args)
    except (BrokenPipeError, ConnectionResetError, EOFError):  # no main process to tell
        pass


_started: list = []  # the workers of this process's AsyncVectorEnvs, for ``_kill_leftovers`` at exit


def kill_at_exit(processes) -> None:
    """Have the worker ``processes`` of an AsyncVectorEnv killed at this process's exit where still alive (a venv
    never closed: an interrupt as it started, a caller's own code). multiprocessing's exit handler ends daemonic
    children with SIGTERM, which workers ignore (``worker_make``), then waits for them: the process hung. This
    handler, registered after multiprocessing's, runs before it (exit handlers run last in, first out)."""
    import atexit

    if not _started:
        atexit.register(_kill_leftovers)
    _started[:] = [p for p in _started if p.exitcode is None] + list(processes)


def _kill_leftovers() -> None:
    for process in _started:
        try:
            if process.is_alive():
                process.kill()
        except (OSError, ValueError, AssertionError):  # reaped, its handle closed; a forked child's copy (not its child)
            pass


def start_forkserver_ignoring_stops() -> None:
    """Start multiprocessing's forkserver, where this process has none running yet, with SIGINT and SIGTERM ignored:
    it and every worker it forks inherit that from their start. A SIGTERM sent to every process (a batch
    scheduler's end of job) killed the forkserver, after which multiprocessing reported each live worker as dead
    (exit code 255) and the run as an env crash (exit 1, where a sync run exits 143); a Ctrl-C as the workers
    started, before ``worker_make`` ignored it, killed some with a traceback each. The two signals are ignored here
    only while the server's process is spawned (milliseconds, once per process; one arriving then in another
    thread is lost); a forkserver already running (started by the caller's own code) is left as it is."""
    import multiprocessing.forkserver
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "pthread_sigmask"):
        multiprocessing.forkserver.ensure_running()
        return
    stops = {getattr(signal, name) for name in STOP_SIGNALS}
    mask = signal.pthread_sigmask(signal.SIG_BLOCK, stops)  # this thread takes none before they are ignored
    handlers = {signum: signal.getsignal(signum) for signum in stops}
    try:
        for signum in stops:
            signal.signal(signum, signal.SIG_IGN)
        multiprocessing.forkserver.ensure_running()
    finally:
        for signum, handler in handlers.items():
            signal.signal(signum, signal.SIG_DFL if handler is None else handler)
        signal.pthread_sigmask(signal.SIG_SETMASK, mask)


@contextlib.contextmanager
def worker_errors_unprinted(venv):
    """Around a call of gymnasium's ``AsyncVectorEnv``: its logger printed every failed worker's traceback
    (8 workers raising at one step: ~250 lines) before it raised the last worker's exception. That
    exception (``EnvWorkerError``) carries its worker's traceback, which ``run_host_program`` shows once."""
    import gymnasium

    if not isinstance(venv, gymnasium.vector.AsyncVectorEnv):
        yield
        return
    from gymnasium import logger

    level, logger.min_level = logger.min_level, logger.ERROR + 10
    try:
        yield
    finally:
        logger.min_level = level


def percent_safe(call):
    """Re-raise an env's exception as a ``RuntimeError`` holding its traceback with every ``%`` doubled:
    gymnasium's AsyncVectorEnv passes a worker's traceback to its logger as a %-format string, so a
    ``%`` in it (``raise ValueError("x = %d" % x)``) replaced the env's error by ``TypeError: not enough
    arguments for format string``. ``run_host_program`` undoubles them."""
    import traceback

    def wrapped(*args, **kwargs):
        try:
            return call(*args, **kwargs)
        except Exception as e:  # (no percent sign on the raise line below: the traceback shows that line too)
            text = f"{e} ({type(e).__name__} in an async worker)\n" + "".join(traceback.format_exception(e))
            raise EnvWorkerError(doubled_percent(text)) from None

    return wrapped


class EnvWorkerError(RuntimeError):
    """An env's exception in an async worker: the first line of its message is the env's message, the
    rest the env's traceback in the worker."""


class EnvWorkerDied(EnvWorkerError):
    """An async worker's process ended in the middle of a call (a crash in an env's native code, such as a
    segfault in MuJoCo or Box2D, or the out-of-memory killer): no Python exception crossed its pipe."""


def dead_workers(venv, wait: float = 0.0) -> list[tuple[int, int]]:
    """``(copy, exit code)`` of each subprocess of an ``AsyncVectorEnv`` that has ended (a negative code: the
    signal that ended it); [] for a vector env without subprocesses. ``wait``: seconds to look again while none
    has (its pipe closes as it exits, a moment before its exit code is there)."""
    import time

    deadline = time.monotonic() + wait
    while True:
        dead = [(i, p.exitcode) for i, p in enumerate(getattr(venv, "processes", ())) if p.exitcode is not None]
        if dead or time.monotonic() >= deadline:
            return dead
        time.sleep(0.05)


def death_text(code: int) -> str:
    """``-11`` -> ``"signal SIGSEGV"``, ``1`` -> ``"exit code 1"``."""
    import signal

    if code < 0:
        try:
            return f"signal {signal.Signals(-code).name}"
        except ValueError:
            return f"signal {-code}"
    return f"exit code {code}"


def terminate(venv) -> None:
    """Close an ``AsyncVectorEnv`` one of whose workers died mid-call without reading its pipes: gymnasium's own
    ``close`` first waits for the pending call, on a pipe whose reply it had already read (a hang), or reads the
    dead worker's pipe again (``EOFError``), even with ``terminate=True``. Ends the live workers (SIGKILL: they
    ignore SIGTERM, ``worker_make``), closes the pipes, joins them all."""
    for process in venv.processes:
        if process.is_alive():
            process.kill()
    for pipe in venv.parent_pipes:
        if pipe is not None:
            pipe.close()
    for process in venv.processes:
        process.join()
    venv.closed = True


def doubled_percent(text: str) -> str:
    return text.replace("%", "%%")


class PercentSafe:
    """An async worker's env with ``step`` and ``reset`` behind ``percent_safe`` (all else passed through)."""

    def __init__(self, env):
        self._env = env
        self.step, self.reset = percent_safe(env.step), percent_safe(env.reset)

    def __getattr__(self, name):
        return getattr(self._env, name)


def subprocess_start_method() -> str:
    """How ``--vector-env async`` starts its subprocesses: ``"forkserver"`` where the platform has it,
    else ``"spawn"``. Either imports the main module afresh in the server, so a script that trains with
    ``vector_env="async"`` must guard its entry point with ``if __name__ == "__main__":``."""
    import multiprocessing

    return "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"
