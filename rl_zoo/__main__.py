"""``python -m rl_zoo``: the ``rl-zoo`` command (``rl_zoo.cli``)."""

from rl_zoo.cli import console_main

if __name__ == "__main__":
    console_main()
