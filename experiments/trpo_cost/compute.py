"""Training and timing of the TRPO-cost experiment: TRPO and PPO-clip, tuned configs, the same
env-step budget, seeds vmapped; segments of K updates timed on the host (compilation excluded),
the rollout alone timed apart, the algorithms' segments interleaved so both see the same load."""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass
from pathlib import Path

import jax
import numpy as np

import envs
from experiments import common
from rl_zoo.core.evaluate import evaluate
from rl_zoo.core.rollout import rollout

ENVS = {"CartPole-v1": 100_000, "Pendulum-v1": 300_000}
ALGOS = {"PPO-clip": "ppo", "TRPO": "trpo"}
SEGMENTS = 10
EVAL_EPISODES = 10


@dataclass
class Curve:
    """Greedy return of every seed ``[S, P]`` at ``P`` points of training wall seconds ``[P]``."""

    train_s: np.ndarray
    returns: np.ndarray
    env_steps: np.ndarray


class Runner:
    """One algorithm on one env: ``seeds`` seeds (``first_seed`` ..) vmapped, compiled segments of
    updates (``common.segment_plan``: about ``SEGMENTS`` of K, and a shorter last one where K does not
    divide the updates, so that every update of the budget trains)."""

    def __init__(self, name: str, env_id: str, total: int, seeds: int, eval_episodes: int, first_seed: int = common.REPORT_SEED):
        self.name, self.env_id = name, env_id
        self.module, self.config = common.tuned(ALGOS[name], env_id, total_timesteps=total)
        self.tuned_total = common.tuned(ALGOS[name], env_id)[1].total_timesteps  # the budget the config is tuned for
        env, env_params = envs.make(env_id)
        self.agent = agent = self.module.make_agent(self.config, env, env_params)
        self.plan = common.segment_plan(agent.num_updates, SEGMENTS)  # updates per segment
        self.n_segments = len(self.plan)
        keys = common.seed_keys(first_seed, seeds)
        self.first_seed = first_seed
        t0 = time.perf_counter()
        self.states = jax.jit(jax.vmap(agent.init))(keys)
        ev = jax.jit(jax.vmap(lambda s, key: evaluate(agent.act, s, env, env_params, key, eval_episodes).mean()))
        self.eval_keys = jax.vmap(lambda k: jax.random.fold_in(k, 1))(keys)
        self.evaluate = ev.lower(self.states, self.eval_keys).compile()

        # the rollout alone: same policy, same envs, same number of steps, no learning
        from functools import partial

        from envs import EpisodeStatistics, vectorize
        from rl_zoo.core.on_policy import ActingParams, make_networks, sample_action

        venv = EpisodeStatistics(vectorize(env, env_params, self.config.num_envs))
        networks = make_networks(self.config, env.action_space(env_params))
        policy_fn = partial(sample_action, networks, self.config)

        def rollouts(state, k):
            def one(s, _):
                key, k_r = jax.random.split(s.key)
                env_state, obs, _ = rollout(venv, policy_fn, ActingParams(s.params, s.obs_stats), s.env_state, s.obs, k_r, self.config.num_steps)
                return s._replace(env_state=env_state, obs=obs, key=key), None
            return jax.lax.scan(one, state, None, k)[0]

        # one compiled segment (and rollout-only twin) per distinct length: K, and the rest if any
        self.segment, self.rollout_only = {}, {}
        for k in sorted(set(self.plan)):
            seg = jax.jit(jax.vmap(lambda s, k=k: jax.lax.scan(lambda c, _: agent.update(c), s, None, k)))
            self.segment[k] = seg.lower(self.states).compile()
            self.rollout_only[k] = jax.jit(jax.vmap(partial(rollouts, k=k))).lower(self.states).compile()
        self.compile_s = time.perf_counter() - t0
        self.done = 0
        self.train_s = 0.0
        self.rows = []
        self.segment_s, self.rollout_s, self.segment_updates = [], [], []
        self.metrics = []
        self._record()

    def _record(self):
        keys = jax.vmap(lambda k: jax.random.fold_in(k, self.done))(self.eval_keys)
        returns = np.asarray(self.evaluate(self.states, keys))
        self.rows.append(dict(env_steps=self.done * self.agent.env_steps_per_update, train_s=self.train_s, returns=returns))

    def step(self) -> None:
        k = self.plan[len(self.segment_s)]
        t0 = time.perf_counter()
        states, metrics = self.segment[k](self.states)
        jax.block_until_ready(states)
        dt = time.perf_counter() - t0
        t0 = time.perf_counter()
        jax.block_until_ready(self.rollout_only[k](self.states))
        self.rollout_s.append(time.perf_counter() - t0)
        self.states = states
        self.segment_s.append(dt)
        self.segment_updates.append(k)
        self.train_s += dt
        self.done += k
        self.metrics.append(jax.tree.map(np.asarray, metrics))  # every seed's every update: [seeds, k]
        self._record()

    def curve(self) -> Curve:
        return Curve(np.array([row["train_s"] for row in self.rows]),
                     np.stack([row["returns"] for row in self.rows], axis=1),  # [seeds, points]
                     np.array([row["env_steps"] for row in self.rows]))

    def counts(self) -> dict:
        """Gradient-type evaluations per update. ``policy_gradient_networks``: the networks one policy
        gradient runs back through (PPO's joint policy + value loss: 2; TRPO's surrogate: the policy alone)."""
        c = self.config
        if self.name == "TRPO":
            p = self.metrics[-1].details.policy_step  # fixed by the config: the same in every update
            return dict(policy_gradients=int(p.grad_evals[0, 0]), policy_gradient_samples=c.batch_size,
                        fisher_vector_products=int(p.fvp_evals[0, 0]), fvp_samples=c.batch_size,
                        line_search_forward_passes=float(np.mean(np.concatenate(  # over every update of every seed
                            [m.details.policy_step.line_search_evals.ravel() for m in self.metrics]))),
                        value_gradients=int(self.metrics[-1].details.value_grad_evals[0, 0]),
                        value_gradient_samples=c.batch_size // c.value_minibatches, policy_gradient_networks=1)
        return dict(policy_gradients=c.update_epochs * c.num_minibatches, policy_gradient_samples=c.minibatch_size,
                    fisher_vector_products=0, fvp_samples=0, line_search_forward_passes=0,
                    value_gradients=0, value_gradient_samples=0,  # PPO's value loss shares the policy's gradients
                    policy_gradient_networks=2)

    def summary(self) -> dict:
        sizes = np.array(self.segment_updates)
        per_update = np.array(self.segment_s) / sizes  # [segments]
        rollout = np.array(self.rollout_s) / sizes
        c = self.counts()
        n = self.agent.env_steps_per_update
        final = self.rows[-1]["returns"]
        per_1000 = per_update * 1e6 / n
        ci = common.boot_ci(final)
        return dict(
            algo=self.name, env=self.env_id, seeds=len(final), first_seed=self.first_seed, env_steps_per_update=n,
            updates=self.done, segments=[int(x) for x in sizes],
            env_steps=self.done * n, compile_s=round(self.compile_s, 1),
            wall_ms_per_update_median=1e3 * float(np.median(per_update)),
            rollout_ms_per_update_median=1e3 * float(np.median(rollout)),
            learn_ms_per_update_median=1e3 * float(np.median(per_update - rollout)),
            wall_ms_per_1000_env_steps=1e3 * float(np.median(per_update)) * 1000 / n,
            wall_ms_per_1000_env_steps_q25=float(np.percentile(per_1000, 25)),
            wall_ms_per_1000_env_steps_q75=float(np.percentile(per_1000, 75)),
            learn_ms_per_1000_env_steps=1e3 * float(np.median(per_update - rollout)) * 1000 / n,
            **c,
            gradient_evals_per_1000_env_steps=(c["policy_gradients"] + c["value_gradients"]) * 1000 / n,
            fvp_per_1000_env_steps=c["fisher_vector_products"] * 1000 / n,
            backprop_samples_per_env_step=backprop_per_env_step(dict(c, env_steps_per_update=n)),
            train_s=round(self.train_s, 2), final_return_mean=float(final.mean()),
            final_return_lo=ci[1], final_return_hi=ci[2], final_return_ci=ci,
            tuned_total_timesteps=int(self.tuned_total), total_timesteps=int(self.config.total_timesteps),
            final_return_per_train_s=float(final.mean()) / self.train_s,
            config=dataclasses.asdict(self.config),
        )


FVP_PASSES = 2
"""Backward passes a Fisher-vector product counts as: forward-over-reverse is a gradient and a
forward-mode pass over it, about two gradient evaluations (``trust_region.fisher_vector_product``;
measured on CartPole's batch of 1024, 8 seeds vmapped, 2026-12-06: 1 surrogate gradient + 10 products took
101-130 ms where 11 surrogate gradients took 56-65 ms, 1.7-2.1 gradients per product)."""


def backward_parts(s: dict) -> dict[str, float]:
    """Samples through a backward pass per env step, by kind, counted once per network a pass runs
    through (the two networks are the same size): PPO's joint-loss gradients go back through the policy
    and the value network, so they count under "policy gradients" and "value gradients" alike; a
    Fisher-vector product counts as ``FVP_PASSES`` backward passes; the line search's forward passes
    are not counted."""
    n = s["env_steps_per_update"]
    joint = s.get("policy_gradient_networks", 1) == 2
    policy = s["policy_gradients"] * s["policy_gradient_samples"] / n
    return {"policy gradients": policy,
            "Fisher-vector products": FVP_PASSES * s["fisher_vector_products"] * s["fvp_samples"] / n,
            "value gradients": policy if joint else s["value_gradients"] * s["value_gradient_samples"] / n}


def backprop_per_env_step(s: dict) -> float:
    """All of ``backward_parts``: a count derived from the summary's counts by today's rule, whatever a
    record of an older rule stored."""
    return sum(backward_parts(s).values())


def cost_rows(summaries: list[dict]) -> list[dict]:
    """``cost.csv``: one row per (env, algo), the summary without its config and per-segment lists (its
    backward-pass count derived again, ``backprop_per_env_step``)."""
    return [dict({k: v for k, v in s.items() if k not in ("config", "final_return_ci", "segments")},
                 backprop_samples_per_env_step=backprop_per_env_step(s)) for s in summaries]


def trpo_breakdown(runner: Runner, repeats: int = 15) -> dict:
    """Wall ms of TRPO's two learning phases on one real batch per seed (vmapped, jitted apart, median
    of ``repeats`` calls): the natural-gradient policy step (gradient, CG with Fisher-vector products,
    line search) and the value-function fit."""
    from functools import partial

    from envs import EpisodeStatistics, vectorize
    from rl_zoo.algos import trpo
    from rl_zoo.core import on_policy

    c = runner.config
    env, env_params = envs.make(runner.env_id)
    venv = EpisodeStatistics(vectorize(env, env_params, c.num_envs))
    networks = on_policy.make_networks(c, env.action_space(env_params))

    def batch_of(s):
        _, _, traj = rollout(venv, partial(on_policy.sample_action, networks, c), on_policy.ActingParams(s.params, s.obs_stats),
                             s.env_state, s.obs, s.key, c.num_steps)
        batch, _ = on_policy.prepare_batch(s.params, s.obs_stats, s.reward_scaler, traj, networks, c)
        return batch

    batch = jax.jit(jax.vmap(batch_of))(runner.states)
    pol = jax.jit(jax.vmap(lambda p, b: trpo.policy_step(p, b.obs, b.action, on_policy.batch_advantages(b, c),
                                                          networks.policy.apply, c)))
    opt = on_policy.make_value_optimizer(c)
    val = jax.jit(jax.vmap(lambda p, o, k, b: on_policy.fit_value(p, o, k, b.obs, b.targets, networks.value.apply, opt,
                                                                   c.value_iters, c.value_minibatches)))
    pp = runner.states.params.policy
    vp, vo, keys = runner.states.params.value, runner.states.value_opt_state, runner.states.key

    def timed(f, *args):
        jax.block_until_ready(f(*args))
        ts = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            jax.block_until_ready(f(*args))
            ts.append(time.perf_counter() - t0)
        return 1e3 * float(np.median(ts))

    return dict(policy_step_ms=timed(pol, pp, batch), value_fit_ms=timed(val, vp, vo, keys, batch))


def run_all(seeds: int, quick: bool, first_seed: int = common.REPORT_SEED) -> dict:
    """(env, algo name) -> its finished :class:`Runner`; on each env the two algorithms' segments alternate."""
    runners = {}
    for env_id, total in ENVS.items():
        total = total // 10 if quick else total
        pair = {}
        for name in ALGOS:
            with common.Timer(f"compile {name} on {env_id}"):
                pair[name] = Runner(name, env_id, total, seeds, eval_episodes=EVAL_EPISODES, first_seed=first_seed)
        with common.Timer(f"train both on {env_id} ({seeds} seeds, {total:,} env steps), segments interleaved"):
            for i in range(max(r.n_segments for r in pair.values())):
                for r in pair.values():
                    if i < r.n_segments:
                        r.step()
        runners.update({(env_id, n): r for n, r in pair.items()})
    return runners


def summaries(runners: dict) -> list[dict]:
    """One row per (env, algo) (``cost.csv``), TRPO's with its learning breakdown."""
    out = [r.summary() for r in runners.values()]
    for s in out:
        if s["algo"] == "TRPO":
            with common.Timer(f"TRPO learning breakdown on {s['env']}"):
                s.update(trpo_breakdown(runners[(s["env"], "TRPO")]))
    return out


def curve_rows(curves: dict[tuple, Curve]) -> list[dict]:
    """``curves.csv``: per (env, algo, evaluation) the mean greedy return over seeds and its bootstrap CI."""
    rows = []
    for (env_id, name), c in curves.items():
        for t, steps, ret in zip(c.train_s, c.env_steps, c.returns.T):
            m, lo, hi = common.boot_ci(ret)
            rows.append(dict(env=env_id, algo=name, env_steps=int(steps), train_s=round(float(t), 3),
                             return_mean=m, return_lo=lo, return_hi=hi))
    return rows


def save_curves(curves: dict[tuple, Curve], path: Path) -> None:
    """The per-seed curves (for ``--replot``; ignored by git)."""
    np.savez_compressed(path, **{f"{e}|{a}|{k}": getattr(c, k) for (e, a), c in curves.items()
                                 for k in ("train_s", "returns", "env_steps")})


def load_curves(path: Path) -> dict[tuple, Curve]:
    """The per-seed curves of :func:`save_curves` (a damaged or foreign file: one line, exit 2)."""
    z = common.load_arrays(path, [f"{e}|{a}|{k}" for e in ENVS for a in ALGOS for k in ("train_s", "returns", "env_steps")])
    return {(e, a): Curve(*(z[f"{e}|{a}|{k}"] for k in ("train_s", "returns", "env_steps"))) for e in ENVS for a in ALGOS}
