"""Matrix products: FULLY_CONNECTED and BATCH_MATMUL, each in float, quantized (int8 / uint8 /
int16) and hybrid (float input, int8 weights) variants.

Each op's float kernel holds the shared prepare (operands, shapes) and eval; its quantized and
hybrid kernels override small per-dtype hooks. Integer products run as exact float32 BLAS
products, in chunks of the inner dimension where one float32 sum would not be exact
(quant.exact_layout); the requantization differs per op, see each kernel's docstring.
"""
import numpy as np

from ..schema.enums import ActivationFunctionType as Act
from ..schema.enums import FullyConnectedOptionsWeightsFormat as WeightsFormat
from . import fixedpoint as fp
from .contract import Kernel
from .fused import add_bias_and_clamp, float_clamp
from .hybrid import (apply_activation, check_float_io, fused_activation, hybrid_dot, hybrid_match, is_zero_vector,
                     nonfinite_ok, quantize_rows, row_scales, weight_row_sums, weight_scales)
from .operands import FLOAT, arity, check_bias, check_float_operands, optional_input
from .quant import (activation_bounds, channel_scales, check_bias_scale, effective_scale, exact_layout,
                    exact_matmul_chunked, finish, float_to_int32, int16_bias_kind, legacy_multiplier, qparams,
                    rescale_double, rescale_fixed, value_bound, weight_bound, weight_operand)
from .registry import register

F32 = np.float32


# ---------------------------------------------------------------------------------------------
# FULLY_CONNECTED
# ---------------------------------------------------------------------------------------------

@register("FULLY_CONNECTED", versions=(1, 14))
class FullyConnected(Kernel):
    """Float FULLY_CONNECTED: weights [units, cols]; the input is read as rows of ``cols`` values.

    Without keep_num_dims the output is [input_size // cols, units]; like LiteRT, the division
    truncates and trailing input values that do not fill a row are ignored. With keep_num_dims
    the input's last dimension must equal cols and the output keeps the leading dimensions.

    The quantized and hybrid kernels below share this prepare and eval; they differ in
    ``setup``, ``weights`` and ``product`` (rows x weights → output)."""

    input_types = FLOAT     # the hybrid kernel's too

    def prepare(self, node, inputs, outputs):
        fmt = node.options.weights_format
        if fmt != WeightsFormat.DEFAULT:
            raise node.unsupported("weights format %s is not supported (only DEFAULT; LiteRT uses the shuffled "
                                   "format for uint8 weights only)" % WeightsFormat.name(fmt))
        arity(node, inputs, outputs, (2, 3))
        x, w, b, out = inputs[0], inputs[1], optional_input(inputs, 2), outputs[0]
        if w.shape is None or len(w.shape) != 2:
            raise node.error("weights must have rank 2, got shape %s" % (w.shape,))
        self.units, self.cols = units, cols = w.shape
        self.setup(node, x, w, b, out)
        xs = tuple(x.shape)
        if node.options.keep_num_dims and (not xs or xs[-1] != cols):
            raise node.error("keep_num_dims needs the input's last dimension (%s) to equal the weights' %d columns"
                             % (xs[-1] if xs else "scalar", cols))
        self.batch = int(np.prod(xs[:-1])) if cols == 0 else int(np.prod(xs)) // cols
        out.shape = (xs[:-1] + (units,)) if node.options.keep_num_dims else (self.batch, units)
        self.wmat = self.weights(w.data) if w.data is not None else None

    def setup(self, node, x, w, b, out):
        check_float_operands(node, x, w, out, "weights")
        act = node.options.fused_activation_function
        if act in (Act.TANH, Act.SIGN_BIT):
            # LiteRT's FULLY_CONNECTED refuses these at prepare (unlike the conv kernels, which ignore them).
            raise node.unsupported("fused activation %s" % Act.name(act))
        self.clamp = float_clamp(node, act)
        check_bias(node, b, self.units, FLOAT)

    def weights(self, w):
        return None     # the float product reads the weights as they are

    def eval(self, node, inputs, outputs):
        x, w, b = inputs[0], inputs[1], optional_input(inputs, 2)
        rows = x.reshape(-1)[:self.batch * self.cols].reshape(self.batch, self.cols)
        self.product(rows, w, b, outputs[0])

    def product(self, rows, w, b, out):
        with np.errstate(over="ignore", invalid="ignore"):      # ±inf / NaN inputs: IEEE results
            np.matmul(rows, w.T, out=out.reshape(self.batch, self.units))
        add_bias_and_clamp(out, b, self.clamp)


@register("FULLY_CONNECTED", versions=(1, 14), types=("INT8", "UINT8", "INT16"))
class QuantizedFullyConnected(FullyConnected):
    """Quantized FULLY_CONNECTED (reference_ops / reference_integer_ops FullyConnected*).

    LiteRT's reference kernels requantize in double here, not in fixed point: each accumulator
    becomes round(double(acc) * in_scale * w_scale / out_scale) (round half away), with the
    scale product formed in double from the float32 scales. Accumulators are int32 (wrapping)
    except for int16 inputs with an int64 (or omitted) bias. Per-tensor weights may have a zero
    point (weights_offset); per-channel weights (int8 / int16 inputs) are symmetric.
    Types: int8 → int8, uint8 → uint8, uint8 → int16 (output zero point 0), int16 x int8 → int16.
    """

    COMBOS = {("INT8", "INT8", "INT8"), ("UINT8", "UINT8", "UINT8"), ("UINT8", "UINT8", "INT16"),
              ("INT16", "INT8", "INT16"), ("INT16", "INT4", "INT16"), ("INT8", "INT4", "INT8")}

    def setup(self, node, x, w, b, out):
        key = (x.type_name, w.type_name, out.type_name)
        if key not in self.COMBOS:
            raise node.unsupported("input/weights/output types %s/%s/%s" % key)
        in_scale, self.in_zp = qparams(node, x, "input").pair
        out_scale, self.out_zp = qparams(node, out, "output").pair
        wq = qparams(node, w, "weights")
        if wq.per_channel:
            if x.type_name == "UINT8":
                raise node.error("per-channel weights need int8 or int16 inputs")
            channel_scales(node, w, self.units, "weights")
            self.w_zp = 0
        else:
            self.w_zp = wq.tensor_zero_point
            check_bias_scale(node, b, in_scale, wq.scale[0], out_scale)
        if x.type_name == "INT16" and (self.in_zp != 0 or self.out_zp != 0):
            raise node.error("int16 input and output zero points must be 0")
        self.scale = effective_scale(in_scale, wq.scale if wq.per_channel else wq.scale[:1], out_scale)
        self.lo, self.hi = activation_bounds(node, node.options.fused_activation_function, out_scale, self.out_zp,
                                             out.dtype, allow_unclamped=False)
        self.acc_bits = int16_bias_kind(node, b) if x.type_name == "INT16" else 32
        check_bias(node, b, self.units, ("INT64",) if self.acc_bits == 64 else ("INT32",))
        if key == ("UINT8", "UINT8", "INT16") and b is None:
            # The uint8 → int16 reference kernel starts every accumulator from bias_data[c].
            raise node.error("uint8 input with int16 output requires a bias")
        self.dtype, self.chunk = exact_layout(self.cols, value_bound(x.type_name, self.in_zp),
                                              weight_bound(w, self.w_zp))

    def weights(self, w):
        return weight_operand(w, self.w_zp, self.dtype).T

    def product(self, rows, w, b, out):
        wmat = self.wmat if self.wmat is not None else self.weights(w)
        acc = exact_matmul_chunked(rows.astype(self.dtype) - self.in_zp, wmat, self.chunk)
        if b is not None:
            acc += b.reshape(-1).astype(np.int64)
        if self.acc_bits == 32:
            acc = fp.wrap_int32(acc)
        finish(rescale_double(acc, self.scale), self.out_zp, self.lo, self.hi, out.reshape(self.batch, self.units))


@register("FULLY_CONNECTED", versions=(1, 14), match=hybrid_match(("INT8", "INT4")))
class HybridFullyConnected(FullyConnected):
    """Hybrid FULLY_CONNECTED (EvalHybridDense): each input row of ``cols`` values is quantized
    on its own, symmetrically (SymmetricQuantizeFloats) or, with ``asymmetric_quantize_inputs``,
    asymmetrically (AsymmetricQuantizeFloats, the offset removed through the weights' row sums):
    out = bias + float(dot - row_sum * offset) * (input_scale * weight_scale), then the fused
    activation (all of them, TANH and SIGN_BIT included, as ApplyActivationToVector does)."""

    def setup(self, node, x, w, b, out):
        check_float_io(node, x, out, b, self.units)
        self.act = fused_activation(node, clamps_only=False)
        self.asymmetric = bool(node.options.asymmetric_quantize_inputs)
        self.pcs, self.wscale = weight_scales(node, w, self.units)
        self.dtype, self.chunk = exact_layout(self.cols, 128, weight_bound(w))
        self.row_sums = weight_row_sums(w.data) if w.data is not None and self.asymmetric else None

    def weights(self, w):
        return np.asarray(w, self.dtype).T

    def product(self, rows, w, b, out):
        wmat, row_sums = self.wmat, self.row_sums
        if wmat is None:
            wmat = self.weights(w)
            row_sums = weight_row_sums(w) if self.asymmetric else None
        res = out.reshape(self.batch, self.units)
        res[...] = 0 if b is None else b.reshape(-1).astype(F32)
        if not is_zero_vector(rows):       # LiteRT skips the product of an all-zero input
            quantized = quantize_rows(rows, self.asymmetric)
            with nonfinite_ok():
                # prod + result: LiteRT's compiled `*result += prod` keeps the product's NaN.
                np.add(hybrid_dot(quantized, wmat, row_sums, self.chunk).astype(F32)
                       * row_scales(quantized[1], self.pcs, self.wscale), res, out=res)
        apply_activation(out, self.act)


# ---------------------------------------------------------------------------------------------
# BATCH_MATMUL
# ---------------------------------------------------------------------------------------------

@register("BATCH_MATMUL", versions=(1, 4))
class BatchMatMul(Kernel):
    """Float BATCH_MATMUL: [..., M, K] x [..., K, N] with adj_x / adj_y transposing the last two
    dimensions of an operand first, and the batch dimensions broadcast (ranks 2 to 5).

    The quantized and hybrid kernels below share this prepare; they differ in ``setup`` and
    ``eval``."""

    input_types = FLOAT     # the hybrid kernel's too

    def prepare(self, node, inputs, outputs):
        arity(node, inputs, outputs, 2)
        lhs, rhs = inputs
        self.adj_x, self.adj_y = bool(node.options.adj_x), bool(node.options.adj_y)
        ls, rs = tuple(lhs.shape), tuple(rhs.shape)
        for what, s in (("lhs", ls), ("rhs", rs)):
            if not 2 <= len(s) <= 5:
                raise node.error("%s rank must be 2..5, got shape %s" % (what, s))
        rank = max(len(ls), len(rs))
        le, re = (1,) * (rank - len(ls)) + ls, (1,) * (rank - len(rs)) + rs
        batch = []
        for a, c in zip(le[:-2], re[:-2]):
            if a != c and a != 1 and c != 1:
                raise node.error("batch dimensions of %s and %s do not broadcast" % (ls, rs))
            batch.append(c if a == 1 else a)
        m, self.k = (le[-1], le[-2]) if self.adj_x else (le[-2], le[-1])
        k2, n = (re[-1], re[-2]) if self.adj_y else (re[-2], re[-1])
        if self.k != k2:
            raise node.error("inner dimensions differ (%d vs %d) for shapes %s, %s" % (self.k, k2, ls, rs))
        outputs[0].shape = tuple(batch) + (m, n)
        self.setup(node, lhs, rhs, outputs[0])

    def setup(self, node, lhs, rhs, out):
        check_float_operands(node, lhs, rhs, out, "rhs")

    def operands(self, lhs, rhs):
        a = np.swapaxes(lhs, -1, -2) if self.adj_x else lhs
        c = np.swapaxes(rhs, -1, -2) if self.adj_y else rhs
        return a, c

    def eval(self, node, inputs, outputs):
        with np.errstate(over="ignore", invalid="ignore"):      # ±inf / NaN inputs: IEEE results
            np.matmul(*self.operands(*inputs), out=outputs[0])


@register("BATCH_MATMUL", versions=(1, 4), types=("INT8", "INT16"))
class QuantizedBatchMatMul(BatchMatMul):
    """Quantized BATCH_MATMUL (reference_ops::BatchMatMul): both zero points subtracted, one
    per-tensor multiplier from GetQuantizedConvolutionMultipler (float32 scale product),
    MultiplyByQuantizedMultiplier with int32 accumulators (int8, double rounding) or int64 ones
    (int16 x int16 and int16 x int8, int64 variant). No fused activation: the output type's range.
    int8 x int8 may also produce int32: the raw products, zero points ignored (as LiteRT does)."""

    COMBOS = {("INT8", "INT8", "INT8"), ("INT8", "INT8", "INT32"), ("INT16", "INT16", "INT16"),
              ("INT16", "INT8", "INT16")}

    def setup(self, node, lhs, rhs, out):
        key = (lhs.type_name, rhs.type_name, out.type_name)
        if key not in self.COMBOS:
            raise node.unsupported("lhs/rhs/output types %s/%s/%s" % key)
        self.raw = out.type_name == "INT32"
        if self.raw:
            self.lzp = self.rzp = 0
            self.dtype, self.chunk = exact_layout(self.k, 128, 128)
            return
        ls, self.lzp = qparams(node, lhs, "lhs").pair
        rs, self.rzp = qparams(node, rhs, "rhs").pair
        os_, self.ozp = qparams(node, out, "output").pair
        if lhs.type_name == "INT16" and (self.lzp or self.rzp or self.ozp):
            raise node.error("int16 operands need zero points 0")
        self.mult, self.shift = legacy_multiplier(ls, rs, os_)
        self.dtype, self.chunk = exact_layout(self.k, value_bound(lhs.type_name, self.lzp),
                                              value_bound(rhs.type_name, self.rzp))
        self.acc_bits = 32 if lhs.type_name == "INT8" else 64
        self.lo, self.hi = fp.dtype_range(out.dtype)

    def eval(self, node, inputs, outputs):
        lhs, rhs = inputs
        out = outputs[0]
        acc = exact_matmul_chunked(*self.operands(np.asarray(lhs, self.dtype) - self.lzp,
                                                  np.asarray(rhs, self.dtype) - self.rzp), self.chunk)
        if self.raw:
            np.copyto(out, fp.wrap_int32(acc), casting="unsafe")
        else:
            finish(rescale_fixed(acc, self.mult, self.shift, self.acc_bits), self.ozp, self.lo, self.hi, out)


@register("BATCH_MATMUL", versions=(1, 4), match=hybrid_match(("INT8",)))
class HybridBatchMatMul(BatchMatMul):
    """Hybrid BATCH_MATMUL (reference_ops::BatchMatMul, hybrid overload): every row of the float
    lhs is quantized on its own. LiteRT subtracts row_sum * offset in float32 from the int32
    dot product and truncates back to int32 — even with symmetric inputs, so dot products
    beyond 2^24 lose their low bits there — then multiplies by the float32 scale.

    Its per-row scales, offsets and weight row sums are addressed as ``sum over batch dims of
    index * rows`` (not the flattened batch index), so with two or more non-broadcast batch
    dimensions rows borrow another batch's scale; numlite reproduces that addressing, after the
    same shape folding LiteRT's Eval applies ([..., Q, R, S] x [..., 1, X, Y] → [..., Q*R, S])."""

    def setup(self, node, lhs, rhs, out):
        check_float_io(node, lhs, out, None, 0)
        self.asymmetric = bool(node.options.asymmetric_quantize_inputs)
        self.pcs, self.wscale = weight_scales(node, rhs, out.shape[-1], "rhs")
        self.dtype, self.chunk = exact_layout(self.k, 128, weight_bound(rhs))
        ls, rs = tuple(lhs.shape), tuple(rhs.shape)
        if not self.adj_x and len(ls) > 2 and len(rs) > 2 and rs[-3] == 1:
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

    def eval(self, node, inputs, outputs):
        lhs, rhs = inputs
        a, c = self.operands(np.asarray(lhs, F32).reshape(self.lhs_shape),
                             np.asarray(rhs, self.dtype).reshape(self.rhs_shape))
        k = a.shape[-1]
        q, scales, offsets = quantize_rows(a.reshape(-1, k), self.asymmetric)
        dot = fp.wrap_int32(exact_matmul_chunked(q.astype(self.dtype, copy=False).reshape(a.shape), c, self.chunk))
        n_out = self.scale_index.shape[0]
        dot = np.broadcast_to(dot, np.broadcast_shapes(dot.shape[:-2], c.shape[:-2]) + dot.shape[-2:])
        dot = dot.reshape(n_out, *dot.shape[-2:])                              # [B, M, N]
        row_sums = weight_row_sums(np.swapaxes(c, -1, -2).reshape(-1, k))     # weight rows, flat
        rs_used = row_sums[np.minimum(self.row_sum_index, row_sums.size - 1)]  # [B, N]
        off_used = offsets[self.scale_index].astype(F32)                       # [B, M]
        total = float_to_int32(dot.astype(F32) - rs_used.astype(F32)[:, None, :] * off_used[:, :, None])
        with nonfinite_ok():
            if self.pcs is None:
                scale = (scales * self.wscale).astype(F32)[self.scale_index][:, :, None]
            else:
                scale = (scales[self.scale_index][:, :, None] * self.pcs[None, None, :]).astype(F32)
            outputs[0].reshape(dot.shape)[...] = scale * total.astype(F32)
