"""The NaN guard: stop a run at the first non-finite loss, metric or parameter, naming where it appeared."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import NoReturn

import numpy as np

from rl_zoo import checkpoint, distributed


class NonFiniteError(RuntimeError):
    """Training produced NaN or Inf; the message names the update, the seed and the quantity."""


def memory_advice(command: str | None) -> str:
    """What to ask for instead when ``rl-zoo COMMAND`` ran out of memory."""
    if command in ("train", "sweep", "benchmark"):
        return ("a run's memory grows with its seeds (and a sweep's configs), --eval-episodes (an evaluation plays "
                "all its episodes at once) and the algorithm's num_envs, num_steps (PPO, TRPO, VPG), buffer_size and "
                "batch_size (DQN) (--set): ask for fewer")
    return "the command asked for more memory than the device has: ask for less (fewer episodes, samples or seeds)"


def out_of_memory(error: BaseException) -> str | None:
    """XLA's words when ``error`` is its failure to allocate (``RESOURCE_EXHAUSTED``, e.g. "Out of memory
    allocating 55800000568 bytes."), else ``None``: a resource to name in one line, not a bug's traceback."""
    text = str(error)
    if type(error).__name__ not in ("JaxRuntimeError", "XlaRuntimeError") or "RESOURCE_EXHAUSTED" not in text:
        return None
    lines = text.partition("RESOURCE_EXHAUSTED")[2].lstrip(":").strip().splitlines()
    return (lines[0].strip().rstrip(".") if lines else "") or "RESOURCE_EXHAUSTED"


def param_flags(states):
    """Per parameter array, whether each seed's values are all finite: ``{path: [seeds] bool}``, traced
    (the JAX runner's segment program returns it beside the new states, so only booleans travel)."""
    import jax
    import jax.numpy as jnp

    return jax.tree.map(lambda x: jnp.isfinite(x).reshape(x.shape[0], -1).all(axis=1)
                        if jnp.issubdtype(x.dtype, jnp.floating) else jnp.ones(x.shape[:1], bool),
                        getattr(states, "params", states))


def finite_param_flags(states):
    """``param_flags`` of ``states`` on the host, computed on the devices by its own program (the host
    runner, whose updates are not one compiled program)."""
    import jax

    return jax.tree.map(distributed.to_host, _finite_flags()(states))


@functools.cache
def _finite_flags():
    """The jitted check, built once so that it compiles once per run rather than once per segment."""
    import jax

    return jax.jit(param_flags)


def check_finite(metrics, params_finite, *, done_updates: int, steps_per_update: int, first_seed: int, run_dir: Path) -> None:
    """Raise ``NonFiniteError`` on the first NaN/Inf in a segment's metrics (host arrays ``[seeds, K, ...]``)
    or in the new parameters (``params_finite``: ``param_flags`` of them, on the host).

    Episode statistics are skipped: ``EpisodeMetrics`` is NaN by design in an update where no episode
    ended (``rl_zoo.core.types``), which is not a failure.
    """
    import jax

    for path, leaf in jax.tree_util.tree_flatten_with_path(metrics)[0]:
        if getattr(path[0], "name", None) == "episode":  # EpisodeMetrics: NaN means "no episode ended"
            continue
        x = np.asarray(leaf)
        if not np.issubdtype(x.dtype, np.floating) or np.isfinite(x).all():
            continue
        bad = ~np.isfinite(x.reshape(x.shape[0], x.shape[1], -1)).all(axis=2)  # [seeds, K]
        seed_idx, upd = min(zip(*np.nonzero(bad)), key=lambda t: (t[1], t[0]))
        entry = x[seed_idx, upd].ravel()  # a metric with several values per update: its first non-finite one
        value = entry[np.flatnonzero(~np.isfinite(entry))[0]]
        _stop(run_dir, f"{jax.tree_util.keystr(path).lstrip('.')} = {value}", done_updates + int(upd) + 1,
              first_seed + int(seed_idx), steps_per_update)
    for path, finite in jax.tree_util.tree_flatten_with_path(params_finite)[0]:
        finite = np.asarray(finite)
        if not finite.all():
            _stop(run_dir, f"parameter {jax.tree_util.keystr(path)} is not finite", None,
                  first_seed + int(np.nonzero(~finite)[0][0]), steps_per_update)


def stop_non_finite(run_dir: Path, what: str, seed: int, steps_per_update: int) -> NoReturn:
    """``NonFiniteError`` for a divergence seen outside the segment's metrics (a host env given a NaN action),
    with the guard's words: where the run's last good checkpoint is, and the usual cure."""
    _stop(run_dir, what, None, seed, steps_per_update)


def _stop(run_dir: Path, what: str, update: int | None, seed: int, steps_per_update: int) -> NoReturn:
    ckpt = checkpoint.latest(run_dir)
    where = f"at update {update} (env step {update * steps_per_update:,})" if update is not None else "in this segment"
    kept = f"the last good checkpoint is {ckpt}" if ckpt else "no checkpoint had been written yet"
    raise NonFiniteError(
        f"non-finite value {where} of seed {seed}: {what}. Training stopped; {kept}, and "
        f"metrics.csv holds the rows up to it. {cure_words(_recorded_config(run_dir), what)}"
    )


def _recorded_config(run_dir: Path) -> dict:
    """The config fields run_dir/config.json records (``{}`` where it cannot be read: ``runs.read_json_file``'s
    ``RunFileError``)."""
    from rl_zoo import runs

    try:
        config = runs.read_json_file(Path(run_dir) / "config.json").get("config")
    except runs.RunFileError:
        return {}
    return config if isinstance(config, dict) else {}


def cure_words(config: dict, what: str) -> str:
    """What usually cures a non-finite ``what`` in a run of ``config`` (its fields): smaller values of the step sizes
    the algorithm has (the value function's first where the value went non-finite), or a gradient clip where it has
    one. It said "learning rate (or max_grad_norm)" to TRPO, which has neither (max_kl, value_lr), and VPG (no clip)."""
    steps = [f for f in ("learning_rate", "value_lr", "max_kl") if f in config]
    if "value" in what and "value_lr" in steps:
        steps.remove("value_lr")
        steps.insert(0, "value_lr")
    if not steps:
        return "A smaller learning rate (or max_grad_norm) usually cures this."  # no config recorded: PPO's and DQN's words
    clip = " (or max_grad_norm)" if "max_grad_norm" in config else ""
    return f"A smaller {' or '.join(steps)}{clip} usually cures this (--set)."
