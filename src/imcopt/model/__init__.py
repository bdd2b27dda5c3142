"""The analytical cost model (pure functions of design arrays and layer tables)."""

from .cost import AREA_COMPONENTS, ENERGY_COMPONENTS, Metrics, area_mm2, cycle_time_s, evaluate

__all__ = ["AREA_COMPONENTS", "ENERGY_COMPONENTS", "Metrics", "area_mm2", "cycle_time_s",
           "evaluate"]
