"""An exclusive OS lock on a folder (a run directory, a benchmark folder) held while a process works in it.

``fcntl.flock`` on ``FOLDER/.lock``: the kernel releases it when the process ends, however it ends
(kill -9 included), so a stale lock never needs cleaning up. The lock file records the holder's PID
so that a second process can say who holds it.
"""

from __future__ import annotations

import os
from pathlib import Path

LOCK_NAME = ".lock"


class FolderInUse(RuntimeError):
    """Another live process holds the folder's lock; the message names the folder and the PID."""


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
        import fcntl

        self.folder.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.folder / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _read_pid(fd)
            os.close(fd)
            who = f"process {holder}" if holder else "another process"
            raise FolderInUse(f"{self.what} {str(self.folder)!r} is in use by {who}; wait for it to finish "
                              f"or stop it, then run again") from None
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
    process holds it. Taking the lock for the test and releasing it at once leaves no trace."""
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


def _read_pid(fd: int) -> int | None:
    try:
        text = os.pread(fd, 32, 0).decode().strip()
        return int(text) if text else None
    except (OSError, ValueError):
        return None
