"""Which algorithm is best overall on classic control? (``python -m experiments.overall.run``)"""
