"""The numbers of a benchmark folder (:func:`summarize`) and its ``report.md`` with figures
(:func:`write_report`): final return per cell with a bootstrap interval, env steps to threshold,
speed; IQM / optimality gap, performance profiles and probability of improvement of normalised scores,
the IQM of the normalised area under the learning curve; learning curves."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from rl_zoo import runs, stats
from rl_zoo.benchmark.records import (
    CellRecord, CellSpec, GridMeta, ReturnRow, SpecFields, cell_name, read_grid_meta, slug,
)
from rl_zoo.benchmark.clips import clips_section
from rl_zoo.benchmark.efficiency import AUC_NOTE, auc_intervals, seed_aucs
from rl_zoo.benchmark.improvement import improvement_section, interval_cell
from rl_zoo.benchmark.plan import EXCLUDED
from rl_zoo.benchmark.references import ENV_REFERENCES, threshold
from rl_zoo.benchmark.settings_text import per_cell, settings_sentence, shown
from rl_zoo.benchmark.tables import TABLED, load_cells, load_returns, read_metrics


@dataclass(frozen=True)
class CellSummary(SpecFields):
    """A finished cell's row of the report: final greedy returns over seeds and how fast it got there."""

    record: CellRecord
    final: np.ndarray  # [seeds] greedy return at the last grid point
    final_mean: float
    final_low: float  # 95% percentile bootstrap interval of the mean
    final_high: float
    final_iqm: float
    threshold: float | None
    steps_to_threshold: int | None  # first evaluation (env steps) at which the mean over seeds reaches the threshold
    seeds_reached: int  # seeds with some evaluation at or above the threshold
    evaluations: int = 0  # evaluations after the start (distinct env steps of metrics.csv less the start's)

    @property
    def spec(self) -> CellSpec:
        return self.record.spec

    @property
    def n_seeds(self) -> int:
        return len(self.final)


@dataclass(frozen=True)
class Summary:
    """Everything the report says: the cell records, the tidy returns, one :class:`CellSummary` per
    finished cell, normalised final scores ``normalised[algo][env]`` ([seeds]; 0 random, 1 solved) and
    the seeds' normalised areas under their learning curves ``normalised_auc[algo][env]`` ([seeds])."""

    records: list[CellRecord]
    returns: list[ReturnRow]
    table: list[CellSummary]
    normalised: dict[str, dict[str, np.ndarray]]
    normalised_auc: dict[str, dict[str, np.ndarray]] = field(default_factory=dict)


def reach_threshold(evaluations: list[dict], thr: float) -> tuple[int | None, int]:
    """``(env steps, seeds)``: the first evaluation at which the mean over seeds is at or above ``thr``
    (None: never), and how many seeds have some evaluation at or above it. From the evaluations
    themselves (``metrics.csv`` rows: ``seed, env_steps, return``), not the shared grid, whose linear
    interpolation can hide a short peak or show a crossing no evaluation made; only env steps at which
    every seed was evaluated count for the mean (the seeds of a cell are evaluated together)."""
    by_step: dict[int, dict[int, float]] = {}
    for r in evaluations:
        by_step.setdefault(int(r["env_steps"]), {})[int(r["seed"])] = float(r["return"])
    seeds = {int(r["seed"]) for r in evaluations}
    reach = next((step for step, rets in sorted(by_step.items())
                  if len(rets) == len(seeds) and stats.at_or_above(np.mean(list(rets.values())), thr)), None)
    reached = {int(r["seed"]) for r in evaluations if stats.at_or_above(float(r["return"]), thr)}
    return reach, len(reached)


def _cell_summary(rec: CellRecord, by_seed: dict[int, list[tuple[int, float]]], evaluations: list[dict]) -> CellSummary:
    arr = np.array([[v for _, v in sorted(by_seed[s])] for s in sorted(by_seed)])  # [seeds, points]
    final = arr[:, -1]
    lo, hi = stats.bootstrap_ci(final)
    thr = threshold(rec.env)
    reach, seeds_reached = reach_threshold(evaluations, thr) if thr is not None else (None, 0)
    made = len({int(r["env_steps"]) for r in evaluations}) - 1
    return CellSummary(rec, final, float(final.mean()), lo, hi, float(stats.iqm(final)), thr, reach, seeds_reached, made)


def summarize(out: str | os.PathLike) -> Summary:
    """The numbers of the report: per-cell final return (mean, 95% CI, IQM), steps to threshold, speed;
    normalised final scores and areas under the learning curves per algorithm and env."""
    out = Path(out)
    records = load_cells(out)
    returns = load_returns(out, records)
    curves: dict[tuple[str, str], dict[int, list[tuple[int, float]]]] = {}
    for r in returns:
        curves.setdefault((r.algo, r.env), {}).setdefault(r.seed, []).append((r.env_steps, r.ret))
    table, normalised, normalised_auc = [], {}, {}
    for rec in records:
        if rec.status != "done" or (rec.algo, rec.env) not in curves:
            continue
        row = _cell_summary(rec, curves[(rec.algo, rec.env)], read_metrics(out / "cells" / cell_name(rec.algo, rec.env) / "run" / "metrics.csv"))
        table.append(row)
        ref = ENV_REFERENCES.get(rec.env)
        if ref is not None:
            normalised.setdefault(rec.algo, {})[rec.env] = stats.normalize(row.final, ref.random, ref.solved)
            normalised_auc.setdefault(rec.algo, {})[rec.env] = seed_aucs(curves[(rec.algo, rec.env)], ref)
    return Summary(records, returns, table, normalised, normalised_auc)


def not_started(records: list[CellRecord], meta: GridMeta) -> list[tuple[str, str]]:
    """The (algo, env) cells the last command planned to run that have no record in ``cells/``: the grid
    ended (was killed) before it started them."""
    have = {(r.algo, r.env) for r in records}
    planned = [(p.get("algo", "?"), p.get("env", "?")) for p in meta.plan if p.get("status") in ("run", "done")]
    return [c for c in dict.fromkeys(planned) if c not in have]


def from_earlier_commands(records: list[CellRecord], meta: GridMeta) -> list[CellRecord]:
    """The cells in the folder that the last command's plan does not name (run by earlier commands into
    it, with their own settings); none when ``benchmark.json`` has no plan."""
    planned = {(p.get("algo"), p.get("env")) for p in meta.plan}
    return [r for r in records if planned and (r.algo, r.env) not in planned]


def excluded_but_kept(records: list[CellRecord], meta: GridMeta) -> list[CellRecord]:
    """Finished cells that the last command excluded (``--exclude``): their results, of an earlier
    command, stay in the folder and the tables."""
    excluded = {(p.get("algo"), p.get("env")) for p in meta.plan
                if p.get("status") == "skipped" and str(p.get("reason", "")).startswith(EXCLUDED)}
    return [r for r in records if r.status == "done" and (r.algo, r.env) in excluded]


def _ordered(names: list[str], order: list[str]) -> list[str]:
    """``names`` without repeats, those in ``order`` first in its order, the others as they come."""
    names = list(dict.fromkeys(names))
    return sorted(names, key=lambda n: order.index(n) if n in order else len(order))


def _why_unfinished(out: Path, r: CellRecord) -> str:
    """A cell record's reason; for a "running" one whose process still holds its folder, that it is training (a
    report of a grid in progress called it "interrupted")."""
    from rl_zoo import lock

    if r.status == "running" and (pid := lock.holder(out / "cells" / r.spec.name)) is not None:
        return f"still training ({f'process {pid}' if pid else 'another process'}): this report shows the grid so far"
    return r.reason or "interrupted"


def _header(s: Summary, meta: GridMeta, out: Path) -> list[str]:
    records, table = s.records, s.table
    missing = not_started(records, meta)
    algos = _ordered([r.algo for r in records] + [a for a, _ in missing], meta.algos)
    envs_ = _ordered([r.env for r in records] + [e for _, e in missing], meta.envs)
    lines = [f"# Benchmark: {', '.join(algos)} on {', '.join(envs_)}", ""]
    if meta.command:
        lines += ["Command:", "", "    " + meta.command, ""]
    earlier = from_earlier_commands(records, meta)
    if earlier:
        lines += ["Not in the plan of the last command into this folder (cells of earlier commands, with their own "
                  "settings): " + ", ".join(f"{r.algo} on {r.env} ({r.status})" for r in earlier) + ".", ""]
    kept = excluded_but_kept(records, meta)
    if kept:
        lines += ["Excluded by the last command (`--exclude`) but finished by an earlier one, whose results are kept "
                  "below: " + ", ".join(f"{r.algo} on {r.env}" for r in kept) + ".", ""]
    if meta.note:
        lines += [meta.note, ""]
    v = meta.versions
    described = table or [r for r in records if r.status != "skipped"]  # the finished cells; else those that ran
    ran = "."
    if meta.grid_wall_s:
        load = (f", 1-minute load average {meta.load_start:.1f} at the start and {meta.load_end:.1f} at the end"
                if meta.load_end is not None else "")
        ran = f"; the cells were last run together in {meta.grid_wall_s:,.0f} s (started {meta.started}{load})."
    machine = (f"Machine: {v['cpu'] + ', ' if 'cpu' in v else ''}{v.get('platform', '?')}, {shown(meta.cpu_count)} CPU cores, "
               f"jax {v.get('jax', '?')} ({v.get('jax_backend', '?')}); {_jobs_words(records, meta)}. " if v else
               "Machine: not recorded (the folder has no benchmark.json). ")
    lines += [
        f"{settings_sentence(described, meta)} {machine}Sum of cell wall times: "
        f"{sum(r.cell_wall_s or 0 for r in records):,.0f} s" + ran,
        "",
    ]
    have = {(r.algo, r.env): r.status for r in records}
    unstarted = [p for p in meta.plan if p.get("status") == "failed" and have.get((p.get("algo"), p.get("env"))) in (None, "done")]
    for title, status in (("Skipped", "skipped"), ("Failed", "failed"), ("Unfinished", "running")):
        group = [f"- {r.algo} on {r.env}: {_why_unfinished(out, r)}" for r in records if r.status == status]
        if status == "failed":  # a cell that could not start (another process held its folder): no record of its own,
            group += [f"- {p.get('algo')} on {p.get('env')}: {p.get('reason') or 'failed'}"  # or an earlier one (--rerun)
                      + ("; its row is an earlier run's result" if have.get((p.get("algo"), p.get("env"))) == "done" else "")
                      for p in unstarted]
        if group:
            lines += [f"**{title}:**", ""] + group + [""]
    if missing:
        lines += ["**Not started:**", ""] + [f"- {a} on {e}: planned by the last command into this folder, never "
                                              "started (the grid ended before it); run that command again to run it" for a, e in missing] + [""]
    return lines


def _cells_section(table: list[CellSummary]) -> list[str]:
    from rl_zoo.stats import interval_name

    if not table:  # a table header with no row below it
        return ["## Results per cell", "", "No cell has finished yet: the table fills as cells finish.", ""]
    counts = {r.n_seeds for r in table}
    interval = interval_name(counts.pop(), short=True) if len(counts) == 1 else "95% CI; with 2-3 seeds their range"
    lines = ["## Results per cell", "",
             f"| env | algorithm | final return: mean [{interval}] | IQM | env steps to threshold (mean over seeds) | seeds at threshold | "
             "cell wall s | compile s | run s | env steps/s | peak MB |",
             "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in table:
        if r.threshold is None:
            reach, seeds_at = "no threshold", "-"
        else:
            reach = "not reached" if r.steps_to_threshold is None else f"{r.steps_to_threshold:,}"
            seeds_at = f"{r.seeds_reached}/{r.n_seeds}"
        res = r.record.result
        lines.append(
            f"| {r.env} | {r.algo} | {runs.return_text(r.final_mean)} "
            + (f"[{runs.return_text(r.final_low)}, {runs.return_text(r.final_high)}]" if r.n_seeds > 1 else "-") + " | "
            f"{runs.return_text(r.final_iqm)} | {reach} | {seeds_at} | {r.record.cell_wall_s:,.0f} | {res.compile_s:,.1f} | "
            f"{res.run_s:,.1f} | {res.env_steps_per_s:,.0f} | {res.peak_memory_mb:,.0f} |")
    lines += [
        "",
        "Final return: the greedy return at the end of training (last point of the grid), mean over seeds with a 95% "
        "percentile bootstrap interval (2000 resamples of the seeds; \"-\" with one seed) and the interquartile mean over "
        "seeds. With few seeds a percentile bootstrap is narrower than its nominal 95%: for normal data it covers the "
        "mean about 85% of the time with 5 seeds, 90% with 10 (`rl_zoo.stats`), about half with 2 and three quarters "
        "with 3, where it is the range of the seeds' returns: read it as the seeds' spread. Below 4 seeds the IQM "
        "trims nothing: it is the mean. "
        "Env steps to threshold: the first evaluation at which the mean over seeds reaches the env's threshold "
        "(the threshold is in each curve's heading below; read from the evaluations, not the interpolated grid); seeds "
        "at threshold: how many seeds reach it at some evaluation. Cell wall: the cell's whole process (start, "
        "compile, training, evaluations; of a cell resumed after a stop, its last process only); compile: the driver's compilation (with JAX's persistent cache, so a "
        "repeated run compiles faster); run: the training segments only (summed over every process of a resumed cell, so it can exceed the cell wall time); env steps/s: all seeds' env steps over run s; "
        "peak MB: the cell process's peak resident memory.",
        "",
    ]
    return lines


def _aggregate_section(s: Summary, fig_dir: Path) -> list[str]:
    from rl_zoo import plots

    algos = list(dict.fromkeys(r.algo for r in s.records))
    envs_ = list(dict.fromkeys(r.env for r in s.records))
    normalised = s.normalised
    agg_algos = [a for a in algos if a in normalised]
    missing = [e for e in dict.fromkeys(r.env for r in s.table) if e not in ENV_REFERENCES]
    if not agg_algos:  # the section went without a word, where the help promises IQM and profiles
        return ["## Aggregate across envs", "", f"None: no env of this grid has reference values (a random policy's "
                f"return and a threshold, to normalise by): {', '.join(missing)}.", ""] if missing else []
    n_envs = len({e for a in agg_algos for e in normalised[a]})
    labels = {a: a if len(normalised[a]) == n_envs else f"{a} ({len(normalised[a])} of {n_envs} envs)" for a in agg_algos}
    scores = {a: [normalised[a][e] for e in envs_ if e in normalised[a]] for a in agg_algos}
    numbers = plots.aggregate_intervals(scores, fig_dir / "aggregate.png", labels)
    auc = auc_intervals(s.normalised_auc, agg_algos, envs_)
    plots.performance_profiles(scores, fig_dir / "profile.png", labels)
    lines = ["## Aggregate across envs", "",
             "Final returns normalised per env as (return - random) / (threshold - random): 0 is a uniformly random "
             "policy, 1 the env's threshold (table below). Point estimates pool every seed of every env; the "
             "intervals are 95% stratified bootstrap intervals (seeds resampled within each env, 2000 resamples; "
             "Agarwal et al. 2021; with few seeds per env they are narrower than 95%: see the note under the results per cell). IQM: "
             "the mean after trimming a quarter of the runs (rounded down) from each end; optimality gap: the mean shortfall "
             "below 1 (lower is better). An algorithm that cannot run on some env is aggregated over the envs it ran on, "
             "as its label says: its numbers then do not compare with those of the others, aggregated over more envs.", "",
             "![IQM and optimality gap](aggregate.png)", "",
             "| algorithm | envs | IQM [95% CI] | optimality gap [95% CI] | normalised AUC: IQM [95% CI] |", "|---|---:|---|---|---|"]
    for a in agg_algos:
        single = all(np.size(x) <= 1 for x in scores[a])
        lines.append(f"| {a} | {len(scores[a])} | " + " | ".join(
            interval_cell(t, single) for t in (numbers[a]["IQM"], numbers[a]["Optimality gap"], auc[a])) + " |")
    lines += ["", AUC_NOTE, "", "Performance profiles: the fraction of runs (all envs and seeds) whose normalised final score "
              "exceeds tau; a curve above another is better everywhere.", "", "![Performance profiles](profile.png)", ""]
    lines += improvement_section(normalised, agg_algos, [e for e in envs_ if any(e in normalised[a] for a in agg_algos)])
    if missing:
        lines += [f"Not in the aggregate (no reference values): {', '.join(missing)}.", ""]
    return lines


def _jobs_words(records: list, meta: GridMeta) -> str:
    """How many cells ran at once: the last command's ``--jobs``, and how many cells an earlier command finished
    (at its own ``--jobs``: the report said the last command's of every cell, a cell that trained beside another
    under ``--jobs 2`` "1 cell(s) at a time" after a resume with ``--jobs 1``)."""
    earlier = [r for r in records if r.result is not None and meta.started and r.result.finished < meta.started]
    said = f"{meta.jobs} cell(s) at a time"
    if earlier:
        said += (f" in the last command ({runs.plural(len(earlier), 'cell')} finished by an earlier one, at its "
                 f"own --jobs)")
    return said


def _fewer_evaluations(table: list[CellSummary]) -> str:
    """The sentence naming the cells that evaluated fewer times than their grid has points (a gymnasium env's
    evaluations are cut to 10% of training's env steps; a JAX run's segments divide its updates): their curves are
    straight lines between evaluations (Hopper-v5's 40 points held 10 evaluations, and the report said nothing)."""
    fewer = [f"{c.record.algo} on {c.record.env} ({c.evaluations} for {c.spec.points})" for c in table
             if 0 <= c.evaluations < c.spec.points]
    if not fewer:
        return ""
    return (f" These cells evaluated fewer times than their grid's intervals, so their curves are straight between "
            f"evaluations: {', '.join(fewer)} (a gymnasium env evaluates fewer times where the worst case of those after "
            f"the start would pass 10% of training's env steps; the start's comes on top and the final one is always "
            f"made, so a short budget can pass it: summary.json's eval_fraction; "
            f"a JAX run's segments divide its updates; a run evaluates at most once per update).")


def _curves_section(s: Summary, meta: GridMeta, fig_dir: Path) -> list[str]:
    from rl_zoo import plots

    done_envs = list(dict.fromkeys(r.env for r in s.table))
    if not done_envs:
        return []
    points, points_each = per_cell(s.table, "points")
    grid = (f"a shared grid of {points} equal intervals of env steps" if points else
            f"a shared grid of equal intervals of env steps, as many as each cell was run with ({points_each})")
    lines = ["## Learning curves", "",
             "Mean over seeds of the greedy return with a 95% pointwise bootstrap band (with 2-3 seeds, their range), against env steps per seed "
             "(left) and wall-clock seconds since training began (right; evaluations and checkpoints included, compilation "
             "excluded). "
             "Each seed's evaluations, made at its algorithm's update boundaries, are linearly interpolated onto "
             f"{grid} (the last "
             "evaluation, at most one update short of the budget, is held to its end), so that curves line up."
             + _fewer_evaluations(s.table), ""]
    for e in done_envs:
        png = f"curves_{slug(e)}.png"
        thr = threshold(e)
        plots.benchmark_curves(s.returns, e, fig_dir / png, thr)
        budget, budget_each = per_cell([r for r in s.table if r.env == e], lambda c: f"{c.spec.total_steps:,}")
        budget = f"{budget} env steps per seed" if budget else f"env steps per seed: {budget_each}"
        heading = f"threshold {thr:g}, {budget}" if thr is not None else f"no threshold, {budget}"  # it said "(, ..."
        lines += [f"### {e} ({heading})", "",
                  f"![{e} learning curves]({png})", ""]
    return lines


def _references_section(envs_: list[str]) -> list[str]:
    refs = [e for e in envs_ if e in ENV_REFERENCES]
    if not refs:
        return []
    lines = ["## Reference values", "",
             "| env | random policy | threshold (= 1 normalised) | source of the threshold | default env steps |",
             "|---|---:|---:|---|---:|"]
    for e in refs:
        ref = ENV_REFERENCES[e]
        lines.append(f"| {e} | {ref.random:g} | {ref.solved:g} | {ref.source} | {ref.steps:,} |")
    return lines + ["", "Random policy: mean return of 1000 episodes of uniformly random actions on this project's JAX port. "
                    "Default env steps: every algorithm's budget on the env in a grid (`--total-steps` sets another), in "
                    "place of the `total_timesteps` an algorithm's tuned settings give it alone "
                    "(`rl_zoo/hyperparams/<algo>.yaml`; Pendulum-v1's 1M there, for one).", ""]


def report_path(output: str | os.PathLike, option: str = "-o") -> Path:
    """Where ``rl-zoo plot BENCHMARK -o OUTPUT`` writes its report: ``OUTPUT`` itself when it ends in ``.md``,
    else ``OUTPUT/report.md`` (a folder, made if missing). Refused naming ``option``, before any work: an
    empty name, an existing file that is not ``.md``, a missing path with another suffix (``report.txt``
    became a folder), a place no file can be made in."""
    from rl_zoo.runs import check_output_folder

    if not str(output).strip():
        raise ValueError(f"{option} is empty: name a .md file or a folder (an empty name was the current folder)")
    path = Path(output)
    if path.suffix == ".md":
        check_output_folder(path.parent, option, given=output)
        if path.is_dir():
            raise ValueError(f"{option} {str(output)!r}: it is a folder; give a file name ending in .md, or a folder name without it")
        return path
    if path.exists() and not path.is_dir():
        raise ValueError(f"{option} {str(output)!r}: it is a file, not a folder; give a .md file or a folder for report.md")
    if not path.exists() and path.suffix:
        raise ValueError(f"{option} {str(output)!r}: the report is a .md file, or a folder to hold report.md and its "
                         f"figures; {path.suffix!r} is neither (create the folder first to use that name)")
    check_output_folder(path, option)
    return path / "report.md"


#: the figures a report writes beside report.md (``curves_ENV.png`` too, one per env)
REPORT_FIGURES = ("aggregate.png", "profile.png")


def _is_report(path: Path) -> bool:
    """Whether ``path`` is a report this module wrote (its first line, ``_header``'s)."""
    try:
        with open(path, encoding="utf-8") as f:
            return f.readline().startswith("# Benchmark: ")
    except (OSError, UnicodeDecodeError):
        return False


def _refuse_files_of_others(path: Path) -> None:
    """``ValueError`` when a report written elsewhere (``-o``) would replace a file of the user's own: ``path``
    itself when it is not a report of ours (``-o README.md``), or, in a folder holding no report of ours, a
    file named as one of its figures (``-o notes/`` replaced notes/report.md and notes/profile.png). A report
    and folder an earlier report went to are written again."""
    folder = path.parent
    if path.is_file() and path.stat().st_size and not _is_report(path):  # an empty file holds nothing to lose
        raise ValueError(f"-o: {str(path)!r} exists and is not an rl-zoo benchmark report: it would be replaced; give "
                         f"a new file or folder (nothing was touched)")
    if not folder.is_dir() or any(_is_report(md) for md in folder.glob("*.md")):
        return
    clash = sorted(p.name for p in folder.iterdir() if p.name in REPORT_FIGURES or (p.name.startswith("curves_") and p.suffix == ".png"))
    if clash:
        raise ValueError(f"-o {str(folder)!r} holds {', '.join(clash)}, not of an rl-zoo benchmark report: this report's "
                         f"figures (aggregate.png, profile.png, curves_ENV.png) would replace them; give a new or "
                         f"empty folder (nothing was touched)")


def write_report(out: str | os.PathLike, path: str | os.PathLike | None = None) -> Path:
    """Figures (PNG) and ``report.md`` for the benchmark folder ``out``; the report and its figures go
    to ``path`` (default ``out/report.md``; a path without ``.md`` is a folder to hold ``report.md``).
    ``ValueError`` (nothing written) when no cell of ``out`` has a record yet: there is nothing to report."""
    out = Path(out)
    given = path
    path = report_path(path) if path is not None else out / "report.md"
    if given is None and out.is_dir() and not runs.writable_folder(out):  # a raw "[Errno 13] ... .aggregate.png.tmp", exit 1
        raise ValueError(f"{out} is not writable, and without -o the report and its figures go into it: give -o FOLDER "
                         f"(or -o FILE.md) elsewhere")
    if path.parent.resolve() != out.resolve():
        if (kind := runs.folder_kind(path.parent)) is not None:
            raise ValueError(f"-o {str(path.parent)!r} is {runs.FOLDER_KINDS[kind]}: this report and its figures would replace "
                             f"or mix with its own; give another folder, or a .md file outside it")
        _refuse_files_of_others(path)
    s, meta = summarize(out), read_grid_meta(out)
    if not s.records:
        raise ValueError(f"{out}: no cell has finished yet (cells/ holds no cell.json), so there is nothing to report; "
                         f"run a grid into it first (rl-zoo benchmark --out {out})")
    path.parent.mkdir(parents=True, exist_ok=True)
    if not _is_report(path):  # the figures come first: a report stopped among them left a folder "not of a report"
        runs.atomic_write_text(path, f"# Benchmark: {out} (its report being written; if this line stays, the command "
                                     f"was stopped: run it again)\n")
    lines = (_header(s, meta, out) + _cells_section(s.table) + _aggregate_section(s, path.parent)
             + _curves_section(s, meta, path.parent) + clips_section(out, s.records, meta, path.parent)
             + _references_section(list(dict.fromkeys(r.env for r in s.records))))
    tabled = ("one row per cell" if all(r.status in TABLED for r in s.records) else
              "one row per finished, skipped or failed cell: the unfinished ones, listed above, have none yet")
    lines += ["Tables: `returns.csv` / `returns.parquet` (algo, env, seed, env_steps, wall_s, return on the shared grid), "
              f"`cells.csv` / `cells.parquet` ({tabled}); raw evaluations in `cells/*/run/metrics.csv`."]
    lines += [""]
    runs.atomic_write_text(path, "\n".join(lines))
    return path
