"""Writing an RLHF run directory (``rl_zoo.rlhf.pipeline``): metrics, summary, samples, figure, checkpoints."""

from __future__ import annotations

import dataclasses
import shlex
import sys
from pathlib import Path

import numpy as np
from flax import serialization

from rl_zoo import runs, stats
from rl_zoo.rlhf.pipeline import PipelineConfig, PipelineResult
from rl_zoo.rlhf.task import detokenize

RL_FIELDS = ("update", "responses", "seed", "gold", "proxy", "kl", "beta", "length", "eos_rate", "rm_accuracy",
             "entropy", "policy_loss", "value_loss", "clip_frac")


def interval(per_seed) -> dict:
    """Mean over seeds and its 95% percentile-bootstrap interval (``rl_zoo.stats.bootstrap_ci``; with 2-3
    seeds exactly their range: ``stats.interval_name``), over the seeds whose value is finite (``seeds_counted``
    says how many where some are not; a seed's accuracy on a last batch without a comparable pair is NaN, which
    made the mean NaN and was written as bare ``NaN``, not JSON); a missing value is ``null``."""
    x = np.asarray(per_seed, float)
    finite = x[np.isfinite(x)]
    out = {"mean": None, "ci95": [None, None]}
    if finite.size:
        lo, hi = stats.bootstrap_ci(finite)
        out = {"mean": float(finite.mean()), "ci95": [lo, hi]}
    out["per_seed"] = [float(v) if np.isfinite(v) else None for v in x]
    if finite.size < x.size:
        out["seeds_counted"] = int(finite.size)
    return out


def _counted(d: dict) -> int:
    """The seeds an ``interval`` was taken over (its finite ones)."""
    return d.get("seeds_counted", len(d.get("per_seed", ())))


def gold_comparison(result: PipelineResult) -> dict:
    """SFT vs RLHF by the gold reward on held-out prompts: per-seed means, intervals, and whether the intervals
    separate: ``separated`` True when RLHF's lies wholly above SFT's, ``rlhf_below`` True when wholly below (an
    over-optimised policy, ``--beta 0``: it was said "NOT separated", as if the two could not be told apart); both
    ``None`` with one seed: its "interval" is a point, and a higher mean is not a separation."""
    sft = interval(np.asarray(result.eval_sft.gold).mean(1))
    rlhf = interval(np.asarray(result.eval_rlhf.gold).mean(1))
    separated = below = None
    if min(_counted(sft), _counted(rlhf)) >= 2:
        separated, below = bool(rlhf["ci95"][0] > sft["ci95"][1]), bool(rlhf["ci95"][1] < sft["ci95"][0])
    return {"sft": sft, "rlhf": rlhf, "separated": separated, "rlhf_below": below,
            "proxy_sft": interval(np.asarray(result.eval_sft.proxy).mean(1)),
            "proxy_rlhf": interval(np.asarray(result.eval_rlhf.proxy).mean(1))}


def rl_rows(metrics, seeds: list[int], batch_size: int) -> list[dict]:
    m = {k: np.asarray(v) for k, v in metrics._asdict().items()}  # each [S, U]
    rows = []
    for s, seed in enumerate(seeds):
        for u in range(m["gold"].shape[1]):
            row = {k: float(v[s, u]) for k, v in m.items()}
            rows.append(dict(row, update=u + 1, responses=(u + 1) * batch_size, seed=seed))
    return rows


def final_metrics(metrics) -> dict:
    """summary.json's ``rl_final``: the reported RL metrics at the last update (``metrics``: each ``[S, U]``),
    mean over seeds with its interval."""
    return {k: interval(np.asarray(v)[:, -1]) for k, v in metrics._asdict().items()
            if k in ("gold", "proxy", "kl", "beta", "rm_accuracy", "length")}


def loss_rows(losses, seeds: list[int], every: int = 10) -> list[dict]:
    losses = np.asarray(losses)  # [S, steps]
    return [{"step": i + 1, "seed": seed, "loss": float(losses[s, i])}
            for s, seed in enumerate(seeds) for i in range(0, losses.shape[1], every)]


def _cell(text: str) -> str:
    """``text`` as a markdown table cell: words of letters as they are; one holding a special token (``detokenize``'s
    "|" for SEP, "<s>" for BOS, "_" for PAD) as code, its "|" escaped: a bare "|" split the row into one more cell,
    and "<s>" began a strikethrough."""
    if text.replace(" ", "").replace("...", "").isalpha() or not text:
        return text
    return "`" + text.replace("|", "\\|") + "`"


def samples_markdown(config: PipelineConfig, result: PipelineResult, n: int = 12, seed_index: int = 0) -> str:
    lay = config.task.layout
    sft, rl = result.eval_sft, result.eval_rlhf
    lines = ["| prompt | SFT response | gold | proxy | RLHF response | gold | proxy |", "|---|---|---|---|---|---|---|"]
    for i in range(min(n, np.asarray(sft.tokens).shape[1])):
        p, a = detokenize(lay, sft.tokens[seed_index, i])
        _, b = detokenize(lay, rl.tokens[seed_index, i])
        lines.append(f"| {_cell(p)} | {_cell(a)} | {float(sft.gold[seed_index, i]):.0f} | {float(sft.proxy[seed_index, i]):.2f} "
                     f"| {_cell(b)} | {float(rl.gold[seed_index, i]):.0f} | {float(rl.proxy[seed_index, i]):.2f} |")
    return "\n".join(lines)


def stages_figure(result: PipelineResult, path: Path, batch_size: int) -> Path:
    from rl_zoo.plots import _pyplot, _save

    plt = _pyplot()
    fig, axes = plt.subplots(1, 4, figsize=(16, 3.6), dpi=110)
    for ax, (name, losses) in zip(axes[:3], [("1. pretrain: next-token loss", result.pretrain.losses),
                                              ("2. SFT: response next-token loss", result.sft.losses),
                                              ("3. reward model: Bradley-Terry loss", result.rm.losses)]):
        losses = np.asarray(losses)
        steps = np.arange(1, losses.shape[1] + 1)  # step 1 is the first, as metrics/*.csv number them
        for s in losses:
            ax.plot(steps, s, alpha=0.3, lw=0.7)
        ax.plot(steps, losses.mean(0), color="k", lw=1.5, label="mean over seeds")
        ax.set_title(name, fontsize=9)
        ax.set_xlabel("step")
        ax.grid(alpha=0.3)
    m = result.rl_metrics
    x = (np.arange(np.asarray(m.gold).shape[1]) + 1) * batch_size
    ax = axes[3]
    for label, v, c in [("gold", m.gold, "tab:green"), ("proxy (RM)", m.proxy, "tab:blue"), ("KL to SFT", m.kl, "tab:red")]:
        v = np.asarray(v)
        ax.plot(x, v.mean(0), color=c, label=label)
        ax.fill_between(x, v.min(0), v.max(0), color=c, alpha=0.15)
    ax.set_title("4. RLHF: reward and KL (band: min-max over seeds)", fontsize=9)
    ax.set_xlabel("responses sampled")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return _save(fig, path)


def write_config(out: Path, config: PipelineConfig, seeds: list[int], argv=None) -> None:
    """``config.json`` (the resolved pipeline, seeds, versions, command), written when the run directory is
    made, so that a run stopped before its end still says what it was."""
    runs.atomic_write_json(Path(out) / "config.json", {
        "pipeline": dataclasses.asdict(config), "seeds": seeds, "versions": runs.versions(),
        "command": shlex.join(sys.argv if argv is None else argv)})


def write_run(out: Path, config: PipelineConfig, seeds: list[int], result: PipelineResult) -> dict:
    """The results of ``pipeline``'s module docstring (``config.json`` is ``write_config``'s, written when the run
    directory was made), each file atomically, ``summary.json`` last: a run directory with a summary is whole
    (one stopped while it wrote has none). Returns the summary."""
    out = Path(out)
    (out / "metrics").mkdir(parents=True, exist_ok=True)
    runs.write_csv(out / "metrics" / "pretrain.csv", loss_rows(result.pretrain.losses, seeds), ("step", "seed", "loss"))
    runs.write_csv(out / "metrics" / "sft.csv", loss_rows(result.sft.losses, seeds), ("step", "seed", "loss"))
    runs.write_csv(out / "metrics" / "rm.csv", loss_rows(result.rm.losses, seeds), ("step", "seed", "loss"))
    runs.write_csv(out / "metrics" / "rl.csv", rl_rows(result.rl_metrics, seeds, config.rl.batch_size), RL_FIELDS)
    runs.atomic_write_text(out / "samples.md", "# Held-out prompts: SFT and RLHF responses (seed %d)\n\n%s\n"
                           % (seeds[0], samples_markdown(config, result)))
    stages_figure(result, out / "stages.png", config.rl.batch_size)
    for name, params in [("pretrain", result.pretrain.params), ("sft", result.sft.params), ("rm", result.rm.params),
                         *result.rl_state.params.items()]:  # "policy" (and "value" with a critic)
        runs.atomic_write_bytes(out / "checkpoints" / f"{name}.msgpack", serialization.to_bytes(params))
    summary = {
        "gold_heldout": gold_comparison(result),
        "rm_heldout_accuracy_vs_gold": interval(result.rm.heldout_accuracy),
        "rm_heldout_accuracy_vs_labels": interval(result.rm.heldout_label_accuracy),
        "rl_final": final_metrics(result.rl_metrics),
        # the controller's beta after the last update (rl_final's beta is the one that update's rewards used)
        "rl_beta_after_last_update": interval(result.rl_state.kl_ctl.beta),
        "rl_non_finite_seeds": result.rl_non_finite_seeds,
        "seconds": result.seconds,
        "seeds": seeds,
    }
    runs.atomic_write_json(out / "summary.json", summary)
    return summary


def _mean_ci(d: dict) -> str:
    """``mean [low, high]`` of an ``interval``; "none finite" without a mean; the seeds counted where some were not."""
    if d.get("mean") is None:
        return "none finite"
    some = f" ({d['seeds_counted']} of {len(d['per_seed'])} seeds finite)" if "seeds_counted" in d else ""
    if _counted(d) == 1:  # one seed: a point, not [x, x]
        return f"{d['mean']:.2f}{some}"
    return f"{d['mean']:.2f} [{d['ci95'][0]:.2f}, {d['ci95'][1]:.2f}]{some}"


#: the seeds the pipeline's defaults (``PipelineConfig``, ``policy_opt.Config``) were chosen on, looking at ``rl-zoo rlhf``'s
#: results (experiments/rlhf); a run on them flatters the defaults
DEFAULTS_CHOSEN_ON = range(0, 3)


def seeds_line(seeds: list[int]) -> str:
    """The summary's line on its seeds: which, and whether they are among those the defaults were chosen on (a plain
    ``rl-zoo rlhf`` runs seeds 0-2, and its verdict read as a held-out result). ``seeds``: any list (the command's
    are consecutive; the Python API's ``write_run`` takes others)."""
    from rl_zoo.seeds import REPORT_SEED, seeds_among_said

    first, last = seeds[0], seeds[-1]
    if len(seeds) == 1:
        which = f"seed {first}"
    elif list(seeds) == list(range(first, last + 1)):
        which = f"seeds {first}{' to ' if first < 0 else '-'}{last}"  # "-3--2" read badly
    else:
        which = f"seeds {', '.join(map(str, seeds))}"
    said = seeds_among_said(seeds, [DEFAULTS_CHOSEN_ON], "the pipeline's defaults were")
    if not said:
        return f"{which}, held out from the defaults' choice (seeds {DEFAULTS_CHOSEN_ON[0]}-{DEFAULTS_CHOSEN_ON[-1]})"
    return f"{which}: not held out ({said}, where they look better than on new seeds; --seed {REPORT_SEED} gives held-out ones)"


def format_summary(summary: dict) -> str:
    g = summary["gold_heldout"]
    verdict = {True: "separated", False: "NOT separated", None: "(1 seed: no interval to separate)"}[g["separated"]]
    if g.get("rlhf_below"):
        verdict = "separated: RLHF BELOW SFT"
    return "\n".join([
        seeds_line(summary["seeds"]),
        f"gold reward on held-out prompts, mean over seeds [{stats.interval_name(len(summary['seeds']))}]:",
        f"  SFT  {_mean_ci(g['sft'])}",
        f"  RLHF {_mean_ci(g['rlhf'])}   {verdict}",
        *([f"  warning: seed(s) {', '.join(map(str, summary['rl_non_finite_seeds']))} went non-finite in the RL stage: "
           f"their RLHF numbers are not results"] if summary.get("rl_non_finite_seeds") else []),
        f"reward model accuracy vs gold on held-out pairs (training prompts): {_mean_ci(summary['rm_heldout_accuracy_vs_gold'])}",
        "stage seconds: " + ", ".join(f"{stage} {seconds:.1f}" for stage, seconds in summary["seconds"].items()),
    ])
