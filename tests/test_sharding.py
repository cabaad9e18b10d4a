"""Seeds sharded over devices (4 forced host devices) and over two processes (jax.distributed).

Sharding changes where a seed is computed, not what: the per-seed numbers agree with the one-device
run to float rounding. They are not bit-identical, because XLA compiles a different program for 2 seeds
per device than for 8 on one (vectorised differently, so sums round differently: about 3e-8 in the
parameters after one update). Training amplifies such differences chaotically (5e-4 after 10 updates,
different returns after 40; how fast depends on the CPU and XLA version), so the comparison below is
made after 2 updates, where they are still rounding-sized on any machine. A run's results are
bit-for-bit reproducible for the same seeds on the same devices.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time

import pytest

from rl_zoo import runs

SHARDED = r"""
import json, sys
import jax, numpy as np
from rl_zoo.train import train
results = {}
seeds, first = int(sys.argv[3]), int(sys.argv[4])
for out, devices in [(sys.argv[1], 4), (sys.argv[2], 1)]:  # one process (4 host devices), two runs
    # 2 updates of 8 envs x 32 steps (the tuned CartPole config): compared before training amplifies rounding
    r = train("ppo", "CartPole-v1", seeds=seeds, seed=first, total_steps=512, num_evals=1, eval_episodes=3, out=out,
              devices=devices, progress=False, log=lambda s: None)
    leaves = jax.tree.leaves(r.final_state.params)
    np.save(out + "/params.npy", np.concatenate([np.asarray(l).reshape(seeds, -1) for l in leaves], axis=1))
    results[devices] = dict(returns=r.summary["final_return"], device_count=jax.device_count(),
                            shard_devices=len(leaves[0].sharding.device_set), shards=[s.data.shape[0] for s in leaves[0].addressable_shards],
                            summary_devices=r.summary["devices"])
print(json.dumps([results[4], results[1]]))
"""


def _run(code: str, *args, env_extra=None, timeout=600):
    env = dict(os.environ, XLA_FLAGS="--xla_force_host_platform_device_count=4", JAX_PLATFORMS="cpu", **(env_extra or {}))
    out = subprocess.run([sys.executable, "-c", code, *map(str, args)], env=env, capture_output=True, text=True, timeout=timeout)
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.mark.slow  # a subprocess with 4 CPU devices (12 s)
def test_eight_seeds_sharded_over_four_devices_match_one_device(tmp_path, seed_offset):
    import numpy as np

    sharded, single = _run(SHARDED, tmp_path / "four", tmp_path / "one", 8, seed_offset)
    assert sharded["device_count"] == 4
    assert sharded["shard_devices"] == 4 and sharded["shards"] == [2, 2, 2, 2]  # really split: 2 seeds per device
    assert single["shard_devices"] == 1 and sharded["summary_devices"] == 4
    params4, params1 = np.load(tmp_path / "four" / "params.npy"), np.load(tmp_path / "one" / "params.npy")
    assert params4.shape == params1.shape and not np.allclose(params1[0], params1[1])  # 8 distinct seeds
    np.testing.assert_allclose(params4, params1, rtol=0, atol=1e-5)  # float rounding, nothing more
    assert sharded["returns"] == pytest.approx(single["returns"], rel=1e-4, abs=1e-3)
    rows4 = runs.read_csv(tmp_path / "four" / "metrics.csv")
    rows1 = runs.read_csv(tmp_path / "one" / "metrics.csv")
    assert [(r["env_steps"], r["seed"]) for r in rows4] == [(r["env_steps"], r["seed"]) for r in rows1]
    assert {int(r["seed"]) for r in rows4} == set(range(seed_offset, seed_offset + 8))
    assert [float(r["return"]) for r in rows4] == pytest.approx([float(r["return"]) for r in rows1], rel=1e-4, abs=1e-3)


@pytest.mark.slow  # a subprocess with 4 CPU devices (10 s)
def test_one_seed_per_device_runs_unbatched_and_matches_one_device(tmp_path, seed_offset):
    """4 seeds on 4 devices: each device runs its seed alone (``plan.on_each_device``), not a vmap over
    a seed axis of 1; the numbers agree with 4 seeds vmapped on one device to float rounding."""
    import numpy as np

    sharded, single = _run(SHARDED, tmp_path / "four", tmp_path / "one", 4, seed_offset)
    assert sharded["shard_devices"] == 4 and sharded["shards"] == [1, 1, 1, 1]
    params4, params1 = np.load(tmp_path / "four" / "params.npy"), np.load(tmp_path / "one" / "params.npy")
    assert params4.shape == params1.shape == (4, params1.shape[1]) and not np.allclose(params1[0], params1[1])
    np.testing.assert_allclose(params4, params1, rtol=0, atol=1e-5)
    assert sharded["returns"] == pytest.approx(single["returns"], rel=1e-4, abs=1e-3)


BAD_DEVICES = r"""
import json, sys
from rl_zoo.config import ConfigError
from rl_zoo.train import train
msgs = []
for seeds, devices in [(8, 5), (6, 4), (8, 0)]:
    try:
        train("ppo", "CartPole-v1", seeds=seeds, total_steps=256, devices=devices, runs_root=sys.argv[1], progress=False)
    except ConfigError as e:
        msgs.append(str(e))
from rl_zoo.distributed import choose_devices
print(json.dumps(dict(msgs=msgs, notes=[choose_devices(6, None)[1]], chosen=choose_devices(6, None)[0])))
"""


def test_bad_device_counts_get_clear_messages(tmp_path):
    out = _run(BAD_DEVICES, tmp_path)
    assert len(out["msgs"]) == 3
    assert "only 4 device(s)" in out["msgs"][0]
    assert "cannot be split evenly" in out["msgs"][1] and "--devices in [1, 2, 3]" in out["msgs"][1]
    assert "at least 1" in out["msgs"][2]
    assert out["chosen"] == 3 and "using 3 of 4 devices" in out["notes"][0]  # 6 seeds by default: an even split, stated


SWEEP = r"""
import json, sys
import jax
from rl_zoo.sweep import make_spec, run_sweep
spec = make_spec("ppo", "CartPole-v1", grid=["learning_rate=1e-3,3e-3"], seeds=2, seed=int(sys.argv[2]), total_steps=512, num_evals=2,
                 eval_episodes=1, overrides=dict(num_envs=2, num_steps=64, update_epochs=1, num_minibatches=1, hidden_size=8))
result = run_sweep(spec, sys.argv[1], log=lambda s: None)
print(json.dumps(dict(device_count=jax.device_count(), num_devices=result.results[0].num_devices,
                      shape=list(result.results[0].returns.shape))))
"""


def test_a_sweep_keeps_its_rows_sharded_from_segment_to_segment(tmp_path, seed_offset):
    """2 configs x 2 seeds over 4 devices, two segments: every program's outputs stay split over the
    devices (a replicated init output once made the second segment fail on several devices)."""
    out = _run(SWEEP, tmp_path / "sweep", seed_offset)
    assert out["device_count"] == 4 and out["num_devices"] == 4
    assert out["shape"] == [2, 2, 3]  # configs, seeds, evaluations (0 and after each of 2 segments)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow  # two processes, each compiling: the single-process sharding above runs by default
def test_two_processes_write_one_merged_table(tmp_path, seed_offset):
    port = _free_port()
    out = tmp_path / "run"
    seeds = list(range(seed_offset, seed_offset + 8))
    cmd = [sys.executable, "-m", "rl_zoo.cli", "train", "--algo", "ppo", "--env", "CartPole-v1", "--seeds", "8", "--seed", str(seed_offset),
           "--total-steps", "5120", "--evals", "2", "--eval-episodes", "2", "--out", str(out), "--no-progress",
           "--coordinator", f"127.0.0.1:{port}", "--num-processes", "2"]
    env = dict(os.environ, XLA_FLAGS="--xla_force_host_platform_device_count=2", JAX_PLATFORMS="cpu")
    procs = [subprocess.Popen(cmd + ["--process-id", str(i)], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for i in range(2)]
    results = [p.communicate(timeout=600) for p in procs]
    for p, (o, e) in zip(procs, results):
        assert p.returncode == 0, e[-3000:]
    merged = runs.read_csv(out / "metrics.csv")
    steps = sorted({int(r["env_steps"]) for r in merged})
    assert steps == [0, 2560, 5120]
    for s in steps:  # every seed exactly once per evaluation point
        assert sorted(int(r["seed"]) for r in merged if int(r["env_steps"]) == s) == seeds
    shard0, shard1 = (runs.read_csv(out / f"metrics.host{i}.csv") for i in range(2))
    assert {int(r["seed"]) for r in shard0} == set(seeds[:4]) and {int(r["seed"]) for r in shard1} == set(seeds[4:])
    summary = json.loads((out / "summary.json").read_text())
    assert summary["processes"] == 2 and summary["devices"] == 4 and len(summary["final_return"]) == 8


def _two_processes(tmp_path, seeds_by_process, timeout=300, first_seed=0, extra=(), cpu_devices=(None, None),
                   extra_by_process=((), ())):
    """``rl-zoo train`` (and ``extra`` arguments, then each process's ``extra_by_process``) as processes 0 and 1 of a
    two-process run on this machine, each with its ``RL_ZOO_CPU_DEVICES`` where given (else split for its seeds and
    this host's cores): ``[(code, stderr)]``."""
    port = _free_port()
    env = dict(os.environ, JAX_PLATFORMS="cpu")
    envs = [env if n is None else dict(env, RL_ZOO_CPU_DEVICES=str(n)) for n in cpu_devices]
    procs = [subprocess.Popen([sys.executable, "-m", "rl_zoo.cli", "train", "--seeds", str(seeds), "--seed", str(first_seed), "--total-steps", "2560",
                               "--evals", "2", "--eval-episodes", "2", "--out", str(tmp_path / "run"), "--no-progress",
                               "--coordinator", f"127.0.0.1:{port}", "--num-processes", "2", "--process-id", str(i), *extra,
                               *extra_by_process[i]],
                              env=envs[i], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for i, seeds in enumerate(seeds_by_process)]
    return [(p.returncode, e) for p, (_, e) in ((p, p.communicate(timeout=timeout)) for p in procs)]


def test_processes_given_different_settings_stop_with_a_message_not_a_hang(tmp_path):
    """--seeds 4 on one process and 8 on the other hung both in their first collective; now both refuse.
    Two CPU devices each, as 2-core hosts split them for either count (``test_processes_holding_different_...``:
    a 16-core host splits 2 and 4)."""
    for code, err in _two_processes(tmp_path, [4, 8], cpu_devices=(2, 2)):
        assert code == 2 and "were given different command lines" in err, err[-2000:]
    assert not (tmp_path / "run").exists()


def test_processes_holding_different_device_counts_are_told_why(tmp_path):
    """On a 16-core host, --seeds 4 and 8 split each CPU for its share (2 and 4 devices): both processes said
    that neither count split over "the 6 devices of all hosts" (a GPU machine's run of this suite). Now
    each names the counts and the cause, before any collective (which fails on uneven counts)."""
    for code, err in _two_processes(tmp_path, [4, 8], cpu_devices=(2, 4)):
        assert code == 2 and ("the processes of this multi-host run hold different device counts (process 0: 2, "
                              "process 1: 4): each host splits its CPU for its share of --seeds") in err, err[-2000:]
    assert not (tmp_path / "run").exists()


def test_same_device_counts_names_each_process_and_the_cause():
    from rl_zoo.config import ConfigError
    from rl_zoo.distributed import same_device_counts

    same_device_counts([0, 0, 1, 1], "cpu")  # two each: nothing to say
    same_device_counts([0], "gpu")
    with pytest.raises(ConfigError, match=r"hold different device counts \(process 0: 1, process 1: 2, process 2: 1\): "
                                          r"each host splits its CPU .* different --seeds or RL_ZOO_CPU_DEVICES"):
        same_device_counts([0, 1, 1, 2], "cpu")
    with pytest.raises(ConfigError, match=r"\(process 0: 8, process 1: 4\): a run's seeds split evenly over its hosts' "
                                          r"GPUs: use hosts with as many each"):
        same_device_counts([0] * 8 + [1] * 4, "gpu")


def test_a_refusal_in_one_process_only_ends_both_at_once(tmp_path):
    """Process 0 given a bad --set (process 1 not): it printed its error, then its exit handlers waited in
    jax.distributed's shutdown barrier for process 1, which waited in a collective: a C++ abort after ~100 s
    (rc 134) in both. The processes compare their command lines first: both refuse at once."""
    for code, err in _two_processes(tmp_path, [1, 1], timeout=90, cpu_devices=(1, 1),
                                    extra_by_process=(("--set", "learning_rate=-1"), ())):
        assert code == 2 and "were given different command lines" in err and "Traceback" not in err, err[-2000:]
    assert not (tmp_path / "run").exists()


def test_a_multi_host_run_beyond_memory_is_refused_by_every_process_before_its_folder(tmp_path):
    """The memory check decides in all processes together (one host refusing alone left the other in a failed
    collective, exit 1, and an empty --out made): both refuse, naming the first short process, and no folder."""
    for code, err in _two_processes(tmp_path, [2, 2], timeout=90, cpu_devices=(1, 1), extra=("--eval-episodes", str(10**12))):
        assert code == 2 and "on process 0 of this multi-host run" in err and "Traceback" not in err, err[-2000:]
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize("seeds, devices, per_host, split_here, said", [
    # review: 2 processes, `--seeds 4 --devices 3` offered --devices in [1, 2, 4] and "a multiple of 3 seeds (e.g. 6)",
    # each refused in turn ("--devices must be 2", "must be 6"); each host split its CPU 3 ways
    (4, 3, 3, True, r"use --devices in \[2, 4\] \(or left out\)$"),
    (4, 1, 1, True, r"use --devices in \[2, 4\] \(or left out\)$"),
    (3, 2, 1, True, r"use a multiple of 2 seeds \(e.g. 4\)$"),
    (4, 2, 2, False, r"use --devices in \[4\] \(or left out\)$"),  # GPUs: every device the hosts hold
    (6, 4, 2, False, r"use a multiple of 4 seeds \(e.g. 8\)$"),
])
def test_a_multi_host_devices_refusal_offers_only_counts_a_multi_host_run_takes(monkeypatch, seeds, devices, per_host,
                                                                                 split_here, said):
    import jax

    from rl_zoo import distributed
    from rl_zoo.config import ConfigError

    class Device:
        platform = "cpu"

        def __init__(self, process_index):
            self.process_index = process_index

    every = [Device(p) for p in range(2) for _ in range(per_host)]
    monkeypatch.setattr(jax, "process_count", lambda: 2)
    monkeypatch.setattr(jax, "device_count", lambda: len(every))
    monkeypatch.setattr(jax, "devices", lambda: every)
    monkeypatch.setattr(distributed, "_count_set", per_host if split_here else None)
    with pytest.raises(ConfigError, match=said):
        distributed.choose_devices(seeds, devices)
    for ok in ([2, 4] if split_here and seeds == 4 else []):  # what it offers is taken (each host split ok / 2 ways)
        mine = [Device(p) for p in range(2) for _ in range(ok // 2)]
        monkeypatch.setattr(jax, "devices", lambda: mine)
        monkeypatch.setattr(jax, "device_count", lambda: len(mine))
        assert distributed.choose_devices(seeds, ok)[0] == ok


def test_record_video_is_refused_by_a_multi_host_run(tmp_path):
    """Its hook runs in process 0 and reads every host's seeds, a collective process 1 never entered: both hung
    after the summary (only kill -9 ended them)."""
    for code, err in _two_processes(tmp_path, [2, 2], timeout=120, extra=("--record-video",), cpu_devices=(1, 1)):
        assert code == 2 and "--record-video is not taken by a multi-host run" in err, err[-2000:]


@pytest.mark.parametrize("coordinator", ["foo", "foo:bar", "127.0.0.1:99999", "127.0.0.1:"])
def test_a_coordinator_that_is_not_host_port_is_one_line(coordinator, tmp_path, capsys):
    """``foo`` was an IndexError traceback from JAX, ``foo:bar`` a JaxRuntimeError's, port 99999 a wait of the whole
    timeout and a C++ abort."""
    from rl_zoo.cli import main

    assert main(["train", "--coordinator", coordinator, "--num-processes", "2", "--process-id", "0",
                 "--out", str(tmp_path / "run"), "--no-progress"]) == 2
    assert f"--coordinator = {coordinator!r} is invalid: give HOST:PORT" in capsys.readouterr().err


def test_resume_in_a_multi_host_run_says_there_is_nothing_to_continue(tmp_path, capsys):
    """Each process said "multi-host runs use every device: --devices must be 4", though none was given."""
    from rl_zoo.cli import main

    assert main(["train", "--resume", str(tmp_path), "--coordinator", "127.0.0.1:1", "--num-processes", "2",
                 "--process-id", "0"]) == 2
    assert "a multi-host run keeps no checkpoints, so there is nothing to continue" in capsys.readouterr().err


def test_a_multi_host_run_on_gymnasium_envs_is_refused_in_every_process(tmp_path):
    """--backend gymnasium over two processes: process 1 died on an array with no shard of its own, process 0
    trained every seed alone, and both then hung in a collective. Both refuse it now, before anything is written."""
    for code, err in _two_processes(tmp_path, [2, 2], timeout=120, extra=("--backend", "gymnasium")):
        assert code == 2 and "a multi-host run trains JAX envs only" in err, err[-2000:]
    assert not (tmp_path / "run").exists()


def _two_processes_training(out) -> list[subprocess.Popen]:
    """Processes 0 and 1 of a long two-process run into ``out`` (one CPU device each), once it has evaluated."""
    port = _free_port()
    env = dict(os.environ, JAX_PLATFORMS="cpu", RL_ZOO_CPU_DEVICES="1")
    procs = [subprocess.Popen([sys.executable, "-m", "rl_zoo.cli", "train", "--seeds", "2", "--total-steps", "2000000",
                               "--evals", "200", "--out", str(out), "--no-progress", "--coordinator", f"127.0.0.1:{port}",
                               "--num-processes", "2", "--process-id", str(i)],
                              env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for i in range(2)]
    deadline = time.time() + 300
    while time.time() < deadline and not (out / "metrics.csv").is_file():
        time.sleep(0.2)
    assert (out / "metrics.csv").is_file(), "the run never evaluated"
    return procs


@pytest.mark.slow  # two processes compiling, then SIGTERM
def test_sigterm_stops_a_multi_host_run(tmp_path):
    """JAX's preemption service took SIGTERM for itself: both processes trained on to the end and exited 0, where
    a single process stops at once with 143."""
    procs = _two_processes_training(tmp_path / "run")
    for p in procs:
        p.send_signal(signal.SIGTERM)
    for p in procs:
        _, err = p.communicate(timeout=120)
        assert p.returncode == 143 and "rl-zoo: terminated" in err, err[-2000:]


@pytest.mark.parametrize("signum, code, said", [(signal.SIGTERM, 143, "rl-zoo: terminated"),
                                                (signal.SIGINT, 130, "rl-zoo: interrupted")])
def test_a_process_waiting_for_the_others_stops_at_once_on_a_signal(signum, code, said, tmp_path):
    """SIGTERM or Ctrl-C while a process waited for the others: it waited on to RL_ZOO_INIT_TIMEOUT, then JAX aborted it
    with a C++ stack trace (rc -6)."""
    env = dict(os.environ, JAX_PLATFORMS="cpu", RL_ZOO_INIT_TIMEOUT="120")
    proc = subprocess.Popen([sys.executable, "-m", "rl_zoo.cli", "train", "--out", str(tmp_path / "run"), "--no-progress",
                             "--coordinator", f"127.0.0.1:{_free_port()}", "--num-processes", "2", "--process-id", "0"],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stderr.readline()  # "process 0 of 2: waiting up to 120 s for the others ..."
        assert "waiting up to 120 s for the others" in line, line
        time.sleep(1.0)  # inside JAX's wait
        proc.send_signal(signum)
        start = time.time()
        _, err = proc.communicate(timeout=60)
        assert proc.returncode == code and said in err and time.time() - start < 20, (proc.returncode, err[-2000:])
        assert "Check failure" not in err and "Traceback" not in err
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_record_video_is_refused_before_a_process_waits_for_the_others(tmp_path, capsys, monkeypatch):
    """A lone process given --record-video waited the whole RL_ZOO_INIT_TIMEOUT, then JAX aborted it (the refusal came
    once every process had connected)."""
    from rl_zoo.cli import main

    monkeypatch.setenv("RL_ZOO_INIT_TIMEOUT", "5")  # a regression aborts this worker after 5 s, not 300

    start = time.time()
    assert main(["train", "--record-video", "--coordinator", "127.0.0.1:1", "--num-processes", "2", "--process-id", "0",
                 "--out", str(tmp_path / "run"), "--no-progress"]) == 2
    assert "--record-video is not taken by a multi-host run" in capsys.readouterr().err and time.time() - start < 30


@pytest.mark.slow  # two processes compiling, then SIGTERM to one
def test_sigterm_to_one_process_of_a_multi_host_run_ends_it_and_its_peer(tmp_path):
    """SIGTERM to process 1 alone: it printed "terminated" and stayed, waiting in jax.distributed's shutdown for process
    0, which waited in a collective for it, until a kill -9 (then a C++ abort). It ends at once (143) and process 0
    at its next collective (one line, 1)."""
    procs = _two_processes_training(tmp_path / "run")
    try:
        procs[1].send_signal(signal.SIGTERM)
        _, err = procs[1].communicate(timeout=30)
        assert procs[1].returncode == 143 and "rl-zoo: terminated" in err, err[-2000:]
        _, err = procs[0].communicate(timeout=120)  # its next collective, or JAX's heartbeat check (100 s)
        assert procs[0].returncode in (1, -signal.SIGABRT) and "Traceback" not in err, err[-2000:]
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()


@pytest.mark.slow  # two processes compiling, then a kill
def test_a_process_left_alone_by_a_dead_peer_ends_with_one_line(tmp_path):
    """kill -9 of one process of two mid-run: the other printed a traceback, waited ~80 s in jax.distributed's
    shutdown and aborted with a C++ stack trace (exit 134). It now says what happened in one line, exit 1."""
    import signal
    import time

    port = _free_port()
    env = dict(os.environ, JAX_PLATFORMS="cpu")
    logs = [tmp_path / f"p{i}.log" for i in range(2)]
    # segments of 400k env steps (a few seconds each): a collective fails before JAX's heartbeat check
    # (100 s) notices the dead process, which would end this one from C++ ("Terminating process ...")
    procs = [subprocess.Popen([sys.executable, "-m", "rl_zoo.cli", "train", "--seeds", "2", "--total-steps", "4000000",
                               "--out", str(tmp_path / "run"), "--no-progress", "--coordinator",
                               f"127.0.0.1:{port}", "--num-processes", "2", "--process-id", str(i)],
                              env=env, stdout=open(logs[i], "w"), stderr=subprocess.STDOUT)
             for i in range(2)]
    try:
        deadline = time.time() + 240
        while not all("compiled" in log.read_text() for log in logs):
            assert all(p.poll() is None for p in procs) and time.time() < deadline, [log.read_text()[-2000:] for log in logs]
            time.sleep(0.2)
        time.sleep(2.0)  # inside the first segment
        procs[1].send_signal(signal.SIGKILL)
        start = time.time()
        code = procs[0].wait(timeout=120)
        err = logs[0].read_text()
        assert code == 1 and "rl-zoo: error: a collective of this multi-host run failed" in err, err[-3000:]
        assert time.time() - start < 60 and "Traceback" not in err and "Check failure" not in err
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()


def test_a_non_empty_out_stops_every_process_at_once(tmp_path):
    """Process 0 refused it alone, and the others waited for it at a barrier until the deadline."""
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "notes.txt").write_text("kept")
    for code, err in _two_processes(tmp_path, [2, 2], timeout=120):
        assert code == 2 and "already exists and is not empty" in err, err[-2000:]
    assert (tmp_path / "run" / "notes.txt").read_text() == "kept"


@pytest.mark.slow  # two processes, each compiling
def test_two_cpu_hosts_split_each_its_share_of_the_seeds(tmp_path, seed_offset):
    """--seeds 2 over two CPU processes: each host makes one device for its one seed (it split for both
    seeds, two devices each, and the run was refused: 2 seeds over 4 devices)."""
    for code, err in _two_processes(tmp_path, [2, 2], first_seed=seed_offset):
        assert code == 0, err[-2000:]
    assert json.loads((tmp_path / "run" / "summary.json").read_text())["devices"] == 2


def test_process_counts_are_checked_before_jax_starts(monkeypatch):
    from rl_zoo.config import ConfigError
    from rl_zoo.distributed import initialize, processes_from_args

    with pytest.raises(ConfigError, match="--num-processes = 0 is invalid: must be at least 1"):
        initialize("127.0.0.1:1", 0, 0)
    with pytest.raises(ConfigError, match=r"--process-id = 2 is invalid: must be in \[0, 2\)"):  # not a 300 s wait
        initialize("127.0.0.1:1", 2, 2)
    monkeypatch.delenv("RL_ZOO_NUM_PROCESSES", raising=False)
    assert (processes_from_args(3), processes_from_args(None)) == (3, 1)
    monkeypatch.setenv("RL_ZOO_NUM_PROCESSES", "2")
    assert processes_from_args(None) == 2


def test_cpu_device_count_is_the_largest_even_split_within_the_cores():
    from rl_zoo.distributed import cpu_device_count

    assert [cpu_device_count(rows, 2) for rows in (1, 2, 3, 16)] == [1, 2, 1, 2]
    assert [cpu_device_count(rows, 8) for rows in (6, 7, 12, 96)] == [6, 7, 6, 8]
    assert cpu_device_count(10, 4) == 2 and cpu_device_count(9, 4) == 3 and cpu_device_count(5, 1) == 1


@pytest.mark.parametrize("chosen", [None, "XLA_PYTHON_CLIENT_MEM_FRACTION", "XLA_CLIENT_MEM_FRACTION",
                                    "XLA_PYTHON_CLIENT_PREALLOCATE", "XLA_PYTHON_CLIENT_ALLOCATOR"])
def test_share_gpu_memory_turns_preallocation_off_unless_the_user_chose(monkeypatch, chosen):
    from rl_zoo.distributed import GPU_MEMORY_ENV, share_gpu_memory

    for name in GPU_MEMORY_ENV:  # set, then deleted: monkeypatch restores each as it was (unset) afterwards,
        monkeypatch.setenv(name, "")  # share_gpu_memory's own setting included (a bare delenv records nothing)
        monkeypatch.delenv(name)
    if chosen is None:
        assert share_gpu_memory() is True
        assert os.environ["XLA_PYTHON_CLIENT_PREALLOCATE"] == "false"
    else:
        monkeypatch.setenv(chosen, "0.3")
        assert share_gpu_memory() is False
        assert {k: v for k, v in os.environ.items() if k in GPU_MEMORY_ENV} == {chosen: "0.3"}


SPLIT = r"""
import json, os, sys
if "PRESET_CPU_DEVICES" in os.environ:  # the user's own jax.config setting, before rl_zoo's
    import jax
    jax.config.update("jax_num_cpu_devices", int(os.environ["PRESET_CPU_DEVICES"]))
from rl_zoo import distributed
devices = int(sys.argv[2]) if len(sys.argv) > 2 else None  # --devices, or the count a resumed run recorded
n = distributed.split_cpu(int(sys.argv[1]), devices)
again = distributed.split_cpu(int(sys.argv[1]), devices)  # still before JAX starts: its own count is not the user's
import jax
count = jax.device_count()  # starts the backend
later = distributed.split_cpu(int(sys.argv[1]))  # too late: nothing changes
print(json.dumps(dict(n=n, again=again, later=later, device_count=count)))
"""


@pytest.mark.parametrize("env_extra, rows, expect", [
    (dict(RL_ZOO_CPU_DEVICES="3"), 16, 3),  # asked for: used even when it does not divide (the driver then picks)
    pytest.param(dict(RL_ZOO_CPU_DEVICES="1"), 16, 1, marks=pytest.mark.slow),  # the way to keep one device
    pytest.param(dict(JAX_NUM_CPU_DEVICES="2"), 16, None, marks=pytest.mark.slow),  # JAX's own setting is left alone
    (dict(XLA_FLAGS="--xla_force_host_platform_device_count=4"), 16, None),
    (dict(PRESET_CPU_DEVICES="4"), 16, None),  # set with jax.config.update: it was replaced by the split (2)
    (dict(RL_ZOO_CPU_DEVICES="3"), "16 2", 2),  # an explicit count (--devices 2, a resume's) before the variable
])
def test_split_cpu_sets_the_device_count_before_jax_starts(env_extra, rows, expect):
    env = {k: v for k, v in os.environ.items()
           if k not in ("RL_ZOO_CPU_DEVICES", "JAX_NUM_CPU_DEVICES", "XLA_FLAGS", "PRESET_CPU_DEVICES")}
    out = subprocess.run([sys.executable, "-c", SPLIT, *str(rows).split()], env=dict(env, JAX_PLATFORMS="cpu", **env_extra),
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    r = json.loads(out.stdout.strip().splitlines()[-1])
    assert r["later"] == 1 and r["again"] == r["n"]
    if expect is None:  # not split by rl_zoo: JAX's own count
        assert r["n"] == 1 and r["device_count"] == int(next(iter(env_extra.values()))[-1])
    else:
        assert r["n"] == expect and r["device_count"] == expect


@pytest.mark.slow  # 10 s; the default run splits the CPU through `rl-zoo sweep` (tests/test_sweep.py)
def test_rl_zoo_command_trains_the_seeds_on_split_cpu_devices(tmp_path, seed_offset):
    env = {k: v for k, v in os.environ.items() if k not in ("JAX_NUM_CPU_DEVICES", "XLA_FLAGS")}
    env = dict(env, RL_ZOO_CPU_DEVICES="2", JAX_PLATFORMS="cpu")
    out = tmp_path / "run"
    cmd = [sys.executable, "-m", "rl_zoo.cli", "train", "--algo", "ppo", "--env", "CartPole-v1", "--seeds", "2", "--seed", str(seed_offset),
           "--total-steps", "2560", "--evals", "2", "--eval-episodes", "2", "--no-progress"]
    r = subprocess.run(cmd + ["--out", str(out)], env=env, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    assert "over 2 CPU devices" in r.stdout + r.stderr
    assert json.loads((out / "config.json").read_text())["devices"] == 2
    assert json.loads((out / "summary.json").read_text())["devices"] == 2
    bad = subprocess.run(cmd + ["--out", str(tmp_path / "bad")], env=dict(env, RL_ZOO_CPU_DEVICES="0"),
                         capture_output=True, text=True, timeout=120)
    assert bad.returncode != 0 and "RL_ZOO_CPU_DEVICES = 0 is invalid" in bad.stderr
    assert not (tmp_path / "bad").exists()


def test_the_compile_line_says_why_seeds_stay_on_one_cpu_device():
    """3 seeds on 2 cores ran on one device without a word, though the README says the count is said."""
    from rl_zoo import distributed

    assert distributed.devices_text(4, 2, "cpu", cores=2) == " over 2 CPU devices"
    assert distributed.devices_text(3, 1, "cpu", cores=2) == " on one CPU device since 3 do not split evenly over 2 cores"
    assert distributed.devices_text(4, 1, "cpu", cores=2) == ""  # split by hand to one (--devices 1): nothing to explain
    assert distributed.devices_text(1, 1, "cpu", cores=2) == distributed.devices_text(3, 1, "cpu", cores=1) == ""
    assert distributed.devices_text(3, 1, "gpu", cores=2) == ""


def test_more_cpu_devices_than_cores_get_a_note(monkeypatch):
    """--devices 8 or RL_ZOO_CPU_DEVICES=64 on 2 cores ran without a word, compiling 5-6 times longer."""
    import jax

    from rl_zoo import distributed

    monkeypatch.setattr(jax, "devices", lambda *backend: jax.local_devices(backend="cpu"))  # a GPU machine's too
    monkeypatch.setattr(distributed, "usable_cores", lambda: 2)
    assert distributed._oversplit_note(2, 8) is None
    assert distributed._oversplit_note(4, 8) == ("4 CPU devices on 2 cores: more devices than cores compile longer and "
                                                 "train no faster (--devices 2 keeps at most one per core)")
    monkeypatch.setattr(distributed, "usable_cores", lambda: 3)  # 8 seeds do not split over 3: 2 does
    assert distributed._oversplit_note(8, 8).endswith("(--devices 2 keeps at most one per core)")


def test_only_a_collectives_failure_reads_as_a_lost_peer(monkeypatch):
    """Every JaxRuntimeError of a multi-host run read as another process's death (a GPU compile error too),
    ending the process without its traceback; the text must name a lost connection."""
    import jax

    from rl_zoo import distributed

    monkeypatch.setattr(jax, "process_count", lambda: 2)
    assert distributed.lost_a_peer(ValueError("UNKNOWN: Gloo AllGather failed: ... Connection closed by peer"))
    assert distributed.lost_a_peer(RuntimeError("gloo: connection closed by peer"))
    assert not distributed.lost_a_peer(RuntimeError("INTERNAL: ptxas exited with non-zero error code"))
    monkeypatch.setattr(jax, "process_count", lambda: 1)
    assert not distributed.lost_a_peer(ValueError("Gloo AllGather failed"))


def test_an_empty_variable_reads_as_unset(monkeypatch):
    """RL_ZOO_CPU_DEVICES= (empty) was refused as not an integer: an empty value reads as unset."""
    from rl_zoo import distributed
    from rl_zoo.config import ConfigError

    monkeypatch.setenv("RL_ZOO_CPU_DEVICES", "")
    assert distributed._int_env("RL_ZOO_CPU_DEVICES") is None
    monkeypatch.setenv("RL_ZOO_CPU_DEVICES", "two")
    with pytest.raises(ConfigError, match="RL_ZOO_CPU_DEVICES = 'two' is invalid: must be an integer"):
        distributed._int_env("RL_ZOO_CPU_DEVICES")


def test_an_uneven_split_names_the_device_counts_that_would_work(tmp_path, monkeypatch):
    """On a CPU rl-zoo splits itself, `--seeds 3 --devices 2` offered --devices in [1] (the divisors up to the count
    just made for the request), where 3 works; a resume, whose seed count is its own, was told to change it."""
    from rl_zoo.config import ConfigError
    from rl_zoo.distributed import choose_devices

    env = {k: v for k, v in os.environ.items() if k not in ("JAX_NUM_CPU_DEVICES", "RL_ZOO_CPU_DEVICES")}
    env["XLA_FLAGS"] = " ".join(t for t in env.get("XLA_FLAGS", "").split() if "device_count" not in t)
    out = subprocess.run([sys.executable, "-m", "rl_zoo.cli", "train", "--seeds", "3", "--devices", "2", "--total-steps",
                          "256", "--out", str(tmp_path / "run")], env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 2 and "use a multiple of 2 seeds (e.g. 4) or --devices in [1, 3]" in out.stderr, out.stderr
    import jax

    monkeypatch.setattr(jax, "device_count", lambda: 4)  # as a resume on a machine of 4 devices finds
    with pytest.raises(ConfigError, match=r"cannot be split evenly over --devices = 3: use --devices in \[1, 2, 4\]$"):
        choose_devices(4, 3, resuming=True)
