"""What every runner gets and gives back, and the pieces the runners share.

A runner trains the seeds of one ``RunSpec`` on one kind of env: ``JaxRunner`` vmaps them in compiled
segments (``rl_zoo.driver.jax_runner``), ``BatchedHostRunner`` does the same for gymnasium envs, the env
steps as host calls (``rl_zoo.host.runner``); ``rl_zoo.driver.run.RUNNERS`` maps a spec's backend to its runner.
A runner is an object with ``name``, ``can_resume`` and

    run(ctx: RunContext, recorder: Recorder, resume: ResumePoint | None) -> RunOutcome

It reports every evaluation and segment to the recorder, checks each segment with the NaN guard
(``rl_zoo.driver.guard.check_finite``) and, if it can resume, writes a checkpoint
(``save_checkpoint``) after each segment; ``resume`` is the checkpoint to continue from, already
verified, and the recorder's rows are already trimmed to it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Protocol, Sequence

import numpy as np

from rl_zoo import checkpoint


@dataclass(frozen=True)
class RunContext:
    spec: Any  # RunSpec
    run_dir: Path
    agent: Any  # rl_zoo.core.types.Agent built from spec.config, env, env_params
    env: Any
    env_params: Any
    log: Callable[[str], None] = print
    progress: bool = True  # draw a progress bar

    @property
    def label(self) -> str:
        return f"{self.spec.algo} {self.spec.env_id}"

    @property
    def total_env_steps(self) -> int:
        """Env steps per seed of the whole run."""
        return self.agent.num_updates * self.agent.env_steps_per_update


@dataclass(frozen=True)
class RunOutcome:
    final_returns: np.ndarray  # [seeds] greedy return of the last evaluation
    final_state: Any  # the algorithm's State at the end (all seeds)
    compile_s: float
    train_s: float
    extra_summary: dict = field(default_factory=dict)  # more summary.json fields (the host runner: evaluation cost)


@dataclass(frozen=True)
class CheckpointMeta:
    """The driver's progress saved beside the training state in every checkpoint."""

    segments_done: int
    updates_done: int
    train_s: float  # seconds in training segments so far
    wall_s: float  # seconds since the run started
    latest_train_return: tuple[float, ...]  # per seed, the last training episode's return
    evaluated: bool = True  # the segment ended with an evaluation (host runs with fewer evaluations than segments: not all)
    seeds: tuple[int, ...] | None = None  # the seed ids whose states the checkpoint holds (None: not recorded, older files)
    spec: str | None = None  # RunSpec.trajectory_record of the run that wrote it (None: not recorded, older files)
    devices: int | None = None  # the devices its seeds were split over (None: not recorded, older files)
    eval_s: float = 0.0  # a JAX run's seconds in evaluations so far (0.0: not recorded, older files and host runs)
    checkpoint_s: float = 0.0  # a JAX run's seconds writing the checkpoints before this one (as eval_s)

    def to_dict(self) -> dict[str, Any]:
        out = dict(segments_done=self.segments_done, updates_done=self.updates_done, train_s=self.train_s,
                   wall_s=self.wall_s, latest_train_return=list(self.latest_train_return), evaluated=self.evaluated,
                   eval_s=self.eval_s, checkpoint_s=self.checkpoint_s)
        if self.seeds is not None:
            out["seeds"] = list(self.seeds)
        if self.spec is not None:
            out["spec"] = self.spec
        if self.devices is not None:
            out["devices"] = self.devices
        return out

    @classmethod
    def from_dict(cls, meta: dict[str, Any]) -> "CheckpointMeta":
        seeds = meta.get("seeds")
        return cls(int(meta["segments_done"]), int(meta["updates_done"]), float(meta["train_s"]), float(meta["wall_s"]),
                   tuple(float(x) for x in meta["latest_train_return"]), bool(meta.get("evaluated", True)),
                   None if seeds is None else tuple(int(s) for s in seeds),
                   None if meta.get("spec") is None else str(meta["spec"]),
                   None if meta.get("devices") is None else int(meta["devices"]),
                   float(meta.get("eval_s", 0.0)), float(meta.get("checkpoint_s", 0.0)))


@dataclass(frozen=True)
class ResumePoint:
    """The verified checkpoint a resumed run continues from."""

    path: Path
    meta: CheckpointMeta


class Runner(Protocol):
    name: str
    can_resume: bool

    def run(self, ctx: RunContext, recorder: Any, resume: ResumePoint | None) -> RunOutcome: ...


def seeds_mismatch(recorded: Sequence[int] | None, seed_ids: Sequence[int]) -> str | None:
    """Why a checkpoint that records the seeds ``recorded`` cannot serve a run of ``seed_ids``, or ``None``
    (the same seeds, or a checkpoint written before checkpoints recorded them)."""
    if recorded is None or tuple(recorded) == tuple(seed_ids):
        return None
    return f"it holds the states of seeds {_seed_range(recorded)}, this run's are {_seed_range(seed_ids)}"


def _seed_range(seeds: Sequence[int]) -> str:
    seeds = list(seeds)
    if len(seeds) > 2 and seeds == list(range(seeds[0], seeds[0] + len(seeds))):
        return f"{seeds[0]}-{seeds[-1]}"
    return ", ".join(map(str, seeds))


def segment_schedule(num_updates: int, num_evals: int, checkpointed: "CheckpointMeta | None" = None) -> tuple[int, ...]:
    """The updates of each segment of a JAX run (``rl_zoo.driver.plan.compile_plan``): ``segment_sizes``'s
    segments of K updates, then one of the remaining updates if K does not divide them. A resumed run whose
    checkpoint (``checkpointed``) is a point of the earlier rule's segments and not of these goes on along
    those (its evaluations' keys follow the segments' indices)."""
    schedule = _schedule(segment_sizes(num_updates, num_evals), num_updates)
    if checkpointed is not None and schedule_mismatch(checkpointed, schedule):
        earlier = floor_segment_schedule(num_updates, num_evals)
        if not schedule_mismatch(checkpointed, earlier):
            return earlier
    return schedule


def _schedule(sizes: tuple[int, int], num_updates: int) -> tuple[int, ...]:
    k, n = sizes
    rest = num_updates - k * n
    return (k,) * n + ((rest,) if rest else ())


def schedule_mismatch(meta: "CheckpointMeta", schedule: Sequence[int]) -> str | None:
    """Why a checkpoint's progress (``segments_done`` segments, ``updates_done`` updates) is not a point of
    the run's segment ``schedule``, or ``None``: continuing from it would train past the run's budget or
    along other segments than those the run was checkpointed on (config.json edited since)."""
    total = sum(schedule)
    if meta.segments_done > len(schedule) or meta.updates_done > total:
        return (f"it records {meta.updates_done:,} updates in {meta.segments_done} segment(s), past the run's "
                f"{total:,} updates in {len(schedule)} segment(s)")
    planned = sum(schedule[:meta.segments_done])
    if planned != meta.updates_done:
        return (f"it records {meta.updates_done:,} updates in {meta.segments_done} segment(s), but the run's first "
                f"{meta.segments_done} segment(s) hold {planned:,} updates")
    return None


def segment_sizes(num_updates: int, num_evals: int) -> tuple[int, int]:
    """(updates per segment K, number of whole segments n): a K that divides ``num_updates`` into a number
    of segments near the asked number of evaluations, so that one compiled segment serves the whole run;
    where no count from half to twice the evaluations divides them, K = ceil(updates / evaluations) and
    a last, shorter segment of the rest (``segment_schedule``): ``num_evals`` segments at most, the last
    one shorter. (Until 2026-12-07, K = floor(updates / evaluations): the rest could be longer than the
    others, 29 updates in 10 evaluations as 2, ..., 2, 9, with no evaluation over its last third.)"""
    num_evals = max(1, min(num_evals, num_updates))
    candidates = [n for n in range(max(1, num_evals // 2), 2 * num_evals + 1) if num_updates % n == 0]
    if candidates:
        n = min(candidates, key=lambda c: abs(c - num_evals))
        return num_updates // n, n
    k = -(-num_updates // num_evals)
    return k, num_updates // k


def floor_segment_schedule(num_updates: int, num_evals: int) -> tuple[int, ...]:
    """The segments of a run by the rule until 2026-12-07 (``_floor_segment_sizes``): a run checkpointed then goes
    on along them (``segment_schedule``), a sweep's folder written then is checked against them
    (``rl_zoo.sweep.folder.check_segments``)."""
    return _schedule(_floor_segment_sizes(num_updates, num_evals), num_updates)


def _floor_segment_sizes(num_updates: int, num_evals: int) -> tuple[int, int]:
    """``segment_sizes``'s rule until 2026-12-07 where no count divides the updates (``floor_segment_schedule``)."""
    num_evals = max(1, min(num_evals, num_updates))
    return num_updates // num_evals, num_evals


def whole_updates_note(asked: int, num_updates: int, per_update: int) -> str | None:
    """A line for the log when a run drops more than 1% of the ``asked`` env steps per seed: training
    runs whole updates only (``asked // per_update`` of them, as in CleanRL), so ``--total-steps 20000``
    with a 16,384-step batch runs 16,384. ``None`` when (nearly) all of them run."""
    done = num_updates * per_update
    if asked - done <= 0.01 * asked:
        return None
    return (f"{asked:,} env steps per seed asked, {done:,} run: {num_updates:,} whole update(s) of "
            f"{per_update:,} env steps (a multiple of {per_update:,} runs them all)")


def evals_note(num_evals: int, num_updates: int) -> str | None:
    """A line for the log when ``--evals`` asks for more evaluations than the run has updates: a run
    evaluates at most once per update (``segment_sizes``). ``None`` otherwise."""
    if num_evals <= num_updates:
        return None
    return (f"--evals {num_evals:,} asked, {num_updates:,} made: a run evaluates at most once per update, and this one "
            f"runs {num_updates:,} (plus the evaluation at the start)")


def latest_episode_return(metrics, previous: np.ndarray) -> np.ndarray:
    """Per seed, the mean return of the last update in the segment that finished an episode."""
    ep = metrics.episode
    n = np.asarray(ep.episodes)  # [seeds, K]
    r = np.asarray(ep.episode_return)
    out = previous.copy()
    for s in range(n.shape[0]):
        idx = np.nonzero(n[s] > 0)[0]
        if idx.size:
            out[s] = r[s, idx[-1]]
    return out


def save_checkpoint(ctx: RunContext, states: Any, meta: CheckpointMeta) -> Path:
    """``checkpoints/ckpt_<updates>.msgpack`` of ``states`` with ``meta``, keeping the spec's last few."""
    return checkpoint.save(ctx.run_dir, meta.updates_done, states, meta.to_dict(), keep=ctx.spec.keep_checkpoints)
