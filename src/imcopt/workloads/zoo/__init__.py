"""The built-in network zoo (shapes from architecture hyper-parameters, no weights).

Importing this package registers every network with `imcopt.workloads.registry`, in this
order: CNNs first, then transformers.
"""

from . import cnn, mobilenet, transformers, dpt  # noqa: I001  (registration order)

__all__ = ["cnn", "dpt", "mobilenet", "transformers"]
