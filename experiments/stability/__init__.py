"""Is the vanilla policy gradient unstable, and do trust regions help? (``python -m experiments.stability.run``)"""
