"""Per-env reference values of the benchmark: default env-step budget, random-policy return, solved threshold."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class EnvReference:
    """Per-env reference values: the default env-step budget of a benchmark, the return of a uniformly
    random policy, and the return that counts as solving the env (the threshold in the report, and 1
    after normalisation)."""

    steps: int
    random: float
    solved: float
    source: str


#: Random returns: mean of 1000 episodes of a uniformly random policy on this project's JAX ports.
#: Solved: gymnasium's ``reward_threshold`` where it has one; Pendulum-v1 has none, -250 is a policy
#: that swings up and balances from most starts (well-trained agents reach about -150).
#: Default steps: enough for the tuned policy-gradient algorithms to get near the threshold, and small
#: enough that the published grid (benchmarks/grid.py: 4 policy-gradient algorithms on 3 envs and DQN
#: on CartPole, 5 seeds) finishes in under 30 minutes on a 2-core CPU.
ENV_REFERENCES: dict[str, EnvReference] = {
    "CartPole-v1": EnvReference(100_000, 21.5, 475.0, "gymnasium reward_threshold"),
    "Acrobot-v1": EnvReference(500_000, -498.9, -100.0, "gymnasium reward_threshold"),
    "Pendulum-v1": EnvReference(500_000, -1235.8, -250.0, "no gymnasium threshold; swing-up and balance"),
    "MountainCar-v0": EnvReference(200_000, -200.0, -110.0, "gymnasium reward_threshold"),
    "MountainCarContinuous-v0": EnvReference(200_000, -33.1, 90.0, "gymnasium reward_threshold"),
}
#: Budget for an env without a reference entry.
FALLBACK_STEPS = 100_000


def default_steps(env_id: str) -> int:
    """The env's default env-step budget per seed (``FALLBACK_STEPS`` without a reference entry)."""
    ref = ENV_REFERENCES.get(env_id)
    return ref.steps if ref else FALLBACK_STEPS


def steps_help() -> str:
    """The default env-step budgets, for ``--help``."""
    parts = [f"{k} {v.steps:,}" for k, v in ENV_REFERENCES.items()]
    return ", ".join(parts) + f"; any other env {FALLBACK_STEPS:,}"


def threshold(env_id: str) -> float | None:
    """The env's solved threshold: ours where we have a reference, else gymnasium's reward_threshold."""
    if env_id in ENV_REFERENCES:
        return ENV_REFERENCES[env_id].solved
    try:
        import gymnasium

        from envs.registry import gymnasium_name

        return gymnasium.spec(gymnasium_name(env_id)).reward_threshold
    except Exception:
        return None
