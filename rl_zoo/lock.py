"""An exclusive OS lock on a folder (a run directory, a benchmark folder) held while a process works in it.

``fcntl.flock`` on ``FOLDER/.lock``: the kernel releases it when the process ends, however it ends
(kill -9 included), so a stale lock never needs cleaning up. The lock file records the holder's PID
so that a second process can say who holds it.
"""

from __future__ import annotations

import errno
import os
from pathlib import Path

LOCK_NAME = ".lock"
#: what ``flock`` says on a file system that gives no locks (NFS without its lock daemon: ENOLCK)
NO_LOCKS_ERRNOS = frozenset({errno.ENOLCK, errno.EOPNOTSUPP, errno.ENOSYS})


class FolderInUse(RuntimeError):
    """Another live process holds the folder's lock; the message names the folder and the PID."""


class LocksUnavailable(OSError):
    """The folder's file system refuses locks (``NO_LOCKS_ERRNOS``); the message says what to do."""


class FolderLock:
    """``with FolderLock(path, what="run directory"):`` holds ``path/.lock`` exclusively.

    Raises ``FolderInUse`` at once (no waiting) when another process holds it. Entering twice in the
    same process is refused too: the lock is per open file description.
    """

    def __init__(self, folder: str | os.PathLike, what: str = "run directory"):
        self.folder = Path(folder)
        self.what = what
        self._fd: int | None = None

    def acquire(self) -> "FolderLock":
        self.folder.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.folder / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            _flock_retried(fd)
        except BlockingIOError:
            holder = _read_pid(fd)
            os.close(fd)
            who = f"process {holder}" if holder else "another process"
            raise FolderInUse(f"{self.what} {str(self.folder)!r} is in use by {who}; wait for it to finish "
                              f"or stop it, then run again") from None
        except OSError as e:  # it was a traceback ending in "OSError: [Errno 37] No locks available"
            os.close(fd)
            if e.errno not in NO_LOCKS_ERRNOS:
                raise
            raise LocksUnavailable(e.errno, f"{self.what} {str(self.folder)!r}: its file system gives no locks ({e.strerror}), "
                                   f"which rl-zoo takes so that two processes never write into one {self.what}: use a "
                                   f"folder on a local disk, or a file system that locks (NFS with its lock daemon)") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        self._fd = fd
        return self

    def release(self) -> None:
        import fcntl

        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> "FolderLock":
        return self.acquire()

    def __exit__(self, *exc) -> None:
        self.release()


def holder(folder: str | os.PathLike) -> int | None:
    """The PID of the live process that holds ``folder``'s lock (0 when it recorded none), or None when no
    process holds it. Taking the lock shared for the test and releasing it at once leaves no file changed; a
    process taking the lock in those microseconds tries again (``FolderLock.acquire``)."""
    import fcntl

    path = Path(folder) / LOCK_NAME
    if not path.is_file():
        return None
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return _read_pid(fd) or 0
    else:
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)


def _flock_retried(fd: int, tries: int = 3, wait_s: float = 0.01) -> None:
    """``flock(fd, LOCK_EX | LOCK_NB)``, tried again twice after 10 ms: `holder`'s test takes the lock shared for a
    few microseconds, and a run starting then was refused as "in use" by the PID its crashed predecessor left."""
    import fcntl
    import time

    for i in range(tries):
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            if i == tries - 1:
                raise
            time.sleep(wait_s)


def _read_pid(fd: int) -> int | None:
    try:
        text = os.pread(fd, 32, 0).decode().strip()
        return int(text) if text else None
    except (OSError, ValueError):
        return None
