"""The compiled programs of a JAX run: ``compile_plan(ctx) -> JaxPlan``.

Three programs, each lowered and compiled once, with the seed axis split over the spec's devices
(``NamedSharding``): ``init`` (all seeds' initial states), one ``segment`` of K updates of every seed
(``lax.scan`` inside ``jax.vmap``, or on the seed alone where a run or a device has one seed:
``map_seeds``, ``on_each_device``), returning with the new states whether each seed's parameters are
finite, for the NaN guard, that serves every segment of the run, and ``eval_all``, the greedy
evaluation of every seed. When the updates do not split evenly into segments, the segment program
takes a replicated count of the steps that update (``segment_upto``), so that the last, shorter or
longer segment reuses it instead of compiling its own. On the CPU each program is compiled at the LLVM
optimisation level its use calls for, the initial states with XLA's cheaper emitters (``compile_options``).
A program compiled before, with everything that decides the run the same, is loaded from ``program_store``
instead of traced and compiled again.
"""

from __future__ import annotations

import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import cache, partial
from typing import Any, Callable

import numpy as np

from rl_zoo import distributed
from rl_zoo.driver import program_store
from rl_zoo.driver.guard import param_flags
from rl_zoo.driver.runner import RunContext, segment_schedule


@dataclass(frozen=True)
class Segment:
    """One segment of the run: ``program(states) -> (states, metrics, flags)`` applying ``updates``
    updates (its metrics have ``updates`` meaningful steps along axis 1; ``flags`` is
    ``guard.param_flags`` of the new states, for the NaN guard)."""

    program: Callable[[Any], tuple[Any, Any, Any]]
    updates: int


@dataclass(frozen=True)
class JaxPlan:
    initial_states: Any  # every seed's freshly initialised State, laid out over the devices
    segments: tuple[Segment, ...]
    seeds_array: Any  # [seeds] int32, sharded like the states
    compile_s: float  # seconds to compile the programs, or load them (``loaded``), and initialise the states
    loaded: tuple[str, ...]  # the programs ("init", "segment", "eval") that came from ``program_store``, not tracing
    _eval_program: Any
    _replicated: Any  # NamedSharding that puts a scalar on every device

    def evaluate(self, states, index: int) -> np.ndarray:
        """Mean greedy return of every seed ``[seeds]``; ``index`` numbers the evaluation (its PRNG stream)."""
        returns = self._eval_program(states, self.seeds_array, replicated_int(index, self._replicated))
        return distributed.to_host(returns).mean(axis=1)


#: The programs of a run, in the order they run.
ROLES = ("init", "segment", "eval")

#: LLVM's optimisation level (XLA's ``xla_backend_optimization_level``; XLA's default is 3) for each program
#: of a run on the CPU, by how much of the run it is: the initial states run once, an evaluation a few
#: times, the segments are the training. ``benchmarks/results/compile_levels.md`` measures each level.
CPU_OPTIMIZATION_LEVELS = {"init": 0, "eval": 1, "segment": 2}

#: Programs of a run that XLA's CPU backend emits with its elemental IR emitters rather than its MLIR fusion
#: emitters (``xla_cpu_use_fusion_emitters``, where this XLA has the option): the initial states, which run
#: once. ``benchmarks/results/compile_levels.md`` measures each program both ways.
CPU_ELEMENTAL_EMITTERS = frozenset({"init"})


def option_probe(x):
    """The program ``xla_knows_option`` compiles (``jit_option_probe`` in XLA's logs)."""
    return x + 1


@cache
def xla_knows_option(name: str, value: Any) -> bool:
    """Whether this XLA accepts the compiler option ``name`` (a field of its ``DebugOptions``) set to
    ``value``: a trivial program compiled with it, once per process (about 0.03 s on a 2-core CPU). XLA's options
    come and go between versions; rl-zoo supports jax from 0.4.30, so an option newer or older than the
    installed XLA is left out rather than failing the run with "No such compile option"."""
    import jax

    try:
        jax.jit(option_probe).lower(np.float32(0)).compile({name: value})
    except Exception:  # jax.errors.JaxRuntimeError: INVALID_ARGUMENT: No such compile option: '...'
        return False
    return True


def compile_options(role: str, platform: str | None = None) -> dict[str, Any] | None:
    """XLA's compiler options for a run's ``role`` program ("init", "segment" or "eval") on ``platform``
    ("cpu", "gpu", "tpu"; default: JAX's devices', which a run's seeds are split over); ``None``, XLA's
    defaults, off the CPU.

    XLA's CPU backend spends much of a cold compile in LLVM (it emits LLVM IR for every fusion and loop),
    and its default level 3 costs more than it wins back here (``benchmarks/results/compile_levels.md``): PPO
    CartPole-v1's initial states compile in 1.0 s at level 0 against 1.8 s; with 16 seeds (8 vmapped on each of
    2 CPU devices) the initial states, segment and evaluation in 1.0, 3.6 and 0.8 s against 2.9, 5.2 and 1.6 s,
    training as fast within the host's noise. Level 0 would halve the segment's compile again but slows
    training about twofold; it slowed 16 seeds' evaluations 0.3 -> 0.8 s, hence level 1 for them. Numbers
    round differently at each level and with each emitter, as on another CPU: a run is repeatable with the
    same options (a resumed run compiles with them too).

    The initial states also skip XLA's MLIR fusion emitters (``CPU_ELEMENTAL_EMITTERS``), which spend much of
    the rest of a CPU compile: 0.5, 0.6 and 0.2 s against 0.9, 1.4 and 0.6 s at level 0 for PPO CartPole-v1
    with 1 and 16 seeds and DQN (``benchmarks/results/compile_levels.md``); the program runs once. The segment
    and the evaluation keep them: with the elemental emitters a segment compiles 0.6-0.9 s sooner but trains
    1.4-1.8x slower (PPO CartPole-v1, 1 seed: 4.3 s against 2.4 s), and 16 seeds' evaluations take longer
    than their compile saves (0.60 s against 0.43 s for 11 of them, for 0.16 s less compile).
    Accelerators compile through other backends: not measured there, so left at their defaults. An option the
    user sets in ``XLA_FLAGS`` is left to it (the options given here took precedence over it, while config.json
    recorded the flags as those the run compiled with).
    """
    if role not in CPU_OPTIMIZATION_LEVELS:
        raise ValueError(f"unknown program role {role!r}: one of {', '.join(CPU_OPTIMIZATION_LEVELS)}")
    if platform is None:
        import jax

        platform = jax.devices()[0].platform
    if platform != "cpu":
        return None
    options: dict[str, Any] = {"xla_backend_optimization_level": CPU_OPTIMIZATION_LEVELS[role]}
    if role in CPU_ELEMENTAL_EMITTERS and xla_knows_option("xla_cpu_use_fusion_emitters", False):
        options["xla_cpu_use_fusion_emitters"] = False
    users = xla_flags_set()
    return {k: v for k, v in options.items() if k not in users}


def xla_flags_set() -> set[str]:
    """The names of the options ``XLA_FLAGS`` sets (``--xla_backend_optimization_level=0`` -> its name)."""
    import os

    return {token.lstrip("-").split("=", 1)[0] for token in os.environ.get("XLA_FLAGS", "").split() if token.startswith("--")}


def map_seeds(f: Callable) -> Callable:
    """``jax.vmap(f)`` over the leading (seed) axis of every argument; with one seed, ``f`` on that seed
    alone, its axis squeezed and put back on every output.

    The outputs have the same shapes either way; the one-seed program is faster to compile and run:
    XLA's CPU backend runs a gradient step's batched matrix products with a batch of one up to 40%
    slower than the plain ones (DQN CartPole-v1's training segments, 24,576 gradient steps of a 256x256
    network, in `rl-zoo train`: 11.1 s vmapped over one seed, 8.1 s alone, benchmarks/results/peer_speed.md;
    PPO's CartPole programs compile 0.2-0.6 s sooner). It rounds
    differently from the vmapped program, as any change of the seed count does.
    """
    import jax

    def mapped(*args):
        if {x.shape[0] for x in jax.tree.leaves(args)} == {1}:
            return jax.tree.map(lambda x: x[None], f(*jax.tree.map(lambda x: x[0], args)))
        return jax.vmap(f)(*args)

    return mapped


def init_seeds(agent, seeds):
    """Every seed's initial state, ``agent.init(jax.random.key(seed))`` mapped over ``seeds``."""
    import jax

    return map_seeds(lambda s: agent.init(jax.random.key(s)))(seeds)


def update_seeds(agent, states, k: int):
    """``k`` updates of every seed in one ``lax.scan``: ``(states, metrics [seeds, k])``."""
    import jax

    return map_seeds(lambda s: jax.lax.scan(lambda c, _: agent.update(c), s, None, k))(states)


def on_each_device(f: Callable, sharding, replicated: int = 0) -> Callable:
    """``f`` run by each device of ``sharding`` on its own block of seeds (``jax.shard_map``) when the
    blocks hold one seed each on several devices, so that ``map_seeds`` inside ``f`` sees one seed;
    otherwise ``f`` itself (the SPMD partitioner then gives each device a ``vmap`` over a seed axis of
    1: DQN CartPole with 2 seeds on 2 CPU devices trains in 14.2-14.4 s that way, 11.4 s this way). The
    last ``replicated`` arguments are the same on every device; every output is split by seed.
    """
    import jax
    from jax.sharding import PartitionSpec

    mesh = sharding.mesh
    if mesh.size == 1:
        return f

    def split(*args):
        if {x.shape[0] for x in jax.tree.leaves(args[: len(args) - replicated])} != {mesh.size}:
            return f(*args)
        specs = (PartitionSpec("seed"),) * (len(args) - replicated) + (PartitionSpec(),) * replicated
        return jax.shard_map(f, mesh=mesh, in_specs=specs, out_specs=PartitionSpec("seed"), check_vma=False)(*args)

    split.__name__ = split.__qualname__ = _name(f)  # the compiled program's name (jit_segment, not jit_split)
    return split


def _name(f: Callable) -> str:
    """The name of ``f``, or of the function a ``functools.partial`` wraps."""
    while isinstance(f, partial):
        f = f.func
    return getattr(f, "__name__", "program")


def compile_plan(ctx: RunContext, beside_compile: Callable[[], None] | None = None, checkpointed=None) -> JaxPlan:
    """The run's three programs (``lowerings``), each compiled, or loaded where an earlier run compiled it and
    stored it (``program_store``), with every seed's initial states. ``checkpointed``: the checkpoint's
    ``CheckpointMeta`` a resumed run goes on from (the segments it was written along: ``segment_schedule``).

    Python traces and lowers on the main thread; a second thread compiles the initial states and runs them,
    then compiles the evaluation, while the main thread traces the segment on the states' shapes and compiles
    it. XLA's compile leaves the GIL and tracing holds one core. The programs are the ones lowered one after
    another (the same StableHLO: ``tests/test_plan.py``), so the numbers are too. ``beside_compile`` is called
    once the tracing is over and XLA's work is what remains: the recorder's import of matplotlib, which holds
    the GIL, delayed the tracing beside it. On 2 cores the two cut a cold one-seed PPO CartPole run's compile_s
    from 4.70 to 4.06 s (``benchmarks/results/compile_overlap.md``)."""
    import jax

    spec, agent = ctx.spec, ctx.agent
    schedule = segment_schedule(agent.num_updates, spec.num_evals, checkpointed)  # what a resume was checked against
    sharding = distributed.seed_sharding(spec.devices)
    seeds_array = distributed.seed_array(spec.seed, spec.seeds, sharding)
    replicated = jax.sharding.NamedSharding(sharding.mesh, jax.sharding.PartitionSpec())
    upto = len(set(schedule)) > 1  # one program for the K-update segments and the last, shorter one
    t0 = time.perf_counter()
    options = {role: compile_options(role) for role in ROLES}  # before any snapshot: may compile a probe
    folder, key = store_key(ctx, options, schedule)
    stored = program_store.load(folder, key) if key else program_store.Stored()
    lower = lowerings(ctx, schedule, sharding, seeds_array, replicated, upto)
    fresh = {}  # the programs XLA compiled here, which the store can keep

    def lowered(role: str, *args):
        """``role`` traced and lowered here, on the main thread; None where the store has it."""
        return None if role in stored.programs else getattr(lower, role)(*args)

    def program(role: str, lowered_program):
        """``role`` compiled (``lowered_program``, on the calling thread) or the stored one."""
        if role in stored.programs:
            return stored.programs[role]
        before = program_store.CacheEvents.snapshot()  # this thread's: a compile beside it is not counted
        compiled = lowered_program.compile(options[role])
        if program_store.CacheEvents.compiled_here(before, program_store.CacheEvents.snapshot()):
            fresh[role] = compiled
        return compiled

    beside = ThreadPoolExecutor(max_workers=1, thread_name_prefix="rl-zoo-compile")
    try:
        if "init" in stored.programs:  # no tracing for the shapes: the initial states themselves, where needed
            initial = beside.submit(stored.programs["init"], seeds_array)
            shapes = None if {"segment", "eval"} <= set(stored.programs) else initial.result()
        else:
            lowered_init = lowered("init")
            initial = beside.submit(lambda: program("init", lowered_init)(seeds_array))
            shapes = lower.state_shapes()
        evaluation = beside.submit(program, "eval", lowered("eval", shapes))
        lowered_segment = lowered("segment", shapes)
        if beside_compile is not None:
            beside_compile()
        segment = program("segment", lowered_segment)
        states, eval_program = initial.result(), evaluation.result()
    finally:  # after an error (a trace that fails, Ctrl-C), what the thread has not started is dropped
        beside.shutdown(cancel_futures=True)
    if key and fresh:
        program_store.save(folder, key, stored, fresh)
    if upto:
        segments = tuple(Segment(partial(_apply_count, segment, replicated_int(n, replicated)), n) for n in schedule)
    else:
        segments = tuple(Segment(segment, k) for k in schedule)
    return JaxPlan(initial_states=states, segments=segments, seeds_array=seeds_array,
                   compile_s=time.perf_counter() - t0, loaded=tuple(r for r in ROLES if r in stored.programs),
                   _eval_program=eval_program, _replicated=replicated)


@dataclass(frozen=True)
class Lowerings:
    """The run's three programs (module docstring), each as a function that traces and lowers it: ``init()``,
    ``segment(states)`` and ``eval(states)``, where ``states`` are every seed's initial states or their
    shapes (``state_shapes()``: ``jax.ShapeDtypeStruct`` leaves, sharded as the states are)."""

    init: Callable[[], Any]
    state_shapes: Callable[[], Any]
    segment: Callable[[Any], Any]
    eval: Callable[[Any], Any]


def lowerings(ctx: RunContext, schedule, sharding, seeds_array, replicated, upto: bool) -> Lowerings:
    """The run's three programs, to trace and lower (``Lowerings``)."""
    import jax
    import jax.numpy as jnp

    from rl_zoo.core.evaluate import eval_key, evaluate

    spec, agent, env, env_params = ctx.spec, ctx.agent, ctx.env, ctx.env_params
    eval_episodes = spec.eval_episodes
    init = partial(init_seeds, agent)

    def segment(states, k):
        states, metrics = update_seeds(agent, states, k)
        return states, metrics, param_flags(states)

    def segment_upto(states, count, k):
        # k scan steps of which the first `count` (traced) update: the run's last segment, of a
        # different length, reuses this program instead of compiling its own. `count` is the
        # same for every seed, so under vmap the cond stays a branch (a skipped step costs
        # nothing). `update` is jitted so that the skip branch's eval_shape reuses its trace.
        update = jax.jit(agent.update)

        def step(state, i):
            skip = lambda c: (c, jax.tree.map(lambda x: jnp.zeros(x.shape, x.dtype), jax.eval_shape(update, c)[1]))  # noqa: E731
            return jax.lax.cond(i < count, update, skip, state)

        states, metrics = map_seeds(lambda s: jax.lax.scan(step, s, jnp.arange(k)))(states)
        return states, metrics, param_flags(states)

    def eval_all(states, seeds, i):
        def one(state, s):
            return evaluate(agent.act, state, env, env_params, eval_key(s, i), eval_episodes)

        return map_seeds(one)(states, seeds)

    def lower_segment(states):
        if not upto:
            program = on_each_device(partial(segment, k=schedule[0]), sharding)
            return jax.jit(program, in_shardings=sharding, out_shardings=sharding).lower(states)
        program = on_each_device(partial(segment_upto, k=max(schedule)), sharding, replicated=1)
        return jax.jit(program, in_shardings=(sharding, replicated), out_shardings=sharding).lower(
            states, replicated_int(0, replicated))

    init_program = jax.jit(on_each_device(init, sharding), out_shardings=sharding)
    return Lowerings(
        init=lambda: init_program.lower(seeds_array),
        state_shapes=lambda: jax.eval_shape(init_program, seeds_array),  # the trace init() made, from JAX's cache
        segment=lower_segment,
        eval=lambda states: jax.jit(on_each_device(eval_all, sharding, replicated=1), out_shardings=sharding).lower(
            states, seeds_array, replicated_int(0, replicated)),
    )


def store_key(ctx: RunContext, options, schedule: tuple[int, ...]) -> tuple[Any, str | None]:
    """``(program_store folder, the plan's key)``; ``(None, None)`` where the store is off
    (``program_store.store_dir``) and ``(folder, None)`` where no key can cover the code (an env from a
    notebook's cell). The ``schedule`` is hashed too: a run resumed along an earlier rule's segments
    (``segment_schedule``) has the spec of a new one and other segment programs."""
    folder = program_store.store_dir()
    if folder is None:
        return None, None
    spec = ctx.spec
    env_module = sys.modules.get(spec.env_id.partition(":")[0]) if ":" in spec.env_id else None  # MODULE:ID's
    roots = program_store.code_roots(ctx.env, ctx.env_params, ctx.agent, spec.module, env_module)
    if roots is None:
        return folder, None
    try:
        material = program_store.key_material(dict(spec.fields_json(), segments=list(schedule)), options, roots,
                                              env_params=ctx.env_params, env=ctx.env)
    except Exception:  # noqa: BLE001 - an env whose values cannot be read (object_digest): the store is off, the run goes on
        return folder, None
    return folder, program_store.plan_key(material)


def _apply_count(compiled_segment, count, states):
    """Run a `segment_upto` program on ``states``, updating in the first ``count`` of its steps."""
    return compiled_segment(states, count)


def replicated_int(value: int, sharding):
    """A scalar int32 on every device of ``sharding`` (each host supplies its own copy: multi-host safe)."""
    import jax

    return jax.make_array_from_callback((), sharding, lambda index: np.asarray(value, np.int32))
