"""Where a resumed run continues from: the newest intact checkpoint, and the metrics rows up to it.

Every checkpoint carries a checksum (``rl_zoo.checkpoint``). ``choose_checkpoint`` reads them newest
first; damaged ones newer than the first intact one are reported (file and why) and, once the run
really continues, renamed to ``*.damaged`` (kept, never pruned). If every checkpoint is damaged,
``CheckpointsDamaged`` says so and nothing is changed. The rows of ``metrics.csv`` past the chosen
checkpoint are dropped; a metrics file that lacks the rows up to it is refused.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from rl_zoo import checkpoint, runs
from rl_zoo.driver.runner import CheckpointMeta, ResumePoint


def split_cpu_as_recorded(run_dir: str | Path, devices: int | None = None) -> int:
    """Before JAX starts, for a run about to resume: the CPU split into as many devices as its
    ``config.json`` records (``devices`` instead, when given), since a resumed run continues bit for bit
    only on the same count (``rl_zoo.distributed.split_cpu``). A config.json that cannot be read changes
    nothing: the driver reports it. Returns the count set (1: none)."""
    from rl_zoo import distributed

    try:
        config = runs.read_json_file(Path(run_dir) / "config.json", required=("seeds",))
        seeds, recorded = int(config["seeds"]), int(config.get("devices", 1))
    except (TypeError, ValueError):  # runs.RunFileError is a ValueError
        return 1
    return distributed.split_cpu(seeds, devices or recorded)


class CheckpointsDamaged(ValueError):
    """Every checkpoint of a run directory is damaged; the message lists them with the reasons, and
    ``damaged`` holds them as (path, reason) pairs, newest first."""

    def __init__(self, message: str, damaged: tuple[tuple[Path, str], ...] = ()):
        super().__init__(message)
        self.damaged = damaged


@dataclass(frozen=True)
class CheckpointChoice:
    point: ResumePoint | None  # the newest intact checkpoint (None: the run has none: start again)
    damaged: tuple[tuple[Path, str], ...]  # newer checkpoints that are damaged, with why


def choose_checkpoint(run_dir: Path) -> CheckpointChoice:
    """The newest checkpoint that reads back intact, and the damaged ones newer than it.

    Raises ``CheckpointsDamaged`` (nothing renamed or written) when there are checkpoints and none is intact.
    """
    damaged: list[tuple[Path, str]] = []
    for path in reversed(checkpoint.list_checkpoints(run_dir)):
        try:
            _, raw = checkpoint.read(path)
            meta = CheckpointMeta.from_dict(raw)
        except checkpoint.CheckpointDamaged as e:
            damaged.append((path, e.reason))
            continue
        except (KeyError, TypeError, ValueError) as e:
            damaged.append((path, f"its progress record is incomplete ({type(e).__name__}: {e})"))
            continue
        return CheckpointChoice(ResumePoint(path, meta), tuple(damaged))
    if damaged:
        listing = "; ".join(f"{p.name}: {why}" for p, why in damaged)
        again = ("The run had finished (summary.json), so its results stand; for a policy to load, train a new run "
                 "with the settings config.json records" if (Path(run_dir) / "summary.json").is_file() else
                 "To train this run again from the beginning, move the checkpoints folder away and run the same "
                 "--resume command; or start a new run")
        raise CheckpointsDamaged(
            f"cannot resume {str(run_dir)!r}: every checkpoint in {Path(run_dir) / 'checkpoints'} is damaged ({listing}). "
            f"Nothing was changed. {again}.", tuple(damaged))
    return CheckpointChoice(None, ())


def set_aside_damaged(choice: CheckpointChoice, log: Callable[[str], None]) -> None:
    """Rename the damaged checkpoints newer than the chosen one (``*.damaged``) and say so."""
    for path, why in choice.damaged:
        kept = checkpoint.set_aside(path)
        log(f"checkpoint {path} is damaged ({why}); renamed to {kept.name} and skipped")


def rows_up_to(run_dir: Path, point: ResumePoint, env_steps_per_update: int, seeds: tuple[int, ...],
               schedule: Sequence[int] | None = None) -> list[dict]:
    """The rows of ``metrics.csv`` up to the checkpoint's env step; ``RunFileError`` naming the file if
    it cannot be read or lacks the evaluation the checkpoint was written after (where it was written
    after one: a host run with fewer evaluations than segments checkpoints between them too, and saves
    a segment before its evaluation), or an evaluation holds rows of only some seeds. Rows at the
    checkpoint's own step are kept only if it was written after their evaluation: else that evaluation
    is made again on resume (``rl_zoo.host.runner``). ``schedule`` (a JAX run's segments, which evaluates
    at the start and after each of them): every one of those evaluations up to the checkpoint must be there."""
    path = Path(run_dir) / "metrics.csv"
    todo = "The run cannot continue with it: restore it from a copy, or start a new run (nothing was changed)"
    rows = runs.read_metrics(path, todo=todo)
    last = point.meta.updates_done * env_steps_per_update
    kept = [r for r in rows if r["env_steps"] < last or (r["env_steps"] == last and point.meta.evaluated)]
    expected = {last} if point.meta.evaluated else set()
    if schedule is not None:
        ends = np.concatenate([[0], np.cumsum(schedule[:point.meta.segments_done])]) * env_steps_per_update
        expected |= {int(s) for s in ends if s < last}
    for step in sorted(expected | {r["env_steps"] for r in kept}):
        at_step = sorted(r["seed"] for r in kept if r["env_steps"] == step)
        if at_step != sorted(seeds):
            after = f" that {point.path.name} was written after" if step == last else ""
            raise runs.file_error(path, f"lacks the evaluation at env step {step:,} (of seeds {list(seeds)}){after}: "
                                  f"it was cut short or edited", todo)
    return kept
