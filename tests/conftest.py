"""Test-session settings: a private persistent compilation cache, so that the many small programs
the tests compile (several of them more than once) are compiled once per session."""

import os

import pytest

os.environ.setdefault("MPLBACKEND", "Agg")


@pytest.fixture(scope="session", autouse=True)
def _compilation_cache(tmp_path_factory):
    from rl_zoo.train import enable_compilation_cache

    enable_compilation_cache(tmp_path_factory.mktemp("jax_cache"))
