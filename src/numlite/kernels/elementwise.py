"""Transitional: the legacy-API helpers :mod:`numlite.kernels.quantize` still imports from here.

The binary elementwise kernels moved to :mod:`numlite.kernels.binary` (new kernel contract);
delete this module once quantize.py uses the helper homes (operands.py, quant.py).
"""
import functools

import numpy as np

from ..errors import ModelError, UnsupportedOpError


def check_arity(kernel, inputs, outputs, n_in, n_out=1):
    """Refuse a node whose input/output counts (or omitted operands) do not fit the op."""
    if len(inputs) != n_in or len(outputs) != n_out or any(s is None for s in inputs):
        raise ModelError("%s (node %s): expects %d inputs and %d outputs, got %d and %d"
                         % (kernel.op.opcode, getattr(kernel, "node_index", None), n_in, n_out,
                            len(inputs), len(outputs)))


def check_output_type(kernel, spec, type_name):
    if spec.type_name != type_name:
        raise ModelError("%s (node %s): output type %s, expected %s"
                         % (kernel.op.opcode, getattr(kernel, "node_index", None), spec.type_name, type_name))


def unsupported(kernel, detail):
    return UnsupportedOpError(kernel.op.opcode, kernel.op.version, getattr(kernel, "node_index", None), detail)


def quiet(fn):
    """Run an eval with floating-point warnings silenced (log(0), 0/0 … are defined results)."""
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        with np.errstate(all="ignore"):
            return fn(*args, **kwargs)
    return wrapper
