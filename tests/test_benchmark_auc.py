"""The report's normalised area under the learning curve (rl_zoo.benchmark.efficiency), by hand."""

import csv

import numpy as np
import pytest

from rl_zoo import benchmark as bm
from rl_zoo.benchmark import efficiency
from rl_zoo.benchmark.references import ENV_REFERENCES
from run_helpers import copy_grid


def test_seed_aucs_normalise_each_seeds_points_in_step_order():
    """CartPole (random 21.5, threshold 475): seed 1 at 21.5, 475, 475 at steps 0, 100, 400 (given out of
    order) is normalised (0, 1, 1): (100 x 1/2 + 300 x 1) / 400 = 0.875; seed 0 random throughout, 0. Seeds in
    seed order."""
    by_seed = {1: [(400, 475.0), (0, 21.5), (100, 475.0)], 0: [(0, 21.5), (100, 21.5), (400, 21.5)]}
    np.testing.assert_allclose(efficiency.seed_aucs(by_seed, ENV_REFERENCES["CartPole-v1"]), [0.0, 0.875])


def test_auc_intervals_pool_the_envs_each_algorithm_ran_on():
    """a: one seed per env, 0.5 on E1 and 1 on E2: the IQM of 2 runs trims nothing, 0.75, and every stratified
    resample is the same runs, so the interval is the point. b ran on E1 only: its IQM is over E1's 4 seeds,
    the middle two of (0, 0.25, 0.5, 10), 0.375, the outlier trimmed."""
    aucs = {"a": {"E1": np.array([0.5]), "E2": np.array([1.0])}, "b": {"E1": np.array([0.5, 10.0, 0.0, 0.25])}}
    numbers = efficiency.auc_intervals(aucs, ["a", "b"], ["E1", "E2"])
    assert numbers["a"] == (0.75, 0.75, 0.75)
    assert numbers["b"][0] == 0.375 and numbers["b"][1] <= 0.375 <= numbers["b"][2]


def test_the_report_gives_the_iqm_of_the_normalised_auc_of_the_committed_grid(tmp_path):
    """DQN on CartPole, from returns.csv by a loop of its own: each seed's trapezoids over the 41 grid points
    (0 to 100,000 env steps) of (return - 21.5) / (475 - 21.5), over 100,000 steps; seed 1000's is 0.6858. Its
    5 seeds' IQM is the mean of the middle three, 0.76 in the report's aggregate table."""
    out = copy_grid(tmp_path)
    curves: dict[int, list[tuple[int, float]]] = {}
    with open(out / "returns.csv") as f:
        for row in csv.DictReader(f):
            if row["algo"] == "dqn" and row["env"] == "CartPole-v1":
                curves.setdefault(int(row["seed"]), []).append((int(row["env_steps"]), (float(row["return"]) - 21.5) / 453.5))
    by_hand = []
    for seed in sorted(curves):
        area = 0.0
        for (t0, v0), (t1, v1) in zip(curves[seed], curves[seed][1:]):
            area += (t1 - t0) * (v0 + v1) / 2
        by_hand.append(area / 100_000)
    aucs = bm.summarize(out).normalised_auc["dqn"]["CartPole-v1"]
    np.testing.assert_allclose(aucs, by_hand, rtol=1e-12)
    assert aucs[0] == pytest.approx(0.685765, abs=1e-6)
    iqm = np.mean(np.sort(by_hand)[1:4])
    text = bm.write_report(out).read_text()
    assert "| algorithm | envs | IQM [95% CI] | optimality gap [95% CI] | normalised AUC: IQM [95% CI] |" in text
    dqn = next(line for line in text.splitlines() if line.startswith("| dqn | 1 |"))
    assert dqn.split(" | ")[4].startswith(f"{iqm:.2f} [")
    assert efficiency.AUC_NOTE in text
