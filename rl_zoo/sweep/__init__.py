"""Hyperparameter sweeps as compiled programs: ``rl-zoo sweep``.

    rl-zoo sweep --algo ppo --env CartPole-v1 --grid learning_rate=1e-4,3e-4,1e-3,3e-3 \\
                 --grid clip_eps=0.1,0.2,0.3 --seeds 8
    rl-zoo sweep --algo dqn --env CartPole-v1 --sample 16 --range learning_rate=1e-4:3e-3:log \\
                 --range gamma=0.95:0.999 --seeds 5
    rl-zoo sweep --algo ppo --env CartPole-v1 --env-kwargs gravity=12.0 --grid learning_rate=3e-4,1e-3
    rl-zoo sweep --algo ppo --env CartPole-v1 --grid env.length=0.25,0.5,1 --grid learning_rate=3e-4,1e-3

``--env-kwargs`` makes the env with its options as ``rl-zoo train`` does (``SweepSpec.env_kwargs``, in sweep.json);
``--grid env.length=0.25,0.5,1`` sweeps a float field of the env's params in the same program (`rl_zoo.sweep.env_fields`).

The numeric fields of a Config (the rule in `rl_zoo.config`: ``float`` fields) become arrays, so all
configs x seeds that differ only in them train vmapped in ONE compiled program
(`rl_zoo.sweep.runner`); swept static fields (sizes, counts, switches) are refused unless
``--static-groups``, which compiles one program per combination of their values (said in the output
and the report). Every config is checked before anything compiles (`rl_zoo.sweep.spec`).

``--successive-halving ETA`` (`rl_zoo.sweep.halving`) trains the configs in rungs, keeping the best
1/ETA at each and continuing them from their exact train state. ``--record kl`` keeps a scalar field
of every update's ``Metrics`` per run (``groups/group_<i>.npz``; the stability experiment uses it).

The output folder holds ``sweep.json`` (the sweep as given), ``groups/group_<i>.npz`` (each compiled
group's evaluations, written as soon as it finishes; ``groups/halving/``: each finished rung), the
tables ``runs.csv`` / ``configs.csv`` / ``curves.csv`` (and ``halving.csv``), the figures,
``report.md`` and ``best.yaml`` (`rl_zoo.sweep.report`). Re-running the same command into the same
folder trains only the groups (rungs) not finished yet; a finished sweep trains and compiles nothing.
The same command after its base config changed (e.g. new tuned values in ``rl_zoo/hyperparams``) is a
different sweep: refused there, like any other, unless ``--rerun``. Runs whose parameters become
NaN/Inf are marked non-finite and their configs cannot be the best (`rl_zoo.sweep.report`).

Layout: ``spec.py`` (fields, values, groups, checks), ``env_fields.py`` (the env's params swept: their checks),
``runner.py`` (one group, one program), ``halving.py`` (rungs), ``folder.py`` (whether the output folder holds this
sweep; its sweep.json), ``report.py`` (tables, best config, report.md), ``figures.py``.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

import numpy as np

from rl_zoo import runs
from rl_zoo.config import (ConfigError, apply_overrides, check_bools, check_env_kwargs, check_int_args, check_overrides,
                           check_seed_range, check_types)
from rl_zoo.lock import FolderLock
from rl_zoo.sweep.folder import RESULT_FILES, check_folder, check_segments, claim_folder, group_segments, read_group
from rl_zoo.sweep.spec import (GridField, Group, Point, RangeField, SweepSpec, build_points, check_static, group_points,
                              is_env_field, parse_grid, parse_range)

if TYPE_CHECKING:  # report and figures import scipy and matplotlib, halving and runner JAX: loaded when a sweep
    # plans, runs or writes, not for every `rl-zoo` command (the CLI's parser imports rl_zoo.sweep.command)
    from rl_zoo.sweep import halving, report
    from rl_zoo.sweep.runner import GroupResult

__all__ = ["SweepSpec", "GridField", "RangeField", "Point", "Group", "SweepPlan", "CheckedSweep", "SweepResult", "make_spec",
           "plan_sweep", "check_sweep", "run_sweep", "parse_grid", "parse_range", "check_threshold", "check_folder",
           "check_segments", "group_segments", "RESULT_FILES"]


@dataclass(frozen=True)
class SweepPlan:
    spec: SweepSpec
    module: Any
    base: Any  # the resolved config every point starts from (defaults <- preset <- tuned <- --set)
    default: Any  # the algorithm's defaults with its name's presets (what best.yaml is a difference from)
    points: tuple[Point, ...]
    groups: tuple[Group, ...]
    tuned: Any = None  # what `rl-zoo train` resolves with no --set (defaults <- preset <- tuned); best.yaml's --set pairs go on it


@dataclass(frozen=True)
class SweepResult:
    out: Path
    plan: SweepPlan
    results: tuple[GroupResult, ...]
    summaries: tuple[report.ConfigSummary, ...]
    best: report.ConfigSummary | None  # None: only the env's params swept, or no setting finite on every env value
    trained_groups: int  # groups trained by this call (0: everything was already there)
    rungs: tuple[halving.RungRecord, ...] = ()  # successive halving: what each rung ranked, kept and dropped


def make_spec(algo: str, env_id: str, grid: list[str] = (), ranges: list[str] = (), samples: int = 0, sample_seed: int = 0,
              seeds: int = 8, seed: int = 0, total_steps: int | None = None, overrides: dict | None = None,
              num_evals: int = 10, eval_episodes: int | None = None, static_groups: bool = False, halving_eta: int = 0,
              halving_rungs: int = 0, record: list[str] = (), env_kwargs: dict | None = None) -> SweepSpec:
    """A `SweepSpec` from command-line strings (``--grid NAME=V1,V2``, ``--range NAME=LOW:HIGH[:log]``):
    ``grid``, ``ranges`` and ``record`` are lists of them (one string is taken as a list of one);
    ``env_kwargs``: the env's options, ``--env-kwargs`` parsed (``rl_zoo.config.parse_env_kwargs``), as
    ``rl_zoo.train.train`` takes them (whether the env takes them: `check_sweep`). ``eval_episodes`` None: the
    env's own count (``envs.registry.default_eval_episodes``: 10, or 1,000 for Blackjack-v1)."""
    from rl_zoo import algos

    grid, ranges, record = ([x] if isinstance(x, str) else x for x in (grid, ranges, record))  # not one per character

    module, preset = algos.get(algo)
    config = apply_overrides(module.Config(), preset)
    seeds, seed, total_steps, num_evals, eval_episodes, samples, sample_seed, halving_eta, halving_rungs = check_int_args(
        {"--seeds": seeds, "--seed": seed, "--total-steps": total_steps, "--evals": num_evals, "--eval-episodes": eval_episodes,
         "--sample": samples, "--sample-seed": sample_seed, "--successive-halving": halving_eta, "--rungs": halving_rungs})
    check_bools({"static_groups": static_groups})
    overrides = check_overrides(overrides)
    env_kwargs = check_env_kwargs(env_kwargs, "--env-kwargs")
    for name, value in (("--seeds", seeds), ("--evals", num_evals), ("--eval-episodes", eval_episodes)):
        if value is not None and value < 1:
            raise ConfigError(f"{name} = {value} is invalid: must be at least 1")
    if eval_episodes is None:  # the env's own count (Blackjack's one-draw returns need 1,000), else 10
        from envs.registry import default_eval_episodes

        eval_episodes = default_eval_episodes(env_id, "jax")
    if samples < 0:
        raise ConfigError(f"--sample = {samples} is invalid: must be >= 0")
    check_seed_range(seed, seeds)
    if not 0 <= sample_seed <= 2**32 - 1:  # numpy's generator, which draws the configs, takes no other
        raise ConfigError(f"--sample-seed = {sample_seed} is invalid: must be in 0 .. {2**32 - 1:,}")
    return SweepSpec(algo=algo, env_id=env_id, grid=tuple(parse_grid(g, config, algo) for g in grid),
                     ranges=tuple(parse_range(r, config, algo) for r in ranges), samples=samples, sample_seed=sample_seed,
                     seeds=seeds, seed=seed, total_steps=total_steps, overrides=tuple(sorted(overrides.items(), key=lambda kv: str(kv[0]))),
                     num_evals=num_evals, eval_episodes=eval_episodes, static_groups=static_groups,
                     halving_eta=halving_eta, halving_rungs=halving_rungs, record=tuple(record), env_kwargs=env_kwargs)


def plan_sweep(spec: SweepSpec) -> SweepPlan:
    """Resolve and check every config and group (unknown field, value outside its rule, static field
    without ``static_groups``: a ``ConfigError`` naming it), before anything compiles."""
    from rl_zoo import algos
    from rl_zoo.driver.spec import check_algorithm_name, check_driver_fields
    from rl_zoo.sweep import halving
    from rl_zoo.train import resolve_config

    module, base = resolve_config(spec.algo, spec.env_id, dict(spec.overrides), spec.total_steps)
    _, preset = algos.get(spec.algo)
    default = apply_overrides(module.Config(), preset)

    def validate_one(values: dict):
        config = apply_overrides(base, {k: v for k, v in values.items() if not is_env_field(k)}, spec.algo)  # env params: check_sweep
        check_types(config)
        config.validate()
        check_algorithm_name(spec.algo, config)
        return config

    check_driver_fields(spec.algo, {name: None for name in spec.config_fields}, "swept field")

    check_static(spec, base)  # the structural refusal first, then every config's values
    points = build_points(spec, base, validate_one)
    groups = tuple(group_points(points, spec, base))
    env_ranges = [r.name for r in spec.ranges if is_env_field(r.name)]
    if env_ranges and len(env_ranges) < len(spec.ranges):
        raise ConfigError(f"--range {', '.join(env_ranges)} with --range of config fields: --sample draws every range "
                          f"together, so each sampled config would meet one env value of its own, and the best would be the "
                          f"one that drew the easiest env. Give the env's values with --grid {env_ranges[0]}=V1,V2,... "
                          f"(crossed with every sampled config), or sample the env's params alone")
    if spec.halving_rungs and not spec.halving_eta:
        raise ConfigError("--rungs needs --successive-halving ETA")
    if spec.halving_eta or spec.halving_rungs:
        if spec.env_fields:
            raise ConfigError(f"--successive-halving ranks configs on one env; this sweep also sweeps "
                              f"{', '.join(spec.env_fields)}, whose values would be dropped as if they were worse configs: "
                              f"sweep without halving, or run one halving sweep per value (--env-kwargs NAME=VALUE)")
        if len(groups) > 1:
            raise ConfigError(f"--successive-halving ranks every config at equal budgets inside one compiled program; with "
                              f"--static-groups this sweep has {len(groups)} programs: run one halving sweep per value of the "
                              f"static field(s) (--set NAME=VALUE), or sweep only numeric fields")
        halving.check_halving(spec.halving_eta, spec.halving_rungs, len(points))
    _, tuned = resolve_config(spec.algo, spec.env_id)
    return SweepPlan(spec, module, base, default, tuple(points), groups, tuned)


@dataclass(frozen=True)
class CheckedSweep:
    """A sweep checked against its env (what `check_sweep` returns; ``--dry-run`` prints it)."""

    plan: SweepPlan
    env: Any
    env_params: Any
    halving: tuple | None = None  # successive halving: ``halving.plan_rungs``'s (rungs, segments' updates, env steps per update)


def check_sweep(spec: SweepSpec) -> CheckedSweep:
    """Everything a sweep checks before it compiles or writes: the env (a JAX port, made with the sweep's
    options, which it may refuse in its own words, the algorithm's action space), then `plan_sweep` (the
    configs), then ``--record`` names and the halving schedule.
    ``run_sweep`` and ``rl-zoo sweep --dry-run`` both call it. The env comes first, as in ``rl-zoo
    train``: DQN on Pendulum with a small budget was told about learning_starts."""
    import envs
    from rl_zoo import algos
    from rl_zoo.driver.memory import check_memory
    from rl_zoo.driver.spec import check_algorithm_env, make_env
    from rl_zoo.sweep import halving
    from rl_zoo.sweep.env_fields import check_env_fields
    from rl_zoo.sweep.runner import check_record

    module, _ = algos.get(spec.algo)
    if envs.backend_of(spec.env_id) != "jax":
        from envs.registry import is_gymnasium_id

        if not is_gymnasium_id(spec.env_id):  # suggest the ports only (a sweep cannot take the others)
            import difflib

            close = difflib.get_close_matches(spec.env_id, envs.list(), n=3, cutoff=0.5)
            hint = f" Did you mean {', '.join(close)}?" if close else ""
            raise ConfigError(f"unknown environment id {spec.env_id!r}.{hint} Sweeps run on the JAX ports: "
                              f"{', '.join(envs.list())}")
        raise ConfigError(f"sweeps vmap over configs and seeds and need a JAX env; {spec.env_id} runs through the "
                          f"gymnasium adapter (rl-zoo envs lists the JAX ports)")
    env, env_params = make_env(spec.env_id, "jax", spec.env_kwargs)  # a refused option: ConfigError, the env's words
    check_algorithm_env(module, env, env_params, spec.env_kwargs)
    if drawn := env.drawn_options():  # FrozenLake's map_name=null
        given = runs.env_kwargs_args(spec.env_kwargs).strip()
        extra = runs.env_kwargs_pairs(drawn)
        raise ConfigError(f"{given} draws part of the env at random at each make: a sweep resumed, or its best config "
                          f"trained, would play another; give it as an option, such as this draw's --env-kwargs {extra}")
    plan = plan_sweep(spec)
    check_env_fields(spec, plan, env, env_params)
    check_record(plan.module, plan.base, env, env_params, spec.record)
    for group in plan.groups:  # every config of a group and its seeds train at once (XLA's CPU aborts past memory)
        runs_at_once = len(group.points) * spec.seeds
        check_memory(module.make_agent(group.points[0].config, env, env_params), env, env_params, runs_at_once,
                     spec.eval_episodes, runs=f"runs ({len(group.points)} config(s) x {spec.seeds:,} seed(s))",
                     fewer="configs, --seeds or --eval-episodes", what="this sweep")
    rungs = halving.plan_rungs(plan.module, plan.groups[0], env, env_params, spec) if spec.halving_eta else None
    return CheckedSweep(plan, env, env_params, rungs)


def run_sweep(spec: SweepSpec, out: str | Path, *, rerun: bool = False, log: Callable[[str], None] = print,
              command: str | None = None, threshold: float | None = None) -> SweepResult:
    """Check (`check_sweep`), train every group not finished yet in ``out``, then write the tables, figures and report.
    The folder is held (``rl_zoo.lock.FolderLock``) from the claim to the report: a second sweep into it
    is refused (``FolderInUse``) at once, before it writes anything."""
    from rl_zoo.sweep import halving
    from rl_zoo.sweep.runner import result_arrays, run_group

    check_bools({"rerun": rerun})  # "no" is truthy: another sweep's results in the folder were replaced
    check_threshold(threshold)
    checked = check_sweep(spec)
    plan, env, env_params = checked.plan, checked.env, checked.env_params
    if spec.halving_eta:
        rungs, seg_plan, per_update = checked.halving
    out = Path(out)
    runs.refuse_other_kind(out, "sweep", "a sweep")  # a grid's or a run's folder: before the lock
    with FolderLock(out, what="sweep folder"):  # another sweep into it (a --rerun) would mix the two's results
        segments = group_segments(plan, env, env_params, spec.num_evals)
        claim_folder(out, spec, plan, rerun, env_params, command, segments)
        check_segments(out, plan, segments, spec.num_evals, rerun)  # a folder of this sweep with results trained otherwise
        if threshold is None:
            threshold = _default_threshold(spec.env_id)
            if spec.env_fields and threshold is not None:  # the id's threshold may mean nothing on a changed env
                log(f"note: the threshold for \"reached\" is {spec.env_id}'s, {threshold:g}, measured on its default "
                    f"params: give --threshold for what a return means as {' and '.join(spec.env_fields)} "
                    f"change{'s' if len(spec.env_fields) == 1 else ''}")
            elif spec.env_kwargs and threshold is not None:
                log(f"note: the threshold for \"reached\" is {spec.env_id}'s, {threshold:g}, measured without "
                    f"--env-kwargs: give --threshold for what a return means on {spec.env_label}")
        log(f"sweep {spec.algo} on {spec.env_label}: {runs.plural(len(plan.points), 'config')} x {runs.plural(spec.seeds, 'seed')} in {len(plan.groups)} "
            f"compiled group(s); traced (numeric) fields: {', '.join(plan.groups[0].traced) or 'none'}"
            + (f"; static fields swept, one program each: {', '.join(n for n, _ in plan.groups[0].static)}" if plan.groups[0].static else ""))
        if spec.halving_eta:
            log(f"successive halving, eta {spec.halving_eta}: " + "; ".join(halving.describe(rungs, seg_plan, per_update)))
        results, trained, records = [], 0, []
        for group in plan.groups:
            path = out / "groups" / f"group_{group.index}.npz"
            where = ", ".join(f"{k}={v}" for k, v in group.static) or "all configs"
            if path.exists() and not rerun:
                log(f"group {group.index} ({where}): finished earlier, read from {path}")
                results.append(read_group(path, len(group.points), spec.seeds))
                records = halving.load_records(out / "groups" / "halving", finished=path) if spec.halving_eta else []
                continue
            log(f"group {group.index} ({where}): {len(group.points)} config(s)")
            if spec.halving_eta:
                result, records = halving.run_halving(plan.module, group, env, env_params, spec, out / "groups" / "halving", log)
            else:
                result = run_group(plan.module, group, env, env_params, spec.seeds, spec.seed, spec.num_evals, spec.eval_episodes,
                                   log, spec.record)
            buf = io.BytesIO()
            np.savez(buf, **result_arrays(result))
            runs.atomic_write_bytes(path, buf.getvalue())
            results.append(result)
            trained += 1
        return _write_outputs(out, plan, results, threshold, command, trained, tuple(records))


def _write_outputs(out: Path, plan: SweepPlan, results: list[GroupResult], threshold, command, trained: int,
                   rungs: tuple[halving.RungRecord, ...]) -> SweepResult:
    from rl_zoo.driver.guard import NonFiniteError
    from rl_zoo.sweep import figures, halving, report

    spec = plan.spec
    summaries = report.summarize(list(plan.groups), results, threshold)
    report.write_tables(out, list(plan.groups), results, summaries, spec)
    if rungs:
        runs.atomic_write_text(out / "halving.csv", report.csv_text(halving.table_rows(list(rungs), plan.groups[0], len(rungs))))
    try:
        ranked, chosen = report.choose(summaries, spec)
    except NonFiniteError:  # no config kept finite parameters: a best.yaml or report.md of replaced results goes
        for stale in ("best.yaml", "report.md"):
            (out / stale).unlink(missing_ok=True)
        raise
    if chosen is None:  # only env params swept, or no setting finite on every env value
        (out / "best.yaml").unlink(missing_ok=True)
        yaml_block = ""
    else:
        yaml_block = report.best_yaml(spec, chosen.point.config, plan.default, plan.tuned)
        runs.atomic_write_text(out / "best.yaml", report.best_yaml_header(spec, summaries, len(ranked)) + yaml_block)
    by_point = {p.index: (r.env_steps[:r.evals_of(i)], curves[:, :r.evals_of(i)])
                for g, r in zip(plan.groups, results) for i, (p, curves) in enumerate(zip(g.points, r.returns))}
    listed = report.row_order(summaries, ranked)  # the report's order: the curves' legend lists them so
    figs = [figures.curves(out, spec, listed, [by_point[s.point.index][0] for s in listed],
                           [by_point[s.point.index][1] for s in listed]),
            figures.sensitivity(out, spec, summaries)]
    heat = figures.heatmap(out, spec, summaries)
    figs += [heat] if heat else []
    created = runs.read_json_file(out / "sweep.json")
    report.write_report(out, report.ReportInputs(
        spec, list(plan.groups), results, summaries, threshold, yaml_block, figs, command,
        halving.report_section(list(rungs), plan.groups[0], spec) if rungs else "",
        report.machine_of(created.get("versions")), getattr(plan.tuned, "total_timesteps", None), ranked, chosen))
    return SweepResult(out, plan, tuple(results), tuple(summaries), chosen, trained, rungs)


def check_threshold(threshold: float | None) -> None:
    """``--threshold``: a finite return, or ``None`` for the env's solved threshold (NaN marked nothing reached)."""
    if threshold is not None and not math.isfinite(threshold):
        raise ConfigError(f"--threshold = {threshold} is invalid: must be a finite return")


def _default_threshold(env_id: str) -> float | None:
    try:
        from rl_zoo.benchmark import threshold
    except ImportError:
        return None
    return threshold(env_id)
