"""One Ctrl-C always stops a run, a sweep, a benchmark cell or the RLHF pipeline.

Python's own SIGINT handler raises ``KeyboardInterrupt`` wherever the main thread is at the time. Now
and then that is inside a callback whose exceptions Python ignores (a garbage-collection callback of
XLA's, an import lock's weakref callback): it prints ``Exception ignored in: ...`` and the run carries
on as if nothing was pressed (seen in 3 of 25 tries at the first second of a run; once the process
then hung importing matplotlib, holding its run directory's lock). ``installed`` keeps Python's
behaviour (the interrupt is raised at once) and also remembers it; `check`, called where the driver
can stop cleanly (after each checkpointed segment of a run or a sweep, after each RLHF stage, before
a run's summary and figure), raises it again if it was lost.
"""

from __future__ import annotations

import contextlib
import signal
import sys
import threading
from functools import partial

_pending = False


def _handler(signum, frame):
    global _pending
    _pending = True
    raise KeyboardInterrupt


@contextlib.contextmanager
def installed():
    """Within it, SIGINT raises ``KeyboardInterrupt`` and is remembered for `check` (main thread only;
    elsewhere, and where another handler than Python's default is set, nothing changes)."""
    global _pending
    if threading.current_thread() is not threading.main_thread() or signal.getsignal(signal.SIGINT) is not signal.default_int_handler:
        yield
        return
    _pending = False
    signal.signal(signal.SIGINT, _handler)
    unraisable = sys.unraisablehook
    sys.unraisablehook = partial(_quiet_about_interrupts, unraisable)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, signal.default_int_handler)
        sys.unraisablehook = unraisable
        _pending = False


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
