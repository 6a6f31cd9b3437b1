"""Helpers shared by the kernel families: activations, padding, broadcasting, type checks."""
import numpy as np

from ..errors import ModelError, UnsupportedOpError
from ..schema.enums import ActivationFunctionType as Act
from ..schema.enums import Padding


def apply_activation(x, act, out=None):
    """Fused activation on float data, in place when ``out`` is given (LiteRT's ActivationFunction)."""
    if act == Act.NONE:
        if out is not None and out is not x:
            np.copyto(out, x)
            return out
        return x
    if act == Act.RELU:
        return np.maximum(x, 0, out=out)
    if act == Act.RELU6:
        return np.clip(x, 0, 6, out=out)
    if act == Act.RELU_N1_TO_1:
        return np.clip(x, -1, 1, out=out)
    if act == Act.TANH:
        return np.tanh(x, out=out)
    if act == Act.SIGN_BIT:
        return np.signbit(x).astype(x.dtype) if out is None else np.copyto(out, np.signbit(x)) or out
    raise ModelError("unknown fused activation function %d" % act)


def activation_range(act):
    """(low, high) clamp of a fused activation as floats (TANH/SIGN_BIT are not clamps)."""
    return {Act.NONE: (-np.inf, np.inf), Act.RELU: (0.0, np.inf), Act.RELU6: (0.0, 6.0),
            Act.RELU_N1_TO_1: (-1.0, 1.0)}.get(act)


def compute_padding(in_size, filter_size, stride, dilation, padding):
    """Output size and leading padding for one spatial dim (TFLite's ComputePaddingHeightWidth)."""
    if stride <= 0 or dilation <= 0:
        raise ModelError("stride and dilation must be positive (got %d, %d)" % (stride, dilation))
    effective = (filter_size - 1) * dilation + 1
    if padding == Padding.SAME:
        out = (in_size + stride - 1) // stride
    elif padding == Padding.VALID:
        out = (in_size - effective + stride) // stride
    else:
        raise ModelError("unknown padding %d" % padding)
    out = max(out, 0)
    total = max((out - 1) * stride + effective - in_size, 0)
    return out, total // 2


def broadcast_shape(a, b, what="broadcast"):
    try:
        return tuple(np.broadcast_shapes(tuple(a), tuple(b)))
    except ValueError:
        raise ModelError("%s: shapes %s and %s are not broadcastable" % (what, tuple(a), tuple(b))) from None


def check_types(kernel, spec, allowed, what="input"):
    """Refuse a tensor type the kernel does not implement, naming op and type."""
    if spec.type_name not in allowed:
        raise UnsupportedOpError(kernel.op.opcode, kernel.op.version, getattr(kernel, "node_index", None),
                                 "%s type %s not supported (supported: %s)" % (what, spec.type_name, ", ".join(allowed)))


def node_arity(kernel, inputs, outputs, lo, hi=None, n_out=1):
    """Refuse a node with fewer than ``lo`` or more than ``hi`` inputs (``hi`` defaults to ``lo``),
    other than ``n_out`` outputs, or an omitted required input (the first ``lo``)."""
    hi = lo if hi is None else hi
    if not lo <= len(inputs) <= hi or len(outputs) != n_out:
        raise ModelError("%s (node %s): expected %s inputs and %d output(s), got %d and %d"
                         % (kernel.op.opcode, getattr(kernel, "node_index", "?"),
                            "%d" % lo if lo == hi else "%d-%d" % (lo, hi), n_out, len(inputs), len(outputs)))
    for k in range(lo):
        if inputs[k] is None:
            raise ModelError("%s: required input %d is missing" % (kernel.op.opcode, k))


def optional_input(inputs, k):
    """Input ``k`` of a node, or None when it is omitted (index -1) or beyond the input list."""
    return inputs[k] if len(inputs) > k else None


def check_rank(kernel, spec, rank, what):
    if spec.shape is None or len(spec.shape) != rank:
        raise ModelError("%s: %s must have rank %d, got shape %s" % (kernel.op.opcode, what, rank, spec.shape))


def model_error(kernel, message):
    """A ModelError naming the node's op and index."""
    return ModelError("%s (node %s): %s" % (kernel.op.opcode, getattr(kernel, "node_index", "?"), message))


def invoke_error(kernel, message):
    """A data-dependent failure that LiteRT reports from Invoke (a RuntimeError in its Python API)."""
    return RuntimeError("%s (node %s): %s" % (kernel.op.opcode, getattr(kernel, "node_index", None), message))


def const_value(kernel, spec, what):
    """The constant value of an input that the kernel needs at prepare time."""
    if spec is None or spec.data is None:
        raise UnsupportedOpError(kernel.op.opcode, kernel.op.version, getattr(kernel, "node_index", None),
                                 "%s must be a constant tensor" % what)
    return spec.data
