"""Workloads: layers, networks, the built-in zoo and layer-table files."""

from .layer import LAYER_KINDS, Layer, Workload, WorkloadError
from .registry import describe, get, get_many, names, register
from .table import load_layer_table, write_layer_table

#: the study's two workload sets
FOUR_NETWORKS = ("resnet18", "vgg16", "alexnet", "mobilenet_v3")
NINE_NETWORKS = (*FOUR_NETWORKS, "gpt2_medium", "mobilebert", "densenet201", "resnet50",
                 "vision_transformer")

__all__ = [
    "FOUR_NETWORKS", "LAYER_KINDS", "NINE_NETWORKS", "Layer", "Workload", "WorkloadError",
    "describe", "get", "get_many", "load_layer_table", "names", "register", "write_layer_table",
]
