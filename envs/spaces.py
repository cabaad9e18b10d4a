"""Observation and action spaces: shape, dtype and bounds, as gymnasium describes them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np


@dataclass(frozen=True)
class Discrete:
    """The integers ``{start, ..., start + n - 1}`` (gymnasium ``spaces.Discrete``)."""

    n: int
    start: int = 0
    dtype: Any = jnp.int32

    @property
    def shape(self) -> tuple[int, ...]:
        return ()

    def sample(self, key: jax.Array) -> jax.Array:
        return jax.random.randint(key, (), self.start, self.start + self.n, dtype=self.dtype)

    def contains(self, x) -> bool:
        x = np.asarray(x)
        if x.shape != () or not np.issubdtype(x.dtype, np.integer):
            return False
        return bool(self.start <= int(x) < self.start + self.n)

    def __str__(self) -> str:
        return f"Discrete({self.n})" if self.start == 0 else f"Discrete({self.n}, start={self.start})"


class TracedBoundsError(ValueError):
    """A Box made with a traced bound (an env param that bounds a space, vmapped or jitted over)."""


@dataclass(frozen=True)
class Box:
    """A box in R^n with (possibly infinite) bounds (gymnasium ``spaces.Box``).

    ``low`` and ``high`` are stored as numpy arrays of ``shape`` so that bounds can be compared with
    gymnasium's exactly.
    """

    low: Any
    high: Any
    shape: tuple[int, ...]
    dtype: Any = jnp.float32

    def __post_init__(self):
        if any(isinstance(b, jax.core.Tracer) for b in (self.low, self.high)):
            raise TracedBoundsError(
                "a Box's bounds must be concrete numbers, but one is traced: an env param that bounds a space "
                "(Pendulum's max_torque, for one) cannot be vmapped or jitted over. Trace only params the spaces do "
                "not read (gravity, masses, the time limit), or give that one as a constant.")
        object.__setattr__(self, "low", np.broadcast_to(np.asarray(self.low, self.dtype), self.shape).copy())
        object.__setattr__(self, "high", np.broadcast_to(np.asarray(self.high, self.dtype), self.shape).copy())

    def _key(self) -> tuple:
        return self.shape, np.dtype(self.dtype).str, self.low.tobytes(), self.high.tobytes()

    # The dataclass's own __eq__/__hash__ would compare and hash the numpy bounds (ambiguous, unhashable);
    # a Box is a value: equal when shape, dtype and bounds are, hashable so that caches can key on it.
    def __eq__(self, other) -> bool:
        return isinstance(other, Box) and self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def sample(self, key: jax.Array) -> jax.Array:
        """Gymnasium's ``Box.sample`` scheme: uniform inside finite bounds, a standard normal along
        dimensions unbounded both ways, ``low + Exp(1)`` / ``high - Exp(1)`` along those bounded on one
        side only (so every sample lies in the space)."""
        if jnp.issubdtype(self.dtype, jnp.integer):  # gymnasium: uniform over the integers low..high, both included
            return jax.random.randint(key, self.shape, jnp.asarray(self.low, jnp.int32), jnp.asarray(self.high, jnp.int32) + 1).astype(self.dtype)
        low = jnp.asarray(self.low, jnp.float32)
        high = jnp.asarray(self.high, jnp.float32)
        has_low, has_high = jnp.isfinite(low), jnp.isfinite(high)
        k1, k2, k3 = jax.random.split(key, 3)
        u = jax.random.uniform(k1, self.shape, jnp.float32, jnp.where(has_low & has_high, low, 0.0),
                               jnp.where(has_low & has_high, high, 1.0))
        n = jax.random.normal(k2, self.shape, jnp.float32)
        e = jax.random.exponential(k3, self.shape, jnp.float32)
        x = jnp.where(has_low & has_high, u, jnp.where(has_low, jnp.where(has_low, low, 0.0) + e,
                                                        jnp.where(has_high, jnp.where(has_high, high, 0.0) - e, n)))
        return x.astype(self.dtype)

    def contains(self, x) -> bool:
        x = np.asarray(x)
        return x.shape == self.shape and bool(np.all(x >= self.low) and np.all(x <= self.high))

    def __str__(self) -> str:
        lo, hi = self.low, self.high
        if lo.size and np.all(lo == lo.flat[0]) and np.all(hi == hi.flat[0]):
            lo, hi = lo.flat[0], hi.flat[0]
        else:
            lo, hi = np.array2string(lo, precision=3), np.array2string(hi, precision=3)
        return f"Box({lo!s}, {hi!s}, {self.shape}, {np.dtype(self.dtype).name})"  # !s: format() shows a float32 as float64


Space = Discrete | Box


class UnsupportedSpace(ValueError, TypeError):
    """A gymnasium space rl_zoo cannot take (a ``ValueError``, so ``rl-zoo`` reports it in one line)."""


def to_gymnasium_action(action: np.ndarray, space) -> np.ndarray:
    """``action`` as a gymnasium env with action space ``space`` takes it: a Box action in the env's own dtype,
    clipped to the env's own bounds (rl_zoo's policies clip to them rounded to float32: a float64 bound 0.1 is
    0.100000001 there, just outside the env's space); a Discrete action (an int32 from the policy) in the
    space's dtype (int64), as ``space.sample()`` gives one; any other action as it is."""
    low, high = getattr(space, "low", None), getattr(space, "high", None)
    if low is not None:
        return np.clip(np.asarray(action).astype(space.dtype), low, high)
    dtype = getattr(space, "dtype", None)
    return action if dtype is None else np.asarray(action).astype(dtype, copy=False)


def from_gymnasium(space, what: str = "observation") -> Space:
    """Translate a gymnasium space into ours (Discrete and Box only); ``what`` ("observation" or
    "action") says which the refusal of another kind is about."""
    import gymnasium

    if isinstance(space, gymnasium.spaces.Discrete):
        if not -2**31 <= int(space.start) <= int(space.start) + int(space.n) - 1 < 2**31:  # an OverflowError mid-compile
            raise UnsupportedSpace(f"rl_zoo holds a Discrete {what} as an int32; {space} has values from {int(space.start)} to "
                                   f"{int(space.start) + int(space.n) - 1}, beyond int32's -2**31 .. 2**31 - 1")
        return Discrete(int(space.n), int(space.start), jnp.int32)
    if isinstance(space, gymnasium.spaces.Box):
        if what == "action" and len(space.shape) != 1:  # the Gaussian policy outputs one flat vector
            raise UnsupportedSpace(
                f"rl_zoo's continuous policies act with a vector of actions (a Box of rank 1); got {space}, of rank "
                f"{len(space.shape)}. To train on such an env, wrap it in a gymnasium.ActionWrapper that reshapes a flat "
                "Box action to the env's, register the wrapped env with gymnasium in a module of yours, and train on "
                "--env MODULE:NEW_ID.")
        if what == "action" and not np.issubdtype(space.dtype, np.floating):  # cast to it, 0.99 stepped as 0, -0.7 as 0
            raise UnsupportedSpace(
                f"rl_zoo's continuous policies act with float actions; got {space}, a Box of {space.dtype}, whose steps "
                "would cut the policy's floats to whole numbers. To train on such an env, wrap it in a "
                "gymnasium.ActionWrapper that maps a Discrete (or a float Box) action to the env's, register the wrapped "
                "env with gymnasium in a module of yours, and train on --env MODULE:NEW_ID.")
        return Box(space.low, space.high, tuple(space.shape), jnp.float32)
    if what == "action":
        raise UnsupportedSpace(
            f"rl_zoo's algorithms act in a Discrete or Box action space; got {type(space).__name__} ({space}). To train "
            "on such an env, wrap it in a gymnasium.ActionWrapper that maps one Discrete or Box action to the env's, "
            "register the wrapped env with gymnasium in a module of yours, and train on --env MODULE:NEW_ID.")
    raise UnsupportedSpace(
        f"rl_zoo handles Discrete and Box spaces; got {type(space).__name__} ({space}). To train on such an env, "
        "register a flattened id with gymnasium in a module of yours (gymnasium.register(NEW_ID, entry_point=a function "
        "returning gymnasium.wrappers.FlattenObservation(gymnasium.make(ID)))) and train on --env MODULE:NEW_ID."
    )


def check_observation(space: Space, env_id: str) -> Space:
    """``space`` if rl_zoo's networks can take it: a Discrete one, or a vector Box (rank 1). The
    policies and Q-networks are MLPs over a flat vector; an image (or any rank-2+ Box) would be fed
    to them one pixel row at a time, so it is refused here, before anything compiles. The message gives the shape
    alone: the space as rl_zoo holds it says float32 of an env whose observations are uint8."""
    if isinstance(space, Box) and len(space.shape) != 1:
        raise UnsupportedSpace(
            f"{env_id}'s observations are arrays of shape {tuple(space.shape)} (rank {len(space.shape)}): rl_zoo's networks "
            f"are MLPs over a vector observation (there are no convolutional ones), so it cannot train on them as they are. To try "
            f"anyway, flatten them: register an id whose entry point returns gymnasium.wrappers.FlattenObservation("
            f"gymnasium.make(ID)) in a module of yours and train on --env MODULE:NEW_ID (an MLP on raw pixels learns little)."
        )
    return space
