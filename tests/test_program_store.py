"""The program store (rl_zoo/driver/program_store.py): a run's compiled programs kept under a key of what
decides them, so that the same command run again skips tracing. Its key (what changes it and what does
not), its bookkeeping (pruning, a damaged entry), and whole `rl-zoo train` processes: a run whose programs
came from the store trains bit for bit as one that traced them, with another first seed too."""

import dataclasses
import os
import subprocess
import sys
import types

from rl_zoo.driver import program_store
from rl_zoo.driver.spec import RunSpec


def spec(**changes) -> RunSpec:
    from rl_zoo.algos import ppo

    return dataclasses.replace(RunSpec(algo="ppo", env_id="CartPole-v1", config=ppo.Config()), **changes)


def key(s: RunSpec, options=None, environ=None, env_params=None, env=None) -> str:
    material = program_store.key_material(s.fields_json(), options or {"segment": {"level": 2}},
                                          frozenset(program_store.PROGRAM_PACKAGES), environ=environ or {},
                                          env_params=env_params, env=env)
    return program_store.plan_key(material)


def test_the_key_follows_what_the_programs_are_made_of():
    base = key(spec())
    assert key(spec()) == base  # the same inputs: the same key
    assert key(spec(config=dataclasses.replace(spec().config, learning_rate=5e-4))) != base
    assert key(spec(seeds=2)) != base
    assert key(spec(devices=2)) != base
    assert key(spec(eval_episodes=5)) != base
    assert key(spec(env_kwargs={"max_episode_steps": 200})) != base
    assert key(spec(), options={"segment": {"level": 1}}) != base
    assert key(spec(), environ={"XLA_FLAGS": "--xla_cpu_use_thunk_runtime=false"}) != base
    assert key(spec(), environ={"JAX_ENABLE_X64": "1"}) != base


def test_the_key_follows_the_envs_parameters_whatever_code_computed_them():
    """An env's parameters are constants of its programs: a user's env whose defaults come from a helper module
    (edited, the env's own file not) is another key."""
    import dataclasses

    import envs

    params = envs.make("CartPole-v1")[1]
    base = key(spec(), env_params=params)
    assert key(spec(), env_params=dataclasses.replace(params)) == base
    assert key(spec(), env_params=dataclasses.replace(params, gravity=30.0)) != base
    assert key(spec(), env_params=dataclasses.replace(params, gravity=9.8000001)) != base


def test_the_key_follows_what_the_env_object_holds():
    """A user's env that read a scale from a file or an environment variable in ``__init__`` (a constant of its traced
    step) got the programs stored for the other value: the same command trained the old env, without a word. What
    the object holds by value is in the key; the same env made twice, or in another process, is the same key."""
    import subprocess

    import numpy as np

    import envs
    from envs.classic_control.cartpole import CartPole

    class Scaled(CartPole):
        def __init__(self, scale, level=None):
            super().__init__()
            self.scale, self.level = scale, level

    base = key(spec(), env=Scaled(1.0, level=np.zeros(3)))
    assert key(spec(), env=Scaled(1.0, level=np.zeros(3))) == base
    assert key(spec(), env=Scaled(2.0, level=np.zeros(3))) != base
    assert key(spec(), env=Scaled(1.0, level=np.ones(3))) != base
    wrapped = types.SimpleNamespace(env=Scaled(1.0))  # a wrapper's env is followed
    assert key(spec(), env=wrapped) != key(spec(), env=types.SimpleNamespace(env=Scaled(3.0)))
    code = ("import envs; from rl_zoo.driver.program_store import object_digest; "
            "print(object_digest(envs.make('FrozenLake-v1', map_name='8x8')[0]), object_digest({'left', 'right', 'up', 'down'}))")
    # another process, another hash seed (a set's order follows it: the store never hit for an env holding one)
    other = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300,
                           env={**os.environ, "PYTHONHASHSEED": "7"})
    assert other.stdout.split() == [program_store.object_digest(envs.make("FrozenLake-v1", map_name="8x8")[0]),
                                    program_store.object_digest({"left", "right", "up", "down"})], other.stderr


def test_the_env_digest_reads_keys_partials_and_closures():
    """A JAX key among an env's attributes stopped the run (numpy cannot view a typed key); values bound in a
    functools.partial or closed over by a function were not in the key (a reward scaled by partial(f, factor=100)
    was given the programs of factor=1)."""
    import functools

    import jax

    def scaled(r, factor):
        return r * factor

    def closing(factor):
        return lambda r: r * factor

    holder = lambda **kw: types.SimpleNamespace(**kw)  # noqa: E731
    assert program_store.object_digest(holder(k=jax.random.key(0))) != program_store.object_digest(holder(k=jax.random.key(1)))
    assert (program_store.object_digest(holder(fn=functools.partial(scaled, factor=1.0)))
            != program_store.object_digest(holder(fn=functools.partial(scaled, factor=100.0))))
    assert program_store.object_digest(holder(fn=closing(1.0))) != program_store.object_digest(holder(fn=closing(100.0)))
    assert program_store.object_digest(holder(fn=closing(1.0))) == program_store.object_digest(holder(fn=closing(1.0)))


def test_the_code_key_covers_every_module_imported_from_the_users_files(tmp_path, monkeypatch):
    """local_modules: a helper module imported beside a user's env module is covered, the standard library and
    pip's packages are not (their own rules: PROGRAM_PACKAGES, the interpreter's version)."""
    import importlib

    write(tmp_path / "store_helper_module.py", "GRAVITY = 9.8\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    importlib.import_module("store_helper_module")
    try:
        local = program_store.local_modules()
        assert "store_helper_module" in local and "rl_zoo" in local
        assert not local & {"json", "os", "numpy", "jax", "yaml"}
        assert "store_helper_module" in program_store.code_roots(program_store)
    finally:
        sys.modules.pop("store_helper_module", None)


def test_the_key_leaves_out_what_only_the_host_reads():
    base = key(spec())
    # the first seed is an argument of the programs; the others never reach them
    for changes in ({"seed": 1000}, {"command": "rl-zoo train ..."}, {"keep_checkpoints": 1}, {"vector_env": "async"}):
        assert key(spec(**changes)) == base, changes
    assert key(spec(), environ={"HOME": "/elsewhere", "MPLBACKEND": "Agg"}) == base


def write(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_code_identity_sees_a_module_edited_or_added_imported_or_not(tmp_path, monkeypatch):
    package = tmp_path / "src" / "my_envs_for_the_store"
    write(package / "__init__.py", "")
    physics = write(package / "physics.py", "G = 9.8\n")
    write(package / "__pycache__" / "physics.cpython-311.pyc", "cache")
    monkeypatch.syspath_prepend(str(tmp_path / "src"))
    roots = frozenset({"my_envs_for_the_store"})
    before = program_store.code_identity(roots)
    assert [os.path.basename(p) for p, _, _ in before] == ["__init__.py", "physics.py"]  # not the cache
    physics.write_text("G = 9.81\n")
    assert program_store.code_identity(roots) != before
    edited = program_store.code_identity(roots)
    write(package / "wind.py", "W = 0\n")
    assert len(program_store.code_identity(roots)) == 3 != len(edited)
    assert program_store.code_identity(frozenset({"no_such_package_here"})) == [("no_such_package_here", -1, -1)]


def test_an_env_defined_where_no_file_says_what_it_is_turns_the_store_off(monkeypatch):
    cell = types.ModuleType("notebook_cell_for_the_store")  # a module without __file__, as a notebook's __main__
    monkeypatch.setitem(sys.modules, cell.__name__, cell)
    Env = type("Env", (), {"__module__": cell.__name__})  # noqa: N806
    assert program_store.code_roots(Env()) is None

    Inner = type("Inner", (), {"__module__": "envs.wrappers"})  # noqa: N806
    Outer = type("Outer", (), {"__module__": "rl_zoo.host.batched_env", "env": Inner()})  # noqa: N806
    local = program_store.local_modules()
    assert program_store.code_roots(Outer()) == (frozenset(program_store.PROGRAM_PACKAGES) | local
                                                 | program_store.packages_held_by(local - set(program_store.PROGRAM_PACKAGES)))
    Inner.env = Env()  # the wrapped env's own env from the cell
    assert program_store.code_roots(Outer()) is None


def test_only_programs_xla_compiled_here_are_stored():
    here = program_store.CacheEvents.compiled_here
    assert here((0, 0), (0, 1))
    assert here((2, 5), (2, 7))  # another compile in between missed too
    assert not here((0, 0), (1, 1))  # loaded from JAX's cache (with a miss of another program's)
    assert not here((0, 0), (1, 0))
    assert not here((3, 3), (3, 3))  # no event at all: JAX's in-memory cache, or another jax's event names


def test_cache_events_are_counted_in_the_thread_that_compiles():
    """compile_plan compiles the initial states on a thread beside the main one: a hit of JAX's cache there must
    not keep the main thread's compile, a miss, from the store; nor may a miss there pass for XLA's compile of a
    program that JAX answered here from memory (no event of its own), which the store must not keep."""
    import threading

    events = program_store.CacheEvents

    def beside(event: str) -> None:
        thread = threading.Thread(target=events._on_event, args=(event,))
        thread.start()
        thread.join()

    before = events.snapshot()
    beside("/jax/compilation_cache/cache_hits")
    events._on_event("/jax/compilation_cache/cache_misses")
    events._on_event("/jax/other_event")
    assert events.compiled_here(before, events.snapshot())
    before = events.snapshot()
    beside("/jax/compilation_cache/cache_misses")
    assert not events.compiled_here(before, events.snapshot())


def test_prune_keeps_the_most_recently_used(tmp_path):
    for i in range(5):
        path = write(tmp_path / f"{i}.pkl", "x")
        os.utime(path, ns=(i * 10**9, i * 10**9))
    write(tmp_path / "notes.txt", "not an entry")
    program_store.prune(tmp_path, 2)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["3.pkl", "4.pkl", "notes.txt"]


def test_prune_deletes_the_temporary_files_of_writes_that_died(tmp_path):
    """A process killed while it saved leaves runs.atomic_write_bytes's temporary (megabytes); one older than
    STALE_TMP_S is deleted by the next prune, a younger one (another process's write in progress) is not."""
    import time

    old = write(tmp_path / ".abc.pkl.x1y2.tmp", "half an entry")
    stale = time.time() - program_store.STALE_TMP_S - 60
    os.utime(old, (stale, stale))
    young = write(tmp_path / ".def.pkl.z3w4.tmp", "a write in progress")
    program_store.prune(tmp_path, 2)
    assert not old.exists() and young.exists()


def test_a_damaged_entry_is_deleted_and_the_plan_compiled(tmp_path):
    torn = write(tmp_path / "abc.pkl", "not a pickle")
    assert program_store.load(tmp_path, "abc") == program_store.Stored()
    assert not torn.exists()
    assert program_store.load(tmp_path, "absent") == program_store.Stored()


def test_a_damaged_entry_in_a_read_only_store_is_left_and_the_plan_compiled(tmp_path, monkeypatch):
    """A store folder the run cannot write (mounted read-only): the damaged entry cannot be deleted, and the run
    compiles all the same rather than stopping on the store's error."""
    import errno
    from pathlib import Path

    torn = write(tmp_path / "abc.pkl", "not a pickle")

    def read_only(self, missing_ok=False):
        raise OSError(errno.EROFS, "Read-only file system", str(self))

    monkeypatch.setattr(Path, "unlink", read_only)
    assert program_store.load(tmp_path, "abc") == program_store.Stored()
    assert torn.exists()


def test_the_store_is_on_in_a_commands_process_where_jax_cache_is(monkeypatch):
    import jax

    monkeypatch.delenv("RL_ZOO_NO_CACHE", raising=False)
    assert program_store.store_dir() is None  # a Python caller's process (this one): off
    monkeypatch.setattr(program_store, "_enabled", True)  # as rl_zoo.cli.console_main sets it
    folder = program_store.store_dir()
    assert folder is not None and folder.name == os.path.basename(jax.config.jax_compilation_cache_dir) + "-programs"
    monkeypatch.setenv("RL_ZOO_NO_CACHE", "1")
    assert program_store.store_dir() is None


def train(tmp_path, name, *args, env=None, python=("-m", "rl_zoo.cli")):
    out = subprocess.run([sys.executable, *python, "train", "--algo", "ppo", "--env", "CartPole-v1",
                          "--total-steps", "2816", "--evals", "5", "--seeds", "2", "--no-progress",
                          "--out", str(tmp_path / name), *args],
                         capture_output=True, text=True, timeout=600, env={**os.environ, **(env or {})})
    assert out.returncode == 0, out.stderr
    return out.stdout


def rows(run_dir):
    """metrics.csv without its wall-clock column."""
    import csv

    with open(run_dir / "metrics.csv") as f:
        return [{k: v for k, v in row.items() if k != "wall_s"} for row in csv.DictReader(f)]


def test_a_run_from_stored_programs_trains_as_one_that_traced_them(tmp_path, seed_offset):
    """Two seeds over the CPU's 2 devices where it has 2 cores, 11 updates in segments of 3 and a last of 2:
    the sharded programs and the one whose steps take a count (``segment_upto``). The first run compiles
    and stores; the second, with another first seed, loads; the third traces again (no cache). Then another
    learning rate: its initial states and evaluation come from JAX's cache (not storable), its segment is
    compiled and stored, and the same command again loads the segment alone."""
    xdg = {"XDG_CACHE_HOME": str(tmp_path / "cache")}
    first = train(tmp_path, "first", "--seed", str(seed_offset), env=xdg)
    assert "loaded" not in first
    assert len(list((tmp_path / "cache" / "rl_zoo" / "jax-programs").glob("*.pkl"))) == 1
    loaded = train(tmp_path, "loaded", "--seed", str(seed_offset + 7), env=xdg)
    assert "(loaded from an earlier run: init, segment, eval)" in loaded
    traced = train(tmp_path, "traced", "--seed", str(seed_offset + 7), env={**xdg, "RL_ZOO_NO_CACHE": "1"})
    assert "loaded" not in traced
    assert rows(tmp_path / "loaded") == rows(tmp_path / "traced")
    assert rows(tmp_path / "loaded") != rows(tmp_path / "first")  # other seeds: other numbers

    tweak = ("--set", "learning_rate=0.0005")
    assert "loaded" not in train(tmp_path, "tweaked", "--seed", str(seed_offset), *tweak, env=xdg)
    again = train(tmp_path, "tweaked-again", "--seed", str(seed_offset), *tweak, env=xdg)
    assert "(loaded from an earlier run: segment)" in again
    assert rows(tmp_path / "tweaked-again") == rows(tmp_path / "tweaked")
    assert rows(tmp_path / "tweaked") != rows(tmp_path / "first")


def test_a_run_resumed_along_earlier_segments_goes_on_along_them_with_programs_of_its_own(tmp_path, seed_offset):
    """11 updates in 5 evaluations were segments of 2, 2, 2, 2, 2, 1 until 2026-12-07 (3, 3, 3, 2 now,
    ``segment_schedule``): a run checkpointed along those goes on along them, each evaluation where it was (its
    key is the segment's index), and neither it nor its resume loads the programs a new run of the same spec
    stored for its own segments (the store's key holds the segments)."""
    from run_helpers import copy_run

    from rl_zoo import checkpoint

    xdg = {"XDG_CACHE_HOME": str(tmp_path / "cache")}
    seed = ("--seed", str(seed_offset), "--keep-checkpoints", "20")
    train(tmp_path, "new", *seed, env=xdg)
    assert sorted({int(r["env_steps"]) for r in rows(tmp_path / "new")}) == [0, 768, 1536, 2304, 2816]
    floor = ("from rl_zoo.driver import runner; runner.segment_sizes = runner._floor_segment_sizes; "
             "from rl_zoo.cli import console_main; console_main()")  # the command's process: the store on
    old = train(tmp_path, "old", *seed, env=xdg, python=("-c", floor))
    assert "loaded" not in old
    assert sorted({int(r["env_steps"]) for r in rows(tmp_path / "old")}) == [0, 512, 1024, 1536, 2048, 2560, 2816]
    run = copy_run(tmp_path / "old", tmp_path / "copy")
    for path in checkpoint.list_checkpoints(run):
        if checkpoint.updates_of(path) > 4:
            path.unlink()
    resumed = subprocess.run([sys.executable, "-m", "rl_zoo.cli", "train", "--resume", str(run), "--no-progress"],
                             capture_output=True, text=True, timeout=600, env={**os.environ, **xdg})
    assert resumed.returncode == 0, resumed.stderr
    assert f"resuming {run} from ckpt_000000004.msgpack" in resumed.stdout
    assert rows(run) == rows(tmp_path / "old")


def test_an_edited_module_of_the_env_is_another_plan(tmp_path):
    """What the key is made of, end to end: the env's own module (a ``MODULE:ID`` env of the user's) edited
    finds no stored plan."""
    xdg = {"XDG_CACHE_HOME": str(tmp_path / "cache")}
    package = tmp_path / "src" / "my_store_envs"
    init = write(package / "__init__.py", "from envs.classic_control.cartpole import CartPole\n"
                                          "from envs.registry import register\n"
                                          "class StoreCartPole(CartPole):\n    pass\n"
                                          "register('StoreCartPole-v0', StoreCartPole)\n")
    env = {**xdg, "PYTHONPATH": os.pathsep.join([str(tmp_path / "src"), os.environ.get("PYTHONPATH", "")])}
    store = tmp_path / "cache" / "rl_zoo" / "jax-programs"
    train(tmp_path, "first", "--env", "my_store_envs:StoreCartPole-v0", env=env)
    assert len(list(store.glob("*.pkl"))) == 1
    init.write_text(init.read_text() + "# edited\n")
    again = train(tmp_path, "again", "--env", "my_store_envs:StoreCartPole-v0", env=env)
    assert "loaded" not in again
    # the edit (a comment) leaves the programs as they were: JAX's cache served them, and such are not stored
    assert len(list(store.glob("*.pkl"))) == 1


def test_the_key_covers_a_namespace_packages_modules_and_the_packages_a_users_module_holds(tmp_path, monkeypatch):
    """A review: an env reading `from nsproj.consts import SCALE` (nsproj a folder without __init__.py) or
    `mylib.SCALE` (an installed package, upgraded) reused the programs of the old value."""
    import importlib

    write(tmp_path / "nsproj_for_the_store" / "consts.py", "SCALE = 1.0\n")
    write(tmp_path / "site-packages" / "mylib_for_the_store" / "__init__.py", "SCALE = 1.0\n")
    write(tmp_path / "store_user_env.py", "import mylib_for_the_store\nfrom nsproj_for_the_store.consts import SCALE\n"
                                          "import logging\nLOG = logging.getLogger('x')\ndef f():\n    return 1\n")
    monkeypatch.syspath_prepend(str(tmp_path / "site-packages"))
    monkeypatch.syspath_prepend(str(tmp_path))
    try:
        module = importlib.import_module("store_user_env")
        local = program_store.local_modules()
        assert "nsproj_for_the_store" in local and "store_user_env" in local and "mylib_for_the_store" not in local
        assert program_store.packages_held_by({"store_user_env"}) == {"mylib_for_the_store"}  # not logging (stdlib)
        roots = program_store.code_roots(program_store)
        assert {"nsproj_for_the_store", "mylib_for_the_store"} <= roots
        assert any(p.endswith("consts.py") for p, _, _ in program_store.code_identity(roots))
        # the user's module's data: SCALE, imported by name, as a value; not the logger, the function or the module
        assert program_store.module_data({"store_user_env"}) == {"store_user_env": {"SCALE": 1.0}}
        before = program_store.object_digest(program_store.module_data({"store_user_env"}))
        module.SCALE = 3.0
        assert program_store.object_digest(program_store.module_data({"store_user_env"})) != before
    finally:
        for name in ("store_user_env", "mylib_for_the_store", "nsproj_for_the_store", "nsproj_for_the_store.consts"):
            sys.modules.pop(name, None)


def test_the_env_digest_reads_class_attributes_and_refuses_what_lies_too_deep():
    """A class attribute read through self (SCALE = float(os.environ[...])) was not in the key; a value more than 8
    levels below the env was hashed as a placeholder (its change reused the old programs): now the store is off."""
    from envs.classic_control.cartpole import CartPole

    class ScaledByClass(CartPole):
        SCALE = 1.0

        def scaled(self, r):
            return r * self.SCALE

    env = ScaledByClass()
    before = program_store.object_digest(env)
    ScaledByClass.SCALE = 3.0
    assert program_store.object_digest(env) != before
    assert "scaled" not in program_store.class_data(ScaledByClass) and program_store.class_data(ScaledByClass)["SCALE"] == 3.0

    deep = types.SimpleNamespace(value=1.0)
    for _ in range(program_store.MAX_DIGEST_DEPTH):
        deep = types.SimpleNamespace(child=deep)
    try:
        program_store.object_digest(deep)
    except ValueError as e:
        assert "levels below the env" in str(e)
    else:
        raise AssertionError("a value below MAX_DIGEST_DEPTH was hashed as a placeholder")
    shared = types.SimpleNamespace(v=1.0)
    program_store.object_digest(types.SimpleNamespace(a=shared, b=shared, c=[shared, shared]))  # shared: hashed once, fine


def test_an_entry_whose_bytes_changed_is_deleted_before_its_code_is_loaded(tmp_path, monkeypatch):
    """A stored program with 64 bytes flipped killed every later run (an illegal instruction inside
    deserialize_and_load) and was never deleted: the entry's sha256 is checked first. An entry of the format
    before it (no sha256) is deleted as unreadable."""
    import hashlib
    import pickle

    from jax.experimental import serialize_executable

    loaded = []
    monkeypatch.setattr(serialize_executable, "deserialize_and_load", lambda *record: loaded.append(record))
    payload = pickle.dumps({"segment": (b"machine code", None, None)})
    entry = write(tmp_path / "abc.pkl", "")
    entry.write_bytes(pickle.dumps({"records": payload, "sha256": hashlib.sha256(payload).hexdigest()}))
    assert program_store.load(tmp_path, "abc").records == {"segment": (b"machine code", None, None)} and len(loaded) == 1
    flipped = payload.replace(b"machine code", b"machine cXde")  # still a pickle: only the checksum tells
    entry.write_bytes(pickle.dumps({"records": flipped, "sha256": hashlib.sha256(payload).hexdigest()}))
    assert program_store.load(tmp_path, "abc") == program_store.Stored() and not entry.exists() and len(loaded) == 1
    entry.write_bytes(pickle.dumps({"programs": {"segment": (b"machine code", None, None)}}))
    assert program_store.load(tmp_path, "abc") == program_store.Stored() and not entry.exists()
