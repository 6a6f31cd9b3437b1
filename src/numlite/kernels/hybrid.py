"""Hybrid ("dynamic range") arithmetic: float32 activations with constant int8 weights.

LiteRT quantizes the float input on the fly, runs an integer product and scales the int32
result back to float. This helper home holds those steps, exactly as LiteRT computes them
(float32 arithmetic in the same order), for every hybrid kernel: FULLY_CONNECTED and
BATCH_MATMUL (matmul family), CONV_2D, DEPTHWISE_CONV_2D and TRANSPOSE_CONV (conv family), and
the sequence kernels (RNN, LSTM, SVDF).

* On-the-fly input quantization (portable_tensor_utils): :func:`symmetric_quantize`,
  :func:`asymmetric_quantize`, per row or per batch image (:func:`quantize_rows`).
* The integer product: :func:`hybrid_dot` (int32 dot products less row_sum x input offset),
  :func:`weight_row_sums` as LiteRT's x86 build sums them, :func:`int32_dot`.
* Scaling back and the fused activation: :func:`row_scales`, :func:`weight_scales`,
  :func:`fused_activation`, :func:`apply_activation`.
* Operand checks of the hybrid kernels: :func:`check_float_io`, the registry predicate
  :func:`hybrid_match`.

The integer accumulators are int32 in LiteRT; they wrap on overflow (applied after the exact
float BLAS product, see quant.exact_dtype).
"""
import numpy as np

from ..errors import ModelError
from ..schema.enums import ActivationFunctionType as Act
from . import fixedpoint as fp
from .eigen import eigen_tanh
from .operands import check_type
from .quant import exact_matmul, exact_matmul_chunked, qparams

F32 = np.float32


def hybrid_match(filter_types, data=0, weights=1):
    """Registry predicate: a float32 input ``data`` with a weights input ``weights`` of one of
    ``filter_types`` (LiteRT's hybrid path)."""
    return lambda inputs: (len(inputs) > max(data, weights) and inputs[data] is not None
                           and inputs[weights] is not None and inputs[data].type_name == "FLOAT32"
                           and inputs[weights].type_name in filter_types)


# ---------------------------------------------------------------------------------------------
# On-the-fly input quantization (portable_tensor_utils)
# ---------------------------------------------------------------------------------------------

def symmetric_quantize(rows):
    """SymmetricQuantizeFloats per row: int8 values in [-127, 127] (as float32), float32 scales.
    scale = max|x| / 127 and the values are round(x * (127 / max|x|)), all in float32; an
    all-zero row gets scale 1."""
    rows = np.asarray(rows, F32)
    if rows.shape[1] == 0:
        return np.zeros(rows.shape, F32), np.ones(rows.shape[0], F32)
    rng = np.maximum(np.abs(rows.min(axis=1)), np.abs(rows.max(axis=1)))
    zero = rng == 0
    safe = np.where(zero, F32(1), rng)
    scale = np.where(zero, F32(1), safe / F32(127)).astype(F32)
    inv = (F32(127) / safe).astype(F32)
    q = np.clip(fp.round_half_away(rows * inv[:, None]), -127, 127)
    q[zero] = 0
    return q.astype(F32), scale


def asymmetric_quantize(rows):
    """AsymmetricQuantizeFloats per row: (int8 values as float32, float32 scales, int offsets).

    The range always includes 0. As LiteRT's x86 build computes it (NeonAsymmetricQuantizeFloats
    through NEON_2_SSE, established against it bit for bit; the portable C++ differs): the scale
    is (max - min) / 255 in float32; the nudged zero point follows the portable min/max rule in
    double, but from the float32 difference max - min (a zero point within a rounding error of
    a half rounds differently otherwise); each value is round(x * (1 / scale)) + zero point —
    rounded *before* the zero point is added — clamped to [-128, 127]. Halves round away from zero."""
    rows = np.asarray(rows, F32)
    n = rows.shape[0]
    if rows.shape[1] == 0:
        return np.zeros(rows.shape, F32), np.ones(n, F32), np.zeros(n, np.int64)
    rmin32 = np.minimum(F32(0), rows.min(axis=1))
    rmax32 = np.maximum(F32(0), rows.max(axis=1))
    flat = rmin32 == rmax32
    scale32 = np.where(flat, F32(1), (rmax32 - rmin32) / F32(255)).astype(F32)
    rmin, rmax = rmin32.astype(np.float64), rmax32.astype(np.float64)
    scale = np.where(flat, 1.0, (rmax32 - rmin32).astype(np.float64) / 255.0)
    zp_min, zp_max = -128.0 - rmin / scale, 127.0 - rmax / scale
    zp = np.where(128.0 + np.abs(rmin / scale) < 127.0 + np.abs(rmax / scale), zp_min, zp_max)
    offset = np.clip(fp.round_half_away(zp), -128, 127).astype(np.int64)
    offset[flat] = 0
    inv = (F32(1) / scale32).astype(F32)
    q = np.clip(fp.round_half_away(rows * inv[:, None]) + offset[:, None], -128, 127)
    q[flat] = 0
    return q.astype(F32), scale32, offset


CLAMPS = (Act.RELU, Act.RELU6, Act.RELU_N1_TO_1)


def fused_activation(node, clamps_only):
    """The node's fused activation to apply. Conv kernels (CalculateActivationRange) treat TANH
    and SIGN_BIT as no clamp at all; the hybrid FULLY_CONNECTED applies every activation."""
    act = node.options.fused_activation_function
    if act not in Act:
        raise node.error("unknown fused activation function %d" % act)
    return act if act in CLAMPS or not clamps_only else Act.NONE


def apply_activation(out, act):
    """In place, on float32: LiteRT's clamps, and for the hybrid FULLY_CONNECTED and the sequence
    ops also TANH and SIGN_BIT (tensor_utils::ApplyActivationToVector). Conv kernels treat TANH /
    SIGN_BIT as no clamp (fused_activation with ``clamps_only``)."""
    if act == Act.RELU:
        np.maximum(out, 0, out=out)
    elif act == Act.RELU6:
        np.clip(out, 0, 6, out=out)
    elif act == Act.RELU_N1_TO_1:
        np.clip(out, -1, 1, out=out)
    elif act == Act.TANH:
        out[...] = eigen_tanh(out)     # ApplyTanhToVector is an Eigen expression, not std::tanh
    elif act == Act.SIGN_BIT:
        np.copyto(out, np.signbit(out))


def weight_scales(node, w, n, what="weights"):
    """(per-channel scales [n] or None, per-tensor scale) of a hybrid weight tensor."""
    scale = qparams(node, w, what).scale
    if scale.size > 1:
        if scale.size != n:
            raise node.error("%s has %d scales, expected %d" % (what, scale.size, n))
        return scale, None
    return None, F32(scale[0])


def weight_row_sums(w):
    """Row sums of int8 weights [rows, K] as LiteRT's x86 ReductionSumVector computes them
    (SseReductionSumVector): eight int16 lanes take pairs of each 16-value block (and one value
    each of a trailing 8-value block), *wrapping* at 16 bits, before the lanes and the last < 8
    values are added in int32. Rows longer than ~2K values of large weights wrap; LiteRT's
    asymmetric hybrid results then carry that error, and so do numlite's."""
    w = np.asarray(w, np.int64)
    rows, k = w.shape
    k16, k8 = k & ~15, k & ~7
    lanes = w[:, :k16].reshape(rows, -1, 8, 2).sum(axis=(1, 3))
    if k8 > k16:
        lanes = lanes + w[:, k16:k8]
    wrapped = ((lanes + (1 << 15)) & 0xFFFF) - (1 << 15)
    return fp.wrap_int32(wrapped.sum(axis=1) + w[:, max(k8, k16):].sum(axis=1))


def int32_dot(q, wmat, chunk=None):
    """Wrapping int32 dot products of integer-valued float operands; ``chunk``: the inner
    dimension is summed in chunks of that many terms (quant.exact_layout)."""
    return fp.wrap_int32(exact_matmul(q, wmat) if chunk is None else exact_matmul_chunked(q, wmat, chunk))


def hybrid_dot(quantized, wmat, row_sums=None, chunk=None):
    """The integer part of LiteRT's hybrid MatrixBatchVectorMultiplyAccumulate: int32 dot products
    of the quantized rows (from :func:`quantize_rows`) with [K, N] weights, less row_sum x input
    offset when the inputs were quantized asymmetrically (``row_sums`` given)."""
    q, _, offsets = quantized
    dot = int32_dot(q.astype(wmat.dtype, copy=False), wmat, chunk)
    if row_sums is not None:
        dot = fp.wrap_int32(dot - row_sums[None, :] * offsets[:, None])
    return dot


def check_float_io(node, x, out, bias, n):
    """A hybrid node's float32 input, output and optional bias of ``n`` elements."""
    check_type(node, x, ("FLOAT32",))
    if out.type_name != "FLOAT32":
        raise node.error("hybrid output must be FLOAT32, got %s" % out.type_name)
    if bias is not None:
        check_type(node, bias, ("FLOAT32",), "bias")
        if int(np.prod(bias.shape)) != n:
            raise node.error("bias has %d elements, expected %d" % (int(np.prod(bias.shape)), n))


def quantize_rows(rows, asymmetric):
    """(int8 values as float32, float32 scales, int64 offsets) of each row, quantized
    asymmetrically or symmetrically (offsets 0)."""
    if asymmetric:
        return asymmetric_quantize(rows)
    q, scale = symmetric_quantize(rows)
    return q, scale, np.zeros(len(scale), np.int64)


def row_scales(batch_scales, per_channel, per_tensor):
    """[rows, units] float32 factors: input scale x weight scale, multiplied in float32."""
    if per_channel is None:
        return (batch_scales * per_tensor).astype(F32)[:, None]
    return (batch_scales[:, None] * per_channel[None, :]).astype(F32)
