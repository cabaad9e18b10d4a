"""Policy-gradient benchmarks (issue 4): VPG, TRPO and PPO-KL returns, TRPO speed, TRPO vs PPO cost.

Returns: the tuned hyperparameters of ``rl_zoo/hyperparams/{vpg,trpo,ppo-kl}.yaml``, all seeds of
an (algorithm, env) trained in ONE program (``jax.jit(jax.vmap(make_train(...)))``), then a greedy
evaluation of every seed (``rl_zoo.core.evaluate.evaluate`` with ``agent.act``, 10 episodes; the
seed's return is their mean). Two seed sets (issue 19): the hyperparameters were chosen on *tuning*
seeds ``TUNING_SEED0``.. (0..N-1, what ``tune`` runs on); ``returns`` records *held-out* seeds
``REPORT_SEED0``.. (1000..1000+N-1), which played no part in choosing them. Targets (held-out seeds):

* CartPole-v1: >= 475 in at least 8 of 10 seeds, TRPO and PPO-KL within 100k env steps, VPG 500k;
* Pendulum-v1: mean >= -250 over 5 seeds within 1M env steps for TRPO and PPO-KL (VPG reported);
* Acrobot-v1: reported only (5 seeds; 200k steps for TRPO and PPO-KL, 500k for VPG).

Speed: TRPO on CartPole-v1 for 100k env steps with the issue's fixed settings (2 envs x 512 steps,
gamma 0.99, lambda 0.98, max_kl 0.01, 20 full-batch value steps at lr 1e-3, 64x64 tanh), one seed,
in a fresh ``python`` process. The parent times the whole process (what ``time python ...``
reports); the child reports import, compile, run and evaluation seconds apart, plus the process's
CPU seconds (the machine is shared, so wall time depends on the neighbours). "cold" has an empty
persistent compilation cache, "warm" is a second process on the same cache.

Cost: seconds per update of TRPO against PPO-clip and PPO-KL on the same 2 x 512 CartPole batch,
for the whole update (rollout + learn) and for ``learn`` alone on a fixed trajectory, with the
number of gradient-sized evaluations each makes.

    python benchmarks/policy_gradient.py                        # everything, writes results/policy_gradient.md
    python benchmarks/policy_gradient.py returns [--algo trpo] [--env CartPole-v1]   # held-out seeds 1000.., recorded
    python benchmarks/policy_gradient.py returns --seed-set tuning ...   # tuning seeds 0.., recorded apart, for comparison
    python benchmarks/policy_gradient.py speed
    python benchmarks/policy_gradient.py cost
    python benchmarks/policy_gradient.py report                 # rewrite the .md from results/policy_gradient.json
    python benchmarks/policy_gradient.py tune trpo Pendulum-v1 --seeds 3 max_kl=0.02 ...   # tuning seeds 0.., nothing recorded
    python benchmarks/policy_gradient.py returns --algo trpo --env CartPole-v1 --seeds 2 --out /tmp/pg   # a trial

``--out DIR`` writes policy_gradient.json and policy_gradient.md there instead of ``benchmarks/results``;
``returns`` with another ``--seeds`` than a row's is refused into ``benchmarks/results`` (it would replace
the recorded row of that seed set).

The rows, targets and seed sets are in ``policy_gradient_plan.py``, the results file is written by
``policy_gradient_report.py``; this script trains, times and records.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _results import (env_problem, machine, no_cache_env, now_utc, require_counts, require_results, require_results_folder, save_results,
                      versions)
from policy_gradient_plan import (EVAL_EPISODES, RAW, REPORT, REPORT_SEED0, RESULTS, RUNS, SEED_SETS, SPEED_CONFIG,
                                   TUNING_SEED0, load_raw, verdict)
from policy_gradient_report import seed_range, write_report


def _config(algo: str, env_id: str, overrides: dict):
    from rl_zoo import algos
    from rl_zoo.config import apply_overrides
    from rl_zoo.train import load_hyperparams

    module, preset = algos.get(algo)
    config = apply_overrides(module.Config(), {**preset, **load_hyperparams(algo, env_id)})
    config = apply_overrides(config, overrides)
    config.validate()
    return module, config


def train_and_evaluate(algo: str, env_id: str, seeds: int, overrides: dict | None = None, seed0: int = TUNING_SEED0) -> dict:
    """Seeds ``seed0 .. seed0 + seeds - 1`` in one jitted, vmapped program; greedy evaluation of each seed at the end."""
    import jax
    import jax.numpy as jnp
    import numpy as np

    import envs
    from rl_zoo.config import to_dict
    from rl_zoo.core.evaluate import evaluate
    from rl_zoo.core.types import mean_episode_return

    module, config = _config(algo, env_id, overrides or {})
    env, params = envs.make(env_id)
    agent = module.make_agent(config, env, params)
    train = module.make_train(config, env, params)

    keys = jax.vmap(jax.random.key)(jnp.arange(seed0, seed0 + seeds))
    t0 = time.perf_counter()
    compiled = jax.jit(jax.vmap(train)).lower(keys).compile()
    t1 = time.perf_counter()
    states, metrics = jax.block_until_ready(compiled(keys))
    t2 = time.perf_counter()
    # Evaluation is a second program: fused into the training program (jit(vmap(train + evaluate)))
    # the XLA CPU runtime hung here (all threads idle) for Gaussian policies on Pendulum-v1.
    eval_keys = jax.vmap(lambda k: jax.random.fold_in(k, 1))(keys)
    final = jax.jit(jax.vmap(lambda s, k: evaluate(agent.act, s, env, params, k, EVAL_EPISODES).mean()))(states, eval_keys)
    # [seeds] mean return of the episodes that ended in the last 5% of updates (NaN if none ended)
    tail = max(1, config.num_updates // 20)
    train_tail = np.asarray(mean_episode_return(jax.tree.map(lambda x: x[:, -tail:], metrics.episode), axis=1))
    return dict(
        algo=algo, env=env_id, seeds=seeds, seed_list=list(range(seed0, seed0 + seeds)),
        seed_set="report" if seed0 >= REPORT_SEED0 else "tuning", env_steps=config.num_updates * config.batch_size,
        config={k: v for k, v in to_dict(config).items() if k in (load_overrides(algo, env_id) | set(overrides or {}))},
        final=[float(r) for r in np.asarray(final)], train_tail=[float(r) for r in train_tail],
        compile_s=t1 - t0, run_s=t2 - t1, date=time.strftime("%Y-%m-%d"), load=os.getloadavg()[0], machine=machine(),
        versions=versions(),
    )


def load_overrides(algo: str, env_id: str) -> set[str]:
    from rl_zoo.train import load_hyperparams

    return set(load_hyperparams(algo, env_id))


def summarise(r: dict) -> str:
    judged = verdict(r["algo"], r["env"], r["final"], ("PASS", "FAIL", "-"))
    final = r["final"]
    return (f"{r['algo']:>6} {r['env']:<12} {r['env_steps']:>9,} steps x seeds {seed_range(r)}: greedy mean {sum(final) / len(final):8.1f}"
            f" min {min(final):8.1f}  " + (f">=475: {sum(x >= 475 for x in final):>2}  " if r["env"] == "CartPole-v1" else "") + f"[{judged}]  "
            f"(compile {r['compile_s']:.1f}s, run {r['run_s']:.1f}s)\n    per seed: {' '.join(f'{x:.0f}' for x in final)}")


# ----------------------------------------------------------------------------------------------
# Speed: a fresh process per measurement.
# ----------------------------------------------------------------------------------------------

CHILD = r"""
import json, resource, sys, time
t_start = time.perf_counter()
import jax, jax.numpy as jnp
import envs
from rl_zoo.algos import trpo
from rl_zoo.core.evaluate import evaluate
from rl_zoo.core.types import mean_episode_return
from rl_zoo.train import enable_compilation_cache
enable_compilation_cache(sys.argv[1])
config = trpo.Config(**json.loads(sys.argv[2]))
env, params = envs.make("CartPole-v1")
agent = trpo.make_agent(config, env, params)
train = trpo.make_train(config, env, params)
def run(key):  # train, then 10 greedy episodes: one program, one compilation
    state, metrics = train(key)
    return evaluate(agent.act, state, env, params, jax.random.fold_in(key, 1), 10), metrics.episode
t_import = time.perf_counter()
key = jax.random.key(0)
compiled = jax.jit(run).lower(key).compile()
t_compile = time.perf_counter()
returns, curve = jax.block_until_ready(compiled(key))
t_run = time.perf_counter()
usage = resource.getrusage(resource.RUSAGE_SELF)
print(json.dumps(dict(import_s=t_import - t_start, compile_s=t_compile - t_import, run_s=t_run - t_compile,
                      cpu_s=usage.ru_utime + usage.ru_stime, returns=[float(r) for r in returns],
                      train_tail=float(mean_episode_return(jax.tree.map(lambda x: x[-5:], curve))), updates=int(config.num_updates))))
"""


def speed(repeats: int = 5) -> list[dict]:
    """``repeats`` triples of (cold, cold+write, warm) processes: the machine is shared, so single timings vary."""
    rows = []
    for _ in range(repeats):
        rows += _speed_pair()
    return rows


def _speed_pair() -> list[dict]:
    rows = []
    with tempfile.TemporaryDirectory() as cache:
        # cold: no persistent cache at all; cold+write: empty cache, every executable serialised into
        # it (what a first `rl-zoo` run pays); warm: a second process reading that cache
        for label in ("cold", "cold+write", "warm"):
            env = no_cache_env() if label == "cold" else dict(os.environ)
            t0 = time.perf_counter()
            out = subprocess.run([sys.executable, "-c", CHILD, cache, json.dumps(SPEED_CONFIG)], capture_output=True, text=True, check=True, env=env)
            r = json.loads(out.stdout.strip().splitlines()[-1])
            r.update(cache=label, wall_s=time.perf_counter() - t0, load=os.getloadavg()[0])
            rows.append(r)
            print(f"TRPO speed {label}: wall {r['wall_s']:.2f}s (cpu {r['cpu_s']:.2f}s; import {r['import_s']:.2f}, compile {r['compile_s']:.2f}, "
                  f"run {r['run_s']:.2f}); greedy mean {sum(r['returns']) / 10:.1f}, min {min(r['returns']):.0f}; load {r['load']:.1f}", flush=True)
    return rows


# ----------------------------------------------------------------------------------------------
# Cost per update: TRPO against PPO on the same batch.
# ----------------------------------------------------------------------------------------------


def cost(repeats: int = 7, updates: int = 20) -> list[dict]:
    """Compile every variant first, then time them in interleaved rounds (the load on this shared
    machine drifts, so timing one variant after the other would compare different moments)."""
    from functools import partial

    import jax
    import numpy as np

    import envs
    from envs import EpisodeStatistics, vectorize
    from rl_zoo.algos import ppo, trpo
    from rl_zoo.core.on_policy import ActingParams, make_networks, make_value_optimizer, prepare_batch, sample_action
    from rl_zoo.core.losses import normalize_advantages
    from rl_zoo.core.rollout import rollout

    env, params = envs.make("CartPole-v1")
    shared = dict(total_timesteps=100_000, num_envs=2, num_steps=512, gamma=0.99, gae_lambda=0.98)
    variants = {
        "trpo (cg 10, 20 value steps)": trpo.Config(**SPEED_CONFIG),
        "ppo-clip (10 epochs x 4 minibatches)": ppo.Config(**shared),
        "ppo-kl (10 epochs x 4 minibatches)": ppo.Config(**shared, loss="kl"),
    }
    timed = {}  # name -> {"update": (fn, args), "learn": ..., "policy_step": ...}
    rows = {}
    for name, config in variants.items():
        is_trpo = isinstance(config, trpo.Config)
        module = trpo if is_trpo else ppo
        agent = module.make_agent(config, env, params)
        state = jax.jit(agent.init)(jax.random.key(0))
        t0 = time.perf_counter()
        many = jax.jit(lambda s, agent=agent: jax.lax.scan(lambda c, _: agent.update(c), s, None, updates)).lower(state).compile()
        compile_s = time.perf_counter() - t0
        trained, metrics = jax.block_until_ready(many(state))  # warm-up, and a trained state to time learn from

        # learn alone on one fixed trajectory (the rollout's share is the difference)
        networks = make_networks(config, env.action_space(params))
        if is_trpo:
            learn = partial(trpo.learn, networks=networks, value_optimizer=make_value_optimizer(config), config=config)
        else:
            learn = partial(ppo.learn, networks=networks, optimizer=ppo.make_optimizer(config), config=config)
        venv = EpisodeStatistics(vectorize(env, params, config.num_envs))
        policy_fn = partial(sample_action, networks, config)
        collect = jax.jit(lambda s, venv=venv, policy_fn=policy_fn, n=config.num_steps: rollout(
            venv, policy_fn, ActingParams(s.params, s.obs_stats), s.env_state, s.obs, s.key, n))
        _, _, traj = collect(trained)
        learn = jax.jit(learn).lower(trained, traj).compile()
        timed[name] = {"update": (many, (state,), 1), "rollout": (collect, (trained,), updates), "learn": (learn, (trained, traj), updates)}
        if is_trpo:  # the natural-gradient policy step alone (no value fit), on the same batch
            batch, _ = prepare_batch(trained.params, trained.obs_stats, trained.reward_scaler, traj, networks, config)
            step = jax.jit(lambda p, b, networks=networks, config=config: trpo.policy_step(
                p, b.obs, b.action, normalize_advantages(b.advantages), networks.policy.apply, config))
            timed[name]["policy_step"] = (step, (trained.params.policy, batch), updates)
            info = metrics.details.policy_step
            evals = dict(
                policy_grads=float(np.mean(info.grad_evals)), fisher_vector_products=float(np.mean(info.fvp_evals)),
                line_search_candidates=float(np.mean(info.line_search_evals)), value_grads=float(np.mean(metrics.details.value_grad_evals)),
                samples_per_evaluation=config.batch_size,
            )
        else:
            evals = dict(minibatch_grads=config.update_epochs * config.num_minibatches, samples_per_evaluation=config.minibatch_size)
        for fn, args, _ in timed[name].values():
            jax.block_until_ready(fn(*args))
        rows[name] = dict(name=name, batch=config.batch_size, compile_s=compile_s, evals=evals)

    times = {name: {part: [] for part in parts} for name, parts in timed.items()}
    for _ in range(repeats):
        for name, parts in timed.items():
            for part, (fn, args, calls) in parts.items():
                t0 = time.perf_counter()
                for _ in range(calls):
                    out = fn(*args)
                jax.block_until_ready(out)
                times[name][part].append((time.perf_counter() - t0) / updates)
    for name, row in rows.items():
        t = times[name]
        row.update(update_ms=1e3 * min(t["update"]), rollout_ms=1e3 * min(t["rollout"]), learn_ms=1e3 * min(t["learn"]),
                   policy_step_ms=1e3 * min(t["policy_step"]) if "policy_step" in t else None, load=os.getloadavg()[0])
        step_ms = row["policy_step_ms"]
        print(f"{name:<40} update {row['update_ms']:7.2f} ms  rollout {row['rollout_ms']:6.2f} ms  learn {row['learn_ms']:7.2f} ms  policy step "
              f"{step_ms if step_ms is not None else float('nan'):6.2f} ms  (compile {row['compile_s']:.1f}s)  {row['evals']}")
    return list(rows.values())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("what", nargs="?", default="all", choices=["all", "returns", "speed", "cost", "report", "tune"])
    parser.add_argument("rest", nargs="*", help="tune: ALGO ENV field=value ...")
    parser.add_argument("--algo")
    parser.add_argument("--env")
    parser.add_argument("--seeds", type=int)
    parser.add_argument("--seed-set", choices=list(SEED_SETS),
                        help=f"tuning: seeds {TUNING_SEED0}.. (default of tune); report: held-out seeds {REPORT_SEED0}.. (default of returns)")
    parser.add_argument("--seed0", type=int, help="tune: first seed, instead of the seed set's")
    parser.add_argument("--repeats", type=int, default=5, help="speed: (cold, cold+write, warm) process triples (default 5)")
    parser.add_argument("--out", type=Path, default=RESULTS,
                        help=f"folder of {RAW.name} and {REPORT.name} (default benchmarks/results)")
    args = parser.parse_intermixed_args()
    rows = _check_args(parser, args)
    raw_path, report_path = args.out / RAW.name, args.out / REPORT.name
    if args.what == "tune":
        algo, env_id, *pairs = args.rest
        budget, seeds = RUNS.get((algo, env_id), (None, 5))
        overrides = {"total_timesteps": budget} if budget else {}
        overrides.update(p.split("=", 1) for p in pairs)
        seed0 = args.seed0 if args.seed0 is not None else SEED_SETS[args.seed_set or "tuning"]
        print(summarise(train_and_evaluate(algo, env_id, args.seeds or seeds, overrides, seed0)))
        return
    if args.what == "report":
        require_results(raw_path, "policy_gradient.py")
    args.out.mkdir(parents=True, exist_ok=True)
    raw = load_raw(raw_path)
    if args.what in ("all", "speed", "cost"):
        raw["speed_date"], raw["speed_machine"] = now_utc(), machine()
    if args.what in ("all", "returns"):
        for (algo, env_id), (budget, seeds) in rows.items():
            seed_set = args.seed_set or "report"
            r = train_and_evaluate(algo, env_id, args.seeds or seeds, {"total_timesteps": budget}, SEED_SETS[seed_set])
            print(summarise(r), flush=True)
            raw["returns" if seed_set == "report" else "returns_tuning"][f"{algo}/{env_id}"] = r
            save_results(raw_path, raw)
    if args.what in ("all", "speed"):
        raw["speed"] = speed(args.repeats)
        save_results(raw_path, raw)
    if args.what in ("all", "cost"):
        raw["cost"] = cost()
        save_results(raw_path, raw)
    write_report(raw, report_path)


def _check_args(parser: argparse.ArgumentParser, args) -> dict:
    """Bad flags refused before anything trains or is rewritten; the rows of ``RUNS`` that ``--algo`` and
    ``--env`` select (every row without them)."""
    require_counts(parser, args, "seeds", "repeats")
    require_results_folder(parser, args.out, f"{RAW.name} and {REPORT.name}")
    if args.what == "tune":
        if len(args.rest) < 2:
            parser.error("tune needs ALGO ENV [field=value ...], such as: tune trpo Pendulum-v1 max_kl=0.02")
        algo, env_id, *pairs = args.rest
        if bad := [p for p in pairs if "=" not in p]:
            parser.error(f"tune: {' '.join(bad)}: give config fields as field=value")
        budget, _ = RUNS.get((algo, env_id), (None, 5))  # the overrides the run takes (main's)
        try:  # an unknown algorithm or field, a value out of range: one line, before anything compiles
            _config(algo, env_id, {**({"total_timesteps": budget} if budget else {}), **dict(p.split("=", 1) for p in pairs)})
        except ValueError as e:
            parser.error(f"tune {algo} {env_id}: {e}")
        if problem := env_problem(env_id):  # made after the config (train_and_evaluate): an unknown id was a traceback
            parser.error(f"tune {algo} {env_id}: {problem}")
        return {}
    if args.rest:
        parser.error(f"{args.what} takes no field=value pairs ({' '.join(args.rest)}): they are for tune")
    rows = {key: plan for key, plan in RUNS.items()
            if (not args.algo or key[0] == args.algo) and (not args.env or key[1] == args.env)}
    if args.what in ("all", "returns") and not rows:
        parser.error(f"no row is {args.algo or 'any algorithm'} on {args.env or 'any env'}; the rows: "
                     + ", ".join(f"{a} {e}" for a, e in RUNS))
    other_seeds = args.seeds is not None and any(args.seeds != seeds for _, seeds in rows.values())
    if args.what in ("all", "returns") and other_seeds and args.out.resolve() == RESULTS.resolve():
        kind = "held-out" if (args.seed_set or "report") == "report" else "tuning-seed"
        parser.error(f"returns with --seeds {args.seeds} would replace the {kind} rows recorded in {RAW} "
                     "(their seed counts are the plan's): give --out DIR for a trial")
    return rows


if __name__ == "__main__":
    main()
