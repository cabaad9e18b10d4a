"""The driver's public names, where the tests, benchmarks and experiments import them from.

The driver itself lives in ``rl_zoo/driver/`` (``RunSpec`` -> runner -> recorder; see its
``__init__``): the hot loop is one compiled program per segment of K updates of every seed
(``lax.scan`` inside ``jax.vmap`` over seeds); between segments the host evaluates the greedy policy,
writes a metrics row per seed, checkpoints, and advances the progress display.
"""

from rl_zoo.driver import (  # noqa: F401
    NonFiniteError,
    RecorderHook,
    RunResult,
    RunSpec,
    enable_compilation_cache,
    format_summary,
    load_hyperparams,
    resolve_config,
    train,
)
from rl_zoo.driver.config_file import read_config_file  # noqa: F401
from rl_zoo.driver.spec import HYPERPARAMS_DIR  # noqa: F401
