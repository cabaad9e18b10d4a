"""A run's memory, checked before its run directory is made.

On the CPU, XLA aborts the process when an allocation fails (``Check failed: buffer_.IsConcrete()``, exit 134):
nothing can catch it, and a typo such as ``--eval-episodes 3000000000`` or ``--seeds 300000000`` left a run
directory holding only its config.json behind a C++ stack trace. ``check_memory`` refuses such a run first,
from a lower bound that nothing has to run or compile to know: the shapes of every seed's training state
(``jax.eval_shape`` of ``agent.init``: parameters, optimizer state, env copies, replay buffer) and of the env
copies one evaluation plays at once (``eval_episodes`` per seed, ``rl_zoo.core.evaluate``). The bound leaves
out the programs' temporaries, so a run under it may still not fit; one over it cannot.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from rl_zoo.config import ConfigError


def tree_bytes(tree) -> int:
    """Bytes of the arrays (or ``jax.ShapeDtypeStruct`` s) in ``tree``; a PRNG key counts its key data."""
    import jax

    total = 0
    for leaf in jax.tree.leaves(tree):
        dtype = leaf.dtype
        if jax.dtypes.issubdtype(dtype, jax.dtypes.prng_key):
            shape = (*leaf.shape, *jax.random.key_data(jax.random.key(0)).shape)
            itemsize = 4
        else:
            shape, itemsize = leaf.shape, np.dtype(dtype).itemsize
        total += math.prod(shape) * itemsize
    return total


def seed_sizes(agent, env, env_params) -> tuple[int, int]:
    """(bytes of one seed's training state, bytes of one evaluated env copy: its observation and state), from
    shapes alone (``jax.eval_shape``: nothing runs or compiles). A gymnasium-backend env's copies live in
    gymnasium, outside JAX's shapes: 0 bytes here; its training state (DQN's replay buffer) is JAX's."""
    import jax

    key = jax.random.key(0)
    state = jax.eval_shape(agent.init, key)
    if getattr(env, "backend", "jax") != "jax":
        return tree_bytes(state), 0
    # the params closed over, as training holds them: an env whose reset branches on a params field (a user's
    # `if params.random_start:`) failed on them as eval_shape's traced arguments
    episode = jax.eval_shape(lambda k: env.reset(k, env_params), key)
    return tree_bytes(state), tree_bytes(episode)


def needed_bytes(agent, env, env_params, seeds: int, eval_episodes: int) -> int:
    """A lower bound of the memory a JAX-port run of ``seeds`` seeds holds: every seed's training state and
    the ``eval_episodes`` env copies (an observation and a state each) that one evaluation steps per seed."""
    return bound(seeds, eval_episodes, *seed_sizes(agent, env, env_params))


def bound(seeds: int, eval_episodes: int, state: int, episode: int) -> int:
    """``needed_bytes`` from ``seed_sizes``'s two sizes: every seed's state and its evaluated env copies."""
    return seeds * (state + eval_episodes * episode)


def _cgroup_room() -> int | None:
    """What this process's cgroup (v2) lets it still take, where it sets a limit (a container's): its limit less
    what it holds but the page cache (``file`` in memory.stat), which the kernel gives back when asked."""
    folder = Path("/sys/fs/cgroup")
    try:
        limit = (folder / "memory.max").read_text().strip()
        used = int((folder / "memory.current").read_text().strip())
        stat = dict(line.split() for line in (folder / "memory.stat").read_text().splitlines() if len(line.split()) == 2)
    except (OSError, ValueError):
        return None
    return None if limit == "max" else max(int(limit) - (used - int(stat.get("file", 0))), 0)


def available_bytes() -> int | None:
    """The memory a run may still take: on the CPU the host's (``MemAvailable``, within a cgroup's limit), on
    an accelerator the local devices' ``bytes_limit`` summed; ``None`` where it cannot be told."""
    import jax

    devices = jax.local_devices()
    if devices[0].platform != "cpu":
        stats = [d.memory_stats() or {} for d in devices]
        limits = [s.get("bytes_limit") for s in stats]
        return sum(limits) if all(limits) else None
    try:
        meminfo = Path("/proc/meminfo").read_text().splitlines()
        host = next(int(line.split()[1]) * 1024 for line in meminfo if line.startswith("MemAvailable:"))
    except (OSError, StopIteration, ValueError):
        return None
    room = _cgroup_room()
    return host if room is None else min(host, room)


def size_text(n: int) -> str:
    """``n`` bytes in the largest binary unit it fills: ``"40 B"``, ``"97.4 KiB"``, ``"111.8 GiB"``."""
    for unit, size in (("TiB", 2**40), ("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if n >= size:
            return f"{n / size:,.1f} {unit}"
    return f"{n} B"


def check_memory(agent, env, env_params, seeds: int, eval_episodes: int, runs: str = "seed(s)",
                 fewer: str = "--seeds or --eval-episodes", what: str = "this run") -> None:
    """Refuse a run whose lower bound (``needed_bytes``, for this process's share of the ``seeds``) exceeds the
    memory available (``available_bytes``), naming both and the settings that make it. ``runs``: what one of
    ``seeds`` is (a sweep's config-and-seed runs); ``fewer``: what to ask fewer of; ``what``: what is refused.
    The processes of a multi-host run decide together (``short_process``): one host refusing alone left the others
    in a failed collective, and a folder made. A gymnasium-backend run counts its training state alone (its env
    copies live in gymnasium, outside JAX's shapes: DQN's ``buffer_size=2e9`` made a folder holding only its
    config.json, then failed allocating 32 GB); a run whose shapes cannot be told is not checked (its own error
    comes where it ran)."""
    import jax

    here = math.ceil(seeds / jax.process_count())
    state = episode = None
    try:
        state, episode = seed_sizes(agent, env, env_params)  # traced once: the refusal's words use them too
        need = bound(here, eval_episodes, state, episode)
    except Exception:  # noqa: BLE001 (the check must not stop a run that would have run; training traces it again)
        need = None
    room = available_bytes()
    row = (need if need is not None and room is not None else 0, room or 0)
    if jax.process_count() > 1:
        from jax.experimental import multihost_utils

        rows = np.asarray(multihost_utils.process_allgather(np.array(row, np.float64 if jax.config.jax_enable_x64 else np.float32)))
        found = short_process(rows.reshape(-1, 2).tolist())
    else:
        found = short_process([row])
    if found is None:
        return
    process, need, room = found
    on = f" on process {process} of this multi-host run" if jax.process_count() > 1 else ""
    evaluated = f" + --eval-episodes {eval_episodes:,} x {size_text(episode)} per evaluated env copy" if episode else ""
    parts = (f" x ({size_text(state)} of training state{evaluated})"
             if state is not None else "")  # None: this process could not measure (another did)
    raise ConfigError(
        f"{what} needs at least {size_text(need)} of memory{on} and {size_text(room)} is available: {here:,} {runs}"
        f"{parts}. Ask for fewer {fewer}, or a smaller num_envs, num_steps (PPO, TRPO, VPG) or buffer_size (DQN), "
        f"or a smaller network (hidden_size, num_layers: not Q-learning's) (--set)")


def short_process(rows: list) -> tuple[int, int, int] | None:
    """The first process whose (needed, available) bytes row asks for more than it has, as (index, needed,
    available), or ``None``; a row of zeros is a process that could not tell (nothing refused for it)."""
    for i, (need, room) in enumerate(rows):
        if need > room:
            return i, int(need), int(room)
    return None
