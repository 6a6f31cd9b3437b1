"""Hybrid ("dynamic range") kernels: float32 activations with constant int8 weights.

LiteRT quantizes the float input on the fly, runs an integer product and scales the int32
result back to float. numlite follows its reference resolver's choices and float operations
exactly (float32 arithmetic in the same order):

* FULLY_CONNECTED (EvalHybridDense) and BATCH_MATMUL: each input row of ``cols`` values is
  quantized on its own, symmetrically (SymmetricQuantizeFloats) or, with
  ``asymmetric_quantize_inputs``, asymmetrically (AsymmetricQuantizeFloats, the offset removed
  through the weights' row sums).
* CONV_2D: per-tensor weights → HybridConv: the whole image of each batch is quantized
  symmetrically, im2col + integer GEMM, then ``float(acc) * (input_scale * filter_scale)``.
  Per-channel weights with differing scales, or grouped convolutions → HybridConvPerChannel:
  asymmetric quantization per batch, ``float(acc) * channel_scale * input_scale``.
* DEPTHWISE_CONV_2D: always the per-channel path, ``float(acc) * (channel_scale * input_scale)``.

The integer accumulators are int32 in LiteRT; they wrap on overflow (applied after the exact
float BLAS product, see quantized_matmul.exact_dtype).
"""
import numpy as np

from ..errors import ModelError
from ..schema.enums import ActivationFunctionType as Act
from . import fixedpoint as fp
from .common import check_types
from .eigen import eigen_tanh
from .conv import window_from_options
from .quantized_conv import check_rank, conv_weight_matrix, depthwise_accumulate, grouped_matmul, im2col
from .quantized_matmul import (bmm_shapes, exact_dtype, exact_matmul, fc_rows, float_to_int32, node_arity,
                               optional_input, output_array, qparams, refuse, value_bound)
from .registry import Kernel, register

F32 = np.float32


def _hybrid(filter_types):
    return lambda inputs: (len(inputs) > 1 and inputs[0] is not None and inputs[0].type_name == "FLOAT32"
                           and inputs[1] is not None and inputs[1].type_name in filter_types)


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
    """The fused activation to apply. Conv kernels (CalculateActivationRange) treat TANH and
    SIGN_BIT as no clamp at all; the hybrid FULLY_CONNECTED applies every activation."""
    # TEMPORARY (h-seq): accepts a contract Node as well as a legacy kernel, until hybrid.py's
    # own conversion to nodes is merged.
    if isinstance(node.options, dict):
        act = node.options.get("fused_activation_function", Act.NONE)
        opcode = node.op.opcode
    else:
        act, opcode = node.options.fused_activation_function, node.opcode
    if act not in Act:
        raise ModelError("%s: unknown fused activation function %d" % (opcode, act))
    return act if act in CLAMPS or not clamps_only else Act.NONE


def apply_activation(out, act):
    """In place, on float32: LiteRT's clamps, and for the hybrid FULLY_CONNECTED and the sequence
    ops also TANH and SIGN_BIT (tensor_utils::ApplyActivationToVector). Conv kernels treat TANH / SIGN_BIT as no clamp."""
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


def weight_scales(kernel, w, n, what="weights"):
    """(per-channel scales [n] or None, per-tensor scale) of a hybrid weight tensor."""
    scale, _ = qparams(kernel, w, what)
    if scale.size > 1:
        if scale.size != n:
            raise ModelError("%s: %s has %d scales, expected %d" % (kernel.op.opcode, what, scale.size, n))
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


def int32_dot(q, wmat):
    return fp.wrap_int32(exact_matmul(q, wmat))


def hybrid_dot(quantized, wmat, row_sums=None):
    """The integer part of LiteRT's hybrid MatrixBatchVectorMultiplyAccumulate: int32 dot products
    of the quantized rows (from :func:`quantize_rows`) with [K, N] weights, less row_sum x input
    offset when the inputs were quantized asymmetrically (``row_sums`` given)."""
    q, _, offsets = quantized
    dot = int32_dot(q.astype(wmat.dtype, copy=False), wmat)
    if row_sums is not None:
        dot = fp.wrap_int32(dot - row_sums[None, :] * offsets[:, None])
    return dot


def check_float_io(kernel, x, out, bias, n):
    check_types(kernel, x, ("FLOAT32",))
    if out.type_name != "FLOAT32":
        raise ModelError("%s: hybrid output must be FLOAT32, got %s" % (kernel.op.opcode, out.type_name))
    if bias is not None:
        check_types(kernel, bias, ("FLOAT32",), "bias")
        if int(np.prod(bias.shape)) != n:
            raise ModelError("%s: bias has %d elements, expected %d" % (kernel.op.opcode, int(np.prod(bias.shape)), n))


# ---------------------------------------------------------------------------------------------
# FULLY_CONNECTED and BATCH_MATMUL
# ---------------------------------------------------------------------------------------------

def quantize_rows(rows, asymmetric):
    if asymmetric:
        return asymmetric_quantize(rows)
    q, scale = symmetric_quantize(rows)
    return q, scale, np.zeros(len(scale), np.int64)


def row_scales(batch_scales, per_channel, per_tensor):
    """[rows, units] float32 factors: input scale x weight scale, multiplied in float32."""
    if per_channel is None:
        return (batch_scales * per_tensor).astype(F32)[:, None]
    return (batch_scales[:, None] * per_channel[None, :]).astype(F32)


@register("FULLY_CONNECTED", versions=(1, 14), match=_hybrid(("INT8", "INT4")))
class HybridFullyConnected(Kernel):
    """Hybrid FULLY_CONNECTED (EvalHybridDense): out = bias + float(dot - row_sum * offset) *
    (input_scale * weight_scale), then the fused activation (all of them, TANH and SIGN_BIT
    included, as ApplyActivationToVector does)."""

    def prepare(self, inputs, outputs):
        node_arity(self, inputs, outputs, 2, 3)
        x, w, b = inputs[0], inputs[1], optional_input(inputs, 2)
        if w.shape is None or len(w.shape) != 2:
            raise ModelError("FULLY_CONNECTED: weights must have rank 2, got shape %s" % (w.shape,))
        units, cols = w.shape
        check_float_io(self, x, outputs[0], b, units)
        o = self.options
        if o.get("weights_format", 0) != 0:
            refuse(self, "shuffled weights format")
        self.act = fused_activation(self, clamps_only=False)
        self.asymmetric = bool(o.get("asymmetric_quantize_inputs", False))
        self.pcs, self.wscale = weight_scales(self, w, units)
        self.units, self.cols = units, cols
        self.batch, outputs[0].shape = fc_rows(self, x, cols, bool(o.get("keep_num_dims", False)), units)
        self.out_shape = outputs[0].shape
        self.ctype = exact_dtype(cols, 128, value_bound(w.type_name, 0, w.data))
        self.wmat = np.asarray(w.data, self.ctype).T if w.data is not None else None
        self.row_sums = weight_row_sums(w.data) if w.data is not None and self.asymmetric else None

    def eval(self, inputs, outputs):
        x, w, b = inputs[0], inputs[1], optional_input(inputs, 2)
        out = output_array(outputs, self.out_shape, F32)
        flat = out.reshape(self.batch, self.units)
        rows = x.reshape(-1)[:self.batch * self.cols].reshape(self.batch, self.cols)
        wmat, row_sums = self.wmat, self.row_sums
        if wmat is None:
            wmat = np.asarray(w, self.ctype).T
            row_sums = weight_row_sums(wmat.T) if self.asymmetric else None
        quantized = quantize_rows(rows, self.asymmetric)
        res = hybrid_dot(quantized, wmat, row_sums).astype(F32) * row_scales(quantized[1], self.pcs, self.wscale)
        if b is not None:
            res = b.reshape(-1).astype(F32) + res
        flat[...] = res
        apply_activation(out, self.act)
        return [out]


@register("BATCH_MATMUL", versions=(1, 4), match=_hybrid(("INT8",)))
class HybridBatchMatMul(Kernel):
    """Hybrid BATCH_MATMUL (reference_ops::BatchMatMul, hybrid overload): every row of the float
    lhs is quantized on its own. LiteRT subtracts row_sum * offset in float32 from the int32
    dot product and truncates back to int32 — even with symmetric inputs, so dot products
    beyond 2^24 lose their low bits there — then multiplies by the float32 scale.

    Its per-row scales, offsets and weight row sums are addressed as ``sum over batch dims of
    index * rows`` (not the flattened batch index), so with two or more non-broadcast batch
    dimensions rows borrow another batch's scale; numlite reproduces that addressing, after the
    same shape folding LiteRT's Eval applies ([..., Q, R, S] x [..., 1, X, Y] → [..., Q*R, S])."""

    def prepare(self, inputs, outputs):
        node_arity(self, inputs, outputs, 2, 2)
        lhs, rhs = inputs
        check_float_io(self, lhs, outputs[0], None, 0)
        self.adj_x = bool(self.options.get("adj_x", False))
        self.adj_y = bool(self.options.get("adj_y", False))
        self.asymmetric = bool(self.options.get("asymmetric_quantize_inputs", False))
        ls, rs = tuple(lhs.shape), tuple(rhs.shape)
        outputs[0].shape = self.out_shape = bmm_shapes(self, ls, rs, self.adj_x, self.adj_y)
        self.pcs, self.wscale = weight_scales(self, rhs, self.out_shape[-1], "rhs")
        k = ls[-2] if self.adj_x else ls[-1]
        self.ctype = exact_dtype(k, 128, value_bound(rhs.type_name, 0, rhs.data))
        self.fold = not self.adj_x and len(ls) > 2 and len(rs) > 2 and rs[-3] == 1
        if self.fold:
            ls, rs = ls[:-3] + (ls[-3] * ls[-2], ls[-1]), rs[:-3] + rs[-2:]
        self.lhs_shape, self.rhs_shape = ls, rs
        m = ls[-1] if self.adj_x else ls[-2]
        n = rs[-2] if self.adj_y else rs[-1]
        self.scale_index, self.row_sum_index = self._addressing(ls[:-2], rs[:-2], m, n)

    @staticmethod
    def _addressing(lhs_batch, rhs_batch, m, n):
        """[B, M] indexes of the per-row scales and [B, N] of the row sums LiteRT reads for each
        (broadcast, flattened) output batch B."""
        lb = (1,) * (3 - len(lhs_batch)) + tuple(lhs_batch)
        rb = (1,) * (3 - len(rhs_batch)) + tuple(rhs_batch)
        grid = np.indices(tuple(max(a, c) for a, c in zip(lb, rb))).reshape(3, -1)
        lstep = np.array([m if d != 1 else 0 for d in lb])[:, None]
        rstep = np.array([n if d != 1 else 0 for d in rb])[:, None]
        return ((grid * lstep).sum(0)[:, None] + np.arange(m)[None, :],
                (grid * rstep).sum(0)[:, None] + np.arange(n)[None, :])

    def eval(self, inputs, outputs):
        lhs, rhs = inputs
        out = output_array(outputs, self.out_shape, F32)
        a = np.asarray(lhs, F32).reshape(self.lhs_shape)
        c = np.asarray(rhs, self.ctype).reshape(self.rhs_shape)
        a = np.swapaxes(a, -1, -2) if self.adj_x else a
        c = np.swapaxes(c, -1, -2) if self.adj_y else c
        k = a.shape[-1]
        q, scales, offsets = quantize_rows(a.reshape(-1, k), self.asymmetric)
        dot = fp.wrap_int32(exact_matmul(q.astype(self.ctype, copy=False).reshape(a.shape), c))
        n_out = self.scale_index.shape[0]
        dot = np.broadcast_to(dot, np.broadcast_shapes(dot.shape[:-2], c.shape[:-2]) + dot.shape[-2:])
        dot = dot.reshape(n_out, *dot.shape[-2:])                              # [B, M, N]
        row_sums = weight_row_sums(np.swapaxes(c, -1, -2).reshape(-1, k))     # weight rows, flat
        rs_used = row_sums[np.minimum(self.row_sum_index, row_sums.size - 1)]  # [B, N]
        off_used = offsets[self.scale_index].astype(F32)                       # [B, M]
        total = dot.astype(F32) - rs_used.astype(F32)[:, None, :] * off_used[:, :, None]
        total = float_to_int32(total)
        if self.pcs is None:
            scale = (scales * self.wscale).astype(F32)[self.scale_index][:, :, None]
        else:
            scale = (scales[self.scale_index][:, :, None] * self.pcs[None, None, :]).astype(F32)
        out.reshape(dot.shape)[...] = scale * total.astype(F32)
        return [out]


# ---------------------------------------------------------------------------------------------
# CONV_2D and DEPTHWISE_CONV_2D
# ---------------------------------------------------------------------------------------------

class _HybridConvBase(Kernel):
    def setup(self, inputs, outputs, n_out):
        x, b = inputs[0], optional_input(inputs, 2)
        check_float_io(self, x, outputs[0], b, n_out)
        self.act = fused_activation(self, clamps_only=True)

    def finish(self, res, bias, out):
        if bias is not None:
            res = res + bias.reshape(-1).astype(F32)
        out.reshape(res.shape)[...] = res
        apply_activation(out, self.act)
        return [out]


@register("CONV_2D", versions=(1, 8), match=_hybrid(("INT8", "INT4")))
class HybridConv2D(_HybridConvBase):
    """Hybrid CONV_2D: HybridConv (symmetric per-batch input quantization, one filter scale) or
    HybridConvPerChannel (asymmetric, for differing per-channel scales or groups > 1)."""

    def prepare(self, inputs, outputs):
        node_arity(self, inputs, outputs, 2, 3)
        x, w = inputs[0], inputs[1]
        check_rank(self, x, 4, "input")
        check_rank(self, w, 4, "filter")
        n, h, wd, c = x.shape
        oc, kh, kw, cg = w.shape
        if cg <= 0 or c % cg or oc % (c // cg):
            raise ModelError("CONV_2D: %d input channels do not split into groups of %d filter channels for %d filters"
                             % (c, cg, oc))
        self.setup(inputs, outputs, oc)
        self.groups = g = c // cg
        scale, _ = qparams(self, w, "filter")
        if scale.size not in (1, oc):
            raise ModelError("CONV_2D: filter has %d scales, expected 1 or %d" % (scale.size, oc))
        if g != 1 and scale.size != oc:
            # LiteRT sends grouped hybrid convolutions down the per-channel path, which insists on
            # one scale per filter.
            raise ModelError("CONV_2D: a grouped hybrid convolution needs %d filter scales, got %d" % (oc, scale.size))
        self.per_channel = bool(np.any(scale != scale[0])) or g != 1
        self.scales = np.broadcast_to(scale, (oc,)).astype(F32)
        self.win = win = window_from_options(self, (h, wd), (kh, kw))
        oh, ow = win.out_hw
        outputs[0].shape = self.out_shape = (n, oh, ow, oc)
        self.rows_per_batch = oh * ow
        # Symmetric inputs lie in [-127, 127]; asymmetric ones minus their offset in [-255, 255].
        self.ctype = ct = exact_dtype(kh * kw * cg, 255 if self.per_channel else 127,
                                      value_bound(w.type_name, 0, w.data))
        self.buf = win.buffer(n, c, ct, 0)
        self.cols = np.empty((n, oh, ow, g, kh, kw, cg), ct)
        self.wmat = conv_weight_matrix(w.data, g, 0, ct) if w.data is not None else None

    def eval(self, inputs, outputs):
        x, w, b = inputs[0], inputs[1], optional_input(inputs, 2)
        out = output_array(outputs, self.out_shape, F32)
        if out.size == 0:
            return [out]
        n = x.shape[0]
        wmat = self.wmat if self.wmat is not None else conv_weight_matrix(w, self.groups, 0, self.ctype)
        images = np.asarray(x, F32).reshape(n, -1)
        if self.per_channel:
            q, sf, offsets = asymmetric_quantize(images)
            # Skipped out-of-image taps: a zero border after removing the offset.
            q -= offsets[:, None]
        else:
            q, sf = symmetric_quantize(images)
            sf = (sf * self.scales[0]).astype(F32)
        rows = im2col(self.win, self.win.load(self.buf, q.reshape(x.shape).astype(self.ctype, copy=False)), self.cols,
                      self.groups)
        acc = fp.wrap_int32(grouped_matmul(rows, wmat)).astype(F32)
        sf_rows = np.repeat(sf, self.rows_per_batch)[:, None]
        if self.per_channel:
            res = acc * self.scales[None, :] * sf_rows
        else:
            res = acc * sf_rows
        return self.finish(res, b, out)


@register("DEPTHWISE_CONV_2D", versions=(1, 7), match=_hybrid(("INT8",)))
class HybridDepthwiseConv2D(_HybridConvBase):
    """Hybrid DEPTHWISE_CONV_2D (DepthwiseConvHybridPerChannel): asymmetric per-batch input
    quantization; one filter scale is broadcast over the channels (LiteRT reads past it)."""

    def prepare(self, inputs, outputs):
        node_arity(self, inputs, outputs, 2, 3)
        x, w = inputs[0], inputs[1]
        check_rank(self, x, 4, "input")
        check_rank(self, w, 4, "filter")
        n, h, wd, c = x.shape
        one, kh, kw, oc = w.shape
        if one != 1:
            raise ModelError("DEPTHWISE_CONV_2D: filter must have shape [1, H, W, C], got %s" % (w.shape,))
        if c <= 0 or oc % c:
            raise ModelError("DEPTHWISE_CONV_2D: filter channels %d are not a multiple of input channels %d" % (oc, c))
        self.setup(inputs, outputs, oc)
        scale, _ = qparams(self, w, "filter")
        qdim = w.quantization.quantized_dimension
        if not (0 <= qdim < 4 and scale.size == w.shape[qdim]):
            raise ModelError("DEPTHWISE_CONV_2D: %d filter scales do not match axis %d of the %s filter"
                             % (scale.size, qdim, tuple(w.shape)))
        self.scales = np.broadcast_to(scale, (oc,)).astype(F32)
        self.win = win = window_from_options(self, (h, wd), (kh, kw))
        oh, ow = win.out_hw
        outputs[0].shape = self.out_shape = (n, oh, ow, oc)
        self.split = (n, oh, ow, c, oc // c)
        self.ctype = exact_dtype(kh * kw, 255, value_bound(w.type_name, 0, w.data))
        self.buf = win.buffer(n, c, self.ctype, 0)
        self.wtaps = self._weights(w.data) if w.data is not None else None

    def _weights(self, w):
        _, kh, kw, _ = w.shape
        return np.asarray(w, self.ctype).reshape(kh, kw, *self.split[3:])

    def eval(self, inputs, outputs):
        x, w, b = inputs[0], inputs[1], optional_input(inputs, 2)
        out = output_array(outputs, self.out_shape, F32)
        if out.size == 0:
            return [out]
        n = x.shape[0]
        q, sf, offsets = asymmetric_quantize(np.asarray(x, F32).reshape(n, -1))
        q -= offsets[:, None]
        wtaps = self.wtaps if self.wtaps is not None else self._weights(w)
        acc = depthwise_accumulate(self.win, self.win.load(self.buf, q.reshape(x.shape).astype(self.ctype, copy=False)),
                                   wtaps, self.split)
        acc = fp.wrap_int32(acc.astype(np.int64)).astype(F32).reshape(n, -1, self.scales.size)
        factor = (self.scales[None, :] * sf[:, None]).astype(F32)          # [N, OC]
        res = acc * factor[:, None, :]
        return self.finish(res.reshape(-1, self.scales.size), b, out)
