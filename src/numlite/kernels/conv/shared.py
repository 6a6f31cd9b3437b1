"""What the conv family's kernels share: operand checks, the quantized requantization, the
hybrid input quantization, the im2col of a tile of output rows.

Working memory: the padded (or converted) input, the im2col columns and the depthwise
accumulators are scratch (``node.scratch``), planned in the arena with the node's lifetime.
Quantized and hybrid kernels work through the output in tiles of about :data:`TILE` values, so
their columns, accumulators and int64 requantization temporaries stay small; integer results
do not depend on the tiling. Float kernels work in one tile where BLAS forms the sums, so their
float results stay those of one whole matmul.
"""
import numpy as np

from ..contract import Kernel
from ..fused import float_clamp
from ..geometry import window_from_options
from ..hybrid import check_float_io, conv_clamp, fused_activation, nonfinite_ok, quantize_rows
from ..operands import (FLOAT, QUANTIZED, arity, check_bias, check_float_operands, check_rank, check_type,
                        optional_input, same_type)
from ..quant import (activation_bounds, channel_scales, check_bias_scale, exact_dtype, exact_layout,
                     exact_matmul_chunked, finish, int16_bias_kind, legacy_multiplier, per_channel_multipliers,
                     qparams, require_zero_points, rescale_fixed, value_bound, weight_bound)

# Accepted filter types per quantized input type (the output has the input's type). int4 filters
# arrive unpacked; LiteRT unpacks them too, except in the paths that read them as int8 bytes
# (16x8 depthwise, transpose convolutions), which numlite refuses.
FILTER_TYPES = {"INT8": ("INT8", "INT4"), "UINT8": ("UINT8",), "INT16": ("INT8", "INT4")}
INT8_FILTERS = {"INT8": ("INT8",), "UINT8": ("UINT8",), "INT16": ("INT8",)}
#: Output values per tile of the quantized and hybrid kernels.
TILE = 1 << 16


def tiles(out_h, per_line, tile=TILE):
    """Output row ranges (y0, y1) covering ``out_h`` rows of ``per_line`` values, about ``tile``
    values each."""
    lines = max(1, tile // max(per_line, 1))
    return [(y0, min(y0 + lines, out_h)) for y0 in range(0, out_h, lines)]


def view(buf, shape):
    """The leading part of a scratch buffer, as an array of ``shape`` (a shorter last tile)."""
    return buf.array.reshape(-1)[:int(np.prod(shape))].reshape(shape)


def im2col(win, src, cols, groups, rows):
    """The columns [M, G, K] of output rows ``rows`` = (y0, y1): im2col into the scratch
    ``cols`` [N, lines, OW, G, KH, KW, Cg], or the source rows themselves for a pointwise window
    (``cols`` None)."""
    y0, y1 = rows
    n, c = src.shape[0], src.shape[3]
    if cols is None:
        return src[:, y0:y1].reshape(-1, groups, c // groups)
    col = view(cols, (n, y1 - y0, win.out_w, groups, win.fh, win.fw, c // groups))
    for ky, kx, v in win.taps(src, rows):
        col[:, :, :, :, ky, kx, :] = v.reshape(n, y1 - y0, win.out_w, groups, -1)
    return col.reshape(n * (y1 - y0) * win.out_w, groups, -1)


def exact_grouped_matmul(rows, wmat, chunk):
    """rows [M, G, K] x weights [G, K, OC/G] → int64 [M, OC] (output channels group-major),
    exact (quant.exact_layout)."""
    m, g, _ = rows.shape
    if g == 1:
        return exact_matmul_chunked(rows[:, 0, :], wmat[0], chunk)
    return exact_matmul_chunked(rows.transpose(1, 0, 2), wmat, chunk).transpose(1, 0, 2).reshape(m, -1)


class WindowedConv(Kernel):
    """The float CONV_2D and DEPTHWISE_CONV_2D kernels' shared prepare and eval; the quantized
    and hybrid kernels derive from those and override small per-dtype hooks.

    prepare: operands (the bias is required by LiteRT; numlite also accepts an omitted one as
    zero), ``filter_shape`` (the op's shape checks), the window, ``setup`` (types, parameters,
    the compute ``dtype``), the tiles, the padded-source scratch, ``request`` (the op's other
    scratch), ``weights`` (constant filters rearranged once). eval: ``source`` (the input as the
    taps read it, plus per-eval context), then per tile of output rows the source lines loaded
    (minus ``offset``) and ``compute``."""

    converts = False    # the source is the input itself unless it needs padding
    offset = 0          # subtracted from the input as it is loaded
    input_types = FLOAT

    def prepare(self, node, inputs, outputs):
        arity(node, inputs, outputs, (2, 3))
        x, w, b, out = inputs[0], inputs[1], optional_input(inputs, 2), outputs[0]
        self.check_types(node, x, w, out)
        check_rank(node, x, 4, "input")
        check_rank(node, w, 4, "filter")
        n, h, wd, c = x.shape
        oc, kh, kw = self.filter_shape(node, x.shape, w.shape)
        self.win = win = window_from_options(node, (h, wd), (kh, kw))
        out.shape = (n, win.out_h, win.out_w, oc)
        self.setup(node, x, w, b, out, oc)
        self.tiles = self.tiling(win.out_h, n * win.out_w * oc)
        lines = max((y1 - y0 for y0, y1 in self.tiles), default=0)
        self.buf = win.scratch(node, n, c, self.dtype, lines, copy=self.converts)
        self.request(node, x.shape, w.shape, lines)
        self.wconst = self.weights(w.data) if w.data is not None else None

    def check_types(self, node, x, w, out):
        check_float_operands(node, x, w, out)

    def setup(self, node, x, w, b, out, n_out):
        check_bias(node, b, n_out, FLOAT)
        self.clamp = float_clamp(node, node.options.fused_activation_function)
        self.dtype = np.float32

    def tiling(self, out_h, per_line):
        return tiles(out_h, per_line)

    def eval(self, node, inputs, outputs):
        x, w, b = inputs[0], inputs[1], optional_input(inputs, 2)
        out = outputs[0]
        if out.size == 0:
            return
        weights = self.wconst if self.wconst is not None else self.weights(w)
        src, context = self.source(x)
        for y0, y1 in self.tiles:
            tile, rows = self.win.load(self.buf, src, (y0, y1), offset=self.offset)
            self.compute(tile, rows, weights, b, out[:, y0:y1], context)

    def source(self, x):
        return x, None


class Requantizer:
    """Type checks, quantization parameters and the output stage of the quantized convolutions.

    Types, as in LiteRT's reference kernels: int8 activations with symmetric int8 (or unpacked
    int4) filters, per-channel or per-tensor scales (reference_integer_ops::ConvPerChannel /
    DepthwiseConvPerChannel / TransposeConv); uint8 activations with per-tensor uint8 filters
    that may have a zero point (the legacy reference_ops paths); int16 activations (zero point
    0) with int8 filters and an int64 or int32 bias ("16x8").

    Requantization (all fixed point here, unlike FULLY_CONNECTED): int8 and uint8 accumulate in
    int32 and use MultiplyByQuantizedMultiplier, double rounding; 16x8 accumulates in int64 and
    uses the int64 MultiplyByQuantizedMultiplier (multiplier reduced to 16 bits, one rounding) —
    or int32 with double rounding when the bias is int32. The multipliers are the double
    products input_scale * filter_scale / output_scale (PopulateConvolutionQuantizationParams),
    except uint8, where input_scale * filter_scale is a float32 product
    (GetQuantizedConvolutionMultipler)."""

    def __init__(self, node, x, w, b, out, n_out, filter_types=FILTER_TYPES):
        check_type(node, x, QUANTIZED)
        same_type(node, out, x)
        if w.type_name not in filter_types[x.type_name]:
            raise node.unsupported("%s input with %s filter" % (x.type_name, w.type_name))
        in_scale, self.in_zp = qparams(node, x, "input").pair
        out_scale, self.out_zp = qparams(node, out, "output").pair
        wq = qparams(node, w, "filter")
        qdim = wq.quantized_dimension
        if wq.per_channel and not (0 <= qdim < len(w.shape) and w.shape[qdim] == n_out):
            # PopulateConvolutionQuantizationParams only checks the size of the quantized axis.
            raise node.error("%d filter scales on axis %d of a %s filter, expected %d output channels"
                             % (wq.scale.size, qdim, tuple(w.shape), n_out))
        if x.type_name == "UINT8":
            if wq.per_channel:
                raise node.error("per-channel quantization needs int8 or int16 inputs")
            self.w_zp = wq.tensor_zero_point
            self.mult, self.shift = legacy_multiplier(in_scale, wq.scale[0], out_scale)
            if node.opcode != "TRANSPOSE_CONV":
                check_bias_scale(node, b, in_scale, wq.scale[0], out_scale)
            self.acc_bits = 32
        else:
            require_zero_points(node, w, "filter")
            self.w_zp = 0
            self.mult, self.shift = per_channel_multipliers(in_scale, channel_scales(node, w, n_out), out_scale)
            self.acc_bits = 32
            if x.type_name == "INT16":
                if self.in_zp != 0 or self.out_zp != 0:
                    raise node.error("int16 input and output zero points must be 0")
                self.acc_bits = int16_bias_kind(node, b) if node.opcode != "DEPTHWISE_CONV_2D" else 64
        check_bias(node, b, n_out, ("INT64",) if self.acc_bits == 64 else ("INT32",))
        self.lo, self.hi = activation_bounds(node, node.options.fused_activation_function, out_scale, self.out_zp,
                                             out.dtype)
        self.bounds = (value_bound(x.type_name, self.in_zp), weight_bound(w, self.w_zp))

    def layout(self, terms):
        """(float dtype, chunk) of exact products over ``terms`` (quant.exact_layout)."""
        return exact_layout(terms, *self.bounds)

    def elementwise_dtype(self, terms):
        """Float type of exact elementwise sums of ``terms`` products (quant.exact_dtype)."""
        return exact_dtype(terms, *self.bounds)

    def __call__(self, acc, bias, out):
        """int64 accumulators (+ bias) → ``out`` (in place)."""
        if bias is not None:
            acc += bias.reshape(-1).astype(np.int64)
        finish(rescale_fixed(acc, self.mult, self.shift, self.acc_bits), self.out_zp, self.lo, self.hi, out)


class HybridOutput:
    """Float input, output and bias of a hybrid convolution, and its output stage: the float32
    bias, then the activation clamp (hybrid.conv_clamp: CalculateActivationRange, TANH and
    SIGN_BIT are no clamp; a NaN passes, ±inf become ±FLT_MAX without a clamp)."""

    def __init__(self, node, x, b, out, n_out):
        check_float_io(node, x, out, b, n_out)
        self.act = fused_activation(node, clamps_only=True)

    def __call__(self, res, bias, out):
        with nonfinite_ok():
            if bias is not None:
                res = res + bias.reshape(-1).astype(np.float32)
        out[...] = res.reshape(out.shape)
        conv_clamp(out, self.act)


def quantize_images(x, asymmetric):
    """Each batch image of a float input quantized on its own (symmetric, or asymmetric with the
    offset removed, so a zero border contributes nothing, like the taps LiteRT skips): (values
    as float32 shaped like ``x``, float32 scale per image)."""
    n = x.shape[0]
    q, scales, offsets = quantize_rows(np.asarray(x, np.float32).reshape(n, -1), asymmetric)
    if asymmetric:
        q -= offsets[:, None]
    return q.reshape(x.shape), scales
