"""The report's sentences on how a benchmark's cells ran: seeds per cell (and whether they are held out), evaluation
episodes, devices, env backends, budgets and the rl_zoo commits that trained them, said once where the cells agree
and per cell where they differ (``per_cell``). `rl_zoo.benchmark.report` writes them into report.md's header."""

from __future__ import annotations

from typing import Any, Callable

from rl_zoo.benchmark.records import GridMeta


def shown(x) -> str:
    """``x`` as text, "?" when it is not known (None)."""
    return "?" if x is None else str(x)


_NO_COMMON = object()  # per_cell: no value most cells share (None is a value: "not recorded")


def per_cell(cells: list, key: str | Callable[[Any], Any]) -> tuple[Any, str]:
    """``(value, "")`` when every cell has the same value of ``key`` (a field of its spec, or a function of
    the cell; None: no cells), else ``(None, what each has)``: ``"1 for ppo on CartPole-v1, 2 for vpg on
    CartPole-v1"``, the value most cells share said once (``"1 for ppo on CartPole-v1, 5 for the other 12
    cells"``)."""
    value = key if callable(key) else (lambda c: getattr(c.spec, key))
    groups: dict[Any, list[str]] = {}
    for c in cells:
        groups.setdefault(value(c), []).append(f"{c.algo} on {c.env}")
    if len(groups) <= 1:
        return next(iter(groups), None), ""
    sizes = sorted((len(names) for names in groups.values()), reverse=True)
    common = max(groups, key=lambda v: len(groups[v])) if sizes[0] > max(1, sizes[1]) else _NO_COMMON
    parts = [f"{v} for {name}" for v, names in groups.items() if v is not common for name in names]
    if common is not _NO_COMMON:
        parts.append(f"{common} for the other {len(groups[common])} cells")
    return None, ", ".join(parts)


def _seed_range(first: int | None, n: int | None) -> str | None:
    """``"1000-1004"`` (``"1000"`` for one seed); None when the first seed is not known."""
    return None if first is None or n is None else str(first) if n == 1 else f"{first}-{first + n - 1}"


def _cell_devices(cell) -> int | None:
    result = (cell.record if hasattr(cell, "record") else cell).result
    return None if result is None else result.devices


def _cell_commit(cell) -> str | None:
    result = (cell.record if hasattr(cell, "record") else cell).result
    return None if result is None else result.commit


def _short_commit(commit) -> str:
    """A commit as 12 hex digits, its ``-dirty`` kept (edited files are another code); "not recorded" for None."""
    if not isinstance(commit, str):
        return "not recorded"
    return commit[:12] + ("-dirty" if commit.endswith("-dirty") else "")


def _commits_sentence(cells: list, meta: GridMeta) -> str:
    """Which rl_zoo commit trained the cells: a rerun of a finished grid skips its cells whatever the code is
    now, so the commit of the command that wrote the report (``benchmark.json``) need not be theirs."""
    commit, each = per_cell(cells, lambda c: _short_commit(_cell_commit(c)))
    now = _short_commit(meta.versions.get("rl-zoo-commit"))
    if each:
        return f" The rl_zoo commits that trained the cells differ ({each}); this report was written at {now}."
    if commit in (None, "not recorded"):  # no cells, or none recorded one (older cells, not a git checkout)
        return ""
    return (f" Every cell was trained at rl_zoo commit {commit}" + ("." if commit == now or now == "not recorded" else
                                                                  f"; this report was written at {now}, and a rerun "
                                                                  "skips finished cells."))


def settings_sentence(cells: list, meta: GridMeta) -> str:
    """Seeds per cell (and which), evaluation episodes per seed and the devices each cell's seeds were
    split over: one value when the cells agree (the command's when there are no cells), else the value of
    each cell (cells that different commands ran into one folder, or runs of another ``--jobs``, may differ)."""
    seeds, seeds_each = per_cell(cells, "seeds")
    used, used_each = per_cell(cells, lambda c: _seed_range(c.spec.seed, c.spec.seeds))
    episodes, episodes_each = per_cell(cells, "eval_episodes")
    devices, devices_each = per_cell(cells, _cell_devices)
    recorded = [c for c in cells if getattr(c.spec, "backend", "")]  # older cells recorded none
    backend, backend_each = per_cell(recorded, lambda c: _BACKENDS.get(c.spec.backend, c.spec.backend))
    uneven = [e for e in dict.fromkeys(c.env for c in cells)  # an env whose cells trained for different budgets
              if per_cell([c for c in cells if c.env == e], lambda c: getattr(c.spec, "total_steps", None))[1]]
    platform = str(meta.versions.get("jax_backend", "cpu")).upper()
    if not cells:
        used = _seed_range(meta.seed, meta.seeds)
    which = f"seeds {used_each}" if used_each else None if used is None else f"{'seed' if '-' not in used else 'seeds'} {used}"
    if seeds_each:
        trained = f"Seeds per cell differ: {seeds_each}" + (f" ({which})" if which else "") + "; each cell's seeds trained together"
    else:
        n = meta.seeds if seeds is None else seeds
        trained = f"{shown(n)} seed{'' if n == 1 else 's'} per cell" + (f" ({which})" if which else "") + ", trained together"
    if episodes_each:
        evaluation = f"greedy evaluation over a number of episodes per seed that differs per cell ({episodes_each})"
    else:
        evaluation = f"greedy evaluation over {shown(meta.eval_episodes if episodes is None else episodes)} episodes per seed"
    if devices_each:
        unknown = "; None: not recorded" if any(_cell_devices(c) is None for c in cells) else ""
        split = (f" The {platform} devices each cell's seeds were split over differ ({devices_each}{unknown}): "
                 "the same seeds on another device count round otherwise (README, Determinism).")
    elif devices is not None:
        split = f" Each cell's seeds were split over {devices} {platform} device{'' if devices == 1 else 's'}."
    else:
        split = ""
    envs_on = (f" Envs ran on {backend}." if backend else f" The env backends differ per cell ({backend_each})." if backend_each else "")
    budgets = (f" The cells of {', '.join(uneven)} trained for different budgets (env steps per seed; each curve's heading "
               "below gives them): their curves end at different steps, and the tables and the aggregate compare runs of "
               "unequal length." if uneven else "")
    return (f"{trained} (vmapped in one compiled program per cell); {evaluation} on separate env copies.{split}{envs_on}"
            f"{budgets}{_tuning_seeds_sentence(cells, meta)}" + _commits_sentence(cells, meta))


def _tuning_seeds_sentence(cells: list, meta: GridMeta) -> str:
    """" **Not held out: seeds 0, 1 are among those the tuned configs were chosen on ...**" when a cell's seeds (the
    command's, without cells) include tuning seeds (``rl_zoo.seeds``), else empty: a grid on seeds 0-9 read as a
    result beside README's "reported on seeds from 1000". Then " A weaker hold-out: ..." for each cell whose tuned
    config was changed after a result on some of its seeds (``report_seeds_seen_said``)."""
    from rl_zoo.seeds import report_seeds_seen_said, tuning_seeds_said

    pairs = sorted({(c.spec.seed, c.spec.seeds) for c in cells} if cells else {(meta.seed, meta.seeds)}, key=str)
    said = next((s for first, n in pairs if n is not None and (s := tuning_seeds_said(first, n))), None)
    weaker = [w for c in cells if getattr(c, "status", None) != "skipped"  # a CellSummary ran
              and (w := report_seeds_seen_said(c.spec.algo, c.spec.env, c.spec.seed, c.spec.seeds, c.spec.config))]
    return (f" **Not held out: {said}.**" if said else "") + "".join(f" {w[0].upper()}{w[1:]}." for w in weaker)


#: how the report names a cell's env backend
_BACKENDS = {"jax": "their JAX ports", "gymnasium": "gymnasium, through the adapter"}
