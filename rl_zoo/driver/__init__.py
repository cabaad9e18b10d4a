"""The driver behind ``rl-zoo train``: one ``RunSpec`` in, a run directory out.

    spec.py         RunSpec (what config.json stores and --resume reads back), resolve_config
    run.py          train(): run directory and its lock, the runner for the backend, resume, summary
    runner.py       what a runner gets (RunContext) and returns (RunOutcome); checkpoint progress
    plan.py         the compiled programs of a JAX run (init, segment, evaluation): compile_plan -> JaxPlan
    program_store.py  those programs kept on disk, so that the same command run again skips tracing them
    jax_runner.py   JAX envs: all seeds vmapped in compiled segments, checkpointed
    (rl_zoo.host)   gymnasium-adapter envs: all seeds in one program, env steps as host calls
    recorder.py     metrics rows, metrics.csv and per-host shards, summary.json, curve.png, hooks
    guard.py        the NaN guard
    resume.py       the newest intact checkpoint and the metrics rows up to it; what a resume checks and records
"""

from rl_zoo.driver.guard import NonFiniteError
from rl_zoo.driver.recorder import Evaluation, Recorder, RecorderHook, RunEnd, RunStart, SegmentEnd
from rl_zoo.driver.run import RUNNERS, RunResult, format_summary, train
from rl_zoo.driver.runner import RunContext, RunOutcome, segment_sizes
from rl_zoo.driver.spec import RunSpec, enable_compilation_cache, load_hyperparams, read_spec, resolve_config

__all__ = [
    "NonFiniteError", "Evaluation", "Recorder", "RecorderHook", "RunEnd", "RunStart", "SegmentEnd", "RUNNERS", "RunResult",
    "format_summary", "train", "RunContext", "RunOutcome", "segment_sizes", "RunSpec", "enable_compilation_cache",
    "load_hyperparams", "read_spec", "resolve_config",
]
