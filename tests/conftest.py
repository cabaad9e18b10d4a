"""Test-session settings: a private persistent compilation cache, so that the many small programs
the tests compile (several of them more than once) are compiled once per session."""

import os

import pytest

os.environ.setdefault("MPLBACKEND", "Agg")


@pytest.fixture(scope="session", autouse=True)
def _compilation_cache(tmp_path_factory):
    from rl_zoo.train import enable_compilation_cache

    enable_compilation_cache(tmp_path_factory.mktemp("jax_cache"))


def pytest_addoption(parser):
    parser.addoption(
        "--seed-offset", type=int, default=0,
        help="shift every fixed seed of the learning tests by N (check that no test leans on a lucky seed)",
    )


@pytest.fixture(scope="session")
def seed_offset(request) -> int:
    """The ``--seed-offset`` given to pytest (0 by default); tests that train add it to their seeds."""
    return request.config.getoption("--seed-offset")
