"""Experiments: questions answered with figures. Each folder runs as ``python -m experiments.<name>.run``."""
