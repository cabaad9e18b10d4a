"""Where a result came from: the library versions, the CPU's model, the JAX settings that change numbers
and the git commit of the source, recorded in every run directory's config.json, sweep.json, benchmark
grid and results file (``rl_zoo.runs`` re-exports these for the callers that read them from there).
"""

from __future__ import annotations

import functools
import os
import platform
import sys
from importlib import metadata
from pathlib import Path


def cpu_name() -> str:
    """The CPU model from /proc/cpuinfo (Linux), else what ``platform`` knows: timings of one model do
    not carry over to another (the results files say which)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


#: optional simulators recorded by ``versions`` when installed (the box2d / mujoco extras)
ENV_BACKENDS = ("mujoco", "box2d")


def versions() -> dict[str, str]:
    """Versions of Python, the platform and every library a result depends on, the CPU's model (timings
    and the last float bits of a run depend on it too), and the JAX settings that change numbers (x64,
    matmul precision, ``XLA_FLAGS`` and ``JAX_*`` variables but the compilation cache's)."""
    out = {"python": sys.version.split()[0], "platform": platform.platform(), "cpu": cpu_name()}
    for pkg in ("rl-zoo", "jax", "jaxlib", "flax", "optax", "chex", "gymnasium", "numpy", "scipy", "matplotlib"):
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            out[pkg] = "not installed"
    for pkg in ENV_BACKENDS:  # the physics behind gymnasium's Box2D and MuJoCo results, where installed
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            pass
    if commit := source_commit():
        out["rl-zoo-commit"] = commit
    try:
        import jax

        out["jax_backend"] = jax.default_backend()
        out["devices"] = ", ".join(str(d) for d in jax.devices())
        # settings that change a run's numbers as much as a version does (JAX_ENABLE_X64=1 trains another policy)
        out["jax_enable_x64"] = str(bool(jax.config.jax_enable_x64))
        out["jax_default_matmul_precision"] = str(jax.config.jax_default_matmul_precision)
        out["jax_default_prng_impl"] = str(jax.config.jax_default_prng_impl)  # the kind of a checkpoint's random keys
    except Exception:  # pragma: no cover
        pass
    for name in sorted(os.environ):  # XLA_FLAGS (the CPU split's device count among them) and JAX_* settings
        if name == "XLA_FLAGS" or (name.startswith("JAX_") and name not in UNRECORDED_JAX_VARIABLES):
            out[f"env {name}"] = os.environ[name]
    return out


#: JAX environment variables that do not change a run's numbers (where the compilation cache lives)
UNRECORDED_JAX_VARIABLES = ("JAX_COMPILATION_CACHE_DIR", "JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS",
                            "JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES")


@functools.lru_cache(maxsize=1)
def source_commit() -> str | None:
    """The git commit of the rl_zoo source this process imported (``git_commit`` of its checkout), where
    that source is a git checkout (an editable install); else ``None``. The package version (0.1.0) says
    nothing of the code between releases; the commit does."""
    return git_commit(Path(__file__).resolve().parent.parent)


def git_commit(root: Path) -> str | None:
    """The commit checked out at ``root``, with ``-dirty`` when tracked files differ from it or an
    untracked file sits in its ``rl_zoo/`` or ``envs/`` (a module not in the commit); None when ``root`` is
    not a git checkout or git cannot say."""
    import subprocess

    if not (root / ".git").exists():
        return None
    try:
        env = dict(os.environ, GIT_OPTIONAL_LOCKS="0")  # `git status` takes no index.lock
        run = lambda *args: subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True, timeout=10, env=env)  # noqa: E731
        head = run("rev-parse", "HEAD")
        if head.returncode != 0:
            return None
        dirty = (run("status", "--porcelain", "--untracked-files=no").stdout.strip()  # a tracked file edited
                 or run("status", "--porcelain", "--", "rl_zoo", "envs").stdout.strip())  # a new file of the source
        return head.stdout.strip() + ("-dirty" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        return None
