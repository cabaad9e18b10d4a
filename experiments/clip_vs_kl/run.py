"""PPO-clip against PPO with the adaptive KL penalty (Schulman et al. 2017, eq. 7 vs eq. 8 and sec. 4).

    python experiments/clip_vs_kl/run.py            # writes clip_vs_kl.png, CSV/JSON, README.md and finding.md here
    python experiments/clip_vs_kl/run.py --quick    # a small smoke run (into /tmp/clip_vs_kl)

On each env both variants use the same config, PPO's tuned one (rl_zoo/hyperparams/ppo.yaml), and
differ only in ``loss`` ("clip": clip_eps 0.2; "kl": kl_target 0.01, beta_0 = 1, beta halved or
doubled once per batch). All seeds of both variants run in one vmapped program per variant. Logged
per update: the exact mean KL(pi_old || pi_new) over the batch after the update (``Metrics.kl``),
beta (``Metrics.kl_beta``), the clip fraction; greedy evaluations (10 episodes) at ~20 points.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

import common  # noqa: E402

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402


#: env -> (env-step budget, number of evaluations, extra overrides on top of the tuned ppo config)
ENVS = {
    "CartPole-v1": (100_000, 20, {}),
    "Pendulum-v1": (1_000_000, 20, {}),
}
VARIANTS = {"PPO-clip": "clip", "PPO-KL (adaptive beta)": "kl"}
COLORS = {"PPO-clip": "tab:blue", "PPO-KL (adaptive beta)": "tab:orange"}


def run_env(env_id: str, total: int, num_evals: int, overrides: dict, seeds: int) -> dict:
    out = {}
    for name, loss in VARIANTS.items():
        module, config = common.tuned("ppo", env_id, total_timesteps=total, loss=loss, **overrides)
        run, steps, per_update = common.make_sweep(module, config, env_id, None, num_evals, eval_episodes=10)
        with common.Timer(f"{name} on {env_id}: {seeds} seeds x {config.total_timesteps:,} steps") as t:
            returns, m = run(jnp.zeros((1,), jnp.float32), jax.random.split(jax.random.key(3), seeds))
            returns = np.asarray(returns)[0]
        out[name] = dict(returns=returns, kl=np.asarray(m.kl)[0], beta=np.asarray(m.kl_beta)[0],
                         clip_frac=np.asarray(m.clip_frac)[0], steps=steps, per_update=per_update, seconds=t.s,
                         config=config)
    return out


def plot(results: dict, out: Path, seeds: int) -> None:
    plt = common.pyplot()
    env_ids = list(results)
    fig, axes = plt.subplots(len(env_ids), 3, figsize=(16, 4.3 * len(env_ids)))
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    kilo = FuncFormatter(lambda x, _: f"{x / 1000:g}k" if x else "0")
    for row, env_id in enumerate(env_ids):
        ax_r, ax_k, ax_b = axes[row]
        k_range, b_range = [np.inf, 0.0], [np.inf, 0.0]  # what the log axes must show
        for name, r in results[env_id].items():
            c = COLORS[name]
            m, lo, hi = common.boot_band(r["returns"])
            ax_r.plot(r["steps"], m, color=c, marker=".", label=f"{name}: mean, 95% band")
            ax_r.fill_between(r["steps"], lo, hi, color=c, alpha=0.2, linewidth=0)
            u = np.arange(1, r["kl"].shape[1] + 1) * r["per_update"]
            m, lo, hi = common.boot_band(r["kl"])
            lo = np.maximum(lo, m.min() / 10)  # a band edge near 0 would stretch the log axis
            ax_k.plot(u, m, color=c, linewidth=1.2, label=name)
            ax_k.fill_between(u, lo, hi, color=c, alpha=0.2, linewidth=0)
            k_range = [min(k_range[0], lo.min()), max(k_range[1], hi.max())]
            if r["config"].loss == "kl":
                m, lo, hi = common.boot_band(r["beta"])
                ax_b.plot(u, m, color=c, linewidth=1.4, label="mean over seeds, 95% band")
                ax_b.fill_between(u, lo, hi, color=c, alpha=0.2, linewidth=0)
                for s in range(min(3, r["beta"].shape[0])):
                    ax_b.plot(u, r["beta"][s], color=c, linewidth=0.6, alpha=0.5, drawstyle="steps-post",
                              label="seeds 0-2" if s == 0 else None)
                b_range = [min(r["beta"].min(), lo.min()), max(r["beta"].max(), hi.max())]
                target = r["config"].kl_target
        ax_k.axhline(target, color="black", linestyle="--", linewidth=1, label=f"d_targ = {target:g}")
        ax_k.axhspan(target / 1.5, target * 1.5, color="gray", alpha=0.12, label="beta kept (d_targ/1.5 .. 1.5 d_targ)")
        ax_r.set_title(f"{env_id}: greedy return (10 episodes)", fontsize=10)
        ax_r.set_ylabel("return")
        ax_r.legend(fontsize=8, loc="lower right")
        # log axes with room below the data for the legend (lower left)
        ax_k.set_yscale("log")
        lo_k, hi_k = min(k_range[0], target / 1.5), max(k_range[1], target * 1.5)
        ax_k.set_ylim(lo_k / (hi_k / lo_k) ** 0.45, hi_k * 1.5)
        ax_k.set_title(f"{env_id}: KL(pi_old || pi_new) after each update", fontsize=10)
        ax_k.set_ylabel("mean KL over the batch")
        ax_k.legend(fontsize=7, loc="lower left", ncol=2)
        ax_b.set_yscale("log", base=2)
        lo_b, hi_b = b_range
        ax_b.set_ylim(lo_b / max(hi_b / lo_b, 4) ** 0.4, hi_b * 1.5)
        ax_b.yaxis.set_major_locator(LogLocator(base=2, numticks=9))
        ax_b.yaxis.set_minor_formatter(NullFormatter())
        ax_b.yaxis.set_major_formatter(FuncFormatter(lambda y, _: _pow2_label(y)))
        ax_b.set_title(f"{env_id}: PPO-KL's penalty coefficient beta", fontsize=10)
        ax_b.set_ylabel("beta (used in the next update)")
        ax_b.legend(fontsize=8, loc="lower left")
        for ax in (ax_r, ax_k, ax_b):
            ax.set_xlabel("env steps")
            ax.grid(alpha=0.3)
            ax.xaxis.set_major_formatter(kilo)
    fig.suptitle(f"PPO-clip vs PPO adaptive-KL, same config otherwise: mean over {seeds} seeds, "
                 "95% percentile-bootstrap bands over seeds", fontsize=11)
    fig.tight_layout()
    common.save(fig, out / "clip_vs_kl.png")


def trailing_halvings(beta: np.ndarray) -> int:
    """How many of the last updates of one seed each halved beta (0 if the last one did not)."""
    n = 0
    for t in range(beta.size - 1, 0, -1):
        if beta[t] < beta[t - 1]:
            n += 1
        else:
            break
    return n


def stays_above(steps: np.ndarray, curve: np.ndarray, level: float):
    """The first evaluation step from which ``curve`` stays >= ``level`` to the end (None if it ends below)."""
    ok = curve >= level
    if not ok[-1]:
        return None
    i = len(ok) - 1
    while i > 0 and ok[i - 1]:
        i -= 1
    return int(steps[i])


def summarise(results: dict) -> list[dict]:
    from rl_zoo.benchmark import ENV_REFERENCES

    rows = []
    for env_id, res in results.items():
        for name, r in res.items():
            final = r["returns"][:, -1]
            m, lo, hi = common.boot_ci(final)
            am, alo, ahi = common.boot_ci(r["returns"].mean(axis=1))
            kl, beta, cfg = r["kl"], r["beta"], r["config"]
            target = cfg.kl_target
            n_upd = kl.shape[1]
            tenth = max(1, n_upd // 10)
            body = beta[:, : n_upd - tenth]  # the first 90% of training
            thr = ENV_REFERENCES[env_id].solved
            halv = [trailing_halvings(b) for b in beta]
            rows.append(dict(
                env=env_id, algo=name, loss=cfg.loss, seeds=final.size, env_steps=int(r["steps"][-1]),
                updates=n_upd, seconds=round(r["seconds"], 1),
                final_return_mean=m, final_return_lo=lo, final_return_hi=hi,
                auc_return_mean=am, auc_return_lo=alo, auc_return_hi=ahi,
                threshold=thr, steps_mean_stays_above_threshold=stays_above(r["steps"], r["returns"].mean(0), thr),
                kl_median=float(np.median(kl)), kl_p90=float(np.quantile(kl, 0.9)), kl_max=float(kl.max()),
                kl_max_env_step=int((np.unravel_index(kl.argmax(), kl.shape)[1] + 1) * r["per_update"]),
                kl_median_first_tenth=float(np.median(kl[:, :tenth])), kl_median_last_tenth=float(np.median(kl[:, -tenth:])),
                frac_updates_kl_above_1_5_target=float((kl > 1.5 * target).mean()),
                frac_updates_kl_below_target_over_1_5=float((kl < target / 1.5).mean()),
                frac_updates_kl_in_band=float(((kl >= target / 1.5) & (kl <= 1.5 * target)).mean()),
                beta_final_median=float(np.median(beta[:, -1])), beta_min=float(beta.min()),
                beta_max=float(beta.max()), beta_p10_first_90pct=float(np.quantile(body, 0.1)),
                beta_p90_first_90pct=float(np.quantile(body, 0.9)),
                beta_mean_peak=float(beta.mean(0).max()), beta_mean_peak_update=int(beta.mean(0).argmax()),
                beta_trailing_halvings_median=float(np.median(halv)),
                beta_median_first_90pct=float(np.median(body)),
                frac_updates_kl_below_target_over_1_5_last_tenth=float((kl[:, -tenth:] < target / 1.5).mean()),
                clip_frac_mean=float(r["clip_frac"].mean()),
            ))
    return rows


def _pow2(x: float) -> str:
    """A power of 2 as a short number (beta only takes values beta_0 * 2^k)."""
    k = int(round(np.log2(x)))
    return str(2 ** k) if k >= 0 else (f"1/{2 ** -k}" if k > -8 else f"2^{k}")


def _pow2_label(x: float) -> str:
    k = int(round(np.log2(x)))
    return str(2 ** k) if k >= 0 else (f"1/{2 ** -k}" if k > -8 else f"$2^{{{k}}}$")


def config_note(cfg) -> str:
    batch = cfg.num_envs * cfg.num_steps
    mb = "1 minibatch (the whole batch)" if cfg.num_minibatches == 1 else f"{cfg.num_minibatches} minibatches"
    extras = [f"lr {cfg.learning_rate:g}"]
    norm = [w for w, on in (("observation", cfg.normalize_obs), ("reward", cfg.normalize_reward)) if on]
    if norm:
        extras.append(" and ".join(norm) + " normalisation")
    return (f"{cfg.num_envs}×{cfg.num_steps} = {batch} steps per batch, {cfg.update_epochs} epochs over {mb}, "
            + ", ".join(extras))


def write_readme(out: Path, results: dict, rows: list[dict], wall_s: float, machine: str, seeds: int,
                 quick: bool) -> str:
    """README.md from this run's numbers; returns the one-line finding."""
    n = common.num
    by = {(r["env"], r["loss"]): r for r in rows}
    env_ids = list(results)
    cfgs = {e: next(iter(results[e].values()))["config"] for e in env_ids}
    clipname, klname = list(VARIANTS)
    target = cfgs[env_ids[0]].kl_target
    n_points = next(iter(results[env_ids[0]].values()))["returns"].shape[1]
    short = {e: e.split("-")[0] for e in env_ids}

    def fin(r):
        return (r["final_return_mean"], r["final_return_lo"], r["final_return_hi"])

    def auc(r):
        return (r["auc_return_mean"], r["auc_return_lo"], r["auc_return_hi"])

    L = ["# PPO-clip against PPO with the adaptive KL penalty", "",
         "<!-- written by experiments/clip_vs_kl/run.py from its run; edit the script, not this file -->", "",
         f"    python experiments/clip_vs_kl/run.py        # {common.fmt_minutes(wall_s)} here; writes clip_vs_kl.png, "
         "summary.csv, run_info.json, this README and finding.md", ""]
    if quick:
        L += ["**Smoke run (`--quick`): budgets cut tenfold, 2 seeds. Not a result.**", ""]
    L += ["## Question", "",
          "PPO's clipped surrogate (Schulman et al. 2017, eq. 7) against its adaptive-KL variant (eq. 8,",
          "section 4): how do they compare on return, how far does each move the policy per update, and what",
          "does the KL coefficient beta do?", "",
          "## Set-up", ""]
    kinds = {e: "discrete" if e.startswith("CartPole") else "continuous" for e in env_ids}
    L += ["* Envs: " + " and ".join(f"{e} ({cfgs[e].total_timesteps:,} env steps, {kinds[e]} actions)" for e in env_ids) + ".",
          "* Config: on each env both variants use PPO's tuned config from `rl_zoo/hyperparams/ppo.yaml`",
          "  (written out in `run_info.json`) and differ only in `loss`:",
          f"  * `clip`: `clip_eps` {cfgs[env_ids[0]].clip_eps:g};",
          f"  * `kl`: `kl_target` d_targ = {target:g} and beta_0 = {cfgs[env_ids[0]].kl_beta_init:g}. After each batch "
          "(not each minibatch) beta is",
          "    halved if d < d_targ/1.5 and doubled if d > 1.5·d_targ, where d is the exact mean",
          "    KL(pi_old‖pi_new) over the batch.",
          "* Config notes: " + "; ".join(f"{short[e]}: {config_note(cfgs[e])}" for e in env_ids) + "."
          + (" In both configs the learning rate is annealed linearly to 0." if all(c.anneal_lr for c in cfgs.values()) else ""),
          f"* Seeds: {seeds} per variant, vmapped in one compiled program (`common.make_sweep`).",
          "* Logged per update: the exact mean KL after the update (`Metrics.kl`) and beta after the rule",
          f"  (`Metrics.kl_beta`, the beta the next update uses). Greedy evaluation (10 episodes) at {n_points} points.", "",
          "## Figure", "",
          "![PPO-clip vs PPO-KL: return, KL per update, beta](clip_vs_kl.png)", "",
          "`clip_vs_kl.png` has one row per env. The columns are:",
          "1. greedy return;",
          "2. per-update KL on a log scale, with d_targ and the band [d_targ/1.5, 1.5·d_targ] in which the",
          "   rule keeps beta;",
          "3. PPO-KL's beta: the mean over seeds plus three individual seeds.", "",
          f"Lines are means over {seeds} seeds, and the bands are 95% percentile-bootstrap intervals over seeds.", "",
          "## What the data says", "",
          "| env | variant | final return (95% CI) | mean return over training (95% CI) | median KL / update | 90th pct KL | max KL "
          "| updates with KL > 1.5 d_targ | updates with KL < d_targ/1.5 |",
          "|---|---|---|---|---:|---:|---:|---:|---:|"]
    for e in env_ids:
        for loss, name in (("clip", "PPO-clip"), ("kl", "PPO-KL")):
            r = by[(e, loss)]
            L.append(f"| {e} | {name} | {common.ci_text(*fin(r))} | {common.ci_text(*auc(r))} | {n(r['kl_median'])} | "
                     f"{n(r['kl_p90'], 2)} | {n(r['kl_max'], 2)} | {common.pct(r['frac_updates_kl_above_1_5_target'])} | "
                     f"{common.pct(r['frac_updates_kl_below_target_over_1_5'])} |")
    L += ["", "Mean return over training: each seed's mean greedy return over all evaluations (the area under its "
          "learning curve), then the mean over seeds with a bootstrap CI.", ""]

    # ---- return
    from rl_zoo.benchmark import ENV_REFERENCES

    final_level = {e: common.overlap(fin(by[(e, "clip")]), fin(by[(e, "kl")])) for e in env_ids}
    # "the same return": overlapping intervals and means within 5% of the random-to-solved range
    same = all(final_level[e] and abs(by[(e, "clip")]["final_return_mean"] - by[(e, "kl")]["final_return_mean"])
               <= 0.05 * (ENV_REFERENCES[e].solved - ENV_REFERENCES[e].random) for e in env_ids)
    auc_level = {e: common.overlap(auc(by[(e, "clip")]), auc(by[(e, "kl")])) for e in env_ids}
    L += ["* **Return.**"]
    if all(final_level.values()):
        L.append(f"  * Final return: neither variant ends measurably higher: the 95% intervals overlap on "
                 f"{'both envs' if len(env_ids) == 2 else 'every env'} (" + "; ".join(
                     f"{short[e]} {n(by[(e, 'clip')]['final_return_mean'])} vs {n(by[(e, 'kl')]['final_return_mean'])}"
                     for e in env_ids) + ", clip vs KL).")
    else:
        for e in env_ids:
            c, k = by[(e, "clip")], by[(e, "kl")]
            if final_level[e]:
                L.append(f"  * Final return on {short[e]}: level ({n(c['final_return_mean'])} vs {n(k['final_return_mean'])}, "
                         "overlapping intervals).")
            else:
                hi_name = "PPO-clip" if c["final_return_mean"] > k["final_return_mean"] else "PPO-KL"
                L.append(f"  * Final return on {short[e]}: {hi_name} ends higher ({n(c['final_return_mean'])} vs "
                         f"{n(k['final_return_mean'])}, clip vs KL), and the 95% intervals do not overlap.")
    for e in env_ids:
        c, k = by[(e, "clip")], by[(e, "kl")]
        faster = "PPO-clip" if c["auc_return_mean"] > k["auc_return_mean"] else "PPO-KL"
        verdict = (f"{faster} learned faster: its mean return over training is higher, and the intervals do not overlap"
                   if not auc_level[e] else
                   f"{faster}'s mean return over training is higher, but the intervals overlap, so with {seeds} "
                   "seeds the two are not distinguishable on learning speed")
        thr = c["threshold"]

        def reach(r):
            x = r["steps_mean_stays_above_threshold"]
            return "none (it ends below)" if x is None else f"{x / 1000:.0f}k steps"
        L.append(f"  * {short[e]}, during training: {verdict} ({n(c['auc_return_mean'])} vs {n(k['auc_return_mean'])}, "
                 f"clip vs KL). First evaluation from which the mean over seeds stays at or above {n(thr)} (the "
                 f"benchmark's solved threshold): PPO-clip {reach(c)}, PPO-KL {reach(k)}.")

    # ---- KL per update
    held = {}
    L += ["* **KL per update.**"]
    for e in env_ids:
        c, k, cfg = by[(e, "clip")], by[(e, "kl")], cfgs[e]
        held[e] = target / 1.5 <= k["kl_median"] <= 1.5 * target and k["kl_p90"] <= 3 * target
        steps_per_update = f"{cfg.update_epochs} epoch{'s' if cfg.update_epochs > 1 else ''} × {cfg.num_minibatches} minibatch" \
            + ("es" if cfg.num_minibatches > 1 else "")
        if held[e]:
            txt = (f"  * {short[e]} ({steps_per_update} per update): PPO-KL held the KL close to d_targ (median "
                   f"{n(k['kl_median'])}, 90th percentile {n(k['kl_p90'], 2)}, max {n(k['kl_max'], 2)}; "
                   f"{common.pct(k['frac_updates_kl_in_band'])} of updates inside the band where beta is kept).")
        else:
            txt = (f"  * {short[e]} ({steps_per_update} per update): the adaptive penalty did *not* hold the KL near its "
                   f"target. Median {n(k['kl_median'])}, 90th percentile {n(k['kl_p90'], 2)} "
                   f"({k['kl_p90'] / target:.0f}× d_targ), maximum {n(k['kl_max'], 2)} ({k['kl_max'] / target:.0f}× d_targ); "
                   f"only {common.pct(k['frac_updates_kl_in_band'])} of updates fell inside the band where beta is kept. "
                   "Beta changes only after a whole update, so within one update the policy can move far before "
                   "beta reacts.")
        rel = "smaller" if c["kl_median"] < k["kl_median"] else "larger"
        txt += f" PPO-clip's KL was {rel} in the median ({n(c['kl_median'])}; max {n(c['kl_max'], 2)})"
        if c["kl_median_last_tenth"] < c["kl_median_first_tenth"] / 2:
            txt += (f", and it shrank from a median of {n(c['kl_median_first_tenth'], 2)} in the first tenth of training "
                    f"to {n(c['kl_median_last_tenth'], 2)} in the last, as the learning rate annealed")
        txt += "."
        if c["kl_max"] > 10 * target:
            txt += (f" Its largest KL, {n(c['kl_max'], 2)} ({c['kl_max'] / target:.0f}× d_targ, at about "
                    f"{c['kl_max_env_step'] / 1000:.0f}k steps), shows that the clip does not bound the KL: once a ratio "
                    "leaves [1−ε, 1+ε] the clipped objective stops pulling it back, and the remaining epochs can "
                    "keep moving the policy.")
        L.append(txt)

    # ---- beta
    L += ["* **Beta.**",
          "  * Beta only takes the values beta_0·2^k (the rule halves or doubles it). For most of the run (10th to 90th "
          "percentile over seeds and updates, first 90% of training) it stays between "
          + "; ".join(f"{_pow2(by[(e, 'kl')]['beta_p10_first_90pct'])} and {_pow2(by[(e, 'kl')]['beta_p90_first_90pct'])} "
                      f"on {short[e]}" for e in env_ids) + "."]
    for e in env_ids:
        k = by[(e, "kl")]
        if k["beta_mean_peak_update"] < k["updates"] // 10 and k["beta_mean_peak"] > k["beta_p90_first_90pct"]:
            L.append(f"  * On {short[e]} the mean beta first rose to {n(k['beta_mean_peak'], 2)} within the first tenth of "
                     "training (the KL overshot early on), then settled.")
    # beta "collapses" when its final value is far below its level over the first 90% of training
    collapse = [e for e in env_ids
                if by[(e, "kl")]["beta_final_median"] <= by[(e, "kl")]["beta_median_first_90pct"] / 4]
    if collapse:
        anneal = all(cfgs[e].anneal_lr for e in collapse)
        L.append("  * At the end of the run beta falls: " + "; ".join(
            f"on {short[e]} from a median of {_pow2(by[(e, 'kl')]['beta_median_first_90pct'])} over the first 90% of "
            f"training to {n(by[(e, 'kl')]['beta_final_median'], 2)} after the last update (median over seeds), with the "
            f"KL below d_targ/1.5 in {common.pct(by[(e, 'kl')]['frac_updates_kl_below_target_over_1_5_last_tenth'])} of "
            "the last tenth's updates" for e in collapse)
            + (". The learning rate anneals to 0, so the KL shrinks below the band and beta is halved at most updates: "
               "the final beta in `summary.csv` is an artefact of the learning-rate schedule, not of the task."
               if anneal and all(by[(e, "kl")]["frac_updates_kl_below_target_over_1_5_last_tenth"] > 0.5 for e in collapse)
               else "."))
    no_collapse = [e for e in env_ids if e not in collapse]
    if no_collapse:
        L.append("  * Final beta (median over seeds): " + ", ".join(
            f"{n(by[(e, 'kl')]['beta_final_median'], 2)} on {short[e]}" for e in no_collapse) + ".")

    # ---- bottom line
    both = 'both envs' if len(env_ids) == 2 else 'every env'
    if same:
        ret = f"with otherwise identical settings, clip and adaptive KL reach the same final return on {both}"
    elif all(final_level.values()):
        ret = (f"with otherwise identical settings, neither clip nor adaptive KL ends measurably higher on {both} "
               "(the final-return intervals overlap, though the means differ)")
    else:
        ret = "with otherwise identical settings, final returns differ on " + ", ".join(
            f"{short[e]} ({'PPO-clip' if by[(e, 'clip')]['final_return_mean'] > by[(e, 'kl')]['final_return_mean'] else 'PPO-KL'} higher)"
            for e in env_ids if not final_level[e])
    good = [e for e in env_ids if held[e]]
    bad = [e for e in env_ids if not held[e]]

    def shape(e):
        c = cfgs[e]
        return f"{c.update_epochs} epochs × {c.num_minibatches} minibatch{'es' if c.num_minibatches > 1 else ''}"
    if good and bad:
        kl_line = (" The adaptive penalty controls the per-update KL well on " + ", ".join(f"{short[e]} ({shape(e)} per update)" for e in good)
                   + ", and poorly on " + ", ".join(f"{short[e]} ({shape(e)})" for e in bad)
                   + ": there beta reacts one batch late, and the KL overshoots its target by up to "
                   + ", ".join(f"{by[(e, 'kl')]['kl_max'] / target:.0f}×" for e in bad) + ".")
    elif good:
        kl_line = " The adaptive penalty kept the per-update KL near its target on every env."
    else:
        kl_line = " The adaptive penalty did not keep the per-update KL near its target on any env."
    if all(final_level.values()) and all(auc_level.values()):
        rank = f" With {seeds} seeds, neither variant is better on return."
    elif all(final_level.values()):
        rank = (" " + "; ".join(
            f"{'PPO-clip' if by[(e, 'clip')]['auc_return_mean'] > by[(e, 'kl')]['auc_return_mean'] else 'PPO-KL'} learned "
            f"faster on {short[e]}" for e in env_ids if not auc_level[e])
            + f", but with {seeds} seeds neither ends better.")
    else:
        rank = ""
    L += ["", f"**Bottom line:** {ret}.{kl_line}{rank}", "",
          f"**Run time:** {common.run_line(wall_s, machine)}", ""]
    common.write_md(out / "README.md", L)

    # ---- the one-line finding for the index
    f = "With identical configs, PPO-clip and PPO adaptive-KL end with "
    if same:
        f += "the same return on " + " and ".join(short[e] for e in env_ids) + f" ({seeds} seeds)."
    elif all(final_level.values()):
        f += ("returns that are not measurably different on " + " and ".join(short[e] for e in env_ids)
              + f" (overlapping intervals, {seeds} seeds).")
    else:
        f += ("different returns (" + ", ".join(f"{short[e]}: {n(by[(e, 'clip')]['final_return_mean'])} vs "
                                               f"{n(by[(e, 'kl')]['final_return_mean'])}" for e in env_ids)
              + f", clip vs KL; {seeds} seeds).")
    for e in good:
        f += f" The adaptive penalty holds the KL near its target on {short[e]} (median {n(by[(e, 'kl')]['kl_median'])} vs d_targ {target:g}; {shape(e)})."
    for i, e in enumerate(bad):
        f += (f" On {short[e]} ({shape(e)}) {'it' if good or i else 'the adaptive penalty'} misses its target by up to {by[(e, 'kl')]['kl_max'] / target:.0f}× "
              f"(90th percentile {by[(e, 'kl')]['kl_p90'] / target:.0f}× d_targ).")
    if collapse:
        f += (" Beta falls at the end of training on " + " and ".join(short[e] for e in collapse)
              + (" as the learning rate anneals." if all(cfgs[e].anneal_lr for e in collapse) else "."))
    return f


RAW = ("returns", "kl", "beta", "clip_frac", "steps", "per_update", "seconds")


def save_raw(results: dict, path: Path) -> None:
    """The logged arrays (for --replot; ignored by git)."""
    arrays = {}
    for env_id, res in results.items():
        for name, r in res.items():
            loss = r["config"].loss
            for k in RAW:
                arrays[f"{env_id}|{loss}|{k}"] = np.asarray(r[k])
            arrays[f"{env_id}|{loss}|total"] = np.asarray(r["config"].total_timesteps)
    np.savez_compressed(path, **arrays)


def load_raw(path: Path) -> dict:
    z = np.load(path)
    results: dict = {}
    for env_id, (_, _, overrides) in ENVS.items():
        for name, loss in VARIANTS.items():
            r = {k: z[f"{env_id}|{loss}|{k}"] for k in RAW}
            r["per_update"], r["seconds"] = int(r["per_update"]), float(r["seconds"])
            _, r["config"] = common.tuned("ppo", env_id, total_timesteps=int(z[f"{env_id}|{loss}|total"]), loss=loss,
                                          **overrides)
            results.setdefault(env_id, {})[name] = r
    return results


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--seeds", type=int, default=8)
    ap.add_argument("--out", default=None)
    ap.add_argument("--replot", action="store_true",
                    help="redraw the figure and rewrite the tables and README from raw.npz (no training)")
    args = ap.parse_args()
    out = Path(args.out) if args.out else (Path("/tmp/clip_vs_kl") if args.quick else HERE)
    out.mkdir(parents=True, exist_ok=True)
    if args.replot:
        old = json.loads((out / "run_info.json").read_text())
        results = load_raw(out / "raw.npz")
        machine, wall, seeds = old["machine"], old["wall_s"], old["seeds"]
    else:
        t0 = time.perf_counter()
        machine = common.machine()
        seeds = 2 if args.quick else args.seeds
        results = {}
        for env_id, (total, num_evals, overrides) in ENVS.items():
            results[env_id] = run_env(env_id, total // 10 if args.quick else total, 4 if args.quick else num_evals,
                                      overrides, seeds)
        save_raw(results, out / "raw.npz")
    plot(results, out, seeds)
    rows = summarise(results)
    common.write_csv(out / "summary.csv", rows)
    if not args.replot:
        wall = round(time.perf_counter() - t0, 1)
    info = dict(machine=machine, wall_s=wall, quick=args.quick, seeds=seeds, summary=rows,
                configs={f"{e} {n}": str(r["config"]) for e, res in results.items() for n, r in res.items()})
    (out / "run_info.json").write_text(json.dumps(info, indent=1, default=str))
    finding = write_readme(out, results, rows, wall, machine, seeds, args.quick)
    common.write_finding(out, finding)
    if out.resolve() == HERE:
        common.write_index()
    print(finding)


if __name__ == "__main__":
    main()
