"""Checkpoints: the whole training state (all seeds) at a segment boundary, written atomically.

A checkpoint holds every leaf of the algorithm's ``State`` pytree (parameters, optimiser state,
PRNG keys, env state, normaliser statistics, replay buffer, adaptive-KL beta, counters) plus the
driver's progress, so that a resumed run continues bit for bit. The pytree's structure is not
stored: it is rebuilt by the same code from the same config, and the saved leaves are checked
against it (count, shapes, dtypes) before they are used.

Format: ``flax.serialization`` msgpack (flax is already a dependency), one file per checkpoint,
``checkpoints/ckpt_<updates>.msgpack``, the last ``keep`` kept.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import jax
import numpy as np
from flax import serialization

from rl_zoo.runs import atomic_write_bytes

_NAME = re.compile(r"ckpt_(\d+)\.msgpack$")


def _is_key(x) -> bool:
    return hasattr(x, "dtype") and jax.dtypes.issubdtype(x.dtype, jax.dtypes.prng_key)


def _to_host(leaf) -> np.ndarray:
    return np.asarray(jax.random.key_data(leaf) if _is_key(leaf) else leaf)


def save(run_dir: str | Path, updates: int, state: Any, meta: dict, keep: int = 3) -> Path:
    """Write ``checkpoints/ckpt_<updates>.msgpack`` atomically and delete all but the last ``keep``."""
    folder = Path(run_dir) / "checkpoints"
    leaves = [_to_host(x) for x in jax.tree.leaves(state)]
    payload = serialization.msgpack_serialize({"leaves": {str(i): x for i, x in enumerate(leaves)}, "meta": meta})
    path = folder / f"ckpt_{updates:09d}.msgpack"
    atomic_write_bytes(path, payload)
    for old in list_checkpoints(run_dir)[:-keep]:
        old.unlink(missing_ok=True)
    return path


def list_checkpoints(run_dir: str | Path) -> list[Path]:
    folder = Path(run_dir) / "checkpoints"
    if not folder.is_dir():
        return []
    return sorted((p for p in folder.iterdir() if _NAME.match(p.name)), key=lambda p: int(_NAME.match(p.name).group(1)))


def latest(run_dir: str | Path) -> Path | None:
    found = list_checkpoints(run_dir)
    return found[-1] if found else None


def restore(path: str | Path, template: Any) -> tuple[Any, dict]:
    """Load a checkpoint into the structure of ``template`` (a freshly initialised state)."""
    raw = serialization.msgpack_restore(Path(path).read_bytes())
    saved = [raw["leaves"][str(i)] for i in range(len(raw["leaves"]))]
    leaves, treedef = jax.tree.flatten(template)
    if len(saved) != len(leaves):
        raise ValueError(f"checkpoint {path} holds {len(saved)} arrays but this config's state has {len(leaves)}")
    restored = []
    for i, (ref, x) in enumerate(zip(leaves, saved)):
        if _is_key(ref):
            x = jax.random.wrap_key_data(np.asarray(x), impl=jax.random.key_impl(ref))
        ref_shape = np.shape(ref)
        if np.shape(x) != ref_shape:
            raise ValueError(f"checkpoint {path}: array {i} has shape {np.shape(x)}, expected {ref_shape}")
        restored.append(x if _is_key(ref) else jax.numpy.asarray(x, dtype=ref.dtype))
    return jax.tree.unflatten(treedef, restored), raw["meta"]
