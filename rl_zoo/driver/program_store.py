"""A JAX run's compiled programs kept on disk, so that the same command run again skips tracing them too.

JAX's persistent compilation cache (``spec.enable_compilation_cache``) saves XLA's compile, but it keys on
the lowered program: a warm ``rl-zoo train`` still traces and lowers its three programs (initial states,
segment, evaluation) before each cache lookup. This store keys the compiled programs on everything that
decides them *before* tracing, and keeps them with ``jax.experimental.serialize_executable``: a warm PPO
CartPole-v1 command (1 seed, 2-core CPU) took 6.16 s with JAX's cache alone and takes 4.61 s with the store
(medians of 5 alternating runs, ``benchmarks/results/program_store_ab1.md``). The key is made of:

* the run's spec as ``config.json`` records it (``RunSpec.fields_json``: without the command, and without the
  versions, which the next item covers), less the first seed (an argument of the programs, not part of them)
  and the fields that only the host reads (``keep_checkpoints``, ``vector_env``);
* the code (``code_identity``) of the packages that traced code calls (``PROGRAM_PACKAGES``: rl_zoo, envs,
  jax, jaxlib, optax, ...) and of the modules that define the env, its parameters, the agent and the algorithm
  (a user's env module among them): every source file of a checkout or editable install, the ``__init__`` of
  a pip-installed package: a file edited, added or reinstalled is another key (a file of ``site-packages``
  edited in place is not: clear the store, or set ``RL_ZOO_NO_CACHE=1``); the same for every other module the
  process imported from outside the standard library and pip's folders (``local_modules``: a helper module
  beside a user's env, a namespace package's), and the install of each package those hold as a module, function
  or class (``packages_held_by``: ``import mylib``). An env or agent defined where no file says what it is (a
  notebook's cell) turns the store off for the run;
* the env's parameters by value (``params_digest``: constants of the programs, whatever code computed them), and
  what the env object itself and its class hold by value (``object_digest``: a user's env that read a level from a
  file or a scale from an environment variable in ``__init__`` got the programs stored for the other value), and
  the data a user's modules hold in their globals (``module_data``: a level read as the module was imported,
  ``from mylib import SCALE``); an object too deep to read turns the store off for the run;
* the machine and JAX's settings: the devices (platform, kind, id, process), the backend's version, the CPU's
  model and feature flags, Python's version, JAX's configuration values and the ``XLA_*``, ``JAX_*`` and
  ``TF_*`` environment variables;
* the XLA compiler options of each program (``plan.compile_options``).

It lives beside JAX's cache (``<cache>-programs``, for the default ``~/.cache/rl_zoo/jax-programs``) and is on
in the processes of the commands (``rl-zoo train``, a benchmark cell; not a Python caller's: ``enable``) when
that cache is (``RL_ZOO_NO_CACHE=1`` turns both off), in single-process runs. It keeps the ``MAX_ENTRIES`` most
recently used plans. Only programs XLA compiled in this process are stored: an executable that JAX's cache
loaded serializes without its code on the CPU (jax 0.10.2: the reloaded copy fails with "Function ... not found"
when called). So where a run's initial states or evaluation came from JAX's cache (another run compiled the
same, one that changed only the learning rate, say), the entry holds the rest (the segment), and the run after
it loads that and traces the others; a program stored once is kept as read, never serialized again. An entry
that cannot be read or loaded, or whose bytes are not those saved (a sha256 is checked before its machine code
is loaded: a damaged one killed every later run), is deleted and the run compiles. Like JAX's own cache, an entry is machine code
that this process runs: the folder must be the user's own. Measured on the CPU only (no accelerator was at hand
when it was written).
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import pickle
import platform
import sys
import threading
import types
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rl_zoo import runs

#: plans kept; the least recently used beyond it are deleted when another is stored (PPO CartPole-v1's
#: plan takes about 2.4 MB with one seed)
MAX_ENTRIES = 32
#: the spec fields that do not enter the compiled programs
HOST_ONLY_FIELDS = ("seed", "keep_checkpoints", "vector_env")
#: packages whose code a run's programs are traced from, whatever the env (``code_roots`` adds the env's own)
PROGRAM_PACKAGES = ("rl_zoo", "envs", "jax", "jaxlib", "optax", "flax", "chex", "numpy", "ml_dtypes", "scipy",
                    "opt_einsum", "gymnasium")
#: the files ``code_identity`` stats
CODE_SUFFIXES = (".py", ".so", ".pyd", ".dylib")
#: the folders pip installs packages into (``code_identity``)
INSTALL_FOLDERS = {"site-packages", "dist-packages"}
#: environment variables that can change what XLA compiles
ENV_PREFIXES = ("XLA_", "JAX_", "TF_")


@dataclass(frozen=True)
class Stored:
    """What the store holds for a run: its programs loaded (``jax.stages.Compiled`` by role: "init", "segment",
    "eval"; those an earlier run compiled, not always all three) and their serialized records, kept as read (an
    executable loaded from bytes cannot be serialized again: see the module docstring)."""

    programs: dict[str, Any] = field(default_factory=dict)
    records: dict[str, Any] = field(default_factory=dict)


_enabled = False  # set by ``enable``


def enable() -> None:
    """Use the store in this process: called by the commands' own processes (``rl_zoo.cli.console_main``, a
    benchmark cell's process), never by the Python API. A notebook or script may patch a function of rl_zoo or
    of an env at run time, which no file's size or time records: its runs trace, as before the store."""
    global _enabled
    _enabled = True


def store_dir() -> Path | None:
    """The store's folder beside JAX's compilation cache, or None when this process does not use the store
    (``enable``), the cache is off, or the run spans several processes (a multi-host run's programs hold every
    host's devices: not tried, so not stored)."""
    import jax

    cache = jax.config.jax_compilation_cache_dir
    if not _enabled or not cache or os.environ.get("RL_ZOO_NO_CACHE") or jax.process_count() > 1:
        return None
    cache = Path(cache)
    return cache.with_name(cache.name + "-programs")


def code_roots(*objects: Any) -> frozenset[str] | None:
    """``PROGRAM_PACKAGES`` and the top-level modules that define ``objects`` (an env, its parameters, the
    agent, the algorithm's module; an object's ``env`` attribute, a wrapper's env, too); None when one of them
    comes from a module without a file (a notebook's ``__main__``), whose code no key can cover."""
    roots = set(PROGRAM_PACKAGES)
    for obj in objects:
        while obj is not None:
            name = obj.__name__ if isinstance(obj, types.ModuleType) else type(obj).__module__
            if not isinstance(getattr(sys.modules.get(name), "__file__", None), str):
                return None
            roots.add(name.split(".")[0])
            obj = None if isinstance(obj, types.ModuleType) else getattr(obj, "env", None)
    local = local_modules()
    return frozenset(roots | local | packages_held_by(local - set(PROGRAM_PACKAGES)))


def local_modules() -> set[str]:
    """The top-level modules and packages this process imported from files of its own: neither the standard
    library nor a pip install (a user's env module, and the helper module beside it whose constants it reads).
    A module inside a package is named by its package: ``nsproj.consts`` of a folder without ``__init__.py`` (a
    namespace package, which has no file) was left out, and an edit to it reused the programs of the old value."""
    import sysconfig

    stdlib = {os.path.realpath(sysconfig.get_paths()[k]) for k in ("stdlib", "platstdlib")}
    out = set()
    for name, module in list(sys.modules.items()):
        path = getattr(module, "__file__", None)
        if not isinstance(path, str):
            continue
        real = os.path.realpath(path)
        if set(Path(real).parts) & INSTALL_FOLDERS or any(real.startswith(d + os.sep) for d in stdlib):
            continue
        out.add(name.split(".")[0])
    return out


def packages_held_by(roots: set[str]) -> set[str]:
    """The top-level packages outside the standard library that the modules of ``roots`` (a user's own: not
    ``PROGRAM_PACKAGES``, whose dependencies are fixed) hold in their globals, as a module (``import mylib``) or a
    function or class of one: ``code_identity`` keys their installs (an upgraded ``mylib`` reused the programs of
    the old one). A value imported by name (``from mylib import SCALE``, a float) names no package."""
    out = set()
    for _, module in _modules_under(roots):
        for value in list(vars(module).values()):
            owner = (value.__name__ if isinstance(value, types.ModuleType)
                     else getattr(value, "__module__", None) if isinstance(value, (type, types.FunctionType)) else None)
            if isinstance(owner, str) and owner:
                out.add(owner.split(".")[0])
    return {top for top in out if top not in sys.stdlib_module_names and top not in ("__main__", *roots)}


def _modules_under(roots: set[str]) -> list[tuple[str, types.ModuleType]]:
    """``(name, module)`` of every imported module of the packages or modules ``roots``, by name."""
    return [(name, module) for name, module in sorted(sys.modules.items())
            if name.split(".")[0] in roots and isinstance(module, types.ModuleType)]


def params_digest(tree: Any) -> str:
    """The sha256 of a pytree's structure and its leaves' dtypes, shapes and values (an env's parameters:
    constants of the compiled programs, whichever code computed them)."""
    import jax
    import numpy as np

    leaves, treedef = jax.tree.flatten(tree)
    h = hashlib.sha256(str(treedef).encode())
    for leaf in leaves:
        a = np.asarray(leaf)
        h.update(f"{a.dtype}{a.shape}".encode())
        h.update(a.tobytes() if a.dtype != object else repr(a).encode())
    return h.hexdigest()


def object_digest(obj: Any) -> str:
    """The sha256 of what an object holds by value (an env: the attributes its ``__init__`` set, read from a data file
    or an environment variable, say, are constants of the traced programs as its parameters are): every attribute,
    recursively (a wrapper's ``env`` too, each object once); an array by dtype, shape and bytes (a JAX key by its key
    data); a set by its elements' digests, sorted (Python's hash order differs between processes); a function by its
    qualified name (its code is ``code_identity``'s) with the values it closes over and its defaults, a
    ``functools.partial`` with its arguments; anything else by its type and ``repr`` less memory addresses. Values a
    function reads from its module's globals are not covered. ``store_key`` turns the store off for an object this
    cannot read."""
    import functools
    import re

    import numpy as np

    seen: set[int] = set()

    def digest(x, depth: int) -> bytes:
        h = hashlib.sha256(type(x).__qualname__.encode())
        if isinstance(x, (str, bytes, bool, int, float, complex, type(None))):
            h.update(repr(x).encode())
        elif hasattr(x, "dtype") and (isinstance(x, (np.ndarray, np.generic)) or hasattr(x, "__array__")):
            import jax

            if jax.dtypes.issubdtype(x.dtype, jax.dtypes.prng_key):  # a typed key: no numpy view of it
                h.update(f"{x.dtype}".encode())
                x = jax.random.key_data(x)
            a = np.asarray(x)
            h.update(f"{a.dtype}{a.shape}".encode() + (a.tobytes() if a.dtype != object else repr(a).encode()))
        elif id(x) in seen:  # hashed where first met (a cycle, or a value shared)
            h.update(b"<seen>")
        elif depth > MAX_DIGEST_DEPTH:  # a value further down was left out: its change reused the old programs
            raise ValueError(f"object_digest: an object more than {MAX_DIGEST_DEPTH} levels below the env")
        elif isinstance(x, (list, tuple)):
            h.update(b"".join(digest(item, depth + 1) for item in x))
        elif isinstance(x, (set, frozenset)):
            h.update(b"".join(sorted(digest(item, depth + 1) for item in x)))
        elif isinstance(x, dict):
            h.update(b"".join(sorted(digest(k, depth + 1) + digest(v, depth + 1) for k, v in x.items())))
        elif isinstance(x, functools.partial):
            h.update(digest((x.func, x.args, x.keywords), depth + 1))
        elif isinstance(x, types.MethodType):
            seen.add(id(x))
            h.update(digest((x.__func__, x.__self__), depth + 1))
        elif isinstance(x, types.FunctionType):
            seen.add(id(x))
            cells = [c.cell_contents for c in (x.__closure__ or ()) if _filled(c)]
            h.update(f"{x.__module__}.{x.__qualname__}".encode() + digest((cells, x.__defaults__, x.__kwdefaults__), depth + 1))
        elif isinstance(x, (types.BuiltinFunctionType, type, types.ModuleType)):
            h.update(f"{getattr(x, '__module__', '')}.{getattr(x, '__qualname__', getattr(x, '__name__', ''))}".encode())
        elif hasattr(x, "__dict__") or hasattr(type(x), "__slots__"):
            seen.add(id(x))
            fields = class_data(type(x))  # read through the object as its own are (``self.SCALE``)
            fields.update(getattr(x, "__dict__", {}))
            fields.update({n: getattr(x, n) for n in getattr(type(x), "__slots__", ()) if hasattr(x, n)})
            h.update(f"{type(x).__module__}".encode() + digest(fields, depth + 1))
        else:
            h.update(re.sub(r" at 0x[0-9a-fA-F]+", "", repr(x)).encode())
        return h.digest()

    return digest(obj, 0).hex()


def module_data(roots: set[str]) -> dict[str, dict[str, Any]]:
    """The data the modules of ``roots`` (a user's own, not ``PROGRAM_PACKAGES``) hold in their globals, by module
    and name, for ``object_digest``: a level read from a file as the module was imported, a constant imported by
    name from a package (``from mylib import SCALE``), which the traced code reads as a constant. Modules, functions,
    classes (code: ``code_identity``'s), dunder names and objects of the standard library's types (a logger) are left
    out."""
    out: dict[str, dict[str, Any]] = {}
    for name, module in _modules_under(roots):
        data = {}
        for key, value in list(vars(module).items()):
            owner = type(value).__module__.split(".")[0]
            if (key.startswith("__") or callable(value) or isinstance(value, types.ModuleType)
                    or (owner != "builtins" and owner in sys.stdlib_module_names)):
                continue
            data[key] = value
        out[name] = data
    return out


#: how far below the env ``object_digest`` reads; an object further down turns the store off for the run
MAX_DIGEST_DEPTH = 16


def class_data(cls: type) -> dict[str, Any]:
    """The data attributes ``cls`` and its bases (but ``object``'s and the standard library's) define, by name, a
    subclass's over its base's: values such as ``SCALE = float(os.environ["REWARD_SCALE"])``, set as its module was
    imported, that its methods read through ``self`` (methods, properties and other descriptors, classes and
    dunder names left out: code is ``code_identity``'s)."""
    out: dict[str, Any] = {}
    for base in reversed(cls.__mro__):
        if base.__module__.split(".")[0] in sys.stdlib_module_names:  # builtins' object among them
            continue
        for name, value in vars(base).items():
            if name.startswith("__") or isinstance(value, (types.FunctionType, staticmethod, classmethod, property, type,
                                                            types.MemberDescriptorType, types.GetSetDescriptorType)):
                continue
            out[name] = value
    return out


def _filled(cell) -> bool:
    try:
        cell.cell_contents
    except ValueError:  # a closure cell not bound yet
        return False
    return True


def code_identity(roots: frozenset[str]) -> list[tuple[str, int, int]]:
    """``(file, size, mtime_ns)`` of the modules or packages ``roots``, found where Python would import them
    from, imported or not: every source and extension file of a package outside ``site-packages`` (rl_zoo and
    envs in a checkout, a user's env package; tests and caches left out), the ``__init__`` file of one pip
    installed (which every install of another version rewrites), sorted. Walking every file of the installed
    ones too (jax's 600, numpy's 250) took 0.4 s (measured with matplotlib's import on a thread beside it)."""
    out = []
    for root in sorted(roots):
        module = sys.modules.get(root)
        if module is not None:  # where this process imported it from (a script's __main__ too)
            files, dirs = [getattr(module, "__file__", None)], list(getattr(module, "__path__", []))
        else:
            try:
                found = importlib.util.find_spec(root)
            except (ImportError, ValueError):
                found = None
            if found is None:
                out.append((root, -1, -1))  # not installed: installing it is another key
                continue
            files, dirs = [found.origin], list(found.submodule_search_locations or [])
        installed = [d for d in dirs if set(Path(d).parts) & INSTALL_FOLDERS]
        dirs = [d for d in dirs if d not in installed]  # an installed package's __init__: rewritten by every install
        for folder in dirs:
            for where, subdirs, names in os.walk(folder):
                subdirs[:] = sorted(d for d in subdirs if d not in ("__pycache__", "tests"))
                files += [os.path.join(where, n) for n in sorted(names) if n.endswith(CODE_SUFFIXES)]
        for path in files:
            if not isinstance(path, str):
                continue
            try:
                st = os.stat(path)
            except OSError:
                continue
            out.append((path, st.st_size, st.st_mtime_ns))
    return sorted(set(out))


def cpu_identity() -> str:
    """The CPU's model and feature flags (XLA compiles for the host's instruction set)."""
    try:
        lines = Path("/proc/cpuinfo").read_text().splitlines()
    except OSError:
        return f"{platform.machine()} {platform.processor()}"
    wanted = ("model name", "flags", "Features", "CPU implementer", "CPU part")
    seen: dict[str, str] = {}
    for line in lines:
        key = line.split(":", 1)[0].strip()
        if key in wanted and key not in seen:
            seen[key] = line.split(":", 1)[1].strip() if ":" in line else ""
    return json.dumps(seen, sort_keys=True)


def key_material(spec_json: dict[str, Any], options: dict[str, Any], roots: frozenset[str], *,
                 env_params: Any = None, environ: dict[str, str] | None = None, env: Any = None) -> dict[str, Any]:
    """Everything the key of a plan hashes (module docstring), as one JSON-able dict."""
    import jax

    environ = os.environ if environ is None else environ
    spec_part = {k: v for k, v in spec_json.items() if k not in HOST_ONLY_FIELDS}
    devices = [(d.id, d.platform, d.device_kind, d.process_index) for d in jax.devices()]
    return {
        "spec": spec_part,
        "env_params": params_digest(env_params),
        "env": object_digest(env),
        "modules": object_digest(module_data(set(roots) - set(PROGRAM_PACKAGES))),
        "options": options,
        "code": code_identity(roots),
        "devices": devices,
        "backend": jax.devices()[0].client.platform_version,
        "cpu": cpu_identity(),
        "python": sys.version,
        "jax_config": sorted((k, repr(v)) for k, v in jax.config.values.items()),
        "environ": sorted((k, v) for k, v in environ.items() if k.startswith(ENV_PREFIXES)),
    }


def plan_key(material: dict[str, Any]) -> str:
    """The sha256 of ``key_material``'s canonical JSON."""
    return hashlib.sha256(json.dumps(material, sort_keys=True, default=repr).encode()).hexdigest()


def load(folder: Path, key: str) -> Stored:
    """The programs stored under ``key`` (none when there is no entry; an unreadable entry is deleted)."""
    from jax.experimental import serialize_executable

    path = folder / f"{key}.pkl"
    try:
        data = path.read_bytes()
    except OSError:
        return Stored()
    try:
        entry = pickle.loads(data)
        if hashlib.sha256(entry["records"]).hexdigest() != entry["sha256"]:  # a damaged file: its machine code
            raise ValueError("damaged entry")  # loaded killed the process (an illegal instruction), run after run
        records = pickle.loads(entry["records"])
        programs = {role: serialize_executable.deserialize_and_load(*record) for role, record in records.items()}
    except Exception:  # noqa: BLE001 - another jax's entry, a torn file: compile as if it were not there
        try:
            path.unlink(missing_ok=True)
        except OSError:  # a read-only store: the entry stays, the run compiles all the same
            pass
        return Stored()
    try:
        os.utime(path)  # most recently used: kept longest
    except OSError:
        pass
    return Stored(programs, records)


def save(folder: Path, key: str, stored: Stored, fresh: dict[str, Any]) -> bool:
    """Store the programs ``fresh`` (compiled by XLA in this process) under ``key`` beside those ``stored``
    there already, and prune the folder to ``MAX_ENTRIES``; False when they cannot be serialized (a program with
    constants JAX cannot serialize) or the folder cannot be written."""
    from jax.experimental import serialize_executable

    try:
        records = dict(stored.records, **{role: serialize_executable.serialize(c) for role, c in fresh.items()})
        payload = pickle.dumps(records, protocol=pickle.HIGHEST_PROTOCOL)  # checked against its sha256 before loading
        data = pickle.dumps({"records": payload, "sha256": hashlib.sha256(payload).hexdigest()}, protocol=pickle.HIGHEST_PROTOCOL)
        runs.atomic_write_bytes(folder / f"{key}.pkl", data)
        prune(folder, MAX_ENTRIES)
    except Exception:  # noqa: BLE001 - the store only saves time: a run never fails for it
        return False
    return True


#: seconds after which a temporary file of the store is a write that died (a process killed as it saved)
STALE_TMP_S = 3600


def prune(folder: Path, keep: int) -> None:
    """Delete all but the ``keep`` most recently used entries of ``folder``, and the temporary files of writes
    that died (``runs.atomic_write_bytes``'s, older than ``STALE_TMP_S``: a younger one may be another process's
    write in progress)."""
    import time

    for path in folder.glob(".*.pkl.*.tmp"):
        try:
            if time.time() - path.stat().st_mtime > STALE_TMP_S:
                path.unlink(missing_ok=True)
        except OSError:
            continue
    entries = []
    for path in folder.glob("*.pkl"):
        try:
            entries.append((path.stat().st_mtime_ns, path))
        except OSError:
            continue
    for _, path in sorted(entries, reverse=True)[keep:]:
        path.unlink(missing_ok=True)


class CacheEvents:
    """Counts of JAX's compilation-cache events (``jax.monitoring``) in each thread of this process: whether the
    programs a thread compiled between two ``snapshot`` calls were compiled by XLA here (misses) or loaded from
    JAX's cache (hits). JAX records a compile's event in the thread that compiles, so a compile on another
    thread (``rl_zoo.driver.plan.compile_plan`` compiles the initial states beside the main thread) is not
    counted in this one's."""

    _lock = threading.Lock()
    _counts: dict[int, tuple[int, int]] = {}  # thread ident -> (hits, misses)
    _registered = False

    @classmethod
    def snapshot(cls) -> tuple[int, int]:
        import jax

        with cls._lock:
            if not cls._registered:
                jax.monitoring.register_event_listener(cls._on_event)
                cls._registered = True
            return cls._counts.get(threading.get_ident(), (0, 0))

    @classmethod
    def _on_event(cls, event: str, **_: Any) -> None:
        hit = {"/jax/compilation_cache/cache_hits": True, "/jax/compilation_cache/cache_misses": False}.get(event)
        if hit is not None:
            with cls._lock:
                hits, misses = cls._counts.get(threading.get_ident(), (0, 0))
                cls._counts[threading.get_ident()] = (hits + 1, misses) if hit else (hits, misses + 1)

    @staticmethod
    def compiled_here(before: tuple[int, int], after: tuple[int, int]) -> bool:
        """Whether the compile between ``before`` and ``after`` was XLA's, here: a miss of JAX's cache and no hit
        (no event at all: JAX's in-memory cache, or another jax's event names)."""
        return after[0] == before[0] and after[1] > before[1]
