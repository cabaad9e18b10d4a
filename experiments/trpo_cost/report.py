"""The TRPO-cost README.md and finding.md: ``readme_template.md`` filled in with the table and the
numbers of a run (``run_info.json``'s summaries, ``curves.csv``, and the matched-batch timing of
``benchmarks/results/policy_gradient.json``); the interpretation is written by hand in the template."""

from __future__ import annotations

import json
from pathlib import Path

from experiments import common, reporting
from experiments.reporting import signed
from experiments.trpo_cost import compute
from experiments.trpo_cost.compute import SEGMENTS
from rl_zoo import runs

TEMPLATE = Path(__file__).with_name("readme_template.md")
BENCHMARK = Path(__file__).resolve().parents[2] / "benchmarks" / "results" / "policy_gradient.json"
FINDING = (
    "{verdict_sentence} With the tuned configs it costs {ratios} PPO's wall time per env step. "
    "It is slower per update on CartPole ({CartPole_trpo_update_ms} vs {CartPole_ppo_update_ms} ms) because its "
    "updates are {CartPole_size_ratio}× larger. On Pendulum, the natural-gradient step (CG/Fisher-vector products, "
    "line search) is {Pendulum_policy_share}% of TRPO's learning time, the rest the value fit (the two timed apart).")


CHEAP = 1.25
"""TRPO/PPO wall time per env step within [1/CHEAP, CHEAP] reads as "about as expensive"."""
SAME = 1.1
"""Backward-pass counts within a factor SAME of each other read as "about as many"."""


def ratio_text(r: float, ratios: dict) -> str:
    """A TRPO/PPO cost ratio to 1 decimal, or 2 where the envs' ratios would read alike at 1 ("0.9× (CartPole) to
    0.9× (Pendulum)" for 0.88 and 0.95)."""
    digits = 1 if len({f"{x:.1f}" for x in ratios.values()}) == len(ratios) else 2
    return f"{r:.{digits}f}"


def verdicts(ratios: list[float], trpo_backprop: list[float], ppo_backprop: list[float], envs: list[str]) -> dict:
    """The words of the finding, from the numbers: TRPO/PPO wall time per env step (``ratios``, one per
    env in ``envs``) against :data:`CHEAP`, and each env's backward-pass samples per env step."""
    if all(1 / CHEAP <= r <= CHEAP for r in ratios):
        per_step, bottom = "TRPO is about as expensive as PPO here", "TRPO is not computationally expensive next to PPO"
        claim = ("The usual claim that TRPO is costly (second-order products, CG) does not show at this scale: PPO's "
                 "epochs of minibatch gradients cost about as much.")
        sentence = "TRPO is not expensive next to PPO here."
    elif min(ratios) > CHEAP:
        per_step, bottom = "TRPO is more expensive than PPO here", "TRPO is computationally more expensive than PPO"
        claim = "The usual claim that TRPO is costly (second-order products, CG) shows at this scale."
        sentence = "TRPO is more expensive than PPO here."
    elif max(ratios) < 1 / CHEAP:
        per_step, bottom = "TRPO is cheaper than PPO here", "TRPO is computationally cheaper than PPO"
        claim = "The usual claim that TRPO is costly (second-order products, CG) is reversed at this scale."
        sentence = "TRPO is cheaper than PPO here."
    else:
        per_step = bottom = "TRPO's cost next to PPO depends on the env"
        claim = "The usual claim that TRPO is costly (second-order products, CG) holds on one env and not the other."
        sentence = "TRPO's cost next to PPO depends on the env here."

    def compared(t: float, p: float, env: str) -> str:
        word = ("about as many samples as PPO" if 1 / SAME <= t / p <= SAME
                else "more samples than PPO" if t > p else "fewer samples than PPO")
        return f"{word} on {env.split('-')[0]} ({t:.0f} vs {p:.0f})"

    backprop = " and ".join(compared(t, p, e) for t, p, e in zip(trpo_backprop, ppo_backprop, envs))
    return dict(per_step_verdict=per_step, bottom_verdict=bottom, bottom_claim=claim, verdict_sentence=sentence,
                backprop_compared=backprop)


def matched_batch_benchmark(path: Path = BENCHMARK) -> dict | None:
    """TRPO and PPO-clip at a matched batch, from benchmarks/results/policy_gradient.json (None if absent)."""
    try:
        data = json.loads(path.read_text())
        cost = {c["name"].split(" ")[0]: c for c in data["cost"]}
        trpo, ppo = cost["trpo"], cost["ppo-clip"]
        return dict(date=data.get("speed_date") or data.get("date") or "?",  # speed_date: the file's timing section
                    name_ppo=ppo["name"], batch=trpo["batch"], trpo_ms=trpo["update_ms"],
                    ppo_ms=ppo["update_ms"], trpo_learn=trpo["learn_ms"], trpo_policy=trpo["policy_step_ms"])
    except (OSError, KeyError, ValueError, TypeError):
        return None


def bench_fields(b: dict | None) -> dict:
    if b is None:
        return dict(bench="(`benchmarks/results/policy_gradient.json`, which times TRPO and PPO at a matched batch, "
                          "is not there.)", bench_ratio="?")
    return dict(bench_ratio=f"{b['trpo_ms'] / b['ppo_ms']:.1f}", bench=(
        f"`benchmarks/results/policy_gradient.json` (dated {b['date']}) times one seed at a *matched* batch of "
        f"{b['batch']} with {b['name_ppo']}. There TRPO's update is {b['trpo_ms'] / b['ppo_ms']:.1f}× PPO's "
        f"({b['trpo_ms']:.1f} vs {b['ppo_ms']:.1f} ms), and {100 * (1 - b['trpo_policy'] / b['trpo_learn']):.0f}% of "
        "TRPO's learning time is spent outside the natural-gradient step (the value fit and the rest; the "
        "parts are timed apart and need not add up)."))


def table(by: dict, env_ids: list[str]) -> str:
    def final(s, e):
        _, lo, hi = s["final_return_ci"]
        spec = ".1f" if abs(s["final_return_mean"]) < 1000 and e.startswith("CartPole") else ".0f"
        return reporting.value_interval(s["final_return_mean"], lo, hi, s["seeds"], ".0f", spec)

    return "\n".join(
        f"| {e} | {s['algo']} | {s['env_steps_per_update']} | {s['wall_ms_per_update_median']:.0f} | "
        f"{s['wall_ms_per_1000_env_steps']:.0f} | {compute.backprop_per_env_step(s):.0f} | {final(s, e)} | {s['train_s']:.1f} |"
        for e in env_ids for s in (by[(e, "PPO-clip")], by[(e, "TRPO")]))


def policy_share(trpo: dict) -> float:
    """The natural-gradient policy step's share of TRPO's learning, from the two parts timed apart on
    one batch (outside training): policy step / (policy step + value fit). The parts are timed in
    their own programs, so their sum need not equal the learning time measured in training; the share
    is what carries over to it."""
    return trpo["policy_step_ms"] / (trpo["policy_step_ms"] + trpo["value_fit_ms"])


def field(summary: dict, name: str) -> str:
    """A field of a summary's recorded config (a dict; older records hold the config as text)."""
    cfg = summary["config"]
    return f"{cfg[name]:g}" if isinstance(cfg, dict) else reporting.config_field(cfg, name)


def reach(curve: list[dict], threshold: float) -> str:
    """Training seconds at which the mean return first reached ``threshold``."""
    return next((f"{float(r['train_s']):.1f} s" for r in curve if float(r["return_mean"]) >= threshold), "never")


def fields(info: dict, curves: list[dict]) -> dict:
    from rl_zoo.benchmark import ENV_REFERENCES

    by = {(s["env"], s["algo"]): s for s in info["summaries"]}
    env_ids = list(dict.fromkeys(s["env"] for s in info["summaries"]))
    ratio = {e: by[(e, "TRPO")]["wall_ms_per_1000_env_steps"] / by[(e, "PPO-clip")]["wall_ms_per_1000_env_steps"]
             for e in env_ids}
    trpo0 = by[(env_ids[0], "TRPO")]
    f = dict(
        # a word on the recorded run written by hand (run_info.json's history_note; a new run's record has none)
        history_note=info.get("history_note", ""),
        quick_note=(f"\n**Smoke run (`--quick`): budgets cut tenfold, {runs.plural(trpo0['seeds'], 'seed')}. Not a result.**\n"
                         if "--quick" in info["command"] else ""),
             minutes=f"{info['wall_s'] / 60:.1f}", wall_s=f"{info['wall_s']:.0f}", command=info["command"],
             machine=info["machine"], compile_s=f"{sum(s['compile_s'] for s in info['summaries']):.0f}",
             seeds=trpo0["seeds"], seeds_words=runs.plural(trpo0["seeds"], "seed"), **reporting.interval_words(trpo0["seeds"]),
             segments=SEGMENTS, eval_episodes=info.get("eval_episodes", 10),
             cg_iters=field(trpo0, "cg_iters"), max_kl=field(trpo0, "max_kl"),
             seeds_text=common.seeds_text(trpo0.get("first_seed"), trpo0["seeds"]),
             env_budgets=" and ".join(f"{e} ({by[(e, 'PPO-clip')]['total_timesteps']:,} env steps)" for e in env_ids),
             trained="; ".join(f"{e.split('-')[0]} PPO-clip {by[(e, 'PPO-clip')]['env_steps']:,}, TRPO "
                               f"{by[(e, 'TRPO')]['env_steps']:,}" for e in env_ids),
             table=table(by, env_ids), ratio_lo=ratio_text(min(ratio.values()), ratio), ratio_hi=ratio_text(max(ratio.values()), ratio),
             ratios=" to ".join(f"{ratio_text(ratio[e], ratio)}× ({e.split('-')[0]})" for e in sorted(env_ids, key=ratio.get)),
             quartiles="; ".join(f"{s['algo']} on {e.split('-')[0]} {s['wall_ms_per_1000_env_steps_q25']:.0f}–"
                                 f"{s['wall_ms_per_1000_env_steps_q75']:.0f} ms"
                                 for e in env_ids for s in (by[(e, "PPO-clip")], by[(e, "TRPO")])),
             **bench_fields(matched_batch_benchmark()),
             **verdicts([ratio[e] for e in env_ids], [compute.backprop_per_env_step(by[(e, "TRPO")]) for e in env_ids],
                        [compute.backprop_per_env_step(by[(e, "PPO-clip")]) for e in env_ids], env_ids))
    for e in env_ids:
        s, t, p = e.split("-")[0], by[(e, "TRPO")], by[(e, "PPO-clip")]
        thr = ENV_REFERENCES[e].solved
        f.update({f"{s}_ratio": f"{ratio[e]:.2f}", f"{s}_threshold": signed(thr, ".0f"),
                  f"{s}_size_ratio": f"{t['env_steps_per_update'] / p['env_steps_per_update']:.0f}",
                  f"{s}_policy_ms": f"{t['policy_step_ms']:.0f}", f"{s}_value_ms": f"{t['value_fit_ms']:.0f}",
                  f"{s}_value_steps": t["value_gradients"], f"{s}_value_samples": t["value_gradient_samples"],
                  f"{s}_policy_per_k": f"{policy_share(t) * t['learn_ms_per_1000_env_steps']:.0f}",
                  f"{s}_parts_ms": f"{t['policy_step_ms'] + t['value_fit_ms']:.0f}",
                  f"{s}_policy_share": f"{100 * policy_share(t):.0f}",
                  f"{s}_trpo_learn_ms": f"{t['learn_ms_per_update_median']:.0f}",
                  f"{s}_policy_in_learn_ms": f"{policy_share(t) * t['learn_ms_per_update_median']:.0f}",
                  f"{s}_line_search": f"{t['line_search_forward_passes']:.2f}",
                  f"{s}_ppo_learn_per_k": f"{p['learn_ms_per_1000_env_steps']:.0f}", f"{s}_ppo_grads": p["policy_gradients"],
                  f"{s}_tuned": (f"{p['tuned_total_timesteps']:,}" if p["tuned_total_timesteps"] == t["tuned_total_timesteps"] else
                                  f"{p['tuned_total_timesteps']:,} and {t['tuned_total_timesteps']:,}"),
                  f"{s}_ppo_budget": f"{p['total_timesteps']:,}"})
        for key, x in (("ppo", p), ("trpo", t)):
            ci = x["final_return_ci"]
            curve = [r for r in curves if r["env"] == e and r["algo"] == x["algo"]]
            f.update({f"{s}_{key}_update_ms": f"{x['wall_ms_per_update_median']:.0f}",
                      f"{s}_{key}_batch": x["env_steps_per_update"],
                      f"{s}_{key}_backprop": f"{compute.backprop_per_env_step(x):.0f}",
                      f"{s}_{key}_final": reporting.value_interval(*ci, x["seeds"]),
                      f"{s}_{key}_train_s": f"{x['train_s']:.1f}", f"{s}_{key}_reach": reach(curve, thr)})
    return f


def write(out: Path, info: dict, curves: list[dict]) -> str:
    """Write README.md and finding.md into ``out``; returns the finding."""
    f = fields(info, curves)
    trpo0 = next(s for s in info["summaries"] if s["algo"] == "TRPO")
    banner = common.tuning_banner(trpo0.get("first_seed"), trpo0["seeds"])
    reporting.fill_template(TEMPLATE, out / "README.md", f, banner)
    return reporting.write_finding(out, FINDING.format(**f), smoke=bool(f["quick_note"]), tuning=bool(banner))
