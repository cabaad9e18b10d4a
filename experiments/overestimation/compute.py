"""Training and the summaries of the overestimation experiment.

1. Tabular: Q-learning and Double Q-learning on the maximisation-bias MDP (``tabular.py``,
   ``maximization_bias.py``), all seeds vmapped; per episode the share of "left" in A and the value
   estimates, with t-intervals over seeds.
2. Deep: DQN and Double DQN with greedy-policy probes (``deep.py``): value estimates against the
   discounted return actually obtained, per probe, with bootstrap CIs over seeds.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import jax
import numpy as np

from experiments import common
from experiments.overestimation.deep import make_experiment, tuned_config
from experiments.overestimation.maximization_bias import MaximizationBias
from experiments.overestimation.tabular import TabularConfig, make_run

TAB_NAMES = {False: "Q-learning", True: "Double Q-learning"}
DEEP_NAMES = {False: "DQN", True: "Double DQN"}
EVAL_EPISODES = 5  # greedy episodes per probe
EXTRA_STEPS = 530  # probe rollouts run this far past the time limit (gamma^530 < 0.005)
#: env -> config overrides (beyond the tuned file) and number of evaluations
DEEP_ENVS = {
    "CartPole-v1": dict(overrides={}, num_evals=20),
    "Acrobot-v1": dict(overrides=dict(hidden_size=64), num_evals=20),
}


@dataclass
class Tabular:
    """Per-episode logs ``[seeds, episodes]`` of both agents (keyed by ``double``) and their run times."""

    env: MaximizationBias
    config: TabularConfig
    logs: dict
    seconds: dict

    @property
    def episodes(self) -> np.ndarray:
        return np.arange(1, self.config.episodes + 1)


def run_tabular(seeds: int) -> Tabular:
    env = MaximizationBias()
    logs, times = {}, {}
    for double in (False, True):
        config = TabularConfig(double=double)
        with common.Timer(f"tabular {TAB_NAMES[double]}, {seeds} seeds") as t:
            run = jax.jit(jax.vmap(make_run(config, env)))
            logs[double] = jax.tree.map(np.asarray, run(jax.random.split(jax.random.key(double), seeds)))
        times[double] = t.s
    return Tabular(env, config, logs, times)


def tabular_summary(tab: Tabular, seeds: int) -> tuple[list[dict], dict]:
    """``tabular.csv`` rows (per episode, means over seeds) and the summary the README quotes."""
    episodes = tab.episodes
    rows = [dict(episode=int(e)) for e in episodes]
    summary = {}
    for double, log in tab.logs.items():
        m, lo, hi = common.t_band(100.0 * log.left.astype(float))
        prefer = lo > 50.0  # episodes in which the agent significantly prefers "left"
        qm, bm = common.t_band(log.q_a_left)[0], common.t_band(log.max_q_b)[0]
        key = "double_q" if double else "q"
        for i, r in enumerate(rows):
            r[f"{key}_left_pct"] = float(m[i])
            r[f"{key}_q_a_left"] = float(qm[i])
            r[f"{key}_max_q_b"] = float(bm[i])
        summary[TAB_NAMES[double]] = dict(
            seconds=round(tab.seconds[double], 1),
            left_pct_first=float(m[0]), peak_left_pct=float(m.max()), peak_episode=int(episodes[m.argmax()]),
            left_pct_last_50=float(m[-50:].mean()), left_pct_at_300=float(m[-1]),
            left_pct_ci_halfwidth_max=float(np.max(hi - m)),
            prefer_left_episodes=int(prefer.sum()),
            last_prefer_left_episode=int(episodes[prefer].max()) if prefer.any() else 0,
            q_a_left_peak=float(qm.max()), q_a_left_peak_episode=int(episodes[qm.argmax()]),
            q_a_left_at_300=float(qm[-1]),
            max_q_b_peak=float(bm.max()), max_q_b_peak_episode=int(episodes[bm.argmax()]), max_q_b_at_300=float(bm[-1]),
        )
    c, params = tab.config, tab.env.default_params
    setup = dict(seeds=seeds, episodes=c.episodes, epsilon=c.epsilon, alpha=c.alpha, gamma=c.gamma,
                 num_b_actions=tab.env.num_b_actions, reward_mean=float(params.reward_mean),
                 reward_std=float(params.reward_std))
    return rows, dict(setup=setup, **summary)


def run_deep(seeds: int, quick: bool, first_seed: int = common.REPORT_SEED) -> dict:
    """(env, double) -> the probes ``[seeds, evals]``, replay max-Q per update and the config of one run.
    Both algorithms train on the same seeds, ``first_seed`` .. ``first_seed + seeds - 1``."""
    results = {}
    for env_id, spec in DEEP_ENVS.items():
        for double in (False, True):
            overrides = dict(spec["overrides"], **(dict(total_timesteps=10_000) if quick else {}))
            config = tuned_config(env_id, double, **overrides)
            run, steps, update_steps = make_experiment(config, env_id, 5 if quick else spec["num_evals"],
                                                       eval_episodes=EVAL_EPISODES, extra_steps=EXTRA_STEPS)
            with common.Timer(f"{DEEP_NAMES[double]} on {env_id}, {seeds} seeds, {config.total_timesteps:,} steps") as t:
                probes, q_max, learning = jax.jit(jax.vmap(run))(common.seed_ids(first_seed, seeds))
                probes = jax.tree.map(np.asarray, probes)
            results[(env_id, double)] = dict(
                config=dataclasses.asdict(config), steps=steps, update_steps=update_steps, probes=probes,
                q_max=np.asarray(q_max), learning=np.asarray(learning)[0], seconds=t.s,
            )
    return results


def double_dqn_file_differs(env_id: str) -> dict:
    """The fields (other than ``double``) in which Double DQN's own tuned config (``double-dqn.yaml``)
    differs from the shared one both arms use here (DQN's, ``dqn.yaml``): field -> its value there."""
    from rl_zoo.train import resolve_config

    own = dataclasses.asdict(resolve_config("double-dqn", env_id)[1])
    shared = dataclasses.asdict(tuned_config(env_id, True))
    return {k: own[k] for k in own if k != "double" and own[k] != shared.get(k)}


def deep_summary(results: dict, seeds: int, first_seed: int = common.REPORT_SEED) -> tuple[dict, list[dict]]:
    """The summary the README quotes (per algorithm and env) and the ``deep.csv`` rows (per probe)."""
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
        hump = int(np.argmax(early)) + 1  # index into the probes
        summary[f"{DEEP_NAMES[double]} on {env_id}"] = dict(
            env=env_id, algo=DEEP_NAMES[double],
            seeds=seeds, first_seed=first_seed, env_steps=int(r["steps"][-1]), updates=int(len(r["update_steps"])),
            env_steps_per_update=int(r["update_steps"][0]), seconds=round(r["seconds"], 1), last_probes=n_last,
            num_evals=len(r["steps"]) - 1, eval_episodes=EVAL_EPISODES, extra_steps=EXTRA_STEPS,
            tuned_hidden_size=tuned_config(env_id, double).hidden_size,
            double_dqn_yaml_differs=double_dqn_file_differs(env_id),
            config=dict(r["config"]),
            final_greedy_return=float(p.greedy_return[:, -1].mean()),
            final_greedy_return_ci=common.boot_ci(p.greedy_return[:, -1]),
            final_greedy_return_per_seed=[round(float(x), 2) for x in p.greedy_return[:, -1]],  # for differences and tests
            true_value_first=float(p.true_value[:, 0].mean()), q_estimate_first=float(p.q_estimate[:, 0].mean()),
            early_gap_max=float(early[hump - 1]), early_gap_max_step=int(r["steps"][hump]),
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
    return summary, rows
