"""Hybrid ("dynamic range") arithmetic: float32 activations with constant int8 weights.

LiteRT quantizes the float input on the fly, runs an integer product and scales the int32
result back to float. This helper home holds those steps, exactly as LiteRT computes them
(float32 arithmetic in the same order), for every hybrid kernel: FULLY_CONNECTED and
BATCH_MATMUL (matmul family), CONV_2D, DEPTHWISE_CONV_2D and TRANSPOSE_CONV (conv family), and
the sequence kernels (RNN, LSTM, SVDF).

* On-the-fly input quantization (tensor_utils as the x86 build runs it): :func:`symmetric_quantize`,
  :func:`asymmetric_quantize`, per row or per batch image (:func:`quantize_rows`), and the
  all-zero test that lets LiteRT skip a product, :func:`is_zero_vector`.
* The integer product: :func:`hybrid_dot` (int32 dot products less row_sum x input offset),
  :func:`weight_row_sums` as LiteRT's x86 build sums them, :func:`int32_dot`.
* Scaling back and the fused activation: :func:`row_scales`, :func:`weight_scales`,
  :func:`fused_activation`, :func:`activation_vector` / :func:`apply_activation` (FULLY_CONNECTED,
  sequence ops), :func:`conv_clamp` (conv kernels).
* Operand checks of the hybrid kernels: :func:`check_float_io`, the registry predicate
  :func:`hybrid_match`.

The integer accumulators are int32 in LiteRT; they wrap on overflow (applied after the exact
float BLAS product, see quant.exact_dtype).

Non-finite values are part of the contract: an input or state holding ±inf or NaN (a recurrent
state that has overflowed, say) gets LiteRT's definite result — integers from the x86 float to
int32 conversions, then IEEE float32 rescaling (``dot * inf``, ``0 * inf`` = NaN, a bias plus
inf ...). The float steps whose inf / NaN results are intended run under :func:`nonfinite_ok`,
so they emit no RuntimeWarning.
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
# On-the-fly input quantization (tensor_utils, as LiteRT's x86 build runs it)
# ---------------------------------------------------------------------------------------------
#
# LiteRT's x86 wheel builds tensor_utils from the NEON sources through the NEON_2_SSE
# translation layer (SymmetricQuantizeFloats / AsymmetricQuantizeFloats / IsZeroVector are
# NEON_OR_PORTABLE in sse_tensor_utils.h). Finite inputs just round; the functions below also
# reproduce what those sources, as compiled, do with ±inf, NaN and products that overflow,
# because such inputs (a recurrent state that has overflowed, say) reach the hybrid kernels and
# LiteRT gives them a definite output (each rule established against LiteRT):
#
# * the row's range: symmetric, std::minmax_element's min and max (a NaN compares false, so it
#   is skipped, or becomes the minimum when first, or the maximum until a later value replaces
#   it), then std::max(|min|, |max|); asymmetric, NeonMinMax's lane-wise _mm_min_ps / _mm_max_ps
#   folded with 0.0f by std::min / std::max, which drop NaNs (values after a NaN in the same
#   lane may be forgotten too);
# * scaling factor, zero point and inverse scale are plain IEEE arithmetic: a range of inf
#   gives a factor of inf, an inverse of 0 (x * 0 = NaN for x = ±inf) and possibly a NaN zero
#   point, which becomes offset 0; a tiny range gives an inverse of inf;
# * the conversion of x * inverse to an integer differs between the 8-wide vector loop and
#   the scalar tail of each row. Vector loop: x + (x < 0 ? -0.5f : 0.5f) in float32 (not an
#   exact round: 0.49999997 goes to 1), then vcvtq_s32_f32 — truncation, INT32_MAX from 2^31
#   up, INT32_MIN for NaN and below — and the asymmetric offset added in wrapping int32.
#   Scalar tail, symmetric: static_cast<int32_t>(std::round(x)), cvttss2si, INT32_MIN for NaN,
#   ±inf and anything out of range; asymmetric: offset + std::round(x) as a float32 sum,
#   converted with saturation to the int8 range (the compiler folded the clamp into the
#   conversion): NaN 0, ±inf the bounds. Then the clamp to [-127, 127] / [-128, 127].

_INT32_MIN, _INT32_MAX = -(1 << 31), (1 << 31) - 1
_VECTOR = 8             # the quantizing loops run 8 floats at a time, then a scalar tail
_HALF = F32(0.5)


def nonfinite_ok():
    """np.errstate for float32 steps whose ±inf / NaN results are LiteRT's too (an overflow to
    inf, inf * 0, inf - inf, x / 0): computed deliberately, without RuntimeWarnings."""
    return np.errstate(over="ignore", invalid="ignore", divide="ignore")


def _minmax_element(values):
    """(min, max) as std::minmax_element finds them (first minimum, last maximum, elements
    taken in pairs), with NaN comparing false. Python floats."""
    v = [float(x) for x in values]
    lo = hi = v[0]
    if len(v) > 1:
        lo, hi = (v[1], v[0]) if v[1] < v[0] else (v[0], v[1])
    i = 2
    while i < len(v):
        if i + 1 == len(v):
            if v[i] < lo:
                lo = v[i]
            elif not v[i] < hi:
                hi = v[i]
            break
        a, b = v[i], v[i + 1]
        if b < a:
            a, b = b, a                      # a: the candidate minimum, b: the candidate maximum
        lo = a if a < lo else lo
        hi = hi if b < hi else b
        i += 2
    return lo, hi


def _neon_minmax(values):
    """NeonMinMax (asymmetric quantization) of one row with a NaN in it, through NEON_2_SSE:
    lane-wise _mm_min_ps / _mm_max_ps over blocks of 4 (``a < b ? a : b``: a NaN operand yields
    the block's value), the pairwise reductions (vmin_f32 / vpmin_f32 and their max twins),
    then std::min / std::max with 0.0f, which drop a NaN; the < 4 leftover values go through
    std::minmax_element and the same std::min / std::max. So a NaN never survives, and some
    values after it may be forgotten. Python floats."""
    v = [float(x) for x in values]
    n4 = len(v) & ~3
    rmin = rmax = 0.0
    if n4:
        mn, mx = v[:4], v[:4]
        for j in range(4, n4, 4):
            for lane in range(4):
                x = v[j + lane]
                mn[lane] = mn[lane] if mn[lane] < x else x
                mx[lane] = mx[lane] if mx[lane] > x else x
        m0, m1 = (mn[0] if mn[0] < mn[2] else mn[2]), (mn[1] if mn[1] < mn[3] else mn[3])   # vmin_f32
        x0, x1 = (mx[0] if mx[0] > mx[2] else mx[2]), (mx[1] if mx[1] > mx[3] else mx[3])   # vmax_f32
        fmin = m1 if m0 > m1 else m0                                                        # vpmin_f32
        fmax = x1 if x0 < x1 else x0                                                        # vpmax_f32
        rmin = fmin if fmin < rmin else rmin                                                # std::min
        rmax = fmax if rmax < fmax else rmax                                                # std::max
    if n4 < len(v):
        lo, hi = _minmax_element(v[n4:])
        rmin = lo if lo < rmin else rmin
        rmax = hi if rmax < hi else rmax
    return rmin, rmax


def _row_bounds(rows, finder, with_zero):
    """Per-row (min, max) float32 arrays: NumPy's for rows without NaN (every comparison order
    agrees there), ``finder`` for the others."""
    lo, hi = rows.min(axis=1), rows.max(axis=1)
    if with_zero:
        lo, hi = np.minimum(lo, F32(0)), np.maximum(hi, F32(0))
    for r in np.flatnonzero(np.isnan(lo)):
        lo[r], hi[r] = finder(rows[r])
    return lo, hi


def _vector_cvt(x):
    """NEON_2_SSE vcvtq_s32_f32: truncation; from 2^31 up INT32_MAX; NaN, -inf and anything
    below INT32_MIN give INT32_MIN (int64 array)."""
    return np.where(x >= F32(2147483648.0), _INT32_MAX, fp.float_to_int32_x86(x, np.int64))


def _rounded(prod, offsets=None):
    """int64 values LiteRT's quantizing loops form from the float32 products ``prod`` [rows, n],
    plus the int32 ``offsets`` per row if given (asymmetric), before the clamp: the 8-wide
    vector part rounds by adding ±0.5 in float32 (RoundToNearest) and converts with
    vcvtq_s32_f32, the offset added in wrapping int32; the scalar tail converts std::round's
    result with static_cast<int32_t> (symmetric), or offset + std::round's result, a float32
    sum, with saturation to the int8 range (asymmetric)."""
    n = prod.shape[1]
    k = n & ~(_VECTOR - 1)
    out = np.empty(prod.shape, np.int64)
    head, tail = prod[:, :k], prod[:, k:]
    out[:, :k] = _vector_cvt(head + np.where(head < 0, -_HALF, _HALF))
    rounded = fp.round_half_away(tail)
    if offsets is None:
        out[:, k:] = fp.float_to_int32_x86(rounded, np.int64)
    else:
        out[:, :k] = fp.wrap_int32(out[:, :k] + offsets[:, None])
        # The compiled tail converts offset + round(x) with saturation (its clamp to the int8
        # range is folded into the conversion): NaN gives 0, ±inf and large values the bounds.
        total = rounded + offsets[:, None].astype(F32)
        out[:, k:] = np.where(np.isnan(total), 0, np.clip(np.nan_to_num(total), -128, 127)).astype(np.int64)
    return out


def symmetric_quantize(rows):
    """SymmetricQuantizeFloats per row: int8 values in [-127, 127] (as float32), float32 scales.
    range = max(|min|, |max|) of std::minmax_element's min and max, scale = range / 127 and
    the values round(x * (127 / range)), all in float32; an all-zero row gets scale 1. See the
    section comment for ±inf, NaN and overflowing products."""
    rows = np.asarray(rows, F32)
    if rows.shape[1] == 0:
        return np.zeros(rows.shape, F32), np.ones(rows.shape[0], F32)
    lo, hi = _row_bounds(rows, _minmax_element, with_zero=False)
    lo, hi = np.abs(lo), np.abs(hi)
    rng = np.where(lo < hi, hi, lo)                     # std::max: a NaN first operand wins
    zero = rng == 0
    with nonfinite_ok():
        scale = np.where(zero, F32(1), rng / F32(127)).astype(F32)
        inv = (F32(127) / np.where(zero, F32(1), rng)).astype(F32)
        q = np.clip(_rounded(rows * inv[:, None]), -127, 127)
    q[zero] = 0
    return q.astype(F32), scale


def asymmetric_quantize(rows):
    """AsymmetricQuantizeFloats per row: (int8 values as float32, float32 scales, int offsets).

    The range always includes 0. As LiteRT's x86 build computes it (NeonAsymmetricQuantizeFloats
    through NEON_2_SSE, established against it bit for bit; the portable C++ differs): the scale
    is (max - min) / 255, the float32 difference divided in double and stored as float32; the
    nudged zero point follows the portable min/max rule in double from that same difference
    (a NaN zero point converts to offset 0, as the int8 cast of x86 does); the inverse scale is
    1 / scale in double, stored as float32 (0 for a zero scale); each value is round(x *
    inverse) + zero point — rounded *before* the zero point is added — clamped to [-128, 127].
    See the section comment for ±inf, NaN and overflowing products."""
    rows = np.asarray(rows, F32)
    n = rows.shape[0]
    if rows.shape[1] == 0:
        return np.zeros(rows.shape, F32), np.ones(n, F32), np.zeros(n, np.int64)
    rmin32, rmax32 = _row_bounds(rows, _neon_minmax, with_zero=True)
    flat = rmin32 == rmax32
    with nonfinite_ok():
        scale = np.where(flat, 1.0, (rmax32 - rmin32).astype(np.float64) / 255.0)
        rmin, rmax = rmin32.astype(np.float64) / scale, rmax32.astype(np.float64) / scale
        zp_min, zp_max = -128.0 - rmin, 127.0 - rmax
        zp = np.where(128.0 + np.abs(rmin) < 127.0 + np.abs(rmax), zp_min, zp_max)
        rounded = fp.round_half_away(np.clip(zp, -128.0, 127.0))
        offset = np.where(np.isnan(zp), 0, rounded).astype(np.int64)
        offset[flat] = 0
        scale32 = scale.astype(F32)
        inv = np.where(scale32 == 0, F32(0), (1.0 / scale32.astype(np.float64)).astype(F32)).astype(F32)
        q = np.clip(_rounded(rows * inv[:, None], offset), -128, 127)
    q[flat] = 0
    return q.astype(F32), scale32, offset


def is_zero_vector(values):
    """tensor_utils::IsZeroVector as the x86 build runs it (NeonIsZeroVector through NEON_2_SSE):
    blocks of 4 are tested with |v| > 0 (vcagtq_f32), which a NaN fails, the < 4 leftover values
    with v != 0, which a NaN passes. So a NaN among the blocks counts as zero: LiteRT then skips
    the quantization and the product altogether."""
    v = np.asarray(values, F32).reshape(-1)
    k = v.size & ~3
    return not (np.any(np.abs(v[:k]) > 0) or np.any(v[k:] != 0))


CLAMPS = (Act.RELU, Act.RELU6, Act.RELU_N1_TO_1)


def fused_activation(node, clamps_only):
    """The node's fused activation to apply. Conv kernels (CalculateActivationRange) treat TANH
    and SIGN_BIT as no clamp at all; the hybrid FULLY_CONNECTED applies every activation."""
    act = node.options.fused_activation_function
    if act not in Act:
        raise node.error("unknown fused activation function %d" % act)
    return act if act in CLAMPS or not clamps_only else Act.NONE


def activation_vector(x, act):
    """tensor_utils::ApplyActivationToVector on float32 values (the hybrid FULLY_CONNECTED and
    the sequence ops), as a new array: RELU std::max(0.0f, x), RELU6 std::max(0.0f,
    std::min(x, 6.0f)), RELU_N1_TO_1 std::max(-1.0f, std::min(x, 1.0f)) — a NaN compares false
    there, so these map it to 0, 0 and -1 —, TANH Eigen's approximation (NaN stays NaN),
    SIGN_BIT std::signbit; NONE leaves the values. The conv kernels clamp otherwise
    (:func:`conv_clamp`)."""
    x = np.asarray(x, F32)
    if act == Act.RELU:
        return np.where(x > 0, x, F32(0))
    if act == Act.RELU6:
        capped = np.where(x > 6, F32(6), x)
        return np.where(capped > 0, capped, F32(0))
    if act == Act.RELU_N1_TO_1:
        capped = np.where(x > 1, F32(1), x)
        return np.where(capped > -1, capped, F32(-1))
    if act == Act.TANH:
        return eigen_tanh(x)           # ApplyTanhToVector is an Eigen expression, not std::tanh
    if act == Act.SIGN_BIT:
        return np.signbit(x).astype(F32)
    return x


def apply_activation(out, act):
    """:func:`activation_vector` in place."""
    if act != Act.NONE:
        np.copyto(out, activation_vector(out, act))


def conv_clamp(out, act):
    """In place, on float32: the hybrid conv kernels' output stage, ActivationFunctionWithMinMax
    = std::min(std::max(x, lo), hi) over CalculateActivationRange's bounds. A NaN passes through
    both comparisons unchanged; without a clamping activation (NONE, and TANH / SIGN_BIT, which
    that range treats as none) the bounds are float's lowest and max, so ±inf become ±FLT_MAX."""
    lo, hi = {Act.RELU: (0, None), Act.RELU6: (0, 6), Act.RELU_N1_TO_1: (-1, 1)}.get(act, (None, None))
    big = np.finfo(F32).max
    lo = F32(-big if lo is None else lo)
    hi = F32(big if hi is None else hi)
    np.copyto(out, np.where(out < lo, lo, out))
    np.copyto(out, np.where(out > hi, hi, out))


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
