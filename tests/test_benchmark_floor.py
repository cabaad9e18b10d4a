"""The FLOP count of ``benchmarks/arithmetic_floor.py`` (issue 15): hand-worked values, and XLA's own
count of the same gradient as a cross-check; and the peer workers' imports. No training, no timing."""

import sys
from pathlib import Path

import jax
import jax.numpy as jnp
import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


@pytest.fixture
def floor(monkeypatch):
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    import arithmetic_floor

    yield arithmetic_floor
    sys.modules.pop("arithmetic_floor", None)


def test_layer_and_trained_net_flops_by_hand(floor):
    # 4-256-256-2: 4*256 + 256*256 + 256*2 = 1,024 + 65,536 + 512 = 67,072 multiply-adds forward.
    assert floor.layer_macs([4, 256, 256, 2]) == (67_072, 1_024)
    # forward 67,072 + weight gradients 67,072 + input gradients 67,072 - 1,024 = 200,192; x2 FLOPs.
    assert floor.trained_net_flops([4, 256, 256, 2]) == 400_384
    # 4-64-64-1: 256 + 4,096 + 64 = 4,416; 3 x 4,416 - 256 = 12,992; x2.
    assert floor.trained_net_flops([4, 64, 64, 1]) == 25_984


@pytest.mark.parametrize("sizes, batch, act", [([4, 256, 256, 2], 128, jax.nn.relu), ([4, 64, 64, 1], 256, jnp.tanh)])
def test_trained_net_flops_agree_with_xla(floor, sizes, batch, act):
    """XLA's cost analysis of one gradient counts the same products plus the elementwise work: a few
    percent more, never less. Compiled for the CPU, whose floor this is (on an H200 under XLA's determinism
    flag, the GPU's cost analysis counted 2-3% of these FLOPs)."""
    cpu = jax.devices("cpu")[0]
    params = jax.device_put(floor.mlp_init(jax.random.key(0), sizes), cpu)
    grad = jax.jit(jax.grad(lambda p, x: floor.mlp(p, x, act).sum()))
    cost = grad.lower(params, jax.device_put(jnp.ones((batch, sizes[0])), cpu)).compile().cost_analysis()
    cost = cost[0] if isinstance(cost, list) else cost
    ratio = cost["flops"] / (batch * floor.trained_net_flops(sizes))
    assert 1.0 <= ratio <= 1.05, ratio


def test_peer_workers_import_without_rl_zoo():
    """``peer_speed.py --worker`` and gymnasium_speed's SB3 worker run with the peer's Python, which has no
    rl_zoo: their module and ``_results`` must import without it (a top-level import of rl_zoo.runs in
    ``_results`` stopped every peer timing with ModuleNotFoundError)."""
    import subprocess

    code = ("import sys; sys.path.insert(0, sys.argv[1]); sys.modules['rl_zoo'] = None\n"
            "import _results, peer_speed, gymnasium_speed")
    done = subprocess.run([sys.executable, "-c", code, str(Path(__file__).resolve().parents[1] / "benchmarks")],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr


def test_grid_scripts_help_is_its_own(monkeypatch, capsys):
    """`python benchmarks/grid.py --help` printed `rl-zoo benchmark`'s help, whose defaults (10 seeds, seed 0,
    runs/benchmark) are not the grid's; nothing runs."""
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    import grid

    try:
        assert grid.run(["--help"]) == 0
    finally:
        sys.modules.pop("grid", None)
    out = capsys.readouterr().out
    assert out.startswith("Regenerate the project's published algorithm comparison")
    assert "This script passes: --algos ppo,ppo-kl,trpo,vpg,dqn --envs CartPole-v1,Acrobot-v1,Pendulum-v1 --seeds 5 --seed 1000" in out
