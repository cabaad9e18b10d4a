"""One Ctrl-C always stops a run, a sweep, a benchmark cell or the RLHF pipeline.

Python's own SIGINT handler raises ``KeyboardInterrupt`` wherever the main thread is at the time. Now
and then that is inside a callback whose exceptions Python ignores (a garbage-collection callback of
XLA's, an import lock's weakref callback): it prints ``Exception ignored in: ...`` and the run carries
on as if nothing was pressed (seen in 3 of 25 tries at the first second of a run; once the process
then hung importing matplotlib, holding its run directory's lock). ``installed`` keeps Python's
behaviour (the interrupt is raised at once) and also remembers it; `check`, called where the driver
can stop cleanly (after each checkpointed segment of a run or a sweep, after each RLHF stage, before
a run's summary and figure), raises it again if it was lost.

``installed(terminate=True)`` (the ``rl-zoo`` command) treats SIGTERM (``timeout``, ``docker stop``, a
batch scheduler's end of job) as a Ctrl-C: the run stops at its next chance and says how to resume;
``exit_status`` is then 143, where a Ctrl-C's is 130.
"""

from __future__ import annotations

import contextlib
import signal
import sys
import threading
from functools import partial

_pending = False
_received: int | None = None  # the last signal the handler took (SIGINT or SIGTERM)
_stopping = False  # the command is ending after a signal (``stopping``): another is remembered, not raised


def _handler(signum, frame):
    global _pending, _received
    if _stopping:  # a second Ctrl-C while the first one's stop is said: it would cut that with a traceback
        return
    _pending, _received = True, signum
    raise KeyboardInterrupt


def stopping() -> None:
    """The command is ending after a Ctrl-C or SIGTERM (its except clause says so): until ``installed``'s block is
    left, a further signal changes nothing (it raised inside the clause, or inside ``installed``'s own exit, and
    the process died of it with a traceback and exit -2, where 130 or 143 was due)."""
    global _stopping
    _stopping = True


def received() -> str:
    """How the command was stopped, in a word for its last line: "terminated" after SIGTERM, else "interrupted"."""
    return "terminated" if _received == signal.SIGTERM else "interrupted"


def signalled() -> bool:
    """Whether a SIGINT or SIGTERM came since ``installed`` took them: an error that follows one (an async worker
    the signal reached first) is the stop's, not a failure of its own."""
    return _received is not None


class AfterTheRun(KeyboardInterrupt):
    """A Ctrl-C (or SIGTERM) that stopped a hook after its run had finished (``--record-video`` drawing the final
    episode): the run's results are written and there is nothing to resume."""


class StoppedWithWords(KeyboardInterrupt):
    """A Ctrl-C (or SIGTERM) a command caught to say what its stop left (``words``, put after "rl-zoo: interrupted" on
    the one line ``say_stop`` prints): ``rl-zoo rlhf``'s "nothing was kept ..." was a line of its own above it."""

    def __init__(self, words: str):
        super().__init__(words)
        self.words = words


def raise_if_signalled() -> None:
    """Raise ``KeyboardInterrupt`` if a SIGINT or SIGTERM came since ``installed`` took them. For an error caught
    where the signal may have caused it: a library that turns an interrupt inside its C code into an error of its
    own (Box2D's drawing of LunarLander raised a TypeError, said as "drawing LunarLander-v3 failed", exit 2, in 2
    of 22 Ctrl-Cs) is then the stop it is, not a failure."""
    if _received is not None:
        raise KeyboardInterrupt


def say_stop(words: str = "", prefix: str = "rl-zoo: ") -> int:
    """End a command stopped by a signal: ``stopping`` (a second signal cannot cut the line), the line
    ``PREFIX interrupted|terminated WORDS`` on stderr, and the exit status to return (``exit_status``)."""
    stopping()
    print(f"{prefix}{received()}{words}", file=sys.stderr)
    return exit_status()


def exit_status() -> int:
    """The exit status of a command stopped by a signal: 128 + its number (130 for Ctrl-C, 143 for SIGTERM)."""
    return 128 + (_received or signal.SIGINT)


@contextlib.contextmanager
def installed(terminate: bool = False):
    """Within it, SIGINT raises ``KeyboardInterrupt`` and is remembered for `check` (main thread only;
    elsewhere, and where another handler than Python's default is set, nothing changes); with
    ``terminate``, SIGTERM does the same where it has its default action (the process would just die)."""
    global _pending, _received, _stopping
    main = threading.current_thread() is threading.main_thread()
    sigint = main and signal.getsignal(signal.SIGINT) is signal.default_int_handler
    term = main and terminate and signal.getsignal(signal.SIGTERM) == signal.SIG_DFL
    if not (sigint or term):
        yield
        return
    _pending, _received, _stopping = False, None, False
    for signum, taken in ((signal.SIGINT, sigint), (signal.SIGTERM, term)):
        if taken:
            signal.signal(signum, _handler)
    unraisable = sys.unraisablehook
    sys.unraisablehook = partial(_quiet_about_interrupts, unraisable)
    try:
        yield
    finally:
        _stopping = True  # a signal in these lines would escape the block as a traceback
        if sigint:
            signal.signal(signal.SIGINT, signal.default_int_handler)
        if term:
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
        sys.unraisablehook = unraisable
        _pending, _received, _stopping = False, None, False  # an error after the block is not a signal's


@contextlib.contextmanager
def deferred():
    """Within it, a SIGINT (and a SIGTERM `installed` took) is held and raised on leaving, as its handler would
    have raised it: for a few lines that must not be cut in two. ``run_host_program`` starts the thread that
    runs a program stepping host envs inside it: a Ctrl-C inside ``Thread.start`` left that thread stepping
    the envs with no one to stop it or wait for it, while the run closed them under it (a traceback, exit 1).
    Outside the main thread, or where neither handler is Python's or ours, nothing changes."""
    came: list[int] = []
    handlers: dict[int, object] = {}  # the signals held, each with its handler to put back
    holding = True

    def hold(signum, frame):  # once the block is left, a signal goes to its handler even before that is back
        if holding:
            came.append(signum)
        else:
            handlers[signum](signum, frame)

    try:
        if threading.current_thread() is threading.main_thread():
            for s in (signal.SIGINT, signal.SIGTERM):
                if (h := signal.getsignal(s)) in (_handler, signal.default_int_handler):
                    handlers[s] = h
                    signal.signal(s, hold)
        yield
    finally:
        holding = False
        for s, h in handlers.items():
            signal.signal(s, h)
        if came:
            handlers[came[0]](came[0], None)  # raises KeyboardInterrupt (ours also remembers it for `check`)


def _quiet_about_interrupts(hook, unraisable) -> None:
    """``sys.unraisablehook`` that leaves out the ``Exception ignored in ...`` traceback of a swallowed
    Ctrl-C (`check` raises it where the run can stop) and passes anything else to ``hook``."""
    if not issubclass(unraisable.exc_type, KeyboardInterrupt):
        hook(unraisable)


def check() -> None:
    """Raise ``KeyboardInterrupt`` if a Ctrl-C came and was swallowed on its way (see the module docstring)."""
    global _pending
    if _pending:
        _pending = False
        raise KeyboardInterrupt
