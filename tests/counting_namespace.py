"""A counting Array API namespace: NumPy underneath, every device operation counted.

Pass the module as ``backend=`` (``anynn.Network(..., backend=counting_namespace)``): anynn
knows it only as "some module with ``__array_api_version__``". Each namespace function,
operator and in-place operator that would launch a device kernel on a GPU counts one
launch; views (basic slicing, ``.T``, ``reshape``, ``permute_dims``) count none; reading a
value on the host (``float()``, ``bool()``, ``int()``, DLPack export to NumPy) counts one
host synchronisation; moving host data in (``asarray`` of a host array) counts one
host-to-device copy. This is the CPU-side proxy of GPU speed: CuPy spends 5-10 us of host
time per launch, so the count, not the FLOPs, decides a small step's speed on a GPU.

Its arrays have ``.T`` but no ``.mT`` (which CuPy 13 lacks), so anything that trains
through this namespace also runs on CuPy 13.

:class:`KernelCountingBackend` adds fused elementwise kernels (stand-ins counted as one
launch each that fill their outputs with zeros): the launch count of the CuPy backend's
fast path, without a GPU.
"""

from __future__ import annotations

import operator
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from anynn.backend import Backend, Kernel

_HOST = Backend("numpy").xp  # NumPy itself, or array-api-compat's wrapper before 2.1

__array_api_version__ = "2024.12"

_FREE = {  # no kernel: views, metadata, dtype helpers
    "reshape", "permute_dims", "matrix_transpose", "expand_dims", "squeeze",
    "isdtype", "result_type", "can_cast", "finfo", "iinfo", "broadcast_shapes",
    "empty", "empty_like", "__array_namespace_info__",
}


@dataclass
class Counts:
    """What the namespace counted since the last :meth:`reset`."""

    launches: int = 0
    syncs: int = 0
    host_to_device: int = 0
    by_name: Counter[str] = field(default_factory=Counter)

    def reset(self) -> None:
        self.launches = self.syncs = self.host_to_device = 0
        self.by_name = Counter()

    def launch(self, name: str) -> None:
        self.launches += 1
        self.by_name[name] += 1

    def snapshot(self) -> tuple[int, int, int]:
        return self.launches, self.syncs, self.host_to_device


COUNTS = Counts()


def _unwrap(value: Any) -> Any:
    if isinstance(value, CountedArray):
        return value.data
    if isinstance(value, (list, tuple)):
        return type(value)(_unwrap(v) for v in value)
    return value


def _wrap(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return CountedArray(value)
    if isinstance(value, np.generic):
        return CountedArray(np.asarray(value))
    if isinstance(value, tuple):
        return tuple(_wrap(v) for v in value)
    if isinstance(value, list):
        return [_wrap(v) for v in value]
    return value


def _basic_index(key: Any) -> bool:
    """Whether ``key`` selects a view (ints, slices, Ellipsis, None)."""
    keys = key if isinstance(key, tuple) else (key,)
    return all(k is None or k is Ellipsis or isinstance(k, (int, slice)) for k in keys)


class CountedArray:
    """A NumPy array whose device operations are counted (see the module docstring)."""

    __slots__ = ("data",)
    __array_priority__ = 1000

    def __init__(self, data: np.ndarray) -> None:
        self.data = data

    def __array_namespace__(self, api_version: str | None = None) -> Any:
        import sys

        return sys.modules[__name__]

    # -- metadata (no launch) -----------------------------------------------------------
    @property
    def shape(self) -> tuple[int, ...]:
        return self.data.shape

    @property
    def ndim(self) -> int:
        return self.data.ndim

    @property
    def dtype(self) -> np.dtype[Any]:
        return self.data.dtype

    @property
    def size(self) -> int:
        return self.data.size

    @property
    def device(self) -> str:
        return "cpu"

    @property
    def T(self) -> CountedArray:  # noqa: N802 - the standard's name
        return CountedArray(self.data.T)

    def to_device(self, device: Any, /, *, stream: Any = None) -> CountedArray:
        return self

    def __repr__(self) -> str:
        return f"CountedArray({self.data!r})"

    # -- host reads (synchronisations) ----------------------------------------------------
    def __float__(self) -> float:
        COUNTS.syncs += 1
        return float(self.data)

    def __int__(self) -> int:
        COUNTS.syncs += 1
        return int(self.data)

    def __index__(self) -> int:
        COUNTS.syncs += 1
        return operator.index(self.data)

    def __bool__(self) -> bool:
        COUNTS.syncs += 1
        return bool(self.data)

    def __dlpack__(self, **kwargs: Any) -> Any:
        COUNTS.syncs += 1
        return self.data.__dlpack__(**kwargs)

    def __dlpack_device__(self) -> Any:
        return self.data.__dlpack_device__()

    # -- indexing -----------------------------------------------------------------------
    def __getitem__(self, key: Any) -> CountedArray:
        if not _basic_index(key):
            COUNTS.launch("getitem")
        return CountedArray(np.asarray(self.data[_unwrap(key)]))

    def __setitem__(self, key: Any, value: Any) -> None:
        COUNTS.launch("setitem")
        self.data[_unwrap(key)] = _unwrap(value)


def _binary(name: str, op: Callable[[Any, Any], Any], reflected: bool = False) -> Any:
    def method(self: CountedArray, other: Any) -> Any:
        if not isinstance(other, (CountedArray, int, float, bool, complex)):
            return NotImplemented
        COUNTS.launch(name)
        a, b = (other, self) if reflected else (self, other)
        return CountedArray(np.asarray(op(_unwrap(a), _unwrap(b))))

    return method


def _inplace(name: str, op: Callable[[Any, Any], Any]) -> Any:
    def method(self: CountedArray, other: Any) -> CountedArray:
        COUNTS.launch(name)
        op(self.data, _unwrap(other))
        return self

    return method


def _unary(name: str, op: Callable[[Any], Any]) -> Any:
    def method(self: CountedArray) -> CountedArray:
        COUNTS.launch(name)
        return CountedArray(np.asarray(op(self.data)))

    return method


_OPERATORS = {
    "add": operator.add, "sub": operator.sub, "mul": operator.mul,
    "truediv": operator.truediv, "floordiv": operator.floordiv, "pow": operator.pow,
    "mod": operator.mod, "matmul": operator.matmul, "and": operator.and_,
    "or": operator.or_, "xor": operator.xor,
}
for _name, _op in _OPERATORS.items():
    setattr(CountedArray, f"__{_name}__", _binary(_name, _op))
    setattr(CountedArray, f"__r{_name}__", _binary(_name, _op, reflected=True))
    setattr(CountedArray, f"__i{_name}__", _inplace(f"i{_name}", getattr(operator, f"i{_name}")))
for _name, _op in {
    "lt": operator.lt, "le": operator.le, "gt": operator.gt, "ge": operator.ge,
    "eq": operator.eq, "ne": operator.ne,
}.items():
    setattr(CountedArray, f"__{_name}__", _binary(_name, _op))
for _name, _op in {"neg": operator.neg, "pos": operator.pos, "abs": operator.abs,
                   "invert": operator.invert}.items():
    setattr(CountedArray, f"__{_name}__", _unary(_name, _op))
CountedArray.__hash__ = None  # type: ignore[assignment]


def asarray(obj: Any, /, *, dtype: Any = None, device: Any = None, copy: bool | None = None) -> Any:
    """``asarray``: a host array in is a host-to-device copy; a device array a copy or not."""
    if isinstance(obj, CountedArray):
        same = dtype is None or np.dtype(dtype) == obj.dtype
        if copy or not same:
            COUNTS.launch("asarray")
            return CountedArray(np.array(obj.data, dtype=dtype, copy=True))
        return obj
    COUNTS.host_to_device += 1
    return CountedArray(np.array(_unwrap(obj), dtype=dtype, copy=True))


def astype(x: CountedArray, dtype: Any, /, *, copy: bool = True, device: Any = None) -> Any:
    if not copy and np.dtype(dtype) == x.dtype:
        return x
    COUNTS.launch("astype")
    return CountedArray(x.data.astype(dtype))


_RESOLVED: dict[str, Any] = {}


def __getattr__(name: str) -> Any:
    if name.startswith("__"):
        raise AttributeError(name)
    if name in _RESOLVED:
        return _RESOLVED[name]
    target = getattr(_HOST, name)
    if not callable(target) or isinstance(target, type):
        return target  # dtypes, constants (e, pi, nan, inf, newaxis)

    def counted(*args: Any, **kwargs: Any) -> Any:
        if name not in _FREE:
            COUNTS.launch(name)
        return _wrap(target(*_unwrap(args), **{k: _unwrap(v) for k, v in kwargs.items()}))

    counted.__name__ = name
    _RESOLVED[name] = counted  # not globals(): they would shadow builtins (all, max, sum)
    return counted


class DeviceCountingBackend(Backend):
    """The counting namespace as a device backend (arrays "in device memory", as CuPy's:
    ``on_host`` is False), without kernels: the standard path of a GPU backend."""

    on_host: ClassVar[bool] = False


class KernelCountingBackend(DeviceCountingBackend):
    """The counting namespace with fused kernels: each kernel call counts one launch.

    The stand-ins compute nothing (outputs are zeros of the broadcast shape; in-out
    parameters are left as they are): use them to count, not to train.
    """

    compiles_kernels: ClassVar[bool] = True

    def _compile_kernel(self, in_params: str, out_params: str, body: str, name: str) -> Kernel:
        n_in, n_out = _n_params(in_params), _n_params(out_params)
        label = "kernel:" + name.removeprefix("anynn_").rsplit("_", 1)[0]

        def kernel(*args: Any) -> Any:
            """As ``ElementwiseKernel.__call__``: outputs given after the inputs are
            written in place (here: left as they are), missing ones are allocated."""
            COUNTS.launch(label)
            arrays = [a.data for a in args if isinstance(a, CountedArray)]
            shape = np.broadcast_shapes(*(a.shape for a in arrays)) if arrays else ()
            outs = list(args[n_in:])
            outs += [
                CountedArray(np.zeros(shape, dtype=self.dtype_name))
                for _ in range(n_out - len(outs))
            ]
            return outs[0] if n_out == 1 else tuple(outs)

        return kernel


def _n_params(params: str) -> int:
    return len([p for p in params.split(",") if p.strip()])
