"""The clip-vs-KL README.md and finding.md: ``readme_template.md`` filled in with the table and the
numbers of a run's summary rows (``summary.csv`` / ``run_info.json``); the interpretation around
them is written by hand in the template."""

from __future__ import annotations

from pathlib import Path

from experiments import common, reporting
from experiments.reporting import num, pct, pow2
from rl_zoo import runs

#: rl_zoo.algos.ppo.KL_BETA_MIN, the adaptive rule's lower bound on beta (not imported: --report runs without JAX)
KL_BETA_MIN = 2.0 ** -20
TEMPLATE = Path(__file__).with_name("readme_template.md")
FINDING = (
    "With identical configs, this run {final_verdict} ({seeds_text}). The adaptive penalty keeps the median KL per update "
    "near its target d_targ {target} on both envs ({Pendulum_kl_median} on Pendulum, {CartPole_kl_median} on CartPole) but "
    "{kl_hold}. {beta_end} The two cells differ in update shape, batch, gamma and GAE lambda, budget, normalisation "
    "and action type, so the run does not say which of them decides.")


def config_note(cfg) -> str:
    batch = cfg.num_envs * cfg.num_steps
    mb = "1 minibatch (the whole batch)" if cfg.num_minibatches == 1 else f"{cfg.num_minibatches} minibatches"
    extras = [f"lr {cfg.learning_rate:g}"]
    norm = [w for w, on in (("observation", cfg.normalize_obs), ("reward", cfg.normalize_reward)) if on]
    if norm:
        extras.append(" and ".join(norm) + " normalisation")
    return (f"{cfg.num_envs}×{cfg.num_steps} = {batch} steps per batch, {cfg.update_epochs} epochs over {mb}, "
            + ", ".join(extras))


def shape(cfg) -> str:
    return f"{cfg.update_epochs} epochs × {cfg.num_minibatches} minibatch{'es' if cfg.num_minibatches > 1 else ''}"


def table(rows: list[dict], seeds: int = 8) -> str:
    """One row per (env, variant); with one seed a value without an interval, as the header says."""
    value = lambda r, key: (num(r[f"{key}_mean"]) if seeds < 2  # noqa: E731
                            else reporting.ci_text(r[f"{key}_mean"], r[f"{key}_lo"], r[f"{key}_hi"]))
    return "\n".join(
        f"| {r['env']} | {'PPO-clip' if r['loss'] == 'clip' else 'PPO-KL'} | "
        f"{value(r, 'final_return')} | {value(r, 'auc_return')} | {num(r['kl_median'])} | "
        f"{num(r['kl_p90'], 2)} | {num(r['kl_max'], 2)} | {pct(r['frac_updates_kl_above_1_5_target'])} | "
        f"{pct(r['frac_updates_kl_below_target_over_1_5'])} |"
        for env in dict.fromkeys(r["env"] for r in rows) for loss in ("clip", "kl")
        for r in rows if r["env"] == env and r["loss"] == loss)


def variant_fields(r: dict, target: float) -> dict:
    """The numbers the template quotes of one (env, variant) summary row, formatted."""
    reach = r["steps_mean_stays_above_threshold"]
    return dict(
        final=num(r["final_return_mean"]), auc=num(r["auc_return_mean"]),
        worst=num(r.get("final_return_worst_seed", float("nan"))), worst_best=num(r.get("best_return_of_worst_seed", float("nan"))),
        reach="none (it ends below)" if reach is None else f"{reach / 1000:.0f}k steps",
        kl_median=num(r["kl_median"]), kl_p90=num(r["kl_p90"], 2), kl_max=num(r["kl_max"], 2),
        kl_p90_ratio=f"{r['kl_p90'] / target:.0f}", kl_max_ratio=f"{r['kl_max'] / target:.0f}",
        kl_max_step=f"{r['kl_max_env_step'] / 1000:.0f}k", kl_in_band=pct(r["frac_updates_kl_in_band"]),
        kl_first=num(r["kl_median_first_tenth"], 2), kl_last=num(r["kl_median_last_tenth"], 2),
        kl_low_last=pct(r["frac_updates_kl_below_target_over_1_5_last_tenth"]),
        beta_p10=pow2(r["beta_p10_first_90pct"]), beta_p90=pow2(r["beta_p90_first_90pct"]),
        beta_peak=num(r["beta_mean_peak"], 2), beta_body=pow2(r["beta_median_first_90pct"]),
        beta_final=beta_words(r["beta_final_median"]))


def beta_words(beta: float) -> str:
    """A beta as the text quotes it: 2 significant digits, or "2^−20 (the rule's lower bound)" at ``KL_BETA_MIN``
    (a beta there would read as a value the run reached on its own)."""
    return "2^−20 (the rule's lower bound)" if float(beta) == KL_BETA_MIN else num(beta, 2)


def hold_words(f: dict, rows: list[dict]) -> str:
    """Which env's adaptive-KL updates more often stayed inside the band (the env first), read off the rows (a
    --quick run printed the full run's "closer on Pendulum" beside numbers that said otherwise)."""
    kl = sorted((r for r in rows if r["loss"] == "kl"), key=lambda r: -r["frac_updates_kl_in_band"])
    if len(kl) != 2:
        return "holds it as the table shows"
    a, b = (r["env"].split("-")[0] for r in kl)
    return (f"holds it closer on {a} ({f[f'{a}_shape']}: 90th percentile {f[f'{a}_kl_p90_ratio']}× d_targ, maximum "
            f"{f[f'{a}_kl_max_ratio']}×, {f[f'{a}_kl_in_band']} of updates inside the band) than on {b} "
            f"({f[f'{b}_shape']}: {f[f'{b}_kl_p90_ratio']}×, {f[f'{b}_kl_max_ratio']}×, {f[f'{b}_kl_in_band']})")


def beta_end_words(rows: list[dict], anneals: bool) -> str:
    """Where beta falls at the end of training (the median seed's last updates each halved it), read off the rows."""
    falls = [r["env"].split("-")[0] for r in rows if r["loss"] == "kl" and r["beta_trailing_halvings_median"] >= 1]
    if not falls:
        return "Beta does not fall at the end of training on either env."
    return f"Beta falls at the end of training on {reporting.and_list(falls)}{' as the learning rate anneals' if anneals else ''}."


def separation_words(rows: list[dict], key: str, what: str, seeds: int = 8) -> str:
    """"does not separate the variants' WHAT: the intervals overlap on both envs" or which env's do not
    (every verdict read off the intervals, so that a rerun cannot leave a stale one); with 2-3 seeds the
    intervals are the seeds' ranges, with 1 there are none (a smoke run's verdict said "95% intervals")."""
    if seeds < 2:
        return f"cannot say whether it separates the variants' {what}: one seed gives no interval"
    few = seeds < reporting.BOOTSTRAP_SEEDS
    kind = "ranges of the seeds" if few else "95% intervals"
    by_env: dict = {}
    for r in rows:
        by_env.setdefault(r["env"], {})[r["loss"]] = r
    interval = lambda r: (r[f"{key}_mean"], r[f"{key}_lo"], r[f"{key}_hi"])  # noqa: E731
    unknown = [e.split("-")[0] for e, v in by_env.items()
               if not (reporting.interval_known(interval(v["clip"])) and reporting.interval_known(interval(v["kl"])))]
    apart = [e.split("-")[0] for e, v in by_env.items() if not reporting.intervals_overlap(interval(v["clip"]), interval(v["kl"]))]
    if unknown:  # a seed's NaN: no interval there (it was read as apart, a separation)
        missing = f"{reporting.and_list(unknown)} (a seed's value is not a number)"
        if len(unknown) == len(by_env):
            return f"cannot say whether it separates the variants' {what}: no interval on {missing}"
        if not apart:
            return f"does not separate the variants' {what} where it can say: no interval on {missing}, the {kind} overlap elsewhere"
        return f"cannot say on {missing}; elsewhere " + separation_words(
            [r for r in rows if r["env"].split("-")[0] not in unknown], key, what, seeds)
    if not apart:
        return f"does not separate the variants' {what}: the {kind} overlap on every env"
    if few:  # 2-3 seeds: a permutation test's smallest p is 1/3 (2 seeds) or 1/10 (3): apart ranges show no separation
        return (f"cannot say whether it separates the variants' {what}: the {kind} are apart on {reporting.and_list(apart)}, "
                f"but {seeds} seeds are too few to call that a separation")
    return f"separates the variants' {what} on {reporting.and_list(apart)} ({kind} apart)"


def compare_words(a: float, b: float) -> str:
    return "larger" if a > b else "smaller" if a < b else "the same"


def fields(rows: list[dict], cfgs: dict, seeds: int, n_points: int, info: dict) -> dict:
    """Every ``{field}`` of the template and of ``FINDING``. ``cfgs``: env -> the PPO-clip config."""
    first = next(iter(cfgs.values()))
    target = first.kl_target
    f = dict(
        # a word on the recorded run written by hand (run_info.json's history_note; a new run's record has none)
        history_note=info.get("history_note", ""),
        quick_note=f"\n**Smoke run (`--quick`): budgets cut tenfold, {runs.plural(seeds, 'seed')}. Not a result.**\n" if info.get("quick") else "",
             minutes=f"{info['wall_s'] / 60:.1f}", run_line=reporting.run_line(info["wall_s"], info["machine"]),
             command=info.get("command", "python -m experiments.clip_vs_kl.run"),
             seeds=seeds, seeds_words=runs.plural(seeds, "seed"), **reporting.interval_words(seeds), n_points=n_points, seeds_text=common.seeds_text(info.get("first_seed"), seeds),
             clip_eps=f"{first.clip_eps:g}", target=f"{target:g}",
             beta0=f"{first.kl_beta_init:g}", table=table(rows, seeds),
             anneal_note=(" In both configs the learning rate is annealed linearly to 0."
                          if all(c.anneal_lr for c in cfgs.values()) else ""),
             final_verdict=separation_words(rows, "final_return", "final returns", seeds),
             auc_verdict=separation_words(rows, "auc_return", "mean return over training", seeds))
    pend = {r["loss"]: r for r in rows if r["env"].startswith("Pendulum")}
    if pend:
        f.update(Pendulum_max_cmp=compare_words(pend["clip"]["kl_max"], pend["kl"]["kl_max"]),
                 Pendulum_p90_cmp=compare_words(pend["clip"]["kl_p90"], pend["kl"]["kl_p90"]),
                 Pendulum_median_cmp=compare_words(pend["clip"]["kl_median"], pend["kl"]["kl_median"]))
    for env_id, cfg in cfgs.items():
        short = env_id.split("-")[0]
        f.update({f"{short}_budget": f"{cfg.total_timesteps:,}", f"{short}_config": config_note(cfg),
                  f"{short}_shape": shape(cfg)})
        for r in (r for r in rows if r["env"] == env_id):
            f.update({f"{short}_total": f"{r['env_steps']:,}", f"{short}_updates": r["updates"],
                      f"{short}_points": r.get("evaluations", n_points)})
            f[f"{short}_threshold"] = num(r["threshold"])
            v = variant_fields(r, target)
            f.update({f"{short}_{r['loss']}_{k}": x for k, x in v.items()})
            if r["loss"] == "kl":  # the KL and beta of the adaptive-KL variant without the "kl_" prefix
                f.update({f"{short}_{k}": x for k, x in v.items()})
    f.update(kl_hold=hold_words(f, rows), beta_end=beta_end_words(rows, all(c.anneal_lr for c in cfgs.values())))
    return f


def write(out: Path, rows: list[dict], cfgs: dict, seeds: int, n_points: int, info: dict) -> str:
    """Write README.md and finding.md into ``out``; returns the finding."""
    f = fields(rows, cfgs, seeds, n_points, info)
    banner = common.tuning_banner(info.get("first_seed"), seeds)
    reporting.fill_template(TEMPLATE, out / "README.md", f, banner)
    return reporting.write_finding(out, FINDING.format(**f), smoke=bool(f["quick_note"]), tuning=bool(banner))
