"""``rl-zoo plot RUN RUN ...``: several runs' learning curves in one figure (``rl_zoo.compare``). The runs
are written by hand (config.json and metrics.csv, as ``rl-zoo train`` writes them): nothing trains."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rl_zoo import plots, runs
from rl_zoo.cli import main
from rl_zoo.compare import compare_runs, run_rows


def _run(folder: Path, algo: str, env: str, curves: dict[int, list[float]], env_kwargs: dict | None = None,
         finished: bool = True, total: int | None = None) -> Path:
    """A run directory whose seed ``s`` returned ``curves[s]`` at env steps 0, 100, 200, ...; ``finished``, with a
    summary.json; ``total``, its config's total_timesteps."""
    folder.mkdir(parents=True)
    config = dict(algo=algo, env=env, **({"env_kwargs": env_kwargs} if env_kwargs else {}),
                  **({"config": {"total_timesteps": total}} if total else {}))
    if finished:
        (folder / "summary.json").write_text("{}")
    (folder / "config.json").write_text(json.dumps(config))
    rows = [dict(env_steps=100 * i, wall_s=float(i), seed=s, **{"return": r, "train_return": float("nan")})
            for s, curve in curves.items() for i, r in enumerate(curve)]
    runs.write_csv(folder / "metrics.csv", sorted(rows, key=lambda r: (r["env_steps"], r["seed"])))
    return folder


@pytest.fixture
def drawn(monkeypatch):
    figures = []
    monkeypatch.setattr(plots, "_save", lambda fig, path, **k: figures.append(fig) or Path(path))
    return figures


def test_each_run_is_its_seeds_mean_labelled_by_algorithm(tmp_path, drawn):
    a = _run(tmp_path / "a", "ppo", "CartPole-v1", {0: [10.0, 30.0, 60.0], 1: [20.0, 50.0, 80.0]})  # mean 15, 40, 70
    b = _run(tmp_path / "b", "trpo", "CartPole-v1", {3: [5.0, 7.0, 9.0]})
    assert compare_runs([a, b], tmp_path / "c.png") == tmp_path / "c.png"
    (panel,) = drawn[0].axes  # one env: one panel, its own legend
    lines = {line.get_label(): list(line.get_ydata()) for line in panel.get_lines()}
    assert lines == {"ppo (2 seeds)": [15.0, 40.0, 70.0], "trpo (1 seed)": [5.0, 7.0, 9.0]}
    assert panel.get_title() == "CartPole-v1"


def test_runs_of_one_algorithm_are_told_apart_by_folder_and_options_by_panel(tmp_path):
    a = _run(tmp_path / "lr3e-4", "ppo", "CartPole-v1", {0: [1.0, 2.0]})
    b = _run(tmp_path / "lr1e-3", "ppo", "CartPole-v1", {0: [1.0, 3.0]})
    c = _run(tmp_path / "short", "ppo", "CartPole-v1", {0: [1.0, 4.0]}, env_kwargs={"max_episode_steps": 200})
    rows = run_rows([a, b, c])
    assert sorted({(r.algo, r.env) for r in rows}) == [("ppo", "CartPole-v1 (max_episode_steps=200)"),
                                                       ("ppo: lr1e-3", "CartPole-v1"), ("ppo: lr3e-4", "CartPole-v1")]


def test_a_dollar_in_a_folders_name_is_drawn_as_itself(tmp_path):
    """matplotlib reads "$...$" as math: a run folder "ppo_$\\frac$" stopped the plot with a ParseSyntaxException
    (exit 2), and "r$a^b$" was drawn as "ra" with a superscript b."""
    a = _run(tmp_path / "ppo_$\\frac$", "ppo", "CartPole-v1", {0: [1.0, 2.0]})
    b = _run(tmp_path / "r$a^b$", "ppo", "CartPole-v1", {0: [1.0, 3.0]})
    assert main(["plot", str(a), str(b), "-o", str(tmp_path / "c.png")]) == 0
    assert sorted({r.algo for r in run_rows([a, b])}) == ["ppo: ppo_\\$\\frac\\$", "ppo: r\\$a^b\\$"]
    (b / "config.json").unlink()
    assert main(["plot", str(b), "-o", str(tmp_path / "one.png")]) == 0  # its title: the folder's name (no config.json)


def test_a_long_legend_covers_no_panel(tmp_path, drawn):
    """25 runs: their legend, drawn at "best" in the one panel, covered the curves and the title; below two panels,
    in a margin sized for 4 rows of it, it covered the tick labels and the axis labels."""
    many = [_run(tmp_path / f"run_{i:02d}_of_a_long_folder_name", "ppo", "CartPole-v1", {0: [1.0, 2.0 + i]}) for i in range(25)]
    other = _run(tmp_path / "frozen", "q-learning", "FrozenLake-v1", {0: [0.0, 0.5]})
    for runs_given in (many, [*many, other]):
        compare_runs(runs_given, tmp_path / "c.png")
        fig = drawn.pop()
        fig.canvas.draw()
        renderer = fig.canvas.get_renderer()
        legend = (fig.legends or [ax.get_legend() for ax in fig.axes if ax.get_legend()])[0]
        box = legend.get_window_extent(renderer)
        assert len(legend.get_texts()) == len(runs_given)
        parts = [fig._suptitle.get_window_extent(renderer)]  # the panels, their tick and axis labels, titles
        for ax in (ax for ax in fig.axes if ax.get_visible()):
            parts += [ax.get_window_extent(renderer), ax.xaxis.get_tightbbox(renderer), ax.yaxis.get_tightbbox(renderer),
                      ax.title.get_window_extent(renderer)]
        assert not any(box.overlaps(part) for part in parts if part is not None)


def test_a_run_given_as_dot_is_labelled_by_its_folder(tmp_path, monkeypatch):
    """``cd RUN && rl-zoo plot . ../OTHER``: the legend said "ppo:  (2 seeds)" (Path('.').name is empty)."""
    a = _run(tmp_path / "lr3e-4", "ppo", "CartPole-v1", {0: [1.0, 2.0]})
    _run(tmp_path / "lr1e-3", "ppo", "CartPole-v1", {0: [1.0, 3.0]})
    monkeypatch.chdir(a)
    assert sorted({r.algo for r in run_rows([Path("."), Path("../lr1e-3")])}) == ["ppo: lr1e-3", "ppo: lr3e-4"]
    (a / "checkpoints").mkdir()
    monkeypatch.chdir(a / "checkpoints")  # and as ".."
    assert sorted({r.algo for r in run_rows([Path(".."), Path("../../lr1e-3")])}) == ["ppo: lr1e-3", "ppo: lr3e-4"]


def test_the_command_line_draws_several_runs_and_refuses_what_is_not_one(tmp_path, capsys):
    a = _run(tmp_path / "a", "ppo", "CartPole-v1", {0: [1.0, 2.0]})
    b = _run(tmp_path / "b", "vpg", "CartPole-v1", {0: [1.0, 3.0]})
    assert main(["plot", str(a), str(b), "-o", str(tmp_path)]) == 0
    assert (tmp_path / "compare.png").stat().st_size > 0 and f"figure written to {tmp_path / 'compare.png'}" in capsys.readouterr().out
    bench = tmp_path / "bench"
    (bench / "cells").mkdir(parents=True)
    for argv, message in [([str(a), str(a)], "is given twice"), ([str(a), f"{tmp_path}/./a"], "is given twice"), ([str(a), str(bench)], "bench is a benchmark folder"),
                          ([str(a), str(tmp_path / "nope")], "nope is not there")]:
        assert main(["plot", *argv, "-o", str(tmp_path / "x.png")]) == 2
        assert message in capsys.readouterr().err
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "config.json").write_text(json.dumps(dict(algo="ppo", env="CartPole-v1")))
    runs.write_csv(empty / "metrics.csv", [])
    assert main(["plot", str(a), str(empty), "-o", str(tmp_path / "x.png")]) == 2
    assert "has no evaluation rows yet" in capsys.readouterr().err and not (tmp_path / "x.png").exists()


def test_runs_of_one_name_in_two_folders_stay_apart_and_a_diverged_one_says_where(tmp_path, drawn):
    a = _run(tmp_path / "x" / "ppo", "ppo", "CartPole-v1", {0: [1.0, 2.0, 3.0]})
    b = _run(tmp_path / "y" / "ppo", "ppo", "CartPole-v1", {0: [1.0, float("nan"), float("nan")]})
    labels = sorted({r.algo for r in run_rows([a, b])})
    assert labels == [f"ppo: {a}", f"ppo: {b}, non-finite returns from 100 env steps"]


def test_several_runs_draw_to_pdf_and_svg(tmp_path):
    a = _run(tmp_path / "a", "ppo", "CartPole-v1", {0: [1.0, 2.0, 3.0]})
    b = _run(tmp_path / "b", "vpg", "Acrobot-v1", {0: [1.0, 3.0, 4.0]})
    for suffix, magic in ((".pdf", b"%PDF"), (".svg", b"<?xml")):
        assert compare_runs([a, b], tmp_path / f"c{suffix}").read_bytes().startswith(magic)  # not shrunk as a PNG


def test_seeds_are_averaged_at_the_steps_they_share_not_by_position(tmp_path, drawn):
    """Seed 0 evaluated at 0, 100, 200 and seed 1 at 0 and 200: the mean at 100 averaged seed 0's 100 with seed 1's 200."""
    a = _run(tmp_path / "a", "ppo", "CartPole-v1", {0: [10.0, 20.0, 30.0]})
    rows = [r for r in runs.read_metrics(a / "metrics.csv")]
    rows += [dict(env_steps=0, wall_s=0.0, seed=1, **{"return": 50.0, "train_return": float("nan")}),
             dict(env_steps=200, wall_s=2.0, seed=1, **{"return": 70.0, "train_return": float("nan")})]
    runs.write_csv(a / "metrics.csv", sorted(rows, key=lambda r: (r["env_steps"], r["seed"])))
    compare_runs([a], tmp_path / "c.png")
    (line,) = drawn[0].axes[0].get_lines()
    assert list(line.get_xdata()) == [0, 200] and list(line.get_ydata()) == [30.0, 50.0]


def test_an_unfinished_run_says_how_far_it_got(tmp_path, drawn):
    """A run in progress after its second evaluation was labelled "evaluated at the start and end only"."""
    from rl_zoo.lock import FolderLock

    done = _run(tmp_path / "done", "trpo", "CartPole-v1", {0: [1.0, 2.0]})
    live = _run(tmp_path / "live", "ppo", "CartPole-v1", {0: [1.0, 2.0]}, finished=False, total=4096)
    with FolderLock(live):  # as its training process holds it
        compare_runs([done, live], tmp_path / "c.png")
    compare_runs([done, live], tmp_path / "d.png")
    held, left = ({line.get_label() for line in fig.axes[0].get_lines()} for fig in drawn)
    assert held == {"trpo (1 seed, evaluated at the start and end only)",
                    "ppo, training: evaluated up to 100 of 4,096 env steps (1 seed)"}
    assert "ppo, stopped: evaluated up to 100 of 4,096 env steps (1 seed)" in left


def test_what_the_plot_of_several_runs_refused_with_a_traceback_or_wrong_words(tmp_path, monkeypatch, capsys):
    """A review: ``-o FOLDER`` whose compare.png is a folder drew the figure, then a traceback; a run still compiling
    (config.json alone) was "metrics.csv: not found ... compare run directories it wrote"; ``.`` whose name another
    run shares was labelled "ppo: ."; a file given as a run was "not a run directory (no metrics.csv)"."""
    a = _run(tmp_path / "p1" / "run", "ppo", "CartPole-v1", {0: [1.0, 2.0]})
    b = _run(tmp_path / "p2" / "run", "ppo", "CartPole-v1", {0: [1.0, 3.0]})
    (tmp_path / "out" / "compare.png").mkdir(parents=True)
    assert main(["plot", str(a), str(b), "-o", str(tmp_path / "out")]) == 2
    assert "compare.png' is a folder: give a file name for the figure" in capsys.readouterr().err
    compiling = tmp_path / "compiling"
    compiling.mkdir()
    (compiling / "config.json").write_text(json.dumps(dict(algo="dqn", env="CartPole-v1")))
    assert main(["plot", str(a), str(compiling), "-o", str(tmp_path / "c.png")]) == 2
    # it said "has no evaluation rows yet" of a file that was not there (a run stopped at its first step too)
    said = ("metrics.csv: not written yet (a run writes it at its first evaluation; this one is compiling, or stopped "
            "before it): plot the run after its first evaluation")
    assert said in capsys.readouterr().err
    assert main(["plot", str(compiling)]) == 2
    assert said in capsys.readouterr().err  # one run: it was "not found. `rl-zoo train` writes it"
    (compiling / "metrics.csv").write_text(",".join(runs.METRIC_FIELDS) + "\n")  # the header, no evaluation yet
    assert main(["plot", str(a), str(compiling), "-o", str(tmp_path / "c.png")]) == 2
    assert "has no evaluation rows yet: plot the run after its first evaluation" in capsys.readouterr().err
    assert main(["plot", str(a), str(a / "metrics.csv"), "-o", str(tmp_path / "c.png")]) == 2
    assert "metrics.csv is a file, not a run directory" in capsys.readouterr().err
    monkeypatch.chdir(a)
    assert {r.algo for r in run_rows([Path("."), Path("../../p2/run")])} == {f"ppo: {a.resolve()}", "ppo: ../../p2/run"}


def test_a_run_the_nan_guard_stopped_is_labelled_diverged_not_stopped(tmp_path, drawn, monkeypatch):
    """The guard stops a run before a non-finite return reaches metrics.csv: a diverged run (exit 3) was labelled
    "stopped", as a Ctrl-C'd one. Its diverged.json (written at its last evaluation) says so; a resume that went
    further and was stopped is "stopped" again."""
    from rl_zoo.benchmark import command

    run = _run(tmp_path / "div", "ppo", "Pendulum-v1", {0: [-1200.0, -1100.0]}, finished=False, total=5000)
    runs.record_divergence(run, "non-finite value at update 3 ...")
    compare_runs([run], tmp_path / "c.png")
    assert {line.get_label() for line in drawn[-1].axes[0].get_lines()} == {"ppo, diverged: evaluated up to 100 of 5,000 env steps (1 seed)"}
    titles = []
    monkeypatch.setattr(plots, "learning_curve", lambda rows, title, path: titles.append(title) or Path(path))
    command.plot_run(run, None)
    assert titles[-1] == "ppo on Pendulum-v1\n(diverged: 100 of 5,000 env steps per seed)"
    rows = runs.read_metrics(run / "metrics.csv")
    runs.write_csv(run / "metrics.csv", rows + [dict(rows[-1], env_steps=200)])
    command.plot_run(run, None)
    assert titles[-1] == "ppo on Pendulum-v1\n(unfinished: 200 of 5,000 env steps per seed)"


def test_an_unwritable_current_folder_is_named_as_such_and_an_infinite_total_is_not_a_traceback(tmp_path, monkeypatch, drawn):
    """Without -o the figure goes to the current folder: an unwritable one was named as "-o '/proc'", a flag not
    given; an edited total_timesteps of 1e400 (inf) in config.json was an OverflowError."""
    from rl_zoo.compare import unfinished_words

    run = _run(tmp_path / "r", "ppo", "CartPole-v1", {0: [1.0, 2.0]}, finished=False)
    assert unfinished_words(run, {"config": {"total_timesteps": float("inf")}}, runs.read_metrics(run / "metrics.csv")) == \
        ", stopped: evaluated up to 100 env steps"
    if not Path("/proc/self").is_dir():
        pytest.skip("needs a folder no one may write into: /proc")
    monkeypatch.chdir("/proc")
    with pytest.raises(ValueError, match=r"^the current folder \(where the figure goes without -o\) '/proc': .*not writable"):
        compare_runs([run])
