"""Is TRPO computationally expensive next to PPO?

    python experiments/trpo_cost/run.py            # writes trpo_cost.png and CSVs beside this file
    python experiments/trpo_cost/run.py --quick    # a small smoke run (into /tmp/trpo_cost)

TRPO and PPO-clip with their tuned configs (rl_zoo/hyperparams/{trpo,ppo}.yaml) on CartPole-v1 and
Pendulum-v1, the same env-step budget per env for both, several seeds vmapped in one program. As
the driver does, training runs in jitted segments of K updates; each segment is timed on the host
(compilation excluded), and the greedy policy is evaluated between segments (not timed). The two
algorithms' segments are interleaved (PPO, TRPO, PPO, ...) so that both see the same background
load on a shared machine. Per update the script records

* wall seconds (segment time / K) and, apart, the wall seconds of the rollout alone (the same
  policy and env, no learning), so that learning = total - rollout;
* gradient-type evaluations: PPO ``update_epochs x num_minibatches`` gradients of the joint
  policy+value loss on minibatches; TRPO (from its ``Metrics``) 1 policy gradient, ``cg_iters``
  Fisher-vector products (forward-over-reverse, on the full batch), the line search's forward
  passes, and ``value_iters x value_minibatches`` value-function gradients;

and normalises both per 1,000 env steps, since the two configs use different batch sizes.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

import common  # noqa: E402  (first: it sets XLA_FLAGS before jax is imported)

import jax  # noqa: E402
import numpy as np  # noqa: E402

import envs  # noqa: E402
from rl_zoo.core.evaluate import evaluate  # noqa: E402
from rl_zoo.core.rollout import rollout  # noqa: E402

ENVS = {"CartPole-v1": 100_000, "Pendulum-v1": 300_000}
ALGOS = {"PPO-clip": "ppo", "TRPO": "trpo"}
COLORS = {"PPO-clip": "tab:blue", "TRPO": "tab:green"}
SEGMENTS = 10
EVAL_EPISODES = 10


class Runner:
    """One algorithm on one env: ``seeds`` seeds vmapped, compiled segments of ``k`` updates."""

    def __init__(self, name: str, env_id: str, total: int, seeds: int, eval_episodes: int):
        self.name, self.env_id = name, env_id
        self.module, self.config = common.tuned(ALGOS[name], env_id, total_timesteps=total)
        self.tuned_total = common.tuned(ALGOS[name], env_id)[1].total_timesteps  # the budget the config is tuned for
        env, env_params = envs.make(env_id)
        self.agent = agent = self.module.make_agent(self.config, env, env_params)
        self.k = max(1, agent.num_updates // SEGMENTS)
        self.n_segments = agent.num_updates // self.k
        keys = jax.random.split(jax.random.key(7), seeds)
        t0 = time.perf_counter()
        self.states = jax.jit(jax.vmap(agent.init))(keys)
        seg = jax.jit(jax.vmap(lambda s: jax.lax.scan(lambda c, _: agent.update(c), s, None, self.k)))
        self.segment = seg.lower(self.states).compile()
        ev = jax.jit(jax.vmap(lambda s, key: evaluate(agent.act, s, env, env_params, key, eval_episodes).mean()))
        self.eval_keys = jax.random.split(jax.random.key(11), seeds)
        self.evaluate = ev.lower(self.states, self.eval_keys).compile()

        # the rollout alone: same policy, same envs, same number of steps, no learning
        from rl_zoo.algos.ppo import make_networks, sample_action
        from envs import EpisodeStatistics, vectorize
        from functools import partial

        venv = EpisodeStatistics(vectorize(env, env_params, self.config.num_envs))
        networks = make_networks(self.config, env.action_space(env_params))
        policy_fn = partial(sample_action, networks, self.config)

        def rollouts(state):
            def one(s, _):
                key, k_r = jax.random.split(s.key)
                env_state, obs, _ = rollout(venv, policy_fn, (s.params, s.obs_stats), s.env_state, s.obs, k_r, self.config.num_steps)
                return s._replace(env_state=env_state, obs=obs, key=key), None
            return jax.lax.scan(one, state, None, self.k)[0]

        self.rollout_only = jax.jit(jax.vmap(rollouts)).lower(self.states).compile()
        self.compile_s = time.perf_counter() - t0
        self.done = 0
        self.train_s = 0.0
        self.rows = []
        self.segment_s, self.rollout_s = [], []
        self.metrics = []
        self._record()

    def _record(self):
        keys = jax.vmap(lambda k: jax.random.fold_in(k, self.done))(self.eval_keys)
        returns = np.asarray(self.evaluate(self.states, keys))
        self.rows.append(dict(env_steps=self.done * self.agent.env_steps_per_update, train_s=self.train_s, returns=returns))

    def step(self) -> None:
        t0 = time.perf_counter()
        states, metrics = self.segment(self.states)
        jax.block_until_ready(states)
        dt = time.perf_counter() - t0
        t0 = time.perf_counter()
        jax.block_until_ready(self.rollout_only(self.states))
        self.rollout_s.append(time.perf_counter() - t0)
        self.states = states
        self.segment_s.append(dt)
        self.train_s += dt
        self.done += self.k
        self.metrics.append(jax.tree.map(lambda x: np.asarray(x)[0, 0], metrics))
        self._record()

    def counts(self) -> dict:
        """Gradient-type evaluations per update."""
        c = self.config
        if self.name == "TRPO":
            p = self.metrics[-1].policy
            return dict(policy_gradients=int(p.grad_evals), policy_gradient_samples=c.batch_size,
                        fisher_vector_products=int(p.fvp_evals), fvp_samples=c.batch_size,
                        line_search_forward_passes=float(np.mean([m.policy.line_search_evals for m in self.metrics])),
                        value_gradients=int(self.metrics[-1].value_grad_evals),
                        value_gradient_samples=c.batch_size // c.value_minibatches)
        return dict(policy_gradients=c.update_epochs * c.num_minibatches, policy_gradient_samples=c.minibatch_size,
                    fisher_vector_products=0, fvp_samples=0, line_search_forward_passes=0,
                    value_gradients=0, value_gradient_samples=0)  # PPO's value loss shares the policy's gradients

    def summary(self) -> dict:
        per_update = np.array(self.segment_s) / self.k
        rollout = np.array(self.rollout_s) / self.k
        c = self.counts()
        n = self.agent.env_steps_per_update
        grad_samples = c["policy_gradients"] * c["policy_gradient_samples"] + c["value_gradients"] * c["value_gradient_samples"]
        final = self.rows[-1]["returns"]
        per_1000 = per_update * 1e6 / n
        ci = common.boot_ci(final)
        return dict(
            algo=self.name, env=self.env_id, seeds=len(final), env_steps_per_update=n, updates=self.done,
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
            backprop_samples_per_env_step=(grad_samples + c["fisher_vector_products"] * c["fvp_samples"]) / n,
            train_s=round(self.train_s, 2), final_return_mean=float(final.mean()),
            final_return_lo=ci[1], final_return_hi=ci[2], final_return_ci=ci,
            tuned_total_timesteps=int(self.tuned_total), total_timesteps=int(self.config.total_timesteps),
            final_return_per_train_s=float(final.mean()) / self.train_s,
            config=str(self.config),
        )


def trpo_breakdown(runner: Runner, repeats: int = 15) -> dict:
    """Wall ms of TRPO's two learning phases on one real batch per seed (vmapped, jitted apart, median
    of ``repeats`` calls): the natural-gradient policy step (gradient, CG with Fisher-vector products,
    line search) and the value-function fit."""
    from functools import partial

    from envs import EpisodeStatistics, vectorize
    from rl_zoo.algos import trpo, vpg
    from rl_zoo.algos.ppo import make_networks, sample_action
    from rl_zoo.core import losses

    c = runner.config
    env, env_params = envs.make(runner.env_id)
    venv = EpisodeStatistics(vectorize(env, env_params, c.num_envs))
    networks = make_networks(c, env.action_space(env_params))

    def batch_of(s):
        _, _, traj = rollout(venv, partial(sample_action, networks, c), (s.params, s.obs_stats), s.env_state, s.obs, s.key, c.num_steps)
        batch, _ = vpg.prepare_batch(s.params, s.obs_stats, s.reward_scaler, traj, networks, c)
        return batch

    batch = jax.jit(jax.vmap(batch_of))(runner.states)
    pol = jax.jit(jax.vmap(lambda p, b: trpo.policy_step(p, b.obs, b.action, losses.normalize_advantages(b.advantages),
                                                          networks.policy.apply, c)))
    opt = vpg.make_value_optimizer(c)
    val = jax.jit(jax.vmap(lambda p, o, k, b: vpg.fit_value(p, o, k, b.obs, b.targets, networks.value.apply, opt,
                                                             c.value_iters, c.value_minibatches)))
    pp = runner.states.params["policy"]
    vp, vo, keys = runner.states.params["value"], runner.states.value_opt_state, runner.states.key

    def timed(f, *args):
        jax.block_until_ready(f(*args))
        ts = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            jax.block_until_ready(f(*args))
            ts.append(time.perf_counter() - t0)
        return 1e3 * float(np.median(ts))

    return dict(policy_step_ms=timed(pol, pp, batch), value_fit_ms=timed(val, vp, vo, keys, batch))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--seeds", type=int, default=8)
    ap.add_argument("--out", default=None)
    args = ap.parse_args()
    out = Path(args.out) if args.out else (Path("/tmp/trpo_cost") if args.quick else HERE)
    out.mkdir(parents=True, exist_ok=True)
    t_start = time.perf_counter()
    machine = common.machine()
    seeds = 2 if args.quick else args.seeds
    runners = {}
    for env_id, total in ENVS.items():
        total = total // 10 if args.quick else total
        pair = {}
        for name in ALGOS:
            with common.Timer(f"compile {name} on {env_id}"):
                pair[name] = Runner(name, env_id, total, seeds, eval_episodes=EVAL_EPISODES)
        with common.Timer(f"train both on {env_id} ({seeds} seeds, {total:,} env steps), segments interleaved"):
            for i in range(max(r.n_segments for r in pair.values())):
                for r in pair.values():
                    if i < r.n_segments:
                        r.step()
        runners.update({(env_id, n): r for n, r in pair.items()})
    summaries = [r.summary() for r in runners.values()]
    for s in summaries:
        if s["algo"] == "TRPO":
            with common.Timer(f"TRPO learning breakdown on {s['env']}"):
                s.update(trpo_breakdown(runners[(s["env"], "TRPO")]))
    plot(runners, summaries, out, seeds)
    common.write_csv(out / "cost.csv", [{k: v for k, v in s.items() if k not in ("config", "final_return_ci")}
                                        for s in summaries])
    curve_rows = []
    for (env_id, name), r in runners.items():
        for row in r.rows:
            m, lo, hi = common.boot_ci(row["returns"])
            curve_rows.append(dict(env=env_id, algo=name, env_steps=row["env_steps"], train_s=round(row["train_s"], 3),
                                   return_mean=m, return_lo=lo, return_hi=hi))
    common.write_csv(out / "curves.csv", curve_rows)
    info = dict(machine=machine, wall_s=round(time.perf_counter() - t_start, 1), eval_episodes=EVAL_EPISODES,
                command="python experiments/trpo_cost/run.py" + (" --quick" if args.quick else ""),
                summaries=summaries)
    (out / "run_info.json").write_text(json.dumps(info, indent=1, default=str))
    print(json.dumps(info, indent=1, default=str))
    write_readme(out, info, curve_rows)
    (out / "finding.md").write_text(finding(info, curve_rows) + "\n")
    print(f"wrote {out / 'finding.md'}")
    if out == HERE and hasattr(common, "write_index"):
        common.write_index()


# --------------------------------------------------------------------------------------------------
# README.md and finding.md, written from the numbers of this run


def _n(x: float, spec: str = ".0f") -> str:
    """A number for prose, with a typographic minus."""
    return format(x, spec).replace("-", "\u2212")


def _short(env_id: str) -> str:
    return env_id.split("-")[0]


def _cost_word(ratios: list[float]) -> str:
    if all(2 / 3 <= r <= 1.5 for r in ratios):
        return "about as expensive as"
    if all(r > 1 for r in ratios):
        return "more expensive than"
    if all(r < 1 for r in ratios):
        return "cheaper than"
    return "sometimes cheaper and sometimes more expensive than"


def _first_time(curve: list[dict], threshold: float):
    """Training seconds at which the mean return first reached ``threshold`` (None if never)."""
    for row in curve:
        if row["return_mean"] >= threshold:
            return row["train_s"]
    return None


def _matched_batch_benchmark():
    """TRPO and PPO-clip at a matched batch, from benchmarks/results/policy_gradient.json (None if absent)."""
    try:
        data = json.loads((HERE.parents[1] / "benchmarks" / "results" / "policy_gradient.json").read_text())
        cost = {c["name"].split(" ")[0]: c for c in data["cost"]}
        trpo, ppo = cost["trpo"], cost["ppo-clip"]
        return dict(date=data.get("date", "?"), name_trpo=trpo["name"], name_ppo=ppo["name"], batch=trpo["batch"],
                    trpo_ms=trpo["update_ms"], ppo_ms=ppo["update_ms"], trpo_learn=trpo["learn_ms"],
                    trpo_policy=trpo["policy_step_ms"])
    except (OSError, KeyError, ValueError, TypeError):
        return None


def analyse(info: dict, curves: list[dict]) -> dict:
    by = {(s["env"], s["algo"]): s for s in info["summaries"]}
    env_ids = list(dict.fromkeys(s["env"] for s in info["summaries"]))
    f = dict(by=by, envs=env_ids, ratio={}, curve={})
    for e in env_ids:
        f["ratio"][e] = by[(e, "TRPO")]["wall_ms_per_1000_env_steps"] / by[(e, "PPO-clip")]["wall_ms_per_1000_env_steps"]
        for a in ALGOS:
            f["curve"][(e, a)] = [r for r in curves if r["env"] == e and r["algo"] == a]
    f["word"] = _cost_word(list(f["ratio"].values()))
    f["bench"] = _matched_batch_benchmark()
    return f


def write_readme(out: Path, info: dict, curves: list[dict]) -> None:
    from rl_zoo.benchmark import ENV_REFERENCES

    f = analyse(info, curves)
    by, envs_ = f["by"], f["envs"]
    P = {e: by[(e, "PPO-clip")] for e in envs_}
    T = {e: by[(e, "TRPO")] for e in envs_}
    seeds = P[envs_[0]]["seeds"]
    per_update = " and ".join(f"{T[e]['wall_ms_per_update_median']:.0f} vs {P[e]['wall_ms_per_update_median']:.0f} ms "
                              f"on {_short(e)}" for e in envs_)
    sizes = " and ".join(f"{T[e]['env_steps_per_update']} vs {P[e]['env_steps_per_update']}" for e in envs_)
    table = "\n".join(
        f"| {e} | {s['algo']} | {s['env_steps_per_update']} | {s['wall_ms_per_update_median']:.0f} | "
        f"{s['wall_ms_per_1000_env_steps']:.0f} | {s['backprop_samples_per_env_step']:.0f} | "
        f"{_n(s['final_return_mean'], '.1f' if abs(s['final_return_mean']) < 1000 and e.startswith('CartPole') else '.0f')} "
        f"[{_n(s['final_return_ci'][1])}, {_n(s['final_return_ci'][2])}] | {s['train_s']:.1f} |"
        for e in envs_ for s in (P[e], T[e]))
    b = []
    b.append("* Per 1,000 env steps, TRPO took " + " and ".join(f"{f['ratio'][e]:.2f}×" + (" PPO's wall time" if i == 0 else "")
                                                                + f" on {_short(e)}" for i, e in enumerate(envs_))
             + ". These are medians over segments; between the first and third quartile of segments the time per "
             "1,000 env steps ranged over " + "; ".join(
                 f"{s['algo']} on {_short(e)} {s['wall_ms_per_1000_env_steps_q25']:.0f}–{s['wall_ms_per_1000_env_steps_q75']:.0f} ms"
                 for e in envs_ for s in (P[e], T[e]))
             + f" (the machine was shared; {info['machine']}).")
    more = all(T[e]["backprop_samples_per_env_step"] > P[e]["backprop_samples_per_env_step"] for e in envs_)
    s = ("* TRPO pushes " + ("more" if more else "a different number of") + " samples through backward passes per env "
         "step (" + ", ".join(f"{T[e]['backprop_samples_per_env_step']:.0f} vs {P[e]['backprop_samples_per_env_step']:.0f} on "
                              f"{_short(e)}" for e in envs_)
         + "), but they come as a few large full-batch products rather than many small minibatch steps"
         + (", and on this CPU the two cost about the same per env step." if f["word"] == "about as expensive as" else "."))
    for e in envs_:
        t, p = T[e], P[e]
        pol_per_k = t["policy_step_ms"] * 1000 / t["env_steps_per_update"]
        s += (f" On {_short(e)}, TRPO's policy step (gradient, CG with {t['fisher_vector_products']} Fisher-vector products, "
              f"line search) took {t['policy_step_ms']:.0f} ms of its {t['wall_ms_per_update_median']:.0f} ms update and the "
              f"value fit ({t['value_gradients']} Adam steps on {t['value_gradient_samples']}-sample batches) "
              f"{t['value_fit_ms']:.0f} ms (both timed apart); per 1,000 env steps the policy step is {pol_per_k:.0f} ms, "
              + ("less than" if pol_per_k < p["learn_ms_per_1000_env_steps"] else "more than")
              + f" PPO's whole learning step ({p['learn_ms_per_1000_env_steps']:.0f} ms, {p['policy_gradients']} minibatch "
              "gradients per update).")
    b.append(s)
    ls = [T[e]["line_search_forward_passes"] for e in envs_]
    max_kl = _config_field(T[envs_[0]]["config"], "max_kl")
    if all(abs(x - 1.0) < 1e-6 for x in ls):
        b.append(f"* The line search always accepted the first, full step (1.0 forward pass per update on average) at "
                 f"`max_kl = {max_kl}`, so backtracking added nothing here.")
    else:
        b.append(f"* At `max_kl = {max_kl}` the line search took on average "
                 + " and ".join(f"{x:.2f}" + (" forward passes per update" if i == 0 else "") + f" on {_short(e)}"
                                for i, (x, e) in enumerate(zip(ls, envs_)))
                 + " (1 means the full step was accepted at once)"
                 + (", so backtracking added little." if max(ls) <= 1.5 else "."))
    for e in envs_:
        thr = ENV_REFERENCES[e].solved if e in ENV_REFERENCES else None
        parts = []
        for a in ALGOS:
            s_ = by[(e, a)]
            when = _first_time(f["curve"][(e, a)], thr) if thr is not None else None
            ci = s_["final_return_ci"]
            parts.append(f"{a}'s mean return " + (f"first reached {_n(thr)} after {when:.1f} s of training" if when is not None
                                                   else f"never reached {_n(thr)}")
                         + f" and ended at {_n(ci[0])} (95% band {_n(ci[1])} to {_n(ci[2])}) after {s_['train_s']:.1f} s")
        pc, tc = P[e]["final_return_ci"], T[e]["final_return_ci"]
        if tc[1] > pc[2]:
            verdict = "TRPO ended significantly higher."
        elif pc[1] > tc[2]:
            verdict = "PPO ended significantly higher."
        else:
            verdict = "The final bands overlap."
        line = f"* Return per wall-second on {_short(e)} (threshold {_n(thr)}): " + "; ".join(parts) + ". " + verdict
        tuned = P[e].get("tuned_total_timesteps")
        budget = P[e]["total_timesteps"]
        if tuned and tuned > budget * 1.5:
            line += f" {_short(e)}'s PPO config is tuned for {tuned:,} steps, and {budget:,} is its budget here."
        b.append(line)
    b.append("* `final_return_per_train_s` in `cost.csv` is a ratio of a possibly negative return to seconds: read the "
             "curves rather than that column.")
    bench = f["bench"]
    if bench:
        r = bench["trpo_ms"] / bench["ppo_ms"]
        vshare = 1 - bench["trpo_policy"] / bench["trpo_learn"]
        b.append(f"* The answer depends on PPO's settings. `benchmarks/results/policy_gradient.json` (dated {bench['date']}) "
                 f"times one seed at a *matched* batch of {bench['batch']} with {bench['name_ppo']}. There TRPO's update is "
                 f"{r:.1f}× PPO's ({bench['trpo_ms']:.1f} vs {bench['ppo_ms']:.1f} ms), and {100 * vshare:.0f}% of TRPO's "
                 f"learning time is the value fit, not the natural-gradient step.")
    ratios = list(f["ratio"].values())
    lo, hi = min(ratios), max(ratios)
    if f["word"] in ("about as expensive as", "cheaper than"):
        bottom = "with small networks on a CPU, TRPO is not computationally expensive next to PPO."
    else:
        bottom = f"with small networks on a CPU, TRPO is {f['word']} PPO."
    bottom += f" With the tuned configs it costs {lo:.1f}–{hi:.1f}× as much wall time per env step."
    if bench:
        bottom += f" Against a lighter PPO at a matched batch it costs about {bench['trpo_ms'] / bench['ppo_ms']:.1f}× (the benchmark above)."
    if f["word"] == "about as expensive as":
        bottom += (" The usual claim that TRPO is costly (second-order products, CG) does not show at this scale: PPO's "
                   "epochs of minibatch gradients cost about as much.")
    bottom += (" This measurement does not cover large networks on accelerators, where full-batch Fisher-vector products "
               "and the lack of minibatching may weigh differently.")
    compile_s = sum(s["compile_s"] for s in info["summaries"])
    trpo_c = T[envs_[0]]["config"]
    text = f"""# Is TRPO computationally expensive next to PPO?

    {info['command']}        # {info['wall_s'] / 60:.1f} minutes for the run below; writes this README, finding.md, trpo_cost.png, cost.csv, curves.csv, run_info.json

This README is written by `run.py` from the numbers of its run (`cost.csv`, `curves.csv`, `run_info.json`).

## Set-up

TRPO and PPO-clip, each with its tuned config from `rl_zoo/hyperparams/` (the configs are in
`run_info.json`), on {' and '.join(f"{e} ({P[e]['total_timesteps']:,} env steps)" for e in envs_)}. Both algorithms
get the same env-step budget on each env, and {seeds} seeds are vmapped in one compiled program.
Training runs in jitted segments of about 1/{SEGMENTS} of the run each, the way the driver
(`rl_zoo/train.py`) runs them. Each segment is timed on the host (compilation excluded), and the
greedy policy is evaluated between segments ({info.get('eval_episodes', 10)} episodes; not timed). PPO's and TRPO's segments
alternate, so both see the same background load on this shared machine. The script measures:

* **wall ms per update**, the median over segments. It also times the rollout alone (the same
  policy and envs, no learning), so learning = total − rollout. For TRPO it also times, apart and
  on a real batch, the policy step (gradient, {_config_field(trpo_c, 'cg_iters')} CG iterations with Fisher-vector products, line
  search) and the value fit.
* **gradient-type evaluations per update**. PPO runs `update_epochs × num_minibatches` gradients of
  the joint policy+value loss. TRPO's counts come from its `Metrics`: 1 policy gradient,
  `cg_iters = {T[envs_[0]]['fisher_vector_products']}` Fisher-vector products on the full batch, the line search's forward passes,
  and `value_iters × value_minibatches` value gradients. The configs use different batch sizes, so
  the figure puts everything per env step: the samples that go through a backward pass per env
  step.
* **return against training wall-clock seconds.**

## Figure

![TRPO vs PPO-clip: wall time per env step, backward-pass work per env step, return against wall-clock time](trpo_cost.png)

`trpo_cost.png` has one row per env.
* Left: wall ms per 1,000 env steps, split into rollout and learning, with the ms per update and
  TRPO's breakdown written on the bars.
* Middle: the backward-pass work per env step, stacked by kind, with the counts per update.
* Right: greedy return against training seconds. The line is the mean over {seeds} seeds and the band is
  a 95% percentile-bootstrap interval over seeds.

## What the data says

Per update, TRPO against PPO took {per_update}. But its updates are a different size from PPO's ({sizes} env steps), so the
per-update numbers don't compare the two. **Per env step, TRPO is {f['word']} PPO on these tasks**:

| env | algo | env steps / update | ms / update | ms / 1,000 env steps | backward-pass samples / env step | final return ({seeds} seeds, 95% CI) | training s |
|---|---|---:|---:|---:|---:|---:|---:|
{table}

""" + "\n".join(b) + f"""

**Bottom line:** {bottom}

**Run time:** {info['wall_s']:.0f} s ({info['wall_s'] / 60:.1f} min) for `{info['command']}`, of which
about {compile_s:.0f} s was compilation, on {info['machine']}.
"""
    (out / "README.md").write_text(text)
    print(f"wrote {out / 'README.md'}")


def _config_field(config: str, field: str) -> str:
    """A field of a config as ``run_info.json`` records it (``str(config)``)."""
    import re

    m = re.search(rf"\b{field}=([^,)]+)", config)
    return m.group(1) if m else "?"


def finding(info: dict, curves: list[dict]) -> str:
    f = analyse(info, curves)
    by, envs_ = f["by"], f["envs"]
    ratios = " to ".join(f"{f['ratio'][e]:.1f}× ({_short(e)})" for e in sorted(envs_, key=lambda e: f["ratio"][e]))
    head = ("TRPO is not expensive next to PPO here." if f["word"] in ("about as expensive as", "cheaper than")
            else f"TRPO is {f['word']} PPO here.")
    s = f"{head} With the tuned configs it costs {ratios} PPO's wall time per env step."
    for e in envs_:
        t, p = by[(e, "TRPO")], by[(e, "PPO-clip")]
        if t["wall_ms_per_update_median"] > p["wall_ms_per_update_median"] and t["env_steps_per_update"] > p["env_steps_per_update"]:
            s += (f" It is slower per update on {_short(e)} ({t['wall_ms_per_update_median']:.0f} vs "
                  f"{p['wall_ms_per_update_median']:.0f} ms) because its updates are "
                  f"{t['env_steps_per_update'] / p['env_steps_per_update']:.0f}× larger.")
            break
    e = max(envs_, key=lambda e: by[(e, "TRPO")]["policy_step_ms"] / by[(e, "TRPO")]["wall_ms_per_update_median"])
    t = by[(e, "TRPO")]
    s += (f" On {_short(e)}, the natural-gradient step (CG/Fisher-vector products, line search; timed apart) is "
          f"{100 * t['policy_step_ms'] / t['wall_ms_per_update_median']:.0f}% of TRPO's update time.")
    return s


def plot(runners: dict, summaries: list[dict], out: Path, seeds: int) -> None:
    plt = common.pyplot()
    env_ids = list(ENVS)
    fig, axes = plt.subplots(len(env_ids), 3, figsize=(16, 4.4 * len(env_ids)))
    by = {(s["env"], s["algo"]): s for s in summaries}
    for row, env_id in enumerate(env_ids):
        ax_t, ax_c, ax_r = axes[row]
        names = list(ALGOS)
        x = np.arange(len(names))
        roll = [by[(env_id, n)]["rollout_ms_per_update_median"] * 1000 / by[(env_id, n)]["env_steps_per_update"] for n in names]
        learn = [by[(env_id, n)]["learn_ms_per_1000_env_steps"] for n in names]
        ax_t.bar(x, roll, color="lightgray", edgecolor="black", label="rollout (acting + env)")
        ax_t.bar(x, learn, bottom=roll, color=[COLORS[n] for n in names], edgecolor="black", label="learning (update)")
        for i, n in enumerate(names):
            s = by[(env_id, n)]
            text = f"{s['wall_ms_per_update_median']:.0f} ms/update\n({s['env_steps_per_update']} env steps/update)"
            if "policy_step_ms" in s:
                text += (f"\nof which, timed apart:\npolicy step (g, CG, line search) {s['policy_step_ms']:.0f} ms"
                         f"\nvalue fit {s['value_fit_ms']:.0f} ms")
            ax_t.text(i, roll[i] + learn[i], text, ha="center", va="bottom", fontsize=7.5)
        ax_t.set_xticks(x, names)
        ax_t.set_ylabel(f"wall ms per 1,000 env steps ({seeds} seeds vmapped)")
        ax_t.set_title(f"{env_id}: where the time goes (median over segments)", fontsize=10)
        ax_t.legend(fontsize=8, loc="upper left")
        ax_t.set_ylim(0, max(r + l for r, l in zip(roll, learn)) * 1.6)
        # backward-pass work per env step, stacked: evaluations x the samples each one covers / env steps per update
        parts = [("policy gradients", "policy_gradients", "policy_gradient_samples", "tab:blue"),
                 ("Fisher-vector products", "fisher_vector_products", "fvp_samples", "tab:purple"),
                 ("value gradients", "value_gradients", "value_gradient_samples", "tab:olive")]
        bottom = np.zeros(len(names))
        for label, key, samples, color in parts:
            vals = np.array([by[(env_id, n)][key] * by[(env_id, n)][samples] / by[(env_id, n)]["env_steps_per_update"]
                             for n in names])
            ax_c.bar(x, vals, bottom=bottom, color=color, edgecolor="black", label=label)
            bottom += vals
        for i, n in enumerate(names):
            s = by[(env_id, n)]
            text = f"per update: {s['policy_gradients']} grad x {s['policy_gradient_samples']}"
            if s["fisher_vector_products"]:
                text += (f"\n+ {s['fisher_vector_products']} FVP x {s['fvp_samples']}"
                         f"\n+ {s['value_gradients']} value grad x {s['value_gradient_samples']}"
                         f"\n+ {s['line_search_forward_passes']:.1f} line-search forward passes")
            ax_c.text(i, bottom[i], text, ha="center", va="bottom", fontsize=7.5)
        ax_c.set_xticks(x, names)
        ax_c.set_ylim(0, bottom.max() * 1.6)
        ax_c.set_ylabel("samples through a backward pass per env step")
        ax_c.set_title(f"{env_id}: gradient / Fisher-vector work per env step", fontsize=10)
        ax_c.legend(fontsize=7.5, loc="upper left")
        for n in names:
            r = runners[(env_id, n)]
            t = np.array([row["train_s"] for row in r.rows])
            ret = np.stack([row["returns"] for row in r.rows], axis=1)  # [seeds, points]
            m, lo, hi = common.boot_band(ret)
            ax_r.plot(t, m, color=COLORS[n], marker=".", label=f"{n} ({r.rows[-1]['env_steps']:,} env steps)")
            ax_r.fill_between(t, lo, hi, color=COLORS[n], alpha=0.2, linewidth=0)
        ax_r.set_xlabel(f"training wall seconds ({seeds} seeds vmapped; compile and evaluation excluded)")
        ax_r.set_ylabel("greedy return (10 episodes)")
        ax_r.set_title(f"{env_id}: return against wall-clock time", fontsize=10)
        ax_r.legend(fontsize=8, loc="lower right")
        for ax in (ax_t, ax_c, ax_r):
            ax.grid(alpha=0.3)
    fig.suptitle(f"TRPO vs PPO-clip, tuned configs, same env-step budget; return: mean over {seeds} seeds, "
                 "95% percentile-bootstrap band", fontsize=11)
    fig.tight_layout()
    common.save(fig, out / "trpo_cost.png")


if __name__ == "__main__":
    main()
