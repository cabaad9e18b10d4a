"""Host calls inside compiled programs: how a gymnasium env steps from XLA, and how such a program is run.

``batched_call`` makes a host function one ``io_callback`` per step for all seeds (``custom_vmap``: under
``vmap`` over seeds, one call carrying the whole batch); ``host_call`` runs it, refused after a Ctrl-C and
remembering what the env raised; ``run_host_program`` runs a compiled program that steps host envs so that
Ctrl-C stops it at its next env step and an env's exception comes out as ``HostEnvError`` (the learner's NaN
action as ``NonFiniteAction``) instead of XLA's callback error. ``rl_zoo.host.batched_env`` builds the envs on them.
"""

from __future__ import annotations

import threading

import jax
import jax.numpy as jnp
import numpy as np
from jax.custom_batching import custom_vmap
from jax.experimental import io_callback

from envs.gymnasium_adapter import HostEnvError
from rl_zoo import interrupt
from rl_zoo.host.workers import EnvWorkerError


class NonFiniteAction(ValueError):
    """The policy handed a host env a NaN or infinite action: the parameters (or observation statistics)
    diverged. ``run_host_program`` raises it as itself, not as the env's error (``HostEnvError``)."""

    def __init__(self, message: str, seed_index: int):
        super().__init__(message)
        self.seed_index = seed_index


class _Stopped(Exception):
    """An env call refused after a Ctrl-C (an ``Exception``: XLA's callback machinery passes it on)."""


#: set by a Ctrl-C while a program that steps host envs runs: its next env call raises, so it stops there
_stop = threading.Event()
#: the exceptions host env calls raised inside compiled programs (XLA reports them only as text), each
#: with its traceback as text, taken before XLA's frames are added to it
_raised: list[tuple[BaseException, str]] = []


def host_call(fn, *a):
    """``fn(*a)`` for an ``io_callback``: refused once ``_stop`` is set; an exception is remembered for
    ``run_host_program`` (XLA turns it into a ``JaxRuntimeError`` whose text repeats the traceback)."""
    if _stop.is_set():
        raise _Stopped("the run was interrupted: no more env steps")
    try:
        return fn(*a)
    except BaseException as e:
        import traceback

        _raised.append((e, "".join(traceback.format_exception(e))))
        raise


def run_host_program(program, *args, what: str = "a gymnasium env"):
    """``program(*args)``, a compiled program that steps host envs, run so that Ctrl-C stops it at its
    next env step: the main thread waits on a worker thread (a wait Ctrl-C interrupts, where the main
    thread inside XLA would only see it when the whole program ended, and then lose its work). An
    exception the env raised comes out as ``HostEnvError`` naming ``what``, from the env's own
    exception, instead of XLA's ``CpuCallback error`` with the traceback twice."""
    import concurrent.futures

    import logging

    _stop.clear()
    _raised.clear()
    jax_callbacks = logging.getLogger("jax._src.callback")  # it logs each callback's exception with its traceback
    was_disabled, jax_callbacks.disabled = jax_callbacks.disabled, True
    with concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="rl-zoo-host") as pool:
        future = None
        try:
            with interrupt.deferred():  # cut inside the thread's start, the program would run on unwatched
                future = pool.submit(lambda: jax.block_until_ready(program(*args)))
            return future.result()
        except KeyboardInterrupt:
            _stop.set()
            # it ends at the program's next env step; a second Ctrl-C must not cut that wait
            while future is not None and not future.done():
                try:
                    concurrent.futures.wait([future])
                except KeyboardInterrupt:
                    pass
            raise
        except jax.errors.JaxRuntimeError:
            env_errors = [(e, text) for e, text in _raised if not isinstance(e, _Stopped)]
            if not env_errors:
                raise
            cause, text = env_errors[0]
            if isinstance(cause, NonFiniteAction):  # the learner's failure, for the NaN guard to report
                raise NonFiniteAction(str(cause), cause.seed_index) from None
            message = str(cause)
            if isinstance(cause, EnvWorkerError):  # its % doubled (workers.percent_safe); its worker's traceback after line 1
                first, _, worker_traceback = message.replace("%%", "%").partition("\n")
                message, text = first, worker_traceback
            raise HostEnvError(f"{what} raised {type(cause).__name__}: {message}", text) from cause
        finally:
            _stop.clear()
            _raised.clear()  # not the exceptions' frames kept alive
            jax_callbacks.disabled = was_disabled


def batched_call(fn, shapes: tuple, cast):
    """``fn`` on the host, once per call for all seeds: ``fn(x [S, ...], ...) -> outputs [S, *shape]``.

    Unbatched (one seed, no vmap) it is called with ``S = 1``; under one ``vmap`` (over seeds) with
    the whole batch. ``io_callback`` (not ``pure_callback``): stepping an env is a side effect. Its
    calls are ordered by their data only (an ordered ``io_callback`` cannot be vmapped): ``HostVecEnv``
    passes a token from each call to the next.
    """

    def call(xs, batch: int):
        out = tuple(jax.ShapeDtypeStruct((batch, *s.shape), s.dtype) for s in shapes)
        return io_callback(lambda *a: cast(host_call(fn, *map(np.asarray, a)), out), out, *xs)

    @custom_vmap
    def single(*xs):
        return tuple(y[0] for y in call([x[None] for x in xs], 1))

    @single.def_vmap
    def rule(axis_size, in_batched, *xs):
        xs = [x if batched else jnp.broadcast_to(x, (axis_size, *x.shape)) for x, batched in zip(xs, in_batched)]
        return call(xs, axis_size), (True,) * len(shapes)

    return single
