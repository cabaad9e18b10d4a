"""Language as an environment: one token per step (``envs.language.token_env``)."""

from envs.language.token_env import TokenEnv, TokenEnvParams, TokenLayout, TokenState

__all__ = ["TokenEnv", "TokenEnvParams", "TokenLayout", "TokenState"]
