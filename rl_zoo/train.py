"""The driver: resolve a config, train all seeds in jitted segments, evaluate and record between them.

The hot loop is one compiled program per segment: ``K`` updates of every seed (``lax.scan`` inside
``jax.vmap`` over seeds). Between segments the host evaluates the greedy policy on separate env
copies, writes a metrics row per seed, and advances the progress display; a crash loses at most one
segment. Gymnasium-adapter envs cannot be vmapped: their seeds run one after another, the rollout
on the host and the learning step jitted.
"""

from __future__ import annotations

import dataclasses
import os
import resource
import time
from dataclasses import dataclass
import functools
from functools import partial
from pathlib import Path
from typing import Any, Callable

import numpy as np

from rl_zoo import checkpoint, distributed, runs
from rl_zoo.config import ConfigError, apply_overrides, check_types


class NonFiniteError(RuntimeError):
    """Training produced NaN or Inf; the message names the update, the seed and the quantity."""

HYPERPARAMS_DIR = Path(__file__).parent / "hyperparams"


def enable_compilation_cache(path: str | os.PathLike | None = None) -> str | None:
    """Turn on JAX's persistent compilation cache (default ``~/.cache/rl_zoo/jax``) so that a
    repeated run starts warm. ``RL_ZOO_NO_CACHE=1`` turns it off."""
    if os.environ.get("RL_ZOO_NO_CACHE"):
        return None
    import jax

    path = Path(path or Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "rl_zoo" / "jax")
    path.mkdir(parents=True, exist_ok=True)
    jax.config.update("jax_compilation_cache_dir", str(path))
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
    jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)
    return str(path)


def load_hyperparams(algo: str, env_id: str) -> dict[str, Any]:
    """Tuned fields for ``(algo, env_id)`` from ``rl_zoo/hyperparams/<algo>.yaml`` (empty if none)."""
    import yaml

    path = HYPERPARAMS_DIR / f"{algo}.yaml"
    if not path.exists():
        return {}
    table = yaml.safe_load(path.read_text()) or {}
    return dict(table.get(env_id) or {})


def resolve_config(algo: str, env_id: str, overrides: dict[str, Any] | None = None, total_steps: int | None = None):
    """Config = defaults <- the algorithm name's presets <- tuned hyperparams <- ``overrides``; validated.

    Returns ``(module, config)``; raises ``ValueError``/``ConfigError`` naming the field and the rule
    before anything is compiled.
    """
    from rl_zoo import algos

    module, preset = algos.get(algo)
    config = apply_overrides(module.Config(), {**preset, **load_hyperparams(algo, env_id)})
    config = apply_overrides(config, dict(overrides or {}))
    if total_steps is not None:
        config = apply_overrides(config, {"total_timesteps": total_steps})
    check_types(config)
    config.validate()
    return module, config


def _segments(num_updates: int, num_evals: int) -> tuple[int, int]:
    """(updates per segment K, number of segments): a K that divides ``num_updates`` near the asked
    number of evaluations, so that one compiled segment serves the whole run."""
    num_evals = max(1, min(num_evals, num_updates))
    candidates = [n for n in range(max(1, num_evals // 2), 2 * num_evals + 1) if num_updates % n == 0]
    n = min(candidates, key=lambda c: abs(c - num_evals)) if candidates else num_evals
    k = num_updates // n
    return k, n


@dataclass
class RunResult:
    run_dir: Path
    summary: dict[str, Any]
    final_state: Any = None


def _peak_memory_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def train(
    algo: str | None = None,
    env_id: str | None = None,
    *,
    seeds: int = 1,
    seed: int = 0,
    total_steps: int | None = None,
    overrides: dict[str, Any] | None = None,
    out: str | os.PathLike | None = None,
    runs_root: str | os.PathLike = "runs",
    num_evals: int = 10,
    eval_episodes: int = 10,
    backend: str | None = None,
    progress: bool = True,
    log: Callable[[str], None] = print,
    command: str | None = None,
    resume: str | os.PathLike | None = None,
    keep_checkpoints: int = 3,
    devices: int | None = None,
) -> RunResult:
    """Train ``algo`` on ``env_id`` for ``seeds`` seeds (``seed, seed+1, ...``) and write a run directory.

    ``resume=RUN_DIR`` continues an interrupted run from its last checkpoint with the settings in its
    ``config.json`` (the other arguments are then ignored); the metrics rows already written are
    kept and none is duplicated. Raises ``NonFiniteError`` if a loss, metric or parameter becomes
    NaN or Inf (the last good checkpoint is kept).

    The seeds are split over ``devices`` devices (default: all, see ``rl_zoo.distributed``); under
    ``jax.distributed`` every host runs this same call and process 0 writes the merged files.
    """
    import envs

    if resume is not None:
        return _resume(Path(resume), progress, log, keep_checkpoints, devices)
    if algo is None or env_id is None:
        raise ConfigError("train needs an algorithm and an environment (or resume=RUN_DIR)")
    if seeds < 1:
        raise ConfigError(f"--seeds = {seeds} is invalid: must be at least 1")
    if num_evals < 1 or eval_episodes < 1:
        raise ConfigError("the number of evaluations and of evaluation episodes must be at least 1")
    if keep_checkpoints < 1:
        raise ConfigError(f"keep_checkpoints = {keep_checkpoints} is invalid: must be at least 1")
    module, config = resolve_config(algo, env_id, overrides, total_steps)
    env, env_params = envs.make(env_id, backend=backend)
    if hasattr(module, "check_env"):
        module.check_env(env, env_params)
    num_devices, note = distributed.choose_devices(seeds, devices) if env.backend == "jax" else (1, None)
    run_dir = _make_run_dir(algo, env_id, runs_root, out)
    if _is_writer():
        runs.atomic_write_json(
            run_dir / "config.json",
            dict(algo=algo, env=env_id, backend=env.backend, seeds=seeds, seed=seed, num_evals=num_evals,
                 eval_episodes=eval_episodes, config=dataclasses.asdict(config), versions=runs.versions(), command=command),
        )
    distributed.barrier("config written")
    if note:
        log(note)
    runner = _JaxRunner if env.backend == "jax" else _HostRunner
    return runner(module, config, env, env_params, algo, env_id, seeds, seed, num_evals, eval_episodes, run_dir,
                  progress, log, keep_checkpoints, num_devices).run()


def _is_writer() -> bool:
    """Process 0 writes the merged files (the only process unless multi-host)."""
    import jax

    return jax.process_index() == 0


def _make_run_dir(algo: str, env_id: str, runs_root, out) -> Path:
    import jax

    if jax.process_count() == 1:
        return runs.new_run_dir(algo, env_id, runs_root, out)
    if out is None:
        raise ConfigError("a multi-host run needs --out: every host must write to the same run directory")
    path = runs.new_run_dir(algo, env_id, runs_root, out) if _is_writer() else Path(out)
    distributed.barrier("run directory made")
    path.mkdir(parents=True, exist_ok=True)
    return path


def _resume(run_dir: Path, progress, log, keep_checkpoints, devices=None) -> RunResult:
    import json

    import envs
    from rl_zoo import algos

    path = run_dir / "config.json"
    if not path.is_file():
        raise FileNotFoundError(f"cannot resume {str(run_dir)!r}: no config.json there (is it a run directory?)")
    saved = json.loads(path.read_text())
    if saved.get("backend") != "jax":
        raise ConfigError(f"cannot resume {str(run_dir)!r}: exact resume needs a JAX env (this run used {saved.get('backend')!r})")
    module, _ = algos.get(saved["algo"])
    fields = {f.name: f for f in dataclasses.fields(module.Config)}
    config = module.Config(**{k: tuple(v) if isinstance(v, list) else v for k, v in saved["config"].items() if k in fields})
    check_types(config)
    config.validate()
    env, env_params = envs.make(saved["env"], backend="jax")
    num_devices, note = distributed.choose_devices(saved["seeds"], devices)
    if note:
        log(note)
    runner = _JaxRunner(module, config, env, env_params, saved["algo"], saved["env"], saved["seeds"], saved["seed"],
                        saved["num_evals"], saved["eval_episodes"], run_dir, progress, log, keep_checkpoints, num_devices)
    return runner.run(resume=True)


class _JaxRunner:
    """All seeds vmapped (the seed axis split over devices), K updates per compiled segment, a
    checkpoint after each segment."""

    def __init__(self, module, config, env, env_params, algo, env_id, seeds, seed, num_evals, eval_episodes, run_dir,
                 progress, log, keep_checkpoints=3, num_devices=1):
        self.module, self.config, self.env, self.env_params = module, config, env, env_params
        self.algo, self.env_id, self.seeds, self.seed = algo, env_id, seeds, seed
        self.num_evals, self.eval_episodes, self.run_dir = num_evals, eval_episodes, Path(run_dir)
        self.progress, self.log, self.keep_checkpoints = progress, log, keep_checkpoints
        self.num_devices = num_devices

    def compile(self):
        import jax
        import jax.numpy as jnp

        from rl_zoo.core.evaluate import evaluate

        agent = self.module.make_agent(self.config, self.env, self.env_params)
        self.agent = agent
        self.k, self.n_segments = _segments(agent.num_updates, self.num_evals)
        sharding = distributed.seed_sharding(self.num_devices)

        def init(seeds):
            return jax.vmap(lambda s: agent.init(jax.random.key(s)))(seeds)

        def segment(states, k):
            return jax.vmap(lambda s: jax.lax.scan(lambda c, _: agent.update(c), s, None, k))(states)

        def segment_upto(states, k, count):
            # k scan steps of which the first `count` (traced) update: the run's last segment, of a
            # different length, reuses this program instead of compiling its own. `count` is the
            # same for every seed, so under vmap the cond stays a branch (a skipped step costs
            # nothing). `update` is jitted so that the skip branch's eval_shape reuses its trace.
            update = jax.jit(agent.update)

            def step(state, i):
                skip = lambda c: (c, jax.tree.map(lambda x: jnp.zeros(x.shape, x.dtype), jax.eval_shape(update, c)[1]))  # noqa: E731
                return jax.lax.cond(i < count, update, skip, state)

            return jax.vmap(lambda s: jax.lax.scan(step, s, jnp.arange(k)))(states)

        def eval_all(states, seeds, i):
            def one(state, s):
                key = jax.random.fold_in(jax.random.fold_in(jax.random.key(s), 1), i)
                return evaluate(agent.act, state, self.env, self.env_params, key, self.eval_episodes)

            return jax.vmap(one)(states, seeds)

        self.seeds_array = distributed.seed_array(self.seed, self.seeds, sharding)
        t0 = time.perf_counter()
        states = jax.jit(init, out_shardings=sharding).lower(self.seeds_array).compile()(self.seeds_array)
        self.replicated = jax.sharding.NamedSharding(sharding.mesh, jax.sharding.PartitionSpec())
        rest = agent.num_updates - self.k * self.n_segments
        if rest == 0:
            seg = jax.jit(segment, static_argnums=1, in_shardings=sharding, out_shardings=sharding).lower(states, self.k).compile()
            self.plan = [(seg, self.k)] * self.n_segments
        else:  # one program for the K-update segments and the last one of `rest` updates
            seg = jax.jit(segment_upto, static_argnums=1, in_shardings=(sharding, self.replicated), out_shardings=sharding)
            seg = seg.lower(states, max(self.k, rest), _replicated_int(0, self.replicated)).compile()
            counts = [self.k] * self.n_segments + [rest]
            self.plan = [(partial(_apply_count, seg, _replicated_int(n, self.replicated)), n) for n in counts]
        index = _replicated_int(0, self.replicated)
        self.eval_all = jax.jit(eval_all, out_shardings=sharding).lower(states, self.seeds_array, index).compile()
        self.compile_s = time.perf_counter() - t0
        return states

    def run(self, resume: bool = False) -> RunResult:
        import jax

        states = self.compile()
        plan = self.plan
        steps_per_update = self.agent.env_steps_per_update
        rows: list[dict] = []
        start, done_updates, train_s, wall_offset = 0, 0, 0.0, 0.0
        latest_train_return = np.full(self.seeds, np.nan)
        multi_host = jax.process_count() > 1
        ckpt = checkpoint.latest(self.run_dir) if resume else None
        if ckpt is not None:
            states, meta = checkpoint.restore(ckpt, states)
            start, done_updates = meta["segments_done"], meta["updates_done"]
            train_s, wall_offset = meta["train_s"], meta["wall_s"]
            latest_train_return = np.array(meta["latest_train_return"], dtype=float)
            rows = [r for r in runs.read_csv(self.run_dir / "metrics.csv") if int(r["env_steps"]) <= done_updates * steps_per_update]
            self.log(f"resuming {self.run_dir} from {ckpt.name}: {done_updates * steps_per_update:,} of "
                     f"{self.agent.num_updates * steps_per_update:,} env steps per seed done")
        elif resume:
            self.log(f"no checkpoint in {self.run_dir}: starting it again from the beginning")
        self.log(f"compiled {self.algo} on {self.env_id} ({self.seeds} seed(s), {self.agent.num_updates} updates "
                 f"of {steps_per_update} env steps) in {self.compile_s:.1f}s")
        t_start = time.perf_counter() - wall_offset

        local = distributed.local_seed_indices(self.seeds_array)

        def record(env_steps, states, i):
            index = _replicated_int(i, self.replicated)
            returns_global = self.eval_all(states, self.seeds_array, index)
            returns = distributed.to_host(returns_global).mean(axis=1)  # [seeds]
            wall = time.perf_counter() - t_start
            for s in range(self.seeds):
                rows.append(dict(env_steps=int(env_steps), wall_s=round(wall, 3), seed=self.seed + s,
                                 **{"return": float(returns[s])}, train_return=float(latest_train_return[s])))
            if _is_writer():
                runs.write_csv(self.run_dir / "metrics.csv", rows)
            if multi_host:  # each host's own shard of the results
                mine = {self.seed + s for s in local}
                runs.write_csv(self.run_dir / f"metrics.host{jax.process_index()}.csv", [r for r in rows if r["seed"] in mine])
            return returns

        returns = record(0, states, 0) if ckpt is None else _last_returns(rows, self.seeds)
        with _Progress(self.progress, self.agent.num_updates * steps_per_update, f"{self.algo} {self.env_id}") as bar:
            bar.update(done_updates * steps_per_update, 0.0, float(np.mean(returns)))
            for i in range(start, len(plan)):
                seg, k = plan[i]
                t0 = time.perf_counter()
                new_states, metrics = seg(states)
                jax.block_until_ready(new_states)
                train_s += time.perf_counter() - t0
                metrics = jax.tree.map(lambda x: distributed.to_host(x)[:, :k], metrics)  # [seeds, k] (a shorter segment's steps)
                _guard_finite(self, metrics, _finite_params(new_states), done_updates, steps_per_update)
                states = new_states
                done_updates += k
                latest_train_return = _latest_episode_return(metrics, latest_train_return)
                returns = record(done_updates * steps_per_update, states, i + 1)
                if not multi_host:  # a multi-host state lives on several machines: not checkpointed
                    checkpoint.save(self.run_dir, done_updates, states, dict(
                        segments_done=i + 1, updates_done=done_updates, train_s=train_s,
                        wall_s=time.perf_counter() - t_start, latest_train_return=latest_train_return.tolist(),
                    ), keep=self.keep_checkpoints)
                bar.update(done_updates * steps_per_update, self.seeds * k * steps_per_update / max(time.perf_counter() - t0, 1e-9),
                           float(np.mean(returns)))
        return _finish(self, rows, returns, train_s, states)


def _apply_count(compiled_segment, count, states):
    """Run a `segment_upto` program on ``states``, updating in the first ``count`` of its steps."""
    return compiled_segment(states, count)


def _replicated_int(value: int, sharding):
    """A scalar int32 on every device of ``sharding`` (each host supplies its own copy: multi-host safe)."""
    import jax

    return jax.make_array_from_callback((), sharding, lambda index: np.asarray(value, np.int32))


def _finite_params(states):
    """Per parameter array, whether each seed's values are all finite: ``{path: [seeds] bool}`` on the host
    (computed on the devices, so that only booleans travel)."""
    import jax

    return jax.tree.map(distributed.to_host, _finite_flags()(getattr(states, "params", states)))


@functools.cache
def _finite_flags():
    """The jitted check, built once so that it compiles once per run rather than once per segment."""
    import jax
    import jax.numpy as jnp

    def flags(params):
        return jax.tree.map(lambda x: jnp.isfinite(x).reshape(x.shape[0], -1).all(axis=1)
                            if jnp.issubdtype(x.dtype, jnp.floating) else jnp.ones(x.shape[:1], bool), params)

    return jax.jit(flags)


def _last_returns(rows: list[dict], seeds: int) -> np.ndarray:
    return np.array([float(r["return"]) for r in rows[-seeds:]])


def _guard_finite(runner, metrics, states, done_updates: int, steps_per_update: int) -> None:
    """Stop on the first NaN/Inf in the segment's metrics (losses, on the host) or in the new parameters
    (``states``: per-seed finiteness flags from ``_finite_params``)."""
    import jax

    for path, leaf in jax.tree_util.tree_flatten_with_path(metrics)[0]:
        if getattr(path[0], "name", None) == "episode":  # EpisodeMetrics: NaN means "no episode ended"
            continue
        x = np.asarray(leaf)
        if not np.issubdtype(x.dtype, np.floating) or np.isfinite(x).all():
            continue
        bad = ~np.isfinite(x.reshape(x.shape[0], x.shape[1], -1)).all(axis=2)  # [seeds, K]
        seed_idx, upd = min(zip(*np.nonzero(bad)), key=lambda t: (t[1], t[0]))
        value = x[seed_idx, upd].ravel()[0] if x.ndim > 2 else x[seed_idx, upd]
        _stop(runner, f"{jax.tree_util.keystr(path).lstrip('.')} = {value}", done_updates + int(upd) + 1, int(seed_idx), steps_per_update)
    for path, finite in jax.tree_util.tree_flatten_with_path(states)[0]:
        finite = np.asarray(finite)
        if not finite.all():
            _stop(runner, f"parameter {jax.tree_util.keystr(path)} is not finite", None, int(np.nonzero(~finite)[0][0]), steps_per_update)


def _stop(runner, what: str, update: int | None, seed_idx: int, steps_per_update: int) -> None:
    ckpt = checkpoint.latest(runner.run_dir)
    where = f"at update {update} (env step {update * steps_per_update:,})" if update is not None else "in this segment"
    kept = f"the last good checkpoint is {ckpt}" if ckpt else "no checkpoint had been written yet"
    raise NonFiniteError(
        f"non-finite value {where} of seed {runner.seed + seed_idx}: {what}. Training stopped; {kept}, and "
        f"metrics.csv holds the rows up to it. A smaller learning rate (or max_grad_norm) usually cures this."
    )


class _HostRunner(_JaxRunner):
    """Gymnasium-adapter envs: seeds one after another, rollouts on the host, learning jitted.
    The env's state lives in gymnasium objects, so these runs are not checkpointed."""

    def run(self) -> RunResult:
        import jax

        from rl_zoo.core.evaluate import evaluate

        agent = self.module.make_agent(self.config, self.env, self.env_params)
        self.agent = agent
        self.k, self.n_segments = _segments(agent.num_updates, self.num_evals)
        self.compile_s = 0.0
        rows: list[dict] = []
        train_s, t_start = 0.0, time.perf_counter()
        finals, states = [], []
        total = agent.num_updates * agent.env_steps_per_update
        with _Progress(self.progress, total * self.seeds, f"{self.algo} {self.env_id}") as bar:
            for s in range(self.seeds):
                key = jax.random.key(self.seed + s)
                state = agent.init(key)
                latest = np.full(1, np.nan)
                done = 0
                while True:
                    ret = float(np.mean(np.asarray(evaluate(agent.act, state, self.env, self.env_params, jax.random.fold_in(key, done + 1), self.eval_episodes))))
                    rows.append(dict(env_steps=done * agent.env_steps_per_update, wall_s=round(time.perf_counter() - t_start, 3),
                                     seed=self.seed + s, **{"return": ret}, train_return=float(latest[0])))
                    runs.write_csv(self.run_dir / "metrics.csv", rows)
                    if done >= agent.num_updates:
                        break
                    t0 = time.perf_counter()
                    for _ in range(min(self.k, agent.num_updates - done)):
                        state, metrics = agent.update(state)
                        batched = jax.tree.map(lambda x: np.asarray(x)[None, None], metrics)
                        _guard_finite(self, batched, _finite_params(jax.tree.map(lambda x: x[None], state.params)), done, agent.env_steps_per_update)
                        done += 1
                        latest = _latest_episode_return(batched, latest)
                    train_s += time.perf_counter() - t0
                    bar.update(s * total + done * agent.env_steps_per_update, (s * total + done * agent.env_steps_per_update) / max(train_s, 1e-9), ret)
                finals.append(ret)
                states.append(state)
        return _finish(self, rows, np.array(finals), train_s, states)


def _latest_episode_return(metrics, previous: np.ndarray) -> np.ndarray:
    """Per seed, the mean return of the last update in the segment that finished an episode."""
    ep = metrics.episode
    n = np.asarray(ep.episodes)  # [seeds, K]
    r = np.asarray(ep.episode_return)
    out = previous.copy()
    for s in range(n.shape[0]):
        idx = np.nonzero(n[s] > 0)[0]
        if idx.size:
            out[s] = r[s, idx[-1]]
    return out


def _finish(runner, rows, returns, train_s, states) -> RunResult:
    import jax

    from rl_zoo import plots

    env_steps = runner.agent.num_updates * runner.agent.env_steps_per_update
    summary = dict(
        algo=runner.algo,
        env=runner.env_id,
        backend=runner.env.backend,
        seeds=[runner.seed + s for s in range(runner.seeds)],
        final_return=[float(x) for x in returns],
        final_return_mean=float(np.mean(returns)),
        final_return_std=float(np.std(returns)),
        env_steps_per_seed=int(env_steps),
        env_steps_total=int(env_steps * runner.seeds),
        compile_s=round(runner.compile_s, 3),
        train_s=round(train_s, 3),
        steps_per_s=round(env_steps * runner.seeds / max(train_s, 1e-9), 1),
        peak_memory_mb=round(_peak_memory_mb(), 1),
        eval_episodes=runner.eval_episodes,
        devices=getattr(runner, "num_devices", 1),
        processes=jax.process_count(),
    )
    if _is_writer():
        runs.atomic_write_json(runner.run_dir / "summary.json", summary)
        plots.learning_curve(rows, f"{runner.algo} on {runner.env_id}", runner.run_dir / "curve.png")
    distributed.barrier("run finished")
    return RunResult(runner.run_dir, summary, states)


class _Progress:
    """A rich progress bar (env steps, steps/s, latest greedy return) that stays quiet when disabled."""

    def __init__(self, enabled: bool, total: int, label: str):
        self.enabled, self.total, self.label = enabled, total, label

    def __enter__(self):
        if self.enabled:
            from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

            self.p = Progress(
                TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed:,.0f}/{task.total:,.0f} steps"),
                TextColumn("{task.fields[sps]}"), TextColumn("return {task.fields[ret]}"), TimeElapsedColumn(),
                transient=False,
            )
            self.p.__enter__()
            self.task = self.p.add_task(self.label, total=self.total, sps="", ret="-")
        return self

    def update(self, steps: int, sps: float, ret: float):
        if self.enabled:
            self.p.update(self.task, completed=steps, sps=f"{sps:,.0f} steps/s", ret=f"{ret:.1f}")

    def __exit__(self, *exc):
        if self.enabled:
            self.p.__exit__(*exc)
        return False


def format_summary(result: RunResult, rows_tail: int = 5) -> str:
    """The end of the learning curve and where the run went, for the terminal."""
    s = result.summary
    lines = [f"{s['algo']} on {s['env']}: final greedy return {s['final_return_mean']:.1f} +- {s['final_return_std']:.1f} "
             f"over {len(s['seeds'])} seed(s) after {s['env_steps_per_seed']:,} env steps per seed"]
    rows = runs.read_csv(result.run_dir / "metrics.csv")
    by_step: dict[int, list[float]] = {}
    for r in rows:
        by_step.setdefault(int(r["env_steps"]), []).append(float(r["return"]))
    lines.append("learning curve (env steps -> mean greedy return):")
    for step in sorted(by_step)[-rows_tail:]:
        lines.append(f"  {step:>10,}  {np.mean(by_step[step]):8.1f}")
    lines.append(f"compile {s['compile_s']:.1f}s, train {s['train_s']:.1f}s, {s['steps_per_s']:,.0f} env steps/s, "
                 f"peak memory {s['peak_memory_mb']:.0f} MB")
    lines.append(f"run written to {result.run_dir}")
    return "\n".join(lines)
