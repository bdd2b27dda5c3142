"""imcopt: design in-memory-computing accelerators that serve many networks at once.

The names below load their modules on first use (PEP 562), so `imcopt --help` and
`import imcopt` stay fast.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"
#: public name -> the module that defines it (None: the name is that module)
_LAZY = {"search": None, "evaluate": "api", "evaluate_many": "api",
         "calibrate": "calibration", "Designs": "hardware", "DesignSpace": "hardware",
         "get_space": "hardware", "load_technology": "hardware", "Study": "study",
         "validate": "validation", "Layer": "workloads", "Workload": "workloads"}
__all__ = ["DesignSpace", "Designs", "Layer", "Study", "Workload", "__version__", "calibrate",
           "evaluate", "evaluate_many", "get_space", "load_technology", "search", "validate"]


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'imcopt' has no attribute {name!r}")
    module = _LAZY[name]
    value = (importlib.import_module(f".{name}", __name__) if module is None
             else getattr(importlib.import_module(f".{module}", __name__), name))
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
