"""Transitional: makes every Python process started with this folder on PYTHONPATH (the benchmark's cell
processes included) run gymnasium envs with rl_zoo.host's batched runner, until rl_zoo.driver.run names
it in RUNNERS itself (then this does nothing). Used only by benchmarks/gymnasium_results.py."""

try:
    from rl_zoo.driver import run as _run
    from rl_zoo.host.runner import BatchedHostRunner as _Runner

    if not isinstance(_run.RUNNERS.get("gymnasium"), _Runner):
        _run.RUNNERS["gymnasium"] = _Runner()
except ImportError:  # rl_zoo not importable in this interpreter: leave it alone
    pass
