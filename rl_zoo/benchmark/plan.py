"""Planning a grid: every name, budget and config checked, and each cell's fate decided (run, finished
before, cannot run, excluded) before anything compiles or is written."""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

from rl_zoo.benchmark.records import DEFAULT_POINTS, CellRecord, CellSpec, SpecFields, read_cell_record
from rl_zoo.benchmark.references import default_steps
from rl_zoo.config import check_seed_range, whole_number
from rl_zoo.seeds import REPORT_SEED

EXCLUDED = "excluded on the command line"
"""How a cell left out by ``--exclude`` begins its reason (the report names such cells by it)."""
DEFAULT_ALGOS = ("ppo", "ppo-kl", "trpo", "vpg", "dqn")
DEFAULT_ENVS = ("CartPole-v1", "Acrobot-v1", "Pendulum-v1")
DEFAULT_OUT = Path("runs") / "benchmark"


@dataclass
class Cell(SpecFields):
    """One (algorithm, env) pair of the grid and what happens to it: ``status`` "run", "done" (finished
    before with the same config, or now), "skipped" (cannot run, or excluded) or "failed", and why."""

    spec: CellSpec
    status: str
    reason: str = ""
    per_update: int = 0
    """Env steps per seed of one update of the resolved config (0: not known, a cell that does not run)."""

    @property
    def steps_run(self) -> int:
        """Env steps per seed the cell trains: ``total_steps`` rounded down to whole updates, as ``train`` runs
        them (a 5,000-step PPO cell of 256-step updates runs 4,864)."""
        return self.total_steps // self.per_update * self.per_update if self.per_update else self.total_steps

    @property
    def env_steps(self) -> int:
        """Env steps of all the cell's seeds (its progress bar's total)."""
        return self.seeds * self.steps_run

    def budget_text(self) -> str:
        """"2 seed(s) x 4,864 env steps (5,000 asked: whole updates of 256)", the asked budget said where it differs."""
        asked = f" ({self.total_steps:,} asked: whole updates of {self.per_update:,})" if self.steps_run != self.total_steps else ""
        return f"{self.seeds} seed(s) x {self.steps_run:,} env steps{asked}"

    def record(self, status: str | None = None, **fields) -> CellRecord:
        """The cell's ``cell.json`` record, with this status (default its own) and more fields."""
        return CellRecord(self.spec, status or self.status, fields.pop("reason", self.reason), **fields)


def parse_list(text: str | Sequence[str]) -> list[str]:
    """``"a,b, a"`` (or a sequence) -> ``["a", "b"]``: stripped, empty and repeated items dropped."""
    items = text.split(",") if isinstance(text, str) else list(text)
    out: list[str] = []
    for x in (i.strip() for i in items):
        if x and x not in out:
            out.append(x)
    return out


def parse_total_steps(text: str | int | dict | None, env_ids: Iterable[str]) -> dict[str, int]:
    """``None`` -> the per-env defaults; ``N`` -> N for every env; ``ENV=N,ENV=N`` -> per env (others
    keep their default)."""
    env_ids = list(env_ids)
    steps = {e: default_steps(e) for e in env_ids}
    if text is None:
        return steps
    if isinstance(text, dict):
        pairs = dict(text)
    elif isinstance(text, int) or "=" not in str(text):
        try:
            n = whole_number(text)
        except ValueError:
            raise ValueError(f"--total-steps expects N or ENV=N,ENV=N, got {text!r}") from None
        pairs = {e: n for e in env_ids}
    else:
        pairs = {}
        for part in str(text).split(","):
            if "=" not in part:
                raise ValueError(f"--total-steps expects N or ENV=N,ENV=N, got {text!r}")
            k, v = part.split("=", 1)
            try:
                n = whole_number(v)
            except ValueError:
                raise ValueError(f"--total-steps: {v.strip()!r} for {k.strip()} is not an integer") from None
            if k.strip() in pairs and pairs[k.strip()] != n:  # the last one was kept, unsaid
                raise ValueError(f"--total-steps gives {k.strip()} twice ({pairs[k.strip()]:,} and {n:,}): give it once")
            pairs[k.strip()] = n
    for k, v in pairs.items():
        if k not in steps:
            raise ValueError(f"--total-steps names {k!r}, which is not in the grid's envs ({', '.join(env_ids)})")
        if v < 1:
            raise ValueError(f"--total-steps for {k} = {v} is invalid: must be at least 1")
        steps[k] = int(v)
    return steps


def _split_set(pair: str) -> tuple[str, str, str]:
    """``(algorithm or "" for every one, key, value)`` of a ``--set [ALGO:]KEY=VALUE``."""
    target, _, rest = pair.partition(":") if ":" in pair.split("=", 1)[0] else ("", "", pair)
    if "=" not in rest:
        raise ValueError(f"--set expects [ALGO:]KEY=VALUE, got {pair!r}")
    key, value = (s.strip() for s in rest.split("=", 1))
    return target, key, value


def parse_sets(pairs: Iterable[str], algo_names: Iterable[str]) -> dict[str, dict[str, str]]:
    """``ALGO:KEY=VALUE`` (one algorithm) or ``KEY=VALUE`` (every algorithm of the grid) -> per-algo overrides.
    An algorithm's own value beats the grid-wide one, in either order; a key given twice for the same algorithms
    is refused (the last one won, unsaid, as ``rl-zoo train --set`` refuses)."""
    algo_names = list(algo_names)
    out: dict[str, dict[str, str]] = {a: {} for a in algo_names}
    given: dict[tuple[str, str], str] = {}  # (algorithm or "", key) -> the pair that set it
    for pair in pairs:
        target, key, value = _split_set(pair)
        if key == "total_timesteps":  # every cell runs its env's budget: --total-steps sets it, and the two would clash
            raise ValueError(f"--set {pair!r}: a grid sets each env's budget with --total-steps N or ENV=N,ENV=N, "
                             f"not total_timesteps")
        if target and target not in out:
            raise ValueError(f"--set {pair!r} names algorithm {target!r}, which is not in the grid ({', '.join(algo_names)})")
        if (earlier := given.get((target, key))) is not None:
            raise ValueError(f"--set {key} is given twice{f' for {target}' if target else ''} ({earlier!r} and {pair!r}): "
                             f"give it once")
        given[target, key] = pair
        for a in [target] if target else [a for a in algo_names if (a, key) not in given]:
            out[a][key] = value
    return out


def join_total_steps(given: list[str] | str | None) -> str | None:
    """``--total-steps`` given more than once: its ``ENV=N`` parts joined (``parse_total_steps`` refuses an env given
    twice); an ``N`` for every env beside another is refused (the last one replaced the others, unsaid)."""
    if given is None or isinstance(given, str):
        return given
    if len(given) > 1 and any("=" not in g for g in given):
        raise ValueError(f"--total-steps is given {len(given)} times ({', '.join(given)}): give N (every env) once, "
                         f"or ENV=N for each env")
    return ",".join(given) if given else None


def refuse_grid_wide_sets_some_lack(pairs: Iterable[str], modules: dict) -> None:
    """A grid-wide ``--set KEY=VALUE`` whose KEY some of the grid's algorithms have and others lack is refused in one
    line naming both (it was one "unknown config field" line per cell of the others, with every field listed).
    ``modules``: algorithm name -> its module (with ``Config``). A KEY no algorithm has is left to each cell's own
    "unknown config field (did you mean ...)"."""
    for pair in pairs:
        target, key, _ = _split_set(pair)  # parse_sets has refused a malformed one
        if target:
            continue
        has = [a for a, m in modules.items() if key in {f.name for f in dataclasses.fields(m.Config)}]
        lack = [a for a in modules if a not in has]
        if has and lack:
            raise ValueError(f"--set {pair!r} sets every algorithm of the grid, and {', '.join(lack)} "
                             f"{'has' if len(lack) == 1 else 'have'} no config field {key!r}: name the algorithms "
                             f"that take it ({' '.join(f'--set {a}:{pair}' for a in has)})")


def parse_exclude(text: str | Iterable[str], algo_names: list[str], env_names: list[str]) -> set[tuple[str, str]]:
    """``ALGO:ENV,ALGO:ENV`` -> the (algo, env) pairs to leave out; each must name a cell of the grid."""
    excluded = set()
    for pair in parse_list(text):
        a, sep, e = pair.partition(":")
        if not sep or a not in algo_names or e not in env_names:
            raise ValueError(f"--exclude expects ALGO:ENV with ALGO in {','.join(algo_names)} and ENV in "
                             f"{','.join(env_names)}, got {pair!r}")
        excluded.add((a, e))
    return excluded


def previous_record(out: Path, spec: CellSpec) -> CellRecord | None:
    """The cell's record in ``out`` from an earlier command (None if there is none)."""
    path = Path(out) / "cells" / spec.name / "cell.json"
    return read_cell_record(path) if path.exists() else None


def plan_grid(
    algos: str | Sequence[str] = DEFAULT_ALGOS,
    env_ids: str | Sequence[str] = DEFAULT_ENVS,
    *,
    seeds: int = 10,
    seed: int = REPORT_SEED,
    total_steps: str | int | dict | None = None,
    out: str | os.PathLike = DEFAULT_OUT,
    points: int = DEFAULT_POINTS,
    eval_episodes: int | None = None,
    backend: str | None = None,
    sets: Iterable[str] = (),
    exclude: str | Iterable[str] = (),
    rerun: bool = False,
) -> list[Cell]:
    """Check every name and config and decide, before anything compiles, what each cell does.

    ``exclude``: ``ALGO:ENV`` pairs to leave out (listed as skipped, "excluded"). ``eval_episodes`` None: each
    env's own count (``envs.registry.default_eval_episodes``: 10, or 1,000 for Blackjack-v1). Raises ``ValueError``
    naming every unknown algorithm / env (with the known ones), any config a cell would refuse, and
    any cell in ``out`` finished with a different config (unless ``rerun``). Writes nothing.
    """
    import envs
    from envs.registry import default_eval_episodes

    from rl_zoo import algos as registry

    refuse_other_folder(Path(out))
    algo_names, env_names = parse_list(algos), parse_list(env_ids)
    if not algo_names:
        raise ValueError(f"no algorithms given; known algorithms: {', '.join(registry.names())}")
    if not env_names:
        raise ValueError("no environments given (rl-zoo envs lists them)")
    if seeds < 1:
        raise ValueError(f"--seeds = {seeds} is invalid: must be at least 1")
    check_seed_range(seed, seeds)
    for flag, value in (("--points", points), ("--eval-episodes", eval_episodes)):
        if value is not None and value < 1:
            raise ValueError(f"{flag} = {value} is invalid: must be at least 1")
    errors, modules, made = [], {}, {}
    for a in algo_names:
        try:
            modules[a] = registry.get(a)[0]
        except ValueError as e:
            errors.append(str(e))
    from envs.gymnasium_adapter import HostEnvError

    for e in env_names:
        try:
            made[e] = envs.make(e, backend=backend)
        except (ValueError, HostEnvError) as ex:  # HostEnvError: an env of one's own raised in its first check
            errors.append(str(ex))
    if errors:
        raise ValueError("\n".join(errors))
    steps = parse_total_steps(total_steps, env_names)
    overrides = parse_sets(sets, algo_names)
    refuse_grid_wide_sets_some_lack(sets, modules)
    excluded = parse_exclude(exclude, algo_names, env_names)

    cells: list[Cell] = []
    refused: dict[tuple[str, str], list[str]] = {}  # (algo, error) -> the envs whose cell it refuses
    for e in env_names:
        env, env_params = made[e]
        episodes = default_eval_episodes(e, backend) if eval_episodes is None else eval_episodes  # Blackjack: 1,000
        for a in algo_names:
            spec = CellSpec(a, e, total_steps=steps[e], seeds=seeds, seed=seed, points=points,
                            eval_episodes=episodes, backend=env.backend, overrides=overrides[a])
            cell, error = _plan_cell(spec, modules[a], env, env_params, (a, e) in excluded)
            if error:
                refused.setdefault((a, error), []).append(e)
            else:
                cells.append(cell)
    if refused:  # an error every env's cell gives (an unknown --set field) is said once, not once per env
        raise ValueError("\n".join(
            f"{a} on {'every env of the grid' if len(where) == len(env_names) > 1 else ', '.join(where)}: {error}"
            for (a, error), where in refused.items()))
    fewest = min(steps.values())
    if points > fewest:  # a grid of one point per env step at most (more allocated gigabytes after training)
        raise ValueError(f"--points = {points:,} is invalid: at most the smallest env budget, {fewest:,} env steps "
                         f"({min(steps, key=steps.get)}); the grid's points are env steps")
    _skip_finished(Path(out), cells, rerun)
    return cells


def refuse_other_folder(out: Path) -> None:
    """An ``--out`` that holds a sweep or a run directory (not a grid) is refused: the grid's report.md
    and tables would replace theirs."""
    from rl_zoo.runs import refuse_other_kind

    refuse_other_kind(out, "benchmark", "a grid")


def _plan_cell(spec: CellSpec, module, env, env_params, excluded: bool) -> tuple[Cell | None, str]:
    """The cell of ``spec``: excluded, skipped by the algorithm's own ``check_env``, or to run with its
    resolved config; or the config error that refuses the whole grid."""
    from rl_zoo.train import resolve_config

    if excluded:
        return Cell(spec, "skipped", f"{EXCLUDED} (--exclude {spec.algo}:{spec.env})"), ""
    check = getattr(module, "check_env", None)
    try:
        if check is not None:
            check(env, env_params)
    except ValueError as ex:
        return Cell(spec, "skipped", str(ex)), ""
    try:
        _, config = resolve_config(spec.algo, spec.env, spec.overrides, spec.total_steps)
    except ValueError as ex:
        return None, str(ex)
    return Cell(spec.with_config(dataclasses.asdict(config)), "run", per_update=getattr(config, "env_steps_per_update", 0)), ""


def _skip_finished(out: Path, cells: list[Cell], rerun: bool) -> None:
    """Cells finished before with the same key are skipped; with another key they are refused (unless ``rerun``),
    and so is an interrupted cell whose run kept a checkpoint (the same config resumes it; another one started it
    over from step 0 without a word)."""
    conflicts = []
    for cell in cells:
        if cell.status != "run":
            continue
        previous = previous_record(out, cell.spec)
        if previous is None or rerun:
            continue
        if previous.status == "done":
            if previous.spec.key == cell.spec.key:
                cell.status, cell.reason = "done", "finished before with the same config: skipped"
            else:
                conflicts.append(f"{cell.algo} on {cell.env}: {cell.spec.changes_from(previous.spec)}")
        elif (previous.status in ("running", "skipped") and previous.spec.identity() != cell.spec.identity()
              and resumable_run(out / "cells" / cell.spec.name / "run")):
            conflicts.append(f"{cell.algo} on {cell.env} (interrupted, its run kept to resume with its own config): "
                             f"{cell.spec.changes_from(previous.spec)}")
    if conflicts:
        interrupted = any("(interrupted, " in c for c in conflicts)
        raise ValueError(
            f"{out} holds {'finished or interrupted' if interrupted else 'finished'} cells with a different config than "
            "this command:\n  " + "\n  ".join(conflicts)
            + "\nUse another --out, or --rerun to run them again and replace their results"
            + (" (with --algos/--envs naming only these cells, the others stay)." if interrupted else ".")
        )


def resumable_run(run_dir: Path) -> bool:
    """Whether ``run_dir`` holds a run with an intact checkpoint: what a cell of the same config resumes from."""
    from rl_zoo import checkpoint

    return (run_dir / "config.json").is_file() and any(checkpoint.verify(p) is None for p in checkpoint.list_checkpoints(run_dir))


def check_something_to_run(out: Path, cells: list[Cell]) -> None:
    """Refuse (``ValueError``) a grid none of whose cells runs or was finished, and whose folder keeps no
    finished cell's results either: every cell cannot run (DQN on Pendulum) or is excluded. It wrote a
    folder holding an empty report and ended with code 0."""
    if any(c.status in ("run", "done") for c in cells):
        return
    if any(getattr(previous_record(out, c.spec), "status", None) == "done" for c in cells):
        return  # excluded now, finished by an earlier command: kept and reported
    why = "; ".join(f"{c.algo} on {c.env}: {c.reason}" for c in cells) or "no cells"
    raise ValueError(f"nothing to run: every cell of the grid is skipped ({why}); choose algorithms and envs that "
                     "fit each other (`rl-zoo envs` lists each env's spaces)")


def plan_header(out, cells: list[Cell]) -> str:
    """The line above `format_plan`'s: where the grid writes and how many cells run, were finished, are skipped."""
    return (f"benchmark grid -> {out}: {sum(c.status == 'run' for c in cells)} cell(s) to run, "
            f"{sum(c.status == 'done' for c in cells)} finished before with the same config (skipped), "
            f"{sum(c.status == 'skipped' for c in cells)} skipped (cannot run, or excluded)")


def format_plan(cells: list[Cell]) -> str:
    """One line per cell: run (seeds x env steps), skipped as finished before, or skipped with the reason."""
    lines = []
    algo_width = max([12, *(len(c.algo) for c in cells)])  # double-q-learning pushed its line's columns out
    env_width = max([26, *(len(c.env) for c in cells)])
    for c in cells:
        what = {"run": f"run    {c.budget_text()}", "done": "skip   finished before, same config",
                "skipped": ("skip   " if c.reason.startswith(EXCLUDED) else "skip   cannot run: ") + c.reason}[c.status]
        lines.append(f"  {c.algo:<{algo_width}} {c.env:<{env_width}} {what}")
    return "\n".join(lines)
