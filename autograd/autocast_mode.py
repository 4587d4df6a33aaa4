"""Mixed precision: `autocast` runs the ops of autocast_policy.py in float16 or bfloat16.

Inside an enabled region, matrix products and convolutions cast their floating inputs to the
region's low dtype, and reductions, softmax, losses and norms cast theirs to float32, as
PyTorch's autocast does; every other op runs in its inputs' dtype. The state is thread-local
(as grad mode is); `ACTIVE` counts the enabled regions of all threads, so that an op hook
outside any region costs one global read.

A cast of a float32 leaf that requires grad (a weight) is made once per outermost region and
reused (PyTorch's cast cache): a weight used by many ops is converted once and its gradient
flows through one node. The cache is emptied when the outermost region exits.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import Any

import backends

from . import dtypes as _dtypes
from .grad_mode import state as _grad_state
from .tensor import Tensor

__all__ = ["autocast", "is_autocast_enabled", "get_autocast_dtype", "clear_autocast_cache"]

#: Enabled autocast regions in all threads; the op hooks skip everything while it is 0.
ACTIVE = 0
_count_lock = threading.Lock()
#: The device types autocast knows, and the tensor device types each covers: the fake device
#: stands in for CUDA (CI proves the GPU path on it), so a "cuda" region covers it too.
_COVERS = {"cpu": ("cpu",), "cuda": ("cuda", "fake"), "fake": ("cuda", "fake")}
#: PyTorch's default low dtype per device type.
_DEFAULT_DTYPE = {"cpu": "bfloat16", "cuda": "float16", "fake": "float16"}
_LOW = ("float16", "bfloat16")
_F32 = backends.dtype_of("float32")
_F64 = backends.dtype_of("float64")


class _State(threading.local):
    # Class attributes are every new thread's starting values (never mutated in place).
    #: tensor device type ("cpu", "cuda", "fake") -> the low NumPy dtype of the enabled region.
    dtypes: dict = {}
    cache_enabled: bool = True
    #: Nesting depth of autocast regions (enabled or not); the cache empties at depth 0.
    depth: int = 0
    #: (id(leaf), widened) -> (leaf, its version when cast, the cast Tensor).
    cache: dict = {}


state = _State()
_policy_installed = False


def _install_policy() -> None:
    """Loads autocast_policy.py, which hooks its ops, before the first region opens (not at
    import: the policy loads the attention and convolution ops, which `import autograd` does
    not need; importing nn.functional loads it too)."""
    global _policy_installed
    from . import autocast_policy  # noqa: F401  (installs its hooks on import)

    _policy_installed = True


def _device_type(device_type: Any) -> str:
    name = str(getattr(device_type, "type", device_type)).split(":")[0]
    if name not in _COVERS:
        raise ValueError(
            f"autocast: device_type must be one of {', '.join(_COVERS)}, got {device_type!r}"
        )
    return name


def _low_dtype(name: str, dtype: Any) -> Any:
    resolved = _dtypes.resolve(_DEFAULT_DTYPE[name] if dtype is None else dtype)
    if resolved.name not in _LOW:
        raise ValueError(
            f"autocast: dtype must be float16 or bfloat16 (the low precision the listed ops run "
            f"in), got {resolved.name}"
        )
    if resolved.name == "bfloat16" and name != "cpu":
        raise TypeError(
            f"autocast: bfloat16 is not available on {name}: CuPy has no bfloat16 type; use "
            "dtype=ag.float16 there (bfloat16 runs on the CPU through ml_dtypes)"
        )
    return resolved


class autocast:  # noqa: N801 - PyTorch's name
    """Runs the ops autocast lists in a lower precision: a context manager and a decorator.

    Inside the region, matmul, linear and convolution (and attention, built from them) run in
    `dtype`; sums, products, softmax/log_softmax, exp/log/pow, losses and norms run in float32;
    other ops run in their inputs' dtype (mixed inputs promote to the wider one). Only tensors
    of `device_type` are cast, and float64 tensors never are. Regions nest: an inner
    ``autocast(..., enabled=False)`` runs its ops in the dtypes their inputs have. Call
    ``backward()`` outside the region; the gradients come back in each leaf's own dtype.

    Args:
        device_type: "cuda" (covers the fake device too) or "cpu".
        dtype: ``ag.float16`` or ``ag.bfloat16``; default float16 on cuda, bfloat16 on cpu
            (which needs ml_dtypes; CuPy has no bfloat16).
        enabled: False makes the region run everything in the inputs' dtypes.
        cache_enabled: reuse the cast of each float32 weight within the outermost region.

        >>> with ag.autocast("cpu", dtype=ag.bfloat16):
        ...     y = model(x)                    # Linear/Conv2d in bfloat16
        ...     loss = F.cross_entropy(y, t)    # float32
    """

    def __init__(self, device_type: Any, dtype: Any = None, enabled: bool = True,
                 cache_enabled: bool = True) -> None:
        if not isinstance(enabled, bool):
            raise TypeError(f"autocast: enabled must be a bool, got {enabled!r}")
        self.device_type = _device_type(device_type)
        self.fast_dtype = _low_dtype(self.device_type, dtype) if enabled else None
        self.enabled = enabled
        self.cache_enabled = bool(cache_enabled)
        self._saved: list = []  # a stack: one instance may be entered again while active

    def __enter__(self) -> autocast:
        global ACTIVE
        self._saved.append((state.dtypes, state.cache_enabled))
        dtypes = dict(state.dtypes)
        for covered in _COVERS[self.device_type]:
            if self.enabled:
                dtypes[covered] = self.fast_dtype
            else:
                dtypes.pop(covered, None)
        state.dtypes = dtypes
        state.cache_enabled = self.cache_enabled
        if state.depth == 0:
            state.cache = {}  # this thread's own (the class default is shared)
        state.depth += 1
        if self.enabled:
            if not _policy_installed:
                _install_policy()
            with _count_lock:
                ACTIVE += 1
        return self

    def __exit__(self, *exc: object) -> None:
        global ACTIVE
        state.dtypes, state.cache_enabled = self._saved.pop()
        state.depth -= 1
        if state.depth == 0:
            state.cache = {}
        if self.enabled:
            with _count_lock:
                ACTIVE -= 1

    def __call__(self, func: Callable) -> Callable:
        """Decorates `func` to run inside a fresh region with these settings."""
        settings = (self.device_type, self.fast_dtype, self.enabled, self.cache_enabled)

        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with autocast(*settings):
                return func(*args, **kwargs)

        return wrapper

    def __repr__(self) -> str:
        return (f"autocast({self.device_type!r}, dtype={self.fast_dtype}, "
                f"enabled={self.enabled})")


def is_autocast_enabled(device_type: Any = "cuda") -> bool:
    """True inside an enabled autocast region for `device_type` in this thread."""
    return _COVERS[_device_type(device_type)][0] in state.dtypes


def get_autocast_dtype(device_type: Any = "cuda") -> Any:
    """The low dtype of the enclosing region for `device_type` (its default outside one)."""
    name = _device_type(device_type)
    low = state.dtypes.get(_COVERS[name][0])
    return _dtypes.of(low if low is not None else _dtypes.resolve(_DEFAULT_DTYPE[name]))


def clear_autocast_cache() -> None:
    """Drops the cached casts of weights (the outermost region's exit does it too)."""
    state.cache = {}


# -- the casts the policy applies ----------------------------------------------------------
def region_dtype(t: Any) -> Any:
    """The low dtype of the region covering Tensor `t`'s device, else None."""
    if not isinstance(t, Tensor):
        return None
    return state.dtypes.get(t._backend.device.split(":")[0])


def _eligible(t: Tensor) -> bool:
    # Floating, not float64 (PyTorch leaves double alone), not complex.
    dtype = t.array.dtype
    return dtype is _F32 or dtype.name in _LOW


def to_low(t: Any, low: Any, widen: bool = False) -> Any:
    """`t` cast to the region's low dtype `low`, through the cache for float32 weights; with
    `widen`, rounded to `low` and held in float32 (the host's emulated low-precision GEMM)."""
    if not isinstance(t, Tensor) or not _eligible(t):
        return t
    if t.array.dtype == low:
        return t.astype(_F32) if widen else t
    cacheable = (state.cache_enabled and t.requires_grad and t.grad_fn is None
                 and t.array.dtype is _F32 and _grad_state.enabled and state.depth)
    key = (id(t), widen)
    if cacheable:
        entry = state.cache.get(key)
        if entry is not None and entry[0] is t and entry[1] == t._version[0]:
            return entry[2]
    cast = t.astype(low)
    if widen:
        cast = cast.astype(_F32)
    if cacheable:
        state.cache[key] = (t, t._version[0], cast)
    return cast


def to_float32(t: Any) -> Any:
    """`t` cast to float32 where it is a low-precision tensor of a region's device."""
    if isinstance(t, Tensor) and t.array.dtype.name in _LOW and region_dtype(t) is not None:
        return t.astype(_F32)
    return t


def is_float64(t: Any) -> bool:
    """True for a float64 Tensor (autocast never casts one)."""
    return isinstance(t, Tensor) and t.array.dtype is _F64
