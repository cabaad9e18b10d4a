"""The one progress display of the driver and the grid: bars when enabled, plain log lines when not."""

from rl_zoo.progress import GridProgress, RunProgress


def test_grid_progress_without_display_logs_each_cell():
    lines: list[str] = []
    with GridProgress(False, cells=2, total=300, log=lines.append) as bar:
        bar.start("a", "ppo on CartPole-v1", 100, "1 seed(s) x 100 env steps")
        bar.advance("a", 50, "return 9.0")
        bar.finish("a", 100, "done ppo on CartPole-v1")
        bar.start("b", "vpg on CartPole-v1", 200)
        bar.finish("b", 200, "FAILED vpg on CartPole-v1: exit code 1")
    assert lines == ["[1/2] ppo on CartPole-v1: 1 seed(s) x 100 env steps", "done ppo on CartPole-v1",
                     "[2/2] vpg on CartPole-v1: 200 env steps", "FAILED vpg on CartPole-v1: exit code 1"]


def test_grid_progress_with_display_counts_the_grid_and_prints_finished_cells(capsys):
    lines: list[str] = []
    with GridProgress(True, cells=2, total=300, log=lines.append, terminal=True) as bar:
        bar.start("a", "ppo on CartPole-v1", 100, "")
        bar.advance("a", 60, "return 9.0")
        grid = bar.display._progress.tasks[0]
        assert grid.completed == 60 and grid.total == 300
        bar.finish("a", 100, "done ppo on CartPole-v1")
        assert grid.completed == 100 and grid.description == "grid: 1/2 cells done"
        assert [t.description for t in bar.display._progress.tasks] == ["grid: 1/2 cells done"]  # the cell's bar is gone
    assert lines == [] and "done ppo on CartPole-v1" in capsys.readouterr().out


def test_run_progress_shows_steps_speed_and_return(capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "160")  # room for every column, whatever the terminal
    with RunProgress(True, total=1000, label="ppo CartPole-v1", terminal=True) as bar:
        bar.update(1000, 2500.0, 41.25)
    out = capsys.readouterr().out
    assert "ppo CartPole-v1" in out and "1,000/1,000" in out and "2,500 steps/s" in out and "return 41.2" in out
    with RunProgress(False, total=1000, label="quiet") as bar:
        bar.update(500, 1.0, 2.0)
    assert capsys.readouterr().out == ""


def test_at_80_columns_the_times_stay_whole(capsys, monkeypatch):
    """The elapsed column showed "0:00:…" at 80 columns (and no ETA): the bar and the end of the
    info text give way now."""
    monkeypatch.setenv("COLUMNS", "80")
    with RunProgress(True, total=1_000_000, label="trpo HalfCheetah-v5", terminal=True) as bar:
        bar.update(480_000, 22438.0, -1357.0)
    line = capsys.readouterr().out.strip().splitlines()[-1]
    assert "trpo HalfCheetah-v5 " in line and "480k/1.00M" in line and " 48% 0:00:0" in line and "eta " in line and "return -1357.0" in line
    assert "0:00:…" not in line and len(line) <= 80


def test_the_bars_eta_shows_from_the_first_segment_even_when_segments_take_over_30_s(capsys, monkeypatch):
    """Review: rich's ETA column took a speed from the updates of the last 30 s (two needed), and the bar updates
    once per segment: segments of 40 s showed "eta -:--:--" all run long, shorter ones none before the second."""
    import rich.console

    now = [0.0]
    monkeypatch.setattr(rich.console, "monotonic", lambda: now[0])
    monkeypatch.setenv("COLUMNS", "120")
    with RunProgress(True, total=1_000_000, label="ppo", terminal=True) as bar:
        bar.update(0, 0.0, 10.0)  # the first evaluation: the bar's clock starts here
        now[0] = 40.0
        bar.update(250_000, 6250.0, 20.0)  # 250k steps in 40 s: 750k left take 120 s
        now[0] = 70.0  # between updates it counts down
    line = capsys.readouterr().out.strip().splitlines()[-1]
    assert "250k/1.00M" in line and "0:01:10 eta 0:01:30" in line, line


def test_a_grid_cells_eta_leaves_out_its_process_start_and_compile(capsys, monkeypatch):
    """Diff review: a cell's bar starts when its process does, and the ETA (time per step since the bar's clock
    started) counted the 20 s of start and compile as spent on the first steps: 0:01:28 where 8 s were left."""
    import rich.console

    now = [0.0]
    monkeypatch.setattr(rich.console, "monotonic", lambda: now[0])
    monkeypatch.setenv("COLUMNS", "140")
    with GridProgress(True, cells=2, total=200_000, terminal=True) as grid:
        grid.start("c", "ppo CartPole-v1", 100_000)
        now[0] = 20.0
        grid.advance("c", 0, "return 20.0")  # its first row, after 20 s of start and compile
        now[0] = 22.0
        grid.advance("c", 20_000, "return 30.0")  # 10k steps a second: 80k left take 8 s
    line = next(x for x in capsys.readouterr().out.splitlines()[::-1] if "ppo CartPole-v1" in x)
    assert "20.0k/100k" in line and "eta 0:00:08" in line, line


def test_run_progress_off_a_terminal_logs_one_line_per_update():
    """Piped to a log, rich drew the bar only when training ended: nothing in between."""
    lines: list[str] = []
    with RunProgress(True, total=1000, label="ppo CartPole-v1", log=lines.append, terminal=False) as bar:
        bar.update(500, 2500.0, 41.25)
        bar.update(1000, 2400.0, 60.0)
    assert len(lines) == 2 and lines[0].startswith("ppo CartPole-v1: 500/1,000 steps (50%), 0:00:00 elapsed, eta -, ")
    assert lines[1].endswith("return 60.0  2,400 steps/s")  # (its ETA from the steps this process made: 500 -> 1000)


def test_a_logged_runs_eta_is_the_time_per_step_so_far_times_the_steps_left(monkeypatch):
    """A resumed run starts at 500 of 1000 steps: 250 steps in 10 s leave 250 steps, 10 s more (not the
    20 s of counting from the first update's 500 or from 0)."""
    from types import SimpleNamespace

    import rl_zoo.progress as progress

    clock_at = iter([0.0, 0.0, 0.0, 10.0])  # the bar made, entered, the first update, the second
    monkeypatch.setattr(progress, "time", SimpleNamespace(perf_counter=lambda: next(clock_at)))
    lines: list[str] = []
    with RunProgress(True, total=1000, label="ppo", log=lines.append, terminal=False) as bar:
        bar.update(500, 0.0, 0.0)
        bar.update(750, 25.0, 1.0)
    assert lines[1].startswith("ppo: 750/1,000 steps (75%), 0:00:10 elapsed, eta 0:00:10, ")


def test_clock_and_compact_by_hand():
    from rl_zoo.progress import clock, compact

    assert [clock(s) for s in (0, 59.9, 3725, 36000 + 61)] == ["0:00:00", "0:00:59", "1:02:05", "10:01:01"]
    assert [compact(n) for n in (950, 12_345, 480_000, 1_000_000)] == ["950", "12.3k", "480k", "1.00M"]
    assert [compact(n) for n in (99_960, 999_936)] == ["100k", "1.00M"]  # were "100.0k" and "1000k"


def test_a_resumed_runs_bar_counts_its_speed_from_where_it_resumed(monkeypatch):
    """A run resumed at 60% drew its first update as a jump from 0 to 60,000 steps in this process, so the
    bar's speed and ETA counted steps made by an earlier process: the bar's clock restarts at the first
    update (``Display.start_at``), and only the steps made from there are samples of its speed."""
    monkeypatch.setenv("COLUMNS", "160")
    with RunProgress(True, total=100_000, label="ppo CartPole-v1", terminal=True) as bar:
        bar.update(60_000, 2500.0, 41.0)
        task = bar.display._progress.tasks[0]
        assert task.completed == 60_000 and sum(sample.completed for sample in task._progress) == 0
        bar.update(70_000, 2500.0, 45.0)
        assert task.completed == 70_000 and sum(sample.completed for sample in task._progress) == 10_000


def test_grid_progress_off_a_terminal_logs_plain_lines():
    """Piped to a log, the grid drew its bars only at the end, with its end lines wrapped at 80 columns and
    no line at a cell's start: off a terminal each cell's start and end are plain lines, whole."""
    lines: list[str] = []
    end = "done ppo on CartPole-v1: final return 500.0 [500.0, 500.0], compile 1.6s, run 0.3s, 60,285 env steps/s " * 2
    with GridProgress(True, cells=1, total=100, log=lines.append, terminal=False) as bar:
        bar.start("a", "ppo on CartPole-v1", 100, "1 seed(s) x 100 env steps")
        bar.advance("a", 50, "return 9.0")
        bar.finish("a", 100, end)
    assert lines == ["[1/1] ppo on CartPole-v1: 1 seed(s) x 100 env steps", end]


def test_a_return_from_an_older_evaluation_says_its_step():
    lines: list[str] = []
    with RunProgress(True, total=100_000, label="ppo", log=lines.append, terminal=False) as bar:
        bar.update(0, 0.0, 20.0, 0)
        bar.update(50_000, 1000.0, 20.0, 0)
        bar.update(100_000, 1000.0, 80.0, 100_000)
    assert [line.split(", ")[-1] for line in lines] == ["return 20.0  - steps/s", "return 20.0 (at 0 steps)  1,000 steps/s",
                                                         "return 80.0  1,000 steps/s"]


def test_the_first_update_shows_no_speed_yet():
    """The first evaluation (before any training) said "0 steps/s"."""
    lines: list[str] = []
    with RunProgress(True, total=1000, label="ppo", log=lines.append, terminal=False) as bar:
        bar.update(0, 0.0, 20.0)
    assert lines[0].endswith("return 20.0  - steps/s")


def test_a_terminal_rich_does_not_redraw_gets_the_plain_lines_and_returns_keep_their_digits(monkeypatch):
    """TERM=dumb (an Emacs shell buffer) is a terminal on which rich draws the bar only at the end: nothing showed
    between the compile line and the last bar. And FrozenLake's 0.25 was shown as "return 0.2"."""
    import rich.console

    class DumbTerminal:
        is_terminal, is_interactive = True, False

    monkeypatch.setattr(rich.console, "Console", DumbTerminal)
    lines: list[str] = []
    with RunProgress(True, total=1000, label="q-learning FrozenLake-v1", log=lines.append) as bar:
        bar.update(500, 2500.0, 0.25)
        bar.update(1000, 2400.0, 372.55)
    assert lines[0].endswith("return 0.25  2,500 steps/s") and lines[1].endswith("return 372.6  2,400 steps/s")
    grid_lines: list[str] = []
    assert GridProgress(True, cells=1, total=100, log=grid_lines.append).display.enabled is False


def test_the_progress_line_takes_the_seeds_mean_return_as_the_summary_does():
    """Seeds' float32 returns 388.7 and 165.8 have the float32 mean 277.25 exactly, which the progress line printed
    as 277.2 while the summary and learning curve (float64: 277.2500076) said 277.3."""
    import numpy as np

    from rl_zoo import runs

    returns = np.array([388.7, 165.8], np.float32)
    assert float(np.mean(returns)) == 277.25  # the float32 mean the runners took
    assert runs.run_return_text(runs.mean_return(returns)) == "277.3" == runs.run_return_text(float(np.mean(returns.astype(float))))
