"""Fused activation functions (an op's ``fused_activation_function`` option) on float data.

LiteRT's float kernels apply them in two ways, and numlite names both:

* :func:`float_clamp` — CalculateActivationRange as conv, pooling and fully-connected kernels
  use it: RELU, RELU6 and RELU_N1_TO_1 clamp; every other activation (TANH and SIGN_BIT
  included) is silently no clamp at all.
* :func:`fused_clamp` — the same range as the elementwise kernels apply it: always clamped to
  the type's finite range, so an infinite float result becomes ±max.
* :func:`apply_activation` — the activation applied as a function (RNN cells, SVDF).

The quantized counterpart (bounds in the output's integers) is
:func:`numlite.kernels.quant.activation_bounds`.
"""
import numpy as np

from ..errors import ModelError
from ..schema.enums import ActivationFunctionType as Act


def activation_range(act):
    """(low, high) clamp of a fused activation as floats; None for TANH/SIGN_BIT (not clamps)."""
    return {Act.NONE: (-np.inf, np.inf), Act.RELU: (0.0, np.inf), Act.RELU6: (0.0, 6.0),
            Act.RELU_N1_TO_1: (-1.0, 1.0)}.get(act)


def float_clamp(node, act):
    """(low, high) for a fused activation on float data, or None when nothing is clamped."""
    if act not in Act:
        raise node.error("unknown fused activation function %d" % act)
    rng = activation_range(act)
    if rng is None or rng == (-np.inf, np.inf):
        return None
    return rng


def clamp(out, rng):
    """In place: the clamp from :func:`float_clamp` (None: nothing)."""
    if rng is not None:
        lo, hi = rng
        if hi == np.inf:
            np.maximum(out, lo, out=out)
        else:
            np.clip(out, lo, hi, out=out)


def add_bias_and_clamp(out, bias, rng):
    """In place: out += bias (over the last axis), then the activation clamp."""
    if bias is not None:
        with np.errstate(over="ignore", invalid="ignore"):      # inf + -inf, max + max: IEEE results
            np.add(out, bias.reshape(-1), out=out)
    clamp(out, rng)


def fused_clamp(node, out_dtype):
    """(lo, hi) for the node's fused activation as the elementwise kernels apply it, or None
    when the clamp is a no-op (integer outputs without an activation).

    LiteRT's CalculateActivationRange treats every activation other than RELU, RELU6 and
    RELU_N1_TO_1 (including TANH and SIGN_BIT) as "none", and float kernels always clamp to
    [lowest, max] of the type, so an infinite float result becomes ±max.
    """
    act = node.options.fused_activation_function
    lo, hi = {Act.RELU: (0, None), Act.RELU6: (0, 6), Act.RELU_N1_TO_1: (-1, 1)}.get(act, (None, None))
    dt = np.dtype(out_dtype)
    info = np.finfo(dt) if dt.kind == "f" else np.iinfo(dt)
    if dt.kind != "f" and lo is None and hi is None:
        return None
    if dt.kind == "u" and lo is not None and lo < 0:
        # The int bound converts to the unsigned type: -1 becomes its maximum, and the clamp
        # min(max(x, lo), hi) then yields hi everywhere (np.clip does the same when lo > hi).
        lo += 1 << (8 * dt.itemsize)
    lo = info.min if lo is None else max(lo, info.min)
    hi = info.max if hi is None else min(hi, info.max)
    return dt.type(lo), dt.type(hi)


def apply_activation(x, act, out=None):
    """The fused activation as a function, in place when ``out`` is given (LiteRT's
    ActivationFunction, used by the RNN and SVDF cells)."""
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
