"""The stability experiment's README.md and finding.md: ``readme_template.md`` filled in with the
tables and numbers of a run (the interpretation around them is written by hand in the template)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from experiments import common, reporting
from experiments.reporting import and_list, sig2, short_sci
from rl_zoo import runs
from rl_zoo.runs import atomic_write_text
from experiments.stability.compute import ENV, KL_BINS, LRS, MAX_KLS, TOTAL, Sweep, bin_tests, kl_bins, settings

TEMPLATE = Path(__file__).with_name("readme_template.md")
FINDING = (
    "VPG was reliable {vpg_reliable_at} on CartPole; {vpg_collapse}. TRPO bounds the KL (runs with an update above "
    "max_kl: {trpo_over}), {trpo_collapse}. PPO-clip {clip_kept}. {top_collapse}; below it, {holds_below} "
    "({seeds} seeds per setting, {seeds_text}).")


def finding_clauses(f: dict, reliable: list[dict], tail: list[dict], bad: list[dict], good: list[dict]) -> dict:
    """The clauses of ``FINDING``, each worded for its empty case too (a reduced run can have no reliable
    setting, no collapse or no run in the top KL bin): ``f`` holds the numbers, the lists the settings
    (VPG's reliable window, VPG's collapsing tail, TRPO's collapsing max_kl values, PPO-clip's good window)."""
    return dict(
        vpg_reliable_at=f"at {_rates(f['vpg_reliable'])}" if reliable else "at none of the learning rates",
        vpg_collapse=(f"from {f['vpg_tail']} up, its unbounded steps (mean KL per update up to {f['vpg_kl_hi']}) made half "
                      f"or more of its seeds collapse after solving" if tail else
                      f"at no learning rate did half or more of its seeds collapse after solving (mean KL per update up "
                      f"to {f['vpg_kl_hi']})"),
        trpo_collapse=(f"but with max_kl {f['trpo_bad']} half or more of its seeds collapsed after solving "
                       f"({f['trpo_bad_counts']})" if bad else
                       "and at no max_kl did half or more of its seeds collapse after solving"),
        clip_kept=(f"was reliable at {_rates(f['clip_reliable'])}" if f["clip_reliable"] != "none of the values"
                   else "was reliable at none of the learning rates"),
        top_collapse=(f"Of the runs of any algorithm with a mean KL above {f['top_bin']} per update that solved the task, "
                      f"{f['top_k']}/{f['top_n']} collapsed" if f["top_n"] else
                      f"No run of any algorithm with a mean KL above {f['top_bin']} per update solved the task"),
    )


def kl_against_clip(ppo_kl: list[dict], clip: list[dict]) -> dict[str, str]:
    """The learning rates at which PPO-KL's solved runs collapsed more often (``kl_more``) and less often (``kl_less``)
    than PPO-clip's at the same rate (the README said "at most" from one run; the next showed 3 of 6)."""
    def share(s):
        return s["fell"] / s["reached"] if s["reached"] else None

    pairs = [(short_sci(k["value"]), share(k), share(c)) for k, c in zip(ppo_kl, clip) if share(k) is not None and share(c) is not None]
    more, less = [lr for lr, a, b in pairs if a > b], [lr for lr, a, b in pairs if a < b]
    return dict(kl_more=f"{len(more)} of {len(pairs)} learning rates ({', '.join(more)})" if more else f"none of {len(pairs)} learning rates",
                kl_less=f"{len(less)} ({', '.join(less)})" if less else "none")


def top_against_below(bins: dict[str, list[tuple[int, int]]]) -> dict[str, str]:
    """Per algorithm, its solved runs' collapses above the top KL bin's edge against below it (Fisher's exact test,
    Holm-corrected over the algorithms): ``top_where``, where large steps go with collapse ("in VPG, PPO-clip and
    TRPO, not in PPO-KL"), and ``top_vs_below``, each algorithm's counts and p. A claim for "every algorithm" read
    off the pooled top bin held for three of four (PPO-KL: 3/5 above, 23/43 below, p = 1)."""
    rows = [(name, b[-1], (sum(c for c, _ in b[:-1]), sum(n for _, n in b[:-1]))) for name, b in bins.items()]
    rows = [r for r in rows if r[1][1] and r[2][1]]  # runs on both sides to compare
    pvals = [common.fisher_p(top[0], top[1], below[0], below[1]) for _, top, below in rows]
    rises = [name for (name, top, below), hold in zip(rows, common.holm(pvals)) if hold and top[0] / top[1] > below[0] / below[1]]
    others = [name for name, _, _ in rows if name not in rises]
    where = ("in no algorithm" if not rises else "in every algorithm" if not others
             else f"in {and_list(rises)}, not in {and_list(others)}")
    detail = "; ".join(f"{name} {top[0]}/{top[1]} above, {below[0]}/{below[1]} below (Fisher p = {p:.2g})"
                       for (name, top, below), p in zip(rows, pvals))
    return dict(top_where=where, top_vs_below=detail or "no algorithm has solved runs on both sides")


def _window(per: list[dict], key: str) -> list[dict]:
    """The longest run of consecutive settings with ``key`` true."""
    best, cur = [], []
    for s in per:
        cur = cur + [s] if s[key] else []
        if len(cur) > len(best):
            best = cur
    return best


def _rates(span: str) -> str:
    """"learning rates 3e-3–3e-2" for a span, "learning rate 3e-2" for one value (it said "rates 3e-2")."""
    return f"learning rate{'s' if '–' in span else ''} {span}"


def _span(win: list[dict]) -> str:
    if not win:
        return "none of the values"
    return short_sci(win[0]["value"]) if len(win) == 1 else f"{short_sci(win[0]['value'])}–{short_sci(win[-1]['value'])}"


def _decades(win: list[dict]) -> float:
    """How many decades a window of settings spans (0 for one setting or none)."""
    return float(np.log10(win[-1]["value"] / win[0]["value"])) if win else 0.0


def vpg_range_words(vpg_good: list[dict], clip_good: list[dict]) -> str:
    """VPG's window of mean final return >= 475 against PPO-clip's, in words: the README said "as wide or wider"
    whatever the windows were (1 decade against PPO-clip's 1.5 in the committed run)."""
    v, c = _decades(vpg_good), _decades(clip_good)
    span = f"{v:.1f} decades: lr {_span(vpg_good)}" if vpg_good else "no learning rate"
    if v >= c - 0.05:
        return f"as wide or wider ({span}), but that hides its collapses"
    return f"narrower ({span}, against PPO-clip's {c:.1f}), and even that hides its collapses"


def _half_or_more(s: dict) -> bool:
    """Half or more of the seeds that solved the task collapsed afterwards."""
    return s["reached"] > 0 and s["fell"] >= s["reached"] / 2


def _tail(per: list[dict]) -> list[dict]:
    """The largest values of the sweep, at each of which half or more of the seeds that solved it collapsed."""
    tail = []
    for s in reversed(per):
        if not _half_or_more(s):
            break
        tail.insert(0, s)
    return tail


def _final_cell(s: dict) -> str:
    m, lo, hi = s["final"]
    return f"{m:.0f}" if lo == hi else f"{m:.0f} ({lo:.0f}–{hi:.0f})"


def _collapse_cell(s: dict) -> str:
    if s["reached"] == 0:
        return "— (none solved)"
    return f"{s['fell']}/{s['reached']} solved" if s["reached"] < s["n"] else f"{s['fell']}/{s['n']}"


def settings_table(S: dict[str, list[dict]], results: dict[str, Sweep]) -> str:
    rows = []
    for name, per in S.items():
        field = "lr" if results[name].field == "learning_rate" else results[name].field
        rows += [f"| {name} | {field} {short_sci(s['value'])} | {_final_cell(s)} | {s['drop']:.0f} | {sig2(s['kl'])} | "
                 f"{_collapse_cell(s)} |" for s in per]
    return "\n".join(rows)


def bin_labels() -> list[str]:
    return ([f"< {sig2(KL_BINS[0][1])}"] + [f"{sig2(lo)} – {sig2(hi)}" for lo, hi in KL_BINS[1:-1]]
            + [f"≥ {sig2(KL_BINS[-1][0])}"])


def tests_text(tests: list[dict]) -> str:
    """The Fisher tests (``compute.bin_tests``) of the bins below the top one, in words: how many, which
    had p < 0.05, and which of those hold after Holm's correction over these tests."""
    below = [t for t in tests if t["bin"] < len(KL_BINS) - 1]
    top = sig2(KL_BINS[-1][0])
    if not below:
        return f"Below {top}, no bin holds solved runs of two algorithms, so no pair can be compared there"
    labels = bin_labels()
    keep = dict(zip(map(id, below), common.holm([t["p"] for t in below])))

    def one(t):
        (ka, na), (kb, nb) = t["a_counts"], t["b_counts"]
        p = f"{t['p']:.2g}" if t["p"] >= 1e-3 else f"{t['p']:.1e}"
        return (f"{labels[t['bin']]}: {t['a']} {ka}/{na} vs {t['b']} {kb}/{nb}, p = {p}"
                + ("" if keep[id(t)] else ", not after Holm's correction"))

    low = sorted((t for t in below if t["p"] < 0.05), key=lambda t: t["p"])
    head = (f"Below {top}, Fisher's exact test (two-sided) of the collapsed fraction of each pair of algorithms "
            f"within a bin, {len(below)} test{'s' if len(below) != 1 else ''} with Holm's correction over them: ")
    if not low:
        return head + "no pair differs at p < 0.05"
    pairs = f"{len(low)} pairs differ" if len(low) != 1 else "1 pair differs"
    return head + f"{pairs} at p < 0.05 (" + "; ".join(map(one, low)) + ")"


def holds_text(tests: list[dict]) -> str:
    """The differences between algorithms below the top KL bin that hold after Holm's correction over
    those tests, in words (for the finding)."""
    below = [t for t in tests if t["bin"] < len(KL_BINS) - 1]
    ps = [t["p"] for t in below]
    held = [(t, adj) for t, keep, adj in zip(below, common.holm(ps), common.holm_adjusted(ps)) if keep]
    if not held:
        return "no difference between algorithms at equal KL holds after Holm's correction of Fisher's exact tests"
    labels = bin_labels()
    return "; ".join(f"at a mean KL of {labels[t['bin']]}, {t['a']} collapsed in {t['a_counts'][0]}/{t['a_counts'][1]} "
                     f"and {t['b']} in {t['b_counts'][0]}/{t['b_counts'][1]} (Fisher p = {t['p']:.2g}; Holm-adjusted "
                     f"over {len(below)} tests, p = {adj:.2g})" for t, adj in held)


def bins_table(bins: dict[str, list[tuple[int, int]]]) -> str:
    labels = bin_labels()
    return "\n".join(f"| {lab} | " + " | ".join(f"{b[i][0]}/{b[i][1]}" if b[i][1] else "–" for b in bins.values()) + " |"
                     for i, lab in enumerate(labels))


def bad_settings(swept: list[dict], bad: list[dict]) -> str:
    """The swept values where half or more of the solved seeds collapsed: "≥ X" where they are every value from X
    up, else each named (the "≥" read 3e-3 to 0.3 where only 3e-3 and 0.3 collapsed, 1e-2 to 0.1 reliable)."""
    if not bad:
        return "none"
    if bad == swept[swept.index(bad[0]):]:
        return "≥ " + short_sci(bad[0]["value"])
    return and_list([short_sci(s["value"]) for s in bad])


def largest_kl(swept: list[dict]) -> str:
    """The largest mean KL per update of the settings, or that one is not finite (``max`` skipped a diverged
    setting's NaN and named a smaller one)."""
    kls = [s["kl"] for s in swept]
    return sig2(max(kls)) if all(np.isfinite(kls)) else "not finite (a run diverged)"


def fields(results: dict[str, Sweep], info: dict, seeds: int, quick: bool) -> dict:
    """Every ``{field}`` of the template and of ``FINDING``."""
    S, bins = settings(results), kl_bins(results)
    vpg, trpo, clip, ppo_kl = S["VPG"], S["TRPO"], S["PPO-clip"], S["PPO-KL"]
    cfg = {n: r.config for n, r in results.items()}
    v, p, k, tr = cfg["VPG"], cfg["PPO-clip"], cfg["PPO-KL"], cfg["TRPO"]
    n_updates, n_evals = results["VPG"].kl.shape[-1], results["VPG"].returns.shape[-1]
    reliable, tail, bad, good = _window(vpg, "reliable"), _tail(vpg), [s for s in trpo if _half_or_more(s)], _window(clip, "good")
    upper = ppo_kl[1:]  # PPO-KL above its smallest learning rate
    kl_lo, kl_hi = min(s["kl"] for s in upper), max(s["kl"] for s in upper)
    target = float(k.kl_target)
    top = [b[-1] for b in bins.values()]
    f = dict(
        # a word on the recorded run written by hand beside its numbers (run_info.json's history_note): a new run's
        # record has none, so that it is not said of another run (the template held it, and every README repeated it)
        history_note=info.get("history_note", ""),
        quick_note=f"\n**Smoke run (`--quick`): small budgets, {runs.plural(seeds, 'seed')}. Not a result.**\n" if quick else "",
        seeds_text=common.seeds_text(info.get("first_seed"), seeds), bin_tests=tests_text(bin_tests(bins)),
        sweep_commands="\n".join(f"    {c}" for c in info.get("sweeps", [])),
        minutes=f"{info['wall_s'] / 60:.1f}", wall_s=f"{info['wall_s']:.0f}", command=info["command"],
        machine=info["machine"], algo_seconds=", ".join(f"{n} {s:.0f} s" for n, s in info["seconds"].items()),
        env=ENV, lrs=", ".join(map(short_sci, LRS)), max_kls=", ".join(map(short_sci, MAX_KLS)), n_values=len(LRS),
        seeds=seeds, **reporting.interval_words(seeds), total=f"{v.total_timesteps:,}", batch=v.num_envs * v.num_steps, num_envs=v.num_envs,
        num_steps=v.num_steps, n_updates=n_updates, gamma=f"{v.gamma:g}",
        vpg_value_fit=f"{v.value_iters} " + ("full-batch" if v.value_minibatches == 1 else f"{v.value_minibatches}-minibatch"),
        vpg_lambda=f"{v.gae_lambda:g}", ppo_epochs=p.update_epochs, ppo_minibatches=p.num_minibatches,
        ppo_lambda=f"{p.gae_lambda:g}", clip_eps=f"{p.clip_eps:g}", kl_target=f"{target:g}", cg_iters=tr.cg_iters,
        cg_damping=f"{tr.cg_damping:g}", trpo_lambda=f"{tr.gae_lambda:g}", eval_episodes=info.get("eval_episodes", 5),
        per_eval=n_updates // (n_evals - 1), n_evals=n_evals,
        n_runs=sum(r.returns.shape[0] * r.returns.shape[1] for r in results.values()),
        settings_table=settings_table(S, results), bins_table=bins_table(bins),
        vpg_kl_lo=sig2(min(s["kl"] for s in vpg)), vpg_kl_hi=largest_kl(vpg),
        vpg_reliable=_span(reliable), vpg_tail=short_sci(tail[0]["value"]) if tail else "none",
        trpo_ratio_lo=f"{min(s['kl_ratio_lo'] for s in trpo):.2f}", trpo_ratio_hi=f"{max(s['kl_ratio_hi'] for s in trpo):.2f}",
        trpo_over=sum(s["over_radius"] for s in trpo), trpo_reliable=and_list([short_sci(s["value"]) for s in trpo if s["reliable"]] or ["none"]),
        trpo_bad=bad_settings(trpo, bad),
        trpo_bad_counts=and_list([f"{s['fell']}/{s['reached']}" for s in bad] or ["none"]),
        clip_good=_span(good), clip_reliable=_span(_window(clip, "reliable")), vpg_range=vpg_range_words(_window(vpg, "good"), good),
        holds_below=holds_text(bin_tests(bins)), clip_decades=f"{_decades(good):.1f}" if good else "0",
        clip_kl_lo=sig2(min(s["kl"] for s in good)) if good else "–", clip_kl_hi=sig2(max(s["kl"] for s in good)) if good else "–",
        clip_kl_max_last=sig2(clip[-1]["kl_max"]),
        kl_upper_from=short_sci(upper[0]["value"]), kl_mean_lo=sig2(kl_lo), kl_mean_hi=sig2(kl_hi),
        kl_ratio_lo=f"{kl_lo / target:.1f}", kl_ratio_hi=f"{kl_hi / target:.1f}",
        kl_biggest=f"{max(s['kl_max'] for s in ppo_kl):.2g}",
        kl_mean_median=f"{min(s['kl'] / s['kl_median'] for s in ppo_kl):.1f}–"
                       f"{max(s['kl'] / s['kl_median'] for s in ppo_kl):.1f}",
        top_bin=sig2(KL_BINS[-1][0]), top_k=sum(c for c, _ in top), top_n=sum(n for _, n in top),
        top_per_algo=", ".join(f"{name} {b[-1][0]}/{b[-1][1]}" for name, b in bins.items() if b[-1][1]),
        **top_against_below(bins), **kl_against_clip(ppo_kl, clip),
    )
    return f | finding_clauses(f, reliable, tail, bad, good)


#: in a reduced run's README, this note replaces the hand-written reading of the tables (written for 8 seeds x 200k steps)
REDUCED = """Reading the tables: **this is a reduced run** ({seeds} seeds, {total} env steps per run, instead of the
full 8 seeds x 200,000), run for the CPU time a shared 2-core machine had left. The hand-written
reading of the tables in the full experiment's README was written for the full run and is not
repeated here: with {seeds} seeds per setting the tables above show tendencies, not results.

"""


def reduced(results: dict[str, Sweep], seeds: int) -> bool:
    """A run smaller than the experiment's design (8 seeds, ``TOTAL`` env steps)."""
    return seeds < 8 or int(results["VPG"].steps[-1]) < TOTAL - 1024


def write(out: Path, results: dict[str, Sweep], info: dict, seeds: int, quick: bool) -> str:
    """Write README.md and finding.md into ``out``; returns the finding. A reduced (or ``--quick``) run's
    README keeps the tables and figures but not the hand-written reading (`REDUCED`)."""
    f = fields(results, info, seeds, quick)
    banner = common.tuning_banner(info.get("first_seed"), seeds)
    path = reporting.fill_template(TEMPLATE, out / "README.md", f, banner)
    finding = FINDING.format(**f)
    if quick or reduced(results, seeds):
        text = path.read_text()
        start, end = text.index("Reading the tables"), text.index("**Run time:**")
        atomic_write_text(path, text[:start] + REDUCED.format(**f) + text[end:])
        if not quick:  # a --quick one says "Smoke run (`--quick`), not a result" as the other experiments' do
            finding = f"Reduced run ({seeds} seeds, {f['total']} env steps): " + finding
    return reporting.write_finding(out, finding, smoke=quick, tuning=bool(banner))
