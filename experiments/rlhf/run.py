"""RLHF in miniature, three questions answered with figures (experiments/rlhf/README.md): 1. why the KL
penalty (a sweep of beta)? 2. which algorithm (PPO, PPO-KL, RLOO, GRPO)? 3. what does the reward model
know (best-of-n against the gold reward)?

    python -m experiments.rlhf.run              # questions 1 and 3 on seeds 1000-1002 (results/), 2 on 1003-1005 (results/algos/)
    python -m experiments.rlhf.run --replot     # figures and results.md again from results/*.npz
    python -m experiments.rlhf.run --small      # a tiny version (smoke test, into /tmp/rlhf)

Seeds: the defaults (PipelineConfig, policy_opt.Config) were chosen looking at seeds 0-2 of
``rl-zoo rlhf``; questions 1 and 3 use seeds 1000-1002 (``--seed``), never looked at before; question
2 compares the algorithms at the default beta and at 0.2, chosen looking at question 1, so it runs
on the next seeds, 1003-1005 (``--algo-seed``), with stages 1-3 trained afresh for them.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from pathlib import Path

import numpy as np

from experiments import common, reporting
from experiments.rlhf import compute, plots
from rl_zoo import stats
from rl_zoo.rlhf.report import DEFAULTS_CHOSEN_ON

HERE = Path(__file__).parent
BETAS = [0.0, 0.02, 0.05, 0.2]
BON_NS = [1, 2, 4, 8, 16, 32]
ALGOS = ["ppo", "ppo-kl", "rloo", "grpo"]
PARTS = ("sweep", "bon", "algos")


def _save(path: Path, d: dict) -> None:
    from rl_zoo.runs import atomic_write_bytes
    import io

    buf = io.BytesIO()
    np.savez(buf, **d)
    atomic_write_bytes(path, buf.getvalue())


def base_key(config, seeds: list[int]) -> str:
    """Which stages 1-3 an array file's numbers come from (its seeds and config): each file of a run stores it
    as ``base``, and ``report`` leaves out a file whose base is not ``supervised.npz``'s (a second run with other
    seeds rewrote the sweep, and results.md put the first run's best-of-n beside it)."""
    import hashlib

    return hashlib.sha256(repr((list(seeds), config)).encode()).hexdigest()[:16]


def _of_this_run(out: Path, name: str, base: str, stale: list[str]) -> dict | None:
    """``out/name``'s arrays when the file exists and is of the run ``base`` (else ``None``; a file of another
    run is named in ``stale``). Files written before ``base`` was kept pass when supervised.npz has none either."""
    if not (out / name).exists():
        return None
    d = common.load_arrays(out / name)  # a damaged file: one line, exit 2
    if str(d.pop("base", "")) != base:
        stale.append(name)
        return None
    return d


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seeds", type=common.positive_int, default=3, help="seeds per question, trained together (default 3)")
    ap.add_argument("--seed", type=int, default=1000, help="first seed of questions 1 and 3 (default 1000: seeds the defaults were not tuned on)")
    ap.add_argument("--small", "--quick", action="store_true", help="a tiny version (smoke test; into /tmp/rlhf unless --out)")
    ap.add_argument("--sweep-updates", type=common.positive_int, default=None,
                    help="PPO updates per run of the beta sweep (default 80; 4 with --small)")
    ap.add_argument("--only", default="sweep,bon,algos", help="parts to compute (comma-separated): sweep and bon (questions "
                    "1 and 3, on --seed's seeds), algos (question 2, on --algo-seed's)")
    ap.add_argument("--algo-seed", type=int, default=None,
                    help="first seed of the algorithm comparison (default: the first after question 1's seeds, moved past "
                         "1000-1002, which its beta 0.2 was chosen looking at, where it would share them: 1003 with the "
                         "defaults), written to OUT/algos/")
    ap.add_argument("--algo-beta", type=float, action="append", default=None,
                    help="KL coefficient of the algorithm comparison, repeatable (default: the pipeline's 0.05, into "
                         "algo_<name>.npz, and 0.2, into algo_<name>_beta0.2.npz; another B goes to algo_<name>_beta<B>.npz)")
    ap.add_argument("--replot", action="store_true", help="only the figures and results.md again, from the .npz arrays of "
                    "the last run in --out (kept where it ran; not committed)")
    ap.add_argument("--out", default=None, help="output folder (default: results/ beside this script; /tmp/rlhf with --small)")
    args = ap.parse_args(argv)
    unknown = sorted(set(args.only.split(",")) - set(PARTS))
    if unknown:
        common.fail(f"--only {args.only!r}: unknown part(s) {', '.join(unknown)}; the parts are {', '.join(PARTS)}")
    out = common.output_folder(args.out, Path("/tmp/rlhf") if args.small else HERE / "results")
    if not args.replot:
        from rl_zoo.rlhf.pipeline import PipelineConfig, small_config
        from rl_zoo.train import enable_compilation_cache

        enable_compilation_cache()
        config = small_config() if args.small else PipelineConfig()
        parts = args.only.split(",")
        algo_seed = default_algo_seed(args.seed, args.seeds) if args.algo_seed is None else args.algo_seed
        check_inputs(args, config, parts, algo_seed)  # before stages 1-3, which take minutes
        out.mkdir(parents=True, exist_ok=True)
        jobs = [(out, args.seed, [p for p in parts if p != "algos"])] if set(parts) - {"algos"} else []
        jobs += [(out / "algos", algo_seed, ["algos"])] if "algos" in parts else []
        for folder, first, todo in jobs:
            folder.mkdir(parents=True, exist_ok=True)
            run_parts(folder, config, list(range(first, first + args.seeds)), todo, args, argv)
    folders = [f for f in (out, out / "algos") if (f / "supervised.npz").exists()]
    if not folders:  # --replot of a folder without arrays: report() says what is missing
        folders = [out]
    for folder in reversed(folders):  # algos/ first: the top results.md points to algos/results.md once it is there
        report(folder)
    return 0


def sweep_updates(args) -> int:
    """The beta sweep's PPO updates per run: ``--sweep-updates``, else 80 (4 with ``--small``)."""
    return args.sweep_updates or (4 if args.small else 80)


#: (what, the seeds it was chosen on, whether only the algorithm comparison uses it): the pipeline's defaults
#: (PipelineConfig, policy_opt.Config) on `rl-zoo rlhf`'s seeds 0-2, question 2's beta 0.2 looking at question 1's
#: committed run; `rl_zoo.seeds` names other experiments'
TUNED_ON = (("the pipeline's defaults were", DEFAULTS_CHOSEN_ON, False), ("question 2's beta 0.2 was", range(1000, 1003), True))


def tuning_words(first: int, n: int, algos: bool) -> str:
    """What a run of seeds ``first`` .. ``first + n - 1`` shares with the seeds its settings were chosen on (the
    defaults' for every part; beta 0.2's too for the algorithm comparison), "" for held-out seeds."""
    from rl_zoo.seeds import shared_seeds_said

    said = [words for what, seeds, algos_only in TUNED_ON
            if (algos or not algos_only) and (words := shared_seeds_said(first, n, [seeds], what))]
    return "; ".join(said) + (", where they look better than on new seeds" if said else "")


def default_algo_seed(first: int, n: int) -> int:
    """The algorithm comparison's first seed when ``--algo-seed`` is not given: the first after question 1's
    seeds ``first`` .. ``first + n - 1``, moved past the seeds beta 0.2 was chosen on (1000-1002, the committed
    run's) where it would share some (``--seeds 1`` or ``2`` gave 1001 or 1002, "not held out")."""
    from rl_zoo.seeds import shares_seeds

    start = first + n
    for _, seeds, algos_only in TUNED_ON:
        if algos_only and shares_seeds(start, n, seeds):
            start = seeds.stop
    return start


def check_inputs(args, config, parts: list[str], algo_seed: int) -> None:
    """Refuse, before anything trains, seeds out of range and an RL config the parts would build that
    does not validate (a negative ``--algo-beta``), one line each."""
    from rl_zoo.config import ConfigError

    rl_configs = []
    if set(parts) - {"algos"}:
        common.check_seed_args(args.seed, args.seeds, tuned=False)  # its configs are its own: warned of below
        if said := tuning_words(args.seed, args.seeds, algos=False):
            print(f"warning: not held out: {said} (--seed 1000 gives held-out ones)", file=sys.stderr)
        rl_configs.append(dataclasses.replace(config.rl, num_updates=sweep_updates(args)))
    if "algos" in parts:
        common.check_seed_args(algo_seed, args.seeds, "--algo-seed" if args.algo_seed is not None else "--seed", tuned=False)
        if said := tuning_words(algo_seed, args.seeds, algos=True):
            print(f"warning: the algorithm comparison is not held out: {said} (--algo-seed 1003 gives held-out ones)",
                  file=sys.stderr)
        rl_configs += [dataclasses.replace(config.rl, beta=beta) for beta in args.algo_beta or []]
    try:
        for rl in rl_configs:
            rl.validate()
    except ConfigError as e:
        common.fail(str(e))


def run_parts(out: Path, config, seeds: list[int], parts: list[str], args, argv) -> None:
    """Stages 1-3 on ``seeds``, then the asked parts of the experiment, their arrays into ``out``; run.md
    gets a line with the command and these parts' own seconds (the algorithm comparison's once counted
    from the process start, the first parts' time included)."""
    from rl_zoo.rlhf.pipeline import Timer, run_supervised

    t0 = time.perf_counter()
    timer = Timer()
    key = np.asarray(base_key(config, seeds))
    base = run_supervised(config, seeds, timer)
    _save(out / "supervised.npz", {"rm_heldout_accuracy": np.asarray(base.rm.heldout_accuracy),
                                   "rm_heldout_label_accuracy": np.asarray(base.rm.heldout_label_accuracy),
                                   "seconds": np.asarray([timer.seconds[k] for k in ("pretrain", "sft", "rm")]), "base": key,
                                   # what results.md says first: a smoke run's, or tuning seeds', results are not results
                                   "small": np.asarray(bool(args.small)),
                                   "tuning": np.asarray(tuning_words(seeds[0], len(seeds), algos=parts == ["algos"]))})
    if "bon" in parts:
        print("best-of-n", flush=True)
        _save(out / "best_of_n.npz", {**compute.best_of_n(base, config, BON_NS, prompts=16 if args.small else 64), "base": key})
    if "sweep" in parts:
        print(f"beta sweep {BETAS}", flush=True)
        sweep_cfg = dataclasses.replace(config, rl=dataclasses.replace(config.rl, num_updates=sweep_updates(args)))
        _save(out / "beta_sweep.npz", {**compute.beta_sweep(base, sweep_cfg, BETAS), "base": key,
                                       "batch_size": np.asarray(sweep_cfg.rl.batch_size)})
    for algo_beta in (args.algo_beta or [None, 0.2]) if "algos" in parts else []:
        print(f"algorithms {ALGOS}, beta {config.rl.beta if algo_beta is None else algo_beta}", flush=True)
        algo_cfg, suffix = config, ""
        if algo_beta is not None:
            algo_cfg = dataclasses.replace(config, rl=dataclasses.replace(config.rl, beta=algo_beta))
            suffix = f"_beta{algo_beta:g}"
        res = compute.algorithms(base, algo_cfg, ALGOS, group_size=4)
        for name, d in res.items():
            _save(out / f"algo_{name}{suffix}.npz", {**d, "base": key})
    log = (out / "run.md").read_text().splitlines() if (out / "run.md").exists() else []
    reporting.write_md(out / "run.md", log + ["", f"`{' '.join(['python -m experiments.rlhf.run', *(argv if argv is not None else sys.argv[1:])])}`: "
                                           f"seeds {seeds}; parts {parts}; {time.perf_counter() - t0:.0f} s; {common.machine()}"])


def algo_suffixes(out: Path) -> list[str]:
    """The suffixes of the algorithm comparisons in ``out``: "" (the pipeline's beta, ``algo_<name>.npz``)
    first, then each ``_beta<B>`` of ``algo_<name>_beta<B>.npz`` (``--algo-beta B``) by B."""
    import re

    pattern = re.compile(rf"algo_({'|'.join(map(re.escape, sorted(ALGOS, key=len, reverse=True)))})(_beta[^/]+)?\.npz")
    found = {m.group(2) or "" for p in out.glob("algo_*.npz") if (m := pattern.fullmatch(p.name))}
    return sorted(found, key=lambda x: (x != "", float(x[len("_beta"):]) if x else 0.0))


def mean_interval(x) -> str:
    """``mean [low, high]`` over the finite seeds of ``x`` (a bootstrap interval); the mean alone of one
    finite seed (its interval was ``[x, x]``, under a heading that says "1 seed: no interval")."""
    finite = np.asarray(x, float)[~np.isnan(x)]
    if finite.size == 0:
        return "none finite"
    return f"{finite[0]:.2f}" if finite.size == 1 else "%.2f [%.2f, %.2f]" % common.boot_ci(finite)


def report(out: Path) -> None:
    sup = common.load_arrays(common.require_file(out / "supervised.npz", "the arrays of the last run, kept for --replot "
                                    "on the machine that ran it: *.npz files are not committed"))
    lines = ["# Results (generated by `python -m experiments.rlhf.run`)", ""]
    if bool(sup.pop("small", False)):
        lines += ["**Smoke run (`--small`): tiny models and budgets. Not a result.**", ""]
    if tuning := str(sup.pop("tuning", "")):
        lines += [f"**Not held out: {tuning}.**", ""]
    if (out / "run.md").exists():
        lines += [(out / "run.md").read_text().strip(), ""]
    f = mean_interval
    lines += [f"Every interval below: mean over seeds [{stats.interval_name(len(sup['rm_heldout_accuracy']))}].", "",
              f"Reward model pairwise accuracy on fresh comparisons of SFT samples (training prompts) vs gold: "
              f"{f(sup['rm_heldout_accuracy'])}; vs the noisy labels: {f(sup['rm_heldout_label_accuracy'])}", ""]
    base, stale = str(sup.pop("base", "")), []
    sw, bon = _of_this_run(out, "beta_sweep.npz", base, stale), _of_this_run(out, "best_of_n.npz", base, stale)
    if sw is not None:
        updates, batch = sw["gold"].shape[-1], int(sw.get("batch_size", 64))  # 64: the default's, before it was kept
        last = min(10, updates)
        if bon is not None:
            plots.kl_penalty(sw, bon, out / "q1_kl_penalty.png", batch)
        plots.rm_accuracy(sw, sup["rm_heldout_accuracy"], out / "q3_rm_accuracy.png")
        lines += [f"## Q1: KL penalty sweep (PPO-clip, {updates} updates x {batch} responses)", "",
                  f"| beta | final KL | proxy (batch) | gold (batch) | peak gold (batch, update) | held-out gold | held-out proxy | RM acc. on last {last} updates |",
                  "|---|---|---|---|---|---|---|---|"]
        for i, b in enumerate(sw["betas"]):
            g = sw["gold"][i].mean(0)
            acc = np.nanmean(sw["rm_accuracy"][i][:, -last:], axis=1)
            lines.append(f"| {b:g} | {f(sw['kl'][i][:, -1])} | {f(sw['proxy'][i][:, -1])} | {f(sw['gold'][i][:, -1])} | "
                         f"{g.max():.2f} (update {int(g.argmax()) + 1}) | {f(sw['final_gold'][i])} | {f(sw['final_proxy'][i])} | {f(acc)} |")
        lines += ["", f"Sweep wall time: compile {sw['seconds'][0]:.0f} s, run {sw['seconds'][1]:.0f} s (all betas x seeds vmapped).", ""]
    if bon is not None:
        lines += [] if sw is not None else [f"## Q1: best-of-n (the beta sweep's file is missing"
                                            f"{' or of another run' if 'beta_sweep.npz' in stale else ''})", ""]
        lines += ["| best-of-n | KL <= log n - (n-1)/n | proxy | gold |", "|---|---|---|---|"]
        for j, n in enumerate(bon["ns"]):
            lines.append(f"| {int(n)} | {bon['kl'][j]:.2f} | {f(bon['proxy'][j])} | {f(bon['gold'][j])} |")
        lines.append("")
    if (sw is None) != (bon is None):  # one part of Q1 without the other: its tables, not the figure of both
        lacking = "beta_sweep.npz" if sw is None else "best_of_n.npz"
        unchanged = [name for name in ("q1_kl_penalty.png", "q3_rm_accuracy.png")[:2 if sw is None else 1] if (out / name).exists()]
        note = (f"Q1's figure puts the beta sweep beside best-of-n, from beta_sweep.npz and best_of_n.npz of one run "
                f"(`--only sweep,bon`): {lacking} is missing" + (" or of another run" if lacking in stale else "")
                + (f", so {' and '.join(unchanged)} {'is' if len(unchanged) == 1 else 'are'} not redrawn here "
                   "(an earlier run's)" if unchanged else ", so it is not drawn") + ".")
        lines += [note, ""]
        print(f"note: {note}", file=sys.stderr)
    for suffix in algo_suffixes(out):
        algos = {a: d for a in ALGOS if (d := _of_this_run(out, f"algo_{a}{suffix}.npz", base, stale)) is not None}
        if not algos:
            continue
        label = f"beta {suffix[len('_beta'):]}" if suffix else "beta 0.05 (the pipeline's default)"
        plots.algorithms(algos, out / f"q2_algorithms{suffix}.png")
        lines += [f"## Q2: algorithms at matched samples, {label}", "",
                  "| algorithm | responses | held-out gold | final KL | final proxy (batch) | peak gold (batch, update) | compile s | run s |",
                  "|---|---|---|---|---|---|---|---|"]
        for a, m in algos.items():
            g = m["gold"].mean(0)
            lines.append(f"| {a} | {int(m['responses'])} | {f(m['final_gold'])} | {f(m['kl'][:, -1])} | {f(m['proxy'][:, -1])} | "
                         f"{g.max():.2f} (update {int(g.argmax()) + 1}) | {m['seconds'][0]:.0f} | {m['seconds'][1]:.0f} |")
        lines.append("")
    if not algo_suffixes(out) and (out / "algos" / "results.md").exists():
        lines += ["## Q2", "", "Question 2 (the algorithms at matched samples) ran on its own seeds (`--algo-seed`): "
                  "[`algos/results.md`](algos/results.md).", ""]
    if stale:
        lines += [f"Left out: {', '.join(stale)}, of an earlier run in this folder (other seeds or settings than "
                  "supervised.npz's, which every run rewrites): compute its part again with this run's options.", ""]
    reporting.write_md(out / "results.md", lines, width=10_000)
    print(json.dumps({"results": str(out / "results.md")}))


if __name__ == "__main__":
    common.command(main)
