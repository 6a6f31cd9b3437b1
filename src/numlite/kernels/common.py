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


def const_value(kernel, spec, what):
    """The constant value of an input that the kernel needs at prepare time."""
    if spec is None or spec.data is None:
        raise UnsupportedOpError(kernel.op.opcode, kernel.op.version, getattr(kernel, "node_index", None),
                                 "%s must be a constant tensor" % what)
    return spec.data
