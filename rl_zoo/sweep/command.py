"""``rl-zoo sweep``: the command line of `rl_zoo.sweep` (added to the CLI by ``add_parser``)."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path


def add_parser(sub) -> None:
    from rl_zoo import algos
    from rl_zoo.train_command import CONFIG_HELP, StoreOnce, total_steps_arg

    p = sub.add_parser(
        "sweep",
        help="hyperparameter sweep: configs x seeds in one compiled program; tables, sensitivity figures, best config",
        description="Train every config of a grid (--grid, crossed) and/or of a random search (--sample N with --range) "
        "on --seeds seeds. Numeric config fields (float: learning rates, gamma, lambda, clip range, coefficients, KL "
        "targets, max_kl, epsilon values) enter the program as arrays, so all configs x seeds run vmapped in one "
        "compiled program. Static fields (int, bool, str: sizes, counts, switches) change the program: sweeping one is "
        "refused unless --static-groups, which compiles one program per combination of their values (a value that "
        "makes another algorithm name, e.g. ppo's loss=kl, is refused: sweep --algo ppo-kl). Every config is "
        "checked before anything compiles. Output: runs.csv (config, fields, seed, final return, AUC, env steps to "
        "threshold), configs.csv, curves.csv, curves.png, sensitivity.png, heatmap.png (two grid fields), report.md, "
        "best.yaml (best by the IQM of final returns over seeds, as a block for rl_zoo/hyperparams/ALGO.yaml; rl-zoo train --config best.yaml trains it). "
        "--successive-halving ETA trains in rungs: all configs for a short budget, then only the best 1/ETA of them "
        "(by the IQM over seeds of the greedy return at the rung) continue from their exact train state, and so on "
        "until the last survivors reach the full --total-steps; the schedule, who was dropped and their scores go "
        "into report.md and halving.csv. "
        "Re-running the same command into the same folder trains only what is missing (groups, or halving rungs; an "
        "interrupted group trains again from its start, or with --successive-halving from its last finished rung). Exit status: 0 done; 2 bad input (nothing compiled or written); "
        "3 every config diverged (NaN/Inf parameters: the tables are written, no report.md or best.yaml); 130 interrupted (143 for SIGTERM).",
    )
    p.add_argument("--algo", default="ppo", help=f"algorithm: {', '.join(algos.names())} (default ppo)")
    p.add_argument("--env", default="CartPole-v1", help="environment id, a JAX port (default CartPole-v1)")
    p.add_argument("--env-kwargs", action="extend", nargs="+", default=[], metavar="KEY=VALUE",
                   help="options of the env, made with them for every config as rl-zoo train makes it and recorded in "
                        "sweep.json: a JAX port's physical constants or options (CartPole-v1 gravity=12.0, FrozenLake-v1 "
                        "is_slippery=false map_name=8x8), its time limit (max_episode_steps=200); `rl-zoo envs ID` lists an "
                        "env's options and defaults. Values read as YAML 1.2 (1e-3 a number, true a boolean, 8x8 and yes "
                        "strings, [a, b] a list). The tuned hyperparameters are still the env id's; the report's train "
                        "command for best.yaml carries the options")
    p.add_argument("--grid", action="append", default=[], metavar="NAME=V1,V2,...",
                   help="values of one field (repeatable; crossed). env.NAME sweeps a float field of the env's params in the "
                        "same program (--grid env.length=0.25,0.5,1; `rl-zoo envs ID` lists them): crossed with config fields, "
                        "the best is the setting of the config fields with the highest mean over the env values of its IQM at "
                        "each; with only env fields, no best")
    p.add_argument("--sample", type=int, default=0, metavar="N", help="random search: N distinct configs drawn from the --range fields (floats rounded to 4 significant digits, ints drawn from the whole numbers in the range; each value within its range)")
    p.add_argument("--range", action="append", default=[], metavar="NAME=LOW:HIGH[:log]",
                   help="range of one field for --sample, uniform or log-uniform (repeatable; env.NAME: a float field of "
                        "the env's params)")
    p.add_argument("--sample-seed", type=int, default=0, help="seed of the random search's draws (default 0)")
    p.add_argument("--seeds", type=int, default=8, help="seeds per config (default 8)")
    p.add_argument("--seed", type=int, default=0, help="first seed (default 0; tune on some seeds, report on others)")
    p.add_argument("--total-steps", type=total_steps_arg, default=None, help="env steps per run (default: the tuned value)")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="fix a config field for every config (repeatable; on top of --config)")
    p.add_argument("--config", action=StoreOnce, default=None, metavar="FILE", help=CONFIG_HELP.replace("train that run's config again, e.g. on other --seed values",
                                                                                      "sweep around that run's config").replace(
                                                                                      "--seeds, --backend and", "--seeds and") + "; a field it sets that --grid or --range sweeps takes the swept values")
    p.add_argument("--static-groups", action="store_true",
                   help="allow sweeping static fields: one compiled program per combination of their values")
    p.add_argument("--successive-halving", "--halving", dest="halving", type=int, default=0, metavar="ETA",
                   help="successive halving with reduction factor ETA >= 2 (e.g. 3): each rung keeps the best 1/ETA of its "
                        "configs and continues them from their train state; rung i of R trains to floor(S/ETA^(R-1-i)) of the run's S "
                        "evaluation segments (about 1/ETA^(R-1-i) of the budget; --dry-run shows each rung's env steps)")
    p.add_argument("--rungs", type=int, default=0, metavar="R",
                   help="rungs of --successive-halving (default, or 0: as many as the configs allow, floor(configs / ETA^(R-1)) >= 1; "
                        "the first rung's budget must hold one of the run's evaluation segments: segments >= ETA^(R-1), where the "
                        "segments are about --evals; --dry-run shows them)")
    p.add_argument("--record", action="append", default=[], metavar="NAME",
                   help="keep this scalar field of every update's Metrics per run (e.g. kl, entropy, details.clip_frac for PPO, details.policy_step.accepted for TRPO; "
                        "repeatable), in groups/group_<i>.npz as record.NAME [configs, seeds, updates]")
    p.add_argument("--evals", type=int, default=10, help="greedy evaluations per run (default 10; rounded to a count near it that divides the updates into equal segments, "
                        "else segments of ceil(updates/EVALS) and one shorter last segment, which adds a compiled program, as rl-zoo train "
                        "makes them: the log says the segments)")
    p.add_argument("--eval-episodes", type=int, default=None,
                   help="episodes per evaluation (default 10; 1,000 on Blackjack-v1, whose return is one +-1 draw)")
    p.add_argument("--threshold", type=float, default=None, help="return that counts as reached (default: the env's solved threshold)")
    p.add_argument("--no-progress", action="store_true",
                   help="accepted as train and benchmark take it: this command prints plain lines, one per stage, anyway")
    p.add_argument("--out", default=None, help="output folder (default sweeps/<algo>-<env>): new, empty, or this sweep's own (a re-run trains only its unfinished groups)")
    p.add_argument("--rerun", action="store_true", help="train every group again, replacing the results in --out")
    p.add_argument("--dry-run", action="store_true", help="check everything and print the configs and groups; compile nothing")


def spec_from_args(args, notes: bool = False):
    """The `SweepSpec` of parsed ``rl-zoo sweep`` arguments (``notes``: say on stderr which of ``--config``'s
    fields the sweep sets otherwise)."""
    from rl_zoo.config import parse_env_kwargs
    from rl_zoo.sweep import make_spec
    from rl_zoo.train_command import overrides_from

    decided = tuple(text.split("=", 1)[0].strip() for text in args.grid + args.range)
    decided += ("total_timesteps",) if args.total_steps is not None else ()

    def note(dropped: list[str]) -> None:
        print(f"note: --config {args.config} sets {', '.join(dropped)}, which this sweep sets otherwise (--grid, --range, "
              f"--total-steps): the file's value{'' if len(dropped) == 1 else 's'} left out", file=sys.stderr)

    env_kwargs = parse_env_kwargs(args.env_kwargs)
    overrides = overrides_from(args, decided=decided, note=note if notes else None)
    if notes and args.config:
        from rl_zoo.train_command import note_config_env_kwargs

        note_config_env_kwargs(args.config, env_kwargs, sweep=True)
    return make_spec(args.algo, args.env, grid=args.grid, ranges=args.range, samples=args.sample, sample_seed=args.sample_seed,
                     seeds=args.seeds, seed=args.seed, total_steps=args.total_steps, overrides=overrides,
                     num_evals=args.evals, eval_episodes=args.eval_episodes, static_groups=args.static_groups,
                     halving_eta=args.halving, halving_rungs=args.rungs, record=args.record, env_kwargs=env_kwargs)


def rows_per_program(args) -> int:
    """A count that the rows (configs x seeds) of every program this sweep compiles are a multiple of,
    for splitting the CPU before JAX starts (``rl_zoo.distributed.split_cpu``): the seeds times the
    greatest common divisor of the groups' config counts; the seeds alone for successive halving (its
    rungs keep fewer configs) or for a sweep the command will refuse (it says why, later)."""
    import math

    from rl_zoo.config import ConfigError
    from rl_zoo.sweep import plan_sweep

    try:
        plan = plan_sweep(spec_from_args(args))
    except (ConfigError, ValueError):
        return max(1, args.seeds)
    if plan.spec.halving_eta:
        return plan.spec.seeds
    return plan.spec.seeds * math.gcd(*(len(g.points) for g in plan.groups))


def parse(argv: list[str]):
    """``rl-zoo sweep ...`` arguments (``argv`` starts with ``"sweep"``) parsed as the CLI parses them."""
    import argparse

    parser = argparse.ArgumentParser(prog="rl-zoo")
    add_parser(parser.add_subparsers(dest="command", required=True))
    return parser.parse_args(argv)


def output_folder(args) -> str:
    """Where the sweep writes: ``--out``, else ``sweeps/<algo>-<env>``."""
    from rl_zoo.runs import slug

    return args.out or f"sweeps/{slug(args.algo)}-{slug(args.env)}"


def main(args, argv: list[str]) -> int:
    from rl_zoo.sweep import check_sweep, run_sweep
    from rl_zoo.train import enable_compilation_cache

    spec = spec_from_args(args, notes=True)
    if args.dry_run:
        from rl_zoo import runs
        from rl_zoo.sweep import check_folder, check_segments, check_threshold, group_segments

        out = Path(output_folder(args))
        runs.refuse_other_kind(out, "sweep", "a sweep")  # as the real run does
        check_threshold(args.threshold)
        checked = check_sweep(spec)  # every check the real run makes before it compiles
        plan = checked.plan
        held = check_folder(out, spec, plan, args.rerun, checked.env_params)  # another sweep's folder refused as the run does
        if held:
            check_segments(out, plan, group_segments(plan, checked.env, checked.env_params, spec.num_evals), spec.num_evals,
                           args.rerun)
        replaced = args.rerun and (out / "sweep.json").exists()
        print(f"sweep -> {out}" + (" (it holds this sweep: a run trains only its unfinished groups)" if held
                                   else " (its results replaced: --rerun)" if replaced else ""))
        if spec.env_kwargs:
            print(f"env: {spec.env_label}, made with{spec.env_kwargs_args}")
        for g in plan.groups:
            print(f"group {g.index}: {', '.join(f'{k}={v}' for k, v in g.static) or 'all configs'}; traced: {', '.join(g.traced) or 'none'}")
            for p in g.points:
                print(f"  config {p.index}: {p.label()}")
        print(f"{runs.plural(len(plan.points), 'config')} x {runs.plural(spec.seeds, 'seed')} in {len(plan.groups)} compiled program(s)")
        if spec.halving_eta:
            from rl_zoo.sweep import halving

            rungs, segments, per_update = checked.halving
            print(f"successive halving, eta {spec.halving_eta}:")
            for line in halving.describe(rungs, segments, per_update):
                print(f"  {line}")
        return 0
    enable_compilation_cache()
    out = output_folder(args)
    result = run_sweep(spec, out, rerun=args.rerun, command="rl-zoo " + shlex.join(argv), threshold=args.threshold)
    b = result.best
    from rl_zoo import stats
    from rl_zoo.sweep.report import return_decimals_of

    interval = stats.interval_name(spec.seeds, short=True)
    d = return_decimals_of(result.summaries)
    if b is None and spec.has_best:
        print(f"no best config: no setting of {', '.join(spec.config_fields)} kept finite parameters at every value of "
              f"{', '.join(spec.env_fields)} (report.md says where each diverged)")
    elif b is None:  # only the env's params swept: each config's score, no best
        for s in result.summaries:
            diverged = f"; non-finite parameters in {s.non_finite} of {len(s.final)} seeds" if s.non_finite else ""
            print(f"config {s.point.index} ({s.point.label()}): IQM of final returns {s.iqm:.{d}f} [{s.ci_low:.{d}f}, {s.ci_high:.{d}f}] "
                  f"({interval}){diverged}")
    elif spec.env_fields:
        from rl_zoo.sweep.env_fields import interval_label

        print(f"best: {b.point.label()}, score {b.iqm:.{d}f} [{b.ci_low:.{d}f}, {b.ci_high:.{d}f}] (the mean over the values of "
              f"{', '.join(spec.env_fields)} of the IQM of final returns at each; {interval_label(spec.seeds)})")
    else:
        print(f"best: config {b.point.index} ({b.point.label()}), IQM of final returns {b.iqm:.{d}f} [{b.ci_low:.{d}f}, {b.ci_high:.{d}f}] "
              f"({interval})")
    print(f"report written to {result.out / 'report.md'}" + (f"; best config as YAML in {result.out / 'best.yaml'}" if b else "")
          + ("" if result.trained_groups else " (nothing trained: every group was finished already)"))
    return 0
