"""The small commands of ``rl-zoo``: ``envs`` and ``algos`` (tables of what it trains on and with), and ``enjoy``
(play a run's greedy policy, rl_zoo/enjoy.py). ``rl_zoo.cli`` builds their parsers with these functions and calls
their ``*_main`` with the parsed arguments."""

from __future__ import annotations

import argparse
import sys

from rl_zoo.config import ConfigError


def add_listing_parsers(sub) -> None:
    """``rl-zoo envs`` and ``rl-zoo algos``."""
    e = sub.add_parser("envs", help="list environment ids with backend and spaces; `rl-zoo envs ID`: one env's options",
                       description="List the environment ids rl-zoo trains on, with their backend and spaces. With an ID: "
                       "that env's spaces and the options it takes (rl-zoo train --env-kwargs KEY=VALUE), with their defaults.")
    e.add_argument("env_id", nargs="?", default=None, metavar="ID", help="an env id: show its options")
    e.add_argument("--all", action="store_true", help="also every gymnasium id without a JAX port (through the adapter)")
    e.add_argument("--backend", choices=["jax", "gymnasium"], default=None,
                   help="with an ID: the options of this backend's env (default: the JAX port where one exists)")

    sub.add_parser("algos", help="list the algorithms", description="List the algorithms rl-zoo trains, with their papers.")


def listing_main(args) -> int:
    """``rl-zoo envs [ID]`` and ``rl-zoo algos``: their tables, the exit status."""
    if args.command == "envs" and args.env_id is not None:
        if args.all:
            raise ConfigError(f"--all lists every env id; `rl-zoo envs {args.env_id}` shows that env alone: give one of them")
        return print_env_options(args.env_id, args.backend)
    if args.command == "envs" and args.backend is not None:
        raise ConfigError("--backend picks which env's options `rl-zoo envs ID --backend B` shows: give an ID")
    if args.command == "envs":
        import envs

        rows = envs.describe(include_gymnasium=args.all)
        print_table(rows, ["id", "backend", "observation", "action"] + (["note"] if any(r["note"] for r in rows) else []))
        if not args.all:
            print(f"{len(rows)} JAX ports. Any other gymnasium id (LunarLander-v3, Hopper-v5, ...) trains through the "
                  f"adapter: `rl-zoo envs --all` lists those installed")
        return 0
    if args.command == "algos":
        from rl_zoo.algos import ALGOS

        print_table([dict(name=k, description=v[2]) for k, v in ALGOS.items()], ["name", "description"])
        return 0
    raise AssertionError(args.command)


def add_enjoy_parser(sub) -> None:
    """``rl-zoo enjoy`` (rl_zoo/enjoy.py)."""
    p = sub.add_parser(
        "enjoy", help="play a trained run's greedy policy, print each return, optionally record a GIF or MP4",
        description="Load RUN_DIR's newest intact checkpoint (or --checkpoint), play the greedy policy (observation "
        "normalisation from training applied) for --episodes episodes and print each return. --record writes them "
        "all to one .gif or .mp4 (JAX ports are drawn by gymnasium's own renderer from the port's states; adapter "
        "envs draw themselves). Drawing needs pygame and mp4 needs imageio-ffmpeg: pip install -e \".[video]\".",
    )
    p.add_argument("run_dir", metavar="RUN_DIR", nargs="?", help="a run directory written by rl-zoo train")
    p.add_argument("--checkpoint", default=None, metavar="FILE", help="checkpoint to load: a file name in RUN_DIR/checkpoints, or a path (another run's only if it has this run's algorithm, env and config); default: the run's newest intact one (a damaged newer one is named and skipped)")
    p.add_argument("--episodes", type=int, default=1, help="episodes to play (default 1)")
    p.add_argument("--record", default=None, metavar="OUT.gif|OUT.mp4", help="write the episodes to this video file, replacing one of that name (an mp4's frames go to ffmpeg as they are drawn; a GIF's "
                        "are held in memory until the end, 0.72 MB per 600x400 frame: 20 CartPole episodes of 500 steps "
                        "hold ~7 GB; record fewer episodes per GIF, or use --width / --frame-skip)")
    p.add_argument("--seed", type=int, default=0, help="seed of the episodes' initial states (default 0)")
    p.add_argument("--policy-seed", type=int, default=None, help="which of the run's training seeds plays, by its value, not its position "
                   "(a run of --seed 1000 --seeds 3 has 1000, 1001, 1002; default its first)")
    p.add_argument("--frame-skip", type=int, default=1, help="record every N-th frame, played at fps/N (default 1); on a JAX port or a MuJoCo env the others are not drawn, so N also cuts the time a recording takes (a MuJoCo frame is ~0.1 s on a CPU); other gymnasium envs (Box2D) draw every frame as they step")
    p.add_argument("--width", type=int, default=None, help="scale the recorded frames to this width in pixels, 2 to 3840 (default: the env's native width)")
    p.add_argument("--env", dest="env_given", default=None, help=argparse.SUPPRESS)  # said it takes no --env (argparse
    # took `--env ID` for --env-kwargs: "expects KEY=VALUE pairs")
    p.add_argument("--env-kwargs", action="extend", nargs="+", default=[], metavar="KEY=VALUE",
                   help="play on the env made with these options on top of the run's (`rl-zoo envs ID` lists them): "
                        "CartPole-v1 length=1.0 tries the policy on a pole twice as long as it trained on; an env whose "
                        "observation or action space changes kind or shape is refused")


def enjoy_main(args) -> int:
    """``rl-zoo enjoy``: play (and record) a run's greedy policy; the exit status."""
    from envs.render import RenderError
    from rl_zoo.enjoy import enjoy

    if args.env_given is not None:
        raise ConfigError(f"rl-zoo enjoy plays the env RUN_DIR trained on (its config.json), so it takes no --env "
                          f"({args.env_given!r}): --env-kwargs KEY=VALUE plays that env with other options")
    if args.record is None and (args.frame_skip != 1 or args.width is not None):
        print("note: --frame-skip and --width shape a recording: without --record they do nothing", file=sys.stderr)
    from rl_zoo.config import parse_env_kwargs

    if args.run_dir is None:  # `enjoy --env-kwargs k=v RUN_DIR`: the options' list took the folder
        if not (args.env_kwargs and "=" not in args.env_kwargs[-1]):
            raise ConfigError("give RUN_DIR, the run directory to play: rl-zoo enjoy RUN_DIR [options]")
        args.run_dir = args.env_kwargs.pop()
    env_kwargs = parse_env_kwargs(args.env_kwargs)
    try:
        enjoy(args.run_dir, checkpoint=args.checkpoint, episodes=args.episodes, record=args.record, seed=args.seed,
              frame_skip=args.frame_skip, width=args.width, policy_seed=args.policy_seed, env_kwargs=env_kwargs)
    except (RenderError, ImportError) as e:
        from rl_zoo import interrupt

        interrupt.raise_if_signalled()  # Box2D's drawing turned a Ctrl-C into a TypeError: the stop, not a failure
        print(f"rl-zoo: error: {e}", file=sys.stderr)
        return 2
    return 0


def print_table(rows: list[dict[str, str]], cols: list[str]) -> None:
    widths = {c: max(len(c), *(len(str(r[c])) for r in rows)) for c in cols}
    print("  ".join(c.ljust(widths[c]) for c in cols).rstrip())
    for r in rows:
        print("  ".join(str(r[c]).ljust(widths[c]) for c in cols).rstrip())


def print_env_options(env_id: str, backend: str | None) -> int:
    """``rl-zoo envs ID``: the env's backend and spaces, then every option it takes with its default, written
    as ``--env-kwargs`` reads it back."""
    import envs
    from envs.options import (KINDS, REQUIRED, env_options, has_gymnasium_twin, only_gymnasium_takes, option_text,
                              takes_more)

    asked = backend
    backend, options = env_options(env_id, backend)  # an unknown id: its error, first
    try:
        made = env, params = envs.registry.made_quietly(env_id, backend)
        spaces = f"observation {env.observation_space(params)}, action {env.action_space(params)}"
    except Exception as e:  # an env of one's own that needs an option to be made at all
        made, spaces = None, f"it cannot be made with its default options ({type(e).__name__}: {e})"
    print(f"{env_id} ({backend}{': through the adapter' if backend == 'gymnasium' else ': a pure-JAX port'}); {spaces}")
    flag, arg = (" --backend gymnasium", ", backend='gymnasium'") if asked == "gymnasium" else ("", "")
    print(f"options, each given as `rl-zoo train --env {env_id}{flag} --env-kwargs KEY=VALUE ...` (in Python "
          f"envs.make({env_id!r}{arg}, KEY=VALUE)); quote a pair whose value has spaces, brackets or braces, "
          f"'KEY=[a, b]':")
    ruled = any(o.allowed for o in options)  # a port's rules for its physical constants (EnvParams.invalid)
    print_table([dict(option="max_episode_steps" if o.kind == "time limit" else o.name,
                       default="-" if o.allowed == REQUIRED else option_text(o.default),
                       kind=o.kind, allowed=o.allowed) for o in options], ["option", "default", "kind"] + ["allowed"] * ruled)
    for kind in dict.fromkeys(o.kind for o in options):
        print(f"{kind}: {KINDS[kind]}")
    if backend == "jax" and made is not None:
        print_sweepable(*made)
    if takes_more(env_id, backend):
        print("its constructor also takes **kwargs: it may take options not listed here")
    if backend == "jax" and has_gymnasium_twin(env_id):
        only, listed = only_gymnasium_takes(env_id), f"rl-zoo envs {env_id} --backend gymnasium"
        if only is None:
            print(f"gymnasium's own {env_id} may take other options: {listed}")
        elif only:
            print(f"gymnasium's own {env_id} also takes {', '.join(only)} (--backend gymnasium): {listed}")
        else:
            print(f"gymnasium's own {env_id} takes no option the port lacks ({listed} lists its own)")
    return 0


def print_sweepable(env, params) -> None:
    """The line of ``rl-zoo envs ID`` on which params fields a sweep can trace (``--grid env.NAME=...``)."""
    from envs.options import sweepable

    traced, fixed = sweepable(env, params)
    if traced or fixed:
        print(f"rl-zoo sweep --grid env.NAME=V1,V2 traces: {', '.join(traced) or 'none'}"
              + (f"; not {', '.join(fixed)} (they bound the env's spaces: one value per run, --env-kwargs NAME=VALUE)" if fixed else ""))
