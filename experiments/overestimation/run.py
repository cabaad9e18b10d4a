"""Does Q-learning overestimate, and does Double Q-learning fix it?

    python experiments/overestimation/run.py            # writes tabular.png, deep.png and CSVs beside this file
    python experiments/overestimation/run.py --quick    # a small smoke run (into --out, default /tmp)

1. Tabular: the maximisation-bias MDP of Sutton & Barto (2018, Example 6.7, Figure 6.5), Q-learning
   and Double Q-learning, 10,000 seeds each (vmapped), 300 episodes, epsilon 0.1, alpha 0.1, gamma 1.
2. Deep: DQN and Double DQN on CartPole-v1 and Acrobot-v1 (tuned configs of rl_zoo/hyperparams/dqn.yaml;
   Acrobot with 64 instead of 256 hidden units to fit the time budget), several seeds vmapped: the
   mean max_a Q over replay minibatch states during training, and on the states the greedy policy
   visits against the discounted return it actually obtains from them (van Hasselt et al. 2016, fig. 3).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent)]

import common  # noqa: E402  (first: it sets XLA_FLAGS before jax is imported)

import jax  # noqa: E402
import numpy as np  # noqa: E402

from deep import make_experiment, tuned_config  # noqa: E402
from maximization_bias import MaximizationBias  # noqa: E402
from tabular import TabularConfig, make_run  # noqa: E402

COLORS = {False: "tab:blue", True: "tab:orange"}
TAB_NAMES = {False: "Q-learning", True: "Double Q-learning"}
DEEP_NAMES = {False: "DQN", True: "Double DQN"}
EVAL_EPISODES = 5  # greedy episodes per probe
EXTRA_STEPS = 530  # probe rollouts run this far past the time limit (gamma^530 < 0.005)
#: env -> config overrides (beyond the tuned file) and number of evaluations
DEEP_ENVS = {
    "CartPole-v1": dict(overrides={}, num_evals=20),
    "Acrobot-v1": dict(overrides=dict(hidden_size=64), num_evals=20),
}


def tabular(out: Path, seeds: int) -> dict:
    env = MaximizationBias()
    logs, times = {}, {}
    for double in (False, True):
        config = TabularConfig(double=double)
        with common.Timer(f"tabular {TAB_NAMES[double]}, {seeds} seeds") as t:
            run = jax.jit(jax.vmap(make_run(config, env)))
            logs[double] = jax.tree.map(np.asarray, run(jax.random.split(jax.random.key(double), seeds)))
        times[double] = t.s
    episodes = np.arange(1, config.episodes + 1)

    plt = common.pyplot()
    fig, (ax0, ax1) = plt.subplots(1, 2, figsize=(11.5, 4.2))
    rows = [dict(episode=int(e)) for e in episodes]
    summary = {}
    for double, log in logs.items():
        name, c = TAB_NAMES[double], COLORS[double]
        m, lo, hi = common.t_band(100.0 * log.left.astype(float))
        prefer = lo > 50.0  # episodes in which the agent significantly prefers "left"
        ax0.plot(episodes, m, color=c, label=f"{name}")
        ax0.fill_between(episodes, lo, hi, color=c, alpha=0.25, linewidth=0)
        qm, qlo, qhi = common.t_band(log.q_a_left)
        ax1.plot(episodes, qm, color=c, label=f"{name}: Q(A, left)")
        ax1.fill_between(episodes, qlo, qhi, color=c, alpha=0.25, linewidth=0)
        bm, blo, bhi = common.t_band(log.max_q_b)
        ax1.plot(episodes, bm, color=c, linestyle="--", label=f"{name}: its estimate of max$_a$ q(B, a)")
        ax1.fill_between(episodes, blo, bhi, color=c, alpha=0.25, linewidth=0)
        key = "double_q" if double else "q"
        for i, r in enumerate(rows):
            r[f"{key}_left_pct"] = float(m[i])
            r[f"{key}_q_a_left"] = float(qm[i])
            r[f"{key}_max_q_b"] = float(bm[i])
        summary[name] = dict(
            seconds=round(times[double], 1),
            left_pct_first=float(m[0]), peak_left_pct=float(m.max()), peak_episode=int(episodes[m.argmax()]),
            left_pct_last_50=float(m[-50:].mean()), left_pct_at_300=float(m[-1]),
            left_pct_ci_halfwidth_max=float(np.max(hi - m)),
            prefer_left_episodes=int(prefer.sum()),
            last_prefer_left_episode=int(episodes[prefer].max()) if prefer.any() else 0,
            q_a_left_peak=float(qm.max()), q_a_left_peak_episode=int(episodes[qm.argmax()]),
            q_a_left_at_300=float(qm[-1]),
            max_q_b_peak=float(bm.max()), max_q_b_peak_episode=int(episodes[bm.argmax()]), max_q_b_at_300=float(bm[-1]),
        )
    ax0.axhline(50.0 * config.epsilon, color="black", linestyle=":",
                label=f"optimal (epsilon/2 = {50.0 * config.epsilon:g}%)")
    ax0.set_xlabel("episode")
    ax0.set_ylabel('% "left" actions from A')
    ax0.set_ylim(0, 100)
    ax0.set_title(f"Choice in A ({seeds:,} seeds, 95% t-interval bands)", fontsize=10)
    ax0.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.19), ncol=2)
    true_value = float(env.default_params.reward_mean)
    ax1.axhline(true_value, color="black", linestyle=":", label=f"true value of both: {true_value:g}")
    ax1.set_xlabel("episode")
    ax1.set_ylabel("value estimate")
    ax1.set_title("Estimates of q(A, left) and of max$_a$ q(B, a) (the bootstrap target), mean over seeds", fontsize=9)
    ax1.legend(fontsize=8, ncol=2, loc="upper center", bbox_to_anchor=(0.5, -0.19))
    for ax in (ax0, ax1):
        ax.grid(alpha=0.3)
    fig.suptitle(f"Maximisation bias (Sutton & Barto 2018, Example 6.7): epsilon {config.epsilon:g}, alpha {config.alpha:g}, "
                 f"gamma {config.gamma:g}, {env.num_b_actions} actions in B", fontsize=10)
    fig.tight_layout()
    common.save(fig, out / "tabular.png")
    common.write_csv(out / "tabular.csv", rows)
    params = env.default_params
    setup = dict(seeds=seeds, episodes=config.episodes, epsilon=config.epsilon, alpha=config.alpha, gamma=config.gamma,
                 num_b_actions=env.num_b_actions, reward_mean=float(params.reward_mean), reward_std=float(params.reward_std))
    return dict(setup=setup, **summary)


def deep(out: Path, seeds: int, quick: bool) -> dict:
    results = {}
    for env_id, spec in DEEP_ENVS.items():
        for double in (False, True):
            overrides = dict(spec["overrides"])
            if quick:
                overrides["total_timesteps"] = 10_000
            config = tuned_config(env_id, double, **overrides)
            num_evals = 5 if quick else spec["num_evals"]
            run, steps, update_steps = make_experiment(config, env_id, num_evals, eval_episodes=EVAL_EPISODES,
                                                       extra_steps=EXTRA_STEPS)
            with common.Timer(f"{DEEP_NAMES[double]} on {env_id}, {seeds} seeds, {config.total_timesteps:,} steps") as t:
                probes, q_max, learning = jax.jit(jax.vmap(run))(jax.random.split(jax.random.key(100 + double), seeds))
                probes = jax.tree.map(np.asarray, probes)
            results[(env_id, double)] = dict(
                config=dataclasses.asdict(config), steps=steps, update_steps=update_steps, probes=probes,
                q_max=np.asarray(q_max), learning=np.asarray(learning)[0], seconds=t.s,
            )
    plot_deep(out, results, seeds)
    summary, rows = {}, []
    for (env_id, double), r in results.items():
        p = r["probes"]
        for i, s in enumerate(r["steps"]):
            row = dict(env=env_id, algo=DEEP_NAMES[double], env_steps=int(s))
            for field in ("true_value", "q_estimate", "greedy_return"):
                m, lo, hi = common.boot_band(getattr(p, field)[:, i:i + 1])
                row.update({field: float(m[0]), f"{field}_lo": float(lo[0]), f"{field}_hi": float(hi[0])})
            rows.append(row)
        n_last = max(1, (len(r["steps"]) - 1) // 4)  # the last quarter of the evaluations
        last = slice(-n_last, None)
        gap = p.q_estimate - p.true_value  # [seeds, evals]
        over = gap[:, last].mean(axis=1)  # [seeds]
        early = gap.mean(axis=0)[1:-n_last]  # mean over seeds, after the first probe and before the last quarter
        hump = int(np.argmax(early)) + 1
        summary[f"{DEEP_NAMES[double]} on {env_id}"] = dict(
            env=env_id, algo=DEEP_NAMES[double],
            seeds=seeds, env_steps=int(r["steps"][-1]), seconds=round(r["seconds"], 1), last_probes=n_last,
            num_evals=len(r["steps"]) - 1, eval_episodes=EVAL_EPISODES, extra_steps=EXTRA_STEPS,
            tuned_hidden_size=tuned_config(env_id, double).hidden_size,
            config={k: v for k, v in r["config"].items()},
            final_greedy_return=float(p.greedy_return[:, -1].mean()),
            final_greedy_return_ci=common.boot_ci(p.greedy_return[:, -1]),
            true_value_first=float(p.true_value[:, 0].mean()), q_estimate_first=float(p.q_estimate[:, 0].mean()),
            early_gap_max=float(early[hump]), early_gap_max_step=int(r["steps"][hump]),
            gap_first=float(gap[:, 0].mean()),
            early_gap_min=float(early.min()), early_gap_min_step=int(r["steps"][int(np.argmin(early)) + 1]),
            early_gap_max_greedy_return=float(p.greedy_return[:, hump].mean()),
            seeds_overestimating=int((over > 0).sum()),
            overestimate_last_quarter_raw=[float(x) for x in over],
            replay_q_max_last_10pct=float(r["q_max"][:, -max(1, r["q_max"].shape[1] // 10):].mean()),
            true_value_last_quarter=float(p.true_value[:, last].mean()),
            q_estimate_last_quarter=float(p.q_estimate[:, last].mean()),
            overestimate_last_quarter=common.boot_ci(over),
            overestimate_last_quarter_per_seed=[round(float(x), 2) for x in over],
        )
    common.write_csv(out / "deep.csv", rows)
    return summary


def _bin(x: np.ndarray, steps: np.ndarray, n_bins: int):
    """Average per-update values ``[seeds, U]`` into ``n_bins`` equal chunks of updates."""
    u = x.shape[1] - x.shape[1] % n_bins
    return x[:, :u].reshape(x.shape[0], n_bins, -1).mean(axis=2), steps[:u].reshape(n_bins, -1).mean(axis=1)


def plot_deep(out: Path, results: dict, seeds: int) -> None:
    plt = common.pyplot()
    env_ids = list(DEEP_ENVS)
    fig, axes = plt.subplots(len(env_ids), 3, figsize=(16.5, 4.3 * len(env_ids)))
    for row, env_id in enumerate(env_ids):
        ax_v, ax_o, ax_r = axes[row]
        for double in (False, True):
            r = results[(env_id, double)]
            c, name, p, steps = COLORS[double], DEEP_NAMES[double], r["probes"], r["steps"]
            learn = r["learning"]
            qb, sb = _bin(r["q_max"][:, learn], r["update_steps"][learn], min(50, int(learn.sum())))
            m, lo, hi = common.boot_band(qb)
            ax_v.plot(sb, m, color=c, linewidth=1.6, label=name)
            ax_v.fill_between(sb, lo, hi, color=c, alpha=0.2, linewidth=0)
            m, lo, hi = common.boot_band(p.q_estimate)
            ax_v.plot(steps, m, color=c, linestyle=":", marker=".")
            ax_v.fill_between(steps, lo, hi, color=c, alpha=0.1, linewidth=0)
            m, lo, hi = common.boot_band(p.true_value)
            ax_v.plot(steps, m, color=c, linestyle="--", linewidth=1.6)
            ax_v.fill_between(steps, lo, hi, color=c, alpha=0.15, linewidth=0)
            m, lo, hi = common.boot_band(p.q_estimate - p.true_value)
            ax_o.plot(steps, m, color=c, linewidth=1.6, marker=".", label=name)
            ax_o.fill_between(steps, lo, hi, color=c, alpha=0.2, linewidth=0)
            m, lo, hi = common.boot_band(p.greedy_return)
            ax_r.plot(steps, m, color=c, linewidth=1.6, marker=".", label=name)
            ax_r.fill_between(steps, lo, hi, color=c, alpha=0.2, linewidth=0)
        gamma = results[(env_id, False)]["config"]["gamma"]
        ax_v.set_title(f"{env_id}: value estimates vs the truth (gamma {gamma:g})", fontsize=10)
        ax_v.set_ylabel("value (discounted return)")
        from matplotlib.lines import Line2D

        styles = [Line2D([], [], color="gray", linestyle="-", label="mean max$_a$Q(s, a), replay minibatch states"),
                  Line2D([], [], color="gray", linestyle=":", marker=".", label="mean max$_a$Q(s, a), greedy-policy states"),
                  Line2D([], [], color="gray", linestyle="--", label="true discounted return, greedy-policy states")]
        handles, _ = ax_v.get_legend_handles_labels()
        ax_v.legend(handles=handles + styles, fontsize=7, loc="lower right")
        ax_o.axhline(0.0, color="black", linewidth=0.8)
        ax_o.set_title(f"{env_id}: estimate minus truth on greedy-policy states", fontsize=10)
        ax_o.set_ylabel("max$_a$Q(s, a) - discounted return from s")
        ax_o.legend(fontsize=8)
        ax_r.set_title(f"{env_id}: greedy policy's (undiscounted) episode return", fontsize=10)
        ax_r.set_ylabel("episode return")
        ax_r.legend(fontsize=8)
        for ax in (ax_v, ax_o, ax_r):
            ax.set_xlabel("env steps")
            ax.grid(alpha=0.3)
            ax.ticklabel_format(axis="x", style="sci", scilimits=(0, 3))
    fig.suptitle(f"DQN vs Double DQN: mean over {seeds} seeds, 95% percentile-bootstrap bands over seeds "
                 f"(greedy probes: {EVAL_EPISODES} episodes per point)", fontsize=11)
    fig.tight_layout()
    common.save(fig, out / "deep.png")


# --------------------------------------------------------------------------------------------------
# README.md and finding.md, written from the numbers of this run


def _n(x: float, spec: str = ".2f") -> str:
    """A number for prose, with a typographic minus."""
    return format(x, spec).replace("-", "\u2212")


def _diff_ci(a, b, n_resamples: int = 2000, seed: int = 0):
    """Mean of ``a`` minus mean of ``b`` (independent samples: different seeds) and its 95% bootstrap CI."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    rng = np.random.default_rng(seed)
    d = (rng.choice(a, (n_resamples, a.size)).mean(1) - rng.choice(b, (n_resamples, b.size)).mean(1))
    return float(a.mean() - b.mean()), float(np.percentile(d, 2.5)), float(np.percentile(d, 97.5))


def _ci(t, spec=".1f", sign=True) -> str:
    f = "+" + spec if sign else spec
    return f"{_n(t[0], f)} [{_n(t[1], f)}, {_n(t[2], f)}]"


def tabular_text(tab: dict) -> str:
    s = tab["setup"]
    q, d = tab["Q-learning"], tab["Double Q-learning"]
    true = s["reward_mean"]
    optimal = 50.0 * s["epsilon"]
    E = s["episodes"]
    out = []
    # Q-learning
    if q["prefer_left_episodes"] > 0:
        out.append(
            f"* Q-learning overestimates, and the bias drives its behaviour: its estimate of max_a q(B, a) peaks at "
            f"{_n(q['max_q_b_peak'], '+.2f')} at episode {q['max_q_b_peak_episode']}, although every action in B is worth "
            f"{_n(true, 'g')}. Q(A, left) follows it (peak {_n(q['q_a_left_peak'], '+.3f')} at episode "
            f"{q['q_a_left_peak_episode']}), and in {q['prefer_left_episodes']} episodes (up to episode "
            f"{q['last_prefer_left_episode']}) the agent prefers the bad action: more than 50% left, beyond the 95% "
            f"interval ({q['peak_left_pct']:.0f}% left at episode {q['peak_episode']}).")
    elif q["max_q_b_peak"] > true:
        out.append(
            f"* Q-learning's estimate of max_a q(B, a) peaks at {_n(q['max_q_b_peak'], '+.2f')} (episode "
            f"{q['max_q_b_peak_episode']}), above the true {_n(true, 'g')}, but in no episode does the agent "
            f"significantly prefer left (peak {q['peak_left_pct']:.0f}% at episode {q['peak_episode']}).")
    else:
        out.append(f"* Q-learning's estimate of max_a q(B, a) never rises above the true value {_n(true, 'g')} in this run.")
    ratio = q["left_pct_at_300"] / optimal
    out.append(
        f"  After {E} episodes it is at {q['left_pct_at_300']:.1f}% left, "
        + (f"{ratio:.1f} times the optimal {optimal:g}%." if ratio > 1.2 else f"close to the optimal {optimal:g}%."))
    # Double Q-learning
    rises = d["max_q_b_peak"] > 0.01
    sent = ("* Double Q-learning's bootstrap estimate starts at 0 and "
            + (f"rises to {_n(d['max_q_b_peak'], '+.2f')} (episode {d['max_q_b_peak_episode']})" if rises
               else f"never rises above {_n(d['max_q_b_peak'], '+.3f')}")
            + f"; it is {_n(d['max_q_b_at_300'], '+.2f')} at episode {E}. ")
    if d["prefer_left_episodes"] == 0:
        sent += (f"It never prefers left (no episode's 95% interval lies above 50%): the rate falls from "
                 f"{d['left_pct_first']:.0f}% in episode 1 (a coin flip at the start) to {d['left_pct_at_300']:.1f}% by "
                 f"episode {E}.")
    else:
        sent += (f"It prefers left in {d['prefer_left_episodes']} episodes (peak {d['peak_left_pct']:.0f}% at episode "
                 f"{d['peak_episode']}) and is at {d['left_pct_at_300']:.1f}% left by episode {E}.")
    out.append(sent)
    removed = (d["prefer_left_episodes"] == 0 and d["max_q_b_peak"] < q["max_q_b_peak"]
               and d["left_pct_at_300"] < q["left_pct_at_300"])
    if removed:
        concl = "* So Double Q-learning removes the bias in this MDP, as in the book's figure."
        if d["q_a_left_at_300"] > true:
            concl += (f" Its estimates still sit *above* {_n(true, 'g')} ({_n(d['q_a_left_at_300'], '+.2f')} for q(A, left) "
                      f"at episode {E}) only because left is rarely tried and the 0 initialisation has not yet been "
                      "unlearned.")
    else:
        concl = ("* In this run Double Q-learning does *not* clearly remove the bias: compare the peak estimates "
                 f"({_n(d['max_q_b_peak'], '+.2f')} vs {_n(q['max_q_b_peak'], '+.2f')}) and the final rates of left.")
    out.append(concl)
    return "\n".join(out)


def deep_text(deep: dict) -> tuple[str, list[str], dict]:
    """The table and bullets of section 2, and per-env verdicts for the finding."""
    rows, bullets, verdict = [], [], {}
    rel = []
    for env_id in DEEP_ENVS:
        a, b = deep[f"DQN on {env_id}"], deep[f"Double DQN on {env_id}"]
        true = a["true_value_last_quarter"]

        def cell(x):
            t = x["overestimate_last_quarter"]
            s = _ci(t)
            return f"**{s}**" if t[1] > 0 or t[2] < 0 else s

        rows.append(f"| {env_id} (true value ≈ {_n(true, '.0f')}) | {cell(a)} | {cell(b)} | "
                    f"{_n(a['final_greedy_return'], '.0f')} / {_n(b['final_greedy_return'], '.0f')} |")
        oa, ob = a["overestimate_last_quarter"], b["overestimate_last_quarter"]
        n = a["seeds"]
        per_a = a["overestimate_last_quarter_per_seed"]
        rel.append(max(oa[0], ob[0], 0.0) / max(abs(true), 1e-9))
        if oa[1] > 0:
            s = (f"* On {env_id}, DQN overestimates: about {_n(oa[0], '+.1f')} on values of about {_n(abs(true), '.0f')}, "
                 f"roughly {100 * oa[0] / abs(true):.0f}%. {a['seeds_overestimating']} of {n} seeds overestimate "
                 f"({_n(min(per_a), '+.1f')} to {_n(max(per_a), '+.1f')}).")
            verdict[env_id] = "dqn_over"
        elif oa[2] < 0:
            s = (f"* On {env_id}, DQN *under*estimates once learning has settled: {_n(oa[0], '+.1f')} on values of about "
                 f"{_n(true, '.0f')} ({a['seeds_overestimating']} of {n} seeds above the truth).")
            verdict[env_id] = "dqn_under"
        else:
            s = (f"* On {env_id}, DQN does not overestimate significantly once learning has settled: "
                 f"{_n(oa[0], '+.1f')}, 95% CI [{_n(oa[1], '+.1f')}, {_n(oa[2], '+.1f')}] on values of about "
                 f"{_n(true, '.0f')} ({a['seeds_overestimating']} of {n} seeds above the truth).")
            verdict[env_id] = "dqn_none"
        d = _diff_ci(a["overestimate_last_quarter_raw"], b["overestimate_last_quarter_raw"])
        verdict[env_id + "/double"] = d
        word = "closer to" if abs(ob[0]) < abs(oa[0]) else "further from"
        cis_overlap = ob[1] <= oa[2] and oa[1] <= ob[2]
        if d[1] > 0 or d[2] < 0:
            s += (f" Double DQN's estimate is significantly {'lower' if d[0] > 0 else 'higher'} relative to the truth "
                  f"({_n(ob[0], '+.1f')}; DQN minus Double DQN {_ci(d)}).")
        else:
            s += (f" Double DQN's gap is {_n(ob[0], '+.1f')} ({b['seeds_overestimating']} of {n} seeds positive), "
                  f"{word} the truth than DQN's, but the difference is not significant with {n} seeds (DQN minus "
                  f"Double DQN {_ci(d)}"
                  + ("; the two intervals in the table overlap" if cis_overlap else "") + ").")
        bullets.append(s)
    lag = []
    for env_id in DEEP_ENVS:
        a, b = deep[f"DQN on {env_id}"], deep[f"Double DQN on {env_id}"]
        text = (f"{env_id}: the estimate starts at {_n(a['q_estimate_first'], '.1f')} against a true value of "
                f"{_n(a['true_value_first'], '.0f')}; from the second probe to the last quarter the mean gap ranged from "
                f"{_n(min(a['early_gap_min'], b['early_gap_min']), '+.0f')} to "
                f"{_n(max(a['early_gap_max'], b['early_gap_max']), '+.0f')}")
        if min(a["early_gap_max"], b["early_gap_max"]) > 0:
            text += (f", and its largest value came while the greedy return was still "
                     f"{_n(a['early_gap_max_greedy_return'], '.0f')} (DQN, at {a['early_gap_max_step']:,} steps) and "
                     f"{_n(b['early_gap_max_greedy_return'], '.0f')} (Double DQN, at {b['early_gap_max_step']:,} steps), "
                     f"against a final {_n(a['final_greedy_return'], '.0f')} and {_n(b['final_greedy_return'], '.0f')}")
        lag.append(text)
    bullets.append("* Early in training the \"estimate minus truth\" curve is dominated by learning lag, not by the "
                   "maximisation bias: the network starts near 0 whatever the true values are. " + "; ".join(lag) + ".")
    worst = max(rel)
    if worst < 0.5:
        s = (f"* So the deep results are much weaker than van Hasselt et al.'s Atari results (overestimates of several "
             f"times the true value): here the largest final overestimate is {100 * worst:.0f}% of the true value. "
             "These tasks have few actions (2 and 3), a short effective horizon, and small networks; with 2–3 "
             "actions there is little for the max to select among.")
    else:
        s = (f"* The largest final overestimate here is {100 * worst:.0f}% of the true value, of the order of van Hasselt "
             "et al.'s Atari results.")
    fr = []
    for env_id in DEEP_ENVS:
        a, b = deep[f"DQN on {env_id}"]["final_greedy_return_ci"], deep[f"Double DQN on {env_id}"]["final_greedy_return_ci"]
        if b[1] > a[2]:
            fr.append(f"better on {env_id}")
        elif b[2] < a[1]:
            fr.append(f"worse on {env_id}")
    s += (" Double DQN's final returns are " + (" and ".join(fr) if fr else
          "no different: the 95% intervals over seeds overlap on both envs") + ".")
    bullets.append(s)
    return "\n".join(rows), bullets, verdict


def write_readme(out: Path, info: dict) -> None:
    tab, deep = info["tabular"], info["deep"]
    s = tab["setup"]
    cart, acro = deep["DQN on CartPole-v1"], deep["DQN on Acrobot-v1"]
    table, bullets, _ = deep_text(deep)
    qn, dn = tab["Q-learning"], tab["Double Q-learning"]
    n_seeds = cart["seeds"]

    def tabrow(name, r):
        return (f"| {name} | {r['peak_left_pct']:.1f}% ({r['peak_episode']}) | {r['left_pct_at_300']:.1f}% | "
                f"{r['left_pct_last_50']:.1f}% | {_n(r['q_a_left_peak'], '+.3f')} | {_n(r['max_q_b_peak'], '+.3f')} |")

    deep_times = "; ".join(f"{v['algo']} on {v['env']} {v['seconds']:.0f} s" for v in deep.values())
    text = f"""# Does Q-learning overestimate, and does Double Q-learning fix it?

    {info['command']}     # {info['wall_s'] / 60:.1f} minutes for the run below; writes this README, finding.md, tabular.png, deep.png, tabular.csv, deep.csv, summary.json

This README is written by `run.py` from the numbers of its run; `summary.json` has them all.

## 1. Tabular: the maximisation-bias MDP (Sutton & Barto 2018, Example 6.7, Figure 6.5)

**Set-up.**
* The MDP (`maximization_bias.py`, a pure-JAX `envs.Environment`): from A, "right" terminates with
  reward 0 and "left" leads to B with reward 0. Each of B's {s['num_b_actions']} actions terminates with reward
  ~N({_n(s['reward_mean'], 'g')}, {s['reward_std']:g}). Going left is worth {_n(s['reward_mean'], 'g')}, so the optimal policy always goes right, and an
  ε-greedy agent still goes left with probability ε/2 = {50 * s['epsilon']:g}%.
* Agents: Q-learning and Double Q-learning, ε = {s['epsilon']:g}, α = {s['alpha']:g}, γ = {s['gamma']:g}, Q initialised to 0, ties
  broken at random, {s['episodes']} episodes, {s['seeds']:,} seeds each, vmapped.
* The loop (`tabular.py`) uses `rl_zoo.algos.q_learning`'s TD targets (`q_learning_target`,
  `double_q_learning_target`) and its table update (`apply_td_update`). It does not use
  `q_learning.make_train`: that explores over every column of the table, which would give A ten
  actions instead of two.
* Double Q-learning flips a fair coin per update for the table to update, and acts ε-greedily in
  Q1 + Q2.
* Cross-check (when the experiment was written, not part of this script): an independent NumPy
  implementation of both algorithms agreed with these curves to within sampling noise.

**Figure** `tabular.png`:

![Tabular maximisation bias: % left and value estimates per episode](tabular.png)

* Left: the percentage of "left" actions from A in each episode, averaged over {s['seeds']:,} seeds with
  a 95% t-interval (at most ±{max(qn['left_pct_ci_halfwidth_max'], dn['left_pct_ci_halfwidth_max']):.1f} points), against the optimal {50 * s['epsilon']:g}%.
* Right: the mean estimates of q(A, left) and of max_a q(B, a), where for Double Q-learning the
  latter is the cross-estimate its target actually uses, Q2(B, argmax Q1) and the reverse,
  averaged. The true value of both is {_n(s['reward_mean'], 'g')}.

**What the data says.**

| | peak % left (episode) | % left, episode {s['episodes']} | mean % left, episodes {s['episodes'] - 49}–{s['episodes']} | peak estimate of q(A, left) | peak estimate of max_a q(B, a) |
|---|---:|---:|---:|---:|---:|
{tabrow('Q-learning', qn)}
{tabrow('Double Q-learning', dn)}

(true value of both estimates: {_n(s['reward_mean'], 'g')})

{tabular_text(tab)}

## 2. Deep: DQN and Double DQN on CartPole-v1 and Acrobot-v1 (van Hasselt et al. 2016, figure 3)

**Set-up.**
* Configs: the tuned configs of `rl_zoo/hyperparams/dqn.yaml`, the same for DQN and Double DQN
  (`summary.json` records them). CartPole: {cart['config']['total_timesteps']:,} env steps, γ = {cart['config']['gamma']:g}, {cart['config']['hidden_size']}×{cart['config']['hidden_size']} network. Acrobot:
  {acro['config']['total_timesteps']:,} env steps, γ = {acro['config']['gamma']:g}, and {acro['config']['hidden_size']}×{acro['config']['hidden_size']} hidden layers instead of the tuned {acro['tuned_hidden_size']}×{acro['tuned_hidden_size']}, to fit the time
  budget (final greedy return here: DQN {_n(acro['final_greedy_return'], '.0f')}, Double DQN {_n(deep['Double DQN on Acrobot-v1']['final_greedy_return'], '.0f')}).
* Seeds: {n_seeds} per algorithm, vmapped.
* During training, DQN logs the mean of max_a Q(s, a) over the states of its replay minibatches.
* Probes (`deep.py`, in the same compiled program): every 1/{cart['num_evals']} of training the greedy policy runs {cart['eval_episodes']}
  fresh episodes. For each state s it visits within the usual 500-step limit, the probe records
  max_a Q(s, a) and the discounted return actually obtained from s. The rollouts run {cart['extra_steps']} steps
  past the limit, so the return-to-go of late states is not cut short: DQN bootstraps through
  truncation, so that untruncated value is what it estimates.

**Figure** `deep.png`, one row per env:

![DQN vs Double DQN: value estimates, estimate minus truth, greedy return](deep.png)

* Left: the value estimates (replay states, solid; greedy-policy states, dotted) and the true
  discounted return on the greedy-policy states (dashed), each with its band.
* Middle: estimate minus truth on the same greedy-policy states.
* Right: the greedy policy's undiscounted return.

Lines are means over {n_seeds} seeds; bands are 95% percentile-bootstrap intervals over seeds.

**What the data says** (last quarter of training, i.e. the last {cart['last_probes']} probes; estimate minus truth on
greedy-policy states, mean over seeds with 95% bootstrap CI; bold where the CI excludes 0):

| env | DQN | Double DQN | final greedy return DQN / Double DQN |
|---|---:|---:|---:|
{table}

""" + "\n".join(bullets) + f"""

**Run time:** {info['wall_s']:.0f} s ({info['wall_s'] / 60:.1f} min) for `{info['command']}`
on {info['machine']}: tabular {qn['seconds'] + dn['seconds']:.0f} s; {deep_times}.
"""
    (out / "README.md").write_text(text)
    print(f"wrote {out / 'README.md'}")


def finding(info: dict) -> str:
    tab, deep = info["tabular"], info["deep"]
    q, d = tab["Q-learning"], tab["Double Q-learning"]
    opt = 50 * tab["setup"]["epsilon"]
    E = tab["setup"]["episodes"]
    _, _, verdict = deep_text(deep)
    s = (f"Tabular Q-learning {'overestimates badly' if q['prefer_left_episodes'] else 'overestimates'} on Sutton & "
         f"Barto's maximisation-bias MDP: it picks \"left\" {q['peak_left_pct']:.0f}% of the time at episode "
         f"{q['peak_episode']} and {q['left_pct_at_300']:.0f}% at episode {E}, against an optimal {opt:g}%; Double "
         f"Q-learning is at {d['left_pct_at_300']:.0f}% by episode {E}.")
    parts = []
    for env_id in DEEP_ENVS:
        o = deep[f"DQN on {env_id}"]["overestimate_last_quarter"]
        ob = deep[f"Double DQN on {env_id}"]["overestimate_last_quarter"]
        true = deep[f"DQN on {env_id}"]["true_value_last_quarter"]
        v = verdict[env_id]
        dd = verdict[env_id + "/double"]
        sig = "differs significantly" if (dd[1] > 0 or dd[2] < 0) else "does not differ significantly"
        head = {"dqn_over": f"DQN overestimates by {_n(o[0], '+.1f')} on values of about {_n(abs(true), '.0f')}",
                "dqn_under": f"DQN underestimates ({_n(o[0], '+.1f')} on values of about {_n(true, '.0f')})",
                "dqn_none": f"DQN's error is not significant ({_n(o[0], '+.1f')} on values of about {_n(true, '.0f')})"}[v]
        parts.append(f"on {env_id} {head}, Double DQN's {_n(ob[0], '+.1f')} {sig} from it "
                     f"({deep[f'DQN on {env_id}']['seeds']} seeds)")
    return s + " Deep (last quarter of training): " + "; ".join(parts) + "."


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="small smoke run")
    ap.add_argument("--out", default=None, help="output folder (default: beside this script; /tmp/overestimation with --quick)")
    ap.add_argument("--seeds", type=int, default=8, help="seeds of the deep runs (default 8)")
    ap.add_argument("--tabular-seeds", type=int, default=10_000)
    args = ap.parse_args()
    out = Path(args.out) if args.out else (Path("/tmp/overestimation") if args.quick else HERE)
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    info = dict(machine=common.machine(), command="python experiments/overestimation/run.py" + (" --quick" if args.quick else ""))
    tab_seeds = 500 if args.quick else args.tabular_seeds
    info["tabular"] = tabular(out, tab_seeds)
    info["deep"] = deep(out, 2 if args.quick else args.seeds, args.quick)
    info["wall_s"] = round(time.perf_counter() - t0, 1)
    (out / "summary.json").write_text(json.dumps(info, indent=1, default=str))
    print(json.dumps(info, indent=1, default=str))
    print(f"total {info['wall_s']:.0f}s")
    write_readme(out, info)
    (out / "finding.md").write_text(finding(info) + "\n")
    print(f"wrote {out / 'finding.md'}")
    if out == HERE and hasattr(common, "write_index"):
        common.write_index()


if __name__ == "__main__":
    main()
