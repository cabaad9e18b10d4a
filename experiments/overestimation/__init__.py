"""Does Q-learning overestimate, and does Double Q-learning fix it? (``python -m experiments.overestimation.run``)"""
