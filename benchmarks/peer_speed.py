"""`rl-zoo train` against the JAX peers, whole processes, side by side (issue 15).

    python benchmarks/peer_speed.py [--repeats 3] [--peer-python /work/venvs/jaxpeers/bin/python] [--only ppo,ppo16,dqn]

Rows (each a fresh process timed whole by this script; runs alternate rl-zoo, peer, rl-zoo, peer, ...;
medians of ``--repeats``):

* ``ppo``: PPO-clip on CartPole-v1 with rl-zoo's tuned defaults (8 envs x 32 steps, 20 epochs of one
  minibatch of 256, gamma 0.98, lambda 0.8, lr 1e-3, clip 0.2, 64x64 tanh, 100k env steps), 1 seed:
  `rl-zoo train` cold (empty compilation cache) and warm (the caches it left: JAX's and the program store's),
  against **rejax**'s PPO
  with the same numbers, ``jit(train)`` of one key (rejax keeps no compilation cache, so its every run
  is cold).
* ``ppo16``: the same with 16 seeds: `rl-zoo train --seeds 16` cold against rejax's ``jit(vmap(train))``
  over 16 keys.
* ``dqn``: DQN on CartPole-v1 with rl-zoo's tuned defaults (50k env steps, 3-step targets, batch 128,
  train every 256 env steps with 128 gradient steps, target copy every 128 gradient steps = 256 env
  steps, 256x256 ReLU, lr 2.3e-3), 1 seed cold, against **SBX**'s DQN with the same numbers.

Both sides train the same updates (rejax's ``total_timesteps`` and ``eval_freq`` are whole multiples of
the batch, so that it runs rl-zoo's 390, not 400) and evaluate: rl-zoo its default 10 evaluations of 10
greedy episodes per seed plus one at the start (11), rejax 10 evaluations of 10 episodes (its evaluation cut
to 10 episodes, the initial one skipped), SBX 10 greedy episodes at the end (``evaluate_policy``). Both
sides' processes find matplotlib's font list built (``cold_cache_env``; rejax imports it through gymnax). What differs and cannot be matched is listed in
the results file (rejax and SBX use a constant learning rate; rl-zoo anneals it linearly).

The peers are benchmark-only installs in their own virtualenv, never dependencies of rl_zoo:

    python -m venv /work/venvs/jaxpeers
    /work/venvs/jaxpeers/bin/pip install "torch==2.13.0+cpu" rejax sbx-rl "jax==0.10.2" "jaxlib==0.10.2" "gymnax==0.0.9"

(rejax 0.1.3 steps gymnax envs as gymnax 0.0.x returns them; gymnax 1.0's step returns another tuple.)

Targets (issue 15, 2-core CPU): 1 seed cold <= 7 s and <= 0.5x rejax; warm <= 4 s; 16 seeds cold
<= 25 s and <= 0.5x rejax; DQN <= 0.5x SBX.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from importlib import metadata
from pathlib import Path

from _results import RERUN_KEEPS, cold_cache_env, cpu_name, load_average, now_utc, require_counts, require_results_file, timed, write_report

RESULTS = Path(__file__).parent / "results"
DEFAULT_PEER_PYTHON = "/work/venvs/jaxpeers/bin/python"

# ---------------------------------------------------------------------------------------------------------------
# peer workers: run in the peer virtualenv (no rl_zoo there); the settings arrive as JSON


def rejax_worker(settings: dict) -> dict:
    import jax
    import jax.numpy as jnp
    from rejax import PPO
    from rejax.evaluate import evaluate

    # rejax runs ceil(eval_freq / batch) iterations per evaluation for ceil(total / eval_freq) evaluations: exactly
    # rl-zoo's num_updates (total // batch) when total is a whole multiple of the batch and eval_freq of a divisor of it
    algo = PPO.create(env="CartPole-v1", total_timesteps=settings["total"], eval_freq=settings["eval_freq"],
                      num_envs=settings["num_envs"], num_steps=settings["num_steps"], num_epochs=settings["epochs"],
                      num_minibatches=settings["minibatches"], learning_rate=settings["lr"], gamma=settings["gamma"],
                      gae_lambda=settings["lam"], clip_eps=settings["clip"], ent_coef=settings["ent"], vf_coef=settings["vf"],
                      max_grad_norm=settings["max_grad_norm"], skip_initial_evaluation=True,
                      agent_kwargs={"hidden_layer_sizes": (64, 64), "activation": "tanh"})
    env, params = algo.env, algo.env_params

    def ten_episodes(a, ts, rng):  # rejax's own evaluation, cut from 128 episodes to rl-zoo's 10
        return evaluate(a.make_act(ts), rng, env, params, 10, params.max_steps_in_episode)

    algo = algo.replace(eval_callback=ten_episodes)
    keys = jax.random.split(jax.random.PRNGKey(0), settings["seeds"])
    # several seeds: jit(vmap(train)) as rejax's README vmaps them; one seed: jit(train), as its README
    # trains one (and as rl-zoo train runs a single seed: XLA's CPU programs are slower vmapped over one)
    one = settings["seeds"] == 1
    fn, arg = (algo.train, keys[0]) if one else (jax.vmap(algo.train), keys)
    t0 = time.perf_counter()
    train = jax.jit(fn).lower(arg).compile()
    t1 = time.perf_counter()
    _, (lengths, returns) = jax.block_until_ready(train(arg))
    t2 = time.perf_counter()
    returns = returns[None] if one else returns
    return dict(compile_s=t1 - t0, run_s=t2 - t1, final_return=float(jnp.mean(returns[:, -1])))


def sbx_worker(settings: dict) -> dict:
    from sbx import DQN
    from stable_baselines3.common.evaluation import evaluate_policy

    model = DQN("MlpPolicy", "CartPole-v1", learning_rate=settings["lr"], buffer_size=settings["buffer"],
                learning_starts=settings["learning_starts"], batch_size=settings["batch"], gamma=settings["gamma"],
                target_update_interval=settings["target_env_steps"], exploration_fraction=settings["explore_fraction"],
                exploration_final_eps=settings["eps_end"], n_steps=settings["n_step"], train_freq=settings["train_freq"],
                gradient_steps=settings["gradient_steps"], policy_kwargs=dict(net_arch=[settings["hidden"]] * 2), seed=0)
    t0 = time.perf_counter()
    model.learn(settings["total"])
    t1 = time.perf_counter()
    mean, _ = evaluate_policy(model, model.get_env(), n_eval_episodes=10, deterministic=True)
    return dict(run_s=t1 - t0, eval_s=time.perf_counter() - t1, final_return=float(mean))


# ---------------------------------------------------------------------------------------------------------------
# the measuring side


def ppo_settings(seeds: int) -> dict:
    from rl_zoo.driver.spec import resolve_config

    _, c = resolve_config("ppo", "CartPole-v1")
    evals = next(n for n in range(10, 0, -1) if c.num_updates % n == 0)  # rejax's evaluations: they must divide the updates
    return dict(seeds=seeds, total=c.num_updates * c.batch_size, eval_freq=(c.num_updates // evals) * c.batch_size, num_envs=c.num_envs, num_steps=c.num_steps, epochs=c.update_epochs,
                minibatches=c.num_minibatches, lr=c.learning_rate, gamma=c.gamma, lam=c.gae_lambda, clip=c.clip_eps,
                ent=c.ent_coef, vf=c.vf_coef, max_grad_norm=c.max_grad_norm)


def dqn_settings() -> dict:
    from rl_zoo.driver.spec import resolve_config

    _, c = resolve_config("dqn", "CartPole-v1")
    # rl-zoo counts the target interval in gradient steps, SB3/SBX in env steps
    target_env_steps = c.target_update_interval * c.train_frequency // c.gradient_steps
    return dict(total=c.total_timesteps, lr=c.learning_rate, buffer=c.buffer_size, learning_starts=c.learning_starts,
                batch=c.batch_size, gamma=c.gamma, target_env_steps=target_env_steps, explore_fraction=c.exploration_fraction,
                eps_end=c.epsilon_end, n_step=c.n_step, train_freq=c.train_frequency, gradient_steps=c.gradient_steps,
                hidden=c.hidden_size)


def rl_zoo_run(algo: str, seeds: int, cache_home: str) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "run"
        cmd = ["rl-zoo", "train", "--algo", algo, "--env", "CartPole-v1", "--seeds", str(seeds), "--no-progress", "--out", str(out)]
        t = timed(cmd, cold_cache_env(cache_home))  # a cold JAX cache, not a cold font cache (as ppo_speed.py)
        s = json.loads((out / "summary.json").read_text())
    return dict(wall_s=t.wall_s, cpu_s=t.cpu_s, compile_s=s["compile_s"], run_s=s["train_s"], final_return=s["final_return_mean"])


def peer_run(python: str, worker: str, settings: dict) -> dict:
    with tempfile.TemporaryDirectory() as cache:  # a fresh cache home: no peer keeps a JAX cache, make sure of it;
        # matplotlib's font list where it always is, as for rl-zoo's runs (rejax imports gymnax, which imports pyplot:
        # with only a fresh XDG_CACHE_HOME every rejax run rebuilt the font list, a cost no user pays twice)
        env = dict(cold_cache_env(cache), JAX_ENABLE_COMPILATION_CACHE="false")
        t = timed([python, __file__, "--worker", worker, json.dumps(settings)], env)
    return dict(json.loads(t.stdout.strip().splitlines()[-1]), wall_s=t.wall_s, cpu_s=t.cpu_s)


#: the peer packages each row runs, as pip names them
PEER_PACKAGES = {"rejax": "rejax", "sbx": "sbx-rl"}


def peer_version(python: str, needed: set[str] = frozenset()) -> str:
    """The peers' versions in ``python`` ("name not installed" for a missing one); a missing package of
    ``needed`` stops the script with one line (the query's CalledProcessError was a traceback)."""
    code = ("import importlib.metadata as m\n"
            "def v(p):\n    try:\n        return f'{p} {m.version(p)}'\n    except m.PackageNotFoundError:\n"
            "        return f'{p} not installed'\n"
            "print(', '.join(v(p) for p in ('rejax', 'sbx-rl', 'jax', 'ml_dtypes', 'stable_baselines3')))")
    done = subprocess.run([python, "-c", code], capture_output=True, text=True)
    if done.returncode:
        sys.exit(f"peer python {python} could not report its packages: {done.stderr.strip().splitlines()[-1:]}")
    versions = done.stdout.strip()
    missing = sorted(p for p in needed if f"{p} not installed" in versions)
    if missing:
        sys.exit(f"peer python {python} lacks {', '.join(missing)}, which the asked rows run: install the peers as this "
                 "script's docstring says, or pass --peer-python")
    return versions


def measure(row: str, repeats: int, python: str) -> dict[str, list[dict]]:
    runs: dict[str, list[dict]] = {}

    def add(label: str, r: dict) -> None:
        runs.setdefault(label, []).append(r)
        print(f"{row} #{len(runs[label])} {label}: wall {r['wall_s']:.2f} s, CPU {r['cpu_s']:.2f} s, "
              f"return {r['final_return']:.1f}, load {os.getloadavg()[0]:.2f}", flush=True)

    algo, seeds, peer, settings = {"ppo": ("ppo", 1, "rejax", ppo_settings(1)), "ppo16": ("ppo", 16, "rejax", ppo_settings(16)),
                                   "dqn": ("dqn", 1, "sbx", dqn_settings())}[row]
    # one unrecorded run of each command first: a fresh machine's first process reads its files from a cold disk
    # cache (rl-zoo 12.2 s, rejax 30.3 s, against 6.6 s and 12.1 s after), which a median of 3 kept in
    with tempfile.TemporaryDirectory() as cache:
        for name, r in (("rl-zoo", rl_zoo_run(algo, seeds, cache)), (peer, peer_run(python, peer, settings))):
            print(f"{row} warm-up {name} (not recorded): wall {r['wall_s']:.2f} s", flush=True)
    for _ in range(repeats):
        with tempfile.TemporaryDirectory() as cache:
            add("rl-zoo train cold", rl_zoo_run(algo, seeds, cache))
            if row == "ppo":  # the same command again, on the caches the cold run left
                add("rl-zoo train warm", rl_zoo_run(algo, seeds, cache))
            add(peer, peer_run(python, peer, settings))
    return runs


ROWS = {"ppo": ("PPO CartPole-v1, 1 seed", "rejax", "cold <= 7 s, warm <= 4 s; cold <= 0.5x rejax"),
        "ppo16": ("PPO CartPole-v1, 16 seeds", "rejax", "<= 25 s; <= 0.5x rejax"),
        "dqn": ("DQN CartPole-v1, 1 seed (50k)", "sbx", "<= 0.5x SBX")}


def report(results: dict, args, load_before: str, load_after: str, versions: str) -> str:

    med = lambda rows, k: statistics.median(r[k] for r in rows)  # noqa: E731
    lines = ["# `rl-zoo train` against the JAX peers (rejax, SBX): whole processes, side by side", "",
             f"Measured {now_utc()} on {cpu_name()}, {os.cpu_count()} cores, by "
             f"`python benchmarks/peer_speed.py --repeats {args.repeats} --only {args.only}`. Peers: {versions} "
             f"(their own virtualenv; benchmark-only); rl-zoo's side: ml_dtypes {metadata.version('ml_dtypes')} "
             "(an import of 0.7.0 costs about 0.7 s more per process: ml_dtypes_import.md). "
             f"Load average before: {load_before}; after: {load_after}.", "",
             "Each figure is the median wall time of whole fresh processes, taken in alternation (rl-zoo, peer, rl-zoo, ...), "
             "after one unrecorded run of each command (a fresh machine's first process reads its files from a cold disk cache). "
             "rl-zoo cold = an empty JAX compilation cache; warm = the same command again on the caches it left (JAX's "
             "compilation cache and, from 4c15af0, rl-zoo's program store: rl_zoo/driver/program_store.py). The peers "
             "keep no compilation cache: every run of theirs is cold.", "",
             "| row | run | wall s (median) | runs | x peer | target | compile s | train s | CPU s | final return |",
             "|---|---|---:|---|---:|---|---:|---:|---:|---:|"]
    for row, runs in results.items():
        title, peer, target = ROWS[row]
        peer_wall = med(runs[peer], "wall_s")
        for label, rows in runs.items():
            wall = med(rows, "wall_s")
            ratio = f"{wall / peer_wall:.2f}" if label != peer else "1.00"
            comp = f"{med(rows, 'compile_s'):.2f}" if "compile_s" in rows[0] else ""
            runs_text = ", ".join(f"{r['wall_s']:.1f}" for r in rows)
            lines.append(f"| {title} | {label} | {wall:.2f} | {runs_text} | {ratio} | "
                         f"{target if label != peer else ''} | {comp} | {med(rows, 'run_s'):.2f} | {med(rows, 'cpu_s'):.2f} | "
                         f"{statistics.mean(r['final_return'] for r in rows):.1f} |")
    lines += ["", "Settings the peers could not share: rejax and SBX train with a constant learning rate (rl-zoo anneals "
              "it linearly to 0); rejax's networks and initialisation are its own (64x64 tanh like rl-zoo's); SBX counts "
              "the target-network interval in env steps, set to the same 256 env steps as rl-zoo's 128 gradient steps. "
              "rejax evaluates 10 times x 10 episodes inside its program, rl-zoo 11 times (its default 10 and one at the "
              "start); SBX evaluates 10 episodes once at the end. *train s* is not the same quantity on each side: "
              "rejax's is its whole jitted program, evaluations included; rl-zoo's is its training segments alone "
              "(summary.json's train_s, evaluations excluded); SBX's is `learn`. SBX's DQN has no gradient-norm clip (rl-zoo clips at max_grad_norm 10). "
              "rejax's PPO clips each gradient element to +-max_grad_norm (optax.clip; rl-zoo the global norm), always "
              "clips the value loss (rl-zoo's CartPole config does not: clip_value false), and trains actor and critic with "
              "two Adam optimisers (eps 1e-8) on their own losses, where rl-zoo runs one Adam (eps 1e-5) on the combined loss. "
              "With 16 seeds rl-zoo splits them over the CPU's 2 cores as 2 XLA devices (its default, "
              "`rl_zoo.distributed`); rejax's `jit(vmap(train))` runs them as one program on one device."]
    return "\n".join(lines) + "\n"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--repeats", type=int, default=3, help="alternating runs per row (default 3)")
    p.add_argument("--peer-python", default=DEFAULT_PEER_PYTHON, help="the peers' virtualenv python")
    p.add_argument("--only", default="ppo,ppo16,dqn", help="rows to run (default all: ppo,ppo16,dqn)")
    p.add_argument("--out", default=str(RESULTS / "peer_speed.md"), help=f"results file; {RERUN_KEEPS}")
    p.add_argument("--worker", nargs=2, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.worker:
        worker, settings = args.worker
        print(json.dumps((rejax_worker if worker == "rejax" else sbx_worker)(json.loads(settings))))
        return
    require_counts(p, args, "repeats")  # 0 ended in a traceback after the peers' set-up
    require_results_file(p, args.out)  # a folder lost every measurement at the end
    rows = [r.strip() for r in args.only.split(",")]
    if unknown := set(rows) - set(ROWS):  # bad input (exit 2), said before a missing peer
        p.error(f"--only: unknown rows {sorted(unknown)}; choose from {', '.join(ROWS)}")
    if not Path(args.peer_python).exists():
        sys.exit(f"peer python {args.peer_python} not found: install the peers as this script's docstring says, or pass --peer-python")
    sys.path.insert(0, str(Path(__file__).parent))
    load_before = load_average()
    versions = peer_version(args.peer_python, {PEER_PACKAGES[ROWS[r][1]] for r in rows})
    # the peer's matplotlib builds its own font list once (another version's file), untimed, as rl-zoo's was built
    subprocess.run([args.peer_python, "-c", "import matplotlib.font_manager"], env=cold_cache_env(tempfile.gettempdir()), check=True)
    results = {row: measure(row, args.repeats, args.peer_python) for row in rows}
    text = report(results, args, load_before, load_average(), versions)
    write_report(args.out, text)
    print(text)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
