"""Workloads: layers, networks, the built-in zoo, layer-table files and imported networks."""

from .importers import UnmappedOpsWarning, from_torch, import_workload, load
from .layer import LAYER_KINDS, Layer, Workload, WorkloadError
from .registry import describe, get, get_many, names, register
from .table import load_layer_table, write_layer_table
from .user import user_dir, user_names

#: the study's two workload sets
FOUR_NETWORKS = ("resnet18", "vgg16", "alexnet", "mobilenet_v3")
NINE_NETWORKS = (*FOUR_NETWORKS, "gpt2_medium", "mobilebert", "densenet201", "resnet50",
                 "vision_transformer")

__all__ = [
    "FOUR_NETWORKS", "LAYER_KINDS", "NINE_NETWORKS", "Layer", "UnmappedOpsWarning", "Workload",
    "WorkloadError", "describe", "from_torch", "get", "get_many", "import_workload", "load",
    "load_layer_table", "names", "register", "user_dir", "user_names", "write_layer_table",
]
