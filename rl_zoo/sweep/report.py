"""A finished sweep's tables, figures, best config and report.md.

Per run (config x seed): the final greedy return (the last evaluation), the area under the learning
curve (the mean return over training: trapezoid area over env steps divided by the env steps) and
the env steps to the threshold (the first evaluation at or above it). Per config: the interquartile
mean (IQM) of the final returns over seeds with a 95% bootstrap interval (`rl_zoo.stats`). The best
config is the one with the highest IQM of final returns over seeds (ties: the higher mean AUC), not
one lucky seed; it is written as a YAML block that ``rl_zoo/hyperparams/<algo>.yaml`` accepts.
A config whose parameters became NaN/Inf in any seed (where ``rl-zoo train`` stops a run, exit code 3)
is marked non-finite in the tables (column ``non_finite``, present when some run diverged) and the
report, ranked last, and never chosen; if no config is left, ``NonFiniteError``.
With successive halving a dropped config's "final" return is its last evaluation (at its rung's
budget), and the best config is chosen among those trained to the full budget.
With the env's params swept too (``--grid env.gravity=...``), the best is a setting of the swept config
fields, scored by the mean over the env values of its IQM at each (`rl_zoo.sweep.env_fields.settings`);
with only env params swept there is none (and no best.yaml): every config is the same algorithm on
another env.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import math
import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from rl_zoo import runs, stats
from rl_zoo.seeds import REPORT_SEED
from rl_zoo.sweep.runner import GroupResult
from rl_zoo.sweep.env_fields import env_values_label, interval_label, members, settings, settings_section, worst_value
from rl_zoo.sweep.spec import Group, Point, SweepSpec, _fmt


@dataclass(frozen=True)
class ConfigSummary:
    point: Point
    group: int
    final: np.ndarray  # [seeds] final returns
    auc: np.ndarray  # [seeds]
    steps_to_threshold: np.ndarray  # [seeds] float, NaN where never reached
    iqm: float
    ci_low: float
    ci_high: float
    env_steps_trained: int = 0  # env steps per run at its last evaluation (successive halving stops some early)
    finite: np.ndarray | None = None  # [seeds] bool: the run's parameters stayed finite (None: all did)
    stopped_early: bool = False  # successive halving dropped it before its group's last evaluation

    @property
    def non_finite(self) -> int:
        """Seeds whose parameters became NaN/Inf (``rl-zoo train`` stops such a run): the config diverged if any."""
        return 0 if self.finite is None else int((~self.finite).sum())


def steps_to_threshold(env_steps: np.ndarray, returns: np.ndarray, threshold: float | None) -> np.ndarray:
    """First env step count at which ``returns [..., E]`` reaches ``threshold`` (at or above it, in float32 as the
    returns were evaluated); NaN where never (or no threshold)."""
    if threshold is None:
        return np.full(returns.shape[:-1], np.nan)
    reached = stats.at_or_above(returns, threshold)
    first = np.argmax(reached, axis=-1)
    return np.where(reached.any(axis=-1), env_steps[first].astype(float), np.nan)


def summarize(groups: list[Group], results: list[GroupResult], threshold: float | None) -> list[ConfigSummary]:
    out = []
    for group, result in zip(groups, results):
        finite = result.finite_runs()  # [configs, seeds]
        for i, (p, curves) in enumerate(zip(group.points, result.returns)):  # curves [seeds, E]
            n = result.evals_of(i)
            curves, steps = np.asarray(curves[:, :n], float), result.env_steps[:n]  # float64, as the IQM: the float32
            final = curves[:, -1]  # mean of 26.0 and 43.7 printed 34.8 beside an IQM of 34.9
            point, low, high = stats.stratified_bootstrap_ci(final.reshape(-1, 1), statistic=stats.iqm)
            out.append(ConfigSummary(p, group.index, final, stats.area_under_curve(steps, curves),
                                     steps_to_threshold(steps, curves, threshold), point, low, high, int(steps[-1]), finite[i],
                                     stopped_early=n < len(result.env_steps)))
    return sorted(out, key=lambda s: s.point.index)


def best(summaries: list[ConfigSummary]) -> ConfigSummary:
    """Among the configs trained to the full budget (not dropped by successive halving; with
    ``--static-groups`` each group's budget, whose whole updates may end at other env steps) whose every
    run kept finite parameters, the highest IQM of final returns over seeds; ties broken by the higher
    mean AUC. ``NonFiniteError`` if none did."""
    eligible = [s for s in summaries if not s.stopped_early and not s.non_finite]
    if not eligible:
        from rl_zoo.driver.guard import NonFiniteError

        raise NonFiniteError("no best config: every config trained to the full budget has non-finite (NaN/Inf) parameters "
                             "in some seed, where rl-zoo train would stop; configs.csv and runs.csv show them (column "
                             f"non_finite). {_cure_words(summaries)}")
    return order(eligible)[0]  # the report's order, one rule for both


def _cure_words(summaries: list[ConfigSummary]) -> str:
    """``guard.cure_words`` for the swept algorithm's fields (TRPO's value_lr and max_kl, not "learning rate (or
    max_grad_norm)", which it has neither of)."""
    import dataclasses

    from rl_zoo.driver.guard import cure_words

    config = summaries[0].point.config if summaries else None
    fields = {f.name: None for f in dataclasses.fields(config)} if dataclasses.is_dataclass(config) else {}
    return cure_words(fields, "parameters")


def choose(summaries: list[ConfigSummary], spec: SweepSpec) -> tuple[list[ConfigSummary], ConfigSummary | None]:
    """``(ranked, best)``: the settings (`rl_zoo.sweep.env_fields.settings`; without env params swept, the configs)
    in the best rule's order, and the best of them. ``NonFiniteError`` when every config diverged (`best`), as
    without env params; ``None`` when only env params were swept (no best), or when every setting diverged on some
    env value while some config did not (no best: the report says so)."""
    ranked = order(settings(summaries, spec))
    if not spec.env_fields:
        return ranked, best(summaries)
    from rl_zoo.driver.guard import NonFiniteError

    try:
        best(summaries)
    except NonFiniteError:  # every config diverged: said with the env values as a cause to look at
        raise NonFiniteError("every config has non-finite (NaN/Inf) parameters in some seed, where rl-zoo train would stop; "
                             "configs.csv and runs.csv show them (column non_finite). An env value can be the cause (a "
                             "value the env's rules allow whose dynamics still blow up), or the config: "
                             f"{_cure_words(summaries)}") from None
    eligible = [r for r in ranked if not r.non_finite] if spec.has_best else []
    return ranked, eligible[0] if eligible else None


def row_order(summaries: list[ConfigSummary], ranked: list[ConfigSummary]) -> list[ConfigSummary]:
    """The configs as the report's table and the curves' legend list them: by their setting's rank (`choose`'s
    ``ranked``), a setting's configs (one per env value) together in config order."""
    rank = {r.point.values: i for i, r in enumerate(ranked)}
    return sorted(summaries, key=lambda s: (rank[s.point.config_values], s.point.index))


def rank_key(s: ConfigSummary) -> tuple:
    """The best rule's order as a sort key: configs with non-finite runs last; those successive halving
    dropped after the full-budget ones (the later dropped first); then by IQM and mean AUC, a NaN (a NaN
    return from finite parameters) below every number."""
    return (bool(s.non_finite), s.stopped_early, -s.env_steps_trained if s.stopped_early else 0,
            stats.descending(s.iqm), stats.descending(np.mean(s.auc)))


def order(summaries: list[ConfigSummary]) -> list[ConfigSummary]:
    """``summaries`` in the best rule's order (``rank_key``)."""
    return sorted(summaries, key=rank_key)


def best_yaml(spec: SweepSpec, config, default, tuned=None) -> str:
    """``ENV_ID:`` then every swept field of ``config`` and every other field that differs from
    ``default`` (the algorithm's defaults with its name's presets) or from ``tuned`` (what ``rl-zoo
    train`` resolves with no ``--set``): the block ``rl_zoo/hyperparams/<algo>.yaml`` takes, and as
    ``--set`` pairs the same config. A field at its default is listed when the tuned file sets another
    value (PPO's CartPole learning rate 1e-3, the default 3e-4): ``--set`` pairs without it would keep
    the tuned one."""
    import yaml

    swept = set(spec.config_fields)
    tuned = default if tuned is None else tuned
    changed = {f.name: getattr(config, f.name) for f in dataclasses.fields(config)
               if f.name in swept or getattr(config, f.name) != getattr(default, f.name)
               or getattr(config, f.name) != getattr(tuned, f.name)}
    changed = {k: list(v) if isinstance(v, tuple) else v for k, v in changed.items()}
    return yaml.safe_dump({spec.env_id: changed}, sort_keys=False, default_flow_style=False)


def best_yaml_header(spec: SweepSpec, summaries: list[ConfigSummary], settings_count: int | None = None) -> str:
    """best.yaml's comment line: of how many configs, by what, on which seeds; with successive halving,
    among how many the full budget was reached (the others were dropped at a smaller one); with env params
    swept, of how many settings (``settings_count``) over how many env values."""
    full = sum(not s.stopped_early for s in summaries)
    n = settings_count or len(summaries)
    among = (f" among the {full} of {len(summaries)} configs successive halving trained to the full budget"
             if spec.halving_eta else f" of {n} settings of {', '.join(spec.config_fields)} ({len(summaries)} configs)"
             if spec.env_fields else f" of {runs.plural(n, 'config')}")
    if spec.env_fields:
        how = (f"the mean over {len(summaries) // n} values of {' x '.join(spec.env_fields)} of the IQM of final returns over "
               f"{_seeds_text(spec)}")
    else:
        how = f"the IQM of final returns over {_seeds_text(spec)}"
    text = f"# rl-zoo sweep: the best{among} of {spec.algo} on {spec.env_label}, by {how}\n"
    if spec.env_kwargs:  # --config sets config fields only: the env's options are the command line's
        text += f"# train it on the same env: {train_command(spec)} --config best.yaml\n"
    return text


def train_command(spec: SweepSpec) -> str:
    """``rl-zoo train --algo A --env E`` and the sweep's env options (``--env-kwargs``, shell-quoted), if any."""
    return f"rl-zoo train --algo {spec.algo} --env {spec.env_id}{spec.env_kwargs_args}"


def csv_text(rows: list[dict]) -> str:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buf.getvalue()


def _trained(s: ConfigSummary, spec: SweepSpec) -> dict:
    return dict(env_steps_trained=s.env_steps_trained) if spec.halving_eta else {}


def _non_finite(summaries: list[ConfigSummary], value) -> dict:
    """The ``non_finite`` column, in a sweep where some run's parameters became NaN/Inf (else no column)."""
    return dict(non_finite=value) if any(s.non_finite for s in summaries) else {}


def run_rows(summaries: list[ConfigSummary], spec: SweepSpec) -> list[dict]:
    rows = []
    for s in summaries:
        for j in range(len(s.final)):
            rows.append(dict(config=s.point.index, **dict(s.point.values), group=s.group, seed=spec.seed + j, **_trained(s, spec),
                             final_return=float(s.final[j]), auc=round(float(s.auc[j]), 4),
                             steps_to_threshold="" if math.isnan(s.steps_to_threshold[j]) else int(s.steps_to_threshold[j]),
                             **_non_finite(summaries, "" if s.finite is None or s.finite[j] else "yes")))
    return rows


def config_rows(summaries: list[ConfigSummary], spec: SweepSpec) -> list[dict]:
    return [dict(config=s.point.index, **dict(s.point.values), group=s.group, **_trained(s, spec), iqm_final=round(s.iqm, 3),
                 ci_low=round(s.ci_low, 3), ci_high=round(s.ci_high, 3), mean_final=round(float(s.final.mean()), 3),
                 mean_auc=round(float(s.auc.mean()), 3), reached=f"{int(np.isfinite(s.steps_to_threshold).sum())}/{len(s.final)}",
                 **_non_finite(summaries, f"{s.non_finite}/{len(s.final)}" if s.non_finite else ""))
            for s in summaries]


def curve_rows(groups: list[Group], results: list[GroupResult], spec: SweepSpec) -> list[dict]:
    rows = []
    for group, result in zip(groups, results):
        for i, (p, curves) in enumerate(zip(group.points, result.returns)):
            n = result.evals_of(i)
            for j, curve in enumerate(curves):
                rows += [dict(config=p.index, seed=spec.seed + j, env_steps=int(e), **{"return": float(r)})
                         for e, r in zip(result.env_steps[:n], curve[:n])]
    return rows


def write_tables(out: Path, groups, results, summaries, spec) -> None:
    runs.atomic_write_text(out / "runs.csv", csv_text(run_rows(summaries, spec)))
    runs.atomic_write_text(out / "configs.csv", csv_text(config_rows(summaries, spec)))
    runs.atomic_write_text(out / "curves.csv", csv_text(curve_rows(groups, results, spec)))


@dataclass(frozen=True)
class ReportInputs:
    """What report.md is written from: the sweep, its compiled groups and their results, the configs'
    summaries, the threshold for "reached", the best config's YAML block, the figures, the command line,
    the successive-halving section (empty without it) and the machine the sweep was created on."""

    spec: SweepSpec
    groups: list[Group]
    results: list[GroupResult]
    summaries: list[ConfigSummary]
    threshold: float | None
    yaml_block: str
    figures: list[Path]
    command: str | None = None
    halving_section: str = ""
    machine: str | None = None  # "CPU, devices, jax version" from sweep.json (None: not recorded)
    tuned_total_steps: int | None = None  # the env's tuned total_timesteps (what --total-steps replaced)
    ranked: list[ConfigSummary] | None = None  # `choose`'s (None: chosen here)
    chosen: ConfigSummary | None = None


def machine_of(versions: dict | None) -> str | None:
    """The machine a sweep.json's ``versions`` (``rl_zoo.runs.versions``) records, for the report's timings."""
    if not versions:
        return None
    cpu = versions.get("cpu") or "a CPU whose model was not recorded"
    return f"{cpu}, devices {versions.get('devices', '?')}, jax {versions.get('jax', '?')} ({versions.get('jax_backend', '?')})"


def return_decimals_of(summaries: list[ConfigSummary]) -> int:
    """Decimals for a sweep's returns, the same in its table, its best line and the command's last lines
    (``stats.return_decimals`` of every IQM, interval end and mean final return: -0.044, not -0.0)."""
    return stats.return_decimals(*([s.iqm, s.ci_low, s.ci_high, s.final.mean()] for s in summaries))


def write_report(out: Path, inputs: ReportInputs) -> Path:
    spec, groups, results, summaries = inputs.spec, inputs.groups, inputs.results, inputs.summaries
    threshold, figures, command = inputs.threshold, inputs.figures, inputs.command
    halving_section = inputs.halving_section
    ranked, chosen = (inputs.ranked, inputs.chosen) if inputs.ranked is not None else choose(summaries, spec)
    fields = spec.fields
    trained = " env steps trained |" if spec.halving_eta else ""
    head = ("| config | " + " | ".join(fields) + f" |{trained} IQM final [{stats.interval_name(spec.seeds, short=True)}] | mean final "
            "| mean AUC | reached threshold |")
    lines = [head, "|" + "---|" * (len(fields) + 5 + bool(trained))]
    d = return_decimals_of(summaries)
    for s in row_order(summaries, ranked):
        mark = (" **best**" if chosen and s.point.config_values == chosen.point.values
                else f" **non-finite** ({s.non_finite}/{len(s.final)} seeds)" if s.non_finite else "")
        lines.append(f"| {s.point.index}{mark} | " + " | ".join(_fmt(v) for _, v in s.point.values)
                     + (f" | {s.env_steps_trained:,}" if trained else "") + f" | {s.iqm:.{d}f} [{s.ci_low:.{d}f}, {s.ci_high:.{d}f}] | {s.final.mean():.{d}f} | {s.auc.mean():.{d}f} | "
                     f"{int(np.isfinite(s.steps_to_threshold).sum())}/{len(s.final)} |")
    group_lines = [f"- group {g.index}: {len(g.points)} config(s)"
                   + (f", static {', '.join(f'{k}={_fmt(v)}' for k, v in g.static)}" if g.static else "")
                   + f"; traced: {', '.join(g.traced) or 'none'}; compiled in {r.compile_s:.1f} s, trained and evaluated in {r.train_s:.1f} s"
                   for g, r in zip(groups, results)]
    sampled = (f"{spec.samples} random configs (sample seed {spec.sample_seed}): "
               + ", ".join(f"{r.name} in [{r.low:g}, {r.high:g}]{' log-uniform' if r.log else ''}" for r in spec.ranges)) if spec.ranges else ""
    grid = "grid: " + "; ".join(f"{g.name} = {', '.join(_fmt(v) for v in g.values)}" for g in spec.grid) if spec.grid else ""
    full_only = ", among the configs trained to the full budget" if spec.halving_eta else ""
    bad = [s for s in summaries if s.non_finite]
    diverged = (f"\n{'Not eligible' if spec.has_best else 'Diverged'}: config(s) {', '.join(str(s.point.index) for s in bad)}, marked **non-finite**: their "
                f"parameters became NaN or Inf in some seed, where `rl-zoo train` stops a run (exit code 3), and their "
                f"returns are those of a broken policy." if bad else "")
    halving_files = (", `halving.csv` (every rung's configs, their scores, who went on) and `groups/halving/` (each finished "
                     "rung's survivors' states)." if spec.halving_eta else ".")
    text = f"""# Sweep: {spec.algo} on {spec.env_label}

{f'Command: `{command}`' if command else ''}

{runs.plural(len(summaries), 'config')} x {_seeds_text(spec)}, the same for every config;
{grid}{'; ' if grid and sampled else ''}{sampled}. {_budget_text(results)}; greedy evaluation of
{spec.eval_episodes} episodes at {_points_text(results)}. Threshold for "reached": {threshold if threshold is not None else 'none'}.{_tuning_seeds_note(spec)}

Compiled groups (configs in one group differ only in numeric fields, which enter the program as arrays),
timed on {inputs.machine or 'a machine not recorded'}:

{chr(10).join(group_lines)}
{halving_section}
## Configs, {'best first' if chosen else 'in order'}

Final return: the last greedy evaluation. IQM: interquartile mean over the seeds (below 4 seeds, their
mean); in brackets: {stats.interval_name(spec.seeds)}. AUC: mean return over training (area under
the learning curve / env steps). Reached threshold: the seeds whose greedy return was at or above the
threshold at any evaluation (not necessarily the last).

{chr(10).join(lines)}

{settings_section(ranked, summaries, spec, d) if spec.env_fields and spec.config_fields else ''}{_best_section(out, inputs, chosen, summaries, full_only, diverged)}
## Figures

{chr(10).join(f'![{p.stem}]({p.name})' for p in figures)}

Files: `runs.csv` (config, swept fields, seed, final return, AUC, env steps to threshold), `configs.csv`
(per config), `curves.csv` (every evaluation), `groups/` (raw results per compiled group), `sweep.json`{halving_files}
"""
    path = out / "report.md"
    runs.atomic_write_text(path, text)
    return path


def _best_section(out: Path, inputs: ReportInputs, chosen: ConfigSummary | None, summaries: list[ConfigSummary],
                  full_only: str, diverged: str) -> str:
    """report.md's section on the best config (its rule, the choice, the YAML block), or, with only env params
    swept, on why there is none."""
    spec, yaml_block = inputs.spec, inputs.yaml_block
    envs = ", ".join(spec.env_fields)
    if chosen is None and not spec.has_best:
        return f"""## Across the env's params

Only the env's params were swept ({envs}): every config is the same algorithm on another env, so there is no best
config and no `best.yaml`. The table above and the figures show how the return changes with {envs}.{diverged}
"""
    if chosen is None:
        return f"""## Best config

No setting of {', '.join(spec.config_fields)} kept finite parameters at every value of {envs} (the table above marks
the configs that diverged): there is no best config and no `best.yaml`.{diverged}
"""
    d = return_decimals_of(summaries)
    if spec.env_fields:
        at = {env_values_label(m): m.iqm for m in members(chosen, summaries)}
        worst = worst_value(at)
        rule = (f"Rule: each setting of {', '.join(spec.config_fields)} is scored by the mean over the {len(at)} values of {envs} "
                f"of the IQM of its final returns over the {runs.plural(spec.seeds, 'seed')} at each value (each env value weighs "
                f"the same, so a collapse at one counts; ties: the higher mean AUC); a setting with non-finite parameters in "
                f"any run is not eligible.{diverged}\nBest: {chosen.point.label()} (configs "
                f"{', '.join(str(m.point.index) for m in members(chosen, summaries))}), score {chosen.iqm:.{d}f} "
                f"[{chosen.ci_low:.{d}f}, {chosen.ci_high:.{d}f}] ({interval_label(spec.seeds)}); its worst env value {worst}, "
                f"IQM {at[worst]:.{d}f}. `best.yaml` holds the config fields only: `rl-zoo train` makes the env with its default "
                f"params unless given `--env-kwargs`.")
    else:
        rule = (f"Rule: the highest IQM of final returns over the {runs.plural(spec.seeds, 'seed')} (ties: the higher mean AUC){full_only};\n"
                f"a config whose parameters became non-finite in any seed is not eligible.{diverged}\n"
                f"Best: config {chosen.point.index} ({chosen.point.label()}), IQM {chosen.iqm:.{d}f} [{chosen.ci_low:.{d}f}, {chosen.ci_high:.{d}f}].")
    return f"""## Best config

{rule}
{report_seeds_advice(spec)}{_budget_advice(yaml_block, spec, inputs.tuned_total_steps)}
The block below (also `best.yaml`) goes into `rl_zoo/hyperparams/{spec.algo}.yaml` (in place of its `{spec.env_id}`
block{_options_caveat(spec)}), after `rl-zoo train --set`, or as a file to `{train_command(spec)} --config {shlex.quote(str(out / "best.yaml"))}`
(on seeds the sweep did not use); it lists every swept field and every other field that differs from the defaults:

```yaml
{yaml_block.rstrip()}
```
"""




def _tuning_seeds_note(spec: SweepSpec) -> str:
    """" **Not held out: seeds 0, 1 are among those the tuned configs were chosen on ...**" when the sweep starts from a
    tuned config (``rl_zoo/hyperparams``) and its seeds include those it was tuned on, else empty: the report's returns
    flatter the configs there (docs/sweeps.md said the report says so; it did not)."""
    from rl_zoo.driver.spec import load_hyperparams
    from rl_zoo.seeds import tuning_seeds_said

    said = tuning_seeds_said(spec.seed, spec.seeds) if load_hyperparams(spec.algo, spec.env_id) else None
    return f"\n\n**Not held out: {said}.**" if said else ""


def report_seeds_advice(spec: SweepSpec, n: int = 10) -> str:
    """The report's line on where to measure the chosen config: ``n`` seeds the sweep did not use, from
    ``REPORT_SEED`` unless the sweep's own seeds overlap them (then from just after its last)."""
    last = spec.seed + spec.seeds - 1
    first = REPORT_SEED if last < REPORT_SEED or spec.seed >= REPORT_SEED + n else last + 1
    which = f"This seed ({spec.seed})" if spec.seeds == 1 else f"These seeds ({spec.seed}-{last})"
    text = (f"{which} chose it: report its return on seeds that played no part in the choice "
            f"(e.g. `{train_command(spec)} --seed {first} --seeds {n} --set ...`).")
    if last >= REPORT_SEED:
        text += (f" This sweep ran on seeds from {REPORT_SEED} up, which rl_zoo's benchmarks and experiments keep for "
                 f"reporting: the best config's figures here are those it was chosen on.")
    return text


def _options_caveat(spec: SweepSpec) -> str:
    """The report's word, for a sweep of an env with options, that the hyperparameters file's blocks are per env id."""
    if not spec.env_kwargs:
        return ""
    return (f", which `rl-zoo train --env {spec.env_id}` uses with any options: this block was chosen on "
            f"{spec.env_label}")


def _seeds_text(spec: SweepSpec) -> str:
    which = f"seed {spec.seed}" if spec.seeds == 1 else f"seeds {spec.seed}-{spec.seed + spec.seeds - 1}"
    return f"{runs.plural(spec.seeds, 'seed')} ({which})"


def _budget_advice(yaml_block: str, spec: SweepSpec, tuned_total_steps: int | None) -> str:
    """The report's word on ``total_timesteps`` in the best block when the sweep set it (``--total-steps`` or ``--set``)
    to another value than the tuned one, rather than swept it: pasted into the hyperparameters file, it
    would replace the tuned budget."""
    budget = spec.total_steps if spec.total_steps is not None else dict(spec.overrides).get("total_timesteps")
    if (budget is None or budget == tuned_total_steps or "total_timesteps" in spec.fields
            or "\n  total_timesteps:" not in "\n" + yaml_block):
        return ""
    tuned = f" ({tuned_total_steps:,})" if tuned_total_steps else ""
    return (f"\n`total_timesteps` in the block is this sweep's budget (`--total-steps` or `--set`), not a tuned value: leave it out "
            f"to keep the env's tuned budget{tuned}.")


def _budget_text(results: list[GroupResult]) -> str:
    """"Env steps per run: N", or per compiled group where their whole updates end at other env steps
    (``--static-groups`` over a field that sets the batch, such as ``num_envs``)."""
    steps = [int(r.env_steps[-1]) for r in results]
    if len(set(steps)) == 1:
        return f"Env steps per run: {steps[0]:,}"
    return "Env steps per run, by group: " + ", ".join(f"{i}: {n:,}" for i, n in enumerate(steps))


def _points_text(results: list[GroupResult]) -> str:
    points = [len(r.env_steps) for r in results]
    return f"{points[0]} points" if len(set(points)) == 1 else "points by group: " + ", ".join(f"{i}: {n}" for i, n in enumerate(points))


def values_of(summaries: list[ConfigSummary], name: str) -> list[Any]:
    return [dict(s.point.values)[name] for s in summaries]


def log_scale(values: list[Any]) -> bool:
    nums = [v for v in values if isinstance(v, (int, float)) and not isinstance(v, bool)]
    return len(nums) == len(values) and min(nums) > 0 and max(nums) / min(nums) >= 10
