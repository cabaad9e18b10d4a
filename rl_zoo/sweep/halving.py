"""Successive halving (``rl-zoo sweep --successive-halving ETA``): stop the worst configs early and
spend their budget on the best.

Successive halving (Jamieson & Talwalkar 2016, "Non-stochastic Best Arm Identification and
Hyperparameter Optimization", Alg. 1; the inner loop of Hyperband, Li et al. 2018) in rungs. With
``n`` configs, ``R`` rungs and a reduction factor ``eta``: rung ``i`` (0-based) trains
``n_i = floor(n / eta^i)`` configs x every seed to a cumulative budget of ``floor(S / eta^(R-1-i))``
of the run's ``S`` evaluation segments (the last rung: all of them, the full ``--total-steps``), then
keeps the best ``n_{i+1}``. Budgets are whole segments (the segments of K updates between two greedy
evaluations, as in a plain sweep), so every rung ends on an evaluation and the schedule needs
``S >= eta^(R-1)`` (``--evals``).

Rung 0 is the plain sweep's program (all configs x seeds vmapped) run for its budget. The survivors'
rows of the train state (parameters, optimiser, env state, PRNG keys, update counter) are gathered
and continue where they stopped, in the same program compiled for fewer rows: no config is
retrained, a survivor's run continues the full-length run of a plain sweep (its schedules, e.g. an
annealed learning rate, already span the full budget), and a dropped config's run is that run stopped
early. Not bit for bit: XLA compiles the smaller batch of rows to other float roundings, which RL
amplifies, so a survivor's later returns differ from the plain sweep's about as another seed's would.

The ranking rule at a rung: the IQM over seeds of the greedy return at the rung's last evaluation
(ties: the higher mean AUC so far, the curve's mean over the env steps trained, as the report's best rule
breaks a tie; then the lower config index); a config with non-finite parameters in some seed ranks after every other.

Resumable: after each rung the survivors' states are checkpointed (`rl_zoo.checkpoint`, checksummed)
with the returns so far and the ranking (``groups/halving/``); the same command continues from the
last finished rung.
"""

from __future__ import annotations

import io
import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from rl_zoo import checkpoint, interrupt, runs
from rl_zoo.config import ConfigError
from rl_zoo.stats import return_decimals
from rl_zoo.sweep.runner import GroupResult, compile_rows, functions, init_rows, non_finite_note, place_rows, segment_plan
from rl_zoo.sweep.spec import Group


@dataclass(frozen=True)
class Rung:
    """One rung of the schedule: ``configs`` configs trained up to segment ``end_segment`` (cumulative), ``keep`` promoted."""

    index: int
    configs: int
    keep: int  # configs promoted to the next rung (0: the last rung)
    end_segment: int  # the rung's budget: evaluation segments trained by its end, counted from the start of training


@dataclass(frozen=True)
class RungRecord:
    """What happened at a rung: its configs (indices, best first by the rule), their scores, who went on."""

    index: int
    env_steps: int  # env steps per run at the rung's end
    ranked: tuple[int, ...]  # config indices of the rung, best first
    iqm: tuple[float, ...]  # the IQM over seeds of the greedy return at the rung's end, in ``ranked`` order
    mean_so_far: tuple[float, ...]  # the tie-break: the curve's mean over env steps so far (the report's AUC), ``ranked`` order
    kept: tuple[int, ...]  # promoted config indices (the first ``keep`` of ``ranked``); empty at the last rung


def max_rungs(num_configs: int, eta: int) -> int:
    """The most rungs ``num_configs`` allow: the largest ``R`` with ``floor(num_configs / eta^(R-1)) >= 1``."""
    rungs = 1
    while num_configs // eta ** rungs >= 1:
        rungs += 1
    return rungs


def check_halving(eta: int, rungs: int, num_configs: int) -> int:
    """Check ``--successive-halving ETA`` / ``--rungs R`` against the sweep's config count (no env needed);
    returns the number of rungs (``rungs=0``: as many as the configs allow)."""
    if eta < 2:
        raise ConfigError(f"--successive-halving {eta} is invalid: ETA is the reduction factor (each rung keeps the best "
                          f"1/ETA of its configs) and must be at least 2 (e.g. 2 or 3)")
    if rungs < 0 or rungs == 1:
        raise ConfigError(f"--rungs {rungs} is invalid: successive halving needs at least 2 rungs (1 rung is a plain sweep; "
                          f"leave --rungs out for as many as the configs allow)")
    most = max_rungs(num_configs, eta)
    if most < 2:
        raise ConfigError(f"--successive-halving {eta}: the sweep has {num_configs} config(s), too few to keep 1/{eta} of "
                          f"them; it needs at least {eta} configs (or a smaller ETA, at least 2)")
    if rungs > most:  # ETA^(R-1) written out only while it is short: --rungs 20000 made a 6,000-digit number
        need = f"at least {eta ** (rungs - 1):,} configs ({eta}^{rungs - 1}, " if rungs <= 40 else f"{eta}^{rungs - 1} configs ("
        raise ConfigError(f"--rungs {rungs} with --successive-halving {eta} needs {need}so that the last rung keeps "
                          f"one); this sweep has {num_configs}: "
                          f"use --rungs {most} or fewer, or more configs")
    return rungs or most


def schedule(num_configs: int, eta: int, rungs: int, segments: int) -> tuple[Rung, ...]:
    """The rungs: ``n_i = floor(n / eta^i)`` configs, trained to ``floor(segments / eta^(R-1-i))`` segments.

    ``rungs=0`` takes as many as the configs allow. Raises ``ConfigError`` (what and what to do) for
    ``eta < 2``, too many rungs for the configs, or a first rung shorter than one evaluation segment.
    """
    rungs = check_halving(eta, rungs, num_configs)
    if segments < eta ** (rungs - 1):
        raise ConfigError(f"--successive-halving {eta} with {rungs} rungs needs at least {eta ** (rungs - 1)} evaluation "
                          f"segments (the first rung gets 1/{eta ** (rungs - 1)} of them); the run has {segments}")
    return tuple(Rung(i, num_configs // eta ** i, num_configs // eta ** (i + 1) if i < rungs - 1 else 0,
                      segments // eta ** (rungs - 1 - i)) for i in range(rungs))


def plan_rungs(module, group: Group, env, env_params, spec) -> tuple[tuple[Rung, ...], list[int], int]:
    """``(rungs, segments' updates, env steps per update)`` of ``group``; checks everything, compiles nothing."""
    probe = module.make_agent(group.points[0].config, env, env_params)
    plan = segment_plan(probe.num_updates, spec.num_evals)
    rungs = check_halving(spec.halving_eta, spec.halving_rungs, len(group.points))
    need = spec.halving_eta ** (rungs - 1)
    if len(plan) < need:
        evals = next((e for e in range(need, probe.num_updates + 1) if len(segment_plan(probe.num_updates, e)) >= need), None)
        fixes = [f"--evals {evals}" if evals else f"more --total-steps (the run has {probe.num_updates} updates)"]
        fixes += [f"--rungs {max_rungs(len(plan), spec.halving_eta)}"] if max_rungs(len(plan), spec.halving_eta) >= 2 else []
        raise ConfigError(f"--successive-halving {spec.halving_eta} with {rungs} rungs gives the first rung 1/{need} of the "
                          f"budget, less than one of the run's {len(plan)} evaluation segments (--evals {spec.num_evals} over "
                          f"{probe.num_updates} updates): use {' or '.join(fixes)}")
    return schedule(len(group.points), spec.halving_eta, rungs, len(plan)), plan, probe.env_steps_per_update


def rank(iqm: np.ndarray, mean_so_far: np.ndarray, diverged: np.ndarray | None = None) -> np.ndarray:
    """Positions best first: the higher IQM, then the higher mean so far, then the lower position, as the
    report's best rule orders full-budget configs (``rl_zoo.sweep.report.rank_key``); a NaN below every number;
    a ``diverged`` one (non-finite parameters in some seed) after every other."""
    from rl_zoo.stats import descending

    bad = np.zeros(len(iqm), bool) if diverged is None else np.asarray(diverged, bool)
    return np.array(sorted(range(len(iqm)), key=lambda i: (bool(bad[i]), descending(iqm[i]), descending(mean_so_far[i]), i)),
                    dtype=int)


def describe(rungs: tuple[Rung, ...], plan: list[int], env_steps_per_update: int) -> list[str]:
    """One line per rung, for the log and ``--dry-run``."""
    ends = np.cumsum(plan) * env_steps_per_update
    return [f"rung {r.index}: {r.configs} config(s) to {int(ends[r.end_segment - 1]):,} env steps per run"
            + (f", keep the best {r.keep}" if r.keep else " (the full budget)") for r in rungs]


class _Store:
    """``groups/halving/``: per finished rung, the survivors' states (``rung_<i>.ckpt``) and the sweep so far
    (``rung_<i>.npz``: returns, recorded metrics, evaluations done, compile and train seconds so far) and
    ``rungs.json`` (the records)."""

    def __init__(self, folder: Path):
        self.folder = folder

    def last(self) -> int | None:
        done = [int(p.stem.split("_")[1]) for p in self.folder.glob("rung_*.npz") if (self.folder / f"{p.stem}.ckpt").exists()]
        return max(done) if done and (self.folder / "rungs.json").exists() else None

    def save(self, index: int, states, arrays: dict, records: list[RungRecord]) -> None:
        """The npz is written last: a rung counts as finished when its npz and checkpoint are both there."""
        runs.atomic_write_bytes(self.folder / f"rung_{index}.ckpt", checkpoint.encode(states, dict(rung=index)))
        self.save_records(records)
        buf = io.BytesIO()
        np.savez(buf, **arrays)
        runs.atomic_write_bytes(self.folder / f"rung_{index}.npz", buf.getvalue())

    def save_records(self, records: list[RungRecord]) -> None:
        runs.atomic_write_json(self.folder / "rungs.json", [asdict(r) for r in records])

    def load(self, index: int):
        """Rung ``index``'s checkpoint path, arrays and the records up to it; a file that cannot be read is a
        ``RunFileError`` naming it and what to do (numpy's or json's traceback before)."""
        import zipfile

        path = self.folder / f"rung_{index}.npz"
        try:
            with np.load(path) as arrays:
                loaded = {k: np.asarray(arrays[k]) for k in arrays.files}
        except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as e:
            earlier = (f"Delete it and rung_{index}.ckpt to continue from rung {index - 1}" if index else
                       "Delete it and rung_0.ckpt to train the rungs again")
            raise runs.file_error(path, f"cannot be read ({type(e).__name__}: {e})",
                                  f"{earlier}, or run the same command with --rerun to train the whole sweep again") from None
        return self.folder / f"rung_{index}.ckpt", loaded, load_records(self.folder)[:index + 1]


def load_records(folder: Path, finished: Path | None = None) -> list[RungRecord]:
    """``rungs.json`` read back; a damaged or missing one is a ``RunFileError`` naming it (json's bare message
    before). ``finished``: the group's results file, when it has them (the rungs are then not trained again
    unless it is deleted too: the advice to delete only the halving folder changed nothing)."""
    path = folder / "rungs.json"
    try:
        return [RungRecord(**{k: tuple(v) if isinstance(v, list) else v for k, v in r.items()})
                for r in json.loads(path.read_text())]
    except (OSError, ValueError, TypeError, AttributeError) as e:
        again = (f"Restore it, or delete {finished} (the group's results) and {folder} to train the successive halving "
                 f"again from rung 0" if finished is not None else
                 f"Delete {folder} to train the successive halving again from rung 0")
        raise runs.file_error(path, f"cannot be read ({type(e).__name__}: {e})",
                              f"{again}, or run the same command with --rerun") from None


def run_halving(module, group: Group, env, env_params, spec, folder: Path,
                log: Callable[[str], None] = print) -> tuple[GroupResult, list[RungRecord]]:
    """Train ``group`` (the sweep's only group) rung by rung (module docstring); ``folder`` keeps each
    finished rung, and a call that finds rungs there continues after the last of them."""
    import jax

    rungs, plan, per_update = plan_rungs(module, group, env, env_params, spec)
    fns = functions(module, group.points[0].config, env, env_params, spec.eval_episodes, spec.record)
    seeds, n_configs, store = spec.seeds, len(group.points), _Store(folder)
    update_ends = np.concatenate([[0], np.cumsum(plan)])
    env_steps = update_ends * per_update
    returns = np.full((n_configs, seeds, len(plan) + 1), np.nan)
    finite = np.ones(returns.shape, bool)  # parameters finite at each evaluation (True: not evaluated)
    recorded = {name: np.full((n_configs, seeds, int(update_ends[-1])), np.nan) for name in spec.record}
    evals_done = np.zeros(n_configs, np.int64)
    records: list[RungRecord] = []
    configs = tuple(range(n_configs))
    compile_s = train_s = 0.0
    t0 = time.perf_counter()
    last = store.last()
    if last is not None:
        path, arrays, records = store.load(last)
        returns, evals_done = arrays["returns"], arrays["evals_done"]
        finite = arrays.get("finite", finite)  # a rung written before the check: not checked
        recorded = {name: arrays[f"record.{name}"] for name in spec.record}
        # the seconds spent before the stop (a rung written before they were recorded: not counted)
        compile_s, train_s = (float(x) for x in arrays.get("seconds", (0.0, 0.0)))
        configs = tuple(records[-1].kept)
        rows = place_rows(group, configs, seeds, spec.seed)
        states, _ = checkpoint.restore(path, init_rows(fns, rows))
        states = jax.device_put(states, rows.sharding)
        log(f"  resumed after rung {last}: {len(configs)} config(s) continue from their checkpointed state ({path})")
    else:
        last = -1
        rows = place_rows(group, configs, seeds, spec.seed)
        states = init_rows(fns, rows)
    for rung in rungs[last + 1:]:
        assert len(configs) == rung.configs
        start = rungs[rung.index - 1].end_segment if rung.index else 0
        t1 = time.perf_counter()
        programs, evaluation = compile_rows(fns, rows, states, set(plan[start:rung.end_segment]))
        compile_s += time.perf_counter() - t1
        t1 = time.perf_counter()
        idx = np.asarray(configs)
        if start == 0:
            _store(evaluation(rows.hp, states, rows.seeds, 0), idx, 0, returns, finite)
        for i in range(start, rung.end_segment):
            states, metrics = programs[plan[i]](rows.hp, states)
            for name, values in metrics.items():
                recorded[name][idx, :, update_ends[i]:update_ends[i + 1]] = np.asarray(values).reshape(len(configs), seeds, -1)
            _store(evaluation(rows.hp, states, rows.seeds, i + 1), idx, i + 1, returns, finite)
            interrupt.check()  # a Ctrl-C Python swallowed stops the sweep here (finished rungs are kept)
        evals_done[idx] = rung.end_segment + 1
        train_s += time.perf_counter() - t1
        record = _rank_rung(rung, configs, returns, env_steps, finite)
        records.append(record)
        d = return_decimals(record.iqm)
        line = (f"  rung {rung.index}: {len(configs)} config(s) x {seeds} seed(s) to {record.env_steps:,} env steps; "
                + (f"kept {', '.join(map(str, record.kept))}" if record.kept else f"best {record.ranked[0]}")
                + f" (IQM at the rung {record.iqm[0]:.{d}f} best, {record.iqm[-1]:.{d}f} last-ranked; "
                  f"{time.perf_counter() - t0:.1f}s)")
        if not rung.keep:
            store.save_records(records)
            log(line)
            break
        rows, states = _promote(group, configs, record.kept, states, seeds, spec.seed)
        arrays = dict(returns=returns, evals_done=evals_done, finite=finite, seconds=np.array([compile_s, train_s]),
                      **{f"record.{k}": v for k, v in recorded.items()})
        store.save(rung.index, states, arrays, records)
        log(line)  # after the save: a Ctrl-C after this line does not train the rung again
        configs = record.kept
    result = GroupResult(env_steps, returns, compile_s, train_s, rows.num_devices, recorded, evals_done, finite)
    if note := non_finite_note(group, result, spec.seed):
        log(f"  {note}")
    return result, records


def _store(evaluated, idx: np.ndarray, i: int, returns: np.ndarray, finite: np.ndarray) -> None:
    """Evaluation ``i`` of the rows of configs ``idx`` (the evaluation program's (mean greedy return,
    parameters finite), ``[rows]`` each) into ``returns`` and ``finite`` ``[configs, seeds, E]``."""
    for out, x in zip((returns, finite), evaluated):
        out[idx, :, i] = np.asarray(x).reshape(len(idx), -1)


def _rank_rung(rung: Rung, configs: tuple[int, ...], returns: np.ndarray, env_steps: np.ndarray,
               finite: np.ndarray | None = None) -> RungRecord:
    from rl_zoo import stats

    at = returns[np.asarray(configs), :, rung.end_segment]  # [configs, seeds]
    iqm = np.array([float(stats.iqm(x)) for x in at])
    # the curve's mean over env steps so far, seeds averaged: the report's mean AUC (stats.area_under_curve), so the
    # last rung's order is the report's best rule on an IQM tie (CartPole's capped 500s tie often)
    so_far = stats.area_under_curve(env_steps[:rung.end_segment + 1],
                                    returns[np.asarray(configs), :, :rung.end_segment + 1]).mean(axis=1)
    diverged = None if finite is None else ~finite[np.asarray(configs)].all(axis=(1, 2))
    order = rank(iqm, so_far, diverged)
    ranked = tuple(int(configs[i]) for i in order)
    return RungRecord(rung.index, int(env_steps[rung.end_segment]), ranked, tuple(float(iqm[i]) for i in order),
                      tuple(float(so_far[i]) for i in order), tuple(sorted(ranked[:rung.keep])))


def _promote(group: Group, configs: tuple[int, ...], kept: tuple[int, ...], states, seeds: int, first_seed: int):
    """The kept configs' rows of ``states`` (their exact train state), laid out for the next rung's program."""
    import jax

    pos = [configs.index(c) for c in kept]
    idx = np.concatenate([np.arange(p * seeds, (p + 1) * seeds) for p in pos])
    rows = place_rows(group, kept, seeds, first_seed)
    return rows, jax.device_put(jax.tree.map(lambda x: x[idx], states), rows.sharding)


def table_rows(records: list[RungRecord], group: Group, rungs_total: int) -> list[dict]:
    """``halving.csv``: one row per (rung, config of the rung), best first within a rung."""
    points = {p.index: p for p in group.points}
    rows = []
    for r in records:
        for place, (c, iqm, so_far) in enumerate(zip(r.ranked, r.iqm, r.mean_so_far)):
            status = "promoted" if c in r.kept else ("dropped" if r.index < rungs_total - 1 else "final")
            rows.append(dict(rung=r.index, env_steps=r.env_steps, config=c, **dict(points[c].values), rank=place + 1,
                             iqm_at_rung=round(iqm, 3), mean_return_so_far=round(so_far, 3), status=status))
    return rows


def report_section(records: list[RungRecord], group: Group, spec) -> str:
    """report.md's "Successive halving" section: the rule, the schedule, and each rung's ranking."""
    labels = {p.index: p.label() for p in group.points}
    total = len(records)
    lines = ["| rung | env steps per run at its end | configs x seeds | kept | dropped (IQM at the rung) |", "|---|---:|---:|---|---|"]
    d = return_decimals(*(r.iqm for r in records))
    for r in records:
        dropped = [(c, s) for c, s in zip(r.ranked, r.iqm) if c not in r.kept] if r.index < total - 1 else []
        lines.append(f"| {r.index} | {r.env_steps:,} | {len(r.ranked)} x {spec.seeds} | "
                     + (", ".join(f"{c} ({s:.{d}f})" for c, s in zip(r.ranked, r.iqm) if c in r.kept) or "— (last rung)") + " | "
                     + (", ".join(f"{c} ({s:.{d}f})" for c, s in dropped) or "—") + " |")
    runs_full = sum(len(r.ranked) for r in records)  # configs trained in each rung, summed
    spent = sum((r.env_steps - (records[r.index - 1].env_steps if r.index else 0)) * len(r.ranked) for r in records)
    full = records[-1].env_steps * len(records[0].ranked)
    names = "; ".join(f"{c}: {labels[c]}" for c in records[0].ranked)
    return f"""
## Successive halving

`--successive-halving {spec.halving_eta}`: {total} rungs. Rung i trains floor(n / {spec.halving_eta}^i) configs x
{runs.plural(spec.seeds, 'seed')} to a budget of 1/{spec.halving_eta}^(rungs-1-i) of the run's evaluation segments; the survivors
continue from their exact train state (parameters, optimiser, env state, keys) in the same vmapped
program, so a survivor's run continues the full-length run (with other float roundings in the smaller
program than in a plain sweep) and a dropped config's run is that run stopped early. Rule at each rung:
the IQM over the {runs.plural(spec.seeds, 'seed')} of the greedy return at the rung's last evaluation (ties: the higher
mean AUC so far, the curve's mean over the env steps trained, then the lower config index).
Env steps spent: {spent:,} per seed over {runs_full} config-rungs, {spent / full:.0%} of the {full:,} that
training every config to the full budget would take. Table: `halving.csv`.

{chr(10).join(lines)}

Configs: {names}.
"""
