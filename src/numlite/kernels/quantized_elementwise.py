"""Transitional: the legacy-API helpers :mod:`numlite.kernels.quantized_misc` still imports from here.

The quantized elementwise kernels moved to :mod:`numlite.kernels.binary`, :mod:`.unary` and
:mod:`.activations` (new kernel contract); delete this module once quantized_misc.py's remaining
kernels use the helper homes (operands.py, quant.py).
"""
import numpy as np

from ..errors import ModelError, UnsupportedOpError
from .common import model_error  # noqa: F401  (re-exported)
from .quant import centred, dtype_limits, quantized_input  # noqa: F401  (re-exported)


def qparams(kernel, spec, what="tensor"):
    """(float32 scale, int zero point) of a per-tensor quantized tensor."""
    q = spec.quantization if spec is not None else None
    if q is None or q.scale is None or q.scale.size == 0:
        raise ModelError("%s (node %s): %s %r has no quantization parameters"
                         % (kernel.op.opcode, getattr(kernel, "node_index", None), what, spec.name))
    return np.float32(q.scale[0]), int(q.zero_point[0])


def refuse(kernel, message):
    return UnsupportedOpError(kernel.op.opcode, kernel.op.version, getattr(kernel, "node_index", None), message)


def check_arity(kernel, inputs, outputs, n_in, n_out=1):
    if len(inputs) != n_in or len(outputs) != n_out or any(s is None for s in inputs):
        raise model_error(kernel, "expected %d inputs and %d output, got %d and %d"
                          % (n_in, n_out, len(inputs), len(outputs)))
