"""The runner for JAX envs: all seeds vmapped (the seed axis split over devices), K updates per
compiled segment, an evaluation and a checkpoint after each segment."""

from __future__ import annotations

import time

import numpy as np

from rl_zoo import checkpoint, distributed, interrupt, runs
from rl_zoo.driver.guard import check_finite
from rl_zoo.driver.plan import compile_plan
from rl_zoo.driver.recorder import Evaluation, Recorder, SegmentEnd
from rl_zoo.driver.runner import (CheckpointMeta, ResumePoint, RunContext, RunOutcome, latest_episode_return, save_checkpoint)
from rl_zoo.progress import RunProgress


class JaxRunner:
    name = "jax"
    can_resume = True  # exactly, bit for bit (single-host runs)

    def run(self, ctx: RunContext, recorder: Recorder, resume: ResumePoint | None) -> RunOutcome:
        import jax

        spec, agent = ctx.spec, ctx.agent
        record = spec.trajectory_record()  # stored in each checkpoint: run.resume_mismatch
        plan = compile_plan(ctx, beside_compile=recorder.prefetch_figures, checkpointed=resume and resume.meta)
        states = plan.initial_states
        steps_per_update = agent.env_steps_per_update
        start, done_updates, train_s, wall_offset = 0, 0, 0.0, 0.0
        eval_s, checkpoint_s = 0.0, 0.0  # host-loop time outside the segments (a resumed run's: every process's, as train_s)
        latest_train_return = np.full(spec.seeds, np.nan)
        multi_host = jax.process_count() > 1
        if resume is not None:  # checked against the plan's schedule (segment_schedule) before compiling: run.resume_mismatch
            states, _ = checkpoint.restore(resume.path, states, leading="seeds")
            meta = resume.meta
            start, done_updates, train_s, wall_offset = meta.segments_done, meta.updates_done, meta.train_s, meta.wall_s
            eval_s, checkpoint_s = meta.eval_s, meta.checkpoint_s
            latest_train_return = np.array(meta.latest_train_return, dtype=float)
            ctx.log(f"resuming {ctx.run_dir} from {resume.path.name}: {done_updates * steps_per_update:,} of "
                    f"{ctx.total_env_steps:,} env steps per seed done")
        over = distributed.devices_text(spec.seeds, spec.devices, jax.devices()[0].platform)
        loaded = f" (loaded from an earlier run: {', '.join(plan.loaded)})" if plan.loaded else ""  # program_store
        ctx.log(f"compiled {spec.algo} on {spec.env_id} ({spec.seeds} seed(s){over}, {agent.num_updates} updates "
                f"of {steps_per_update} env steps) in {plan.compile_s:.1f}s{loaded}")
        t_start = time.perf_counter() - wall_offset

        def evaluate(states, i: int, env_steps: int, train_returns: np.ndarray) -> np.ndarray:
            nonlocal eval_s
            t = time.perf_counter()
            returns = plan.evaluate(states, i)
            recorder.evaluation(Evaluation(env_steps, time.perf_counter() - t_start, spec.seed_ids, returns, train_returns))
            eval_s += time.perf_counter() - t
            return returns

        returns = evaluate(states, 0, 0, latest_train_return) if resume is None else recorder.last_returns(spec.seeds)
        with RunProgress(ctx.progress, ctx.total_env_steps, ctx.label) as bar:
            bar.update(done_updates * steps_per_update, 0.0, runs.mean_return(returns))
            for i in range(start, len(plan.segments)):
                segment = plan.segments[i]
                k = segment.updates
                t0 = time.perf_counter()
                new_states, metrics, flags = segment.program(states)
                jax.block_until_ready(new_states)
                train_s += time.perf_counter() - t0
                metrics = jax.tree.map(lambda x: distributed.to_host(x)[:, :k], metrics)  # [seeds, k] (a shorter segment's steps)
                flags = jax.tree.map(distributed.to_host, flags)
                check_finite(metrics, flags, done_updates=done_updates, steps_per_update=steps_per_update,
                             first_seed=spec.seed, run_dir=ctx.run_dir)
                states = new_states
                sps = spec.seeds * k * steps_per_update / max(time.perf_counter() - t0, 1e-9)
                recorder.segment(SegmentEnd(done_updates, k, steps_per_update, spec.seed_ids, metrics,
                                            time.perf_counter() - t_start, sps))
                done_updates += k
                latest_train_return = latest_episode_return(metrics, latest_train_return)
                returns = evaluate(states, i + 1, done_updates * steps_per_update, latest_train_return)
                t = time.perf_counter()
                if not multi_host:  # a multi-host state lives on several machines: not checkpointed
                    save_checkpoint(ctx, states, CheckpointMeta(
                        segments_done=i + 1, updates_done=done_updates, train_s=train_s,
                        wall_s=time.perf_counter() - t_start, latest_train_return=tuple(latest_train_return.tolist()),
                        seeds=spec.seed_ids, spec=record, devices=spec.devices, eval_s=eval_s, checkpoint_s=checkpoint_s))
                checkpoint_s += time.perf_counter() - t
                interrupt.check()  # a Ctrl-C Python swallowed stops the run here, its segment checkpointed
                bar.update(done_updates * steps_per_update, sps, runs.mean_return(returns))  # training's rate, as the summary's
        # where the host loop's time went besides compiling and training (benchmarks/ppo_speed.py reports it)
        extra = dict(eval_s=round(eval_s, 3), checkpoint_s=round(checkpoint_s, 3))
        return RunOutcome(final_returns=returns, final_state=states, compile_s=plan.compile_s, train_s=train_s, extra_summary=extra)
