"""rl_zoo environments: pure-JAX ports of gymnasium tasks and an adapter for every other gymnasium id.

    env, params = envs.make("CartPole-v1")
    obs, state = env.reset(key, params)
    obs, state, reward, terminated, truncated, info = env.step(key, state, action, params)
"""

from envs import spaces
from envs.environment import EnvParams, EnvState, Environment, check_env
from envs.registry import backend_of, describe, list, make, register
from envs.vector import JaxVecEnv, vectorize
from envs.wrappers import EpisodeStatistics

__all__ = [
    "EnvParams", "EnvState", "Environment", "EpisodeStatistics", "JaxVecEnv",
    "backend_of", "check_env", "describe", "list", "make", "register", "spaces", "vectorize",
]
