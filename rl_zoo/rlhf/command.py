"""``rl-zoo rlhf``: the four stages in one command (``rl_zoo.rlhf.pipeline``), writing a run directory."""

from __future__ import annotations

import dataclasses
import sys
import time
from pathlib import Path

from rl_zoo.config import ConfigError
from rl_zoo.lock import FolderInUse


def add_parser(sub) -> None:
    r = sub.add_parser(
        "rlhf",
        help="RLHF in miniature: pretrain, SFT, reward model, PPO with a KL penalty (a synthetic task with a gold reward)",
        description="Pretrain a small causal transformer on a synthetic letter language, fine-tune it on demonstrations, "
        "fit a reward model to Bradley-Terry comparisons labelled by a hidden gold reward, then optimise the policy "
        "against the reward model with a per-token KL penalty to the SFT model. Every stage is vmapped over the seeds. "
        "Writes config.json, metrics/, summary.json (gold reward of SFT vs RLHF on held-out prompts with bootstrap intervals over the seeds: with 2-3 seeds, their range), "
        "samples.md, stages.png and checkpoints/. See experiments/rlhf/README.md.",
    )
    r.add_argument("--seeds", type=int, default=3, help="seeds, each a whole pipeline, vmapped (default 3)")
    r.add_argument("--seed", type=int, default=0, help="first seed (default 0)")
    r.add_argument("--small", action="store_true", help="a tiny pipeline: every stage, few steps (a smoke test of the pipeline: about 34 s cold on 2 CPU cores, 1.05 GB: benchmarks/results/rlhf_small.md; learns little)")
    r.add_argument("--algo", default=None, help="RL update: ppo (default), ppo-kl, rloo, grpo")
    r.add_argument("--beta", type=float, default=None, help="KL-to-SFT coefficient (default 0.05; 0 switches it off)")
    r.add_argument("--kl-target", type=float, default=None, help="adapt beta toward this KL per response, in nats, by Ziegler et al. 2019's controller: beta moves by at most "
                        "a factor 1 +- 0.2 x batch / horizon per update (horizon: the run's responses / 20, at least 0.4 batches), up to "
                        "(1 + 4/updates)^updates over a run, ~48x at the default 60 updates (1.5^updates under 8 updates) (default: "
                        "none, beta stays fixed)")
    r.add_argument("--group-size", type=int, default=None,
                   help="responses per prompt in each batch, the batch's size kept (default 4 for rloo and grpo, whose "
                        "baselines are the group's: with 2, grpo's advantages are +-1 for every pair whose scores differ, 0 for a tie; 2 for ppo and ppo-kl)")
    r.add_argument("--updates", type=int, default=None, help="RL updates (default 60; 4 with --small)")
    r.add_argument("--no-progress", action="store_true",
                   help="accepted as train and benchmark take it: this command prints plain lines, one per stage, anyway")
    r.add_argument("--out", default=None, help="run directory (default runs/rlhf-<algo>-<time>); must not hold files")
    r.add_argument("--runs-root", default="runs", help="where default run directories go (default runs/; not with --out, "
                   "which names the run directory)")


def resolve(args):
    from rl_zoo.rlhf.pipeline import PipelineConfig, small_config

    config = small_config() if args.small else PipelineConfig()
    rl = config.rl
    if args.algo is not None:
        rl = dataclasses.replace(rl, algo=args.algo)
        if args.algo == "rloo":
            rl = dataclasses.replace(rl, update_epochs=1, num_minibatches=1)
    group = args.group_size if args.group_size is not None else (4 if rl.algo in ("rloo", "grpo") else rl.group_size)
    if group != rl.group_size:
        if group < 2 or rl.batch_size % group:
            raise ValueError(f"--group-size = {group} is invalid: must be at least 2 and divide the batch of "
                             f"{rl.batch_size} responses (it keeps its size: prompts per batch = {rl.batch_size} / group size)")
        rl = dataclasses.replace(rl, group_size=group, prompts_per_batch=rl.batch_size // group)
    if args.beta is not None:
        rl = dataclasses.replace(rl, beta=args.beta)
    if args.kl_target is not None:
        rl = dataclasses.replace(rl, kl_target=args.kl_target)
    if args.updates is not None:
        rl = dataclasses.replace(rl, num_updates=args.updates)
    config = dataclasses.replace(config, rl=rl)
    try:
        config.validate()
    except ConfigError as e:  # name the flag that set the field
        if e.field not in FLAGS:
            raise
        raise ConfigError(f"{FLAGS[e.field]}: {e}", field=e.field) from None
    return config


#: the RL config fields this command's flags set
FLAGS = {"algo": "--algo", "beta": "--beta", "kl_target": "--kl-target", "num_updates": "--updates", "group_size": "--group-size"}


def main(args, argv) -> int:
    from rl_zoo import runs
    from rl_zoo.config import check_seed_range
    from rl_zoo.lock import FolderLock
    from rl_zoo.rlhf.pipeline import run_stages
    from rl_zoo.rlhf.report import format_summary, write_config, write_run
    from rl_zoo.train import enable_compilation_cache

    config = resolve(args)  # every field checked before anything compiles
    if args.seeds < 1:
        raise ValueError(f"--seeds = {args.seeds} is invalid: must be at least 1")  # as train, sweep and benchmark say it
    check_seed_range(args.seed, args.seeds)
    made = args.out is None or not Path(args.out).exists()  # a folder of its own, removed if it ends up holding nothing
    seeds = list(range(args.seed, args.seed + args.seeds))
    out, lock, t = None, None, time.perf_counter()
    try:
        out = Path(runs.new_run_dir("rlhf", config.rl.algo, args.runs_root, args.out))
        # held to the end, as train holds its run directory: two rlhf runs into one --out both ran and mixed their files
        lock = FolderLock(out, what="run directory").acquire()
        runs.refuse_non_empty(out)  # a run into the same --out that wrote its config.json between the check and the lock
        write_config(out, config, seeds, ["rl-zoo", *argv])
        enable_compilation_cache()
        result = run_stages(config, seeds)
        summary = write_run(out, config, seeds, result)
    except BaseException as e:  # Ctrl-C, SIGTERM, an error: say what the folder holds (an rlhf run does not resume)
        if out is not None and not isinstance(e, (FolderInUse, FileExistsError)):  # else the folder is another run's
            said = _say_stopped(out, made, interrupted=isinstance(e, KeyboardInterrupt), locked=lock is not None)
            if said and isinstance(e, KeyboardInterrupt):  # on the one line of the stop (rl_zoo.cli)
                from rl_zoo.interrupt import StoppedWithWords

                raise StoppedWithWords(said) from e
            if said:
                print(f"rl-zoo rlhf: {said}", file=sys.stderr)
        raise
    finally:
        if lock is not None:
            lock.release()
    print(format_summary(summary))
    print(f"run written to {out} ({time.perf_counter() - t:.0f} s)")
    if broken := summary.get("rl_non_finite_seeds"):  # exit status 3, as a train run that diverged
        print(f"rl-zoo: error: the RL stage diverged (NaN or infinity) on seed(s) {', '.join(map(str, broken))}: the "
              f"run is written (summary.json lists them as rl_non_finite_seeds), their RLHF numbers are not results",
              file=sys.stderr)
        return 3
    return 0


def _say_stopped(out: Path, made: bool, interrupted: bool, locked: bool) -> str:
    """A run stopped before its summary.json: with nothing but its config.json (or not even that: stopped as the
    folder was made, or a full disk), the folder goes (if this command made it) and, if it was interrupted (not an
    error, which a new run would meet again), the user is told to run again; with some files, that they are a
    partial run to delete. ``locked``: this process holds the folder's lock (else its lock file is not ours).
    Returns what to say ("" for nothing)."""
    from rl_zoo import runs
    from rl_zoo.lock import LOCK_NAME

    if not out.is_dir() or (out / "summary.json").exists():
        return ""
    names = {p.name for p in out.iterdir() if not (locked and runs.is_stale_temporary(p.name))}
    if not locked and names:  # stopped before it took the lock: what the folder holds is not this run's
        return ""
    if names - {LOCK_NAME} <= {"config.json"}:
        if locked:
            runs.remove_stale_temporaries(out)
            for name in ("config.json", LOCK_NAME):
                (out / name).unlink(missing_ok=True)
        removed = False
        if made:
            try:
                out.rmdir()
                removed = True
            except OSError:  # a file another process put there meanwhile: it stays
                pass
        again = ": run the command again (an rlhf run starts from the beginning)" if interrupted else ""
        return (f"stopped before it wrote its results (it writes them at the end); nothing was kept"
                f"{' (' + str(out) + ' removed)' if removed else ''}{again}")
    return (f"{out} holds a partial run (no summary.json, which is written last): an rlhf run does not "
            f"resume; delete the folder{' and run the command again' if interrupted else ''}")
