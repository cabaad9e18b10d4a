"""``rl-zoo benchmark`` and ``rl-zoo plot``: the command line of `rl_zoo.benchmark` (added to the CLI by
``add_parsers``; ``rl-zoo plot`` of a run directory draws its learning curve)."""

from __future__ import annotations

import shlex
import sys


def add_parsers(sub) -> None:
    """``rl-zoo benchmark`` and ``rl-zoo plot``."""
    from rl_zoo import benchmark as bm
    from rl_zoo.seeds import REPORT_SEED

    b = sub.add_parser(
        "benchmark",
        help="compare algorithms on environments: a grid of (algorithm, env) cells, tables, figures, report",
        description="Run every (algorithm, env) cell of the grid, all seeds of a cell vmapped in one compiled program "
        "(one process per cell, through the same driver as `rl-zoo train`). Combinations that cannot run (DQN on a "
        "continuous action space) are listed as skipped with the reason before anything compiles. After each cell, "
        "returns.csv/.parquet (algo, env, seed, env_steps, wall_s, return) and cells.csv/.parquet (compile s, run s, "
        "env steps/s, peak memory) are rewritten; at the end, report.md and its PNGs. Evaluation: each run is evaluated "
        "at its own update boundaries, then interpolated linearly onto a shared grid of env steps so that curves line "
        "up across algorithms. Re-running the same command skips the cells already finished with the same config.",
        epilog=f"default env steps per seed: {bm.steps_help()}. Exit status: 0 every cell finished (or was skipped); 1 a "
        "cell failed (the others' results stand; its log is in its folder); 2 bad input; 130 Ctrl-C, 143 SIGTERM (the "
        "same command again resumes).",
    )
    b.add_argument("--algos", default=",".join(bm.DEFAULT_ALGOS), help=f"comma-separated algorithms (default {','.join(bm.DEFAULT_ALGOS)})")
    b.add_argument("--envs", default=",".join(bm.DEFAULT_ENVS), help=f"comma-separated env ids (default {','.join(bm.DEFAULT_ENVS)}), each with its default options (a benchmark "
                   "takes no --env-kwargs)")
    b.add_argument("--seeds", type=int, default=10, help="seeds per cell, trained together (default 10)")
    b.add_argument("--seed", type=int, default=REPORT_SEED, help=f"first seed (default {REPORT_SEED}: the tuned configs of "
                   f"rl_zoo/hyperparams were chosen on seeds 0-9 (some 200-209), where they look better than on new ones; "
                   f"a grid on those says so in its report, as it names the few cells whose config was changed after a "
                   f"result on seeds from {REPORT_SEED})")
    b.add_argument("--total-steps", action="append", default=None, metavar="N | ENV=N,...",
                   help="env steps per seed, for every env (N) or per env (ENV=N,..., repeatable); default per env as below")
    b.add_argument("--out", default=str(bm.DEFAULT_OUT), help=f"benchmark folder (default {bm.DEFAULT_OUT}): new, empty, or a grid's own (re-running into it skips finished cells)")
    b.add_argument("--points", type=int, default=bm.DEFAULT_POINTS, help=f"intervals of the shared env-step grid the curves are read on (default {bm.DEFAULT_POINTS}); each run also evaluates that often (as train --evals N), each time --eval-episodes episodes per seed: fewer points, less time; a gymnasium-adapter cell evaluates less often where the worst case of its evaluations after the start would pass 10%% of its training's env steps (the start's comes on top; the final one is always made), and the report names the cells that did")
    b.add_argument("--eval-episodes", type=int, default=None,
                   help="greedy episodes per evaluation and seed (default 10; 1,000 on Blackjack-v1, whose return is one "
                        "+-1 draw)")
    b.add_argument("--set", action="append", default=[], metavar="[ALGO:]KEY=VALUE",
                   help="override a config field of one algorithm (ALGO:KEY=VALUE) or of all (repeatable; an algorithm's own "
                   "value beats the grid-wide one, each key once per algorithm)")
    b.add_argument("--exclude", action="append", default=[], metavar="ALGO:ENV[,ALGO:ENV]",
                   help="leave these cells out (listed as skipped, excluded); repeatable")
    b.add_argument("--backend", choices=["jax", "gymnasium"], default=None,
                   help="force the env backend (default: the pure-JAX port where the id has one, else gymnasium through the adapter)")
    b.add_argument("--rerun", action="store_true", help="run the cells again even if finished (replacing their results); "
                   "without it, a finished or interrupted cell of another config than this command's is refused")
    b.add_argument("--jobs", type=int, default=1,
                   help="cells run at the same time (default 1; 2 overlaps one cell's compilation with another's training "
                   "on a multi-core CPU, but then each cell's timings include the competition)")
    b.add_argument("--dry-run", action="store_true", help="print the plan (cells to run, skipped with reason) and stop")
    b.add_argument("--no-progress", action="store_true", help="plain lines instead of a progress display")
    b.add_argument("--note", default=None, help="a remark quoted at the top of report.md (e.g. why cells were excluded); kept by later "
                   "commands into the folder until another --note (--note '' removes it)")
    b.add_argument("--record-video", action="store_true",
                   help="one GIF per cell (a greedy episode of its first seed at the end), shown in report.md; cells finished "
                   "before are not run again (a clip changes no result) but recorded from their last checkpoint if kept")

    p = sub.add_parser("plot", help="figures and report of a benchmark folder (or the curve of a run directory)",
                       description="For a benchmark folder: learning curves per env (mean, 95% bootstrap band, against env "
                       "steps and wall-clock seconds), IQM / optimality gap with stratified bootstrap intervals and "
                       "performance profiles of normalised scores, and report.md embedding them. For a run directory "
                       "of `rl-zoo train`: its curve.png; for several: their curves in one figure. A sweep's folder is drawn again by its own `rl-zoo sweep` "
                       "command (run again into it: finished groups are not trained again).")
    p.add_argument("dir", nargs="+", help="benchmark folder or run directory; several run directories: their learning "
                   "curves in one figure (one panel per env, each run's mean over its seeds with a 95%% bootstrap band)")
    p.add_argument("-o", "--output", default=None,
                   help="benchmark: the report file, or a folder for report.md (default DIR/report.md; its figures aggregate.png, profile.png and curves_ENV.png beside it, refused over files not of a report); "
                   "run: the figure file (.png, .pdf, .svg, ...) or an existing folder for curve.png (default DIR/curve.png); "
                   "several runs: the figure file or an existing folder for compare.png (default ./compare.png)")


def plot_run(d, output):
    """``rl-zoo plot RUN_DIR [-o FILE|FOLDER]``: the learning curve of a run directory (to ``FOLDER/curve.png``
    for an existing folder), titled "unfinished" with its env steps so far where the run has no summary.json (stopped,
    or still running); an output that cannot be written (no such folder, a suffix matplotlib does
    not save, a read-only run directory without ``-o``, a file of another run's directory), a damaged or still empty
    ``metrics.csv`` (or a ``config.json`` without its algo and env) is refused in one line naming it."""
    from rl_zoo import plots, runs

    path = plots.figure_path(output, "curve.png", "-o") if output is not None else d / "curve.png"
    if output is None and not runs.writable_folder(d):  # a raw "[Errno 13] ... .curve.png.tmp", exit 1, after drawing
        raise ValueError(f"{d} is not writable, and without -o the figure goes to {path}: give -o FILE "
                         f"(.png, .pdf, .svg, ...) or -o FOLDER elsewhere")
    if ((path.exists() or path.name == "curve.png") and path.parent.resolve() != d.resolve()
            and runs.folder_kind(path.parent) == "run"):  # its curve.png was replaced, or stood as its own until it ended
        raise ValueError(f"-o {str(output)!r}: {str(path)!r} is {'a file' if path.exists() else 'the figure file'} of another "
                         f"run directory ({path.parent}): this run's figure there would be taken for that run's own; give a "
                         f"new file name, or a folder outside it")
    todo = "`rl-zoo train` writes it; plot a run directory it wrote"
    if (d / "config.json").exists() and not (d / "metrics.csv").exists():  # a run of train's, compiling or stopped
        raise ValueError(runs.metrics_not_written(d))
    rows = runs.read_metrics(d / "metrics.csv", todo=todo)
    if not rows:
        raise ValueError(f"{d / 'metrics.csv'} has no evaluation rows yet: the run writes one at each evaluation "
                         "(`--evals`); plot it after the first")
    title = d.name.replace("$", r"\$")  # not read as matplotlib's math
    if (d / "config.json").exists():  # read as `rl-zoo plot A B` reads it: a title "None on ..." or a traceback
        cfg = runs.read_json_file(d / "config.json", required=("algo", "env"), todo=todo)
        title = f"{cfg['algo']} on {runs.recorded_env_label(cfg)}"
        asked = runs.asked_total_steps(cfg)
        if not (d / "summary.json").exists() and asked is not None:  # stopped or still running: not the whole run
            state = "diverged" if runs.diverged(d, rows) else "unfinished"  # the NaN guard stopped it (diverged.json)
            title += f"\n({state}: {max(int(r['env_steps']) for r in rows):,} of {asked:,} env steps per seed)"
    return plots.learning_curve(rows, title, path)


def main(args, argv: list[str]) -> int:
    """``rl-zoo benchmark`` / ``rl-zoo plot``: the exit code."""
    from rl_zoo import benchmark as bm

    if args.command == "plot":
        from pathlib import Path

        from rl_zoo.runs import folder_kind

        if len(args.dir) > 1:
            from rl_zoo.compare import compare_runs

            print(f"figure written to {compare_runs(args.dir, args.output)}")
            return 0
        d = Path(args.dir[0])
        kind = folder_kind(d)
        if kind == "benchmark":
            print(f"report written to {bm.write_report(d, args.output)}")
            return 0
        if kind == "run":
            from rl_zoo.runs import holds_rlhf_run, rlhf_run_words

            if holds_rlhf_run(d):
                raise ValueError(f"{d} is {rlhf_run_words(d)}")
            print(f"figure written to {plot_run(d, args.output)}")
            return 0
        if kind == "sweep":
            raise ValueError(f"{d} is a sweep folder: run its `rl-zoo sweep` command again (the Command line of {d / 'report.md'}); "
                             f"it trains no finished group and rewrites the tables, figures and report")
        if not d.exists():
            raise ValueError(f"{d} does not exist: give a benchmark folder (`rl-zoo benchmark --out`, default "
                             f"{bm.DEFAULT_OUT}) or a run directory (`rl-zoo train --out`)")
        raise ValueError(f"{d} is neither a benchmark folder (cells/, benchmark.json) nor a run directory (metrics.csv)")
    bm.check_jobs(args.jobs)  # a dry run too
    total_steps = bm.join_total_steps(args.total_steps)
    if args.dry_run:
        cells = bm.plan_grid(args.algos, args.envs, seeds=args.seeds, seed=args.seed, total_steps=total_steps,
                             out=args.out, points=args.points, eval_episodes=args.eval_episodes, backend=args.backend,
                             sets=args.set, exclude=",".join(args.exclude), rerun=args.rerun)
        print(bm.plan_header(args.out, cells))
        print(bm.format_plan(cells))
        bm.check_something_to_run(args.out, cells)  # what the grid would say, after the plan that shows why
        return 0
    from rl_zoo.lock import FolderInUse

    try:
        result = bm.run_benchmark(args.algos, args.envs, seeds=args.seeds, seed=args.seed, total_steps=total_steps,
                                  out=args.out, points=args.points, eval_episodes=args.eval_episodes, backend=args.backend,
                                  sets=args.set, exclude=",".join(args.exclude), rerun=args.rerun, jobs=args.jobs,
                                  progress=not args.no_progress, command="rl-zoo " + shlex.join(argv), note=args.note,
                                  record_video=args.record_video)
    except FolderInUse as e:  # another grid runs in --out: nothing was touched
        print(f"rl-zoo: error: {e}", file=sys.stderr)
        return 2
    return 1 if any(c.status == "failed" for c in result.cells) else 0
