"""``rl-zoo plot RUN_DIR -o ...``: a folder means FOLDER/curve.png; an output that cannot be written is
refused before any work, in one line naming the -o path (not a hidden temporary file)."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from rl_zoo import plots, runs
from rl_zoo.cli import main


@pytest.fixture
def run_dir(tmp_path):
    """A run directory as far as ``rl-zoo plot`` reads one: a metrics.csv of two seeds."""
    run = tmp_path / "run"
    run.mkdir()
    rows = [dict(env_steps=s, wall_s=0.1 * s, seed=seed, **{"return": float(s + seed), "train_return": 0.0})
            for s in (0, 256, 512) for seed in (0, 1)]
    runs.write_csv(run / "metrics.csv", rows)
    return run


def test_a_folder_means_its_curve_png_and_a_suffix_its_format(run_dir, tmp_path, capsys):
    folder = tmp_path / "figs"
    folder.mkdir()
    assert main(["plot", str(run_dir), "-o", str(folder)]) == 0
    assert (folder / "curve.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert main(["plot", str(run_dir), "-o", str(tmp_path / "curve.pdf")]) == 0
    assert (tmp_path / "curve.pdf").read_bytes()[:5] == b"%PDF-"
    assert [p.name for p in folder.iterdir()] == ["curve.png"]  # no temporary file left
    assert "figure written to" in capsys.readouterr().out


def test_an_unfinished_run_is_titled_so_with_its_env_steps(run_dir, monkeypatch):
    """A stopped run's curve read as the whole run: 512 of 200,000 env steps drawn under the algorithm's name alone."""
    import json

    titles = []
    monkeypatch.setattr(plots, "learning_curve", lambda rows, title, path: titles.append(title) or path)
    (run_dir / "config.json").write_text(json.dumps({"algo": "ppo", "env": "CartPole-v1", "config": {"total_timesteps": 200_000}}))
    assert main(["plot", str(run_dir)]) == 0
    (run_dir / "summary.json").write_text("{}")
    assert main(["plot", str(run_dir)]) == 0
    assert titles == ["ppo on CartPole-v1\n(unfinished: 512 of 200,000 env steps per seed)", "ppo on CartPole-v1"]


@pytest.mark.parametrize("target, message", [
    ("missing/x.png", "-o '{tmp}/missing/x.png': the folder '{tmp}/missing' does not exist"),
    ("x.tmp", "-o '{tmp}/x.tmp': a figure is saved as .*; '.tmp' is not one of them"),
    ("noext", "-o '{tmp}/noext': a figure is saved as .*; it has no suffix"),
    ("newfolder/", "-o '{tmp}/newfolder/': the folder does not exist"),  # was "it has no suffix"
])
def test_an_output_that_cannot_be_written_is_refused_up_front(run_dir, tmp_path, capsys, target, message):
    import re

    before = sorted(p.name for p in tmp_path.iterdir())
    assert main(["plot", str(run_dir), "-o", f"{tmp_path}/{target}"]) == 2
    err = capsys.readouterr().err
    assert re.search(message.format(tmp=re.escape(str(tmp_path))), err), err
    assert ".tmp." not in err and "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == before


def test_figure_path(tmp_path, monkeypatch):
    assert plots.figure_path(tmp_path) == tmp_path / "curve.png"
    import tempfile

    def read_only(*args, **kwargs):  # /proc, /sys or a read-only mount as root: it failed after drawing, on a temporary file
        raise OSError(30, "Read-only file system")

    with monkeypatch.context() as m:
        m.setattr(tempfile, "NamedTemporaryFile", read_only)
        with pytest.raises(ValueError, match="-o '.*x.png': the folder '.*' is not writable"):
            plots.figure_path(tmp_path / "x.png")
    assert plots.figure_path(tmp_path / "a.SVG") == tmp_path / "a.SVG"
    assert ".png" in plots.figure_formats() and ".pdf" in plots.figure_formats()
    if shutil.which("xelatex") is None:  # .pgf runs xelatex: refused before any work, not a traceback at savefig
        with pytest.raises(ValueError, match="'.pgf' is not one of them \\(xelatex, which matplotlib runs"):
            plots.figure_path(tmp_path / "curve.pgf")
    (tmp_path / "file").write_text("")
    with pytest.raises(ValueError, match="is a file, not a folder"):
        plots.figure_path(tmp_path / "file" / "x.png")


def _learning_curve_lines(rows, path, monkeypatch) -> list[tuple[str, list[float]]]:
    """``plots.learning_curve(rows, ...)`` drawn to ``path``: each line's (legend label, y data), as saved."""
    import matplotlib.pyplot as plt

    seen = []
    real_savefig = plt.Figure.savefig

    def keep(fig, *a, **k):
        seen.extend((line.get_label(), list(line.get_ydata())) for line in fig.axes[0].get_lines())
        return real_savefig(fig, *a, **k)

    monkeypatch.setattr(plt.Figure, "savefig", keep)
    plots.learning_curve(rows, "t", path)
    return seen


def test_a_non_finite_return_is_marked_and_one_seed_is_named(tmp_path, monkeypatch):
    rows = [dict(env_steps=s, seed=7, **{"return": r}) for s, r in ((0, 1.0), (256, float("nan")), (512, 3.0))]
    labels = [label for label, _ in _learning_curve_lines(rows, tmp_path / "c.png", monkeypatch)]
    assert labels == ["seed 7", "non-finite return (1 evaluation, seed 7)"]


def test_a_run_evaluated_only_at_its_start_and_end_is_drawn_as_markers(tmp_path, monkeypatch):
    """Two evaluations (a DQN cell's 100k budget left room for no more) joined by a line read as a
    learning curve: they are dotted markers, and the legend says so; a curve of more points is a line."""
    from rl_zoo.benchmark import ReturnRow

    rows = [ReturnRow("dqn", "LunarLander-v3", seed, steps, 0.0, ret)
            for seed in (0, 1) for steps, ret in ((0, -300.0), (100_000, 150.0))]
    rows += [ReturnRow("ppo", "LunarLander-v3", seed, steps, 0.0, steps / 1000) for seed in (0, 1) for steps in (0, 50_000, 100_000)]
    drawn = {}
    monkeypatch.setattr(plots, "_save", lambda fig, path, **k: drawn.setdefault("fig", fig) and path)
    plots.env_panels(rows, ["LunarLander-v3"], tmp_path / "curves.png")
    lines = {line.get_label(): line for line in drawn["fig"].axes[0].get_lines()}
    dqn, ppo = lines["dqn (2 seeds, evaluated at the start and end only)"], lines["ppo (2 seeds)"]
    assert (dqn.get_marker(), dqn.get_linestyle()) == ("o", ":") and list(dqn.get_xdata()) == [0, 100_000]
    assert ppo.get_marker() == "None" and ppo.get_linestyle() == "-"


def test_curves_past_ten_names_are_told_apart_by_their_dashes_or_markers(tmp_path, monkeypatch):
    """`rl-zoo plot` of twelve runs drew runs 1 and 11 in one colour and one solid line: the eleventh name on
    has the colour of an earlier one, so its curve gets a dash pattern (or, drawn as dotted markers, a marker)
    of its own, in the panels and the wall-clock figure."""
    from rl_zoo.benchmark import ReturnRow

    names = [f"run {i:02d}" for i in range(12)]
    rows = [ReturnRow(n, "CartPole-v1", 0, steps, steps / 10, steps / 100) for n in names for steps in (0, 50, 100)]
    rows += [ReturnRow(n, "Acrobot-v1", 0, steps, 0.0, 1.0) for n in names for steps in (0, 100)]  # start and end only
    drawn = []
    monkeypatch.setattr(plots, "_save", lambda fig, path, **k: drawn.append(fig) or path)
    plots.env_panels(rows, ["CartPole-v1"], tmp_path / "p.png")
    plots.benchmark_curves(rows, "CartPole-v1", tmp_path / "c.png")
    plots.env_panels(rows, ["Acrobot-v1"], tmp_path / "a.png")
    for fig, key in ((drawn[0], "linestyle"), (drawn[1], "linestyle"), (drawn[2], "marker")):
        looks = [(line.get_color(), str(line.get_linestyle()) if key == "linestyle" else line.get_marker())
                 for line in fig.axes[0].get_lines()]
        assert len(looks) == 12 and len(set(looks)) == 12, looks
        assert looks[0][0] == looks[10][0] and looks[0][1] != looks[10][1]  # the colour repeats, the look does not


# --- what is averaged (a review's mutations of each passed every test) ---------------------------------
def test_the_learning_curves_mean_line_is_the_mean_of_its_seeds(tmp_path, monkeypatch):
    rows = [dict(seed=s, env_steps=t, **{"return": r}) for s, c in ((0, (1.0, 3.0)), (1, (3.0, 5.0))) for t, r in zip((0, 10), c)]
    seen = dict(_learning_curve_lines(rows, tmp_path / "c.png", monkeypatch))
    assert seen["mean of 2 seeds"] == [2.0, 4.0]  # (1 + 3) / 2, (3 + 5) / 2: not the first seed's 1, 3


def test_benchmark_figures_draw_the_mean_return_over_seeds_not_the_wall_time(tmp_path, monkeypatch):
    from rl_zoo.benchmark import ReturnRow

    # seed 0: wall 0, 10 s and returns 10, 30; seed 1: wall 0, 20 s and returns 20, 40 -> mean returns 15, 35
    rows = [ReturnRow("ppo", "CartPole-v1", s, t, w, r) for s, ws, rs in ((0, (0.0, 10.0), (10.0, 30.0)), (1, (0.0, 20.0), (20.0, 40.0)))
            for t, w, r in zip((0, 100), ws, rs)]
    drawn = []
    monkeypatch.setattr(plots, "_save", lambda fig, path, **k: drawn.append(fig) or path)
    plots.benchmark_curves(rows, "CartPole-v1", tmp_path / "c.png")
    plots.env_panels(rows, ["CartPole-v1"], tmp_path / "p.png")
    curves, panels = ([list(line.get_ydata()) for line in fig.axes[0].get_lines()] for fig in drawn)
    assert [15.0, 35.0] in curves and [15.0, 35.0] in panels


def test_the_aggregate_figure_gives_each_algorithm_its_own_interval_and_name(tmp_path, monkeypatch):
    """`aggregate.png` and the report's aggregate table: each algorithm's IQM (not the mean) and
    optimality gap of its own scores; its bar spans its interval, labelled with its name, top to bottom
    in the order given. One env, normalised scores (0, 1, 2, 3, 100): IQM (1 + 2 + 3) / 3 = 2, the
    mean 21.2; gap (1 + 0 + 0 + 0 + 0) / 5 = 0.2."""
    drawn = []
    monkeypatch.setattr(plots, "_save", lambda fig, path, **k: drawn.append(fig) or path)
    results = plots.aggregate_intervals({"a": [np.array([0.0, 1.0, 2.0, 3.0, 100.0])], "b": [np.array([0.5] * 5)]},
                                        tmp_path / "aggregate.png", labels={"a": "algo A", "b": "algo B"})
    assert results["a"]["IQM"][0] == pytest.approx(2.0) and results["a"]["Optimality gap"][0] == pytest.approx(0.2)
    assert results["b"]["IQM"] == pytest.approx((0.5, 0.5, 0.5)) and results["b"]["Optimality gap"] == pytest.approx((0.5, 0.5, 0.5))
    iqm_axes = drawn[0].axes[0]
    assert [t.get_text() for t in iqm_axes.get_yticklabels()][::-1] == ["algo A", "algo B"]  # ticks bottom-up
    bars = {round(p.get_y() + p.get_height() / 2): p for p in iqm_axes.patches}  # y = 1 for "a" (top), 0 for "b"
    _, lo, hi = results["a"]["IQM"]
    assert lo < 2.0 < hi and (bars[1].get_x(), bars[1].get_width()) == pytest.approx((lo, hi - lo))
    gap_axis = drawn[0].axes[1].get_xlabel()  # the gap's 0 is every run at the threshold, not a random policy
    assert iqm_axes.get_xlabel().startswith("normalised score\n(0 = random policy") and "0 = every run at the threshold" in gap_axis
    # the two labels side by side (the gap's, on one line, ran into the IQM's); a zero-width interval's tick inside
    drawn[0].canvas.draw()
    renderer = drawn[0].canvas.get_renderer()
    left, right = (ax.xaxis.label.get_window_extent(renderer) for ax in drawn[0].axes[:2])
    assert left.x1 < right.x0
    low, high = drawn[0].axes[0].get_xlim()
    assert low < 0.5 < high and high - 0.5 > 0.01 * (high - low)  # "b"'s interval is (0.5, 0.5, 0.5)
    for score in (0.5, 1.0551):  # one seed, or every seed the same: the axis ended at the point
        drawn.clear()
        plots.aggregate_intervals({"a": [np.array([score])]}, tmp_path / "one.png")
        low, high = drawn[0].axes[0].get_xlim()
        assert low < score < high and min(score - low, high - score) > 0.01 * (high - low)


def test_a_non_finite_return_of_any_seed_is_marked(tmp_path, monkeypatch):
    rows = [dict(env_steps=s, seed=seed, **{"return": float("nan") if (seed, s) == (1, 256) else 1.0})
            for seed in (0, 1) for s in (0, 256, 512)]
    labels = [label for label, _ in _learning_curve_lines(rows, tmp_path / "c.png", monkeypatch)]
    assert "non-finite return (1 evaluation, seed 1)" in labels
    # two seeds diverged at the same step are two evaluations (the legend said 1: it counted the steps)
    rows = [dict(env_steps=s, seed=seed, **{"return": float("nan") if s == 256 else 1.0}) for seed in (0, 3) for s in (0, 256)]
    labels = [label for label, _ in _learning_curve_lines(rows, tmp_path / "c.png", monkeypatch)]
    assert "non-finite return (2 evaluations, seeds 0, 3)" in labels


def test_a_run_of_one_evaluation_is_drawn_as_markers(tmp_path, monkeypatch):
    """A run plotted after its first evaluation (what the 'no rows yet' error says to do) was an empty
    figure: a line through one point draws nothing. One or two evaluations are drawn with markers."""
    import matplotlib.pyplot as plt

    markers = []
    real_savefig = plt.Figure.savefig
    monkeypatch.setattr(plt.Figure, "savefig", lambda fig, *a, **k: markers.extend(
        (line.get_label(), line.get_marker()) for line in fig.axes[0].get_lines()) or real_savefig(fig, *a, **k))
    plots.learning_curve([dict(env_steps=0, seed=s, **{"return": 9.0 + s}) for s in (0, 1)], "t", tmp_path / "c.png")
    assert markers == [("per seed", "o"), ("_child1", "o"), ("mean of 2 seeds", "o")]
    markers.clear()
    plots.learning_curve([dict(env_steps=t, seed=0, **{"return": 1.0}) for t in (0, 10, 20)], "t", tmp_path / "c.png")
    assert markers == [("seed 0", "None")]


def test_the_mean_line_is_taken_at_the_steps_every_seed_has(tmp_path, monkeypatch):
    """Seeds evaluated at other steps (a hand-made or merged metrics.csv) were averaged by position: seed 0's
    100 with seed 1's 150. The mean is drawn at the steps all seeds share, each the mean there."""
    rows = [dict(seed=0, env_steps=t, **{"return": float(t)}) for t in (0, 100, 200, 300)]
    rows += [dict(seed=1, env_steps=t, **{"return": float(t) + 10}) for t in (0, 150, 300)]
    import matplotlib.pyplot as plt

    seen = {}
    real_savefig = plt.Figure.savefig
    monkeypatch.setattr(plt.Figure, "savefig", lambda fig, *a, **k: seen.update(
        {line.get_label(): (list(line.get_xdata()), list(line.get_ydata())) for line in fig.axes[0].get_lines()})
        or real_savefig(fig, *a, **k))
    plots.learning_curve(rows, "t", tmp_path / "c.png")
    assert seen["mean of 2 seeds"] == ([0.0, 300.0], [5.0, 305.0])


def test_the_wall_clock_panel_places_points_at_the_mean_time_over_seeds(tmp_path, monkeypatch):
    from rl_zoo.benchmark import ReturnRow

    # seed 0 reaches step 100 at 10 s, seed 1 at 20 s: the wall-clock panel's point is at 15 s
    rows = [ReturnRow("ppo", "CartPole-v1", s, t, w, 1.0) for s, ws in ((0, (0.0, 10.0)), (1, (0.0, 20.0))) for t, w in zip((0, 100), ws)]
    drawn = []
    monkeypatch.setattr(plots, "_save", lambda fig, path, **k: drawn.append(fig) or path)
    plots.benchmark_curves(rows, "CartPole-v1", tmp_path / "c.png")
    assert [list(line.get_xdata()) for line in drawn[0].axes[1].get_lines() if line.get_label().startswith("ppo")] == [[0.0, 15.0]]


def test_an_algorithm_keeps_its_colour_whichever_figure_it_is_in():
    """The registry's order gives each algorithm its colour (dqn the same beside ppo as alone); others follow."""
    from rl_zoo import algos

    order = algos.names()
    assert plots.algo_colors(["dqn", "ppo", "mine"]) == {
        "dqn": plots._PALETTE[order.index("dqn")], "ppo": plots._PALETTE[0], "mine": plots._PALETTE[len(order) % len(plots._PALETTE)]}
    assert plots.algo_colors(["dqn"]) == {"dqn": plots._PALETTE[order.index("dqn")]}
    # labels that are not algorithms' (`rl-zoo plot`'s "dqn: d1", ...) take the colours no drawn name has: the
    # third of them took ppo's blue beside ppo (counting on past the palette)
    names = ["ppo", "dqn: d1", "dqn: d2", "dqn: d3"]
    colors = plots.algo_colors(names)
    assert colors["ppo"] == plots._PALETTE[0] and len(set(colors.values())) == 4
    many = plots.algo_colors([f"run {i}" for i in range(12)])  # past ten names, colours repeat
    assert len(set(many.values())) == 10


def test_profile_thresholds_span_0_to_1_1_or_the_scores():
    for scores, ends in (([0.2, 0.5], (0.0, 1.1)), ([-0.5, 2.0], (-0.55, 2.05))):
        taus = plots.profile_taus({"a": [np.array(scores)]})
        assert len(taus) == 201 and (taus[0], taus[-1]) == pytest.approx(ends)


def test_profile_thresholds_span_the_finite_scores_and_an_infinite_one_counts_at_every_tau():
    """A +-inf score stretched the thresholds to linspace(0, inf), blanking every profile: they span the finite
    scores (0.5, 2.0: from 0 to 2.05), and the inf run is above every one, the -inf run below."""
    from rl_zoo import stats

    scores = {"a": [np.array([0.5, np.inf]), np.array([-np.inf, 2.0])]}
    taus = plots.profile_taus(scores)
    assert len(taus) == 201 and (taus[0], taus[-1]) == pytest.approx((0.0, 2.05))
    profile = stats.performance_profile(scores["a"], taus)
    assert (profile[0], profile[-1]) == (0.75, 0.25)  # 0.5, inf, 2 above 0; inf alone above 2.05
    assert (plots.profile_taus({"a": [np.array([np.nan, np.inf])]})[[0, -1]] == (0.0, 1.1)).all()


def test_the_wall_clock_axis_turns_logarithmic_for_algorithms_an_order_of_magnitude_apart(tmp_path, monkeypatch):
    from rl_zoo.benchmark import ReturnRow

    drawn = []
    monkeypatch.setattr(plots, "_save", lambda fig, path, **k: drawn.append(fig) or path)
    for slow_end in (50.0, 90.0):  # the slower algorithm ends at 5x, then 9x the faster one's 10 s
        rows = [ReturnRow(a, "CartPole-v1", 0, t, w, 1.0) for a, end in (("ppo", 10.0), ("dqn", slow_end))
                for t, w in ((0, 0.0), (100, end))]
        plots.benchmark_curves(rows, "CartPole-v1", tmp_path / "c.png")
    assert [fig.axes[1].get_xscale() for fig in drawn] == ["linear", "log"]


def test_a_figure_that_cannot_be_written_leaves_no_temporary_file(tmp_path):
    """save_figure wrote ``.NAME.tmp.png`` beside the target and left it (and the figure open) when the
    rename failed: a folder in the target's place. Every figure is now written by atomic_write_bytes."""
    import matplotlib.pyplot as plt

    (tmp_path / "fig.png").mkdir()
    fig = plt.figure()
    with pytest.raises(IsADirectoryError):
        plots.save_figure(fig, tmp_path / "fig.png", shrink=True)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fig.png"] and not plt.fignum_exists(fig.number)
    assert plots.save_figure(plt.figure(), tmp_path / "ok.svg").read_text().lstrip().startswith("<?xml")  # its suffix's format


def test_a_mean_is_drawn_only_where_the_seeds_share_steps(tmp_path, monkeypatch):
    """Seeds with no step in common drew a 'mean' legend entry with no line; one shared step drew a mean of
    one point without a marker (invisible); no rows raised inside matplotlib with the figure left open."""
    import matplotlib.pyplot as plt

    seen = {}
    real_savefig = plt.Figure.savefig
    monkeypatch.setattr(plt.Figure, "savefig", lambda fig, *a, **k: seen.update(
        {line.get_label(): line.get_marker() for line in fig.axes[0].get_lines()}) or real_savefig(fig, *a, **k))
    apart = [dict(seed=0, env_steps=t, **{"return": 1.0}) for t in (0, 100, 200)]
    apart += [dict(seed=1, env_steps=t, **{"return": 2.0}) for t in (50, 150, 250)]
    plots.learning_curve(apart, "t", tmp_path / "c.png")
    assert "mean of 2 seeds" not in seen
    seen.clear()
    one_shared = apart + [dict(seed=1, env_steps=0, **{"return": 2.0})]
    plots.learning_curve(one_shared, "t", tmp_path / "c.png")
    assert seen["mean of 2 seeds"] == "o"
    before = len(plt.get_fignums())  # other tests' figures may be open
    with pytest.raises(ValueError, match="no evaluation rows"):
        plots.learning_curve([], "t", tmp_path / "c.png")
    assert len(plt.get_fignums()) == before


def test_learning_curve_from_python_refuses_a_path_without_a_figure_suffix_and_a_file_for_rows(tmp_path):
    """From Python, learning_curve(rows, "t", "out/curve") wrote a PNG named "curve"; a metrics.csv path given
    as the rows failed with "string indices must be integers". Refused before anything is drawn or written."""
    rows = [dict(env_steps=0, seed=0, **{"return": 1.0})]
    with pytest.raises(ValueError, match="learning_curve: path '.*curve' needs a figure suffix, one of .*png"):
        plots.learning_curve(rows, "t", tmp_path / "curve")
    with pytest.raises(TypeError, match="rows are metrics rows .*read_csv"):
        plots.learning_curve(str(tmp_path / "metrics.csv"), "t", tmp_path / "c.png")
    assert list(tmp_path.iterdir()) == []
    assert plots.learning_curve(rows, "t", tmp_path / "c.svg").suffix == ".svg"


def test_env_panels_draw_the_algorithms_legend_once_outside_the_curves(tmp_path, monkeypatch):
    """With several panels each carried every algorithm's legend over its curves: now one legend, in the
    grid's first empty cell (else below the panels), names the algorithms; a panel's legend names only its
    marks (targets)."""
    from rl_zoo.benchmark import ReturnRow

    envs_ = ["CartPole-v1", "Acrobot-v1", "Pendulum-v1", "MountainCar-v0"]  # 3 + 1 panels: two empty cells
    rows = [ReturnRow(algo, env, seed, steps, 0.0, steps / 100) for algo in ("ppo", "trpo") for env in envs_
            for seed in (0, 1) for steps in (0, 50, 100)]
    drawn = []
    monkeypatch.setattr(plots, "_save", lambda fig, path, **k: drawn.append(fig) or path)
    marks = {"CartPole-v1": {"ppo target 475": 475.0}}

    def legends(fig):
        return [[t.get_text() for t in ax.get_legend().get_texts()] if ax.get_legend() else None for ax in fig.axes]

    plots.env_panels(rows, envs_, tmp_path / "p.png", marks=marks)
    assert legends(drawn[0]) == [["ppo target 475"], None, None, None, ["ppo (2 seeds)", "trpo (2 seeds)"], None]
    legend_cell = drawn[0].axes[4]
    assert legend_cell.get_visible() and not legend_cell.axison and not drawn[0].axes[5].get_visible()
    plots.env_panels(rows, envs_[:2], tmp_path / "two.png", marks=marks)  # no empty cell: below the panels
    assert legends(drawn[1]) == [["ppo target 475"], None]
    assert [t.get_text() for t in drawn[1].legends[0].get_texts()] == ["ppo (2 seeds)", "trpo (2 seeds)"]
    plots.env_panels(rows, envs_[:1], tmp_path / "one.png", marks=marks)  # one panel: its own legend, as before
    assert legends(drawn[2]) == [["ppo (2 seeds)", "trpo (2 seeds)", "ppo target 475"]] and not drawn[2].legends


def test_postscript_is_not_offered_it_draws_no_transparency(tmp_path):
    """``-o m.eps`` exited 0 with the 95% bands opaque over the mean curves (matplotlib's PostScript backend
    renders alpha as opaque, and said so only in a warning): .eps and .ps are refused naming .pdf and .svg."""
    assert ".eps" not in plots.figure_formats() and ".ps" not in plots.figure_formats()
    for name in ("m.eps", "m.PS"):
        with pytest.raises(ValueError, match=r"PostScript draws no transparency.*\.pdf and \.svg"):
            plots.figure_path(tmp_path / name)
    assert not list(tmp_path.iterdir())


def test_a_run_directory_that_cannot_be_written_is_refused_up_front_without_o(run_dir, tmp_path, monkeypatch, capsys):
    """Someone else's (read-only) run: without -o it drew the figure, then exited 1 on a raw ``[Errno 13]`` naming a
    hidden temporary file; now exit 2 in one line that says to give -o, which then works."""
    monkeypatch.setattr(runs, "writable_folder", lambda folder: runs.Path(folder).resolve() != run_dir.resolve())
    assert main(["plot", str(run_dir)]) == 2
    err = capsys.readouterr().err
    assert f"{run_dir} is not writable, and without -o the figure goes to {run_dir / 'curve.png'}: give -o" in err, err
    assert len(err.strip().splitlines()) == 1 and not (run_dir / "curve.png").exists()
    assert main(["plot", str(run_dir), "-o", str(tmp_path / "mine.png")]) == 0 and (tmp_path / "mine.png").is_file()


def test_a_file_of_another_run_directory_is_not_replaced_by_the_figure(run_dir, tmp_path, capsys):
    """``rl-zoo plot A -o B`` replaced run B's own curve.png by A's figure, silently; a new file name in B, or A's own
    folder, still takes it."""
    other = tmp_path / "other"
    shutil.copytree(run_dir, other)
    (other / "curve.png").write_bytes(b"B's own figure")
    for output in (other, other / "curve.png"):
        assert main(["plot", str(run_dir), "-o", str(output)]) == 2
        assert "is a file of another run directory" in capsys.readouterr().err
    assert (other / "curve.png").read_bytes() == b"B's own figure"
    (other / "curve.png").unlink()  # a run still training: its own figure's name, taken by another run's curve
    assert main(["plot", str(run_dir), "-o", str(other)]) == 2
    assert "is the figure file of another run directory" in capsys.readouterr().err and not (other / "curve.png").exists()
    assert main(["plot", str(run_dir), "-o", str(other / "a.png")]) == 0 and (other / "a.png").is_file()
    assert main(["plot", str(run_dir), "-o", str(run_dir)]) == 0 and (run_dir / "curve.png").is_file()


@pytest.mark.parametrize("config, said", [
    ({"env": "CartPole-v1", "config": {}}, "lacks the field(s) 'algo'"),  # was titled "None on CartPole-v1"
    ({"algo": "ppo", "config": {}}, "lacks the field(s) 'env'"),
])
def test_a_config_json_without_its_algo_or_env_is_refused_as_with_several_runs(run_dir, capsys, config, said):
    import json

    (run_dir / "config.json").write_text(json.dumps(config))
    assert main(["plot", str(run_dir)]) == 2
    err = capsys.readouterr().err
    assert said in err and "Traceback" not in err and not (run_dir / "curve.png").exists()


def test_a_config_field_that_is_not_an_object_draws_the_curve_without_a_budget(run_dir, monkeypatch):
    """``"config": "x"`` in config.json was an AttributeError traceback (exit 1); `rl-zoo plot A B` drew it."""
    import json

    titles = []
    monkeypatch.setattr(plots, "learning_curve", lambda rows, title, path: titles.append(title) or path)
    (run_dir / "config.json").write_text(json.dumps({"algo": "ppo", "env": "CartPole-v1", "config": "x"}))
    assert main(["plot", str(run_dir)]) == 0
    assert titles == ["ppo on CartPole-v1"]


def test_a_long_title_is_wrapped_not_cut_at_the_figures_edges():
    """Review: a run's title names its env options, and FrozenLake's drawn map (``desc``) made one line cut at both
    edges of curve.png, the algorithm and env id with it."""
    from rl_zoo.plots import title_lines

    assert title_lines("ppo on CartPole-v1") == ["ppo on CartPole-v1"]
    lines = title_lines("q-learning on FrozenLake-v1 (desc=[" + ", ".join(["SFFFFFFF"] * 8) + "], is_slippery=false)")
    assert lines[0].startswith("q-learning on FrozenLake-v1 (desc=[") and lines[-1].endswith("is_slippery=false)")
    assert len(lines) == 2 and all(len(line) <= 80 for line in lines)
    many = title_lines("dqn on FrozenLake-v1 (desc=[" + ", ".join(["SFFFFFFFFFFFFFFF"] * 40) + "])")
    assert len(many) == 4 and many[-1].endswith(" …") and all(len(line) <= 80 for line in many)
