"""experiments/common.py and reporting.py: the segment plan trains every update, the small statistics, and the
command-line helpers (one line for bad input, nothing created)."""

from __future__ import annotations

import dataclasses
import json
import sys
from pathlib import Path
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from experiments import common, reporting

EXPERIMENTS = Path(common.__file__).parent


@pytest.mark.parametrize("num_updates,num_evals", [(195, 20), (97, 10), (244, 20), (73, 10), (7, 20), (1, 5), (390, 15)])
def test_segment_plan_trains_every_update(num_updates, num_evals):
    plan = common.segment_plan(num_updates, num_evals)
    assert sum(plan) == num_updates
    assert len(set(plan[:-1])) <= 1 and plan[-1] <= plan[0]  # K, ..., K and a last one no longer than K
    steps = common.eval_steps(plan, 256)
    assert steps[0] == 0 and steps[-1] == num_updates * 256 and len(steps) == len(plan) + 1


class _Counter(NamedTuple):
    """A stand-in agent: the state counts the updates done."""

    num_updates: int

    def init(self, key):
        return jnp.int32(0)

    def update(self, state):
        return state + 1, dict(done=state + 1)


@pytest.mark.parametrize("num_updates,num_evals", [(97, 10), (40, 4), (13, 20)])
def test_train_and_evaluate_runs_the_rest(num_updates, num_evals):
    agent = _Counter(num_updates)
    evals, metrics = jax.jit(lambda seed: common.train_and_evaluate(agent, lambda s, _: s, num_evals, seed))(0)
    plan = common.segment_plan(num_updates, num_evals)
    np.testing.assert_array_equal(np.asarray(evals), np.concatenate([[0], np.cumsum(plan)]))
    np.testing.assert_array_equal(np.asarray(metrics["done"]), np.arange(1, num_updates + 1))


class _KeyRecorder(_Counter):
    """An agent whose state is the key data it was initialised with."""

    def init(self, key):
        return jax.random.key_data(key)

    def update(self, state):
        return state, {}


def test_an_experiment_seed_starts_and_evaluates_as_rl_zoo_train_does():
    """Seed 1000 of an experiment was ``split(key(1000))[0]``: not the run ``rl-zoo train --seed 1000`` makes."""
    from rl_zoo.core.evaluate import eval_key
    from rl_zoo.driver.plan import init_seeds

    agent = _KeyRecorder(4)
    seeds = common.seed_ids(1000, 3)
    evaluate = lambda state, key: (state, jax.random.key_data(key))  # noqa: E731
    (states, eval_keys), _ = jax.jit(jax.vmap(lambda s: common.train_and_evaluate(agent, evaluate, 2, s)))(seeds)
    np.testing.assert_array_equal(np.asarray(states[:, 0]), np.asarray(init_seeds(agent, seeds)))
    for i, s in enumerate(range(1000, 1003)):
        for e in range(3):  # before training, after each of the 2 segments: the driver's eval_all keys
            np.testing.assert_array_equal(np.asarray(eval_keys[i, e]), np.asarray(jax.random.key_data(eval_key(s, e))))
        assert len({tuple(np.asarray(k).ravel()) for k in eval_keys[i]}) == 3  # each evaluation its own stream
        np.testing.assert_array_equal(jax.random.key_data(common.seed_keys(1000, 3)[i]), jax.random.key_data(jax.random.key(s)))
    assert common.seeds_text(1000, 8) == "seeds 1000–1007" and common.seeds_text(5, 1) == "seed 5"


def test_config_from_record_round_trip():
    from rl_zoo.algos import ppo

    config = dataclasses.replace(ppo.Config(), learning_rate=3e-4, loss="kl")
    assert common.config_from_record(ppo.Config, dataclasses.asdict(config)) == config
    with pytest.raises(SystemExit) as e:
        common.config_from_record(ppo.Config, str(config))  # the old records: text
    assert e.value.code == 2


def test_is_experiment_folder(tmp_path, monkeypatch):
    here = tmp_path / "exp"
    here.mkdir()
    monkeypatch.chdir(tmp_path)
    from pathlib import Path

    assert reporting.is_experiment_folder(Path("exp"), here) and reporting.is_experiment_folder(Path("./exp/"), here)
    assert not reporting.is_experiment_folder(Path("other"), here)


@pytest.mark.parametrize("module,flag", [("experiments.trpo_cost.run", "--report"), ("experiments.trpo_cost.run", "--replot"),
                                         ("experiments.clip_vs_kl.run", "--report"), ("experiments.clip_vs_kl.run", "--replot"),
                                         ("experiments.overestimation.run", "--report"), ("experiments.overall.run", "--replot")])
def test_report_without_a_record_is_one_line(module, flag, tmp_path, monkeypatch, capsys):
    import importlib

    out = tmp_path / "missing"
    monkeypatch.setattr(sys, "argv", ["run.py", flag, "--out", str(out)])
    with pytest.raises(SystemExit) as e:
        importlib.import_module(module).main()
    assert e.value.code == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "\n" not in err and ("run_info.json" in err or "summary.json" in err)
    assert not out.exists()  # nothing created


@pytest.mark.parametrize("module,flag,record", [("experiments.trpo_cost.run", "--report", "run_info.json"),
                                                ("experiments.clip_vs_kl.run", "--report", "run_info.json"),
                                                ("experiments.clip_vs_kl.run", "--replot", "run_info.json"),
                                                ("experiments.overestimation.run", "--report", "summary.json")])
def test_a_record_of_another_experiment_is_one_line(module, flag, record, tmp_path, monkeypatch, capsys):
    """--out given another experiment's folder: its record is JSON but not this experiment's (KeyError: 'configs')."""
    import importlib

    (tmp_path / record).write_text('{"seeds": 8}')
    (tmp_path / "curves.csv").write_text("")
    (tmp_path / "raw.npz").write_bytes(b"")
    monkeypatch.setattr(sys, "argv", ["run.py", flag, "--out", str(tmp_path)])
    with pytest.raises(SystemExit) as e:
        importlib.import_module(module).main()
    err = capsys.readouterr().err.strip()
    assert e.value.code == 2 and "\n" not in err, err
    assert err.startswith(f"error: {tmp_path / record} is not a record of this experiment: it lacks ") and \
        "(is --out another experiment's folder?)" in err


def test_a_report_on_tuning_seeds_says_so_at_its_top_and_in_its_finding(tmp_path, capsys):
    """``--seed 0``: the README called seeds 0-7 held out beside "the tuned configs were chosen on seeds 0-9"."""
    import json
    import shutil
    from pathlib import Path

    from experiments import common
    from experiments.clip_vs_kl import compute, report

    assert common.tuning_seeds_said(1000, 8) is None and common.tuning_seeds_said(None, 8) is None
    assert common.tuning_seeds_said(8, 4).startswith("seeds 8, 9 are among those the tuned configs were chosen on")
    assert common.tuning_seeds_said(195, 20).startswith("seeds 200, 201, 202 ... are among")
    common.warn_tuning_seeds(0, 2)
    assert capsys.readouterr().err.startswith("warning: seeds 0–1 are not held out: seeds 0, 1 are among")
    for name in ("run_info.json", "README.md"):
        shutil.copy(Path(compute.__file__).parent / name, tmp_path / name)
    info = json.loads((tmp_path / "run_info.json").read_text())
    info["first_seed"] = 0
    configs = compute.recorded_configs(info)
    line = report.write(tmp_path, info["summary"], {e: configs[f"{e} PPO-clip"] for e in compute.ENVS}, info["seeds"],
                        info["n_points"], info)
    assert line.startswith("On tuning seeds, not held out: ")
    assert "\n**Not held out: seeds 0, 1, 2 ... are among those the tuned configs were chosen on" in \
        (tmp_path / "README.md").read_text()
    # a record that does not say its first seed (an older format) read as seeds 0-7, beside "tuned on seeds 0-9" and
    # with no banner: it says it does not know which
    del info["first_seed"]
    report.write(tmp_path, info["summary"], {e: configs[f"{e} PPO-clip"] for e in compute.ENVS}, info["seeds"],
                 info["n_points"], info)
    readme = (tmp_path / "README.md").read_text()
    assert "8 seeds (which, the record does not say)" in readme and "seeds 0–7" not in readme


@pytest.mark.parametrize("module", ["experiments.trpo_cost.run", "experiments.clip_vs_kl.run", "experiments.overestimation.run",
                                    "experiments.stability.run"])
def test_seeds_past_int32_are_refused_before_any_work(module, tmp_path, monkeypatch, capsys):
    """seed_ids wrapped 2147483647 + 1 to -2147483648 silently, and the report named seeds that never ran."""
    import importlib

    out = tmp_path / "out"
    monkeypatch.setattr(sys, "argv", ["run.py", "--quick", "--seed", "2147483647", "--out", str(out)])
    with pytest.raises(SystemExit) as e:
        importlib.import_module(module).main()
    assert e.value.code == 2 and "--seed = 2147483647 is invalid" in capsys.readouterr().err
    assert not out.exists()


@pytest.mark.parametrize("module", ["experiments.trpo_cost.run", "experiments.clip_vs_kl.run",
                                    "experiments.overestimation.run", "experiments.stability.run"])
def test_zero_seeds_is_one_line(module, monkeypatch, capsys):
    import importlib

    monkeypatch.setattr(sys, "argv", ["run.py", "--seeds", "0"])
    with pytest.raises(SystemExit) as e:
        importlib.import_module(module).main()
    assert e.value.code == 2
    assert "--seeds: 0 is not >= 1" in capsys.readouterr().err


@pytest.mark.parametrize("module", ["experiments.trpo_cost.run", "experiments.clip_vs_kl.run", "experiments.overestimation.run",
                                    "experiments.stability.run", "experiments.overall.run", "experiments.rlhf.run"])
def test_a_file_as_out_is_one_line_before_any_work(module, tmp_path, monkeypatch, capsys):
    """``--out`` naming a file was a traceback (FileExistsError; NotADirectoryError from stability's sweeps/);
    now one line, and the file is kept as it was."""
    import importlib

    mine = tmp_path / "a_file"
    mine.write_text("mine\n")
    argv = ["--small" if module == "experiments.rlhf.run" else "--quick", "--out", str(mine)]
    monkeypatch.setattr(sys, "argv", ["run.py", *argv])
    main = importlib.import_module(module).main
    with pytest.raises(SystemExit) as e:
        main(argv) if module == "experiments.rlhf.run" else main()
    assert e.value.code == 2
    err = capsys.readouterr().err.strip()
    assert err == f"error: --out {mine} is a file: give the folder for the experiment's figures, tables and README"
    assert mine.read_text() == "mine\n" and sorted(tmp_path.iterdir()) == [mine]


def test_stability_bad_budget_is_one_line(tmp_path, monkeypatch, capsys):
    from experiments.stability import run

    out = tmp_path / "st"
    monkeypatch.setattr(sys, "argv", ["run.py", "--total-steps", "10", "--out", str(out)])
    with pytest.raises(SystemExit) as e:
        run.main()
    assert e.value.code == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: --total-steps = 10 is invalid: must be at least one batch") and "\n" not in err
    assert "shrink the batch" not in err and err.endswith("the same for every algorithm of this experiment)")
    assert not out.exists()


def test_stability_bin_tests():
    from experiments.stability.compute import KL_BINS, bin_tests

    empty = [(0, 0)] * len(KL_BINS)
    bins = {"VPG": list(empty), "PPO-clip": list(empty), "TRPO": list(empty)}
    bins["TRPO"][1], bins["PPO-clip"][1] = (0, 16), (6, 8)
    (t,) = bin_tests(bins)
    # Fisher's exact test, 6 of PPO's 8 and 0 of TRPO's 16: the one table at least as extreme is this one,
    # C(8, 6) / C(24, 6) = 28 / 134,596 = 0.000208 (the other tail's end, all 6 in TRPO, has 8,008 / 134,596)
    assert (t["bin"], t["a"], t["b"]) == (1, "PPO-clip", "TRPO") and t["p"] == pytest.approx(28 / 134596, rel=1e-6)
    from experiments.stability.report import tests_text

    text = tests_text([t])
    assert "1 test with" in text and "1 pair differs" in text and "not after" not in text
    assert "PPO-clip 6/8 vs TRPO 0/16, p = 2.1e-04" in text
    assert "no pair differs" in tests_text([dict(t, p=0.5)])


def test_stability_says_per_algorithm_whether_large_steps_go_with_collapse():
    """The committed run's PPO-KL (3/5 solved runs collapsed above a mean KL of 0.03, 23/43 below: Fisher p = 1)
    was read as "large steps go with collapse in every algorithm" off the pooled top bin."""
    from experiments.stability.compute import KL_BINS
    from experiments.stability.report import kl_against_clip, top_against_below

    empty = [(0, 0)] * (len(KL_BINS) - 1)
    bins = {"VPG": [(6, 29), *empty[1:], (11, 11)], "PPO-KL": [(23, 43), *empty[1:], (3, 5)]}
    said = top_against_below(bins)
    assert said["top_where"] == "in VPG, not in PPO-KL"
    assert said["top_vs_below"].startswith("VPG 11/11 above, 6/29 below (Fisher p = 5") and "PPO-KL 3/5 above, 23/43 below (Fisher p = 1)" in said["top_vs_below"]
    assert top_against_below({"VPG": bins["VPG"]})["top_where"] == "in every algorithm"
    # PPO-KL against PPO-clip, rate by rate, on the share of solved runs that collapsed (a rate none solved is left out)
    rate = lambda value, fell, reached: dict(value=value, fell=fell, reached=reached)  # noqa: E731
    kl = [rate(1e-4, 6, 8), rate(1e-3, 7, 8), rate(1e-2, 1, 8), rate(3e-2, 0, 0)]
    clip = [rate(1e-4, 8, 8), rate(1e-3, 0, 8), rate(1e-2, 1, 8), rate(3e-2, 7, 8)]
    assert kl_against_clip(kl, clip) == dict(kl_more="1 of 3 learning rates (1e-3)", kl_less="1 (1e-4)")


def test_the_run_line_names_the_cpu_where_the_record_does():
    xeon = "Intel(R) Xeon(R) Processor (x86_64), 2 CPU cores, load average at start 0.9, 2.9, 4.7"
    assert reporting.cpu_of(xeon) == "Intel Xeon" and reporting.load_at_start(xeon) == "0.9"
    assert reporting.run_line(384.0, xeon) == ("384 s (6.4 min) for the whole script, on 2 CPU cores of an Intel Xeon (1-minute "
                                            "load average 0.9 at the start; above 1, other work shared them).")
    old = "x86_64, 2 CPU cores, load average at start 1.3, 1.5, 1.6"  # a record of before the CPU was named
    assert reporting.cpu_of(old) is None and "on 2 CPU cores (1-minute load average 1.3" in reporting.run_line(321.0, old)


def test_rlhf_experiment_reports_every_algorithm_comparison_and_refuses_unknown_parts(tmp_path, capsys):
    """``--algo-beta 0.1`` saved algo_<name>_beta0.1.npz that results.md never showed; ``--only swep`` ran nothing."""
    from experiments.rlhf import run

    for name in ("algo_ppo.npz", "algo_ppo-kl.npz", "algo_grpo_beta0.2.npz", "algo_rloo_beta0.1.npz", "best_of_n.npz"):
        (tmp_path / name).write_bytes(b"")
    assert run.algo_suffixes(tmp_path) == ["", "_beta0.1", "_beta0.2"]
    with pytest.raises(SystemExit) as e:
        run.main(["--only", "swep", "--out", str(tmp_path / "new")])
    assert e.value.code == 2 and "unknown part(s) swep; the parts are sweep, bon, algos" in capsys.readouterr().err
    assert not (tmp_path / "new").exists()


def test_rlhf_results_name_the_few_seeds_interval_the_pairs_and_each_algorithms_peak(tmp_path):
    """results.md called a 3-seed bootstrap (the seeds' range) a "95% CI", the RM's accuracy on fresh pairs of
    training prompts "held-out", and its Q2 peak-gold figures stood in no table; a results folder whose
    question 2 ran apart (``algos/``) now points there in a generated line."""
    from experiments.rlhf import run

    np.savez(tmp_path / "supervised.npz", rm_heldout_accuracy=np.array([0.8, 0.9, 0.85]),
             rm_heldout_label_accuracy=np.array([0.7, 0.7, 0.72]))
    gold = np.array([[1.0, 3.0, 2.0, 2.0], [1.0, 4.0, 2.0, 1.0], [1.0, 2.0, 6.0, 2.0]])  # mean over seeds: 1, 3, 3.33, 1.67
    np.savez(tmp_path / "algo_rloo.npz", responses=np.array(64), final_gold=np.array([2.0, 4.0, 3.0]), gold=gold,
             kl=np.ones((3, 4)), proxy=np.zeros((3, 4)), seconds=np.array([1.0, 2.0]))
    run.report(tmp_path)
    text = (tmp_path / "results.md").read_text()
    assert "mean over seeds [the range of the 3 seeds (a percentile bootstrap over 3 values is their range, not a 95% interval)]" in text
    assert "accuracy on fresh comparisons of SFT samples (training prompts) vs gold: 0.85 [0.80, 0.90]" in text
    assert "| rloo | 64 | 3.00 [2.00, 4.00] | 1.00 [1.00, 1.00] | 0.00 [0.00, 0.00] | 3.33 (update 3) | 1 | 2 |" in text
    assert "95% CI" not in text and "algos/results.md" not in text
    (tmp_path / "algo_rloo.npz").unlink()
    (tmp_path / "algos").mkdir()
    (tmp_path / "algos" / "results.md").write_text("# Results\n")
    run.report(tmp_path)
    assert "ran on its own seeds (`--algo-seed`): [`algos/results.md`](algos/results.md)." in (tmp_path / "results.md").read_text()


def test_rlhf_results_say_a_smoke_run_and_tuning_seeds_first(tmp_path):
    """A --small run, or one on the seeds the pipeline's defaults were chosen on (0-2), wrote results.md as a result
    on held-out seeds: the other experiments say "Smoke run" and "Not held out" first."""
    from experiments.rlhf import run

    assert run.tuning_words(1000, 3, algos=False) == "" and run.tuning_words(1003, 3, algos=True) == ""
    assert run.tuning_words(2, 2, algos=False) == ("seed 2 is among those the pipeline's defaults were chosen on, where "
                                                   "they look better than on new seeds")
    assert run.tuning_words(1002, 2, algos=True) == ("seed 1002 is among those question 2's beta 0.2 was chosen on, where "
                                                     "they look better than on new seeds")
    np.savez(tmp_path / "supervised.npz", rm_heldout_accuracy=np.array([0.8, 0.9]), rm_heldout_label_accuracy=np.array([0.7, 0.7]),
             small=np.asarray(True), tuning=np.asarray(run.tuning_words(0, 2, algos=False)))
    run.report(tmp_path)
    lines = (tmp_path / "results.md").read_text().splitlines()
    assert lines[2:5] == ["**Smoke run (`--small`): tiny models and budgets. Not a result.**", "",
                          "**Not held out: seeds 0, 1 are among those the pipeline's defaults were chosen on, where they "
                          "look better than on new seeds.**"]
    np.savez(tmp_path / "supervised.npz", rm_heldout_accuracy=np.array([0.8, 0.9]), rm_heldout_label_accuracy=np.array([0.7, 0.7]),
             small=np.asarray(False), tuning=np.asarray(""))
    run.report(tmp_path)
    assert "Smoke run" not in (text := (tmp_path / "results.md").read_text()) and "Not held out" not in text


@pytest.mark.parametrize("argv, said", [(["--seed", "1"], "warning: not held out: seeds 1, 2 are among those the pipeline"),
                                        (["--only", "algos", "--algo-seed", "1001"], "warning: the algorithm comparison is not held out: seeds 1001, 1002")])
def test_the_rlhf_experiment_warns_of_tuning_seeds_before_training(argv, said, tmp_path, monkeypatch, capsys):
    from experiments.rlhf import run

    monkeypatch.setattr(run, "run_parts", lambda *a, **k: (_ for _ in ()).throw(KeyboardInterrupt))  # stop before training
    with pytest.raises(KeyboardInterrupt):
        run.main(["--small", *argv, "--out", str(tmp_path)])
    assert said in capsys.readouterr().err


def test_the_rlhf_algorithm_comparison_defaults_past_the_seeds_beta_was_chosen_on(tmp_path, monkeypatch, capsys):
    """``--seeds 1`` or ``2`` put question 2 on 1001 or 1002, among the seeds its beta 0.2 was chosen on, and
    stamped its results "Not held out", where the help promises the seeds after question 1's."""
    from experiments.rlhf import run

    assert [run.default_algo_seed(1000, n) for n in (1, 2, 3, 4)] == [1003, 1003, 1003, 1004]
    assert run.default_algo_seed(0, 3) == 3 and run.default_algo_seed(998, 1) == 999 and run.default_algo_seed(999, 1) == 1003
    seen = []
    monkeypatch.setattr(run, "run_parts", lambda folder, config, seeds, *a: seen.append(seeds))
    monkeypatch.setattr(run, "report", lambda out: None)
    run.main(["--small", "--seeds", "2", "--out", str(tmp_path)])
    assert seen == [[1000, 1001], [1003, 1004]] and "not held out" not in capsys.readouterr().err


def test_rlhf_results_print_one_seed_without_an_interval(tmp_path):
    """With one seed the heading said "1 seed: no interval" and every cell printed one, [x, x]."""
    from experiments.rlhf import run

    assert run.mean_interval([0.3]) == "0.30" and run.mean_interval([0.3, np.nan]) == "0.30"
    assert run.mean_interval([np.nan]) == "none finite" and run.mean_interval([1.0, 2.0]).startswith("1.50 [")
    np.savez(tmp_path / "supervised.npz", rm_heldout_accuracy=np.array([0.61]), rm_heldout_label_accuracy=np.array([0.5]))
    run.report(tmp_path)
    text = (tmp_path / "results.md").read_text()
    assert "mean over seeds [1 seed: no interval]" in text and "vs gold: 0.61; vs the noisy labels: 0.50" in text


def test_a_fresh_rlhf_run_points_to_its_algos_results(tmp_path, capsys):
    """A first run of every part wrote the top results.md before algos/results.md, so it lacked the Q2 line a
    --replot of the same folder then added."""
    from experiments.rlhf import run

    for folder in (tmp_path, tmp_path / "algos"):
        folder.mkdir(exist_ok=True)
        np.savez(folder / "supervised.npz", rm_heldout_accuracy=np.array([0.8, 0.9]),
                 rm_heldout_label_accuracy=np.array([0.7, 0.7]))
    np.savez(tmp_path / "algos" / "algo_rloo.npz", responses=np.array(64), final_gold=np.array([2.0, 4.0]),
             gold=np.ones((2, 3)), kl=np.ones((2, 3)), proxy=np.zeros((2, 3)), seconds=np.array([1.0, 2.0]))
    assert run.main(["--replot", "--out", str(tmp_path)]) == 0
    assert "[`algos/results.md`](algos/results.md)" in (tmp_path / "results.md").read_text()
    assert "| rloo | 64 |" in (tmp_path / "algos" / "results.md").read_text()


def test_rlhf_results_leave_out_arrays_of_another_run_and_name_the_sweeps_batch(tmp_path):
    """A second run with other seeds (``--only sweep``) rewrote supervised.npz and beta_sweep.npz, and results.md and
    the Q1 figure put the first run's best-of-n beside them; the sweep's batch read "x 64 responses" whatever it was."""
    from experiments.rlhf import run

    seeds = 2
    new, old = run.base_key("small", [7, 8]), run.base_key("small", [1000])
    np.savez(tmp_path / "supervised.npz", rm_heldout_accuracy=np.full(seeds, 0.8), rm_heldout_label_accuracy=np.full(seeds, 0.7),
             base=new)
    sweep = dict(betas=np.array([0.0, 0.05]), gold=np.ones((2, seeds, 4)), proxy=np.ones((2, seeds, 4)), kl=np.ones((2, seeds, 4)),
                 rm_accuracy=np.full((2, seeds, 4), 0.5), final_gold=np.ones((2, seeds)), final_proxy=np.ones((2, seeds)),
                 seconds=np.array([1.0, 2.0]), batch_size=np.array(16), base=new)
    np.savez(tmp_path / "beta_sweep.npz", **sweep)
    bon = dict(ns=np.array([1, 2]), kl=np.array([0.0, 0.3]), proxy=np.ones((2, 1)), gold=np.ones((2, 1)))
    np.savez(tmp_path / "best_of_n.npz", **bon, base=old)
    run.report(tmp_path)
    text = (tmp_path / "results.md").read_text()
    assert "## Q1: KL penalty sweep" in text and "| best-of-n |" not in text  # the sweep's table, not the other run's
    assert "best_of_n.npz is missing or of another run, so it is not drawn." in text
    assert "Left out: best_of_n.npz, of an earlier run in this folder" in text
    np.savez(tmp_path / "best_of_n.npz", **bon, base=new)
    run.report(tmp_path)
    text = (tmp_path / "results.md").read_text()
    assert "## Q1: KL penalty sweep (PPO-clip, 4 updates x 16 responses)" in text and "RM acc. on last 4 updates |" in text
    assert "Left out" not in text


def test_stability_calls_a_setting_reliable_only_with_at_most_one_collapse_in_eight():
    """"Reliable: at most one in 8 collapsed" was coded as ``fell <= max(1, n // 8)``: with 2 seeds a setting
    where 1 of 2 collapsed after solving was reliable (a --quick finding said so beside "half or more")."""
    from experiments.stability.compute import Sweep, settings

    stays, falls = [100.0, 500.0, 500.0], [100.0, 500.0, 100.0]

    def sweep(runs):  # one swept value, one run per seed
        returns = np.array([runs])
        return Sweep("learning_rate", [1e-3], np.arange(3), 1, returns, np.full(returns.shape, 0.01), 0.0, None)

    reliable = lambda runs: settings({"ppo": sweep(runs)})["ppo"][0]["reliable"]  # noqa: E731
    assert reliable([stays, stays]) and not reliable([stays, falls])  # 1 of 2
    assert reliable([stays] * 7 + [falls]) and not reliable([stays] * 6 + [falls] * 2)  # 1 of 8; 2 of 8
    assert reliable([stays] * 14 + [falls] * 2)  # 2 of 16


def test_stability_counts_a_diverged_run_as_collapsed_and_in_the_largest_kl_bin():
    """A seed that solved CartPole and then diverged (its returns and KL NaN) counted as not collapsed, and its run
    was in no KL bin (47 of 48 solved runs placed); "mean KL per update up to" skipped its NaN (a smaller value)."""
    from experiments.stability.compute import KL_BINS, Sweep, collapsed, kl_bins, settings
    from experiments.stability.report import largest_kl

    stays, diverges = [100.0, 500.0, 500.0], [100.0, 500.0, np.nan]
    assert collapsed(np.array([stays, diverges])) [1].tolist() == [False, True]
    kl = np.array([[[0.01] * 3, [0.01, 0.01, np.nan]]])
    r = Sweep("learning_rate", [1e-3], np.arange(3), 1, np.array([[stays, diverges]]), kl, 0.0, None)
    bins = kl_bins({"vpg": r})["vpg"]
    assert sum(n for _, n in bins) == 2 and bins[-1] == (1, 1) and len(bins) == len(KL_BINS)
    assert largest_kl(settings({"vpg": r})["vpg"]) == "not finite (a run diverged)"
    assert not settings({"vpg": r})["vpg"][0]["reliable"]  # 1 of 2 collapsed


def test_stability_names_trpos_collapsing_settings_unless_they_are_every_value_from_one_up():
    """"with max_kl ≥ 3e-3 half or more collapsed" was said where only 3e-3 and 0.3 did (1e-2 to 0.1 reliable)."""
    from experiments.stability.report import bad_settings

    swept = [dict(value=v) for v in (1e-3, 3e-3, 1e-2, 3e-2, 0.1, 0.3)]
    assert bad_settings(swept, [swept[1], swept[5]]) == "3e-3 and 0.3"
    assert bad_settings(swept, swept[4:]) == "≥ 0.1" and bad_settings(swept, []) == "none"


def test_overestimation_figure_averages_every_update_into_its_chunks():
    """deep.png's per-update lines were cut to a multiple of 50 chunks: CartPole's last 42 of 192 learning
    updates never drawn."""
    from experiments.overestimation.plots import _bin

    values, steps = _bin(np.arange(7.0)[None], np.arange(7.0) * 10, 3)  # chunks 0-2, 3-4, 5-6
    np.testing.assert_array_equal(values, [[1.0, 3.5, 5.5]])
    np.testing.assert_array_equal(steps, [10.0, 35.0, 55.0])
    values, steps = _bin(np.ones((2, 192)), np.arange(192.0), 50)  # 42 chunks of 4 updates, then 8 of 3
    assert values.shape == (2, 50) and (steps[41], steps[42], steps[-1]) == (165.5, 169.0, 190.0)


def test_overall_marks_a_cell_whose_config_was_chosen_on_some_of_its_seeds():
    """Double DQN's CartPole n_step was chosen on seeds 1000-1009: a run on 1000-1004 marks that cell, one on 2000 up not."""
    from experiments.overall.report import tuned_on_these

    records = {("double-dqn", "CartPole-v1"): None, ("dqn", "CartPole-v1"): None}
    assert tuned_on_these(records, 1000, 5) == {("double-dqn", "CartPole-v1")} == tuned_on_these(records, 995, 6)
    assert tuned_on_these(records, 2000, 5) == set() == tuned_on_these(records, 990, 10)
    assert tuned_on_these({("dqn", "CartPole-v1"): None}, 1000, 5) == set()
    # the README's seed note names the exception only where the seeds overlap (it did wherever the cell ran)
    from experiments.overall.report import seed_status

    assert "but for Double DQN" in seed_status(1000, tuned_on_these(records, 1000, 5))
    assert seed_status(2000, tuned_on_these(records, 2000, 5)) == "held out, none of them played a part in choosing the configs"
    assert seed_status(0, set()).startswith("not held out")
    # DQN's and Double DQN's 64x64 Acrobot network was chosen on experiments/overestimation's seeds 1000-1007: said too
    from experiments.overall.report import marked_note

    acrobot = {("dqn", "Acrobot-v1"): None, ("double-dqn", "Acrobot-v1"): None, **records}
    marked = tuned_on_these(acrobot, 1000, 5)
    assert marked == {("dqn", "Acrobot-v1"), ("double-dqn", "Acrobot-v1"), ("double-dqn", "CartPole-v1")}
    assert tuned_on_these(acrobot, 1008, 2) == {("double-dqn", "CartPole-v1")}
    assert marked_note(marked).startswith(" † Double DQN's CartPole `n_step: 3`, chosen by comparing it with one-step targets "
                                          "on seeds 1000-1009 (`benchmarks/results/dqn.md`) and the 64x64 network of DQN and "
                                          "Double DQN on Acrobot, chosen to fit the time budget")
    assert "the 64x64 network" in seed_status(1000, marked) and marked_note(set()) == ""


def test_overall_names_its_intervals_by_the_seeds_they_are_over():
    """A --quick run's 2 seeds headed its tables "[95% bootstrap CI]": a bootstrap over 2 values is their range."""
    from experiments.overall.report import interval_labels

    from experiments.overall.plots import ci_words

    assert interval_labels(5) == dict(cell_ci="95% bootstrap CI", aggregate_ci="95% stratified-bootstrap CI",
                                      figure_cis="95% stratified-bootstrap CIs", figure_bands="95% stratified-bootstrap bands",
                                      curve_band="a 95% bootstrap band")  # the committed README's words
    few = interval_labels(2)
    assert few["cell_ci"] == "range of the seeds" and few["curve_band"] == "the range of the seeds"
    assert few["aggregate_ci"] == "a stratified bootstrap over 2 seeds per env, too few for a 95% interval"
    assert "95%" not in few["cell_ci"] + few["curve_band"] and "too few for 95% intervals" in few["figure_cis"] + few["figure_bands"]
    assert ci_words(5) == "95% stratified-bootstrap CI" and ci_words(2).endswith("(too few for 95%)")


def test_overall_finding_says_what_this_runs_numbers_say():
    """finding.md was a fixed text: "TRPO's is one Acrobot seed that never learned" and DQN "left no run below
    the threshold" whatever the run gave (a --quick run printed "no run below the threshold (gap 0.59)"); a
    score of 0.9995 was listed "at 1.00" under "below the threshold"."""
    from experiments.overall import report

    IQM, GAP, AUC = report.IQM, report.GAP, report.AUC
    agg = lambda auc, gap: {AUC: (auc, auc - 0.01, auc + 0.01), GAP: (gap, 0, 1), IQM: (1.0, 0, 1)}  # noqa: E731
    A = {"vpg": agg(0.66, 0.1), "trpo": agg(0.96, 0.07), "ppo": agg(0.92, 0.05), "ppo-kl": agg(0.89, 0.02)}
    D = {"vpg": agg(0.8, 0.0), "trpo": agg(0.92, 0.1), "ppo": agg(0.92, 0.01), "dqn": agg(0.87, 0.0)}
    ok, one_low = [1.0] * 5, [1.0] * 4 + [0.19]
    norm = {"vpg": {"C": ok, "A": ok, "P": [0.5] * 5}, "trpo": {"C": ok, "A": one_low, "P": ok},
            "ppo": {"C": ok, "A": one_low, "P": one_low}, "ppo-kl": {"C": ok, "A": ok, "P": ok}, "dqn": {"C": ok, "A": ok}}
    text = report.finding({"all": A, "discrete": D}, norm, "CartPole, Acrobot and Pendulum", "seeds 1000–1004")
    assert text == ("On CartPole, Acrobot and Pendulum (seeds 1000–1004), no algorithm was best on both counts: TRPO and PPO-clip "
                    "learned fastest over the 3 envs (area-under-curve IQM 0.96, 0.92) but left runs below the threshold "
                    "(optimality gap 0.07, 0.05; 1 of 15 and 2 of 15 runs below). DQN runs on the discrete envs only; there it "
                    "left no run below the threshold (gap 0.00; VPG 0.00, TRPO 0.10, PPO-clip 0.01) with an area-under-curve "
                    "IQM of 0.87 against TRPO's 0.92 and PPO-clip's 0.92 on the same envs. Over all 3 envs PPO-KL (0.89) "
                    "trails and VPG is slowest (0.66).")
    norm["dqn"] = {"C": one_low, "A": one_low}
    D["dqn"] = agg(0.5, 0.59)
    assert "there it left 2 run(s) below the threshold (gap 0.59;" in report.finding({"all": A, "discrete": D}, norm, "x", "y")
    A["trpo"] = agg(0.96, 0.02)  # the fastest also has the smallest gap
    assert report.finding({"all": A, "discrete": D}, norm, "x", "y").startswith("On x (y), TRPO was best on both counts:")
    assert [report.below_one(v) for v in (0.9995, 0.996, 0.85)] == ["0.999", "0.996", "0.85"]
    # PPO-KL "trails" PPO-clip by point estimates whose intervals nest: said (finding.md ranked them plainly)
    A["ppo-kl"] = {**A["ppo-kl"], AUC: (0.89, 0.86, 0.91)}
    A["ppo"] = {**A["ppo"], AUC: (0.92, 0.84, 0.95)}
    assert report.finding({"all": A, "discrete": D}, norm, "x", "y").endswith(
        "That order is the point estimates': the area-under-curve intervals of PPO-KL and PPO-clip overlap.")
    # cells whose config was chosen on some of these seeds: the README marked them †, the finding said nothing
    marked = {("double-dqn", "CartPole-v1"), ("dqn", "Acrobot-v1")}
    text = report.finding({"all": A, "discrete": D}, norm, "x", "y", marked)
    assert text.endswith(" Not wholly held out (the README's † cells): Double DQN's CartPole `n_step: 3`, chosen by comparing "
                         "it with one-step targets on seeds 1000-1009 (`benchmarks/results/dqn.md`) and the 64x64 network of "
                         "DQN and Double DQN on Acrobot, chosen to fit the time budget on the evidence that it learns Acrobot "
                         "(experiments/overestimation, seeds 1000-1007).")
    assert "held out" not in report.finding({"all": A, "discrete": D}, norm, "x", "y")


def test_a_smoke_runs_readme_names_the_quick_command_it_ran(tmp_path):
    """A --quick README's first line gave the full command beside the quick run's minutes."""
    template = tmp_path / "t.md"
    template.write_text("    python -m experiments.x.run{quick_flag}    # {minutes} min\n")
    reporting.fill_template(template, tmp_path / "quick.md", dict(minutes="1.1", quick_note="smoke"))
    reporting.fill_template(template, tmp_path / "full.md", dict(minutes="20", quick_note=""))
    assert (tmp_path / "quick.md").read_text() == "    python -m experiments.x.run --quick    # 1.1 min\n"
    assert (tmp_path / "full.md").read_text() == "    python -m experiments.x.run    # 20 min\n"


def test_clip_vs_kl_verdicts_name_what_a_few_seeds_interval_is():
    """A one-seed smoke run said the variants' returns "separate ... (95% intervals apart)": points, no intervals."""
    from experiments.clip_vs_kl.report import separation_words

    rows = [dict(env="CartPole-v1", loss=loss, final_return_mean=m, final_return_lo=m - 1, final_return_hi=m + 1)
            for loss, m in (("clip", 100.0), ("kl", 200.0))]
    assert separation_words(rows, "final_return", "final returns", 8) == "separates the variants' final returns on CartPole (95% intervals apart)"
    assert separation_words(rows, "final_return", "final returns", 3) == (  # a permutation test's smallest p: 1/10
        "cannot say whether it separates the variants' final returns: the ranges of the seeds are apart on CartPole, but 3 "
        "seeds are too few to call that a separation")
    assert separation_words(rows, "final_return", "final returns", 1) == ("cannot say whether it separates the variants' final "
                                                                          "returns: one seed gives no interval")


def test_a_few_seeds_interval_is_named_for_what_it_is():
    """A 1-seed trpo_cost smoke run's README had "final return (seed 1000, 95% CI)" and cells "316.8 [317, 317]"; 2
    seeds' "95% CI" was their range."""
    assert reporting.interval_words(8)["ci"] == "95% CI" and reporting.interval_words(4)["legend"] == "95% band"
    assert reporting.interval_words(2)["ci"] == reporting.interval_words(3)["ci"] == "range of the seeds"
    assert reporting.interval_words(1)["ci"] == "one seed: no interval"
    assert reporting.value_interval(316.8, 316.8, 316.8, 1, ".0f", ".1f") == "316.8"
    assert reporting.value_interval(-276.4, -404.2, -171.0, 8) == "\u2212276 [\u2212404, \u2212171]"


def test_trpo_cost_counts_backward_passes_per_network_and_words_follow_the_numbers():
    """PPO's joint-loss gradient runs back through both networks (it was counted once) and a
    Fisher-vector product counts as two backward passes (it was counted as one); the verdict
    sentences were fixed text, printed whatever the ratios."""
    from experiments.trpo_cost import compute, report

    ppo = dict(env_steps_per_update=256, policy_gradients=20, policy_gradient_samples=256, fisher_vector_products=0,
               fvp_samples=0, value_gradients=0, value_gradient_samples=0, policy_gradient_networks=2)
    trpo = dict(env_steps_per_update=1024, policy_gradients=1, policy_gradient_samples=1024, fisher_vector_products=10,
                fvp_samples=1024, value_gradients=20, value_gradient_samples=1024, policy_gradient_networks=1)
    assert compute.backward_parts(ppo) == {"policy gradients": 20.0, "Fisher-vector products": 0.0, "value gradients": 20.0}
    assert compute.backward_parts(trpo) == {"policy gradients": 1.0, "Fisher-vector products": 20.0, "value gradients": 20.0}
    envs_ = ["CartPole-v1", "Pendulum-v1"]
    cheap = report.verdicts([0.9, 1.1], [41.0, 26.0], [40.0, 20.0], envs_)
    assert cheap["verdict_sentence"] == "TRPO is not expensive next to PPO here."
    assert cheap["backprop_compared"] == ("about as many samples as PPO on CartPole (41 vs 40) and more samples than PPO "
                                          "on Pendulum (26 vs 20)")
    assert report.verdicts([1.3, 2.0], [41.0, 26.0], [40.0, 20.0], envs_)["verdict_sentence"] == "TRPO is more expensive than PPO here."
    assert report.verdicts([0.4, 0.5], [10.0, 10.0], [40.0, 20.0], envs_)["verdict_sentence"] == "TRPO is cheaper than PPO here."
    mixed = report.verdicts([1.0, 1.6], [30.0, 20.0], [40.0, 20.0], envs_)
    assert "depends on the env" in mixed["verdict_sentence"]
    assert mixed["backprop_compared"].startswith("fewer samples than PPO on CartPole (30 vs 40) and about as many")


def test_overestimation_report_compares_errors_not_estimates():
    """Each arm's error is its estimate minus its own greedy policy's true value; the two true values differ,
    so the bullet names both and calls the difference one of errors (DQN estimate -36 against -38, Double DQN
    -34.5 against -32: Double DQN's signed error is lower though its estimate is higher; as large in size, so
    not called "a lower error")."""
    from experiments.overestimation import report

    def arm(true, over_raw):
        per_seed = list(over_raw)
        m = float(np.mean(per_seed))
        return dict(true_value_last_quarter=true, overestimate_last_quarter=(m, m - 1.0, m + 1.0),
                    overestimate_last_quarter_raw=np.array(per_seed)[:, None], overestimate_last_quarter_per_seed=per_seed,
                    seeds_overestimating=sum(x > 0 for x in per_seed))

    a, b = arm(-38.0, [2.0, 2.5, 1.5, 2.0]), arm(-32.0, [-2.0, -2.5, -1.5, -2.0])
    text = report.env_bullet("Acrobot-v1", a, b, 4)
    assert "−38 for DQN's greedy policy, −32 for Double DQN's" in text
    assert "Double DQN's estimate sits significantly lower against its own truth (a signed difference, not a smaller error)" in text
    assert "estimate is" not in text and "error is significantly lower" not in text
    deep = {"DQN on Acrobot-v1": dict(a, final_greedy_return_ci=(-80, -90, -70)),
            "Double DQN on Acrobot-v1": dict(b, final_greedy_return_ci=(-80, -90, -70))}
    assert "−38 / −32" in report.deep_table(deep, ["Acrobot-v1"], 4)
    assert "DQN overestimates by +2.0 [+1.0, +3.0]" in text and "**+2.0 [+1.0, +3.0]**" in report.deep_table(deep, ["Acrobot-v1"], 4)


def test_overestimation_gives_no_verdict_on_three_seeds_or_fewer():
    """A quick run's finding said "DQN overestimates by +68.0 [+68.0, +68.0]" of 2 seeds, whose "interval" is their
    range (rl_zoo.stats.interval_name) and whose smallest sign-flip p is 0.5."""
    from experiments.overestimation import report

    for seeds in (2, 3):
        assert report.error_words((68.0, 60.0, 76.0), seeds) == f"errs by +68.0 [+60.0, +76.0] (the range of {seeds} seeds: too few for a verdict)"
    assert report.error_words((68.0, 60.0, 76.0), 4) == "overestimates by +68.0 [+60.0, +76.0]"
    arm = dict(overestimate_last_quarter=(68.0, 60.0, 76.0), true_value_last_quarter=-80.0, final_greedy_return_ci=(1, 0, 2))
    table = report.deep_table({"DQN on X-v0": arm, "Double DQN on X-v0": arm}, ["X-v0"], 2)
    assert "**" not in table and "+68.0 [+60.0, +76.0]" in table


@pytest.mark.parametrize("argv, said", [
    (["--seeds", "0"], "--seeds: 0 is not >= 1"),
    (["--sweep-updates", "0"], "--sweep-updates: 0 is not >= 1"),
    (["--seed", "2147483647", "--seeds", "2"], "--seed = 2147483647 is invalid"),
    (["--only", "algos", "--algo-seed", "2147483647"], "--algo-seed = 2147483647 is invalid"),
    (["--only", "algos", "--algo-beta", "-1"], "'beta' = -1.0 is invalid"),
])
def test_the_rlhf_experiment_refuses_bad_input_before_training(argv, said, tmp_path, capsys):
    """These were refused after stages 1-3 had trained for minutes (--sweep-updates 0), or were JAX
    tracebacks (--seeds 0, a seed past int32); now one line, and no folder made."""
    from experiments.rlhf import run

    with pytest.raises(SystemExit) as stop:
        run.main(["--small", "--out", str(tmp_path / "out"), *argv])
    assert stop.value.code == 2 and said in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_a_reduced_stability_run_replaces_the_hand_written_reading(tmp_path, monkeypatch):
    """A --quick or reduced run's README drops the full run's reading (it crashed there, calling a helper
    that moved when experiments/common.py was split)."""
    import string

    from experiments.stability import report

    slots = {name for _, name, _, _ in string.Formatter().parse(report.TEMPLATE.read_text()) if name}
    monkeypatch.setattr(report, "fields", lambda *a: {**dict.fromkeys(slots, "x"), "seeds": 2, "total": "1,024"})
    monkeypatch.setattr(report, "FINDING", "finding {seeds}")
    finding = report.write(tmp_path, {}, {}, 2, quick=True)
    text = (tmp_path / "README.md").read_text()
    assert "**this is a reduced run** (2 seeds, 1,024 env steps" in text and "Reading the tables (reliable" not in text
    assert finding == "Smoke run (`--quick`), not a result: finding 2"  # as the other experiments' (it said "Reduced run")
    assert (tmp_path / "finding.md").exists()
    assert report.write(tmp_path, {}, {}, 2, quick=False) == "Reduced run (2 seeds, 1,024 env steps): finding 2"


def test_overestimation_does_not_test_a_difference_with_a_non_finite_seed():
    """A diverged seed's NaN error gave permutation p = 0: "Double DQN's estimate sits significantly lower"."""
    from experiments.overestimation.report import difference, difference_words

    a = {"overestimate_last_quarter_raw": [1.0, 2.0, float("nan")]}
    b = {"overestimate_last_quarter_raw": [0.0, 0.5, 0.2]}
    assert difference_words(*difference(a, b), 3).endswith("not tested, as a seed's error is not finite")
    a["overestimate_last_quarter_raw"][2] = 3.0
    assert "permutation test: p = 0.1" in difference_words(*difference(a, b), 3)


def test_stability_compares_vpgs_return_window_with_ppo_clips_from_the_data():
    """The README said VPG's range of mean final return >= 475 was "as wide or wider" than PPO-clip's whatever the
    windows were: 3e-4-3e-3 (1 decade) against 3e-4-1e-2 (1.5) in the committed run."""
    from experiments.stability.report import vpg_range_words

    lrs = lambda *v: [dict(value=x) for x in v]  # noqa: E731
    clip = lrs(3e-4, 1e-3, 3e-3, 1e-2)
    assert vpg_range_words(lrs(3e-4, 1e-3, 3e-3), clip).startswith("narrower (1.0 decades: lr 3e-4–3e-3, against PPO-clip's 1.5)")
    assert vpg_range_words(lrs(1e-4, 3e-4, 1e-3, 3e-3, 1e-2), clip).startswith("as wide or wider (2.0 decades")


def test_an_experiment_stopped_by_ctrl_c_says_so_in_one_line(capsys, python_sigint):
    """`python -m experiments.rlhf.run` stopped by Ctrl-C after supervised.npz: a JAX traceback, exit -2."""
    import signal

    from rl_zoo import interrupt

    def stopped():
        interrupt._handler(signal.SIGINT, None)

    with pytest.raises(SystemExit) as e:
        common.command(stopped)
    assert e.value.code == 130
    assert capsys.readouterr().err == "interrupted: the files written so far stay; the same command starts it again\n"
    with pytest.raises(SystemExit) as e:
        common.command(lambda: 0)
    assert e.value.code == 0


def test_overall_leaves_a_benchmark_folder_of_ones_own_alone(tmp_path, monkeypatch, capsys):
    """``overall --out X`` emptied X/benchmark whatever it held (a folder of one's own named so lost its files without a
    word), and a file of that name was a traceback after X was made."""
    from experiments.overall import run

    mine = tmp_path / "x" / "benchmark" / "sub"
    mine.mkdir(parents=True)
    (mine / "important.txt").write_text("keep\n")
    (tmp_path / "y").mkdir()
    (tmp_path / "y" / "benchmark").write_text("a file\n")
    for out, said in (("x", "holds other files (sub) and is not a benchmark folder"), ("y", "benchmark is a file")):
        monkeypatch.setattr(sys, "argv", ["run.py", "--quick", "--out", str(tmp_path / out)])
        with pytest.raises(SystemExit) as e:
            run.main()
        assert e.value.code == 2 and said in capsys.readouterr().err
    assert (mine / "important.txt").read_text() == "keep\n" and (tmp_path / "y" / "benchmark").read_text() == "a file\n"


def test_overestimation_refuses_one_deep_seed(tmp_path, monkeypatch, capsys):
    """``--seeds 1``: its README said "no interval (one seed)", then read the zero-width intervals as verdicts
    ("overestimates by +1.7 [+1.7, +1.7]", "do not overlap", cells bolded where the interval excludes 0)."""
    from experiments.overestimation import run

    monkeypatch.setattr(sys, "argv", ["run.py", "--quick", "--seeds", "1", "--out", str(tmp_path / "o")])
    with pytest.raises(SystemExit) as e:
        run.main()
    assert e.value.code == 2 and "--seeds 1: the deep runs' report compares intervals over seeds" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_a_nan_interval_is_no_separation_and_nan_values_print():
    """A seed's NaN final return makes its interval (nan, nan, nan): clip_vs_kl said the variants' returns
    "separate ... (95% intervals apart)" there, overestimation "do not overlap"; stability's report stopped with a
    traceback on a NaN KL (sig2, short_sci), pow2 on a NaN or zero beta."""
    from experiments.clip_vs_kl.report import separation_words, table
    from experiments.overestimation.report import final_returns_words

    nan = float("nan")

    def row(env, loss, m, lo, hi):
        return dict(env=env, loss=loss, final_return_mean=m, final_return_lo=lo, final_return_hi=hi)

    cart = [row("CartPole-v1", "clip", nan, nan, nan), row("CartPole-v1", "kl", 500.0, 480.0, 500.0)]
    assert separation_words(cart, "final_return", "final returns", 8) == (
        "cannot say whether it separates the variants' final returns: no interval on CartPole (a seed's value is not a number)")
    apart = [row("Pendulum-v1", "clip", -200.0, -250.0, -150.0), row("Pendulum-v1", "kl", -900.0, -1000.0, -800.0)]
    assert separation_words(cart + apart, "final_return", "final returns", 8) == (
        "cannot say on CartPole (a seed's value is not a number); elsewhere separates the variants' final returns on "
        "Pendulum (95% intervals apart)")
    close = [row("Pendulum-v1", "clip", -200.0, -250.0, -150.0), row("Pendulum-v1", "kl", -220.0, -260.0, -180.0)]
    assert separation_words(cart + close, "final_return", "final returns", 8).startswith(
        "does not separate the variants' final returns where it can say: no interval on CartPole")
    assert reporting.intervals_overlap((nan, nan, nan), (1.0, 0.0, 2.0)) and not reporting.interval_known((1.0, nan, 2.0))
    deep = {"DQN on CartPole-v1": {"final_greedy_return_ci": (nan, nan, nan)},
            "Double DQN on CartPole-v1": {"final_greedy_return_ci": (100.0, 90.0, 110.0)}}
    assert final_returns_words(deep, ["CartPole-v1"]).endswith("(no interval: a seed's return is not a number)")
    assert [reporting.sig2(nan), reporting.short_sci(nan), reporting.pow2(nan), reporting.pow2(0.0)] == ["nan", "nan", "n/a", "n/a"]
    assert [reporting.sig2(0.0014), reporting.short_sci(3e-3), reporting.pow2(0.125)] == ["1.4e-3", "3e-3", "1/8"]
    # one seed: the header says "no interval", and the cells give the value alone (they gave "403 (403, 403)")
    one = [dict(row("CartPole-v1", loss, 403.0, 403.0, 403.0), auc_return_mean=300.0, auc_return_lo=300.0, auc_return_hi=300.0,
                kl_median=0.01, kl_p90=0.02, kl_max=0.03, frac_updates_kl_above_1_5_target=0.1,
                frac_updates_kl_below_target_over_1_5=0.2) for loss in ("clip", "kl")]
    assert table(one, seeds=1).splitlines()[0].startswith("| CartPole-v1 | PPO-clip | 403 | 300 | ")
    assert "| 403 (403, 403) | 300 (300, 300) |" in table(one, seeds=8)


def test_a_readme_written_elsewhere_gives_its_folder_to_report_again(tmp_path):
    """A quick README's `--report` line rewrote the committed README (the experiment's own folder by default)."""
    template = tmp_path / "x" / "t.md"
    template.parent.mkdir()
    template.write_text("    python -m experiments.x.run --report{report_flags}   # again\n")
    reporting.fill_template(template, template.parent / "README.md", {})
    assert (template.parent / "README.md").read_text() == "    python -m experiments.x.run --report   # again\n"
    quick = tmp_path / "quick run"
    quick.mkdir()
    reporting.fill_template(template, quick / "README.md", {})
    assert (quick / "README.md").read_text() == f"    python -m experiments.x.run --report --out '{quick}'   # again\n"
    for name in ("clip_vs_kl", "trpo_cost", "overestimation", "overall"):  # every template with such a line fills the slot
        assert "{report_flags}" in (EXPERIMENTS / name / "readme_template.md").read_text()


def test_stabilitys_word_on_its_recorded_run_comes_from_that_runs_record():
    """The template said "The run below (2026-12-06) was such a re-run ... (VPG at lr 1e-2: final 495 ...)" in every
    README, a one-seed smoke run's too: it is the recorded run's history_note now, which a new run's record lacks."""
    import json

    template = (EXPERIMENTS / "stability" / "readme_template.md").read_text()
    assert "{history_note}" in template and "2026-12-06" not in template
    recorded = json.loads((EXPERIMENTS / "stability" / "run_info.json").read_text())
    assert recorded["history_note"] in (EXPERIMENTS / "stability" / "README.md").read_text()


def test_a_resumed_stability_run_counts_the_sweeps_an_earlier_process_trained():
    """Stopped and started again, the README said "Run time: 28 s" with parts "VPG 10 s, PPO-clip 8 s, PPO-KL 8 s,
    TRPO 12 s" (38 s): the read-back sweeps' seconds were the earlier process's."""
    from experiments.stability.compute import Sweep, earlier_seconds

    def sweep(seconds, here_s):
        return Sweep("learning_rate", [1e-3], np.arange(3), 1, np.zeros((1, 1, 3)), np.zeros((1, 1, 3)), seconds, None,
                     here_s=here_s)

    assert earlier_seconds({"VPG": sweep(10.0, 0.5), "TRPO": sweep(12.0, 13.0)}) == 9.5  # read back; trained here


def test_stabilitys_finding_says_rate_for_one_value_and_rates_for_a_span():
    from experiments.stability.report import _rates

    assert _rates("3e-2") == "learning rate 3e-2" and _rates("3e-3–3e-2") == "learning rates 3e-3–3e-2"


def test_clip_vs_kl_says_where_the_penalty_holds_the_kl_closer_and_beta_falls_from_the_rows():
    """"holds it closer on Pendulum" and "Beta falls at the end of training on CartPole and Pendulum" were fixed words:
    a --quick run printed them beside numbers that said otherwise."""
    from experiments.clip_vs_kl.report import beta_end_words, hold_words

    f = {f"{e}_{k}": f"{e}-{k}" for e in ("CartPole", "Pendulum") for k in ("shape", "kl_p90_ratio", "kl_max_ratio", "kl_in_band")}
    rows = [dict(env="CartPole-v1", loss="kl", frac_updates_kl_in_band=0.5, beta_trailing_halvings_median=0.0),
            dict(env="Pendulum-v1", loss="kl", frac_updates_kl_in_band=0.2, beta_trailing_halvings_median=3.0),
            dict(env="Pendulum-v1", loss="clip", frac_updates_kl_in_band=0.9, beta_trailing_halvings_median=9.0)]
    assert hold_words(f, rows).startswith("holds it closer on CartPole (CartPole-shape: 90th percentile CartPole-kl_p90_ratio×")
    assert " than on Pendulum (Pendulum-shape: " in hold_words(f, rows)
    assert beta_end_words(rows, True) == "Beta falls at the end of training on Pendulum as the learning rate anneals."
    rows[1]["beta_trailing_halvings_median"] = 0.0
    assert beta_end_words(rows, True) == "Beta does not fall at the end of training on either env."


def test_clip_vs_kl_counts_a_beta_held_at_the_rules_lower_bound_as_falling():
    """The adaptive rule clips beta to [2^-20, 2^20]: a beta halved down to 2^-20 sits there, and the finding said
    beta "falls at the end of training" on Pendulum only, where CartPole's median seed ended at the bound; the
    README quoted 9.5e-07 as if the run had reached it on its own."""
    import numpy as np

    from experiments.clip_vs_kl import compute, report
    from rl_zoo.algos.ppo import KL_BETA_MIN

    assert report.KL_BETA_MIN == KL_BETA_MIN
    floor = np.float32(KL_BETA_MIN)
    assert compute.trailing_halvings(np.array([1.0, 0.5, 0.25], np.float32)) == 2
    assert compute.trailing_halvings(np.array([4 * floor, 2 * floor, floor, floor, floor], np.float32)) == 4
    assert compute.trailing_halvings(np.array([0.5, 0.25, 0.25], np.float32)) == 0  # kept above the bound: no fall
    assert compute.trailing_halvings(np.array([floor, 2 * floor], np.float32)) == 0
    rows = [dict(env="CartPole-v1", loss="kl", beta_trailing_halvings_median=3.0),
            dict(env="Pendulum-v1", loss="kl", beta_trailing_halvings_median=0.0)]
    assert report.beta_end_words(rows, anneals=True) == "Beta falls at the end of training on CartPole as the learning rate anneals."
    assert report.beta_words(float(floor)) == "2^−20 (the rule's lower bound)"
    assert report.beta_words(0.012) == "0.012"


def test_overestimation_per_seed_figures_come_from_the_measured_errors():
    """The median printed Double DQN's Acrobot -2.5535 as -2.5: it was the median of the 2-decimal copy (-2.55),
    rounded again. The measured values decide; a record without them uses its copy."""
    from experiments.overestimation import report

    x = {"overestimate_last_quarter_raw": [-2.5535, -2.5535, -4.0, 1.0],
         "overestimate_last_quarter_per_seed": [-2.55, -2.55, -4.0, 1.0]}
    assert report.per_seed_errors(x) == [-2.5535, -2.5535, -4.0, 1.0]
    assert report.per_seed_errors({"overestimate_last_quarter_per_seed": [1.0]}) == [1.0]
    arm = {**x, "overestimate_last_quarter": (-2.0, -3.0, -1.0), "seeds_overestimating": 1, "true_value_last_quarter": -32.0}
    assert "median −2.6)" in report.env_bullet("Acrobot-v1", arm, arm, 4)


def test_trpo_cost_ratios_that_round_alike_get_a_second_decimal():
    """The re-run gave 0.88 and 0.95: the finding said "0.9× (CartPole) to 0.9× (Pendulum)", the bottom line 0.9–0.9×."""
    from experiments.trpo_cost.report import ratio_text

    alike = {"CartPole-v1": 0.88, "Pendulum-v1": 0.95}
    assert [ratio_text(r, alike) for r in alike.values()] == ["0.88", "0.95"]
    apart = {"CartPole-v1": 0.89, "Pendulum-v1": 1.07}
    assert [ratio_text(r, apart) for r in apart.values()] == ["0.9", "1.1"]


def _truncated_npz(path, **arrays):
    """An .npz file cut short (a copy stopped half-way): np.load reads it as a BadZipFile."""
    import io

    buf = io.BytesIO()
    np.savez(buf, **arrays)
    path.write_bytes(buf.getvalue()[:300])


@pytest.mark.parametrize("module", ["experiments.trpo_cost.run", "experiments.clip_vs_kl.run"])
def test_damaged_raw_arrays_stop_replot_with_one_line_before_anything_is_written(module, tmp_path, monkeypatch, capsys):
    """Review: a damaged raw.npz was a BadZipFile traceback (exit 1), after trpo_cost had rewritten cost.csv."""
    import importlib

    record = dict(summaries=[], command="c", machine="m", wall_s=1.0, summary=[], configs={}, seeds=2, n_points=3)
    (tmp_path / "run_info.json").write_text(json.dumps(record))
    (tmp_path / "curves.csv").write_text("a,b\n1,2\n")
    _truncated_npz(tmp_path / "raw.npz", x=np.arange(1000.0))
    before = sorted(p.name for p in tmp_path.iterdir())
    monkeypatch.setattr(sys, "argv", ["run.py", "--replot", "--out", str(tmp_path)])
    with pytest.raises(SystemExit) as e:
        importlib.import_module(module).main()
    err = capsys.readouterr().err.strip()
    assert e.value.code == 2 and "\n" not in err and err.startswith(f"error: {tmp_path / 'raw.npz'} is damaged (BadZipFile"), err
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # no cost.csv, no figure


def test_raw_arrays_of_another_run_are_named_not_a_key_error(tmp_path, capsys):
    from experiments import common

    np.savez(tmp_path / "raw.npz", a=np.zeros(2))
    with pytest.raises(SystemExit) as e:
        common.load_arrays(tmp_path / "raw.npz", ["a", "b", "c", "d", "e"])
    err = capsys.readouterr().err.strip()
    assert e.value.code == 2 and f"{tmp_path / 'raw.npz'} lacks b, c, d and 1 more: not the arrays of this experiment's last run" in err
    assert set(common.load_arrays(tmp_path / "raw.npz", ["a"])) == {"a"}


def test_a_damaged_record_stops_report_with_one_line(tmp_path, monkeypatch, capsys):
    """Review: overestimation's summary.json with ``"deep": {}`` was a StopIteration traceback deep in the report."""
    from experiments.overestimation import run

    (tmp_path / "summary.json").write_text(json.dumps(dict(deep={}, tabular={}, command="c", machine="m", wall_s=1.0)))
    monkeypatch.setattr(sys, "argv", ["run.py", "--report", "--out", str(tmp_path)])
    with pytest.raises(SystemExit) as e:
        run.main()
    err = capsys.readouterr().err.strip()
    assert e.value.code == 2 and "\n" not in err and err.startswith(f"error: {tmp_path / 'summary.json'} lacks a field the report reads")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["summary.json"]


def test_overall_replot_without_cells_csv_is_refused_before_the_report_is_copied(tmp_path, monkeypatch, capsys):
    from experiments.overall import run

    (tmp_path / "run_info.json").write_text(json.dumps(dict(machine="m", wall_s=1.0)))
    (tmp_path / "benchmark").mkdir()
    (tmp_path / "benchmark" / "report.md").write_text("# Benchmark: x\n")
    monkeypatch.setattr(sys, "argv", ["run.py", "--replot", "--out", str(tmp_path)])
    with pytest.raises(SystemExit) as e:
        run.main()
    err = capsys.readouterr().err.strip()
    assert e.value.code == 2 and err == f"error: {tmp_path / 'benchmark' / 'cells.csv'} not found (the benchmark folder of the last run, kept for --replot)"
    assert not (tmp_path / "benchmark_report.md").exists()
    (tmp_path / "benchmark" / "cells.csv").write_text("algo\n")  # now a damaged cell: the library names its file
    (tmp_path / "benchmark" / "cells" / "ppo__CartPole-v1").mkdir(parents=True)
    (tmp_path / "benchmark" / "cells" / "ppo__CartPole-v1" / "cell.json").write_text('{"status": "bogus"}')
    with pytest.raises(SystemExit) as e:
        run.main()
    err = capsys.readouterr().err.strip()
    assert e.value.code == 2 and "cell.json" in err and "run_info.json" not in err, err
    assert not (tmp_path / "benchmark_report.md").exists()
    (tmp_path / "run_info.json").write_text(json.dumps(dict(machine="m", wall_s="12 min")))  # a field in another form

    def report_of(bench, out, info):  # the report's own reading of it (reporting.fmt_minutes)
        return info["wall_s"] / 60

    monkeypatch.setattr(run, "finish", report_of)
    with pytest.raises(SystemExit) as e:
        run.main()
    err = capsys.readouterr().err.strip()
    assert e.value.code == 2 and "\n" not in err and "run_info.json lacks a field the report reads" in err, err


def test_rlhf_report_keeps_the_sweeps_table_when_best_of_n_is_missing(tmp_path, capsys):
    """Review: with best_of_n.npz missing, --replot exited 0 having replaced both Q1 tables by one line, the old
    figures left beside it unsaid."""
    from experiments.rlhf import run

    np.savez(tmp_path / "supervised.npz", rm_heldout_accuracy=np.array([0.8, 0.9]), rm_heldout_label_accuracy=np.array([0.7, 0.7]))
    shape = (2, 2, 6)  # betas, seeds, updates
    np.savez(tmp_path / "beta_sweep.npz", betas=np.array([0.0, 0.2]), gold=np.ones(shape), proxy=np.ones(shape), kl=np.ones(shape),
             rm_accuracy=np.full(shape, 0.5), final_gold=np.ones((2, 2)), final_proxy=np.ones((2, 2)), seconds=np.array([3.0, 4.0]),
             batch_size=np.array(8))
    (tmp_path / "q1_kl_penalty.png").write_bytes(b"old")
    run.report(tmp_path)
    text = (tmp_path / "results.md").read_text()
    assert "## Q1: KL penalty sweep (PPO-clip, 6 updates x 8 responses)" in text and "| 0.2 | 1.00 [1.00, 1.00] |" in text
    note = ("best_of_n.npz is missing, so q1_kl_penalty.png is not redrawn here (an earlier run's).")
    assert note in text and note in capsys.readouterr().err
    assert (tmp_path / "q3_rm_accuracy.png").stat().st_size > 1000 and (tmp_path / "q1_kl_penalty.png").read_bytes() == b"old"
    (tmp_path / "beta_sweep.npz").unlink()
    np.savez(tmp_path / "best_of_n.npz", ns=np.array([1, 2]), kl=np.array([0.0, 0.19]), proxy=np.ones((2, 2)), gold=np.ones((2, 2)))
    run.report(tmp_path)
    text = (tmp_path / "results.md").read_text()
    assert "## Q1: best-of-n (the beta sweep's file is missing)" in text and "| 2 | 0.19 | 1.00 [1.00, 1.00] | 1.00 [1.00, 1.00] |" in text
    assert "beta_sweep.npz is missing, so q1_kl_penalty.png and q3_rm_accuracy.png are not redrawn here" in text


def test_overall_readme_says_what_trpos_runs_below_the_threshold_add_to_its_gap():
    """Review: the README's "one failed run in 15 adds 0.067; its Pendulum seed at 0.998 adds 0.0001" was fixed text
    in the template, beside tables of other runs."""
    from experiments.overall.report import gap_parts

    assert gap_parts({"CartPole-v1": np.array([1.1, 1.0]), "Acrobot-v1": np.array([0.0, 1.2, 0.9])}) == (
        "over its 5 runs, its worst, at 0.00, adds 0.200; the other run below the threshold adds 0.020")
    assert gap_parts({"Pendulum-v1": np.array([0.9995, 0.5, 0.99, 1.0])}) == (
        "over its 4 runs, its worst, at 0.50, adds 0.125; the 2 others below it add 0.0026")
    assert gap_parts({"Pendulum-v1": np.array([1.0, 2.0])}) == "no run below the threshold"
