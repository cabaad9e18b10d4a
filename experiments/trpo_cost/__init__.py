"""Is TRPO computationally expensive next to PPO? (``python -m experiments.trpo_cost.run``)"""
