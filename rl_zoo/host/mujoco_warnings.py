"""MuJoCo's warnings as Python warnings. MuJoCo's own handler prints each warning on the terminal and appends it to
``MUJOCO_LOG.TXT`` in the working folder: gymnasium's MuJoCo models use a deprecated compiler attribute
(``settotalmass``), so `rl-zoo train --env HalfCheetah-v5` printed a line per env copy it made (12 for PPO) and left
that file wherever the command was typed, and `rl-zoo enjoy` did the same. Here each message is shown once per
process as a Python warning, which ``-W`` or ``PYTHONWARNINGS`` can filter like any other (``error`` writes it to
stderr instead: an exception cannot cross MuJoCo's C code), and the working folder stays clean; a warning from the
simulation (a NaN in the accelerations, say) is still shown. MuJoCo's handler is process-wide: once a MuJoCo id of
gymnasium's was made, MuJoCo code of the user's own in the same process warns this way too.

Light on purpose: an ``--vector-env async`` worker calls it without importing JAX (``workers.worker_make``)."""

from __future__ import annotations

import sys
import warnings


class MuJoCoWarning(RuntimeWarning):
    """A warning MuJoCo's C code raised (``mju_warning``)."""


#: the messages this process has shown (Python's own once-per-location registry is reset whenever a
#: ``warnings.catch_warnings`` block ends, and the adapter makes copies inside such blocks: 3 of 12 still showed)
_shown: set[str] = set()


def _to_python(message: str) -> None:
    """MuJoCo's warning handler: ``warnings.warn`` once per message, counted as shown only where the filters let it
    through (one first raised inside a ``catch_warnings`` that ignores warnings is shown the next time). Under
    ``-W error`` it goes to stderr, as MuJoCo's own handler wrote it: an exception cannot cross MuJoCo's C code
    (the process aborted)."""
    if message in _shown:
        return
    try:
        with warnings.catch_warnings(record=True) as caught:  # the filters as they are; what they let through, kept
            warnings.warn(f"MuJoCo: {message}", MuJoCoWarning, stacklevel=2)
    except Exception:  # noqa: BLE001 - "error": raised by warn itself
        _shown.add(message)
        sys.stderr.write(f"MuJoCo warning: {message}\n")
        return
    for w in caught:
        _shown.add(message)
        warnings.showwarning(w.message, w.category, w.filename, w.lineno, w.file, w.line)


def uses_mujoco(env_id: str) -> bool:
    """Whether gymnasium's registered entry point of ``env_id`` is one of its MuJoCo envs (no env is made; an id
    gymnasium does not know, or one of the ``module:Id`` form, is not: MuJoCo code of the user's own keeps MuJoCo's
    handler unless a MuJoCo id of gymnasium's was made in the same process)."""
    try:
        import gymnasium

        entry = gymnasium.envs.registration.registry[env_id].entry_point
    except Exception:  # noqa: BLE001 - an id of the user's own: gymnasium.make says what is wrong with it
        return False
    return "mujoco" in (entry if isinstance(entry, str) else getattr(entry, "__module__", "") or "")


def route_mujoco_warnings(env_id: str) -> None:
    """Before ``gymnasium.make(env_id)``: where ``env_id`` is a MuJoCo env (``uses_mujoco``) and MuJoCo is installed,
    MuJoCo's warnings go to ``warnings.warn`` as ``MuJoCoWarning`` (once per process; a handler someone else
    installed is kept)."""
    if not uses_mujoco(env_id):
        return
    try:
        import mujoco
    except Exception:  # noqa: BLE001 - not installed, or its MUJOCO_GL backend fails: gymnasium.make says which
        return
    if mujoco.get_mju_user_warning() is None:
        mujoco.set_mju_user_warning(_to_python)
