"""Kernels: the contract (:mod:`.contract`), the registry (:mod:`.registry`), helper homes and
one module or package per op family. See docs/architecture.md."""
from .contract import Kernel, Node, TensorSpec
from .registry import custom_op, lookup, register, registered_ops

__all__ = ["Kernel", "Node", "TensorSpec", "register", "custom_op", "lookup", "registered_ops"]
