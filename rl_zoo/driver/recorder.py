"""The recorder: everything a run writes about itself, shared by every runner.

Runners report three kinds of events, and the recorder turns them into files and hands them to its
hooks (``RecorderHook``; TensorBoard, video and the like plug in there):

* ``evaluation(Evaluation)``: greedy returns of some seeds at an env-step count -> one metrics row per
  seed, ``metrics.csv`` rewritten atomically (process 0), this host's ``metrics.host<i>.csv`` shard
  (multi-host runs);
* ``segment(SegmentEnd)``: a segment of updates passed the NaN guard -> its per-update training
  metrics (losses, KL, episode returns) go to the hooks;
* ``finish(summary, final_state)``: ``summary.json`` and ``curve.png`` (process 0), then the hooks.

Hooks run on process 0 only, in the order given; ``on_start`` gets the spec, the run directory, the
agent and the env (for hooks that play episodes), ``close`` is always called, also after an error.
"""

from __future__ import annotations

import os
import resource
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Sequence

import numpy as np

from rl_zoo import interrupt, runs
from rl_zoo.config import ConfigError


class HookStartError(ConfigError):
    """A hook's service could not start (``--wandb`` without a W&B login, say): the run stops before it trains, its
    run directory kept for ``--resume`` once the cause is mended. ``rl-zoo train`` says it in one line (exit 2)."""


@dataclass(frozen=True)
class RunStart:
    """What hooks learn when the run starts (or resumes)."""

    spec: Any  # the RunSpec
    run_dir: Path
    agent: Any  # rl_zoo.core.types.Agent: init, update, act (greedy), env_steps_per_update, num_updates
    env: Any
    env_params: Any
    start_updates: int  # updates already done (0, or the checkpoint's count when resuming)
    #: the checkpoint's own evaluation is in metrics.csv (a host run saves a segment before its evaluation too:
    #: resumed from such a checkpoint, the run makes that evaluation again)
    start_evaluated: bool = True


@dataclass(frozen=True)
class Evaluation:
    """Greedy evaluation returns of ``seeds`` after ``env_steps`` env steps per seed."""

    env_steps: int
    wall_s: float  # seconds since the run started (resumed runs continue the count)
    seeds: tuple[int, ...]
    returns: np.ndarray  # [len(seeds)] mean greedy return over the evaluation episodes
    train_returns: np.ndarray  # [len(seeds)] return of the last training episode that ended (NaN before any)


@dataclass(frozen=True)
class SegmentEnd:
    """Updates ``first_update + 1 ... first_update + updates`` of ``seeds`` ran and passed the NaN guard."""

    first_update: int  # updates done before this segment
    updates: int
    env_steps_per_update: int
    seeds: tuple[int, ...]
    metrics: Any  # the algorithm's Metrics pytree on the host, every leaf [len(seeds), updates, ...]
    wall_s: float
    steps_per_s: float  # env steps per second of all seeds in this segment


@dataclass(frozen=True)
class RunEnd:
    summary: dict[str, Any]  # what summary.json holds
    final_state: Any  # the algorithm's State (all seeds) at the end
    run_dir: Path


class RecorderHook:
    """Base class of recorder hooks: override what you need (every method defaults to nothing)."""

    def on_start(self, start: RunStart) -> None: ...

    def on_evaluation(self, evaluation: Evaluation) -> None: ...

    def on_segment(self, segment: SegmentEnd) -> None: ...

    def on_finish(self, end: RunEnd) -> None: ...

    def close(self) -> None: ...


#: the file ``--record-video`` (``rl_zoo.enjoy.VideoHook``) writes in the run directory when no NAME is given
DEFAULT_VIDEO = "final_episode.gif"


def live_flag_groups(record_video: str | None = None, tensorboard: str | os.PathLike | None = None,
                     wandb: bool = False) -> list[tuple[str, ...]]:
    """The train flags that add the live hooks, each with its value where one was given: ``--record-video [NAME]``
    (no NAME for ``DEFAULT_VIDEO``), ``--tensorboard [DIR]`` (``""``: in the run directory), ``--wandb``. config.json
    does not hold them, so a stopped run's ``--resume`` command repeats them (the hooks' ``resume_flags``,
    ``rl_zoo.train_command.live_flags``)."""
    groups = []
    if record_video is not None:
        groups.append(("--record-video",) if record_video == DEFAULT_VIDEO else ("--record-video", str(record_video)))
    if tensorboard is not None:
        groups.append(("--tensorboard", str(tensorboard)) if str(tensorboard) else ("--tensorboard",))
    if wandb:
        groups.append(("--wandb",))
    return groups


def check_hooks(hooks) -> tuple:
    """``hooks`` as a tuple; refused, before a run directory is made, if they are not a sequence of objects
    with every `RecorderHook` method (a subclass of it has them all)."""
    from rl_zoo.config import ConfigError

    if isinstance(hooks, (str, bytes)) or not hasattr(hooks, "__iter__"):
        raise ConfigError(f"hooks = {hooks!r} is invalid: must be a list of RecorderHook objects")
    hooks = tuple(hooks)  # a generator is read once
    for hook in hooks:
        missing = [m for m in vars(RecorderHook) if not m.startswith("_") and not callable(getattr(hook, m, None))]
        if isinstance(hook, type):  # VideoHook rather than VideoHook() (its methods, looked up on the class, are callable)
            raise ConfigError(f"hook {hook.__name__} is invalid: it is a class; pass a hook made from it: "
                              f"hooks=[{hook.__name__}()]")
        if missing and callable(hook) and hasattr(hook, "__name__"):  # tensorboard_hook rather than tensorboard_hook()
            raise ConfigError(f"hook {hook.__name__} is invalid: a function, not a hook; if it makes hooks (as "
                              f"rl_zoo.loggers.tensorboard_hook does), pass the hook it returns: hooks=[{hook.__name__}()]")
        if missing:
            raise ConfigError(f"hook {hook!r} is invalid: it has no {', '.join(missing)} (subclass "
                              f"rl_zoo.driver.RecorderHook, whose methods default to nothing)")
    return hooks


def _row(env_steps: int, wall_s: float, seed: int, ret: float, train_return: float) -> dict[str, Any]:
    return {"env_steps": int(env_steps), "wall_s": round(wall_s, 3), "seed": int(seed), "return": float(ret),
            "train_return": float(train_return)}


class Recorder:
    """Metrics rows, their CSV files and the hooks of one run (see the module docstring)."""

    def __init__(self, run_dir: Path, *, writer: bool = True, host: int | None = None,
                 host_seeds: Iterable[int] = (), hooks: Sequence[RecorderHook] = (), rows: Sequence[dict] = ()):
        """``writer``: this process writes the merged files (process 0); ``host``: this process's index
        in a multi-host run (``None`` otherwise) and ``host_seeds`` the seeds it holds; ``rows``: the
        metrics rows already written (a resumed run)."""
        self.run_dir = Path(run_dir)
        self.writer, self.host, self.host_seeds = writer, host, frozenset(host_seeds)
        self.hooks = list(hooks) if writer else []
        self.rows: list[dict[str, Any]] = list(rows)
        self._csv = runs.CsvText(rows=self.rows) if writer else None  # metrics.csv's text, and this host's shard's
        self._host_csv = runs.CsvText(rows=self._host_rows(self.rows)) if host is not None else None
        #: the hook whose ``on_finish`` runs, once summary.json and curve.png are written: a Ctrl-C then stops
        #: that hook, not the run, which has nothing left to resume (``rl_zoo.driver.run`` says so)
        self.finishing: RecorderHook | None = None

    def start(self, start: RunStart) -> None:
        for hook in self.hooks:
            hook.on_start(start)

    def prefetch_figures(self) -> None:
        """Import matplotlib on a background thread (``plots.prefetch``), where this process draws the learning
        curve at the end. A runner calls it where its main thread waits on XLA: the import holds the GIL for
        about 0.5 s, which beside JAX's tracing delays the tracing (a cold one-seed PPO CartPole plan compiled
        0.4-0.5 s slower with the import started at the run's start, ``benchmarks/results/compile_overlap.md``)."""
        if self.writer:
            from rl_zoo import plots

            plots.prefetch()

    def last_returns(self, seeds: int) -> np.ndarray:
        """The greedy returns of the last evaluation (its ``seeds`` rows)."""
        return np.array([float(r["return"]) for r in self.rows[-seeds:]])

    def last_evaluation_steps(self) -> int | None:
        """The env steps per seed of the last evaluation (None before any)."""
        return int(self.rows[-1]["env_steps"]) if self.rows else None

    def _host_rows(self, rows: Iterable[dict]) -> list[dict]:
        return [r for r in rows if r["seed"] in self.host_seeds]

    def evaluation(self, ev: Evaluation) -> None:
        new = [_row(ev.env_steps, ev.wall_s, s, ret, tr) for s, ret, tr in zip(ev.seeds, ev.returns, ev.train_returns)]
        self.rows.extend(new)
        if self._csv is not None:  # the file is written whole (atomically), its rows formatted once
            self._csv.add(new)
            runs.atomic_write_text(self.run_dir / "metrics.csv", self._csv.text())
        if self._host_csv is not None:  # each host's own shard of the results
            self._host_csv.add(self._host_rows(new))
            runs.atomic_write_text(self.run_dir / f"metrics.host{self.host}.csv", self._host_csv.text())
        for hook in self.hooks:
            hook.on_evaluation(ev)

    def segment(self, seg: SegmentEnd) -> None:
        for hook in self.hooks:
            hook.on_segment(seg)

    def finish(self, summary: dict[str, Any], final_state: Any) -> None:
        interrupt.check()  # a Ctrl-C Python swallowed stops the run before its summary and figure
        if self.writer:
            from rl_zoo import plots

            runs.atomic_write_json(self.run_dir / "summary.json", summary)
            plots.learning_curve(self.rows, f"{summary['algo']} on {runs.env_label(summary['env'], summary.get('env_kwargs'))}",
                                 self.run_dir / "curve.png")
        end = RunEnd(summary, final_state, self.run_dir)
        for hook in self.hooks:
            self.finishing = hook
            hook.on_finish(end)
        self.finishing = None

    def close(self) -> None:
        for hook in self.hooks:
            hook.close()


def summarize(spec, final_returns, *, env_steps_per_seed: int, compile_s: float, train_s: float) -> dict[str, Any]:
    """What ``summary.json`` holds. ``train_s`` adds up every process of a resumed run; ``compile_s`` is
    the last process's, and ``versions`` the libraries and CPU of the process that finished it
    (config.json keeps those it started with). The mean and std are taken in float64 of the returns as recorded,
    so a run resumed after its last checkpoint, whose returns come back from metrics.csv, gives the same numbers
    as the uninterrupted run, whose returns are the evaluation's float32 (its std differed in the 7th digit)."""
    import jax

    final_returns = np.asarray(final_returns, np.float64)
    return dict(
        algo=spec.algo,
        env=spec.env_id,
        backend=spec.backend,
        seeds=list(spec.seed_ids),
        final_return=[float(x) for x in final_returns],
        final_return_mean=runs.mean_return(final_returns),
        final_return_std=float(np.std(final_returns)),
        env_steps_per_seed=int(env_steps_per_seed),
        env_steps_total=int(env_steps_per_seed * spec.seeds),
        compile_s=round(compile_s, 3),
        train_s=round(train_s, 3),
        steps_per_s=round(env_steps_per_seed * spec.seeds / max(train_s, 1e-9), 1),
        peak_memory_mb=round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0, 1),
        eval_episodes=spec.eval_episodes,
        devices=spec.devices,
        processes=jax.process_count(),
        versions=runs.versions(),
        **({"env_kwargs": spec.env_kwargs} if spec.env_kwargs else {}),
    )
