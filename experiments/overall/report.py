"""The overall README.md and finding.md: ``readme_template.md`` filled in with the tables and numbers
of the benchmark's summary and the aggregates; the interpretation is written by hand in the template."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from experiments import common, reporting
from experiments.reporting import f2, num
from experiments.overall.compute import NAMES
from rl_zoo import runs
from rl_zoo.seeds import REPORT_SEEDS_SEEN

TEMPLATE = Path(__file__).with_name("readme_template.md")
HELD_OUT = common.REPORT_SEED  # seeds from here on played no part in tuning rl_zoo/hyperparams/ (benchmarks/grid.py)
IQM, GAP, AUC = "final score: IQM", "final score: optimality gap", "area under the curve: IQM"


def finding(numbers: dict, norm: dict, env_list: str, seed_set: str, marked: set = frozenset()) -> str:
    """finding.md: every claim from this run's numbers (it was a fixed text whose "no run below the
    threshold" and "one Acrobot seed" a rerun could contradict). ``numbers``: the aggregates over all
    envs and over the discrete ones; ``norm``: per algorithm, per env, the seeds' normalised scores; ``marked``: the
    cells whose config was chosen on some of these seeds (``tuned_on_these``), named at the end as the README's †
    (the finding quoted DQN's gap on "seeds 1000-1004" with no word that its Acrobot network was chosen on them)."""
    A, D = numbers.values()
    name = lambda a: NAMES.get(a, a)  # noqa: E731
    full = [a for a in A if len(norm.get(a, {})) == max(len(v) for v in norm.values())]  # on every env
    by_auc = sorted(full, key=lambda a: -A[a][AUC][0])
    below = {a: sum(int((np.asarray(x) < 1).sum()) for x in norm[a].values()) for a in full}
    runs = {a: sum(np.asarray(x).size for x in norm[a].values()) for a in full}
    top = by_auc[:2]
    best_gap = min(A[a][GAP][0] for a in full)
    both = [a for a in full if A[a][AUC][0] == A[by_auc[0]][AUC][0] and A[a][GAP][0] == best_gap]
    head = (f"{name(both[0])} was best on both counts" if both else "no algorithm was best on both counts")
    gaps = ", ".join(f2(A[a][GAP][0]) for a in top)
    counts = " and ".join(f"{below[a]} of {runs[a]}" for a in top)
    left = ("but left runs below the threshold" if all(below[a] for a in top) else
            "and left no run below the threshold" if not any(below[a] for a in top) else "and one of them left runs below the threshold")
    text = (f"On {env_list} ({seed_set}), {head}: {' and '.join(name(a) for a in top)} learned fastest over the {len(norm[top[0]])} "
            f"envs (area-under-curve IQM {', '.join(f2(A[a][AUC][0]) for a in top)}) {left} (optimality gap {gaps}; "
            f"{counts} runs below).")
    if "dqn" in D:
        d_below = sum(int((np.asarray(x) < 1).sum()) for x in norm["dqn"].values())
        others = [a for a in ("vpg", "trpo", "ppo") if a in D]
        peers = [a for a in top if a in D]
        other_gaps = ", ".join(f"{name(a)} {f2(D[a][GAP][0])}" for a in others)
        text += (f" DQN runs on the discrete envs only; there it left {'no run' if not d_below else f'{d_below} run(s)'} below "
                 f"the threshold (gap {f2(D['dqn'][GAP][0])}" + (f"; {other_gaps}" if other_gaps else "")
                 + f") with an area-under-curve IQM of {f2(D['dqn'][AUC][0])}"
                 + (" against " + " and ".join(f"{name(a)}'s {f2(D[a][AUC][0])}" for a in peers) if peers else "")
                 + " on the same envs.")
    rest = by_auc[2:]
    if len(rest) >= 2:
        text += (f" Over all {len(norm[top[0]])} envs " + " and ".join(f"{name(a)} ({f2(A[a][AUC][0])})" for a in rest[:-1])
                 + f" {'trails' if len(rest) == 2 else 'trail'} and {name(rest[-1])} is slowest ({f2(A[rest[-1]][AUC][0])}).")
    elif rest:
        text += f" Over all {len(norm[top[0]])} envs {name(rest[0])} is slowest ({f2(A[rest[0]][AUC][0])})."
    close = [(a, t) for a in rest for t in top if reporting.intervals_overlap(A[a][AUC], A[t][AUC])]  # PPO-KL's [0.86, 0.91] in PPO-clip's
    if close:
        text += (" That order is the point estimates': the area-under-curve intervals of "
                 + "; ".join(f"{name(a)} and {name(t)}" for a, t in close) + " overlap.")
    if marked:
        text += f" Not wholly held out (the README's † cells): {reporting.and_list(tuned_words(marked))}."
    return text


def below_one(v: float) -> str:
    """A normalised score below 1 as two decimals, or as many (up to 4, cut, not rounded) as keep it from
    reading "1.00" (an Acrobot run at 0.9995 was listed "at 1.00" under "below the threshold")."""
    if f2(v) != "1.00":
        return f2(v)
    digits = next((d for d in (3, 4) if math.floor(v * 10 ** d) < 10 ** d), 4)
    return f"{math.floor(v * 10 ** digits) / 10 ** digits:.{digits}f}"


def runs_below(scores: dict, finals: dict) -> str:
    """The runs of one algorithm that end below the threshold (normalised < 1), grouped by env."""
    words = {1: "one", 2: "two", 3: "three", 4: "four"}
    parts = []
    for e, x in scores.items():
        below = [(v, finals[e][i]) for i, v in enumerate(x) if v < 1]
        if not below:
            continue
        env = e.split("-")[0]
        if len(below) <= 2:
            vals = " and ".join(f"{below_one(v)} (return {num(r)})" for v, r in below)
            parts.append(f"{words[len(below)]} {env} seed{'s' if len(below) > 1 else ''} at {vals}")
        else:
            vs = [v for v, _ in below]
            parts.append(f"{len(below)} of {len(x)} {env} seeds ({below_one(min(vs))}–{below_one(max(vs))})")
    return "; ".join(parts)


def _ci2(v, bold: bool = False) -> str:
    return (f"**{f2(v[0])}**" if bold else f2(v[0])) + f" [{f2(v[1])}, {f2(v[2])}]"


def _span(xs: list[float], digits: int = 2) -> str:
    lo, hi = num(min(xs), digits), num(max(xs), digits)
    return lo if lo == hi else f"{lo}–{hi}"



#: (algo, env) cells whose config was chosen on runs of these seeds, and what was chosen and where
_DQN_ACROBOT = ("the 64x64 network of DQN and Double DQN on Acrobot, chosen to fit the time budget on the evidence "
                "that it learns Acrobot (experiments/overestimation, seeds 1000-1007)")
_SEEN = REPORT_SEEDS_SEEN[("double-dqn", "CartPole-v1")]  # the library's record
TUNED_ON = {("double-dqn", "CartPole-v1"): (_SEEN.seeds, _SEEN.what),
            ("dqn", "Acrobot-v1"): (range(1000, 1008), _DQN_ACROBOT),
            ("double-dqn", "Acrobot-v1"): (range(1000, 1008), _DQN_ACROBOT)}


def tuned_on_these(records, first_seed: int, seeds: int) -> set:
    """The cells of ``TUNED_ON`` this run has whose tuning seeds include some of this run's: marked † in the tables."""
    mine = set(range(first_seed, first_seed + seeds))
    return {cell for cell, (tuned, _) in TUNED_ON.items() if cell in records and mine & set(tuned)}


def marked_note(marked: set) -> str:
    """The note under the per-cell table on its † cells ("" if none)."""
    if not marked:
        return ""
    chosen = reporting.and_list(tuned_words(marked))
    return (f" † {chosen[0].upper()}{chosen[1:]}: each on runs of some of these seeds, so the cells marked, and their "
            f"algorithms' aggregates with them, are not wholly held out.")


def tuned_words(marked: set) -> list[str]:
    """What was chosen on these seeds, once each, in ``TUNED_ON``'s order."""
    return list(dict.fromkeys(TUNED_ON[cell][1] for cell in TUNED_ON if cell in marked))


def slowest_words(slowest: dict[str, str]) -> str:
    """The algorithm that trained longest on each env, in words ("DQN is the slowest on CartPole and Double DQN on
    Acrobot"; the README said DQN on both, where Double DQN's Acrobot cell took longer)."""
    by_algo: dict[str, list[str]] = {}
    for e, a in slowest.items():
        by_algo.setdefault(a, []).append(e.split("-")[0])
    parts = [f"{NAMES.get(a, a)}{' is the slowest' if i == 0 else ''} on {reporting.and_list(es)}"
             for i, (a, es) in enumerate(by_algo.items())]
    return reporting.and_list(parts)


def interval_labels(seeds: int) -> dict[str, str]:
    """How the README's tables name their intervals over ``seeds`` seeds per cell: a --quick run's 2 seeds were a
    "95% bootstrap CI", where a bootstrap over 2-3 values is their range (``reporting.interval_words``)."""
    if seeds >= reporting.BOOTSTRAP_SEEDS:
        return dict(cell_ci="95% bootstrap CI", aggregate_ci="95% stratified-bootstrap CI",
                    figure_cis="95% stratified-bootstrap CIs", figure_bands="95% stratified-bootstrap bands",
                    curve_band="a 95% bootstrap band")
    few = f"over {runs.plural(seeds, 'seed')} per env, too few for 95% intervals"
    return dict(cell_ci=reporting.interval_words(seeds)["ci"],
                aggregate_ci=f"a stratified bootstrap over {runs.plural(seeds, 'seed')} per env, too few for a 95% interval",
                figure_cis=f"stratified-bootstrap intervals ({few})", figure_bands=f"stratified-bootstrap bands ({few})",
                curve_band=reporting.interval_words(seeds)["band"])


def seed_status(first_seed: int, marked: set) -> str:
    """Whether this run's seeds are held out: from ``HELD_OUT`` up they are, but for a ``marked`` cell's."""
    if first_seed < HELD_OUT:
        return f"not held out: the configs were tuned on seeds below {HELD_OUT}"
    chosen = tuned_words(marked)
    return "held out, none of them played a part in choosing the configs" + (
        f", but for {reporting.and_list(chosen)}" if chosen else "")


def tables(s, numbers: dict, auc: dict, label: dict, marked: set = frozenset()) -> dict:
    """The generated tables: per cell, the aggregates, the mean area under the curve per env, the runs below 1;
    a ``marked`` cell (its config chosen on some of these seeds) gets a †."""
    table, norm = s.table, s.normalised
    envs = list(dict.fromkeys(r.env for r in table))
    algos = list(dict.fromkeys(r.algo for r in table))
    cell = {(r.algo, r.env): r for r in table}
    A, D = numbers.values()
    best_gap, best_auc = min(A[a][GAP][0] for a in A), max(A[a][AUC][0] for a in A)
    cells = ["| | " + " | ".join(NAMES.get(a, a) for a in algos) + " |", "|---" * (len(algos) + 1) + "|"]
    budget = {e: next(r.total_steps for r in table if r.env == e) for e in envs}
    cells += [f"| {e} ({budget[e] / 1000:g}k) | " + " | ".join(
        "skipped" if (a, e) not in cell else
        reporting.ci_text(cell[(a, e)].final_mean, cell[(a, e)].final_low, cell[(a, e)].final_high, brackets="[]")
        + (" †" if (a, e) in marked else "") for a in algos) + " |" for e in envs]
    agg = [f"| | IQM final score, {len(envs)} envs | optimality gap, {len(envs)} envs | IQM area under curve, "
           f"{len(envs)} envs | IQM area under curve, discrete envs |", "|---|---|---|---|---|"]
    agg += [f"| {label[a]} | {_ci2(A[a][IQM])} | {_ci2(A[a][GAP], A[a][GAP][0] == best_gap)} | "
            f"{_ci2(A[a][AUC], A[a][AUC][0] == best_auc)} | {_ci2(D[a][AUC]) if a in D else '–'} |" for a in A]
    aucs = ["| | " + " | ".join(envs) + " |", "|---" + "|---:" * len(envs) + "|"]
    aucs += [f"| {label[a]} | " + " | ".join(f2(np.mean(auc[a][e])) if e in auc[a] else "–" for e in envs) + " |"
             for a in algos]
    finals = {a: {e: cell[(a, e)].final for e in envs if (a, e) in cell} for a in algos}
    below = [f"* {label[a]} (gap {f2(A[a][GAP][0])}): {runs_below(norm[a], finals[a]) or 'no run below 1'}." for a in A]
    return dict(cell_table="\n".join(cells), aggregate_table="\n".join(agg), auc_table="\n".join(aucs),
                below="\n".join(below))


def gap_parts(scores: dict) -> str:
    """What one algorithm's runs below the threshold add to its optimality gap (``mean(max(1 - score, 0))`` over its
    runs, Agarwal et al. 2021): its worst run's share, and the others' (the README's words were fixed numbers)."""
    x = np.concatenate([np.ravel(v) for v in scores.values()]) if scores else np.zeros(0)
    below = np.sort(x[x < 1])
    if below.size == 0:
        return "no run below the threshold"
    share = lambda v: f"{v:.3f}" if v >= 0.01 else f"{v:.4f}"  # noqa: E731 (0.0001 read 0.000)
    worst = f"over its {x.size} runs, its worst, at {below_one(below[0])}, adds {share((1 - below[0]) / x.size)}"
    rest, added = below[1:], share(float(np.sum(1 - below[1:])) / x.size)
    if rest.size == 0:
        return worst + "; no other run is below the threshold"
    return worst + ("; the other run below the threshold " if rest.size == 1 else f"; the {rest.size} others below it ") + (
        f"{'adds' if rest.size == 1 else 'add'} {added}")


def fields(bench: Path, s, numbers: dict, auc: dict, info: dict) -> dict:
    from rl_zoo import benchmark

    meta = benchmark.read_grid_meta(bench)
    table, norm = s.table, s.normalised
    envs = list(dict.fromkeys(r.env for r in table))
    algos = list(dict.fromkeys(r.algo for r in table))
    cell = {(r.algo, r.env): r for r in table}
    records = {(r.algo, r.env): r for r in s.records}
    n_envs = {a: len(norm.get(a, {})) for a in algos}
    label = {a: NAMES.get(a, a) if n_envs[a] == len(envs) else f"{NAMES.get(a, a)} ({n_envs[a]} envs)" for a in algos}
    A, D = numbers.values()
    scores = np.concatenate([np.ravel(x) for v in norm.values() for x in v.values()])
    refs = [benchmark.ENV_REFERENCES[e] for e in envs]
    onp = [a for a in algos if a not in ("dqn", "double-dqn")]
    wall = []
    for e in envs:
        t = f"{e.split('-')[0]}: on-policy {_span([cell[(a, e)].record.result.run_s for a in onp if (a, e) in cell])} s"
        dq = [cell[(a, e)].record.result.run_s for a in ("dqn", "double-dqn") if (a, e) in cell]
        wall.append(t + (f", DQN/Double DQN {_span(dq)} s" if dq else ""))
    slow = {e: max((a for a in algos if (a, e) in cell), key=lambda a: cell[(a, e)].record.result.run_s) for e in envs}
    dqn = records[("dqn", "CartPole-v1")].spec.config if ("dqn", "CartPole-v1") in records else {}  # the README quotes CartPole
    failed = [r for r in s.records if r.status in ("failed", "running")]
    marked = tuned_on_these(records, info.get("first_seed", 0), max(r.n_seeds for r in table))
    f = dict(
        quick_note="\n**Smoke run (`--quick`): tiny budgets, 2 seeds. Not a result.**\n" if info.get("quick") else "",
        minutes=reporting.fmt_minutes(info["wall_s"]), run_line=reporting.run_line(info["wall_s"], info["machine"]),
        compilation_cache=info.get("compilation_cache", "on"), jobs=meta.jobs,
        resumed="; the grid was resumed from an earlier run's finished cells" if info.get("resumed") else "",
        sum_cells=f"{sum(r.cell_wall_s or 0 for r in s.records):,.0f}",
        algos=reporting.and_list(NAMES.get(a, a) for a in algos), envs=reporting.and_list(envs),
        env_list=reporting.and_list(e.split("-")[0] for e in envs),
        budgets=", ".join(f"{e.split('-')[0]} {next(r.total_steps for r in table if r.env == e) / 1000:g}k"
                          for e in envs),
        seeds="/".join(map(str, sorted({r.n_seeds for r in table}))), eval_episodes=meta.eval_episodes,
        seed_set=common.seeds_text(info.get("first_seed", 0), max(r.n_seeds for r in table)),
        seed_status=seed_status(info.get("first_seed", 0), marked),
        grid_points=(meta.points or 20) + 1,
        skipped="; ".join(f"{NAMES.get(r.algo, r.algo)} on {r.env}" for r in s.records if r.status == "skipped") or "none",
        failed=("\n* **Failed or unfinished:** " + "; ".join(f"{NAMES.get(r.algo, r.algo)} on {r.env}: "
                                                           f"{r.reason or 'interrupted'}" for r in failed) + ".") if failed else "",
        randoms=" / ".join(num(r.random, 4) for r in refs), thresholds=" / ".join(num(r.solved, 4) for r in refs),
        env_shorts=", ".join(e.split("-")[0] for e in envs),
        curve_images="\n\n".join(f"  ![{e} learning curves](curves_{e}.png)" for e in envs),
        iqm_lo=f2(min(A[a][IQM][0] for a in A)), iqm_hi=f2(max(A[a][IQM][0] for a in A)),
        n_solved=int((scores >= 1).sum()), n_runs=scores.size, wall_clock="; ".join(wall), slowest=slowest_words(slow),
        dqn_grad_per_step=f"{dqn.get('gradient_steps', 1) / (dqn.get('train_frequency', 1) * dqn.get('num_envs', 1)):g}",
        dqn_hidden=dqn.get("hidden_size"),
        marked_note=marked_note(marked), marked=marked,
        **interval_labels(min(r.n_seeds for r in table)),
        **tables(s, numbers, auc, label, marked))
    f["trpo_gap_parts"] = gap_parts(norm.get("trpo", {}))
    for a in NAMES:  # "–" for an algorithm that is not in the grid
        f.update({f"{m}_{a.replace('-', '_')}": "–" for m in ("iqm", "gap", "auc", "gap_ci", "dauc", "dgap")})
    for a in A:
        k = a.replace("-", "_")
        f.update({f"iqm_{k}": f2(A[a][IQM][0]), f"gap_{k}": f2(A[a][GAP][0]), f"auc_{k}": f2(A[a][AUC][0]),
                  f"gap_ci_{k}": f"[{f2(A[a][GAP][1])}, {f2(A[a][GAP][2])}]",
                  f"dauc_{k}": f2(D[a][AUC][0]) if a in D else "–", f"dgap_{k}": f2(D[a][GAP][0]) if a in D else "–"})
    return f


def write(out: Path, bench: Path, s, numbers: dict, auc: dict, info: dict) -> str:
    """Write README.md and finding.md into ``out``; returns the finding."""
    f = fields(bench, s, numbers, auc, info)
    # on tuning seeds (--seed 0): marked atop the README and in the finding, as the other experiments mark theirs
    banner = common.tuning_banner(info.get("first_seed"), max(r.n_seeds for r in s.table))
    reporting.fill_template(TEMPLATE, out / "README.md", f, banner)
    return reporting.write_finding(out, finding(numbers, s.normalised, f["env_list"], f["seed_set"], f["marked"]), smoke=bool(f["quick_note"]),
                                   tuning=bool(banner))
