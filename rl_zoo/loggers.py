"""Live metrics: TensorBoard event files (tensorboardX) and, optionally, Weights & Biases.

The driver hands every logger the same three things as training goes (the hooks of
``rl-zoo train --tensorboard`` / ``--wandb``):

* ``rows(rows)``: the new rows of ``metrics.csv`` (one per evaluation and seed), logged under the
  same names as the CSV's columns (``return``, ``train_return``, ``wall_s``) at ``env_steps``;
* ``updates(metrics, first_update, env_steps_per_update)``: the algorithm's per-update metrics of one
  segment, a pytree of ``[seeds, K]`` arrays, one point per update (not per segment) under
  ``update/<field path>`` (``update/policy_loss``, ``update/episode/episode_return``, ...) at the env
  steps each update ended on; NaN points (an update in which no episode ended) are left out;
* ``scalars(values, env_steps)``: run-level numbers of a segment, the same for every seed (``steps_per_s``).

TensorBoard gets one folder per seed (``<logdir>/seed_<s>``), so ``tensorboard --logdir <logdir>``
shows the seeds as separate runs; ``--tensorboard DIR`` (a folder runs share) puts each run's in
``DIR/<run folder name>/seed_<s>``. The files are tensorboardX's; ``tensorboard`` (``pip install -e
".[tensorboard]"``) shows them, and its ``EventAccumulator`` reads them back (``tests/test_tensorboard.py``).

A resumed run continues where its checkpoint left off. TensorBoard hides the points an interrupted
process wrote past the checkpoint (``purge_step``). W&B continues the same run (its id is kept in
``RUN_DIR/wandb_run.json``; ``wandb.init(id=..., resume="allow")``) but cannot drop points: those the
interrupted process logged past the checkpoint stay, and W&B ignores the resumed run's points at steps it
has already seen (its steps only increase), so between the checkpoint and the interruption the W&B
curves show the interrupted process's points; metrics.csv holds the resumed run's.
"""

from __future__ import annotations

import itertools
import os
import time
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

import numpy as np

from rl_zoo import runs
from rl_zoo.driver.recorder import Evaluation, HookStartError, RecorderHook, RunStart, SegmentEnd, live_flag_groups

#: metrics.csv columns that are the x axis or the run, not quantities
_NOT_SCALARS = ("env_steps", "seed")
WANDB_INSTALL_HINT = 'pip install -e ".[wandb]" (or pip install wandb)'


def scalar_fields(metrics: Any, prefix: str = "update") -> dict[str, np.ndarray]:
    """``{tag: array [seeds, K]}`` for every numeric leaf of a per-update metrics pytree that holds one
    number per seed and update (others, such as vectors per update, are left out), the tag being its
    field path joined by ``/`` (``Metrics(policy_loss=...)`` -> ``update/policy_loss``)."""
    import jax

    out = {}
    for path, leaf in jax.tree_util.tree_flatten_with_path(metrics)[0]:
        x = np.asarray(leaf)
        if x.ndim != 2 or not (np.issubdtype(x.dtype, np.floating) or np.issubdtype(x.dtype, np.integer)):
            continue
        names = [str(getattr(k, "name", getattr(k, "key", getattr(k, "idx", k)))) for k in path]
        out["/".join([prefix, *names])] = x
    return out


class TensorBoardLogger:
    """Scalars per seed into ``logdir/seed_<s>`` event files; with ``purge_step``, TensorBoard hides the
    points of earlier files at or after that step (a resumed run).

    Events are written in the calling thread (tensorboardX's ``EventsWriter``, the record writer its
    ``SummaryWriter`` queues to): ``SummaryWriter.flush`` does not wait for its queue, so a process
    killed right after the hook's flush, its checkpoint saved, lost the evaluation the checkpoint holds,
    and the resumed run, purging from the checkpoint on, never logged it again."""

    def __init__(self, logdir: str | os.PathLike, seeds: Sequence[int], purge_step: int | None = None):
        try:
            from tensorboardX.event_file_writer import EventsWriter
            from tensorboardX.proto.event_pb2 import Event, SessionLog
        except ImportError as e:  # a dependency of rl_zoo; only a broken install lacks it
            raise ImportError(f"--tensorboard needs tensorboardX, which is not installed ({e}): pip install tensorboardX") from e
        self.logdir, self.seeds = Path(logdir), [int(s) for s in seeds]
        self.writers = {}
        for s in self.seeds:
            folder = self.logdir / f"seed_{s}"
            folder.mkdir(parents=True, exist_ok=True)
            self.writers[s] = EventsWriter(str(folder / "events"))
            if purge_step is not None:  # as SummaryWriter(purge_step=...) marks it
                self.writers[s].write_event(Event(wall_time=time.time(), step=int(purge_step), file_version="brain.Event:2"))
                self.writers[s].write_event(Event(wall_time=time.time(), step=int(purge_step),
                                                  session_log=SessionLog(status=SessionLog.START)))
        self.message = f"TensorBoard event files in {self.logdir} (view them: tensorboard --logdir {self.logdir})"

    def _write(self, seed: int, step: int, values: dict[str, float]) -> None:
        """One event holding every finite value of ``values`` at ``step`` (one protobuf per step rather than
        one per scalar, as ``add_scalar`` would make: about 10x less work for a dozen metrics)."""
        from tensorboardX.proto.event_pb2 import Event
        from tensorboardX.proto.summary_pb2 import Summary

        points = [Summary.Value(tag=tag, simple_value=float(v)) for tag, v in values.items() if _finite(v)]
        if points:
            self.writers[seed].write_event(Event(wall_time=time.time(), step=int(step), summary=Summary(value=points)))

    def rows(self, rows: Iterable[dict]) -> None:
        for row in rows:
            if int(row["seed"]) in self.writers:
                self._write(int(row["seed"]), int(row["env_steps"]), {k: v for k, v in row.items() if k not in _NOT_SCALARS})

    def updates(self, metrics: Any, first_update: int, env_steps_per_update: int) -> None:
        fields = scalar_fields(metrics)
        if not fields:
            return
        stacked = np.stack([x.astype(np.float64) for x in fields.values()], axis=-1)  # [seeds, K, tags]
        for i, seed in enumerate(self.seeds):
            for k in range(stacked.shape[1]):
                self._write(seed, (first_update + k + 1) * env_steps_per_update, dict(zip(fields, stacked[i, k])))

    def scalars(self, values: dict[str, float], env_steps: int) -> None:
        for seed in self.seeds:
            self._write(seed, env_steps, values)

    def flush(self) -> None:
        """Every event written so far is in the files when this returns (the OS holds it: a killed
        process keeps it)."""
        for writer in self.writers.values():
            writer.flush()

    def close(self) -> None:
        for writer in self.writers.values():
            writer.close()


#: the file in a run directory that names its W&B run, so that ``--resume --wandb`` continues that run
WANDB_RUN_FILE = "wandb_run.json"


class WandbLogger:
    """The same quantities into one Weights & Biases run: ``<name>/seed_<s>`` per seed and ``<name>``
    the mean over seeds, every point at its env step (``step`` is W&B's x axis, so points arrive in
    increasing env steps; per-update points of a segment are logged before its evaluation row).

    A new run's W&B id and project are written to ``RUN_DIR/wandb_run.json``; with ``resume=True`` (the
    driver resuming from a checkpoint) the W&B run recorded there is continued (``id=..., resume="allow"``)
    rather than a new one started. W&B cannot rewind it to the checkpoint: see the module docstring."""

    def __init__(self, run_dir: str | os.PathLike, seeds: Sequence[int], config: dict | None = None,
                 project: str | None = None, resume: bool = False):
        wandb = _import_wandb()
        run_dir = Path(run_dir)
        self.seeds = [int(s) for s in seeds]
        recorded = recorded_wandb_run(run_dir) if resume else None
        project = project or (recorded or {}).get("project") or os.environ.get("WANDB_PROJECT", "rl_zoo")
        more = dict(id=recorded["id"], resume="allow") if recorded else {}
        self.run = wandb.init(project=project, name=run_dir.name, dir=str(run_dir), config=config or {}, **more)
        if recorded:
            self.message = (f"W&B run {recorded['id']} continued; points the interrupted process logged past the checkpoint "
                            f"stay in it (W&B cannot drop them; metrics.csv holds this run's)")
        else:
            self.message = None
            if run_id := getattr(self.run, "id", None):  # a W&B run always has one; a stand-in may not
                runs.atomic_write_json(run_dir / WANDB_RUN_FILE, dict(id=str(run_id), project=project))

    def _log(self, per_seed: dict[str, dict[int, float]], step: int) -> None:
        data = {}
        for name, values in per_seed.items():
            finite = {s: v for s, v in values.items() if _finite(v)}
            if finite:
                data[name] = float(np.mean(list(finite.values())))
                data.update({f"{name}/seed_{s}": v for s, v in finite.items()})
        if data:
            self.run.log(data, step=int(step))

    def rows(self, rows: Iterable[dict]) -> None:
        by_step: dict[int, dict[str, dict[int, float]]] = {}
        for row in rows:
            slot = by_step.setdefault(int(row["env_steps"]), {})
            for name, value in row.items():
                if name not in _NOT_SCALARS:
                    slot.setdefault(name, {})[int(row["seed"])] = float(value)
        for step in sorted(by_step):
            self._log(by_step[step], step)

    def updates(self, metrics: Any, first_update: int, env_steps_per_update: int) -> None:
        fields = scalar_fields(metrics)
        k_total = next(iter(fields.values())).shape[1] if fields else 0
        for k in range(k_total):
            self._log({t: {s: float(x[i, k]) for i, s in enumerate(self.seeds)} for t, x in fields.items()},
                      (first_update + k + 1) * env_steps_per_update)

    def scalars(self, values: dict[str, float], env_steps: int) -> None:
        data = {name: float(v) for name, v in values.items() if _finite(v)}
        if data:
            self.run.log(data, step=int(env_steps))

    def flush(self) -> None:
        pass

    def close(self) -> None:
        self.run.finish()


def recorded_wandb_run(run_dir: Path) -> dict | None:
    """``{"id", "project"}`` of the W&B run a run directory recorded (``WANDB_RUN_FILE``), or ``None`` when
    there is none or it cannot be read (a new W&B run is then started)."""
    import json

    try:
        data = json.loads((Path(run_dir) / WANDB_RUN_FILE).read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and isinstance(data.get("id"), str) and data["id"] else None


def _finite(value) -> bool:
    try:
        return bool(np.isfinite(float(value)))
    except (TypeError, ValueError):
        return False


class LiveMetricsHook(RecorderHook):
    """The driver's recorder events into a logger (``rl-zoo train --tensorboard`` / ``--wandb``):
    each evaluation's rows under metrics.csv's names, each segment's per-update metrics one point per
    update, and the segment's env steps per second (``steps_per_s``). ``make_logger(RunStart)`` builds
    the logger when the run starts (or resumes), so it can place itself in the run directory."""

    def __init__(self, make_logger: Callable[[RunStart], Any], flag: str | None = None, resume_flags: Sequence[str] = ()):
        self.make_logger, self.logger = make_logger, None
        self.flag = flag  # the train flag that adds this hook ("--tensorboard"), for the driver's messages
        self.resume_flags = tuple(resume_flags)  # the flags that add it again, for a stopped run's `--resume` command
        self.message: str | None = None  # where the metrics went, for the user

    def on_start(self, start: RunStart) -> None:
        try:
            self.logger = self.make_logger(start)
        except Exception as e:  # noqa: BLE001 - W&B not logged in or unreachable: one line, before training
            if isinstance(e, OSError) and e.errno in runs.STORAGE_ERRNOS:  # a disk full: the driver says what the run keeps
                raise
            raise HookStartError(f"{self.flag or 'the logger'}: it could not start ({type(e).__name__}: {e})") from e
        self.message = getattr(self.logger, "message", None)

    def on_evaluation(self, ev: Evaluation) -> None:
        self.logger.rows([{"env_steps": ev.env_steps, "wall_s": ev.wall_s, "seed": s, "return": r, "train_return": t}
                          for s, r, t in zip(ev.seeds, ev.returns, ev.train_returns)])
        self.logger.flush()

    def on_segment(self, seg: SegmentEnd) -> None:
        self.logger.updates(seg.metrics, seg.first_update, seg.env_steps_per_update)
        self.logger.scalars({"steps_per_s": seg.steps_per_s}, (seg.first_update + seg.updates) * seg.env_steps_per_update)

    def close(self) -> None:
        if self.logger is not None:
            self.logger.close()


#: the file in a ``--tensorboard DIR`` run folder that names the run directory whose events it holds
OWNER_FILE = "run_dir.txt"


def shared_folder(logdir: Path, run_dir: Path) -> Path:
    """A run's folder in a ``--tensorboard DIR`` other runs may share: ``DIR/<RUN_DIR's name>``, or, where that
    holds another run's events (runs ``A/run`` and ``B/run``), ``DIR/<name>-2``, ``-3``, ...: the first that is
    this run's (a resume finds its own again) or free. Each folder names its run in ``OWNER_FILE``. Where ``DIR`` is the
    folder that holds the run directory (``--tensorboard runs``), ``DIR/<name>`` is the run itself: ``RUN_DIR/tensorboard``."""
    me = str(Path(run_dir).resolve())
    name = Path(os.path.abspath(run_dir)).name  # `--out .`: the folder's own name (Path(".").name is "": the events
    # went into DIR itself); a symlinked run directory keeps its link's name

    def mine(folder: Path) -> bool:
        return (folder / OWNER_FILE).is_file() and (folder / OWNER_FILE).read_text().strip() == me

    if str((logdir / name).resolve()) == me:  # DIR holds the run directory (--tensorboard runs): DIR/<name> is the run
        for i in itertools.count(2):  # a DIR/<name>-k it logged into before this version is kept, else its own folder
            folder = logdir / f"{name}-{i}"
            if not folder.exists():
                return Path(run_dir) / "tensorboard"
            if mine(folder):
                return folder
    for i in itertools.count(1):
        folder = logdir / (name + (f"-{i}" if i > 1 else ""))
        if not folder.exists() or mine(folder):
            folder.mkdir(parents=True, exist_ok=True)
            (folder / OWNER_FILE).write_text(me + "\n")
            return folder


def tensorboard_hook(logdir: str | os.PathLike | None = None) -> LiveMetricsHook:
    """``--tensorboard [DIR]``: event files in ``RUN_DIR/tensorboard``, or, given a ``DIR`` (which other runs
    may share), in ``DIR/<RUN_DIR's name>`` (runs sharing ``DIR/seed_<s>`` showed as one run in TensorBoard,
    two points at each step), ``-2``, ``-3`` after it where another run of that name has it (``shared_folder``).
    A resumed run writes on from its checkpoint: points past it, left by the interrupted process, are purged
    (from its own step where the checkpoint was saved before its evaluation, which the run makes again: the
    segment's points at that step are written back, ``segment_points_at``)."""

    def make(start: RunStart) -> TensorBoardLogger:
        folder = shared_folder(Path(logdir), Path(start.run_dir)) if logdir else Path(start.run_dir) / "tensorboard"
        step = start.start_updates * start.agent.env_steps_per_update
        kept = {}
        if start.start_updates and start.start_evaluated:  # past the checkpoint's evaluation
            purge = step + 1
        elif start.start_updates:  # its evaluation is made again: from its step, the segment's own points written back
            purge, kept = step, {s: segment_points_at(folder / f"seed_{s}", step) for s in start.spec.seed_ids}
        else:  # a run started again (killed before its first checkpoint, after writing), or a new run at the path of a
            # deleted one whose DIR/<name> folder names it, writes its points again from 0 (the old ones hidden)
            purge = 0 if any(folder.glob("seed_*")) else None
        logger = TensorBoardLogger(folder, start.spec.seed_ids, purge_step=purge)
        for seed, values in kept.items():
            logger._write(seed, step, values)
        return logger

    return LiveMetricsHook(make, "--tensorboard", *live_flag_groups(tensorboard="" if logdir is None else logdir))


def segment_points_at(folder: Path, step: int) -> dict[str, float]:
    """The values a seed's event files in ``folder`` hold at ``step`` under the segments' tags (``update/...``,
    ``steps_per_s``; not an evaluation's), as TensorBoard reads them: a later point of a tag wins, and a purge
    (``SessionLog.START``) at or before ``step`` hides the earlier files' points. A resume from a checkpoint saved
    before its evaluation purges from that step, to log the evaluation once, and writes these back."""
    import struct

    from tensorboardX.proto.event_pb2 import Event, SessionLog

    values: dict[str, float] = {}
    for path in sorted(folder.glob("events*")):
        data = path.read_bytes()
        i = 0
        while i + 12 <= len(data):  # TFRecord: length (8 bytes), its CRC (4), the event, its CRC (4)
            (n,) = struct.unpack("<Q", data[i:i + 8])
            payload = data[i + 12:i + 12 + n]
            i += 16 + n
            if len(payload) < n:
                break  # a record the killed process did not finish
            try:
                event = Event.FromString(payload)
            except Exception:  # noqa: BLE001 - a damaged record: TensorBoard skips it too
                continue
            if event.session_log.status == SessionLog.START and event.step <= step:
                values.clear()
            elif event.step == step:
                values.update({v.tag: v.simple_value for v in event.summary.value
                               if v.tag.startswith("update/") or v.tag == "steps_per_s"})
    return values


def _import_wandb():
    try:
        import wandb
    except ImportError as e:
        raise ImportError(f"--wandb needs the wandb package, which is not installed ({e}): {WANDB_INSTALL_HINT}") from e
    return wandb


def wandb_hook(project: str | None = None) -> LiveMetricsHook:
    """``--wandb``: one W&B run named after the run directory, ``config.json`` as its config (the run's
    seeds, evaluations, backend, command and versions, and the algorithm's fields at the top level, to
    filter runs by). Refused here, before the run directory is made, if wandb is not installed; a W&B run that cannot
    start (no login, say) stops the run before it trains, its run directory kept for ``--resume`` (``HookStartError``).
    A run resumed from a checkpoint continues the W&B run it recorded (``WandbLogger``), keeping the points past the checkpoint (W&B cannot drop them)."""
    _import_wandb()

    def make(start: RunStart) -> WandbLogger:
        record = start.spec.to_json()
        config = dict(record, **record.pop("config"))
        return WandbLogger(start.run_dir, start.spec.seed_ids, config, project, resume=start.start_updates > 0)

    return LiveMetricsHook(make, "--wandb", *live_flag_groups(wandb=True))
