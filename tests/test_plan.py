"""``rl_zoo.driver.plan``: ``map_seeds`` (vmap over the seed axis, or the one seed alone) and the name
``on_each_device`` gives the program it splits over devices, and the compiler options of each program."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from rl_zoo.driver.plan import compile_options, map_seeds, xla_knows_option


def layer(w, x):
    """A function of one seed's arrays with two outputs, one from a matrix product."""
    return jnp.tanh(x @ w), x.sum()


def test_several_seeds_are_vmapped():
    w, x = jnp.arange(24.0).reshape(3, 2, 4) / 10, jnp.arange(30.0).reshape(3, 5, 2) / 10
    for got, want in zip(map_seeds(layer)(w, x), jax.vmap(layer)(w, x)):
        np.testing.assert_array_equal(got, want)


def test_one_seed_runs_alone_with_the_seed_axis_put_back():
    w, x = jnp.arange(8.0).reshape(1, 2, 4) / 10, jnp.arange(10.0).reshape(1, 5, 2) / 10
    y, total = map_seeds(layer)(w, x)
    assert y.shape == (1, 5, 4) and total.shape == (1,)
    np.testing.assert_allclose(y[0], np.tanh(np.asarray(x[0]) @ np.asarray(w[0])), rtol=1e-6)
    assert float(total[0]) == 4.5  # 0.0 + 0.1 + ... + 0.9
    # the traced program has no seed axis: a plain [5, 2] x [2, 4] product, not a batched one
    jaxpr = jax.make_jaxpr(map_seeds(layer))(w, x)
    dots = [e for e in jaxpr.jaxpr.eqns if e.primitive.name == "dot_general"]
    assert [tuple(v.aval.shape for v in e.invars) for e in dots] == [((5, 2), (2, 4))]


def test_keys_and_pytrees_of_one_seed():
    keys = jax.vmap(jax.random.key)(jnp.arange(1))
    state = map_seeds(lambda k: {"key": k, "draw": jax.random.normal(k, (3,))})(keys)
    assert state["key"].shape == (1,) and state["draw"].shape == (1, 3)
    np.testing.assert_array_equal(state["draw"][0], jax.random.normal(jax.random.key(0), (3,)))


def test_a_program_split_over_devices_keeps_its_functions_name():
    """``on_each_device`` wraps the function it splits; the program XLA compiles is named after the function (a
    profile or `benchmarks/compile_programs.py` lists ``jit_segment``, not ``jit_split`` three times)."""
    from functools import partial
    from types import SimpleNamespace

    from rl_zoo.driver.plan import on_each_device

    def segment(states, k):
        return states

    two_devices = SimpleNamespace(mesh=SimpleNamespace(size=2))  # only its mesh's size is read when wrapping
    assert on_each_device(partial(segment, k=3), two_devices).__name__ == "segment"
    assert on_each_device(partial(partial(segment), k=3), two_devices).__name__ == "segment"
    assert on_each_device(segment, SimpleNamespace(mesh=SimpleNamespace(size=1))) is segment  # one device: f itself
    lowered = jax.jit(on_each_device(partial(segment, k=3), two_devices)).lower(jnp.zeros(3))  # 3 rows: not split
    assert lowered.as_text().startswith("module @jit_segment")


def test_compile_options_by_role_and_platform():
    """On the CPU each role has its LLVM level (the initial states 0, an evaluation 1, a segment 2), the initial
    states without XLA's fusion emitters; elsewhere XLA's defaults; the platform defaults to JAX's devices'; a
    role the plan does not have is refused by name."""
    elemental = {"xla_cpu_use_fusion_emitters": False} if xla_knows_option("xla_cpu_use_fusion_emitters", False) else {}
    assert compile_options("init", "cpu") == {"xla_backend_optimization_level": 0, **elemental}
    assert compile_options("eval", "cpu") == {"xla_backend_optimization_level": 1}
    assert compile_options("segment", "cpu") == {"xla_backend_optimization_level": 2}
    assert compile_options("segment", "gpu") is None and compile_options("init", "tpu") is None
    assert compile_options("segment") == compile_options("segment", jax.devices()[0].platform)  # default: JAX's devices'
    with pytest.raises(ValueError, match="unknown program role 'update': one of init, eval, segment"):
        compile_options("update", "cpu")


def test_an_option_the_user_sets_in_xla_flags_is_left_to_it(monkeypatch):
    """XLA_FLAGS=--xla_backend_optimization_level=0: the segment compiled at 2 anyway (the options given to
    ``compile`` win over the flags), while config.json recorded the flags among the settings that change numbers."""
    monkeypatch.setenv("XLA_FLAGS", "--xla_force_host_platform_device_count=2 --xla_backend_optimization_level=0 "
                                    "--xla_cpu_use_fusion_emitters=true")
    assert compile_options("segment", "cpu") == {} and compile_options("init", "cpu") == {}
    monkeypatch.setenv("XLA_FLAGS", "--xla_cpu_use_fusion_emitters=true")
    assert compile_options("segment", "cpu") == {"xla_backend_optimization_level": 2}


def test_an_option_this_xla_lacks_is_left_out(monkeypatch):
    """``xla_knows_option`` compiles a trivial program with the option: every XLA has the LLVM level, none a
    made-up option; where XLA lacks the fusion-emitter switch (an older or newer jax), the initial states
    compile at their level alone instead of failing with "No such compile option"."""
    from rl_zoo.driver import plan

    assert xla_knows_option("xla_backend_optimization_level", 1)
    assert not xla_knows_option("xla_cpu_no_such_option", True)
    monkeypatch.setattr(plan, "xla_knows_option", lambda name, value: False)
    assert compile_options("init", "cpu") == {"xla_backend_optimization_level": 0}


def test_a_run_compiles_each_program_at_its_roles_level(tmp_path, monkeypatch):
    """``compile_plan`` hands XLA each program's options (before, every program compiled at XLA's level 3:
    PPO CartPole's initial states 1.8 s, now 1.0 s); on a GPU, XLA's defaults (no options). The short run of
    run_helpers.KW, compiled once per session."""
    from jax import stages
    from run_helpers import KW

    from rl_zoo.train import train

    seen, real = {}, stages.Lowered.compile

    def recording(self, compiler_options=None, **kwargs):
        seen[self.as_text().split("@", 1)[1].split(maxsplit=1)[0]] = compiler_options
        return real(self, compiler_options, **kwargs)

    compile_options("init")  # xla_knows_option's own trivial compile, before recording
    monkeypatch.setattr(stages.Lowered, "compile", recording)
    train("ppo", "CartPole-v1", seeds=2, out=tmp_path / "run", **KW)
    on_cpu = jax.devices()[0].platform == "cpu"
    assert seen == ({"jit_init_seeds": compile_options("init", "cpu"), "jit_segment": {"xla_backend_optimization_level": 2},
                     "jit_eval_all": {"xla_backend_optimization_level": 1}} if on_cpu else
                    {"jit_init_seeds": None, "jit_segment": None, "jit_eval_all": None})


@pytest.mark.parametrize("algo, total_steps", [("ppo", 2560), ("ppo", 2816), ("dqn", 2000)])
def test_programs_lowered_on_the_states_shapes_are_the_programs_lowered_on_the_states(tmp_path, algo, total_steps):
    """``compile_plan`` lowers the segment and the evaluation on ``state_shapes()`` while the initial states
    compile on another thread: the StableHLO must be that of lowering them on the states themselves (weak types
    and shardings included), so the overlap changes no number. PPO in even segments and with a last, shorter
    one (``segment_upto``), and DQN, on the CPU's devices."""
    from rl_zoo import distributed
    from rl_zoo.driver.plan import lowerings
    from rl_zoo.driver.runner import RunContext, segment_schedule
    from rl_zoo.driver.spec import new_spec

    seeds = len(jax.devices())
    spec, env, env_params, _ = new_spec(algo, "CartPole-v1", seeds=seeds, total_steps=total_steps, num_evals=5)
    ctx = RunContext(spec, tmp_path, spec.module.make_agent(spec.config, env, env_params), env, env_params, lambda s: None, False)
    schedule = segment_schedule(ctx.agent.num_updates, spec.num_evals)
    sharding = distributed.seed_sharding(spec.devices)
    seeds_array = distributed.seed_array(spec.seed, spec.seeds, sharding)
    replicated = jax.sharding.NamedSharding(sharding.mesh, jax.sharding.PartitionSpec())
    lower = lowerings(ctx, schedule, sharding, seeds_array, replicated, len(set(schedule)) > 1)
    states = lower.init().compile()(seeds_array)
    shapes = lower.state_shapes()
    assert jax.tree.structure(shapes) == jax.tree.structure(states)
    for role in (lower.segment, lower.eval):
        assert role(shapes).as_text() == role(states).as_text()
