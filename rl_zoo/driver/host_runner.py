"""The runner for gymnasium-adapter envs: seeds one after another, rollouts on the host, learning jitted.

The env's state lives in gymnasium objects, so these runs are not checkpointed (``can_resume`` is
False: ``--resume`` refuses them).
"""

from __future__ import annotations

import time

import numpy as np

from rl_zoo.driver.guard import check_finite, finite_param_flags
from rl_zoo.driver.recorder import Evaluation, Recorder, SegmentEnd
from rl_zoo.driver.runner import ResumePoint, RunContext, RunOutcome, latest_episode_return, segment_sizes
from rl_zoo.progress import RunProgress


class HostRunner:
    name = "gymnasium"
    can_resume = False

    def run(self, ctx: RunContext, recorder: Recorder, resume: ResumePoint | None) -> RunOutcome:
        import jax

        from rl_zoo.core.evaluate import evaluate

        if resume is not None:
            raise ValueError(f"runs on gymnasium-adapter envs cannot resume ({ctx.run_dir})")
        spec, agent = ctx.spec, ctx.agent
        steps_per_update = agent.env_steps_per_update
        k, _ = segment_sizes(agent.num_updates, spec.num_evals)
        train_s, t_start = 0.0, time.perf_counter()
        finals, states = [], []
        total = ctx.total_env_steps
        with RunProgress(ctx.progress, total * spec.seeds, ctx.label) as bar:
            for s, seed in enumerate(spec.seed_ids):
                key = jax.random.key(seed)
                state = agent.init(key)
                latest = np.full(1, np.nan)
                done = 0
                while True:
                    ret = float(np.mean(np.asarray(evaluate(agent.act, state, ctx.env, ctx.env_params, jax.random.fold_in(key, done + 1),
                                                            spec.eval_episodes))))
                    recorder.evaluation(Evaluation(done * steps_per_update, time.perf_counter() - t_start, (seed,),
                                                   np.array([ret]), latest.copy()))
                    if done >= agent.num_updates:
                        break
                    t0 = time.perf_counter()
                    for _ in range(min(k, agent.num_updates - done)):
                        t1 = time.perf_counter()
                        state, metrics = agent.update(state)
                        batched = jax.tree.map(lambda x: np.asarray(x)[None, None], metrics)  # [1 seed, 1 update]
                        check_finite(batched, finite_param_flags(jax.tree.map(lambda x: x[None], state.params)), done_updates=done,
                                     steps_per_update=steps_per_update, first_seed=seed, run_dir=ctx.run_dir)
                        recorder.segment(SegmentEnd(done, 1, steps_per_update, (seed,), batched, time.perf_counter() - t_start,
                                                    steps_per_update / max(time.perf_counter() - t1, 1e-9)))
                        done += 1
                        latest = latest_episode_return(batched, latest)
                    train_s += time.perf_counter() - t0
                    steps = s * total + done * steps_per_update
                    bar.update(steps, steps / max(train_s, 1e-9), ret)
                finals.append(ret)
                states.append(state)
        return RunOutcome(final_returns=np.array(finals), final_state=states, compile_s=0.0, train_s=train_s)
