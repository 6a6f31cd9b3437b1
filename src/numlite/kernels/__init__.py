"""Reference kernels, one module per op family. See :mod:`numlite.kernels.registry`."""
from .registry import Kernel, register, lookup, registered_ops

__all__ = ["Kernel", "register", "lookup", "registered_ops"]
