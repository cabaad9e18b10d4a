"""Test-session settings: a private persistent compilation cache, so that the many small programs
the tests compile (several of them more than once) are compiled once per session.

Every session starts cold: ``XDG_CACHE_HOME`` points at a fresh temporary folder, and the session's
compilation cache is the one ``rl-zoo train`` would use under it (``$XDG_CACHE_HOME/rl_zoo/jax``), so
that code under test never reads the user's warm ``~/.cache/rl_zoo/jax``. The folder is made once per
session and shared: by the pytest-xdist workers (they inherit it from the controller, which made it)
and by the ``rl-zoo`` subprocesses the tests start, so a program compiled by one of them is compiled
once. Only the process that made the folder removes it."""

import os
import shutil
import signal
import sys
import tempfile

import pytest

os.environ.setdefault("MPLBACKEND", "Agg")
# On a GPU, XLA picks some kernels by timing candidates as it compiles (autotuning), so a program compiled
# again (a resumed run's) can round otherwise: the suite's bit-for-bit resume tests hold there with XLA's
# determinism flag, as the README's determinism note tells GPU users (an H200 run of this suite without it:
# one of those tests failed, another each time; with it, none). The CPU ignores it (same digests, same time).
_DETERMINISTIC = "--xla_gpu_deterministic_ops=true"
if _DETERMINISTIC not in os.environ.get("XLA_FLAGS", ""):
    os.environ["XLA_FLAGS"] = f"{os.environ.get('XLA_FLAGS', '')} {_DETERMINISTIC}".strip()
_SHARED = "RL_ZOO_TESTS_XDG"  # set by the process that made the session's folder, inherited by workers
_OWNER = _SHARED not in os.environ
_XDG = os.environ[_SHARED] if not _OWNER else tempfile.mkdtemp(prefix="rl_zoo_tests_xdg_")
os.environ[_SHARED] = os.environ["XDG_CACHE_HOME"] = _XDG


@pytest.fixture(scope="session", autouse=True)
def _compilation_cache():
    from rl_zoo.train import enable_compilation_cache

    enable_compilation_cache()  # $XDG_CACHE_HOME/rl_zoo/jax, the session's folder


@pytest.fixture(autouse=True)
def _environment_restored():
    """Every test leaves ``os.environ`` as it found it. Importing a benchmark script in-process leaked its
    settings into every later test of the worker: ``benchmarks/q_learning.py`` adds
    ``--xla_force_host_platform_device_count`` to ``XLA_FLAGS`` at import, and the two-process runs of
    test_sharding.py that a worker started afterwards had 2 CPU devices each instead of 1 (a refusal
    of 2 seeds over 4 devices instead of the one the test waits for, in `.ci/run` only, depending on
    which files a worker drew)."""
    before = dict(os.environ)
    yield
    if dict(os.environ) != before:
        os.environ.clear()
        os.environ.update(before)


@pytest.fixture(autouse=True)
def _no_signal_left_behind():
    """A test that plays a Ctrl-C through ``rl_zoo.interrupt`` leaves no remembered signal to the next test of its
    worker: where ``interrupt.installed`` took no signal (as under a shell that hands its children SIGINT ignored),
    nothing else forgets it, and a later command's error would be read as that signal's stop."""
    yield
    if (interrupt := sys.modules.get("rl_zoo.interrupt")) is not None:
        interrupt._pending, interrupt._received, interrupt._stopping = False, None, False


@pytest.fixture
def python_sigint():
    """SIGINT with Python's own handler for the test, so that ``interrupt.installed`` takes it and a real SIGINT
    raises KeyboardInterrupt: a background shell (``.ci/run`` in one) hands its children SIGINT ignored."""
    before = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, before)


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session, exitstatus):
    """Freeze what the session allocated (``gc.freeze``: later collections no longer scan it). After its tests a
    worker's heap holds every compiled program and traced function of its files, and each full collection of
    pytest's teardown took 0.3-0.5 s (several in a row, collecting nothing); once the controller ends the
    workers, a worker still busy 5 s later is sent a SIGINT (execnet), which printed a KeyboardInterrupt
    inside JAX's gc callback at the end of the suite's output."""
    import gc

    gc.collect()
    gc.freeze()


def pytest_unconfigure(config):
    if _OWNER:  # the controller under xdist (after its workers ended), else the one process
        shutil.rmtree(_XDG, ignore_errors=True)


def pytest_addoption(parser):
    parser.addoption(
        "--seed-offset", type=int, default=0,
        help="shift every fixed seed of the learning tests by N (check that no test leans on a lucky seed)",
    )
    parser.addoption(
        "--cpu-durations", type=int, default=None, metavar="N",
        help="list the N tests that took the most CPU seconds (0: all), and the total",
    )


@pytest.fixture(scope="session")
def seed_offset(request) -> int:
    """The ``--seed-offset`` given to pytest (0 by default); tests that train add it to their seeds."""
    return request.config.getoption("--seed-offset")


# --- CPU seconds per test (``--cpu-durations N``): on a shared, loaded machine wall times say little,
# the CPU time a test takes (its own process and the subprocesses it waited for) is what it would
# cost on an idle one (an upper bound on its wall time there, when the work is single-threaded).
# Each phase's report carries its CPU seconds as a user property (``cpu_s``), so that under
# pytest-xdist (the default ``-n 2``) the workers' figures reach the controller, which prints them:
# kept in the worker's memory, as they were, the controller had none and the option printed nothing.

def _cpu_seconds() -> float:
    import resource

    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


_PHASE_START: dict[str, float] = {}
_CPU: dict[str, float] = {}


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item, nextitem):
    _PHASE_START[item.nodeid] = _cpu_seconds()
    yield
    _PHASE_START.pop(item.nodeid, None)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    report = (yield).get_result()
    now = _cpu_seconds()
    report.user_properties.append(("cpu_s", now - _PHASE_START.get(item.nodeid, now)))
    _PHASE_START[item.nodeid] = now


def pytest_runtest_logreport(report):
    """Sums each phase's ``cpu_s`` per test, in whichever process prints the summary."""
    for name, value in report.user_properties:
        if name == "cpu_s":
            _CPU[report.nodeid] = _CPU.get(report.nodeid, 0.0) + value


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    n = config.getoption("--cpu-durations")
    if n is None or not _CPU:
        return
    terminalreporter.write_sep("=", f"slowest {n} CPU times (process + waited-for subprocesses)")
    for nodeid, seconds in sorted(_CPU.items(), key=lambda kv: -kv[1])[: n or None]:
        terminalreporter.write_line(f"{seconds:8.2f}s cpu  {nodeid}")
    terminalreporter.write_line(f"{sum(_CPU.values()):8.2f}s cpu  in all ({len(_CPU)} tests)")
