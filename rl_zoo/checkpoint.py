"""Checkpoints: the whole training state (all seeds) at a segment boundary, written atomically and checksummed.

A checkpoint holds every leaf of the algorithm's ``State`` pytree (parameters, optimiser state,
PRNG keys, env state, normaliser statistics, replay buffer, adaptive-KL beta, counters) plus the
driver's progress, so that a resumed run continues bit for bit. The pytree's structure is not
stored: it is rebuilt by the same code from the same config, and the saved leaves are checked
against it (their count and shapes) before they are used; each is then given the rebuilt leaf's
dtype (``restore`` casts; a checkpoint written by the same code from the same config already has it).

Format: ``MAGIC`` (8 bytes), the SHA-256 of the payload (32 bytes), then the payload, a
``flax.serialization`` msgpack of ``{"leaves": ..., "meta": ...}``; one file per checkpoint,
``checkpoints/ckpt_<updates>.msgpack``, the last ``keep`` kept. ``read`` verifies the checksum, so a
truncated or altered file is reported as damaged (``CheckpointDamaged``: which file and why) rather
than half-loaded. Files written before checksums (plain msgpack) are still read, unverified.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Any

import jax
import numpy as np
from flax import serialization

from rl_zoo.runs import atomic_write_bytes

_NAME = re.compile(r"ckpt_(\d+)\.msgpack$")
MAGIC = b"RLZOOCK2"
DAMAGED_SUFFIX = ".damaged"


class CheckpointDamaged(ValueError):
    """A checkpoint file cannot be used: truncated, altered, or not a checkpoint. The message names it
    (``message`` replaces the whole of it: every checkpoint of a folder damaged, ``path`` the folder)."""

    def __init__(self, path: Path, reason: str, message: str | None = None):
        super().__init__(message or f"checkpoint {path} is damaged: {reason}")
        self.path, self.reason = Path(path), reason


class CheckpointGone(CheckpointDamaged):
    """A checkpoint file removed after it was listed: a training run keeps its newest few and deletes the older
    (``keep_checkpoints``), so a reader of a run still training can lose that race. Not damage: list again."""


def _is_key(x) -> bool:
    return hasattr(x, "dtype") and jax.dtypes.issubdtype(x.dtype, jax.dtypes.prng_key)


def _to_host(leaf) -> np.ndarray:
    return np.asarray(jax.random.key_data(leaf) if _is_key(leaf) else leaf)


def encode(state: Any, meta: dict) -> bytes:
    """The bytes of a checkpoint of ``state`` (any pytree of arrays) with ``meta`` (plain data)."""
    leaves = [_to_host(x) for x in jax.tree.leaves(state)]
    payload = serialization.msgpack_serialize({"leaves": {str(i): x for i, x in enumerate(leaves)}, "meta": meta})
    return MAGIC + hashlib.sha256(payload).digest() + payload


def save(run_dir: str | Path, updates: int, state: Any, meta: dict, keep: int = 3) -> Path:
    """Write ``checkpoints/ckpt_<updates>.msgpack`` atomically and delete all but the last ``keep``
    (files renamed as damaged are never deleted)."""
    path = Path(run_dir) / "checkpoints" / f"ckpt_{updates:09d}.msgpack"
    atomic_write_bytes(path, encode(state, meta))
    prune(run_dir, keep)
    return path


def prune(run_dir: str | Path, keep: int) -> None:
    """Delete all but the newest ``keep`` checkpoints (files renamed as damaged are never deleted)."""
    for old in list_checkpoints(run_dir)[:-keep]:
        old.unlink(missing_ok=True)


def list_checkpoints(run_dir: str | Path) -> list[Path]:
    """The checkpoint files of a run directory, oldest first."""
    folder = Path(run_dir) / "checkpoints"
    if not folder.is_dir():
        return []
    return sorted((p for p in folder.iterdir() if _NAME.match(p.name)), key=updates_of)


def updates_of(path: str | Path) -> int:
    """The update count in a checkpoint's file name."""
    return int(_NAME.match(Path(path).name).group(1))


def latest(run_dir: str | Path) -> Path | None:
    found = list_checkpoints(run_dir)
    return found[-1] if found else None


def read(path: str | Path) -> tuple[list[np.ndarray], dict]:
    """The saved leaves (in order) and meta of a checkpoint, its checksum verified.

    Raises ``CheckpointDamaged`` naming the file and what is wrong with it.
    """
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise CheckpointGone(path, "removed since it was listed (a run still training prunes its older checkpoints)") from None
    except OSError as e:
        raise CheckpointDamaged(path, f"cannot be read ({e.strerror or e})") from None
    if not data:
        raise CheckpointDamaged(path, "the file is empty")
    if MAGIC.startswith(data[:len(MAGIC)]):
        digest, payload = data[len(MAGIC):len(MAGIC) + 32], data[len(MAGIC) + 32:]
        if len(digest) < 32 or hashlib.sha256(payload).digest() != digest:
            raise CheckpointDamaged(path, f"its checksum does not match its contents ({len(data):,} bytes: truncated or altered)")
    else:
        payload = data  # written before checksums: unverified
    try:
        raw = serialization.msgpack_restore(payload)
        saved = [np.asarray(raw["leaves"][str(i)]) for i in range(len(raw["leaves"]))]
        meta = dict(raw["meta"])
    except Exception as e:  # msgpack's own words for a file that is not a checkpoint
        raise CheckpointDamaged(path, f"not a readable checkpoint ({type(e).__name__}: {e})") from None
    return saved, meta


def verify(path: str | Path) -> str | None:
    """Why the checkpoint at ``path`` cannot be used, or ``None`` if it reads back intact."""
    try:
        read(path)
    except CheckpointDamaged as e:
        return e.reason
    return None


def set_aside(path: str | Path) -> Path:
    """Rename a damaged checkpoint to ``<name>.damaged`` (kept for inspection, never pruned or read)."""
    path = Path(path)
    target = path.with_name(path.name + DAMAGED_SUFFIX)
    n = 1
    while target.exists():
        n += 1
        target = path.with_name(f"{path.name}{DAMAGED_SUFFIX}{n}")
    path.rename(target)
    return target


class ShapeMismatch(ValueError):
    """The saved arrays are not the template's in count or shape (other seeds are said as such: ``leading``)."""


def restore(path: str | Path, template: Any, leading: str | None = None) -> tuple[Any, dict]:
    """Load a checkpoint into the structure of ``template`` (a freshly initialised state): the count and
    shape of every saved array are checked, then each is cast to the template leaf's dtype.

    ``leading`` names what the leading axis of every leaf counts (the driver stacks its seeds there:
    ``"seeds"``): a checkpoint that differs from the template only in that axis is then refused as
    "holds 3 seeds, this run 1" rather than by the first array's shape."""
    saved, meta = read(path)
    leaves, treedef = jax.tree.flatten(template)
    if len(saved) != len(leaves):
        raise ShapeMismatch(f"checkpoint {path} holds {len(saved)} arrays but this config's state has {len(leaves)}")
    shapes = [np.shape(x)[:-1] if _is_key(ref) and np.ndim(x) else np.shape(x) for ref, x in zip(leaves, saved)]
    if leading and (counts := leading_counts(shapes, [np.shape(ref) for ref in leaves])):
        raise ValueError(f"checkpoint {path} holds {counts[0]} {leading}, this run {counts[1]}")
    restored = []
    for i, (ref, x) in enumerate(zip(leaves, saved)):
        if _is_key(ref):
            width = jax.random.key_data(ref).shape[-1]
            if np.ndim(x) == 0 or np.shape(x)[-1] != width:  # wrap_key_data's own TypeError is a traceback
                raise ValueError(f"checkpoint {path}: array {i} holds random keys {np.shape(x)[-1] if np.ndim(x) else 0} "
                                 f"words wide, this process's ({jax.random.key_impl(ref)}) {width}: it was written under "
                                 f"another JAX_DEFAULT_PRNG_IMPL (config.json's versions record it)")
            x = jax.random.wrap_key_data(np.asarray(x), impl=jax.random.key_impl(ref))
        ref_shape = np.shape(ref)
        if np.shape(x) != ref_shape:
            raise ShapeMismatch(f"checkpoint {path}: array {i} has shape {np.shape(x)}, expected {ref_shape}")
        if not _is_key(ref) and _kind(np.asarray(x).dtype) != _kind(ref.dtype):  # 0.7 cast to an int is 0, silently
            raise ValueError(f"checkpoint {path}: array {i} holds {np.asarray(x).dtype} values, this config's state "
                             f"{ref.dtype}: it was written by another config")
        restored.append(x if _is_key(ref) else jax.numpy.asarray(x, dtype=ref.dtype))
    return jax.tree.unflatten(treedef, restored), meta


def _kind(dtype) -> str:
    """What a dtype holds, whatever its width (float32 and float64 alike: x64 runs resume x32 checkpoints)."""
    kind = np.dtype(dtype).kind
    return "int" if kind in "iu" else kind


def leading_counts(saved: list[tuple], expected: list[tuple]) -> tuple[int, int] | None:
    """``(saved count, expected count)`` when the shapes ``saved`` differ from ``expected`` only in a
    leading axis that every leaf has (the same size in all saved leaves, the same in all expected ones),
    else ``None``."""
    if not saved or any(len(a) == 0 or len(a) != len(b) or a[1:] != b[1:] for a, b in zip(saved, expected)):
        return None
    have, want = {a[0] for a in saved}, {b[0] for b in expected}
    if len(have) != 1 or len(want) != 1 or have == want:
        return None
    return have.pop(), want.pop()
