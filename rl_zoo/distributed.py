"""Seeds over devices and hosts: a one-axis device mesh, and multi-host start-up.

Every array of a run has the seed axis first (the driver vmaps over seeds), so splitting that axis
over devices with ``NamedSharding(mesh, P("seed"))`` makes each device train its own seeds with no
communication at all; XLA's SPMD partitioner does the rest. Several hosts run the same program under
``jax.distributed.initialize()`` (one process per host); each host then holds the shards of its own
local devices.

Multi-host launch (two hosts, one process each; the same command on both, with its own process id):

    RL_ZOO_COORDINATOR=10.0.0.1:12355 RL_ZOO_NUM_PROCESSES=2 RL_ZOO_PROCESS_ID=0 \\
        rl-zoo train --algo ppo --env CartPole-v1 --seeds 64 --out /shared/runs/ppo64
    RL_ZOO_COORDINATOR=10.0.0.1:12355 RL_ZOO_NUM_PROCESSES=2 RL_ZOO_PROCESS_ID=1 \\
        rl-zoo train --algo ppo --env CartPole-v1 --seeds 64 --out /shared/runs/ppo64

(or ``--coordinator``, ``--num-processes``, ``--process-id``). On Cloud TPU and SLURM,
``jax.distributed.initialize()`` finds these itself: set ``RL_ZOO_DISTRIBUTED=auto``.
"""

from __future__ import annotations

import os
import sys
import threading
from collections import Counter
from typing import Any, Callable

import numpy as np

from rl_zoo.config import ConfigError


#: seconds a multi-host process waits for the others to join (jax.distributed's initialization_timeout)
INIT_TIMEOUT_ENV = "RL_ZOO_INIT_TIMEOUT"


def initialize(coordinator: str | None = None, num_processes: int | None = None, process_id: int | None = None) -> bool:
    """Start multi-host JAX when asked (flags or ``RL_ZOO_*`` variables); return whether it did.

    Must run before any JAX computation. CPU hosts talk through gloo collectives.
    """
    import jax

    coordinator = coordinator or os.environ.get("RL_ZOO_COORDINATOR")
    num_processes = _flag_or_env(num_processes, "RL_ZOO_NUM_PROCESSES")
    process_id = _flag_or_env(process_id, "RL_ZOO_PROCESS_ID")
    auto = os.environ.get("RL_ZOO_DISTRIBUTED") == "auto"
    if coordinator is None and not auto:
        if num_processes is not None or process_id is not None:
            raise ConfigError("multi-host training needs a coordinator address (--coordinator or RL_ZOO_COORDINATOR)")
        return False
    if not auto and (num_processes is None or process_id is None):
        raise ConfigError("multi-host training needs --num-processes and --process-id (or RL_ZOO_NUM_PROCESSES, RL_ZOO_PROCESS_ID)")
    if not auto and num_processes < 1:
        raise ConfigError(f"--num-processes = {num_processes} is invalid: must be at least 1")
    if not auto and not 0 <= process_id < num_processes:
        raise ConfigError(f"--process-id = {process_id} is invalid: must be in [0, {num_processes})")
    if not auto:
        check_coordinator(coordinator)
    timeout = _int_env(INIT_TIMEOUT_ENV) or 300
    jax.config.update("jax_cpu_collectives_implementation", "gloo")
    # JAX's preemption service takes SIGTERM for itself: a multi-host run then trained on to its end under a
    # scheduler's SIGTERM, where rl-zoo stops as for Ctrl-C (exit 143)
    jax.config.update("jax_enable_preemption_service", False)
    try:
        if auto:
            jax.distributed.initialize(initialization_timeout=timeout)
        else:
            print(f"process {process_id} of {num_processes}: waiting up to {timeout} s for the others at {coordinator} "
                  f"({INIT_TIMEOUT_ENV} sets the wait; if one never comes, JAX ends this process with 'Terminating "
                  "process because the JAX distributed service detected fatal errors')", file=sys.stderr, flush=True)
            _interruptible(lambda: jax.distributed.initialize(coordinator_address=coordinator, num_processes=num_processes,
                                                              process_id=process_id, initialization_timeout=timeout))
    except jax.errors.JaxRuntimeError as e:  # the coordinator's port in use, a host name that does not resolve
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise ConfigError(f"multi-host JAX could not start with the coordinator {coordinator}: {first[:300]} (a port "
                          "in use by another program, or a host name that does not resolve?)") from None
    global _started
    _started = True
    return True


_started = False  # set by ``initialize``: this process is one of a multi-host run's
_waiting = False  # set while ``initialize`` waits for the other processes (a signal there ends the process at once)


def _interruptible(start: Callable[[], Any]) -> None:
    """Run ``start`` (JAX's wait for the other processes, one C++ call) in a thread while the main thread waits on it,
    so that Ctrl-C and SIGTERM are taken there: in the main thread they waited for the call to end (up to
    ``RL_ZOO_INIT_TIMEOUT``, 300 s), then JAX aborted the process with a C++ stack trace. The command ends at once on
    a signal (``waiting``); an error of ``start`` is raised here."""
    global _waiting
    failed: list[BaseException] = []

    def run():
        try:
            start()
        except BaseException as e:  # noqa: BLE001 (handed to the main thread)
            failed.append(e)

    thread = threading.Thread(target=run, name="rl-zoo-distributed-initialize", daemon=True)
    _waiting = True
    thread.start()
    while thread.is_alive():
        thread.join(0.2)
    _waiting = False
    if failed:
        raise failed[0]


def waiting() -> bool:
    """Whether this process stopped while waiting for a multi-host run's other processes (JAX's wait goes on in its
    thread: the process must end without its exit handlers, which would wait on it)."""
    return _waiting


def started() -> bool:
    """Whether ``initialize`` started multi-host JAX in this process (without touching JAX's backends)."""
    return _started


def check_coordinator(address: str) -> None:
    """``--coordinator`` (``RL_ZOO_COORDINATOR``) as ``HOST:PORT`` with a port in 1-65535: ``ConfigError`` otherwise
    (JAX's own check was an IndexError traceback for ``foo``; port 99999 waited the whole timeout, then aborted)."""
    host, sep, port = str(address).rpartition(":")
    if not sep or not host or not port.isdigit() or not 1 <= int(port) <= 65535:
        raise ConfigError(f"--coordinator = {address!r} is invalid: give HOST:PORT, the first process's address and a "
                          "free port in 1-65535 (e.g. 10.0.0.1:12355)")


def processes_from_args(num_processes: int | None) -> int:
    """How many processes a run asked for (``--num-processes``, else ``RL_ZOO_NUM_PROCESSES``; 1 without
    either), before JAX starts: each host's CPU is split for its share of the seeds."""
    return max(1, _flag_or_env(num_processes, "RL_ZOO_NUM_PROCESSES") or 1)


def agree(what: str, data: Any) -> None:
    """Every process of a multi-host run must have been given the same ``data`` (JSON-able: the run's
    settings): if not, a ``ConfigError`` in every process, before anything compiles, instead of a hang
    in the first collective the processes disagree on. A no-op in a single process."""
    import hashlib
    import json

    import jax

    if jax.process_count() == 1:
        return
    from jax.experimental import multihost_utils

    digest = int(hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()[:7], 16)  # fits int32
    digests = np.asarray(multihost_utils.process_allgather(np.array(digest, np.int32))).reshape(-1).tolist()
    if len(set(digests)) > 1:
        groups = {d: [i for i, x in enumerate(digests) if x == d] for d in dict.fromkeys(digests)}
        raise ConfigError(f"the {len(digests)} processes of this multi-host run were given different {what} (processes "
                          f"with the same: {', '.join('[' + ' '.join(map(str, g)) + ']' for g in groups.values())}): start "
                          f"every process with the same command, but for --process-id")


def agree_on_command(argv: list[str]) -> None:
    """Every process of a multi-host run given the same command line (``argv`` without ``--process-id``), checked as
    soon as JAX's processes meet, before any input is checked: a refusal in one process alone (its own bad
    ``--set``) left the others waiting until JAX aborted them; the same command refuses alike everywhere. The device
    counts first (``agree``'s collective fails on uneven ones)."""
    import jax

    every = jax.devices()
    same_device_counts([d.process_index for d in every], every[0].platform)
    agree("command lines", argv)


#: words of XLA's error when a collective loses a process (gloo's "Connection closed by peer"), lower case
PEER_LOST_SIGNS = ("gloo", "closed by peer", "connection reset", "heartbeat", "barrier failed", "deadline_exceeded")


def lost_a_peer(error: BaseException) -> bool:
    """Whether ``error`` is a collective of a multi-host run failing, as when another process died: its text
    names it (``PEER_LOST_SIGNS``), whether it came as XLA's runtime error or as the ValueError that
    ``jax.tree.map`` turns it into (``to_host`` of a segment's metrics); other errors keep their traceback."""
    if "jax" not in sys.modules:
        return False
    import jax

    text = str(error).lower()
    return jax.process_count() > 1 and any(sign in text for sign in PEER_LOST_SIGNS)


def _flag_or_env(value: int | None, name: str) -> int | None:
    """A command-line value, else the integer in the environment variable ``name`` (None: neither)."""
    return value if value is not None else _int_env(name)


def _int_env(name: str) -> int | None:
    """The integer in environment variable ``name``; None when it is unset or empty (an empty value reads
    as unset); a ``ConfigError`` naming it when it holds anything else."""
    value = os.environ.get(name)
    if value is None or not value.strip():
        return None
    try:
        return int(value)
    except ValueError:
        raise ConfigError(f"{name} = {value!r} is invalid: must be an integer") from None


def choose_devices(seeds: int, devices: int | None, resuming: bool = False) -> tuple[int, str | None]:
    """How many devices the seed axis is split over, and a note when that is fewer than available, or
    more CPU devices than this host's cores (``_oversplit_note``).

    ``devices=None`` uses every device (every device of every host when multi-host), or the largest
    count that divides ``seeds`` evenly (said in the note). An explicit ``devices`` must not exceed
    the device count and must divide ``seeds``; otherwise a ``ConfigError`` says what would work: on a CPU
    rl-zoo split itself, any divisor of ``seeds`` (the CPU is split into as many devices as asked: the list was
    the divisors up to the count just made for this request); ``resuming``, a device count only (a resumed run's
    seed count is its own).
    """
    import jax

    available = jax.device_count()
    multi_host = jax.process_count() > 1
    if multi_host:
        every = jax.devices()  # every host's
        same_device_counts([d.process_index for d in every], every[0].platform)
    if devices is not None:
        if devices < 1:
            raise ConfigError(f"--devices = {devices} is invalid: must be at least 1")
        if devices > available:
            raise ConfigError(f"--devices = {devices} is invalid: only {available} device(s) are available ({jax.devices()[0].platform})")
        split_here = _count_set is not None and jax.devices()[0].platform == "cpu"  # any count can be made
        if multi_host:
            _check_multi_host_devices(seeds, devices, available, split_here, resuming)
        if seeds % devices:
            ok = [d for d in range(1, (seeds if split_here else available) + 1) if seeds % d == 0]
            more = "" if resuming else f"use {_seeds_multiple(devices, seeds)} or "
            raise ConfigError(f"--seeds = {seeds} cannot be split evenly over --devices = {devices}: {more}"
                              f"{'use ' if resuming else ''}--devices in {ok}")
        return devices, _oversplit_note(devices, seeds)
    if seeds % available == 0:
        return available, _oversplit_note(available, seeds)
    if multi_host:
        raise ConfigError(f"--seeds = {seeds} cannot be split evenly over the {available} devices of all hosts: use a multiple of {available}")
    best = max(d for d in range(1, available + 1) if seeds % d == 0)
    note = f"using {best} of {available} devices: {seeds} seeds do not split evenly over {available}"
    return best, note + (f"; {over}" if (over := _oversplit_note(best, seeds)) else "")


def _seeds_multiple(step: int, seeds: int) -> str:
    """"a multiple of 3 seeds (e.g. 6)": the seed counts that split over ``step`` devices, the first from ``seeds``."""
    return f"a multiple of {step} seeds (e.g. {step * max(1, -(-seeds // step))})"


def _check_multi_host_devices(seeds: int, devices: int, available: int, split_here: bool, resuming: bool) -> None:
    """A multi-host run's explicit ``--devices`` must be every device of every host, dividing ``seeds``; a
    ``ConfigError`` otherwise, naming the counts that would work: where each host split its CPU for its share
    (``split_here``: ``--devices`` a multiple of the process count, split evenly over the hosts), any multiple of the
    process count that divides ``seeds``; else the devices the hosts hold (``available``)."""
    import jax

    procs = jax.process_count()
    if devices == available and seeds % devices == 0:
        return
    ok = ([d for d in range(procs, seeds + 1, procs) if seeds % d == 0] if split_here
          else [available] if seeds % available == 0 else [])
    if devices in ok:  # the hosts hold another count than asked (RL_ZOO_CPU_DEVICES, say)
        raise ConfigError(f"multi-host runs use every device: --devices must be {available} (or left out)")
    if ok:
        advice = f"--devices in {ok} (or left out)"
    else:
        step = procs if split_here else available
        advice = "" if resuming else _seeds_multiple(step, seeds)
    raise ConfigError(f"--seeds = {seeds} over --devices = {devices} does not fit a multi-host run, which splits the "
                      f"seeds evenly over every device of its {procs} processes" + (f": use {advice}" if advice else ""))


def same_device_counts(process_of_device: list[int], platform: str) -> None:
    """Every process of a multi-host run must hold as many devices as the others (``process_of_device``: each
    device's process index): the seed axis splits evenly over them, and ``agree``'s collective fails on uneven
    counts. Each host splits its CPU for its own share of the seeds (``split_cpu``), so processes given
    different ``--seeds`` (4 and 8 on 16-core hosts: 2 and 4 devices) or a different ``RL_ZOO_CPU_DEVICES``
    hold different counts; every process sees the whole device list, so each says so without a collective
    (before, they said that neither --seeds split over the 6 devices the two counts made)."""
    counts = dict(sorted(Counter(process_of_device).items()))
    if len(set(counts.values())) > 1:
        held = ", ".join(f"process {i}: {n}" for i, n in counts.items())
        why = (f"each host splits its CPU for its share of --seeds, so they were given different --seeds or "
               f"{CPU_DEVICES_ENV}: start every process with the same command, but for --process-id" if platform == "cpu"
               else f"a run's seeds split evenly over its hosts' {platform.upper()}s: use hosts with as many each")
        raise ConfigError(f"the processes of this multi-host run hold different device counts ({held}): {why}")


def _oversplit_note(count: int, seeds: int) -> str | None:
    """A note when the ``count`` CPU devices over which ``seeds`` seeds run give this host more devices than
    cores (``--devices 8`` or ``RL_ZOO_CPU_DEVICES=64`` on 2 cores: compile 2 s became 10.6 s and 12.9 s in a
    review), with the count that keeps at most one per core (single host; a multi-host run uses every device)."""
    import jax

    processes = jax.process_count()
    local = count // processes
    cores = usable_cores()
    if jax.devices()[0].platform != "cpu" or local <= cores:
        return None
    advice = (f" (--devices {cpu_device_count(seeds, cores)} keeps at most one per core)" if processes == 1 else
              f" (set RL_ZOO_CPU_DEVICES to at most {cores} on each host)")
    return f"{local} CPU devices on {cores} cores: more devices than cores compile longer and train no faster" + advice


CPU_DEVICES_ENV = "RL_ZOO_CPU_DEVICES"


def usable_cores() -> int:
    """The CPU cores this process may run on (its affinity mask, where the OS has one)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def cpu_device_count(rows: int, cores: int) -> int:
    """The most CPU devices, at most ``cores``, that ``rows`` seeds split over evenly (at least 1)."""
    return max(d for d in range(1, max(1, min(rows, cores)) + 1) if rows % d == 0)


def devices_text(seeds: int, devices: int, platform: str, cores: int | None = None) -> str:
    """How the compile line says where the seeds run: ``" over 2 CPU devices"``; on one CPU device of a
    machine with several cores, why (``cpu_device_count`` found no even split), else ``""``."""
    if devices > 1:
        return f" over {devices} {platform.upper()} devices"
    cores = cores or usable_cores()
    if platform == "cpu" and seeds > 1 and cores > 1 and cpu_device_count(seeds, cores) == 1:
        return f" on one CPU device since {seeds} do not split evenly over {cores} cores"
    return ""


def split_cpu(rows: int, devices: int | None = None, cores: int | None = None) -> int:
    """Make the CPU several JAX devices, so that a program vmapped over ``rows`` seeds runs on every core.

    JAX shows a CPU as one device, and XLA runs that device's program one operation at a time: the
    small matrices of classic-control networks keep one core busy. Split into ``n`` devices, the seed
    axis's ``n`` shards (``seed_sharding``) run side by side, one per core (measured, 2 cores, PPO on
    CartPole-v1 with 16 seeds: training 14.2-16.0 s on one device, 8.6-8.7 s on two). ``n`` is ``devices`` when
    given, else ``RL_ZOO_CPU_DEVICES`` when set, else the largest divisor of ``rows`` not above
    ``cores`` (default ``usable_cores()``; a benchmark grid running several cells at once gives each
    its share). It takes effect only before JAX's backends start, and never overrides a count the
    user chose for JAX itself (``JAX_NUM_CPU_DEVICES``, ``--xla_force_host_platform_device_count``
    in ``XLA_FLAGS``, or ``jax.config.update("jax_num_cpu_devices", n)``); a GPU or TPU backend
    ignores it. Returns the count set (1: nothing was split).

    A different device count rounds differently, so a run is bit-for-bit repeatable on the same
    machine (and a resumed run keeps its count), not between machines with different core counts.
    Set ``RL_ZOO_CPU_DEVICES=1`` to keep one device.
    """
    import jax
    from jax._src import xla_bridge

    global _count_set
    if xla_bridge.backends_are_initialized() or "JAX_NUM_CPU_DEVICES" in os.environ \
            or "xla_force_host_platform_device_count" in os.environ.get("XLA_FLAGS", "") \
            or getattr(jax.config, "jax_num_cpu_devices", -1) not in (-1, _count_set):  # -1: JAX's default, not set
        return 1
    chosen = _int_env(CPU_DEVICES_ENV)
    if chosen is not None and chosen < 1:
        raise ConfigError(f"{CPU_DEVICES_ENV} = {chosen} is invalid: must be at least 1")
    n = devices or chosen or cpu_device_count(rows, cores or usable_cores())
    if n > 1:
        jax.config.update("jax_num_cpu_devices", n)
        _count_set = n
    return n


#: the CPU device count ``split_cpu`` set in this process (a later call may set another; one set with
#: ``jax.config`` by the user is left alone)
_count_set: int | None = None


#: the variables with which a user chooses how JAX takes a GPU's memory (JAX docs, "GPU memory allocation")
GPU_MEMORY_ENV = ("XLA_PYTHON_CLIENT_PREALLOCATE", "XLA_PYTHON_CLIENT_MEM_FRACTION", "XLA_CLIENT_MEM_FRACTION",
                  "XLA_PYTHON_CLIENT_ALLOCATOR")


def share_gpu_memory() -> bool:
    """Let several JAX processes share one GPU: ``XLA_PYTHON_CLIENT_PREALLOCATE=false`` for this process
    and every process it starts, unless the user chose how JAX takes GPU memory (``GPU_MEMORY_ENV``).

    JAX takes 75% of a GPU's memory when its backend starts, so a second process on the same GPU can
    run out of memory (the JAX docs' first "common cause of OOM failures"). ``rl-zoo benchmark``
    runs each cell in its own process (``--jobs`` of them at once) beside its own, which records the
    backend in the grid's metadata; without preallocation each takes what it uses. The variable is
    read when a backend starts, so this is called before. CPUs and TPUs ignore it. Returns whether
    it set the variable.
    """
    if any(name in os.environ for name in GPU_MEMORY_ENV):
        return False
    os.environ["XLA_PYTHON_CLIENT_PREALLOCATE"] = "false"
    return True


def seed_sharding(num_devices: int):
    """``NamedSharding`` that splits the leading (seed) axis over the first ``num_devices`` devices."""
    import jax
    from jax.sharding import Mesh, NamedSharding, PartitionSpec

    mesh = Mesh(np.array(jax.devices()[:num_devices]), ("seed",))
    return NamedSharding(mesh, PartitionSpec("seed"))


def seed_array(first: int, seeds: int, sharding):
    """The global int32 array ``[first, ..., first + seeds - 1]`` laid out by ``sharding`` (every host calls it)."""
    import jax

    values = np.arange(first, first + seeds, dtype=np.int32)
    return jax.make_array_from_callback((seeds,), sharding, lambda index: values[index])


def to_host(x) -> np.ndarray:
    """A global array as one numpy array on every host (an all-gather when multi-host)."""
    import jax

    if jax.process_count() > 1 and not x.is_fully_addressable:
        from jax.experimental import multihost_utils

        return np.asarray(multihost_utils.process_allgather(x, tiled=True))
    return np.asarray(x)


def local_seed_indices(x) -> list[int]:
    """Indices along the seed axis of the shards this host holds."""
    out = set()
    for shard in x.addressable_shards:
        sl = shard.index[0]
        out.update(range(*sl.indices(x.shape[0])))
    return sorted(out)


#: how long process 0 of a multi-host run waits, as it refuses, for the others' refusals to be said
REFUSAL_WAIT_S = 10.0
#: and, once all have, how long it leaves them to end before it does
REFUSAL_GRACE_S = 2.0


def refusal_said() -> None:
    """Before a refusing process of a multi-host run ends: mark its refusal said, and in process 0 (whose end
    ends the run's coordination service) wait up to ``REFUSAL_WAIT_S`` for the others' marks. A refusal every
    process makes (uneven device counts, different command lines) ended process 0 first, and JAX then aborted a
    slower process before it printed its own (rc -6 and a C++ stack trace, 2 of 6 tries on a loaded host). A
    process that goes on leaves no mark: process 0 ends after the wait, and it stops at its next collective."""
    import time

    from jax._src import distributed as jax_distributed

    state = jax_distributed.global_state
    if state.client is None:
        return
    try:
        state.client.key_value_set(f"rl_zoo/refused/{state.process_id}", "1")
        if state.process_id == 0:
            deadline = time.monotonic() + REFUSAL_WAIT_S
            for other in range(1, state.num_processes):
                state.client.blocking_key_value_get(f"rl_zoo/refused/{other}",
                                                    max(1, int((deadline - time.monotonic()) * 1000)))
            # every process refused: let them end first (one that marked but had not yet ended was still aborted
            # by JAX as process 0's end closed the service: rc -6 after its message, 1 of 1,369 tests under load)
            time.sleep(REFUSAL_GRACE_S)
    except Exception:  # the wait over, or a peer already gone: end anyway
        pass


def barrier(name: str) -> None:
    """Every process of a multi-host run waits here until all have come (``name`` tells the barriers apart in
    JAX's errors); a no-op in a single process."""
    import jax

    if jax.process_count() > 1:
        from jax.experimental import multihost_utils

        multihost_utils.sync_global_devices(name)
