"""The overestimation README.md and finding.md: ``readme_template.md`` filled in with the tables and
numbers of a run's ``summary.json``; the interpretation around them is written by hand in the template."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from experiments import common, reporting
from rl_zoo import stats
from experiments.reporting import signed

TEMPLATE = Path(__file__).with_name("readme_template.md")
FINDING = (
    "Tabular Q-learning overestimates badly on Sutton & Barto's maximisation-bias MDP: it picks \"left\" "
    "{q_peak_pct0}% of the time at episode {q_peak_episode} and {q_left_end0}% at episode {episodes}, against an "
    "optimal {optimal}%; Double Q-learning is at {d_left_end0}% by episode {episodes}. Deep (last quarter of "
    "training, {seeds_text}, both with DQN's tuned config; estimate minus true value, mean with {band}): "
    "{deep_finding}")


def error_words(t, seeds: int) -> str:
    """What a mean error with its CI ``(m, lo, hi)`` over ``seeds`` seeds shows: over-, under-estimation or neither;
    with 2 or 3 seeds no verdict (the interval is their range, ``stats.interval_name``: a quick run's "overestimates
    by +68.0 [+68.0, +68.0]" read off 2 seeds)."""
    if seeds <= 3:
        return f"errs by {ci(t)} (the range of {seeds} seed{'s' if seeds > 1 else ''}: too few for a verdict)"
    if t[1] > 0:
        return f"overestimates by {ci(t)}"
    if t[2] < 0:
        return f"underestimates by {ci(t)}"
    return f"has an error of {ci(t)}, not significant"


def difference_words(t, p: float, seeds: int) -> str:
    """What DQN's error minus Double DQN's ``(m, lo, hi)`` shows, the verdict by a two-sample permutation test
    (``p``, ``rl_zoo.stats.permutation_p``): a percentile-bootstrap interval is too narrow with a few seeds (with
    8, Acrobot's +4.4 [+0.2, +9.1] excluded 0 at a permutation p of 0.09). It compares errors (each arm's
    estimate minus its own greedy policy's true value), not estimates: the two greedy policies differ, and so
    do their true values."""
    if p != p:  # NaN: a seed's error is not finite (a diverged run)
        return f"DQN's error minus Double DQN's is {ci(t)}: not tested, as a seed's error is not finite"
    said = f"DQN's error minus Double DQN's is {ci(t)} (two-sample permutation test: p = {p:.2g})"
    if p < 0.05 and t[0] > 0:
        return f"{said}: Double DQN's estimate sits significantly lower against its own truth (a signed difference, not a smaller error)"
    if p < 0.05:
        return f"{said}: Double DQN's estimate sits significantly higher against its own truth (a signed difference, not a larger error)"
    edge = ", though the bootstrap interval, too narrow with few seeds, excludes 0" if t[1] > 0 or t[2] < 0 else ""
    return f"{said}: not significant with {seeds} seeds{edge}"


def difference(a: dict, b: dict) -> tuple[tuple[float, float, float], float]:
    """DQN's last-quarter error minus Double DQN's, per seed: its mean with a bootstrap CI, and the permutation p."""
    x, y = a["overestimate_last_quarter_raw"], b["overestimate_last_quarter_raw"]
    return common.diff_ci(x, y), stats.permutation_p(x, y)


def true_values(a: dict, b: dict) -> str:
    """Both arms' true values (last quarter): each arm is measured against its own greedy policy."""
    return (f"{signed(a['true_value_last_quarter'], '.0f')} for DQN's greedy policy, "
            f"{signed(b['true_value_last_quarter'], '.0f')} for Double DQN's")


def per_seed_errors(x: dict) -> list[float]:
    """One arm's per-seed estimation errors as measured (``_raw``; an older record: its 2-decimal copy): the median
    of the rounded copy printed Double DQN's Acrobot -2.5535 as -2.5, rounded twice."""
    raw = x.get("overestimate_last_quarter_raw")
    return list(x["overestimate_last_quarter_per_seed"]) if raw is None else np.ravel(raw).astype(float).tolist()


def env_bullet(env_id: str, a: dict, b: dict, seeds: int) -> str:
    """The README's bullet on one env, every verdict read off the intervals (no hand-written verdicts
    to go stale when the run is repeated), the per-seed spread and median beside each mean."""
    def one(name, x):
        per_seed = per_seed_errors(x)
        return (f"{name} {error_words(x['overestimate_last_quarter'], seeds)} ({x['seeds_overestimating']} of {seeds} seeds "
                f"above the truth, {signed(min(per_seed), '+.1f')} to {signed(max(per_seed), '+.1f')}, median "
                f"{signed(float(np.median(per_seed)), '+.1f')})")

    return (f"On {env_id} (true values about {true_values(a, b)}), {one('DQN', a)}; "
            f"{one('Double DQN', b)}. {difference_words(*difference(a, b), seeds)}.")


def finding_sentence(env_id: str, a: dict, b: dict, seeds: int) -> str:
    return (f"On {env_id} (true values about {true_values(a, b)}), DQN "
            f"{error_words(a['overestimate_last_quarter'], seeds)} and Double DQN {error_words(b['overestimate_last_quarter'], seeds)}; "
            f"{difference_words(*difference(a, b), seeds)}.")


def final_returns_words(deep: dict, env_ids: list[str]) -> str:
    """Whether the final greedy returns' 95% intervals separate DQN from Double DQN, env by env."""
    parts = []
    for e in env_ids:
        a, b = deep[f"DQN on {e}"]["final_greedy_return_ci"], deep[f"Double DQN on {e}"]["final_greedy_return_ci"]
        verdict = ("no interval: a seed's return is not a number" if not (reporting.interval_known(a) and reporting.interval_known(b))
                   else "overlap" if reporting.intervals_overlap(a, b) else "do not overlap")
        parts.append(f"{e.split('-')[0]} {ci(a, '.0f')} vs {ci(b, '.0f')} ({verdict})")
    return "; ".join(parts)


def ci(t, spec: str = "+.1f") -> str:
    return f"{signed(t[0], spec)} [{signed(t[1], spec)}, {signed(t[2], spec)}]"


def tabular_table(tab: dict) -> str:
    return "\n".join(
        f"| {name} | {r['peak_left_pct']:.1f}% ({r['peak_episode']}) | {r['left_pct_at_300']:.1f}% | "
        f"{r['left_pct_last_50']:.1f}% | {signed(r['q_a_left_peak'], '+.3f')} | {signed(r['max_q_b_peak'], '+.3f')} |"
        for name, r in ((n, tab[n]) for n in ("Q-learning", "Double Q-learning")))


def deep_table(deep: dict, env_ids: list[str], seeds: int) -> str:
    def cell(x):  # bold: the interval excludes 0 (with 4 seeds or more: below, it is the seeds' range)
        t = x["overestimate_last_quarter"]
        return f"**{ci(t)}**" if seeds > 3 and (t[1] > 0 or t[2] < 0) else ci(t)

    return "\n".join(
        f"| {e} (true value ≈ {signed(a['true_value_last_quarter'], '.0f')} / {signed(b['true_value_last_quarter'], '.0f')}) "
        f"| {cell(a)} | {cell(b)} | "
        f"{signed(a['final_greedy_return_ci'][0], '.0f')} / {signed(b['final_greedy_return_ci'][0], '.0f')} |"
        for e, a, b in ((e, deep[f"DQN on {e}"], deep[f"Double DQN on {e}"]) for e in env_ids))


def warmup_words(config: dict) -> str:
    """How many of the updates only collect (``learning_starts``) before the first gradient step."""
    from rl_zoo.algos import dqn

    n = dqn.Config(**config).num_warmup_updates
    if n == 0:
        return "every one trained"
    return f"the first {n} only collecting until `learning_starts` {config['learning_starts']:,}"


def double_dqn_file_note(differs: dict | None) -> str:
    """What Double DQN's own tuned file (``double-dqn.yaml``) would change in the shared config."""
    if differs is None:
        return "not compared in this run"
    if not differs:
        return "the same as dqn.yaml's"
    return ("it differs in " + reporting.and_list([f"`{k}` ({v})" for k, v in differs.items()])
            + ", not used here")


def tabular_fields(tab: dict) -> dict:
    s, q, d = tab["setup"], tab["Q-learning"], tab["Double Q-learning"]
    optimal = 50.0 * s["epsilon"]
    return dict(
        num_b_actions=s["num_b_actions"], true=signed(s["reward_mean"], "g"), reward_std=f"{s['reward_std']:g}",
        optimal=f"{optimal:g}", epsilon=f"{s['epsilon']:g}", alpha=f"{s['alpha']:g}", gamma=f"{s['gamma']:g}",
        episodes=s["episodes"], last50=f"{s['episodes'] - 49}–{s['episodes']}", tab_seeds=f"{s['seeds']:,}",
        tab_halfwidth=f"{max(q['left_pct_ci_halfwidth_max'], d['left_pct_ci_halfwidth_max']):.1f}",
        tabular_table=tabular_table(tab), tab_seconds=f"{q['seconds'] + d['seconds']:.0f}",
        q_max_q_b_peak=signed(q["max_q_b_peak"], "+.2f"), q_max_q_b_peak_episode=q["max_q_b_peak_episode"],
        q_q_a_left_peak=signed(q["q_a_left_peak"], "+.3f"), q_q_a_left_peak_episode=q["q_a_left_peak_episode"],
        q_prefer=q["prefer_left_episodes"], q_last_prefer=q["last_prefer_left_episode"],
        q_peak_pct=f"{q['peak_left_pct']:.0f}", q_peak_pct0=f"{q['peak_left_pct']:.0f}", q_peak_episode=q["peak_episode"],
        q_left_end=f"{q['left_pct_at_300']:.1f}", q_left_end0=f"{q['left_pct_at_300']:.0f}",
        q_ratio=f"{q['left_pct_at_300'] / optimal:.1f}",
        d_max_q_b_peak=signed(d["max_q_b_peak"], "+.3f"), d_max_q_b_peak_episode=d["max_q_b_peak_episode"],
        d_max_q_b_end=signed(d["max_q_b_at_300"], "+.2f"), d_prefer=d["prefer_left_episodes"],
        d_left_first=f"{d['left_pct_first']:.0f}", d_left_end=f"{d['left_pct_at_300']:.1f}",
        d_left_end0=f"{d['left_pct_at_300']:.0f}", d_q_a_left_end=signed(d["q_a_left_at_300"], "+.2f"))


def deep_fields(deep: dict) -> dict:
    env_ids = list(dict.fromkeys(v["env"] for v in deep.values()))
    first = deep[f"DQN on {env_ids[0]}"]
    f = dict(deep_table=deep_table(deep, env_ids, first["seeds"]), seeds=first["seeds"], num_evals=first["num_evals"],
             seeds_text=common.seeds_text(first.get("first_seed"), first["seeds"]),
             eval_episodes=first["eval_episodes"], extra_steps=first["extra_steps"], last_probes=first["last_probes"],
             deep_times="; ".join(f"{v['algo']} on {v['env']} {v['seconds']:.0f} s" for v in deep.values()))
    rel = []
    for e in env_ids:
        a, b = deep[f"DQN on {e}"], deep[f"Double DQN on {e}"]
        s, true = e.split("-")[0], a["true_value_last_quarter"]
        f.update({f"{s}_total": f"{a['config']['total_timesteps']:,}", f"{s}_gamma": f"{a['config']['gamma']:g}",
                  f"{s}_trained": f"{a['env_steps']:,}", f"{s}_updates": f"{a.get('updates', '?'):,}",
                  f"{s}_per_update": a.get("env_steps_per_update", "?"), f"{s}_batch": a["config"]["batch_size"],
                  f"{s}_n_step": a["config"].get("n_step", 1), f"{s}_num_evals": a["num_evals"],
                  f"{s}_warmup": warmup_words(a["config"]),
                  f"{s}_last_probes": a["last_probes"],
                  f"{s}_ddqn_file": double_dqn_file_note(a.get("double_dqn_yaml_differs")),
                  f"{s}_hidden": a["config"]["hidden_size"], f"{s}_tuned_hidden": a["tuned_hidden_size"],
                  f"{s}_true": signed(true, ".0f"), f"{s}_true_abs": signed(abs(true), ".0f"),
                  f"{s}_q_first": signed(a["q_estimate_first"], ".1f"), f"{s}_true_first": signed(a["true_value_first"], ".0f"),
                  f"{s}_early_min": signed(min(a["early_gap_min"], b["early_gap_min"]), "+.0f"),
                  f"{s}_early_max": signed(max(a["early_gap_max"], b["early_gap_max"]), "+.0f"),
                  f"{s}_diff": ci(difference(a, b)[0])})
        for key, x in (("dqn", a), ("ddqn", b)):
            o = x["overestimate_last_quarter"]
            f.update({f"{s}_{key}_over": signed(o[0], "+.1f"), f"{s}_{key}_ci": f"[{signed(o[1], '+.1f')}, {signed(o[2], '+.1f')}]",
                      f"{s}_{key}_over_pct": f"{100 * o[0] / abs(true):.0f}", f"{s}_{key}_seeds_over": x["seeds_overestimating"],
                      f"{s}_{key}_seed_min": signed(min(per_seed_errors(x)), "+.1f"),
                      f"{s}_{key}_seed_max": signed(max(per_seed_errors(x)), "+.1f"),
                      f"{s}_{key}_final": signed(x["final_greedy_return_ci"][0], ".0f"),
                      f"{s}_{key}_final_ci": ci(x["final_greedy_return_ci"], ".0f"),
                      f"{s}_{key}_hump_return": signed(x["early_gap_max_greedy_return"], ".0f"),
                      f"{s}_{key}_hump_step": f"{x['early_gap_max_step']:,}"})
        rel += [max(x["overestimate_last_quarter"][0], 0.0) / max(abs(x["true_value_last_quarter"]), 1e-9) for x in (a, b)]
    f["worst_pct"] = f"{100 * max(rel):.0f}"
    seeds = first["seeds"]
    pairs = [(e, deep[f"DQN on {e}"], deep[f"Double DQN on {e}"]) for e in env_ids]
    f["deep_bullets"] = "\n".join(f"* {env_bullet(e, a, b, seeds)}" for e, a, b in pairs)
    f["deep_finding"] = " ".join(finding_sentence(e, a, b, seeds) for e, a, b in pairs)
    f["final_returns"] = final_returns_words(deep, env_ids)
    return f


def write(out: Path, info: dict) -> str:
    """Write README.md and finding.md into ``out`` from ``summary.json``'s contents; returns the finding."""
    seeds = next(iter(info["deep"].values()))["seeds"]
    f = dict(quick_note=(f"\n**Smoke run (`--quick`): small budgets, {seeds} deep seeds. Not a result.**\n"
                         if "--quick" in info["command"] else ""),
             minutes=f"{info['wall_s'] / 60:.1f}", wall_s=f"{info['wall_s']:.0f}", command=info["command"],
             machine=info["machine"], deep_figure_note=info.get("deep_figure_note", ""),  # a word on a committed figure, by hand
             **tabular_fields(info["tabular"]), **deep_fields(info["deep"]), **reporting.interval_words(seeds))
    first = next(iter(info["deep"].values()))
    banner = common.tuning_banner(first.get("first_seed"), first["seeds"])
    reporting.fill_template(TEMPLATE, out / "README.md", f, banner)
    return reporting.write_finding(out, FINDING.format(**f), smoke=bool(f["quick_note"]), tuning=bool(banner))
