"""Integer arithmetic of quantized kernels: the one place it lives.

Everything here mirrors the integer semantics of LiteRT's reference kernels (and gemmlowp's
fixed-point helpers they call) on NumPy int64 arrays, so that any quantized kernel gives
bit-identical results. Conventions:

* A real multiplier ``M`` (e.g. ``input_scale * filter_scale / output_scale``) is stored as a
  Q31 ``quantized_multiplier`` in [2^30, 2^31) and an exponent ``shift`` with
  ``M ≈ quantized_multiplier * 2^(shift - 31)`` (``shift`` > 0 means a left shift).
* LiteRT's released build uses the *double rounding* variant of
  ``MultiplyByQuantizedMultiplier`` for int32 accumulators (TFLITE_SINGLE_ROUNDING is off):
  a saturating rounding doubling high multiply (round half away from zero) followed by a
  rounding right shift (round half away from zero).
* For 64-bit accumulators (16x8 kernels) LiteRT first reduces the multiplier to 16 bits and
  applies a single round-half-up shift: :func:`multiply_by_quantized_multiplier_int64`.
"""
import numpy as np

INT32_MIN, INT32_MAX = -(1 << 31), (1 << 31) - 1


def round_half_away(x):
    """TfLiteRound / std::round: halves go away from zero (NumPy's round goes to even).

    Exact for every float and keeps the float type: floor(|x| + 0.5) is not exact (the
    addition itself can round), while |x| - floor(|x|) always is. ±inf and NaN come back
    unchanged, as from std::round (inf - inf inside is NaN, which compares false: no warning).
    """
    x = np.asarray(x)
    if x.dtype.kind != "f":
        x = x.astype(np.float64)
    a = np.abs(x)
    r = np.floor(a)
    with np.errstate(invalid="ignore"):
        r = r + (a - r >= 0.5)
    return np.copysign(r, x)


def float_to_int32_x86(x, dtype=np.int32):
    """static_cast<int32_t>(float or double) as x86 executes it (cvttss2si / cvttsd2si):
    truncation toward zero, and the "integer indefinite" INT32_MIN for NaN or anything out of
    range. C++ leaves that case undefined; LiteRT's results on x86 show this value."""
    x = np.trunc(np.asarray(x, np.float64))
    bad = ~((x >= INT32_MIN) & (x <= INT32_MAX))
    return np.where(bad, INT32_MIN, np.where(bad, 0, x)).astype(dtype)


def quantize_multiplier(real_multiplier):
    """(quantized_multiplier int64 array, shift int64 array) for positive real multipliers.

    frexp gives M = q * 2^shift with q in [0.5, 1); q is rounded to Q31. Rounding up to exactly
    2^31 is folded into the exponent; multipliers too small to represent (shift < -31) become 0.
    """
    m = np.asarray(real_multiplier, np.float64)
    q, shift = np.frexp(m)
    q_fixed = round_half_away(q * float(1 << 31)).astype(np.int64)
    carry = q_fixed == (1 << 31)
    q_fixed = np.where(carry, q_fixed // 2, q_fixed)
    shift = np.where(carry, shift + 1, shift).astype(np.int64)
    tiny = shift < -31
    q_fixed = np.where(tiny | (m == 0), 0, q_fixed)
    shift = np.where(tiny | (m == 0), 0, shift)
    return q_fixed, shift


def quantize_multiplier_scalar(real_multiplier):
    q, s = quantize_multiplier(real_multiplier)
    return int(q), int(s)


def wrap_int32(x):
    """Two's-complement wrap of int64 values to int32 (C++ overflow in NO_SANITIZE code)."""
    x = np.asarray(x, np.int64)
    return ((x + (1 << 31)) & 0xFFFFFFFF) - (1 << 31)


def _trunc_div_pow2(x, n):
    """C++ integer division of int64 ``x`` by 2^n (truncates toward zero)."""
    return np.where(x >= 0, x >> n, -((-x) >> n))


def saturating_rounding_doubling_high_mul(a, b):
    """gemmlowp SaturatingRoundingDoublingHighMul on int32 values held in int64 arrays."""
    a = np.asarray(a, np.int64)
    b = np.asarray(b, np.int64)
    ab = a * b
    nudge = np.where(ab >= 0, 1 << 30, 1 - (1 << 30))
    res = _trunc_div_pow2(ab + nudge, 31)
    overflow = (a == INT32_MIN) & (b == INT32_MIN)
    return np.where(overflow, INT32_MAX, res)


def rounding_divide_by_pot(x, exponent):
    """gemmlowp RoundingDivideByPOT: arithmetic shift right rounding half away from zero."""
    x = np.asarray(x, np.int64)
    exponent = np.asarray(exponent, np.int64)
    mask = (np.int64(1) << exponent) - 1
    remainder = x & mask
    threshold = (mask >> 1) + (x < 0)
    return (x >> exponent) + (remainder > threshold)


def multiply_by_quantized_multiplier(x, quantized_multiplier, shift):
    """LiteRT MultiplyByQuantizedMultiplier(int32 x, ...), double-rounding variant.

    ``quantized_multiplier`` and ``shift`` may be arrays broadcasting against ``x`` (per channel).
    """
    x = np.asarray(x, np.int64)
    shift = np.asarray(shift, np.int64)
    left = np.maximum(shift, 0)
    right = np.maximum(-shift, 0)
    return rounding_divide_by_pot(saturating_rounding_doubling_high_mul(wrap_int32(x << left), quantized_multiplier), right)


def multiply_by_quantized_multiplier_int64(x, quantized_multiplier, shift):
    """LiteRT MultiplyByQuantizedMultiplier(int64 x, ...) used by 16x8 kernels with int64 accumulators.

    The Q31 multiplier is first reduced to Q15 (rounding, saturating at 0x7FFF) and the product
    is shifted once with round-half-up. |x| < 2^47 keeps ``x * reduced`` inside int64.
    """
    x = np.asarray(x, np.int64)
    qm = np.asarray(quantized_multiplier, np.int64)
    reduced = np.where(qm < 0x7FFF0000, (qm + (1 << 15)) >> 16, 0x7FFF)
    # The shift counts are int64 on x86, which uses them modulo 64: for shift >= 16 the "right
    # shift" becomes a huge one (and the rounding term wraps too). Reproduce that, as LiteRT's
    # released x86 build computes it.
    total_shift = (15 - np.asarray(shift, np.int64)) & 63
    round_shift = (14 - np.asarray(shift, np.int64)) & 63
    with np.errstate(over="ignore"):
        return wrap_int32((x * reduced + (np.int64(1) << round_shift)) >> total_shift)


def multiply_by_quantized_multiplier_smaller_than_one_exp(x, quantized_multiplier, left_shift):
    """LiteRT MultiplyByQuantizedMultiplierSmallerThanOneExp (left_shift <= 0)."""
    return rounding_divide_by_pot(saturating_rounding_doubling_high_mul(x, quantized_multiplier),
                                  -np.asarray(left_shift, np.int64))


def multiply_by_quantized_multiplier_greater_than_one(x, quantized_multiplier, left_shift):
    """LiteRT MultiplyByQuantizedMultiplierGreaterThanOne (left_shift >= 0)."""
    x = np.asarray(x, np.int64)
    return saturating_rounding_doubling_high_mul(wrap_int32(x * (np.int64(1) << np.asarray(left_shift, np.int64))),
                                                 quantized_multiplier)


def dtype_range(dtype):
    info = np.iinfo(np.dtype(dtype))
    return int(info.min), int(info.max)


def quantize_bound(value, scale, zero_point):
    """``zero_point + TfLiteRound(value / scale)`` as LiteRT computes a clamp bound: float32
    division, round half away from zero, x86 float→int32 conversion."""
    return int(zero_point) + int(float_to_int32_x86(round_half_away(np.float32(value) / np.float32(scale))))


def quantized_activation_range(activation, scale, zero_point, dtype):
    """CalculateActivationRangeQuantized: the fused activation as a clamp in the quantized domain.

    Bounds are quantized as LiteRT does: float32 division, TfLiteRound (half away from zero),
    x86 float→int32 conversion, then intersected with the dtype range. TANH and SIGN_BIT are
    not clamps there: they leave the full range.
    """
    from ..schema.enums import ActivationFunctionType as Act
    qmin, qmax = dtype_range(dtype)

    def q(v):
        return quantize_bound(v, scale, zero_point)
    if activation in (Act.NONE, Act.TANH, Act.SIGN_BIT):
        return qmin, qmax
    if activation == Act.RELU:
        return max(qmin, q(0.0)), qmax
    if activation == Act.RELU6:
        return max(qmin, q(0.0)), min(qmax, q(6.0))
    if activation == Act.RELU_N1_TO_1:
        return max(qmin, q(-1.0)), min(qmax, q(1.0))
    from ..errors import ModelError
    raise ModelError("fused activation %s has no quantized clamp" % Act.name(activation))


def requantize(acc, quantized_multiplier, shift, zero_point, lo, hi, dtype):
    """acc (int32 accumulators) → output dtype: scale, add zero point, clamp. The common tail of
    conv / fully-connected / pooling kernels."""
    out = multiply_by_quantized_multiplier(acc, quantized_multiplier, shift) + int(zero_point)
    return np.clip(out, lo, hi).astype(dtype)


def multiply_by_quantized_multiplier_gemm(x, quantized_multiplier, shift):
    """The requantisation of LiteRT's cpu_backend_gemm on x86 (ruy kernels): wrapping left shift,
    SaturatingRoundingDoublingHighMul, then a rounding right shift that rounds halves up (the
    portable MultiplyByQuantizedMultiplier rounds them away from zero)."""
    left, right = max(int(shift), 0), max(-int(shift), 0)
    high = saturating_rounding_doubling_high_mul(wrap_int32(np.asarray(x, np.int64) << left), quantized_multiplier)
    return wrap_int32(high + ((1 << right) >> 1)) >> right
