"""Where a resumed run continues from, and what a resume checks and records.

Every checkpoint carries a checksum (``rl_zoo.checkpoint``). ``choose_checkpoint`` reads them newest
first; damaged ones newer than the first intact one are reported (file and why) and, once the run
really continues, renamed to ``*.damaged`` (kept, never pruned). If every checkpoint is damaged,
``CheckpointsDamaged`` says so and nothing is changed. The rows of ``metrics.csv`` past the chosen
checkpoint are dropped; a metrics file that lacks the rows up to it is refused. A checkpoint that does
not fit config.json is refused (``resume_mismatch``); other library versions, another device count and
hooks a finished run cannot apply are said (``versions_note``, ``devices_note``, ``unapplied_hooks_note``);
each resume is recorded in ``RUN/resumes.json`` (``record_resume``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from rl_zoo import checkpoint, distributed, runs
from rl_zoo.config import ConfigError
from rl_zoo.driver.recorder import RecorderHook
from rl_zoo.driver.runner import CheckpointMeta, ResumePoint, schedule_mismatch, seeds_mismatch, segment_schedule
from rl_zoo.driver.spec import RunSpec, devices_do_not_apply, other_run_words, trajectory_mismatch


def split_cpu_as_recorded(run_dir: str | Path, devices: int | None = None) -> int:
    """Before JAX starts, for a run about to resume: the CPU split into as many devices as the checkpoint it
    resumes from was written on, else as its ``config.json`` records (``devices`` instead, when given), since a
    resumed run continues bit for bit only on the same count (``rl_zoo.distributed.split_cpu``). The checkpoint
    first: a resume with ``--devices`` changes the count and config.json keeps the first (a later plain resume
    split by config.json's went back to it, after saying the checkpoint's count was the run's). A config.json
    that cannot be read changes nothing: the driver reports it. Returns the count set (1: none)."""
    from rl_zoo import distributed

    try:
        config = runs.read_json_file(Path(run_dir) / "config.json", required=("seeds",))
        seeds, recorded = int(config["seeds"]), int(config.get("devices", 1))
    except (TypeError, ValueError):  # runs.RunFileError is a ValueError
        return 1
    if devices is None:
        try:
            point = choose_checkpoint(Path(run_dir)).point
        except CheckpointsDamaged:  # the driver says so
            point = None
        devices = point.meta.devices if point is not None and point.meta.devices else None
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


#: times ``choose_checkpoint`` lists a run's checkpoints again when one it listed was removed before it was read
LISTINGS = 10


def choose_checkpoint(run_dir: Path) -> CheckpointChoice:
    """The newest checkpoint that reads back intact, and the damaged ones newer than it.

    Raises ``CheckpointsDamaged`` (nothing renamed or written) when there are checkpoints and none is intact.
    """
    for _ in range(LISTINGS):  # a file pruned by a run still training after the listing: list again
        damaged: list[tuple[Path, str]] = []
        for path in reversed(checkpoint.list_checkpoints(run_dir)):
            try:
                _, raw = checkpoint.read(path)
                meta = CheckpointMeta.from_dict(raw)
            except checkpoint.CheckpointGone:
                break
            except checkpoint.CheckpointDamaged as e:
                damaged.append((path, e.reason))
                continue
            except (KeyError, TypeError, ValueError) as e:
                damaged.append((path, f"its progress record is incomplete ({type(e).__name__}: {e})"))
                continue
            return CheckpointChoice(ResumePoint(path, meta), tuple(damaged))
        else:
            break
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


# --- what a resume checks and records ----------------------------------------------------------------
def resume_mismatch(spec: RunSpec, agent, meta: CheckpointMeta) -> str | None:
    """Why the checkpoint progress ``meta`` cannot be continued as ``spec`` (read from config.json)
    trains, or ``None``: the checkpoint holds other seeds than the spec's, was written by a run of another
    algorithm or env (``other_run_words``) or whose evaluation schedule or hyperparameters differ
    (``trajectory_mismatch``), or its updates are not a point of the spec's schedule (a JAX run's segments,
    ``segment_schedule``; a host run's budget)."""
    if why := seeds_mismatch(meta.seeds, spec.seed_ids):
        return why
    if meta.spec is not None and (why := other_run_words(meta.spec, spec)):
        return f"{why} (config.json edited since, or a checkpoint copied in from another run)"
    if meta.spec is not None and (why := trajectory_mismatch(meta.spec, spec)):
        return why
    if spec.backend == "jax":
        return schedule_mismatch(meta, segment_schedule(agent.num_updates, spec.num_evals, meta))
    if meta.updates_done > agent.num_updates:
        return f"it records {meta.updates_done:,} updates, but the run has only {agent.num_updates:,}"
    return None

#: library versions whose change can make a resumed run round differently from an uninterrupted one: rl_zoo's
#: source commit too (an editable install's `git pull` between a kill and --resume), and the CPU's model (the
#: last float bits depend on it); the platform string and the device list are left out: a kernel update or a
#: device count change them, and the device count is reported on its own
COMPARED_VERSIONS = ("python", "rl-zoo", "rl-zoo-commit", "jax", "jaxlib", "flax", "optax", "chex", "gymnasium", "numpy",
                     "jax_backend", "cpu")

#: JAX settings that change a run's numbers, compared where config.json records them (runs started before they
#: were recorded are not warned about)
COMPARED_SETTINGS = ("jax_enable_x64", "jax_default_matmul_precision")
#: the environment variables config.json records (``env XLA_FLAGS``, ``env JAX_*``: `rl_zoo.provenance`) that are
#: compared otherwise: as the settings above, the backend (``jax_backend``), the key kind (``prng_mismatch``) or
#: the device count (said on its own)
SAID_APART = ("env JAX_ENABLE_X64", "env JAX_DEFAULT_MATMUL_PRECISION", "env JAX_DEFAULT_PRNG_IMPL", "env JAX_PLATFORMS",
              "env JAX_NUM_CPU_DEVICES")


def _environment(versions: dict[str, str]) -> dict[str, str]:
    """The ``env XLA_FLAGS`` / ``env JAX_*`` entries of ``versions`` that change numbers and are not compared
    otherwise (``SAID_APART``); XLA_FLAGS without its host device count (said apart)."""
    import re

    out = {k: v for k, v in versions.items() if k.startswith("env ") and k not in SAID_APART}
    if "env XLA_FLAGS" in out:
        flags = re.sub(r"--xla_force_host_platform_device_count=\S*", "", out["env XLA_FLAGS"]).split()
        out["env XLA_FLAGS"] = " ".join(flags)
        if not flags:
            del out["env XLA_FLAGS"]
    return out

def prng_mismatch(recorded: dict[str, str] | None, current: dict[str, str]) -> str | None:
    """Why a run cannot continue in this process because its random keys are of another kind (``jax_default_prng_impl``,
    set by ``JAX_DEFAULT_PRNG_IMPL``), or ``None``: the checkpoint's keys could not be read back as this process's
    (threefry's 2 words against rbg's 4), or would be read as the other kind (rbg and unsafe_rbg: both 4 words) and
    continue on other random streams. A config.json that does not record it (older runs) is not checked here."""
    was, now = (recorded or {}).get("jax_default_prng_impl"), current.get("jax_default_prng_impl")
    if was is None or now is None or was == now:
        return None
    return (f"its random keys are {was}'s (config.json's jax_default_prng_impl), this process's {now}: resume it with "
            f"JAX_DEFAULT_PRNG_IMPL={was}")


def versions_note(recorded: dict[str, str] | None, current: dict[str, str]) -> str | None:
    """One warning line when the library versions a run recorded in config.json (``recorded``) differ from
    ``current`` (``runs.versions()``) in ``COMPARED_VERSIONS``, or ``None`` when they agree. The run is
    not refused: it continues, but not necessarily bit for bit as it would have without the interruption."""
    if not isinstance(recorded, dict):
        return ("warning: config.json records no library versions, so this resume cannot check that they are "
                "the ones the run started with (a different jax or jaxlib can change its numbers)")
    differ = [f"{name} {recorded.get(name, 'unrecorded')} -> {current.get(name, 'unknown')}" for name in COMPARED_VERSIONS
              if recorded.get(name) != current.get(name) and (name in recorded or name in current)]
    differ += [f"{name} {recorded[name]} -> {current.get(name, 'unknown')}" for name in COMPARED_SETTINGS
               if name in recorded and recorded[name] != current.get(name)]
    was, now = _environment(recorded), _environment(current)  # XLA_FLAGS=--xla_backend_optimization_level=0 and
    differ += [f"{name} {was.get(name, 'unset')!r} -> {now.get(name, 'unset')!r}"  # JAX_THREEFRY_PARTITIONABLE=0
               for name in sorted(was.keys() | now.keys()) if was.get(name) != now.get(name)]  # went unsaid
    if not differ:
        return None
    return (f"warning: library versions or JAX settings differ from those the run started with ({'; '.join(differ)}): it continues, "
            f"but not necessarily bit for bit as an uninterrupted run would have")

def unapplied_hooks_note(hooks: Sequence[RecorderHook], run_dir: Path, has_policy: bool = True) -> str | None:
    """The line for a finished run resumed with hooks (``--record-video``, ``--tensorboard``, ``--wandb``):
    nothing trains, so none of them runs; where a video of the final policy comes from instead
    (``rl-zoo enjoy`` where the run keeps a checkpoint, ``has_policy``; else only a new run)."""
    if not hooks:
        return None
    names = [getattr(hook, "flag", None) or type(hook).__name__ for hook in hooks]
    note = f"{', '.join(names)} not applied: the run is finished, so nothing trained and nothing was recorded"
    if any(getattr(hook, "flag", None) == "--record-video" for hook in hooks):
        note += (f"; a video of its final policy: `rl-zoo enjoy {run_dir} --record OUT.gif` (or OUT.mp4)" if has_policy else
                 "; it keeps no checkpoint, so no policy to play: a video needs a new run with --record-video")
    return note

def remove_host_tables(run_dir: Path, log) -> None:
    """Remove a multi-host run's per-host tables (``metrics.host<i>.csv``) when it is resumed in one process: it
    keeps no checkpoints, so it starts again from the beginning, and its old tables no longer described the run
    (``rl_zoo.load`` read their presence as "a multi-host run, no checkpoints" after the resume had written some)."""
    stale = sorted(run_dir.glob("metrics.host*.csv"))
    for path in stale:
        path.unlink(missing_ok=True)
    if stale:
        log(f"removed {', '.join(p.name for p in stale)}: the multi-host run's own tables; metrics.csv is now this run's")

#: a run directory's record of its resumes (``record_resume``), one entry per process that took it up again
RESUMES = "resumes.json"

def record_resume(run_dir: Path, point: ResumePoint | None, devices: int, vector_env: str | None = None) -> None:
    """Append this resume to ``RUN/resumes.json`` (summary.json quotes the list): when, from which
    checkpoint (its updates done, per seed), on how many devices (and host vector env, for a gymnasium run)
    and with which libraries and commit.
    config.json keeps what the run started with; without this a resume left no trace where versions
    and devices were unchanged. A damaged record is started again (the run is not refused for it)."""
    import time

    import jax

    if jax.process_index() != 0:  # process 0 writes a multi-host run's files
        return
    entry = dict(time=time.strftime("%Y-%m-%d %H:%M:%S"), from_checkpoint=point.path.name if point else None,
                 updates_done=point.meta.updates_done if point else 0, devices=devices,
                 **({"vector_env": vector_env} if vector_env else {}), versions=runs.versions())
    runs.atomic_write_json(run_dir / RESUMES, [*recorded_resumes(run_dir), entry])

def recorded_resumes(run_dir: Path) -> list:
    """The entries of ``RUN/resumes.json`` ([] when there is none, or it does not read back as a list)."""
    import json

    try:
        found = json.loads((run_dir / RESUMES).read_text())
    except (OSError, ValueError):
        return []
    return found if isinstance(found, list) else []

def resume_vector_env(spec: RunSpec, vector_env: str | None, log) -> str:
    """The host vector env a resumed run steps its gymnasium envs with: ``vector_env`` if given (they restart with
    fresh episodes on resume anyway, so the run's numbers do not depend on it), else the run's own."""
    from rl_zoo.host.batched_env import VECTOR_ENVS

    if vector_env is None or vector_env == spec.vector_env:
        return spec.vector_env
    if vector_env not in VECTOR_ENVS:
        raise ConfigError(f"--vector-env = {vector_env!r} is invalid: must be one of {', '.join(VECTOR_ENVS)}")
    if spec.backend != "gymnasium":
        log(f"--vector-env {vector_env} does not apply: {spec.env_id} runs on its JAX port")
        return spec.vector_env
    log(f"--vector-env {vector_env}: the run goes on with {vector_env} host envs (it began with {spec.vector_env})")
    return vector_env

def resume_devices(spec: RunSpec, trained_on: int, devices: int | None, log) -> int:
    """The device count of a resumed run: as asked, else as the run was (``trained_on``, when this machine
    has as many devices; bit-identical continuation needs it), else the default choice."""
    import jax

    if spec.backend != "jax":
        if devices is not None and devices > 1:  # said for a new run (new_spec), and now for a resumed one: it was silent
            log(devices_do_not_apply(devices, spec.env_id))
        return 1
    if devices is None and trained_on <= jax.device_count():
        devices = trained_on
    num_devices, note = distributed.choose_devices(spec.seeds, devices, resuming=True)
    if note:
        log(note)
    return num_devices

def devices_note(recorded: int, source: str, now: int) -> str | None:
    """The line for a run resumed on ``now`` devices that ``source`` (its checkpoint, or config.json for
    a checkpoint that does not record it) says trained on ``recorded``."""
    if now == recorded:
        return None
    return (f"resuming on {now} device(s); the run trained on {recorded} ({source}): its seeds continue, but "
            f"round differently from an uninterrupted run (summary.json records the new count)")
