"""The runner for gymnasium envs: all seeds in one compiled program, checkpointed, resumable.

The plan is the JAX path's: ``init`` and segments of ``K`` updates, both ``jax.vmap``-ed over seeds
(a single seed runs alone, ``rl_zoo.driver.plan.map_seeds``: 0.4-0.6 s less compile on Hopper-v5 and
LunarLander-v3, training env-bound either way) and jitted; the env steps are host calls inside the
compiled rollout (``rl_zoo.host.batched_env``), one call per step for every seed. The run has at least as
many segments as evaluations asked (``--evals``; ``segment_length``), a checkpoint after each, written
before the segment's evaluation (an evaluation that fails or is stopped loses no training: resume makes
it first) and again after it. After some of them: greedy evaluation of every seed at once
(``rl_zoo.host.evaluation``; its env steps are counted beside the training's, and the number of
evaluations is cut so that they cost at most ``EVAL_FRACTION`` of training: then they come after evenly
spaced segments, ``evaluation_segments``, the last among them), a metrics row per seed.

Resume restores the learner exactly (parameters, optimiser, normalisers, replay buffer, PRNG keys,
counters) and **restarts the gymnasium envs with fresh episodes**: their state lives in gymnasium
objects, not in the checkpoint. A resumed run is exact for the learner, not for the envs. The metrics
rows already written are kept (the driver trims those past the checkpoint, and those at it when its
evaluation was still to make: resume makes it again), none is duplicated.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from functools import partial
from typing import Any

import numpy as np

from rl_zoo import checkpoint, interrupt, runs
from rl_zoo.core.evaluate import episode_cap
from rl_zoo.driver.guard import check_finite, finite_param_flags, stop_non_finite
from rl_zoo.driver.plan import compile_options, init_seeds, map_seeds, update_seeds
from rl_zoo.driver.recorder import Evaluation, SegmentEnd
from rl_zoo.driver.runner import CheckpointMeta, RunOutcome, latest_episode_return
from rl_zoo.host.batched_env import DEFAULT_VECTOR_ENV, SeedBatchedEnv
from rl_zoo.host.calls import NonFiniteAction, run_host_program
from rl_zoo.host.evaluation import eval_count, eval_cut_note, eval_seeds, evaluate_seeds
from rl_zoo.progress import RunProgress

RESUME_NOTE = "exact for the learner; the gymnasium envs restart with fresh episodes (their state is not checkpointed)"


@dataclass(frozen=True)
class HostPlan:
    """The compiled programs of a host run and its schedule. Frozen in its fields; ``segments`` (a dict)
    gains the program of a segment length the schedule did not foresee (``program``)."""

    initial_states: Any  # every seed's State [seeds, ...] (the training envs just reset)
    segments: dict  # updates -> compiled program(states) -> (states, metrics [seeds, updates]); a cache
    fresh_envs: Any  # jitted (states, keys [seeds]) -> states with the envs restarted
    updates_per_segment: int
    compile_s: float
    segment_fn: Any  # the jitted segment, static in its number of updates

    def program(self, updates: int):
        """The compiled segment of ``updates`` updates (compiled now if the schedule did not foresee it,
        e.g. a run resumed under another evaluation schedule)."""
        if updates not in self.segments:
            self.segments[updates] = self.segment_fn.lower(self.initial_states, updates).compile(compile_options("segment"))
        return self.segments[updates]


def batched_env(ctx) -> tuple[SeedBatchedEnv, Any]:
    """``(env, agent)`` on a ``SeedBatchedEnv``: ``ctx``'s own when the driver already built it so, else
    ``ctx.env`` wrapped and the agent rebuilt on it."""
    if isinstance(ctx.env, SeedBatchedEnv):
        return ctx.env, ctx.agent
    env = SeedBatchedEnv(ctx.env, getattr(ctx.spec, "vector_env", DEFAULT_VECTOR_ENV))
    return env, ctx.spec.module.make_agent(ctx.spec.config, env, ctx.env_params)


def compile_host_plan(agent, env: SeedBatchedEnv, seeds: np.ndarray, updates_per_segment: int) -> HostPlan:
    import jax

    from envs import EpisodeStatistics
    from rl_zoo.core.buffers import replay_buffer_end_episodes

    t0 = time.perf_counter()
    init = jax.jit(partial(init_seeds, agent), compiler_options=compile_options("init"))
    segment = jax.jit(partial(update_seeds, agent), static_argnums=1)
    venv = env.training_envs

    def fresh_envs(states, key):  # new episodes on the host envs (wrapped as the agent wraps them); the learner untouched
        obs, env_state = EpisodeStatistics(agent.wrap_envs(venv)).reset(key)
        states = states._replace(obs=obs, env_state=env_state)
        if hasattr(states, "reward_scaler"):  # the running discounted returns belonged to the old episodes
            states = states._replace(reward_scaler=states.reward_scaler._replace(returns=states.reward_scaler.returns * 0))
        if hasattr(states, "buffer"):  # DQN: the old episodes end at their last stored step (n-step sums stop there)
            states = states._replace(buffer=replay_buffer_end_episodes(states.buffer, obs.shape[0]))
        return states

    states = run_host_program(init, seeds, what=f"{env.id} (its first reset)")
    n = agent.num_updates
    lengths = {min(updates_per_segment, n)} | ({n % updates_per_segment} if n > updates_per_segment and n % updates_per_segment else set())
    segments = {k: segment.lower(states, k).compile(compile_options("segment")) for k in sorted(lengths)}
    return HostPlan(states, segments, jax.jit(map_seeds(fresh_envs)), updates_per_segment, time.perf_counter() - t0, segment)


def segment_length(updates: int, asked: int) -> int:
    """Updates per segment of a run of ``updates`` updates asked for ``asked`` evaluations (at most ``updates``),
    so that every evaluation asked has a segment to follow, evenly spaced: ``ceil(updates / asked)`` where that
    makes ``asked`` segments (the last one shorter; 3,125 updates in 10: 313 each, the last 308), else
    ``updates // asked``, which makes more (up to twice as many), of which ``evaluation_segments`` picks ``asked``.
    Rounding up alone made 51 segments, and 51 evaluations with no word said, of 101 updates asked for 100;
    rounding down alone evaluated 3,125 updates after 624, 936, ..., 3,120 and 3,125, where a JAX run evaluates
    after 625, 1,250, ..., 3,125."""
    asked = max(1, min(asked, updates))
    up = -(-updates // asked)
    return up if -(-updates // up) == asked else max(1, updates // asked)


def recorded_segment_length(updates_done: int, segments_done: int, per_segment: int) -> int:
    """The segment length a resumed run goes on with: ``per_segment`` where its checkpoint (``updates_done`` updates
    in ``segments_done`` whole segments) lies on it, else the length its segments had (earlier rules: rl_zoo until
    2026-12-06 rounded up, and a run of 9 updates asked for 4 evaluations checkpointed segments of 3; resumed along
    segments of 2, its evaluations were miscounted and one evaluation's seeds played twice; until 2026-12-07 it
    rounded down, 29 updates in 10 as segments of 2 where they are 3 now)."""
    if segments_done == 0 or updates_done == segments_done * per_segment or updates_done % segments_done:
        return per_segment
    return updates_done // segments_done


def evaluation_segments(segments: int, evaluations: int) -> frozenset[int]:
    """The segments (1 to ``segments``) after which a run of ``segments`` segments makes its
    ``evaluations`` evaluations (after the one at the start): evenly spaced, the last segment among them."""
    evaluations = max(1, min(evaluations, segments))
    return frozenset(-(-i * segments // evaluations) for i in range(1, evaluations + 1))


def evaluations_through(segment: int, at: frozenset[int]) -> int:
    """Evaluations after the start made by the end of ``segment``: the index of the last one (0: the start's)."""
    return sum(1 for s in at if s <= segment)


class BatchedHostRunner:
    """``rl_zoo.driver`` runner for backend ``"gymnasium"`` (see the module docstring)."""

    name = "gymnasium"
    can_resume = True  # exact for the learner; the envs restart with fresh episodes

    def run(self, ctx, recorder, resume) -> RunOutcome:
        import jax

        spec = ctx.spec
        record = spec.trajectory_record()  # stored in each checkpoint: run.resume_mismatch
        recorder.prefetch_figures()  # beside the envs' start and the programs' compile
        env, agent = batched_env(ctx)
        seeds = np.array(spec.seed_ids)
        try:  # the envs closed however the run ends (an async vector env's subprocesses too, a Ctrl-C as they start)
            env.start(len(seeds))
            steps_per_update, total = agent.env_steps_per_update, agent.num_updates * agent.env_steps_per_update
            limit = episode_cap(ctx.env_params)  # as the JAX evaluation and enjoy cap an episode
            asked = min(spec.num_evals, agent.num_updates)  # at most one per update (the driver said so already)
            n_evals = eval_count(total, limit, spec.eval_episodes, asked)
            per_segment = segment_length(agent.num_updates, asked)
            if resume is not None:  # a run checkpointed by an earlier rule goes on along its own segments
                per_segment = recorded_segment_length(resume.meta.updates_done, resume.meta.segments_done, per_segment)
            n_segments = -(-agent.num_updates // per_segment)  # the last one may be shorter
            evaluate_after = evaluation_segments(n_segments, n_evals)
            if note := eval_cut_note(total, limit, spec.eval_episodes, asked):
                ctx.log(f"{note}; a checkpoint still after each of the {n_segments} segments")
            plan = compile_host_plan(agent, env, seeds, per_segment)
            eval_envs = env.make_eval(spec.eval_episodes, ctx.env_params)
            states, done, segments_done, train_s, wall_offset, eval_steps = plan.initial_states, 0, 0, 0.0, 0.0, 0
            latest, evaluation_due = np.full(len(seeds), np.nan), False
            returns_at = 0  # env steps per seed of the evaluation the progress line's return comes from
            if resume is not None:
                states, raw = checkpoint.restore(resume.path, states, leading="seeds")
                meta = resume.meta
                done, segments_done, train_s, wall_offset = meta.updates_done, meta.segments_done, meta.train_s, meta.wall_s
                latest, eval_steps = np.array(meta.latest_train_return, float), int(raw.get("eval_env_steps", 0))
                evaluation_due = bool(raw.get("evaluation_due", False))
                keys = jax.vmap(lambda s: jax.random.fold_in(jax.random.fold_in(jax.random.key(s), 2), done))(seeds)
                states = run_host_program(plan.fresh_envs, states, keys, what=f"{spec.env_id} (its reset on resume)")
                ctx.log(f"resuming {ctx.run_dir} from {resume.path.name}: {done * steps_per_update:,} of {total:,} env steps per seed "
                        f"done; the gymnasium envs restart with fresh episodes")
            ctx.log(f"compiled {spec.algo} on {spec.env_id} in {plan.compile_s:.1f}s: {len(seeds)} seed(s) in one program, "
                    f"{len(seeds)} x {env.training_envs.num_envs} gymnasium envs in one {env.vector.capitalize()}VectorEnv")
            t_start = time.perf_counter() - wall_offset

            def evaluate(states, index: int) -> np.ndarray:  # index: evaluations before this one (0 at the start)
                nonlocal eval_steps, returns_at
                before = env.steps(evaluation=True)
                returns = evaluate_seeds(agent.act, states, eval_envs, eval_seeds(seeds, index), env.action_space(),
                                         limit, spec.eval_episodes).mean(axis=1)
                eval_steps += env.steps(evaluation=True) - before
                returns_at = done * steps_per_update
                recorder.evaluation(Evaluation(returns_at, time.perf_counter() - t_start, spec.seed_ids, returns, latest.copy()))
                return returns

            def save(states, *, due: bool, evaluated: bool) -> None:  # due: the evaluation after this segment is still to make
                meta = CheckpointMeta(segments_done=segments_done, updates_done=done, train_s=train_s,
                                      wall_s=time.perf_counter() - t_start, latest_train_return=tuple(latest.tolist()),
                                      evaluated=evaluated, seeds=tuple(spec.seed_ids), spec=record, devices=spec.devices)
                checkpoint.save(ctx.run_dir, done, states, dict(meta.to_dict(), eval_env_steps=eval_steps, evaluation_due=due),
                                keep=spec.keep_checkpoints)

            if resume is None:
                returns = evaluate(states, 0)
            elif evaluation_due:  # the run stopped during the evaluation after its last checkpointed segment: made now
                returns = evaluate(states, evaluations_through(segments_done, evaluate_after))
            else:
                returns, returns_at = recorder.last_returns(spec.seeds), recorder.last_evaluation_steps()
            with RunProgress(ctx.progress, total, ctx.label) as bar:
                bar.update(done * steps_per_update, 0.0, runs.mean_return(returns), returns_at)
                while done < agent.num_updates:
                    k = min(plan.updates_per_segment, agent.num_updates - done)
                    t0 = time.perf_counter()
                    new_states, metrics = run_host_program(plan.program(k), states, what=f"{spec.env_id} (a training step)")
                    train_s += time.perf_counter() - t0
                    metrics = jax.tree.map(np.asarray, metrics)  # [seeds, k]
                    check_finite(metrics, finite_param_flags(new_states), done_updates=done, steps_per_update=steps_per_update,
                                 first_seed=spec.seed, run_dir=ctx.run_dir)
                    states = new_states
                    sps = len(seeds) * k * steps_per_update / max(time.perf_counter() - t0, 1e-9)
                    recorder.segment(SegmentEnd(done, k, steps_per_update, spec.seed_ids, metrics, time.perf_counter() - t_start, sps))
                    done, segments_done = done + k, segments_done + 1
                    latest = latest_episode_return(metrics, latest)
                    due = segments_done in evaluate_after or done >= agent.num_updates
                    save(states, due=due, evaluated=False)  # the segment kept before its evaluation, which may fail or be stopped
                    if due:
                        returns = evaluate(states, evaluations_through(segments_done, evaluate_after))
                        save(states, due=False, evaluated=True)  # the same checkpoint, now after its evaluation
                    interrupt.check()  # a Ctrl-C Python swallowed stops the run here, its segment checkpointed
                    bar.update(done * steps_per_update, sps, runs.mean_return(returns), returns_at)
        except NonFiniteAction as e:  # a NaN action, in a segment or an evaluation: the learner diverged, the NaN guard's stop
            stop_non_finite(ctx.run_dir, str(e), spec.seed + e.seed_index, agent.env_steps_per_update)
        finally:
            env.close()
        train_steps = total * len(seeds)
        extra = dict(vector_env=env.vector, eval_env_steps_total=int(eval_steps), eval_fraction=round(eval_steps / train_steps, 4),
                     evaluations=evaluations_through(segments_done, evaluate_after) + 1, resume=RESUME_NOTE)
        ctx.log(f"evaluation took {eval_steps:,} env steps beside training's {train_steps:,} ({eval_steps / train_steps:.1%})")
        return RunOutcome(final_returns=returns, final_state=states, compile_s=plan.compile_s, train_s=train_s, extra_summary=extra)


