"""Hardware: parameters, design spaces, technologies and their constants."""

from .space import (
    KEY_FIELDS,
    LEVELS,
    PARAMETERS,
    DesignError,
    Designs,
    DesignSpace,
    DesignTypeError,
    Parameter,
    designs_from_keys,
    hamming,
    parse_key,
)
from .spaces import SPACES, get_space, rram_space, sram_space, sram_study4_space
from .technology import (
    ASSUMPTIONS,
    MATMUL_POLICIES,
    WEIGHT_RESIDENCY,
    Technology,
    load_technology,
    save_technology,
    technology_names,
)

__all__ = [
    "ASSUMPTIONS",
    "KEY_FIELDS",
    "LEVELS",
    "MATMUL_POLICIES",
    "PARAMETERS",
    "SPACES",
    "WEIGHT_RESIDENCY",
    "DesignError",
    "DesignSpace",
    "DesignTypeError",
    "Designs",
    "Parameter",
    "Technology",
    "designs_from_keys",
    "get_space",
    "hamming",
    "load_technology",
    "parse_key",
    "rram_space",
    "save_technology",
    "sram_space",
    "sram_study4_space",
    "technology_names",
]
