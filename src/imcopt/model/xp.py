"""Array backends of the cost model: numpy (default) or PyTorch tensors on the CPU or a GPU.

The model is written once, against numpy's names. `array_namespace(*arrays)` gives the
namespace that fits its arguments: the `numpy` module itself for numpy arrays and Python
numbers, or a `TorchNamespace` (a thin shim exposing the same handful of numpy names on
torch float64 tensors of one device) for torch tensors. So a function called with tensors
computes with tensors, on their device, with no second copy of the model.

`namespace(device)` picks one by name, for the entry points:

| device | arrays |
| --- | --- |
| `numpy` | numpy on the CPU (default) |
| `cpu` | PyTorch float64 tensors on the CPU |
| `cuda`, `cuda:N` | PyTorch float64 tensors on a GPU |

PyTorch is imported only when a torch device is asked for.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

import numpy as np

DEVICES = ("numpy", "cpu", "cuda")
DEFAULT_DEVICE = "numpy"


class DeviceError(ValueError):
    """An unknown or unavailable array device; the message names the option and its values."""


def _allowed() -> str:
    return f"one of {', '.join(DEVICES)} (or cuda:N)"


def check_device(device: str) -> str:
    """The device name, validated (not whether it is available): numpy, cpu, cuda, cuda:N."""
    name = str(device).strip().lower()
    base, _, index = name.partition(":")
    if base not in DEVICES or (index and (base != "cuda" or not index.isdigit())):
        raise DeviceError(f"device {device!r} is not {_allowed()}")
    return name


def namespace(device: str = DEFAULT_DEVICE) -> Any:
    """The array namespace for a device name (see the module docstring)."""
    name = check_device(device)
    return np if name == "numpy" else _torch_namespace(name)


_TORCH_NAMESPACES: dict[str, TorchNamespace] = {}  # one per device name


def _torch_namespace(name: str) -> TorchNamespace:
    if name in _TORCH_NAMESPACES:
        return _TORCH_NAMESPACES[name]
    try:
        import torch
    except ImportError:
        raise DeviceError(f"device {name!r} needs PyTorch, which is not installed; "
                          "install torch or use device 'numpy'") from None
    if name.startswith("cuda"):
        index = int(name.partition(":")[2] or 0)
        if not torch.cuda.is_available():
            raise DeviceError(f"device {name!r}: no CUDA GPU is available to PyTorch; "
                              "use device 'numpy' or 'cpu'")
        if index >= torch.cuda.device_count():
            raise DeviceError(f"device {name!r}: only {torch.cuda.device_count()} CUDA GPU(s) "
                              "are available")
    return _TORCH_NAMESPACES.setdefault(name, TorchNamespace(torch.device(name)))


def is_torch(x: object) -> bool:
    """Whether x is a torch tensor (without importing torch)."""
    return type(x).__module__.startswith("torch")


def array_namespace(*arrays: object) -> Any:
    """numpy, or the torch namespace of the first tensor among `arrays`."""
    for x in arrays:
        if is_torch(x):
            dev = x.device  # type: ignore[attr-defined]
            name = dev.type if dev.index is None or dev.type == "cpu" else f"cuda:{dev.index}"
            return _torch_namespace(name)
    return np


def to_numpy(x: Any) -> np.ndarray:
    """A host numpy array of x (a numpy array, a tensor on any device, or a number)."""
    if is_torch(x):
        return x.detach().cpu().numpy()
    return np.asarray(x)


def device_of(xp: ModuleType | TorchNamespace) -> str:
    """The device name of a namespace (inverse of `namespace`)."""
    return "numpy" if xp is np else str(xp.device)


class TorchNamespace:
    """numpy's names, for the functions the cost model uses, on torch float64 tensors.

    Only what the model needs: elementwise maths, creation, concatenation, and the few
    index helpers of `mapping.slice_activity`. Python numbers mixed with tensors are
    turned into float64 tensors on the namespace's device.
    """

    def __init__(self, device: Any) -> None:
        import torch

        self.torch = torch
        self.device = device
        self.float64, self.int64, self.bool = torch.float64, torch.int64, torch.bool
        for name in ("ceil", "floor", "sqrt", "log2", "exp", "zeros_like", "ones_like",
                     "broadcast_to", "unique", "searchsorted"):
            setattr(self, name, getattr(torch, name))

    def __repr__(self) -> str:
        return f"TorchNamespace({self.device})"

    # ---- creation ----------------------------------------------------------------------
    def asarray(self, x: Any, dtype: Any = None) -> Any:
        if dtype is None:
            dtype = self.float64
        if is_torch(x):
            return x.to(device=self.device, dtype=dtype)
        if not isinstance(x, np.ndarray) or x.dtype == object:
            x = np.asarray(x)
        return self.torch.as_tensor(x, device=self.device).to(dtype)

    def _shape(self, shape: int | tuple[int, ...]) -> tuple[int, ...]:
        return (shape,) if isinstance(shape, int) else tuple(shape)

    def zeros(self, shape: int | tuple[int, ...], dtype: Any = None) -> Any:
        return self.torch.zeros(self._shape(shape), dtype=dtype or self.float64,
                                device=self.device)

    def ones(self, shape: int | tuple[int, ...], dtype: Any = None) -> Any:
        return self.torch.ones(self._shape(shape), dtype=dtype or self.float64,
                               device=self.device)

    def full(self, shape: int | tuple[int, ...], fill_value: float, dtype: Any = None) -> Any:
        return self.torch.full(self._shape(shape), fill_value, dtype=dtype or self.float64,
                               device=self.device)

    def arange(self, start: int, stop: int, dtype: Any = None) -> Any:
        return self.torch.arange(start, stop, dtype=dtype or self.int64, device=self.device)

    def stack(self, arrays: list[Any], axis: int = 0) -> Any:
        return self.torch.stack(list(arrays), dim=axis)

    def concatenate(self, arrays: list[Any], axis: int = 0) -> Any:
        return self.torch.cat([self.asarray(a, a.dtype if is_torch(a) else None)
                               for a in arrays], dim=axis)

    # ---- elementwise -------------------------------------------------------------------
    def _tensor(self, x: Any) -> Any:
        return x if is_torch(x) else self.torch.as_tensor(x, dtype=self.float64,
                                                          device=self.device)

    def maximum(self, a: Any, b: Any) -> Any:
        return self.torch.maximum(self._tensor(a), self._tensor(b))

    def minimum(self, a: Any, b: Any) -> Any:
        return self.torch.minimum(self._tensor(a), self._tensor(b))

    def where(self, cond: Any, a: Any, b: Any) -> Any:
        return self.torch.where(self._tensor(cond), self._tensor(a), self._tensor(b))

    def amax(self, x: Any, axis: int) -> Any:
        return self.torch.amax(self._tensor(x), dim=axis)

    def clip(self, x: Any, lo: float | None, hi: float | None) -> Any:
        return self.torch.clamp(self._tensor(x), lo, hi)
