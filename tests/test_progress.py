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
    with GridProgress(True, cells=2, total=300, log=lines.append) as bar:
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
    with RunProgress(True, total=1000, label="ppo CartPole-v1") as bar:
        bar.update(1000, 2500.0, 41.25)
    out = capsys.readouterr().out
    assert "ppo CartPole-v1" in out and "1,000/1,000 steps" in out and "2,500 steps/s" in out and "return 41.2" in out
    with RunProgress(False, total=1000, label="quiet") as bar:
        bar.update(500, 1.0, 2.0)
    assert capsys.readouterr().out == ""
