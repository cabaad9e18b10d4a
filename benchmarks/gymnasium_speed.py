"""Speed on gymnasium envs, side by side with Stable-Baselines3: whole processes, alternating, medians.

    python benchmarks/gymnasium_speed.py [--repeats 3] [--envs LunarLander-v3,Hopper-v5] [--sb3-python PATH] [--out DIR]

For each env: PPO with rl_zoo's tuned settings for it (``rl_zoo/hyperparams/ppo.yaml``; SB3 gets the
same numbers: envs, steps, minibatch, epochs, learning rate and its schedule, gamma, lambda, entropy,
clipping, observation/reward normalisation through ``VecNormalize``), 100k env steps (exactly
``num_updates x batch`` for both), as whole processes in this order, ``--repeats`` times:

* ``sb3``: SB3 trains one seed, then evaluates 10 greedy episodes (``evaluate_policy``);
* ``rl-zoo 1 seed`` cold (an empty JAX compilation cache) and warm (the cache it left);
* ``rl-zoo 5 seeds`` cold: ``rl-zoo train --seeds 5``, all seeds in one program.

rl_zoo's runs evaluate at the start and at the end (10 episodes per seed; the host-env default keeps
evaluation under 10% of training's env steps). Targets (issue 14): 1 seed <= 0.6x SB3's wall time;
5 seeds <= 1.5x SB3's single seed. Also measured: the bare env (the same vector env stepped with
random actions, the floor no learner can beat) and gymnasium's SyncVectorEnv against AsyncVectorEnv
(the ``--vector-env`` default). SB3 lives in its own virtualenv (``--sb3-python``; it is a benchmark-only
install: ``python -m venv /work/venvs/sb3 && /work/venvs/sb3/bin/pip install stable-baselines3
"gymnasium[box2d,mujoco]"``). The machine is shared: every ratio compares runs taken in turn, under
the same load; the results file records ``uptime`` before and after.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _results import cold_cache_env, machine, no_cache_env, require_counts, require_results_folder, timed

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "benchmarks" / "results" / "gymnasium"
STEPS = 100_000

def sb3_settings(env_id: str) -> dict:
    """rl_zoo's resolved PPO config for ``env_id`` in SB3's terms."""
    from rl_zoo.driver.spec import resolve_config

    _, c = resolve_config("ppo", env_id, total_steps=STEPS)
    return dict(env=env_id, total=c.num_updates * c.batch_size, n_envs=c.num_envs, n_steps=c.num_steps,
                batch_size=c.batch_size // c.num_minibatches, n_epochs=c.update_epochs, learning_rate=c.learning_rate,
                anneal=c.anneal_lr, gamma=c.gamma, gae_lambda=c.gae_lambda, ent_coef=c.ent_coef, clip_range=c.clip_eps,
                vf_coef=c.vf_coef, max_grad_norm=c.max_grad_norm, norm_obs=c.normalize_obs, norm_reward=c.normalize_reward,
                hidden=[c.hidden_size] * c.num_layers)


def sb3_worker(settings: dict) -> None:
    """Runs in SB3's virtualenv: train, then 10 greedy episodes."""
    import torch
    from stable_baselines3 import PPO
    from stable_baselines3.common.env_util import make_vec_env
    from stable_baselines3.common.evaluation import evaluate_policy
    from stable_baselines3.common.vec_env import VecNormalize

    torch.set_num_threads(2)
    s = settings
    env = make_vec_env(s["env"], n_envs=s["n_envs"], seed=0)
    if s["norm_obs"] or s["norm_reward"]:
        env = VecNormalize(env, norm_obs=s["norm_obs"], norm_reward=s["norm_reward"], gamma=s["gamma"])
    lr = (lambda f: f * s["learning_rate"]) if s["anneal"] else s["learning_rate"]
    model = PPO("MlpPolicy", env, n_steps=s["n_steps"], batch_size=s["batch_size"], n_epochs=s["n_epochs"], learning_rate=lr,
                gamma=s["gamma"], gae_lambda=s["gae_lambda"], ent_coef=s["ent_coef"], clip_range=s["clip_range"],
                vf_coef=s["vf_coef"], max_grad_norm=s["max_grad_norm"], policy_kwargs=dict(net_arch=s["hidden"]), seed=0, device="cpu")
    model.learn(total_timesteps=s["total"])
    if isinstance(env, VecNormalize):
        env.training, env.norm_reward = False, False
    mean, _ = evaluate_policy(model, env, n_eval_episodes=10, deterministic=True)
    print(json.dumps(dict(final_return=float(mean))))


def bare_worker(env_id: str, n_envs: int, total: int, vector: str) -> None:
    """The floor: the same gymnasium vector env stepped with random actions, nothing learned."""
    import gymnasium

    make = gymnasium.vector.AsyncVectorEnv if vector == "async" else gymnasium.vector.SyncVectorEnv
    venv = make([lambda: gymnasium.make(env_id)] * n_envs, autoreset_mode=gymnasium.vector.AutoresetMode.SAME_STEP)
    venv.reset(seed=0)
    venv.action_space.seed(0)
    t0 = time.perf_counter()
    for _ in range(total // n_envs):
        venv.step(venv.action_space.sample())
    print(json.dumps(dict(steps_per_s=total / (time.perf_counter() - t0))))
    venv.close()


def rl_zoo_run(env_id: str, seeds: int, cache: str | None, work: Path) -> dict:
    out = work / f"rz-{env_id}-{seeds}-{time.time_ns()}"
    env = cold_cache_env(cache) if cache else no_cache_env()
    wall = timed(["rl-zoo", "train", "--algo", "ppo", "--env", env_id, "--total-steps", str(STEPS),
                  "--seeds", str(seeds), "--out", str(out)], env, cwd=ROOT).wall_s
    summary = json.loads((out / "summary.json").read_text())
    return dict(wall_s=wall, compile_s=summary["compile_s"], train_s=summary["train_s"], final_return=summary["final_return_mean"],
                eval_env_steps=summary.get("eval_env_steps_total"), env_steps=summary["env_steps_total"])


def sb3_run(settings: dict, python: str) -> dict:
    t = timed([python, str(Path(__file__).resolve()), "--sb3-worker", json.dumps(settings)], cwd=ROOT)
    return dict(wall_s=t.wall_s, final_return=json.loads(t.stdout.strip().splitlines()[-1])["final_return"])


def uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--repeats", type=int, default=3, help="rounds of the four timed processes per env (default 3)")
    p.add_argument("--envs", default="LunarLander-v3,Hopper-v5", help="comma-separated gymnasium ids (default %(default)s)")
    p.add_argument("--sb3-python", default="/work/venvs/sb3/bin/python",
                   help="the python of SB3's own virtualenv (default %(default)s)")
    p.add_argument("--out", type=Path, default=OUT,
                   help="the folder of speed.json and speed.md (default benchmarks/results/gymnasium; envs measured "
                        "there before by another --envs are kept, and so are sections written by hand below speed.md's tables)")
    p.add_argument("--sb3-worker", help=argparse.SUPPRESS)
    p.add_argument("--bare-worker", nargs=4, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.sb3_worker:
        return sb3_worker(json.loads(args.sb3_worker))
    if args.bare_worker:
        env_id, n, total, vector = args.bare_worker
        return bare_worker(env_id, int(n), int(total), vector)
    require_counts(p, args, "repeats")
    require_results_folder(p, args.out, "speed.json and speed.md")

    if not Path(args.sb3_python).exists():
        sys.exit(f"SB3's python {args.sb3_python} not found: install SB3 in its own virtualenv as this script's "
                 "docstring says (python -m venv /work/venvs/sb3 && /work/venvs/sb3/bin/pip install stable-baselines3 "
                 "\"gymnasium[box2d,mujoco]\"), or pass --sb3-python")
    query = subprocess.run([args.sb3_python, "-c", "import stable_baselines3 as s, torch; print(s.__version__, torch.__version__)"],
                           capture_output=True, text=True)
    if query.returncode:  # it was ignored, and the first SB3 run ended in a ModuleNotFoundError traceback
        sys.exit(f"SB3's python {args.sb3_python} cannot import stable_baselines3 and torch "
                 f"({(query.stderr.strip().splitlines() or ['no message'])[-1]}): install them there, or pass --sb3-python")
    sb3_version = query.stdout.split()
    results = dict(machine=machine(), uptime_before=uptime(), sb3=sb3_version[0] if sb3_version else None,
                   torch=sb3_version[1] if len(sb3_version) > 1 else None, steps=STEPS, repeats=args.repeats, envs={})
    out = args.out
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="gym_speed_") as tmp:
        work = Path(tmp)
        for env_id in args.envs.split(","):
            settings = sb3_settings(env_id)
            runs: dict[str, list] = {"sb3": [], "rl-zoo 1 seed cold": [], "rl-zoo 1 seed warm": [], "rl-zoo 5 seeds cold": []}
            for r in range(args.repeats):
                cache = str(work / f"cache-{env_id}-{r}")
                runs["sb3"].append(sb3_run(settings, args.sb3_python))
                runs["rl-zoo 1 seed cold"].append(rl_zoo_run(env_id, 1, cache, work))
                runs["rl-zoo 1 seed warm"].append(rl_zoo_run(env_id, 1, cache, work))
                runs["rl-zoo 5 seeds cold"].append(rl_zoo_run(env_id, 5, str(work / f"cache5-{env_id}-{r}"), work))
                print(env_id, r, {k: round(v[-1]["wall_s"], 1) for k, v in runs.items()}, uptime(), flush=True)
            floors = {}
            for vector in ("sync", "async"):
                for copies in (settings["n_envs"], 5 * settings["n_envs"]):
                    t = timed([sys.executable, str(Path(__file__).resolve()), "--bare-worker", env_id, str(copies),
                               str(min(STEPS, 20_000 * copies)), vector], cwd=ROOT)
                    floors[f"{vector} x{copies}"] = json.loads(t.stdout)["steps_per_s"]
            results["envs"][env_id] = dict(settings=settings, runs=runs, bare_env_steps_per_s=floors, uptime_after=uptime())
            write(results, out)
    results["uptime_after"] = uptime()
    write(results, out)


def written_by_hand(page: Path) -> list[str]:
    """The sections of an earlier speed.md from its first ``## `` heading on: the page this script writes
    has none, so they are readings someone wrote below its tables (results/gymnasium/speed.md's "What else
    ran"), kept when the tables are written again; no page, or none there, is ``[]``."""
    if not page.exists():
        return []
    lines = page.read_text().splitlines()
    start = next((i for i, line in enumerate(lines) if line.startswith("## ")), len(lines))
    return [""] + lines[start:] if start < len(lines) else []


def write(results: dict, out: Path = OUT) -> None:
    """speed.json and speed.md; envs measured by an earlier invocation (``--envs`` another env) are kept,
    and so are the sections written by hand below speed.md's tables (``written_by_hand``)."""
    from rl_zoo.runs import atomic_write_json, atomic_write_text

    if (out / "speed.json").exists():
        earlier = json.loads((out / "speed.json").read_text()).get("envs", {})
        results = dict(results, envs={**{k: v for k, v in earlier.items() if k not in results["envs"]}, **results["envs"]})
    atomic_write_json(out / "speed.json", results)
    lines = [
        "# rl_zoo vs Stable-Baselines3 on gymnasium envs: PPO, 100k env steps, whole processes",
        "",
        f"Made by `python benchmarks/gymnasium_speed.py --repeats {results['repeats']}`. Machine: {results['machine']}; "
        f"SB3 {results['sb3']} (torch {results['torch']}, 2 threads) in its own virtualenv. Load: before `{results['uptime_before']}`"
        + (f", after `{results['uptime_after']}`" if "uptime_after" in results else "") + ".",
        "The machine was shared with other jobs: absolute seconds are inflated and noisy; the ratios compare runs taken",
        "in turn (sb3, rl-zoo 1 seed cold, warm, rl-zoo 5 seeds cold, repeated), medians of the repeats. `uptime` after each",
        "env's block: " + "; ".join(f"{k}: `{v.get('uptime_after', '?')}`" for k, v in results["envs"].items()) + ".",
        "Cold: an empty JAX compilation cache; warm: the cache the cold run left.",
        "Seeds: SB3 seed 0; rl-zoo seed 0 (1 seed) and 0-4 (5 seeds). Every process trains and then evaluates",
        "10 greedy episodes per seed (rl-zoo also at the start).",
        "",
        "| env | run | wall s (median) | runs | x SB3 1 seed | target | compile s | train s | final return | eval env steps |",
        "|---|---|---:|---|---:|---|---:|---:|---:|---:|",
    ]
    targets = {"rl-zoo 1 seed cold": 0.6, "rl-zoo 1 seed warm": 0.6, "rl-zoo 5 seeds cold": 1.5}
    for env_id, e in results["envs"].items():
        base = statistics.median(r["wall_s"] for r in e["runs"]["sb3"]) if e["runs"]["sb3"] else None
        for name, rs in e["runs"].items():
            if not rs:
                continue
            med = statistics.median(r["wall_s"] for r in rs)
            ratio = med / base if base else float("nan")
            target = targets.get(name)
            verdict = "" if target is None else (f"<= {target}: {'met' if ratio <= target else 'missed'}")
            cells = [f"{statistics.median(r[k] for r in rs):.1f}" if rs[0].get(k) is not None else "" for k in ("compile_s", "train_s")]
            final = statistics.median(r["final_return"] for r in rs)
            evals = rs[0].get("eval_env_steps")
            each = ", ".join(f"{r['wall_s']:.1f}" for r in rs)
            lines.append(f"| {env_id} | {name} | {med:.1f} | {each} | {ratio:.2f} | {verdict} | "
                         f"{cells[0]} | {cells[1]} | {final:.1f} | {'' if evals is None else f'{evals:,}'} |")
    lines += ["", "Bare env (random actions, no learner; env steps per second, the floor):", "",
              "| env | vector env x env copies | env steps/s |", "|---|---|---:|"]
    for env_id, e in results["envs"].items():  # each env its own copy counts (its num_envs per seed, x5 seeds)
        for setting, rate in e.get("bare_env_steps_per_s", {}).items():
            lines.append(f"| {env_id} | {setting} | {rate:,.0f} |")
    lines += written_by_hand(out / "speed.md")
    atomic_write_text(out / "speed.md", "\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
