"""Quantization parameters and requantization, for every quantized and hybrid kernel.

* :class:`QParams` — a tensor's scales and zero points, with the per-tensor view LiteRT's
  kernels read (``TfLiteTensor.params``: the first entries).
* Output multipliers — the three ways LiteRT's kernels derive a (Q31 multiplier, shift) from
  scales; which one an op uses is part of its bit-exactness, so each has its own name.
* Exact integer matmuls — integer products computed as float BLAS products, exact by
  construction (:func:`exact_dtype`).
* Requantization variants — the named epilogues that turn int32/int64 accumulators back into
  8/16-bit outputs. The fixed-point primitives they are built from live in :mod:`.fixedpoint`.
* Lookup tables — LUTPopulate / LUTLookup of quantized elementwise functions by tensor type.

Integer matmuls run as float BLAS products of the (offset-corrected) integer operands. That is
exact as long as every partial sum is an exactly representable integer, whatever order BLAS
adds the terms in: :func:`exact_dtype` bounds the sum of |products| by terms x max|a| x max|b|
and picks float32 below 2^24 (most 8-bit layers: 2x faster), else float64, whose 2^53 covers
every realistic case (|int16 - zp| x |int8| < 2^23, so up to 2^30 terms). LiteRT's int32
accumulators wrap on overflow; that is applied afterwards (wrap_int32 of the exact sum is the
same as wrapping at every step).
"""
from dataclasses import dataclass

import numpy as np

from ..ir import dtype_of
from ..schema.enums import ActivationFunctionType as Act
from . import fixedpoint as fp
from . import fixedpoint_nonlinear as fpn

QUANTIZED = ("INT8", "UINT8", "INT16")


# -- parameters --------------------------------------------------------------------------------

@dataclass(frozen=True)
class QParams:
    """Scales (float32 [n]) and zero points (int64 [n]) of a quantized tensor, n >= 1."""

    scale: np.ndarray
    zero_point: np.ndarray
    quantized_dimension: int = 0

    @property
    def per_channel(self):
        return self.scale.size > 1

    @property
    def tensor_scale(self):
        """The per-tensor scale as LiteRT's ``params.scale`` holds it (float32)."""
        return np.float32(self.scale[0])

    @property
    def tensor_zero_point(self):
        return int(self.zero_point[0])

    @property
    def pair(self):
        """(float32 scale, int zero point) of a per-tensor quantized tensor."""
        return self.tensor_scale, self.tensor_zero_point


def is_quantized(spec):
    """True when the tensor carries affine quantization parameters (a scale)."""
    q = spec.quantization if spec is not None else None
    return q is not None and q.scale is not None and np.size(q.scale) > 0


def quantized_input(inputs):
    """Registry predicate: input 0 carries quantization parameters."""
    return bool(inputs) and is_quantized(inputs[0])


def qparams(node, spec, what="tensor"):
    """The :class:`QParams` of a tensor the op needs quantized (a ModelError when it is not)."""
    if not is_quantized(spec):
        raise node.error("%s %r of type %s has no quantization parameters"
                         % (what, getattr(spec, "name", "?"), getattr(spec, "type_name", "?")))
    q = spec.quantization
    scale = np.asarray(q.scale, np.float32).reshape(-1)
    zp = np.asarray(q.zero_point, np.int64).reshape(-1) if q.zero_point is not None else np.zeros(1, np.int64)
    if zp.size == 0:
        zp = np.zeros(1, np.int64)
    return QParams(scale, zp, int(q.quantized_dimension))


def tensor_params(spec):
    """(scale, zero_point) as LiteRT's per-tensor ``params`` reads them: the first entries as a
    Python float (of the float32 value) and int, (0.0, 0) for a tensor without quantization."""
    if not is_quantized(spec):
        return 0.0, 0
    q = spec.quantization
    zp = int(q.zero_point.flat[0]) if q.zero_point is not None and np.size(q.zero_point) else 0
    return float(np.float32(q.scale.flat[0])), zp


def channel_scales(node, spec, n, what="filter"):
    """Per-output-channel float32 scales: one entry broadcast, or exactly ``n`` entries."""
    scale = qparams(node, spec, what).scale
    if scale.size == 1:
        return np.full(n, scale[0], np.float32)
    if scale.size != n:
        raise node.error("%s has %d quantization scales, expected 1 or %d" % (what, scale.size, n))
    return scale


def require_zero_points(node, spec, what):
    """Symmetric tensors (int8 filters, int16 activations): every zero point must be 0."""
    zp = qparams(node, spec, what).zero_point
    if np.any(zp != 0):
        raise node.error("%s must have zero point 0 (got %s)" % (what, zp[zp != 0][0]))


def dtype_limits(type_name):
    """(min, max) of an 8/16-bit integer tensor type."""
    return fp.dtype_range(dtype_of(type_name))


# -- output multipliers ----------------------------------------------------------------------

def multiplier(node, real):
    """QuantizeMultiplier(double) → (Q31 multiplier, shift) as Python ints; a non-finite or
    negative ratio (a scale of 0, missing quantization) is refused, never turned into garbage."""
    if not np.isfinite(real) or real < 0:
        raise node.error("invalid quantization (scale ratio %r)" % real)
    return fp.quantize_multiplier_scalar(real)


def multiplier_smaller_than_one(node, real, what):
    """QuantizeMultiplierSmallerThanOneExp; LiteRT aborts on a multiplier >= 1, numlite refuses
    the node."""
    qm, shift = fp.quantize_multiplier_scalar(real)
    if not 0 <= real < 1 or shift > 0:
        raise node.unsupported("%s multiplier %g must be in [0, 1) for this quantized kernel" % (what, real))
    return qm, shift


def effective_scale(input_scale, filter_scales, output_scale):
    """input_scale * filter_scale / output_scale in double, from float32 scales (per channel)."""
    return np.float64(np.float32(input_scale)) * np.asarray(filter_scales, np.float32).astype(np.float64) \
        / np.float64(np.float32(output_scale))


def per_channel_multipliers(input_scale, filter_scales, output_scale):
    """PopulateConvolutionQuantizationParams: QuantizeMultiplier of the double product
    input_scale * filter_scale / output_scale, one (multiplier, shift) per channel."""
    return fp.quantize_multiplier(effective_scale(input_scale, filter_scales, output_scale))


def legacy_multiplier(input_scale, filter_scale, output_scale):
    """GetQuantizedConvolutionMultipler: the input and filter scales are multiplied in *float32*
    before the division in double (the uint8 conv and BATCH_MATMUL paths)."""
    real = np.float64(np.float32(input_scale) * np.float32(filter_scale)) / np.float64(np.float32(output_scale))
    return fp.quantize_multiplier(real)


def check_bias_scale(node, bias, input_scale, filter_scale, output_scale):
    """GetQuantizedConvolutionMultipler's sanity check (per-tensor FULLY_CONNECTED, uint8 conv):
    the bias scale must be within 2% of an output step of input_scale * filter_scale. A bias
    without quantization has scale 0 there."""
    if bias is None:
        return
    bias_scale = 0.0
    if is_quantized(bias):
        bias_scale = float(np.float32(bias.quantization.scale.reshape(-1)[0]))
    product = float(np.float32(input_scale)) * float(np.float32(filter_scale))
    if abs(product - bias_scale) / float(np.float32(output_scale)) > 0.02:
        raise node.error("bias scale %g does not match input scale x filter scale %g" % (bias_scale, product))


def activation_bounds(node, act, scale, zero_point, dtype, allow_unclamped=True):
    """CalculateActivationRangeQuantized (fixedpoint.quantized_activation_range). TANH and
    SIGN_BIT are not clamps there: the conv kernels run them as the full range, the
    fully-connected Prepare refuses them (``allow_unclamped=False``)."""
    if act not in Act:
        raise node.error("unknown fused activation function %d" % act)
    if act in (Act.NONE, Act.RELU, Act.RELU6, Act.RELU_N1_TO_1):
        return fp.quantized_activation_range(act, scale, zero_point, dtype)
    if not allow_unclamped:
        raise node.unsupported("fused activation %s on quantized data" % Act.name(act))
    return fp.dtype_range(dtype)


# -- exact integer matmuls -------------------------------------------------------------------

def exact_dtype(terms, max_a, max_b):
    """The float type in which a sum of ``terms`` products |a| <= max_a, |b| <= max_b is exact."""
    return np.float32 if int(terms) * int(max_a) * int(max_b) < (1 << 24) else np.float64


def value_bound(type_name, zero_point=0, data=None):
    """max |v - zero_point| over a constant's values, or over the whole range of its type."""
    if data is not None:
        return int(np.abs(data.astype(np.int64) - zero_point).max()) if data.size else 0
    lo, hi = fp.dtype_range(dtype_of(type_name))
    return max(abs(lo - zero_point), abs(hi - zero_point))


def exact_matmul(a, b):
    """Integer matrix product of float operands holding integers (see exact_dtype); int64."""
    return np.matmul(a, b).astype(np.int64)


def centred(x, zero_point):
    """Integer values minus their zero point, in int64."""
    return x.astype(np.int64) - zero_point


# -- requantization variants ------------------------------------------------------------------

def rescale_fixed(acc, multiplier, shift, accumulator_bits=32):
    """MultiplyByQuantizedMultiplier. 32-bit accumulators wrap and use the double-rounding
    variant (TFLITE_SINGLE_ROUNDING off); 64-bit ones the int64 overload (multiplier reduced to
    16 bits, one round-half-up shift)."""
    if accumulator_bits == 32:
        return fp.multiply_by_quantized_multiplier(fp.wrap_int32(acc), multiplier, shift)
    return fp.multiply_by_quantized_multiplier_int64(acc, multiplier, shift)


def rescale_double(acc, scale):
    """static_cast<int32_t>(round(double(acc) * effective_scale)), the reference fully-connected
    kernels' requantization."""
    return float_to_int32(fp.round_half_away(np.asarray(acc, np.int64).astype(np.float64)
                                             * np.asarray(scale, np.float64)))


def float_to_int32(v):
    """x86 static_cast<int32_t> (fixedpoint.float_to_int32_x86), as int64 for further arithmetic."""
    return fp.float_to_int32_x86(v, np.int64)


def finish(scaled, zero_point, lo, hi, out):
    """Add the output zero point (in int32: INT32_MIN from an out-of-range rescale plus a
    negative zero point wraps to a large positive value in LiteRT too), clamp, store."""
    np.copyto(out, np.clip(fp.wrap_int32(scaled + zero_point), lo, hi), casting="unsafe")
    return out


def c_div_round(acc, n):
    """``acc > 0 ? (acc + n/2) / n : (acc - n/2) / n`` with C's truncating division: an integer
    division rounding halves away from zero (LiteRT's integer AveragePool and Mean)."""
    acc = np.asarray(acc, np.int64)
    n = np.asarray(n, np.int64)
    return np.sign(acc) * ((np.abs(acc) + n // 2) // n)


# -- lookup tables ----------------------------------------------------------------------------

def lut(transform, input_params, output_params, type_name, half_to_even=False):
    """LUTPopulate of a float32 function between two (scale, zero point) pairs: a 256-entry
    table for 8-bit types, the 513-entry interpolated one for int16 (see
    :mod:`.fixedpoint_nonlinear`); read it with :func:`lut_lookup`."""
    if type_name == "INT16":
        return fpn.lut_int16(transform, *input_params, *output_params)
    return fpn.lut_8bit(transform, *input_params, *output_params, dtype_of(type_name), half_to_even)


def lut_lookup(table, x):
    """LUTLookup in a table from :func:`lut` (int64 values)."""
    return fpn.lookup_int16(table, x) if table.dtype == np.int16 else fpn.lookup_8bit(table, x)


def elementwise_params(node, x, out, symmetric_int16=True):
    """(scale, zero point) pairs of the input and output of a quantized one-input elementwise
    op; LiteRT's int16 kernels need zero points 0 (``symmetric_int16``), a ModelError otherwise."""
    qi, qo = qparams(node, x, "input").pair, qparams(node, out, "output").pair
    if symmetric_int16 and x.type_name == "INT16" and (qi[1] or qo[1]):
        raise node.error("int16 quantization needs zero points 0")
    return qi, qo


# -- exact integer matmuls in float32 chunks (appended for the conv and matmul families) ------

def exact_layout(terms, max_a, max_b, max_chunks=4):
    """(float dtype, chunk) for an exact integer matmul of ``terms`` products |a| <= max_a,
    |b| <= max_b (see exact_dtype): float32 with the inner dimension cut into chunks of
    ``chunk`` terms, each of whose float32 sums is exact, when at most ``max_chunks`` are needed
    (float32 operands take half the memory and BLAS runs them about twice as fast); float64 in
    one piece otherwise (16-bit activations)."""
    # A single product must itself be exact in float32 (int16 x int16 products are not): then
    # float64 in one piece.
    chunk = ((1 << 24) - 1) // max(1, int(max_a) * int(max_b))
    if chunk >= 1 and int(terms) <= chunk * max_chunks:
        return np.float32, chunk
    return np.float64, max(int(terms), 1)


def exact_matmul_chunked(a, b, chunk):
    """exact_matmul over the inner dimension in chunks of ``chunk`` terms (exact_layout): each
    chunk's product is exact in the operands' type, the chunks are summed in float64 (exact
    below 2^53); int64."""
    k = a.shape[-1]
    if k <= chunk:
        return np.matmul(a, b).astype(np.int64)
    acc = np.matmul(a[..., :chunk], b[..., :chunk, :]).astype(np.float64)
    for k0 in range(chunk, k, chunk):
        acc += np.matmul(a[..., k0:k0 + chunk], b[..., k0:k0 + chunk, :])
    return acc.astype(np.int64)


def int16_bias_kind(node, bias):
    """Accumulator width of a 16x8 conv / fully-connected kernel: 64 bits, or 32 when the bias
    is int32.

    LiteRT picks the int32 path only when the op's quantized_bias_type option says INT32 and
    otherwise reads the bias as int64 (garbage for an int32 bias); numlite follows the bias type."""
    from ..schema.enums import TensorType
    if not node.has_options:
        # Without an options table LiteRT's quantized_bias_type stays kTfLiteNoType, which its
        # 16x8 Prepare rejects (only an explicit FLOAT32 / INT32 / INT64 passes).
        raise node.error("a 16x8 node needs its options table (quantized_bias_type)")
    opt = node.options.quantized_bias_type
    if opt not in (TensorType.FLOAT32, TensorType.INT32, TensorType.INT64):
        raise node.error("quantized_bias_type must be INT32 or INT64")
    if bias is not None and opt != TensorType.FLOAT32 and TensorType.name(opt) != bias.type_name:
        raise node.error("bias type %s differs from quantized_bias_type %s" % (bias.type_name, TensorType.name(opt)))
    if bias is not None:
        return 32 if bias.type_name == "INT32" else 64
    return 32 if opt == TensorType.INT32 else 64


def weight_bound(spec, zero_point=0):
    """value_bound of a weight tensor: max |w - zero_point| over a constant's values (found from
    its extremes, with no int64 copy of a large tensor), or over its type's range."""
    data = spec.data
    if data is not None and data.size:
        data = np.array([data.min(), data.max()])
    return value_bound(spec.type_name, zero_point, data)


def weight_operand(w, zero_point=0, dtype=np.float32):
    """Weights (or a rearranged view of them) as a contiguous ``dtype`` matmul operand, zero
    point removed: one copy and no temporaries (kernels keep these for constant weights)."""
    m = np.empty(w.shape, dtype)
    m[...] = w
    if zero_point:
        m -= zero_point
    return m


def check_same_params(node, a, b, what="input and output"):
    """LiteRT's data-movement kernels (EXPAND_DIMS, FILL, PAD, CONCATENATION, PACK, UNPACK ...)
    copy 8/16-bit quantized values raw: they refuse tensors whose per-tensor scale or zero point
    differ rather than requantize."""
    if a.type_name in QUANTIZED and tensor_params(a) != tensor_params(b):
        raise node.error("%s quantization differ (%s vs %s)" % (what, tensor_params(a), tensor_params(b)))
