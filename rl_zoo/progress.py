"""One progress display for the driver (``rl-zoo train``) and the benchmark grid (``rl-zoo benchmark``).

A :class:`Display` is a rich live area of bars, each ``label  [bar]  done/total  pct  elapsed  eta
info`` (at 80 columns the bar and then the end of ``info`` give way, never the times); disabled, it
draws nothing and hands its lines to ``log``. Two uses build on it:

* :class:`RunProgress`: one bar for one training run (env steps per seed, latest greedy return, env
  steps/s of all seeds together), ``update(steps, sps, ret)`` between segments; when the output is
  not a terminal (a log file, a pipe), one plain line per update instead, as rich would draw the bar
  only at the end;
* :class:`GridProgress`: a bar over the whole grid (env steps of every cell to run) and one bar per
  running cell, ``start`` / ``advance`` / ``finish`` per cell.

    with RunProgress(True, total=100_000, label="ppo CartPole-v1") as bar:
        bar.update(steps=8192, sps=41_000.0, ret=23.5)
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Callable


def compact(n: float) -> str:
    """Env steps in few characters: 950, 12.3k, 480k, 1.00M."""
    n = float(n)
    if n >= 999_500:  # rounded where the next unit starts: 999,936 read "1000k", 99,960 "100.0k"
        return f"{n / 1e6:.2f}M"
    if n >= 99_950:
        return f"{n / 1e3:.0f}k"
    if n >= 1e4:
        return f"{n / 1e3:.1f}k"
    return f"{n:,.0f}"


def remaining_s(elapsed: float, done: float, left: float) -> float | None:
    """Seconds left: the time per step so far (``elapsed`` over ``done`` steps) times the steps ``left``; ``None``
    before a step is done."""
    return elapsed * left / done if done > 0 else None


def clock(seconds: float) -> str:
    """``H:MM:SS``, as rich's time columns."""
    s = int(max(seconds, 0))
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}"


def _remaining_column(column: Any) -> Any:
    """The bars' ETA: the time per step since the bar's clock started (``Display.start_at``) times the steps left,
    worked out at each update (``Display.update``'s ``eta`` field: seconds left then, and the bar's elapsed time
    then) and counted down between updates. rich's ``TimeRemainingColumn`` took a speed from the updates of the
    last 30 s, needing two of them, and a bar updates once per segment: a run whose segments took over 30 s never
    showed an ETA, and others none before their second segment."""
    from rich.progress import ProgressColumn
    from rich.text import Text

    class Remaining(ProgressColumn):
        def render(self, task) -> Text:
            if task.finished:
                return Text(clock(0), style="progress.remaining")
            eta = task.fields.get("eta")
            if eta is None or task.elapsed is None:
                return Text("-:--:--", style="progress.remaining")
            seconds, at = eta
            return Text(clock(seconds - (task.elapsed - at)), style="progress.remaining")

    return Remaining(table_column=column)


class Display:
    """A rich live display of progress bars, or nothing (lines go to ``log``) when disabled."""

    def __init__(self, enabled: bool, log: Callable[[str], None] = print):
        self.enabled, self.log = enabled, log
        self._progress: Any = None

    def __enter__(self) -> "Display":
        if self.enabled:
            from rich.console import Console
            from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
            from rich.table import Column

            fixed = lambda width: Column(no_wrap=True, min_width=width)  # noqa: E731 (never cut)
            self._progress = Progress(
                TextColumn("{task.description}", table_column=Column(no_wrap=True, overflow="ellipsis")),
                BarColumn(bar_width=None, table_column=Column(ratio=1, min_width=4)),
                TextColumn("{task.fields[steps]}", table_column=fixed(10)),
                TextColumn("{task.percentage:>3.0f}%", table_column=fixed(4)),
                TimeElapsedColumn(table_column=fixed(7)), TextColumn("eta", table_column=fixed(3)),
                _remaining_column(fixed(7)),
                TextColumn("{task.fields[info]}", table_column=Column(no_wrap=True, overflow="ellipsis")), transient=False,
                console=Console(),  # its own, sized now (rich's shared one keeps the width of its first use)
            )
            self._progress.__enter__()
        return self

    def __exit__(self, *exc) -> bool:
        if self._progress is not None:
            self._progress.__exit__(*exc)
            self._progress = None
        return False

    def add(self, label: str, total: int, info: str = "") -> Any:
        """A new bar; its id (``None`` when disabled)."""
        if self._progress is None:
            return None
        total = max(int(total), 1)
        label_column = self._progress.columns[0].get_table_column()  # labels stay whole (up to 40 characters)
        label_column.min_width = max(label_column.min_width or 0, min(len(label), 40))
        return self._progress.add_task(label, total=total, info=info, steps=f"0/{compact(total)}", from_steps=0, eta=None)

    def update(self, bar: Any, completed: float | None = None, info: str | None = None, label: str | None = None) -> None:
        if self._progress is None or bar is None:
            return
        fields: dict[str, Any] = {}
        if completed is not None:
            task = self._progress.tasks[self._index(bar)]
            fields["completed"] = completed
            fields["steps"] = f"{compact(completed)}/{compact(task.total)}"
            eta = remaining_s(task.elapsed or 0.0, completed - task.fields.get("from_steps", 0), task.total - completed)
            if task.elapsed and eta is not None:  # as the plain lines say it; the bar's elapsed time then, to count down from
                fields["eta"] = (eta, task.elapsed)
        if info is not None:
            fields["info"] = info
        if label is not None:
            fields["description"] = label
        self._progress.update(bar, **fields)

    def start_at(self, bar: Any, completed: float) -> None:
        """Restart ``bar``'s clock at ``completed`` (a resumed run: its speed and ETA count only the
        steps made from here, not a jump from 0)."""
        if self._progress is not None and bar is not None:
            fields = {**self._progress.tasks[self._index(bar)].fields, "from_steps": completed, "eta": None}
            self._progress.reset(bar, completed=completed, **fields)  # (its fields replace the bar's: all of them)
            self.update(bar, completed=completed)

    def _index(self, bar: Any) -> int:
        return next(i for i, t in enumerate(self._progress.tasks) if t.id == bar)

    def remove(self, bar: Any) -> None:
        if self._progress is not None and bar is not None:
            self._progress.remove_task(bar)

    def print(self, line: str) -> None:
        """A line above the bars (or through ``log`` when disabled)."""
        if self._progress is not None:
            self._progress.console.print(line, highlight=False, markup=False)
        else:
            self.log(line)


class RunProgress:
    """The driver's bar: env steps per seed (of ``total`` per seed), latest mean greedy return, env
    steps/s of all seeds together (what the machine does). Enabled on an output that is not a terminal,
    one plain line per update through ``log``."""

    def __init__(self, enabled: bool, total: int, label: str, log: Callable[[str], None] = print, terminal: bool | None = None):
        if terminal is None and enabled:
            from rich.console import Console

            terminal = Console().is_interactive  # a terminal that rich redraws: TERM=dumb (an Emacs shell) is
            # a terminal it draws the bar on only at the end, where the plain lines belong
        self.plain = enabled and not terminal
        self.display, self.total, self.label, self.log = Display(enabled and not self.plain), total, label, log
        self._bar: Any = None
        self._start = time.perf_counter()
        self._base: int | None = None  # steps at the first update: a resumed run's ETA counts this process's steps

    def __enter__(self) -> "RunProgress":
        self.display.__enter__()
        self._bar = self.display.add(self.label, self.total, info="")
        self._start = time.perf_counter()
        return self

    def update(self, steps: int, sps: float, ret: float, ret_at: int | None = None) -> None:
        """``ret``: the mean greedy return of the latest evaluation, made at ``ret_at`` env steps per seed
        (``steps`` when None); an older one (a gymnasium run evaluates after some segments only) says its step."""
        # the return in the run summary's digits (FrozenLake's 0.25 was "0.2"); no speed yet at the first evaluation
        from rl_zoo.runs import run_return_text

        at = "" if ret_at is None or ret_at == steps else f" (at {compact(ret_at)} steps)"
        info = f"return {run_return_text(ret)}{at}  {f'{sps:,.0f}' if sps > 0 else '-'} steps/s"
        if self._base is None:
            self._base = steps
            self.display.start_at(self._bar, steps)
        if self.plain:
            elapsed = time.perf_counter() - self._start
            eta = remaining_s(elapsed, steps - self._base, self.total - steps)
            self.log(f"{self.label}: {compact(steps)}/{compact(self.total)} steps ({100 * steps / max(self.total, 1):.0f}%), "
                     f"{clock(elapsed)} elapsed, eta {'-' if eta is None else clock(eta)}, {info}")
        self.display.update(self._bar, completed=steps, info=info)

    def __exit__(self, *exc) -> bool:
        return self.display.__exit__(*exc)


@dataclass
class GridProgress:
    """The grid's bars: one over every cell to run (``total`` env steps, all seeds), one per running cell.

    ``start(name, label, total, plan)`` when a cell's process starts, ``advance(name, completed, info)``
    as its metrics come in, ``finish(name, line)`` when it ends (the line is printed above the bars,
    or logged when the display is off, as is each start). On an output that is not a terminal (a log
    file, a pipe) no bars: each cell's start and end as plain lines (rich drew the bars there only at
    the end, and wrapped the end lines at 80 columns).
    """

    enabled: bool
    cells: int
    total: int
    log: Callable[[str], None] = print
    terminal: bool | None = None  # None: ask rich whether the output is one
    display: Display = field(init=False)
    _grid: Any = field(init=False, default=None)
    _bars: dict[str, Any] = field(init=False, default_factory=dict)
    _current: dict[str, int] = field(init=False, default_factory=dict)  # running cell -> env steps done
    _clocked: set[str] = field(init=False, default_factory=set)  # cells whose bar's clock started (their first row)
    _finished_steps: int = field(init=False, default=0)
    _started: int = field(init=False, default=0)
    _finished: int = field(init=False, default=0)

    def __post_init__(self) -> None:
        if self.terminal is None and self.enabled:
            from rich.console import Console

            self.terminal = Console().is_interactive  # as RunProgress: TERM=dumb gets the plain lines
        self.display = Display(self.enabled and bool(self.terminal), self.log)

    def __enter__(self) -> "GridProgress":
        self.display.__enter__()
        self._grid = self.display.add(self._grid_label(), self.total)
        return self

    def __exit__(self, *exc) -> bool:
        return self.display.__exit__(*exc)

    def _grid_label(self) -> str:
        return f"grid: {self._finished}/{self.cells} cells done"

    def _refresh(self) -> None:
        self.display.update(self._grid, completed=self._finished_steps + sum(self._current.values()), label=self._grid_label())

    def start(self, name: str, label: str, total: int, plan: str = "") -> None:
        """Cell ``name`` started: a bar of ``total`` env steps; ``plan`` (e.g. "5 seed(s) x 100,000 env
        steps") is what the plain log line says about it."""
        self._started += 1
        self._current[name] = 0
        self._clocked.discard(name)  # (a name started again: its new bar's clock starts at its own first row)
        label = f"[{self._started}/{self.cells}] {label}"
        if self.display.enabled:
            self._bars[name] = self.display.add(label, total, info="starting / compiling")
        else:
            self.log(f"{label}: {plan or f'{total:,} env steps'}")

    def advance(self, name: str, completed: int, info: str = "") -> None:
        if name not in self._clocked:  # the cell's first row: its bar's clock (and ETA) starts here, after its
            self._clocked.add(name)  # process start and compile, as a run's bar starts at its first evaluation
            self.display.start_at(self._bars.get(name), completed)
        self._current[name] = completed
        self.display.update(self._bars.get(name), completed=completed, info=info)
        self._refresh()

    def finish(self, name: str, total: int, line: str) -> None:
        """The cell ended (done or failed): its ``total`` env steps count as done for the grid bar."""
        self._finished += 1
        self._current.pop(name, None)
        self._finished_steps += total
        self.display.remove(self._bars.pop(name, None))
        self._refresh()
        self.display.print(line)
