"""PPO-clip against PPO with the adaptive KL penalty (``python -m experiments.clip_vs_kl.run``)."""
