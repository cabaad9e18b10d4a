"""``train(...)``: a run from start to end, or from its last intact checkpoint to the end.

    spec (RunSpec, validated)  ->  run directory, locked; config.json  ->  runner = RUNNERS[spec.backend]
    ->  runner.run(ctx, recorder, resume)  ->  recorder.finish: summary.json, curve.png, hooks

Everything that can be refused (config fields, env, devices, more memory than the machine has
(``driver.memory``), a damaged config.json, metrics.csv or set of checkpoints, a checkpoint that does
not fit config.json's seeds or segment schedule, a run directory in use) is refused before anything
compiles or is written. A resume also says what may keep it from continuing bit for bit (other library
versions, another device count); it does not refuse them.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from rl_zoo import checkpoint, distributed, interrupt, runs
from rl_zoo.config import ConfigError, check_bools, check_int_args
from rl_zoo.driver.guard import NonFiniteError, out_of_memory
from rl_zoo.driver.jax_runner import JaxRunner
from rl_zoo.driver.memory import check_memory
from rl_zoo.driver.recorder import HookStartError, Recorder, RecorderHook, RunStart, check_hooks, summarize
from rl_zoo.driver.resume import (choose_checkpoint, devices_note, prng_mismatch, record_resume, recorded_resumes,
                                  remove_host_tables, resume_devices, resume_mismatch, resume_vector_env, rows_up_to,
                                  set_aside_damaged, unapplied_hooks_note, versions_note)
from rl_zoo.driver.runner import ResumePoint, Runner, RunContext, evals_note, segment_schedule, whole_updates_note
from rl_zoo.driver.spec import CONFIG_TODO, RunSpec, new_spec, read_spec
from rl_zoo.host.batched_env import HostEnvError
from rl_zoo.lock import LocksUnavailable


class _Runners(Mapping):
    """The runner for each env backend (a spec's ``backend``). The host runner is made on first use: it is
    built from the driver's parts, so importing it here would make ``import rl_zoo.host.runner`` (and every
    algorithm's ``make_train``, which imports ``rl_zoo.host.batched_env``) import the whole driver first."""

    BACKENDS = ("jax", "gymnasium")

    def __init__(self):
        self._made: dict[str, Runner] = {}

    def __getitem__(self, backend: str) -> Runner:
        if backend not in self._made:
            if backend == "jax":
                self._made[backend] = JaxRunner()
            elif backend == "gymnasium":
                from rl_zoo.host.runner import BatchedHostRunner

                self._made[backend] = BatchedHostRunner()
            else:
                raise KeyError(backend)
        return self._made[backend]

    def __iter__(self):
        return iter(self.BACKENDS)

    def __len__(self) -> int:
        return len(self.BACKENDS)


RUNNERS: Mapping[str, Runner] = _Runners()


@dataclass
class RunResult:
    run_dir: Path
    summary: dict[str, Any]
    final_state: Any = None


def train(
    algo: str | None = None,
    env_id: str | None = None,
    *,
    seeds: int = 1,
    seed: int = 0,
    total_steps: int | None = None,
    overrides: dict[str, Any] | None = None,
    out: str | os.PathLike | None = None,
    runs_root: str | os.PathLike = "runs",
    num_evals: int = 10,
    eval_episodes: int | None = None,
    backend: str | None = None,
    progress: bool = True,
    log: Callable[[str], None] = print,
    command: str | None = None,
    resume: str | os.PathLike | None = None,
    keep_checkpoints: int | None = None,
    devices: int | None = None,
    hooks: Sequence[RecorderHook] = (),
    vector_env: str | None = None,
    env_kwargs: dict[str, Any] | None = None,
) -> RunResult:
    """Train ``algo`` on ``env_id`` for ``seeds`` seeds (``seed, seed+1, ...``) and write a run directory.

    ``resume=RUN_DIR`` continues an interrupted run from its newest intact checkpoint with the settings
    in its ``config.json`` (``overrides``, ``total_steps`` and ``out`` are refused; the other arguments are
    then ignored, but for ``keep_checkpoints``, ``devices``, ``vector_env`` and ``hooks``); the metrics rows up to that
    checkpoint are kept and none is duplicated; ``RUN/resumes.json`` records the resume.
    A finished run is left as it is (its summary is returned; nothing compiles, no hook runs, and the
    log says which hooks, by their flags, were not applied).
    Raises ``NonFiniteError`` if a loss, metric or parameter becomes NaN or Inf (the last good
    checkpoint is kept), ``FolderInUse`` if another process trains in the run directory.

    The seeds are split over ``devices`` devices (default: all, see ``rl_zoo.distributed``); under
    ``jax.distributed`` every host runs this same call and process 0 writes the merged files.
    ``hooks`` (``rl_zoo.driver.recorder.RecorderHook``) see every evaluation, segment and the end.
    ``vector_env`` (gymnasium envs only): "sync" (the default) or "async", the host vector env (``rl_zoo.host``);
    "async" starts its subprocesses from a fresh server process, which imports the calling script
    again: guard a script's entry point with ``if __name__ == "__main__":``.
    ``eval_episodes``: greedy episodes per evaluation and seed; ``None``: the env's ``default_eval_episodes`` (10,
    or 1,000 for Blackjack-v1, whose return is one +-1 draw).
    ``env_kwargs``: the env's options (``envs.make``'s overrides: ``{"continuous": True}`` to ``gymnasium.make``,
    a JAX port's params field or constructor option), recorded in config.json; the tuned hyperparameters
    are still looked up by ``env_id``.
    """
    hooks = check_hooks(hooks)
    _check_call(out if resume is None else None, runs_root, progress, log)  # a resume's out: refused below, by name
    if resume is not None:
        given = [name for name, value in (("overrides", overrides), ("total_steps", total_steps), ("out", out),
                                          ("env_kwargs", env_kwargs))
                 if value is not None and value != {}]
        if given:  # they were ignored: a run resumed with what its config.json records
            raise ConfigError(f"resume={str(resume)!r} continues the run with the settings its config.json records: "
                              f"leave out {', '.join(given)} (a changed config is a new run: train(...) without resume)")
        # a new run's checks (new_spec's): keep_checkpoints=2.5 failed after resumes.json had recorded the resume
        keep_checkpoints, devices = check_int_args({"--keep-checkpoints": keep_checkpoints, "--devices": devices})
        return _resume(Path(resume), progress=progress, log=log, keep_checkpoints=keep_checkpoints, devices=devices, hooks=hooks,
                       vector_env=vector_env)
    spec, env, env_params, note = new_spec(algo, env_id, seeds=seeds, seed=seed, total_steps=total_steps, overrides=overrides,
                                           num_evals=num_evals, eval_episodes=eval_episodes, backend=backend,
                                           keep_checkpoints=keep_checkpoints, devices=devices, command=command,
                                           vector_env=vector_env, env_kwargs=env_kwargs)
    # the command differs by --process-id, and the platform string may differ between hosts
    settings = {k: v for k, v in spec.to_json().items() if k not in ("command", "versions")}
    distributed.agree("settings", dict(settings, out=None if out is None else str(out)))
    agent = spec.module.make_agent(spec.config, env, env_params)
    check_memory(agent, env, env_params, spec.seeds, spec.eval_episodes)  # XLA's CPU aborts on a failed allocation
    run_dir = _make_run_dir(spec, runs_root, out)
    with _locked(run_dir):
        if _is_writer():
            runs.remove_stale_temporaries(run_dir)  # config.json's, of a process killed writing it into this --out
            runs.atomic_write_json(run_dir / "config.json", spec.to_json())
        distributed.barrier("config written")
        if note:
            log(note)
        try:  # config.json is written: a Ctrl-C from here on says how to take the run up again
            ctx = RunContext(spec, run_dir, agent, env, env_params, log, progress)
            if rounding := whole_updates_note(spec.config.total_timesteps, ctx.agent.num_updates, ctx.agent.env_steps_per_update):
                log(rounding)
            if fewer := evals_note(spec.num_evals, ctx.agent.num_updates):
                log(fewer)
            for line in getattr(spec.config, "notes", list)():  # settings that train but cannot be meant (DQN's)
                log(line)
            for line in getattr(spec.config, "env_notes", lambda _: [])(env.action_space(env_params)):  # init_log_std, discrete
                log(line)
            recorder = Recorder(run_dir, **_recorder_args(spec), hooks=hooks)
        except KeyboardInterrupt:
            log(f"\n{interrupt.received()}: {_stopped_note(run_dir, hooks)}")
            raise
        return _execute(ctx, recorder, None)


def _resume(run_dir: Path, *, progress: bool, log, keep_checkpoints: int | None, devices: int | None, hooks,
            vector_env: str | None = None) -> RunResult:
    _check_run_dir(run_dir)  # before the lock: taking it would leave a .lock file in a folder that is not a run directory
    with _locked(run_dir, read_only_ok=True) as unwritable:
        spec = read_spec(run_dir)
        runner = RUNNERS[spec.backend]
        if not runner.can_resume:
            raise ConfigError(f"cannot resume {str(run_dir)!r}: runs on {spec.backend!r} envs cannot resume yet "
                              f"(exact resume needs a JAX env)")
        choice = choose_checkpoint(run_dir)
        # the devices the checkpoint's seeds were split over (config.json's if it does not say: an older file)
        trained_on = choice.point.meta.devices if choice.point is not None and choice.point.meta.devices else None
        recorded = (trained_on, "its checkpoint") if trained_on else (spec.devices, "config.json")
        edited = (f"config.json records {spec.devices} device(s) but {choice.point.path.name} was written on {trained_on} "
                  f"(an earlier resume with --devices, or an edited config.json): the checkpoint's count is the run's"
                  ) if trained_on and trained_on != spec.devices else None
        switched: list[str] = []  # --vector-env's note, said only if the run goes on (not for a finished run)
        spec = spec.replace(keep_checkpoints=spec.keep_checkpoints if keep_checkpoints is None else keep_checkpoints,
                            devices=resume_devices(spec, recorded[0], devices, log),
                            vector_env=resume_vector_env(spec, vector_env, switched.append))
        if spec.keep_checkpoints < 1:
            raise ConfigError(f"keep_checkpoints = {spec.keep_checkpoints} is invalid: must be at least 1")
        env, env_params = spec.make_env()
        agent = spec.module.make_agent(spec.config, env, env_params)
        if choice.point is not None and (why := resume_mismatch(spec, agent, choice.point.meta)):
            raise runs.file_error(run_dir / "config.json", f"does not fit {choice.point.path.name}, the checkpoint to resume "
                                  f"from: {why}", CONFIG_TODO)
        if (finished := _finished_summary(run_dir, choice, agent)) is not None:
            log(f"{run_dir} is finished ({finished['env_steps_per_seed']:,} env steps per seed): nothing to resume; "
                f"its files are as they were" + ("" if choice.point else " (it keeps no checkpoint: "
                                                 "rl-zoo benchmark removes a finished cell's)"))
            if note := unapplied_hooks_note(hooks, run_dir, has_policy=choice.point is not None):
                log(note)
            return RunResult(run_dir, finished)
        if isinstance(unwritable, LocksUnavailable):  # a finished run is read above; training on needs the lock
            raise unwritable
        if unwritable is not None:  # a finished run is read above, but training on writes checkpoints and metrics
            raise OSError(unwritable.errno, f"cannot resume {str(run_dir)!r}: no file can be made there ({unwritable.strerror}), "
                          f"and a resumed run writes its checkpoints and metrics in its run directory; copy it to a "
                          f"writable folder and resume the copy")
        versions = (runs.read_json_file(run_dir / "config.json").get("versions"), runs.versions())  # (recorded, this process's)
        if choice.point is not None and (why := prng_mismatch(*versions)):
            raise ConfigError(f"cannot resume {str(run_dir)!r}: {why}")
        # as a new run's: a run moved to a smaller machine compiled, then died allocating (XLA's CPU aborts outright)
        check_memory(agent, env, env_params, spec.seeds, spec.eval_episodes)
        schedule = (segment_schedule(agent.num_updates, spec.num_evals, choice.point and choice.point.meta)
                    if spec.backend == "jax" else None)
        rows = rows_up_to(run_dir, choice.point, agent.env_steps_per_update, spec.seed_ids, schedule) if choice.point else []
        # refusals end here: from now on the run directory changes
        runs.remove_stale_temporaries(run_dir)  # half-written files of a process killed mid-write
        record_resume(run_dir, choice.point, spec.devices, spec.vector_env if spec.backend == "gymnasium" else None)
        for note in (versions_note(*versions),
                     edited, devices_note(*recorded, spec.devices), *switched):
            if note:
                log(note)
        if choice.point is None:
            log(f"no checkpoint in {run_dir}: starting it again from the beginning")
        remove_host_tables(run_dir, log)
        set_aside_damaged(choice, log)
        # a process killed between its last checkpoint and the pruning kept one too many, and a resume from the
        # last checkpoint saves none: the run would keep it for good (and keep_checkpoints may have changed)
        checkpoint.prune(run_dir, spec.keep_checkpoints)
        ctx = RunContext(spec, run_dir, agent, env, env_params, log, progress)
        return _execute(ctx, Recorder(run_dir, **_recorder_args(spec), hooks=hooks, rows=rows), choice.point)


def _check_call(out, runs_root, progress, log) -> None:
    """Refuse, before anything is made, what the command line cannot give: ``out=""`` (a whole run was written
    into the current folder), ``out`` beside another ``runs_root`` (it was ignored), either not a path, a ``log`` that is not
    callable (None failed after config.json was written) and a ``progress`` that is not a bool ("no" is truthy)."""
    for name, value in (("out", out), ("runs_root", runs_root)):  # out=123: a bare "expected str, bytes or os.PathLike"
        if (value is not None or name == "runs_root") and not isinstance(value, (str, os.PathLike)):
            raise ConfigError(f"{name} = {value!r} is invalid: give a folder as a str or a pathlib.Path")
    if out is not None and not str(out).strip():
        raise ConfigError("out = '' is invalid: give a folder for the run (or leave out out, for runs_root/<algo>/...)")
    if out is not None and str(runs_root) != "runs":
        raise ConfigError(f"out and runs_root = {str(runs_root)!r} were both given: out is the run's own folder, "
                          "runs_root where runs without out go; give one")
    if not callable(log):
        raise ConfigError(f"log = {log!r} is invalid: give a function of one string (print, list.append, ...)")
    check_bools({"progress": progress})


def _check_run_dir(run_dir: Path) -> None:
    """Refuse, before anything is locked or written, a ``--resume`` folder that is not a run directory."""
    if not run_dir.is_dir():
        raise FileNotFoundError(f"cannot resume {str(run_dir)!r}: " + ("it is a file, not a run directory" if run_dir.exists()
                                                                        else "no such directory"))
    if not (run_dir / "config.json").is_file():
        kind = runs.folder_kind(run_dir)
        again = {"sweep": "run its `rl-zoo sweep` command again (the Command line of its report.md): finished groups "
                          "are kept and the rest train",
                 "benchmark": "run its `rl-zoo benchmark` command again: finished cells are skipped and unfinished ones "
                              "resume from their checkpoints (a cell's run directory is cells/<algo>__<env>/run)"}
        if any(run_dir.iterdir()) and runs.only_leftovers(run_dir):  # killed between taking the lock and writing config.json
            raise runs.RunFileError(f"cannot resume {str(run_dir)!r}: its run was stopped before it wrote config.json (the "
                                    f"folder holds only its lock); start it again with its command and --out {run_dir}")
        raise runs.RunFileError(f"cannot resume {str(run_dir)!r}: " + (f"it is {runs.FOLDER_KINDS[kind]}; {again[kind]}"
                                if kind in again else "no config.json there (is it a run directory?)" + _runs_inside(run_dir)))
    if (run_dir / "checkpoints").exists() and not (run_dir / "checkpoints").is_dir():  # it trained, then failed writing one
        raise runs.file_error(run_dir / "checkpoints", "is a file, not the run's checkpoint folder",
                              "Move it away, then resume")


def _finished_summary(run_dir: Path, choice, agent) -> dict[str, Any] | None:
    """``summary.json`` of a run that has nothing left to do (its newest intact checkpoint is after the
    last update, and its summary and figure were written), else ``None``. Resuming such a run would
    only compile again and overwrite its summary's timings with those of a run that did not train."""
    if choice.damaged or (choice.point is not None and choice.point.meta.updates_done < agent.num_updates):
        return None
    if not (run_dir / "curve.png").is_file():
        return None
    try:
        summary = runs.read_json_file(run_dir / "summary.json", required=("env_steps_per_seed", "final_return_mean"))
    except runs.RunFileError:
        return None
    # No checkpoint at all: finished only if the summary says every update ran (it is written at the end;
    # rl-zoo benchmark removes a finished cell's checkpoints): starting it again would replace its results.
    if choice.point is None and summary["env_steps_per_seed"] != agent.num_updates * agent.env_steps_per_update:
        return None
    return summary


def _execute(ctx: RunContext, recorder: Recorder, resume: ResumePoint | None) -> RunResult:
    start = resume.meta.updates_done if resume else 0
    try:
        recorder.start(RunStart(ctx.spec, ctx.run_dir, ctx.agent, ctx.env, ctx.env_params, start,
                                start_evaluated=resume.meta.evaluated if resume else True))
        outcome = RUNNERS[ctx.spec.backend].run(ctx, recorder, resume)
        summary = summarize(ctx.spec, outcome.final_returns, env_steps_per_seed=ctx.total_env_steps,
                            compile_s=outcome.compile_s, train_s=outcome.train_s) | outcome.extra_summary
        summary["resumes"] = recorded_resumes(ctx.run_dir)  # [] for a run that was never interrupted
        recorder.finish(summary, outcome.final_state)
    except KeyboardInterrupt:
        if (after := _say_interrupted(ctx, recorder)) is not None:
            raise after from None
        raise
    except NonFiniteError as e:  # the NaN guard: the run folder says so (rl-zoo plot labels it "diverged", not "stopped")
        if _is_writer():
            runs.record_divergence(ctx.run_dir, str(e))
        raise
    except HookStartError as e:  # --wandb not logged in: nothing trained; the message says how to go on
        raise HookStartError(f"{e}; stopped before training: {_stopped_note(ctx.run_dir, recorder.hooks)}") from e.__cause__
    except HostEnvError:  # a gymnasium env raised mid-run: its checkpoints stand
        ctx.log(f"\nstopped by the env's error: {_stopped_note(ctx.run_dir, recorder.hooks)}")
        raise
    except OSError as e:  # a disk full, a folder made read-only: the run stops where its files say
        if e.errno in runs.STORAGE_ERRNOS:
            ctx.log(f"\nstopped by the system ({e.strerror or e}): {_stopped_note(ctx.run_dir, recorder.hooks)}")
        raise
    except Exception as e:  # XLA out of memory: the command names it in one line (rl_zoo.cli)
        if interrupt.signalled():  # the error of a library a Ctrl-C reached in its C code (Box2D drawing a video)
            raise (_say_interrupted(ctx, recorder) or KeyboardInterrupt()) from e
        if out_of_memory(e):  # its settings are the run's: a resume would ask for the same memory
            ctx.log(f"\nstopped: out of memory: {ctx.run_dir} keeps what it wrote, but `--resume` asks for the same "
                    f"memory (unless other programs held some of it): train a new run that asks for less")
        raise
    finally:
        recorder.close()
    distributed.barrier("run finished")
    return RunResult(ctx.run_dir, summary, outcome.final_state)


def _runs_inside(folder: Path, shown: int = 3) -> str:
    """``--resume runs`` (the runs root, not a run in it): its newest run directories, to name one of them."""
    found = sorted((p for p in folder.iterdir() if (p / "config.json").is_file()), key=lambda p: p.stat().st_mtime, reverse=True)
    if not found:
        return ""
    names = ", ".join(str(p) for p in found[:shown]) + (f" and {len(found) - shown} more" if len(found) > shown else "")
    return f"; it holds run directories: {names} (newest first): give one of them"


def _say_interrupted(ctx: RunContext, recorder: Recorder) -> interrupt.AfterTheRun | None:
    """Say what a run stopped by Ctrl-C or SIGTERM keeps and how it goes on. Where the signal stopped a hook after
    the run had finished (``--record-video`` drawing the final episode), the ``interrupt.AfterTheRun`` to raise
    instead: its results are written and a resume would do nothing (the command's last line names no resume)."""
    hook = recorder.finishing
    if hook is None:
        ctx.log(f"\n{interrupt.received()}: {_stopped_note(ctx.run_dir, recorder.hooks)}")
        return None
    name = getattr(hook, "flag", None) or type(hook).__name__
    again = getattr(hook, "again", lambda run_dir: None)(ctx.run_dir)
    ctx.log(f"\n{interrupt.received()}: {name} was stopped after the run finished; {ctx.run_dir} holds its results "
            f"(summary.json, curve.png), so there is nothing to resume" + (f"; {again}" if again else ""))
    return interrupt.AfterTheRun()


def resume_command(run_dir: Path, hooks: Sequence[RecorderHook] = ()) -> str:
    """``rl-zoo train --resume RUN_DIR`` with the flags that add ``hooks`` again (``--record-video``, ``--tensorboard
    DIR``, ``--wandb``: config.json does not hold them, and a resume without them made no video)."""
    import shlex

    flags = [word for hook in hooks for word in getattr(hook, "resume_flags", ())]
    return shlex.join(["rl-zoo", "train", "--resume", str(run_dir), *flags])


def _stopped_note(run_dir: Path, hooks: Sequence[RecorderHook] = ()) -> str:
    """What a run stopped before its end keeps, and how it goes on (``--resume``, or starting again)."""
    import jax

    if jax.process_count() > 1:  # multi-host runs write no checkpoint (rl_zoo.driver.jax_runner)
        return (f"{run_dir} keeps its metrics up to the last finished segment; a multi-host run writes no checkpoints, "
                "so it cannot be resumed: start it again")
    if not checkpoint.list_checkpoints(run_dir):
        return f"{run_dir} had no checkpoint yet; `{resume_command(run_dir, hooks)}` starts it again from its config.json"
    return (f"{run_dir} keeps its metrics and checkpoints up to the last finished segment; "
            f"`{resume_command(run_dir, hooks)}` continues from there")


def _recorder_args(spec: RunSpec) -> dict[str, Any]:
    import jax

    if jax.process_count() == 1:
        return dict(writer=True)
    # the seeds this host holds: where the seed axis's sharding puts them
    placed = distributed.seed_array(spec.seed, spec.seeds, distributed.seed_sharding(spec.devices))
    mine = [spec.seed + i for i in distributed.local_seed_indices(placed)]
    return dict(writer=_is_writer(), host=jax.process_index(), host_seeds=mine)


def _is_writer() -> bool:
    """Process 0 writes the merged files (the only process unless multi-host)."""
    import jax

    return jax.process_index() == 0


@contextlib.contextmanager
def _locked(run_dir: Path, read_only_ok: bool = False):
    """Hold the run directory's lock (process 0; other hosts of a multi-host run share the directory).
    Yields ``None``, or with ``read_only_ok`` the storage error that kept the lock file from being made
    (a read-only folder: nothing can write there, so a reader needs no lock)."""
    from rl_zoo.lock import FolderLock

    if not _is_writer():
        yield None
        return
    try:
        lock = FolderLock(run_dir, what="run directory").acquire()
    except OSError as e:  # a read-only folder, or a file system without locks: a reader needs none
        if not (read_only_ok and (e.errno in runs.STORAGE_ERRNOS or isinstance(e, LocksUnavailable))):
            raise
        yield e
        return
    try:
        yield None
    finally:
        lock.release()


def _make_run_dir(spec: RunSpec, runs_root, out) -> Path:
    import jax

    if jax.process_count() == 1:
        return runs.new_run_dir(spec.algo, spec.env_id, runs_root, out)
    if out is None:
        raise ConfigError("a multi-host run needs --out: every host must write to the same run directory")
    # every process checks --out (one shared folder) before the barrier: a refusal in process 0 alone would
    # leave the others waiting at it until the collective's deadline aborts them
    path = runs.new_run_dir(spec.algo, spec.env_id, runs_root, out) if _is_writer() else runs.refuse_non_empty(out)
    distributed.barrier("run directory made")
    path.mkdir(parents=True, exist_ok=True)
    return path


def format_summary(result: RunResult, rows_tail: int = 5) -> str:
    """The end of the learning curve and where the run went, for the terminal."""
    s = result.summary
    spread = f" +- {runs.run_return_text(s['final_return_std'])} (mean +- std over {len(s['seeds'])} seeds)" if len(s["seeds"]) > 1 else " (1 seed)"
    lines = [f"{s['algo']} on {runs.env_label(s['env'], s.get('env_kwargs'))}: final greedy return {runs.run_return_text(s['final_return_mean'])}{spread} "
             f"after {s['env_steps_per_seed']:,} env steps per seed"]
    rows = runs.read_metrics(result.run_dir / "metrics.csv")
    by_step: dict[int, list[float]] = {}
    for r in rows:
        by_step.setdefault(r["env_steps"], []).append(r["return"])
    shown = sorted(by_step)[-rows_tail:]
    which = f", the last {len(shown)} of {len(by_step)} evaluations" if len(shown) < len(by_step) else ""
    lines.append(f"learning curve (env steps -> mean greedy return{which}; all in metrics.csv and curve.png):")
    for step in shown:
        lines.append(f"  {step:>10,}  {runs.run_return_text(float(np.mean(by_step[step]))):>8}")
    lines.append(f"compile {s['compile_s']:.1f}s, train {s['train_s']:.1f}s, {s['steps_per_s']:,.0f} env steps/s, "
                 f"peak memory {s['peak_memory_mb']:.0f} MB")
    lines.append(f"run written to {result.run_dir}")
    return "\n".join(lines)
