"""imcopt: design in-memory-computing accelerators that serve many networks at once."""

from . import search
from .api import evaluate, evaluate_many
from .calibration import calibrate
from .hardware import Designs, DesignSpace, get_space, load_technology
from .study import Study
from .validation import validate
from .workloads import Layer, Workload

__version__ = "0.1.0"
__all__ = ["DesignSpace", "Designs", "Layer", "Study", "Workload", "__version__", "calibrate",
           "evaluate", "evaluate_many", "get_space", "load_technology", "search", "validate"]
