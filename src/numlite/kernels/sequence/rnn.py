"""Basic recurrent cells: RNN, UNIDIRECTIONAL_SEQUENCE_RNN and BIDIRECTIONAL_SEQUENCE_RNN.

Every time step is LiteRT's kernel_utils::RnnBatchStep:
``h = activation(bias + x·Wᵀ [+ aux·W_auxᵀ] + h·Rᵀ)``, each product added to the float32
output in that order, the result written to the output and copied into the hidden state (a
variable tensor updated in place, so it carries over between invokes).

* Float32 weights: float32 products (LiteRT sums each row sequentially; numpy's BLAS order
  differs in the last bits only).
* Hybrid (float activations, int8 or uint8 weights): each operand row is quantized on the fly,
  symmetrically or, with ``asymmetric_quantize_inputs``, asymmetrically (hybrid.quantize_rows,
  LiteRT's BatchQuantizeFloats); the int32 dot product (minus row_sum x zero point) is
  converted to float32 and multiplied by ``input_scale * weight_scale`` (both float32, the
  product rounded first), then added to the output. uint8 weights are read as int8 — LiteRT's
  GetTensorData<int8_t> reinterprets their bytes and ignores the zero point. An all-zero
  operand (the whole batch of one step) is skipped, as IsZeroVector does (hybrid.is_zero_vector:
  that test lets NaNs pass for zeros, so it matters once a state has overflowed).

BIDIRECTIONAL_SEQUENCE_RNN reproduces its reference kernel's quirks:

* with ``time_major`` the hybrid kernel runs the whole forward and backward sequences
  ``max_time`` times over (its outer loop repeats them), the hidden states carrying on;
* an aux input without aux weights feeds the backward cell only when time-major (batch-major
  reads the input for both directions);
* with aux weights, the aux input is addressed with the main input's size as stride when
  time-major, and in the batch-major hybrid kernel — correct only when both sizes agree;
  numlite follows the same addresses and refuses a node where they leave the aux input.
"""
import numpy as np

from ..contract import Kernel
from ..hybrid import (apply_activation, fused_activation, hybrid_dot, is_zero_vector, nonfinite_ok, quantize_rows,
                      weight_row_sums)
from ..operands import arity, check_rank, check_type
from ..quant import exact_dtype, qparams
from ..registry import register

F32 = np.float32
WEIGHT_TYPES = ("FLOAT32", "INT8", "UINT8")


def _shape(node, spec, rank, what):
    """The shape of a required operand of the given rank."""
    if spec is None:
        raise node.error("%s is missing" % what)
    check_rank(node, spec, rank, what)
    return tuple(spec.shape)


class _Weights:
    """One weight operand [units, cols], kept as the [cols, units] right-hand side of the product.
    Hybrid weights also carry their per-tensor scale and (for asymmetric inputs) their row sums."""

    def __init__(self, node, spec, units, cols, hybrid, what):
        shape = _shape(node, spec, 2, what)
        if shape != (units, cols):
            raise node.error("%s must have shape %s, got %s" % (what, (units, cols), shape))
        self.hybrid = hybrid
        if hybrid:
            q = qparams(node, spec, what)
            if q.per_channel:
                # LiteRT reads TfLiteTensor.params, which is zero for per-channel tensors.
                raise node.unsupported("%s with per-channel scales (LiteRT's RNN kernels take one weight scale)"
                                       % what)
            self.scale = q.tensor_scale
            self.ctype = exact_dtype(cols, 128, 128)
        self.const = self._convert(spec.data) if spec.data is not None else None

    def _convert(self, w):
        if not self.hybrid:
            return np.ascontiguousarray(np.asarray(w, F32).T), None
        w8 = np.ascontiguousarray(w).view(np.int8)
        return np.ascontiguousarray(w8.astype(self.ctype).T), weight_row_sums(w8)

    def get(self, array):
        # LiteRT computes the row sums once per prepare; numlite recomputes them for runtime weights.
        return self.const if self.const is not None else self._convert(array)


class _Cell:
    """One direction of a recurrent layer: input weights, optional aux weights, recurrent
    weights, bias and hidden state, as operand indices of the node."""

    def __init__(self, node, inputs, idx, cols, aux_cols, hybrid, batch, prefix=""):
        i_w, i_r, i_b, i_h, i_aux = idx
        w = inputs[i_w]
        units = _shape(node, w, 2, prefix + "input weights")[0]
        self.units = units
        self.w = _Weights(node, w, units, cols, hybrid, prefix + "input weights")
        self.r = _Weights(node, inputs[i_r], units, units, hybrid, prefix + "recurrent weights")
        self.aux = (_Weights(node, inputs[i_aux], units, aux_cols, hybrid, prefix + "aux input weights")
                    if i_aux is not None else None)
        self.idx = idx
        bias = inputs[i_b]
        if _shape(node, bias, 1, prefix + "bias") != (units,):
            raise node.error("%sbias must have shape (%d,), got %s" % (prefix, units, bias.shape))
        check_type(node, bias, ("FLOAT32",), prefix + "bias")
        h = inputs[i_h]
        if _shape(node, h, 2, prefix + "hidden state") != (batch, units):
            raise node.error("%shidden state must have shape %s, got %s" % (prefix, (batch, units), h.shape))
        check_type(node, h, ("FLOAT32",), prefix + "hidden state")
        if not h.is_variable:
            # LiteRT fetches it with GetVariableInput, which refuses any other tensor.
            raise node.error("%shidden state must be a variable tensor" % prefix)
        self.hybrid = hybrid
        self.asymmetric = hybrid and bool(node.options.asymmetric_quantize_inputs)
        self.act = fused_activation(node, clamps_only=False)
        self.row_wise = False       # batch-major sequences: LiteRT steps each batch row alone

    def bind(self, inputs):
        """(bias, hidden state, prepared (matrix, row sums) of the input, recurrent and aux
        weights) for one eval."""
        i_w, i_r, i_b, i_h, i_aux = self.idx
        mats = (self.w.get(inputs[i_w]), self.r.get(inputs[i_r]),
                self.aux.get(inputs[i_aux]) if self.aux is not None else None)
        return np.asarray(inputs[i_b], F32), inputs[i_h], mats

    def _add(self, out, v, weights, mats):
        """out + v·Wᵀ, in LiteRT's float32 or hybrid arithmetic."""
        mat, row_sums = mats
        if not weights.hybrid:
            with nonfinite_ok():
                return out + np.matmul(np.asarray(v, F32), mat)
        # IsZeroVector skips the product for the batch of one RnnBatchStep call: all rows of a
        # time step, or (batch-major sequences) each row on its own.
        if self.row_wise:
            skip = np.array([is_zero_vector(row) for row in v], bool)
        else:
            skip = np.full(len(v), is_zero_vector(v))
        if skip.all():
            return out
        quantized = quantize_rows(v, self.asymmetric)
        dot = hybrid_dot(quantized, mat, row_sums if self.asymmetric else None)
        # scaling_factors[b] *= weight_scale, then result += float(dot) * scaling_factor.
        with nonfinite_ok():
            # (x86 keeps the first operand's NaN: LiteRT's compiled `*result += x` adds x + *result.)
            res = dot.astype(F32) * (quantized[1] * weights.scale).astype(F32)[:, None] + out
        return np.where(skip[:, None], out, res) if skip.any() else res

    def step(self, bound, x, aux, h):
        bias, _, (w, r, a) = bound
        out = np.repeat(bias[None, :], x.shape[0], axis=0)
        out = self._add(out, x, self.w, w)
        if aux is not None:
            out = self._add(out, aux, self.aux, a)
        out = self._add(out, h, self.r, r)
        apply_activation(out, self.act)
        return out

    def run(self, bound, xs, auxs, out, reverse=False):
        """A sequence in time-major views: xs [T, B, I], auxs [T, B, A] or None, out [T, B, U]."""
        h = bound[1]
        steps = range(xs.shape[0] - 1, -1, -1) if reverse else range(xs.shape[0])
        for s in steps:
            res = self.step(bound, xs[s], None if auxs is None else auxs[s], h)
            out[s] = res
            h[...] = res


def _weight_kind(node, specs):
    """Whether the node is hybrid; every weight operand must share one supported type."""
    specs = [s for s in specs if s is not None]
    for s in specs:
        check_type(node, s, WEIGHT_TYPES, "weights")
    types = {s.type_name for s in specs}
    if len(types) > 1:
        raise node.unsupported("weight operands of different types (%s)" % ", ".join(sorted(types)))
    return types != {"FLOAT32"}


def _check_io(node, x, outputs):
    check_type(node, x, ("FLOAT32",))
    for o in outputs:
        check_type(node, o, ("FLOAT32",), "output")


def _time_major_view(a, time_major):
    return a if time_major else a.transpose(1, 0, 2)


class _SingleRnn(Kernel):
    """RNN and UNIDIRECTIONAL_SEQUENCE_RNN: input, weights, recurrent weights, bias, hidden state."""

    rank = None

    def prepare(self, node, inputs, outputs):
        arity(node, inputs, outputs, 5)
        shape = _shape(node, inputs[0], self.rank, "input")
        _check_io(node, inputs[0], outputs)
        self.time_major = bool(node.options.time_major) if self.rank == 3 else True
        batch = shape[-2] if self.time_major else shape[0]
        hybrid = _weight_kind(node, inputs[1:3])
        self.cell = _Cell(node, inputs, (1, 2, 3, 4, None), shape[-1], 0, hybrid, batch)
        self.cell.row_wise = not self.time_major
        outputs[0].shape = shape[:-1] + (self.cell.units,)


@register("RNN", versions=(1, 3))
class Rnn(_SingleRnn):
    """One RNN step: input [batch, input_size] → output [batch, units]."""
    input_types = ("FLOAT32",)

    rank = 2

    def eval(self, node, inputs, outputs):
        bound = self.cell.bind(inputs)
        res = self.cell.step(bound, inputs[0], None, bound[1])
        bound[1][...] = res
        np.copyto(outputs[0], res)


@register("UNIDIRECTIONAL_SEQUENCE_RNN", versions=(1, 3))
class UnidirectionalSequenceRnn(_SingleRnn):
    """An RNN over a sequence: input [time, batch, in] (time_major) or [batch, time, in]."""
    input_types = ("FLOAT32",)

    rank = 3

    def eval(self, node, inputs, outputs):
        self.cell.run(self.cell.bind(inputs), _time_major_view(inputs[0], self.time_major), None,
                      _time_major_view(outputs[0], self.time_major))


@register("BIDIRECTIONAL_SEQUENCE_RNN", versions=(1, 3))
class BidirectionalSequenceRnn(Kernel):
    """Forward and backward RNNs over one sequence (operands: input, fw w/r/bias/state, bw
    w/r/bias/state, aux input, fw aux weights, bw aux weights). Outputs: fw and bw, or one
    merged [.., fw_units + bw_units] output with ``merge_outputs``. See the module docstring
    for the reference kernel's quirks reproduced here."""
    input_types = ("FLOAT32",)

    def prepare(self, node, inputs, outputs):
        o = node.options
        self.merge = bool(o.merge_outputs)
        # The aux input and the aux weights (operands 9-11) are optional.
        arity(node, inputs, outputs, 12, 1 if self.merge else 2, required=9)
        x = inputs[0]
        d0, d1, i = _shape(node, x, 3, "input")
        _check_io(node, x, outputs)
        self.time_major = tm = bool(o.time_major)
        t, b = (d0, d1) if tm else (d1, d0)
        aux, fw_aux_w, bw_aux_w = inputs[9], inputs[10], inputs[11]
        if (fw_aux_w is None) != (bw_aux_w is None):
            raise node.error("forward and backward aux weights must both be given or both be omitted")
        self.stacking = stacking = fw_aux_w is not None
        a = 0
        if aux is not None:
            check_type(node, aux, ("FLOAT32",), "aux input")
            ashape = _shape(node, aux, 3, "aux input")
            if stacking and ashape[:2] != (d0, d1):
                raise node.error("aux input shape %s does not match the input's leading dimensions %s"
                                 % (ashape, (d0, d1)))
            if not stacking and tm and ashape != (d0, d1, i):
                raise node.error("aux input (backward cell input) must have the input's shape %s, got %s"
                                 % ((d0, d1, i), ashape))
            a = ashape[2]
        elif stacking:
            raise node.error("aux weights given without an aux input")
        hybrid = self.hybrid = _weight_kind(node, [inputs[k] for k in (1, 2, 5, 6, 10, 11)])
        aux_idx = (10, 11) if stacking else (None, None)
        self.fw = _Cell(node, inputs, (1, 2, 3, 4, aux_idx[0]), i, a, hybrid, b, "forward ")
        self.bw = _Cell(node, inputs, (5, 6, 7, 8, aux_idx[1]), i, a, hybrid, b, "backward ")
        self.fw.row_wise = self.bw.row_wise = not tm
        self.bw_from_aux = aux is not None and not stacking and tm
        self.aux_index = self._aux_addresses(node, t, b, i, a, hybrid) if stacking else None
        uf, ub = self.fw.units, self.bw.units
        outputs[0].shape = (d0, d1, uf + ub if self.merge else uf)
        if not self.merge:
            outputs[1].shape = (d0, d1, ub)

    def _aux_addresses(self, node, t, b, i, a, hybrid):
        """Flat aux-input indexes [T, B, A] that LiteRT reads, or None when it reads the aux input
        as laid out (its sizes agree)."""
        if a == i:
            return None
        if self.time_major:
            step, row = i * b, a
        elif hybrid:
            step, row = i, i * t
        else:
            return None
        idx = (np.arange(t)[:, None, None] * step + np.arange(b)[None, :, None] * row
               + np.arange(a)[None, None, :])
        if idx.size and idx.max() >= t * b * a:
            raise node.error("aux input of size %d per step is addressed with the input's size %d, past its end"
                             % (a, i))
        return idx.astype(np.int32)   # below t * b * a, the size of a tensor

    def eval(self, node, inputs, outputs):
        tm = self.time_major
        x, aux = inputs[0], inputs[9]
        xs = _time_major_view(x, tm)
        bw_xs = aux if self.bw_from_aux else xs
        auxs = None
        if self.stacking:
            auxs = aux.reshape(-1)[self.aux_index] if self.aux_index is not None else _time_major_view(aux, tm)
        uf = self.fw.units
        fw_view = _time_major_view(outputs[0], tm)
        if self.merge:
            fw_view, bw_view = fw_view[..., :uf], fw_view[..., uf:]
        else:
            bw_view = _time_major_view(outputs[1], tm)
        fw, bw = self.fw.bind(inputs), self.bw.bind(inputs)
        # The time-major hybrid kernel repeats both sequences max_time times (an extra outer loop).
        repeats = xs.shape[0] if (self.hybrid and tm) else 1
        for _ in range(repeats):
            self.fw.run(fw, xs, auxs, fw_view)
            self.bw.run(bw, bw_xs, auxs, bw_view, reverse=True)
