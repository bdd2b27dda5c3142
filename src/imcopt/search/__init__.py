"""Search: pymoo problems, samplings, the four-phase GA, strategies, exhaustive search.

`run_search(config)` is the Python twin of `imcopt search CONFIG.yaml --out DIR`.
"""

from .algorithms import STUDY_PHASES, HammingSampling, Phase, Trace
from .config import ConfigError, SearchConfig, load_config
from .exhaustive import ExhaustiveResult, exhaustive
from .problem import DesignProblem
from .runner import SearchResult, run_search, write_results
from .strategies import ALGORITHMS, STRATEGIES, AlgorithmSpec, StrategyResult

__all__ = [
    "ALGORITHMS", "STRATEGIES", "STUDY_PHASES", "AlgorithmSpec", "ConfigError", "DesignProblem",
    "ExhaustiveResult", "HammingSampling", "Phase", "SearchConfig", "SearchResult",
    "StrategyResult", "Trace", "exhaustive", "load_config", "run_search", "write_results",
]
