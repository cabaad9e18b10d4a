"""``rl-zoo``: train an algorithm, list environments and algorithms.

    rl-zoo train --algo ppo --env CartPole-v1 [--seeds N] [--total-steps N] [--set key=value ...] [--out DIR]
    rl-zoo envs [--all]
    rl-zoo algos
"""

from __future__ import annotations

import argparse
import dataclasses
import shlex
import sys

from rl_zoo.config import ConfigError, field_docs


def _config_help(algo: str) -> str:
    """Every config field of ``algo`` with its default (after the algorithm's presets) and meaning."""
    from rl_zoo import algos

    try:
        module, preset = algos.get(algo)
    except ValueError as e:
        return str(e)
    docs = field_docs(module.Config)
    lines = [f"config fields of {algo!r} (set with --set key=value; tuned per-env values in rl_zoo/hyperparams/{algo}.yaml override the defaults):"]
    for f in dataclasses.fields(module.Config):
        default = preset.get(f.name, f.default)
        lines.append(f"  {f.name} = {default!r}\n      {docs.get(f.name, '')}")
    return "\n".join(lines)


def _parse_sets(pairs: list[str]) -> dict[str, str]:
    out = {}
    for pair in pairs:
        if "=" not in pair:
            raise ConfigError(f"--set expects key=value, got {pair!r}")
        key, value = pair.split("=", 1)
        out[key.strip()] = value.strip()
    return out


def _build_parser(help_algo: str) -> argparse.ArgumentParser:
    from rl_zoo import algos

    parser = argparse.ArgumentParser(prog="rl-zoo", description="Pure-functional JAX reinforcement learning.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    t = sub.add_parser(
        "train",
        help="train an algorithm on an environment, all seeds vmapped",
        description="Train ALGO on ENV with SEEDS seeds (vmapped in one compiled program) and write a run "
        "directory with config.json, metrics.csv, summary.json and curve.png.",
        epilog=_config_help(help_algo) + f"\n\nalgorithms: {', '.join(algos.names())} (rl-zoo train --algo NAME --help shows NAME's fields)",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    t.add_argument("--algo", default="ppo", help=f"algorithm: {', '.join(algos.names())} (default ppo)")
    t.add_argument("--env", default="CartPole-v1", help="environment id (rl-zoo envs lists them; default CartPole-v1)")
    t.add_argument("--seeds", type=int, default=1, help="number of seeds, trained together (default 1)")
    t.add_argument("--seed", type=int, default=0, help="first seed; seeds are SEED, SEED+1, ... (default 0)")
    t.add_argument("--total-steps", type=int, default=None, help="env steps per seed (default: the tuned value)")
    t.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="override a config field (repeatable)")
    t.add_argument("--out", default=None, help="run directory (default runs/<algo>-<env>-<time>); must not hold files")
    t.add_argument("--runs-root", default="runs", help="where default run directories go (default runs/)")
    t.add_argument("--evals", type=int, default=10, help="greedy evaluations during training (default 10)")
    t.add_argument("--eval-episodes", type=int, default=10, help="episodes per evaluation and seed (default 10)")
    t.add_argument("--backend", choices=["jax", "gymnasium"], default=None, help="force the env backend")
    t.add_argument("--no-progress", action="store_true", help="no progress bar")

    e = sub.add_parser("envs", help="list environment ids with backend and spaces")
    e.add_argument("--all", action="store_true", help="also every gymnasium id without a JAX port (through the adapter)")

    sub.add_parser("algos", help="list the algorithms")
    return parser


def _help_algo(argv: list[str]) -> str:
    for i, a in enumerate(argv):
        if a == "--algo" and i + 1 < len(argv):
            return argv[i + 1]
        if a.startswith("--algo="):
            return a.split("=", 1)[1]
    return "ppo"


def _print_table(rows: list[dict[str, str]], cols: list[str]) -> None:
    widths = {c: max(len(c), *(len(str(r[c])) for r in rows)) for c in cols}
    print("  ".join(c.ljust(widths[c]) for c in cols))
    for r in rows:
        print("  ".join(str(r[c]).ljust(widths[c]) for c in cols))


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = _build_parser(_help_algo(argv)).parse_args(argv)
    try:
        if args.command == "envs":
            import envs

            _print_table(envs.describe(include_gymnasium=args.all), ["id", "backend", "observation", "action"])
            return 0
        if args.command == "algos":
            from rl_zoo.algos import ALGOS

            _print_table([dict(name=k, description=v[2]) for k, v in ALGOS.items()], ["name", "description"])
            return 0
        if args.command == "train":
            from rl_zoo.train import enable_compilation_cache, format_summary, train

            overrides = _parse_sets(args.set)
            enable_compilation_cache()
            result = train(
                args.algo, args.env, seeds=args.seeds, seed=args.seed, total_steps=args.total_steps,
                overrides=overrides, out=args.out, runs_root=args.runs_root, num_evals=args.evals,
                eval_episodes=args.eval_episodes, backend=args.backend, progress=not args.no_progress,
                command="rl-zoo " + shlex.join(argv),
            )
            print(format_summary(result))
            return 0
    except (ConfigError, ValueError, FileExistsError) as e:
        print(f"rl-zoo: error: {e}", file=sys.stderr)
        return 2
    return 1


if __name__ == "__main__":
    sys.exit(main())
