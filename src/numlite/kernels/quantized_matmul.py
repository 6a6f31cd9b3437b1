"""Transitional: the legacy helpers the sequence kernels (rnn, svdf, lstm, quantized_lstm) still
import from here. The quantized FULLY_CONNECTED and BATCH_MATMUL kernels are in matmul.py and
these helpers' successors in quant.py (``qparams`` there takes a node and returns a QParams).
Delete this module once nothing imports it."""
import numpy as np

from ..errors import ModelError, UnsupportedOpError
from .quant import exact_dtype, exact_matmul, value_bound  # noqa: F401  (re-exported)


def refuse(kernel, detail):
    raise UnsupportedOpError(kernel.op.opcode, kernel.op.version, getattr(kernel, "node_index", None), detail)


def qparams(kernel, spec, what):
    """(scales float32 [n], zero_points int64 [n]) of a quantized tensor; LiteRT requires them."""
    q = spec.quantization if spec is not None else None
    if q is None or q.scale is None or q.scale.size == 0:
        raise ModelError("%s: %s tensor of type %s has no quantization parameters"
                         % (kernel.op.opcode, what, spec.type_name))
    scale = np.asarray(q.scale, np.float32).reshape(-1)
    zp = np.asarray(q.zero_point, np.int64).reshape(-1) if q.zero_point is not None else np.zeros(1, np.int64)
    return scale, (zp if zp.size else np.zeros(1, np.int64))
