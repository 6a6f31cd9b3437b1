"""Fully-integer LSTM kernels, bit-exact with LiteRT's reference resolver (BUILTIN_REF).

LSTM (full kernel, 20/24 operands) and UNIDIRECTIONAL_SEQUENCE_LSTM with int8 activations take
LiteRT's integer paths (lstm.cc / unidirectional_sequence_lstm.cc Prepare, lstm_eval.cc Eval):

* **8x8_16** (5 intermediate tensors): int8 matmuls rescaled into int16 gate pre-activations
  (intermediates 0-3 give their scales when layer normalisation is used, else Q3.12), int16 peephole
  terms, integer layer normalisation, gemmlowp int16 fixed-point sigmoid / tanh, an int16 cell state
  with a power-of-two scale, and an int8 hidden state (intermediate 4) optionally projected.
* **8x8_8** (12 intermediate tensors, LSTM only): int8 matmul outputs added in int16, float layer
  normalisation and float sigmoid / tanh on int16 values, Q0.15 cell state, projection required.
  LiteRT's EvalInteger8x8_8 always behaves as a CIFG LSTM, ignores peepholes and reads a few
  parameters from the wrong slots; we reproduce exactly what it computes.

LSTM with ``kernel_type`` BASIC (5 operands, 4 outputs) on uint8 runs LiteRT's quantized LstmCell<4>:
one uint8 fully-connected layer into Q3.12 gates, gemmlowp int16 fixed point, Q4.11 state.

The integer arithmetic follows LiteRT's portable_tensor_utils (the SSE build dispatches every integer
LSTM helper to the portable code) and the scalar int16 specialisations of gemmlowp's fixedpoint.h.
MultiplyByQuantizedMultiplier is the int32 double-rounding variant throughout, except for the 8x8_8
projection, whose int64 accumulator selects the int64 overload (multiplier reduced to 16 bits), and
the basic kernel's fully-connected layer, which goes through cpu_backend_gemm (halves of the final
right shift round up instead of away from zero).
"""
import functools

import numpy as np

from .. import fixedpoint as fp
from ..contract import Kernel
from ..fixedpoint_nonlinear import (Q15, checked_log2, exp_on_negative_values, inv_sqrt_quantized_multiplier, libm,
                                   newton_half_reciprocal, one_over_one_plus_x_for_x_in_0_1, rounding_divide_by_pot16,
                                   srdhm16, wrap_int16)
from ..operands import arity
from ..quant import exact_dtype, exact_matmul, qparams
from ..registry import register
from .slots import (BIASES, CELL_STATE, FORGET_LAYER_NORM, INPUT, INPUT_WEIGHTS, LAYER_NORMS, LSTM_KERNEL_BASIC,
                    OUTPUT_STATE, PEEPHOLES, PROJECTION_BIAS, PROJECTION_W, RECURRENT_WEIGHTS, check_operand_count,
                    check_projection_size, check_state, operand)

F32 = np.float32
I16_MIN, I16_MAX = -(1 << 15), (1 << 15) - 1
I_GATE, F_GATE, C_GATE, O_GATE = range(4)       # the operand order of slots.GATES


# ---------------------------------------------------------------------------------------------
# gemmlowp logistic / tanh on int16 raws (fixedpoint_nonlinear's generic gemmlowp math, Q15 width)
# ---------------------------------------------------------------------------------------------

def logistic16(a, integer_bits):
    """gemmlowp::logistic on FixedPoint<int16, integer_bits>, result Q0.15."""
    a = np.asarray(a, np.int64)
    positive = a > 0
    abs_a = np.where(positive, a, wrap_int16(-a))
    if_positive = one_over_one_plus_x_for_x_in_0_1(exp_on_negative_values(wrap_int16(-abs_a), integer_bits, Q15), Q15)
    if_negative = wrap_int16(I16_MAX - if_positive)
    return np.where(a == 0, Q15.const(1 << 30), np.where(positive, if_positive, if_negative))


def tanh16(a, integer_bits):
    """gemmlowp::tanh on FixedPoint<int16, integer_bits>, result Q0.15: (1 - e) / (1 + e) with
    e = exp(-2|a|), as 1/((1+e)/2) - 1 in Q2 brought to Q0."""
    a = np.asarray(a, np.int64)
    negative = a < 0
    n = np.where(negative, a, wrap_int16(-a))
    t = newton_half_reciprocal(exp_on_negative_values(n, integer_bits + 1, Q15), Q15)
    t = Q15.multiply_by_pot(wrap_int16(t - Q15.const(1 << 29)), 2)
    return np.where(a == 0, 0, np.where(negative, wrap_int16(-t), t))


_ALL_INT16 = np.arange(I16_MIN, I16_MAX + 1, dtype=np.int64)


def _frozen(table):
    table = np.asarray(table, np.int64)
    table.flags.writeable = False
    return table


# Activations of int16 inputs are tabulated once over all 65536 values and then looked up.
@functools.lru_cache(maxsize=None)
def sigmoid_table(integer_bits):
    return _frozen(logistic16(_ALL_INT16, integer_bits))


@functools.lru_cache(maxsize=None)
def tanh_table(integer_bits):
    return _frozen(tanh16(_ALL_INT16, integer_bits))


@functools.lru_cache(maxsize=None)
def sigmoid_float_table():
    """PortableApplySigmoidFloat: x * 2^-12 in float32, 1 / (1 + expf(-x)), * 2^15 truncated."""
    x = F32(_ALL_INT16) * F32(2.0 ** -12)
    y = F32(1) / (F32(1) + libm("expf", -x))
    return _frozen(np.clip(fp.float_to_int32_x86(y * F32(32768), np.int64), I16_MIN, I16_MAX))


@functools.lru_cache(maxsize=None)
def tanh_float_table(integer_bits):
    """PortableApplyTanhFloat: x * 2^integer_bits as float32, tanhf, * 2^15 truncated."""
    x = F32(_ALL_INT16 * 2.0 ** integer_bits)
    y = libm("tanhf", x)
    return _frozen(np.clip(fp.float_to_int32_x86(y * F32(32768), np.int64), I16_MIN, I16_MAX))


def lookup16(table, x):
    return table[np.asarray(x, np.int64) - I16_MIN]


# ---------------------------------------------------------------------------------------------
# portable_tensor_utils integer helpers
# ---------------------------------------------------------------------------------------------

def _trunc_div(a, b):
    """C++ integer division by a positive ``b`` (truncates toward zero)."""
    q = np.abs(a) // b
    return np.where(a < 0, -q, q)


def _sat(x, dtype):
    lo, hi = fp.dtype_range(dtype)
    return np.clip(x, lo, hi)


class IntMatrix:
    """A constant int8 weight matrix [rows, cols], kept transposed in a float type in which every
    product sum is exact; products are then wrapped to int32 like LiteRT's accumulators."""

    def __init__(self, weights, max_input):
        w = np.asarray(weights, np.int64)
        self.rows, self.cols = w.shape
        self.dtype = exact_dtype(self.cols, max(int(np.abs(w).max()) if w.size else 0, 1), max_input)
        self.t = w.T.astype(self.dtype)
        self.row_sums = w.sum(axis=1)

    def dot(self, x):
        return fp.wrap_int32(exact_matmul(np.asarray(x).astype(self.dtype), self.t))


def matmul_accumulate(matrix, x, bias, multiplier, shift, output_zp, acc, dtype):
    """PortableMatrixBatchVectorMultiplyAccumulate (int8 × int8 → int16 or int8 output):
    sat(MBQM(bias + Σ x·w) + output_zp + acc); int32 sums wrap."""
    scaled = fp.multiply_by_quantized_multiplier(fp.wrap_int32(bias + matrix.dot(x)), multiplier, shift)
    return _sat(scaled + output_zp + acc, dtype)


def peephole_accumulate(gate, weights, cell, multiplier, shift, v_size):
    """PortableVectorBatchVectorCwiseProductAccumulate as CalculateLstmGateInteger8x8_16 calls it:
    with v_size = n_output (not n_cell), walking the flattened gate and cell arrays of the call.
    With n_output < n_cell only the first n_batch * n_output flat entries get a peephole term,
    with weight index (flat index mod n_output); equal sizes give the plain per-cell product."""
    flat = gate.reshape(-1).copy()
    n = gate.shape[0] * v_size
    prod = fp.multiply_by_quantized_multiplier(weights[np.arange(n) % v_size] * cell.reshape(-1)[:n],
                                               multiplier, shift)
    flat[:n] = _sat(prod + flat[:n], np.int16)
    return flat.reshape(gate.shape)


def layer_norm_integer(x, weights, bias, scale_a, scale_b, variance_guard):
    """PortableApplyLayerNorm: mean and variance in int64 with a 2^10 resolution factor, 1/stddev
    from GetInvSqrtQuantizedMultiplierExp, then weights, bias and the layer-norm scale (+12 bits)."""
    n = x.shape[-1]
    total = x.sum(axis=-1)
    total_sq = (x * x).sum(axis=-1)
    mean = _trunc_div(total * 1024, n)
    # LiteRT divides 2^20 by n_input first (exact only for power-of-two sizes).
    variance = total_sq * ((1 << 20) // n) - mean * mean
    variance = fp.wrap_int32(_trunc_div(variance, 1 << 20))
    variance = np.where(variance < 1, variance_guard, variance)
    inv_a, inv_b = inv_sqrt_quantized_multiplier(variance)
    shifted = fp.wrap_int32(1024 * x - mean[:, None])
    rescaled = fp.multiply_by_quantized_multiplier(shifted, inv_a[:, None], inv_b[:, None])
    # rescaled * weight + bias is int32 arithmetic in the C++ source, but it overflows for small
    # variances and LiteRT's build evaluates it in 64 bits (the signed overflow is undefined):
    # no wrap here, only at the int32 cast after the division.
    val = rescaled * weights + bias
    val = fp.wrap_int32(_trunc_div(val + np.where(val > 0, 512, -512), 1024))
    return _sat(fp.multiply_by_quantized_multiplier(val, scale_a, scale_b + 12), np.int16)


def layer_norm_float(x, weights, bias, scale_a, scale_b):
    """PortableApplyLayerNormFloat (8x8_8): float32 statistics summed in order, output in Q3.12."""
    n = x.shape[-1]
    scale = F32(scale_a * 2.0 ** (scale_b - 31))
    bias_scale = F32(2.0 ** -10) * scale
    v = x.astype(F32)
    total = np.add.accumulate(v, axis=-1, dtype=F32)[:, -1]
    total_sq = np.add.accumulate(v * v, axis=-1, dtype=F32)[:, -1]
    mean = total / F32(n)
    variance = total_sq / F32(n) - mean * mean
    with np.errstate(invalid="ignore", divide="ignore"):
        inv = np.where(variance == 0, F32(1) / np.sqrt(F32(1e-8)), F32(1) / np.sqrt(variance)).astype(F32)
        normalized = (v - mean[:, None]) * inv[:, None]
        weighted = normalized * weights.astype(F32) * scale + bias.astype(F32) * bias_scale
        q = fp.float_to_int32_x86(fp.round_half_away(weighted * F32(4096)), np.int64)
    return _sat(q, np.int16)


def cwise_mul_shift(a, b, shift):
    """PortableCwiseMul (int16 output): RoundingDivideByPOT(a * b, shift), stored into an int16."""
    return wrap_int16(fp.rounding_divide_by_pot(a * b, shift))


def cwise_mul_requantize(a, b, multiplier, shift, zero_point):
    """PortableCwiseMul (int8 output): MBQM(a * b) + zero point, clamped to int8."""
    return _sat(fp.multiply_by_quantized_multiplier(a * b, multiplier, shift) + zero_point, np.int8)


def clip_symmetric(x, clip):
    """PortableCwiseClipping; a clip value of 0 disables it."""
    return np.clip(x, -clip, clip) if clip > 0 else x


def update_cell(cell, input_gate, forget_gate, cell_gate, cell_scale, clip):
    """UpdateLstmCellInteger: f·c >> 15 plus i·g >> (30 + cell_scale), i = 1 - f with CIFG
    (input_gate None); saturating add, then the optional clip."""
    cell = cwise_mul_shift(forget_gate, cell, 15)
    if input_gate is None:
        input_gate = wrap_int16(I16_MAX - forget_gate)
    update = cwise_mul_shift(input_gate, cell_gate, 30 + cell_scale)
    return clip_symmetric(_sat(cell + update, np.int16), clip)


# ---------------------------------------------------------------------------------------------
# Prepare-time parameters
# ---------------------------------------------------------------------------------------------

def _qm(real):
    """QuantizeMultiplier of a float (LiteRT stores the effective scales as float before)."""
    return fp.quantize_multiplier_scalar(float(F32(real)))


def _scaled_ratio(a, b, c):
    """a * b / c evaluated in float32, as LiteRT's Prepare does with float variables."""
    return F32(F32(F32(a) * F32(b)) / F32(c))


def _per_tensor(node, spec, what):
    """(scale as float32, zero point) of a per-tensor quantized tensor."""
    q = qparams(node, spec, what)
    if q.per_channel:
        # LiteRT's legacy params.scale is 0 for per-channel tensors: every product would vanish.
        raise node.unsupported("%s: per-channel quantization is not supported by the integer LSTM" % what)
    return q.pair


def _intermediate_params(node, k):
    inter = node.intermediates
    spec = inter[k] if k < len(inter) else None
    return qparams(node, spec, "intermediate tensor %d" % k).pair


def _check(node, spec, what, types, shape=None):
    if spec.type_name not in types:
        raise node.unsupported("%s type %s (integer LSTM needs %s)" % (what, spec.type_name, "/".join(types)))
    if shape is not None and tuple(spec.shape) != tuple(shape):
        raise node.error("%s has shape %s, expected %s" % (what, tuple(spec.shape), tuple(shape)))


def _constant(node, spec, what):
    if spec.data is None:
        raise node.unsupported("%s must be constant (LiteRT folds it into biases at prepare)" % what)
    return np.asarray(spec.data, np.int64)


# ---------------------------------------------------------------------------------------------
# LSTM / UNIDIRECTIONAL_SEQUENCE_LSTM, int8 activations
# ---------------------------------------------------------------------------------------------

# LiteRT's integer LSTMs are int8 only: int16 inputs fall into its float checks and fail, as they
# do in numlite's float kernel.
@register("LSTM", versions=(1, 4), types=("INT8",))
@register("UNIDIRECTIONAL_SEQUENCE_LSTM", versions=(1, 3), types=("INT8",))
class IntegerLstm(Kernel):
    """LiteRT's EvalInteger8x8_16 (5 intermediates) and, for LSTM, EvalInteger8x8_8 (12)."""

    def prepare(self, node, inputs, outputs):
        o = node.options
        sequence = node.opcode == "UNIDIRECTIONAL_SEQUENCE_LSTM"
        if not sequence and o.kernel_type == LSTM_KERNEL_BASIC:
            raise node.unsupported("the basic LSTM kernel has no int8 version (uint8 only)")
        check_operand_count(node, inputs)
        if len(outputs) != 1:
            raise node.error("expected 1 output, got %d" % len(outputs))
        x = inputs[INPUT]
        rank = 3 if sequence else 2
        if x.shape is None or len(x.shape) != rank:
            raise node.unsupported("integer path needs a rank-%d input, got %s" % (rank, x.shape))
        if sequence:
            self.time_major = bool(o.time_major)
            n_batch = x.shape[1] if self.time_major else x.shape[0]
        else:
            self.time_major = True
            n_batch = x.shape[0]
        n_input = x.shape[-1]

        for i in INPUT_WEIGHTS[1:] + RECURRENT_WEIGHTS[1:] + BIASES[1:]:
            if operand(inputs, i) is None:
                raise node.error("missing required operand %d" % i)
        w_out = inputs[INPUT_WEIGHTS[O_GATE]]
        r_out = inputs[RECURRENT_WEIGHTS[O_GATE]]
        if len(w_out.shape) != 2 or len(r_out.shape) != 2:
            raise node.unsupported("integer path needs 2-D weights (no diagonal recurrent weights)")
        n_cell, n_output = w_out.shape[0], r_out.shape[1]
        self.n_batch, self.n_input, self.n_cell, self.n_output = n_batch, n_input, n_cell, n_output

        cifg = operand(inputs, INPUT_WEIGHTS[I_GATE]) is None
        if cifg != (operand(inputs, RECURRENT_WEIGHTS[I_GATE]) is None):
            raise node.error("input-gate weights must be all present or all absent")
        if cifg != (operand(inputs, BIASES[I_GATE]) is None):
            raise node.error("input gate bias must be present exactly when the input gate is")
        self.gates = [g for g in range(4) if not (cifg and g == I_GATE)]
        peep = [operand(inputs, PEEPHOLES[g]) if PEEPHOLES[g] is not None else None for g in range(4)]
        self.peephole = peep[O_GATE] is not None
        # All or none; a CIFG LSTM may still carry an (unused) cell-to-input vector with the others.
        if any((peep[g] is None) == self.peephole for g in (F_GATE, O_GATE)) or \
                ((peep[I_GATE] is None) == self.peephole and not (cifg and self.peephole)):
            raise node.error("peephole weights must be all present or all absent")
        self.projection = operand(inputs, PROJECTION_W) is not None
        if operand(inputs, PROJECTION_BIAS) is not None and not self.projection:
            raise node.error("projection bias without projection weights")
        self.layer_norm = len(inputs) == 24 and operand(inputs, FORGET_LAYER_NORM) is not None

        _check(node, x, "input", ("INT8",))
        for g in self.gates:
            _check(node, inputs[INPUT_WEIGHTS[g]], "input weights", ("INT8",), (n_cell, n_input))
            _check(node, inputs[RECURRENT_WEIGHTS[g]], "recurrent weights", ("INT8",), (n_cell, n_output))
            _check(node, inputs[BIASES[g]], "gate bias", ("INT32",), (n_cell,))
            if self.peephole and g != C_GATE:
                _check(node, peep[g], "peephole weights", ("INT16",), (n_cell,))
            if self.layer_norm:
                if operand(inputs, LAYER_NORMS[g]) is None:
                    raise node.error("layer norm coefficients missing for gate %d" % g)
                _check(node, inputs[LAYER_NORMS[g]], "layer norm coefficients", ("INT16",), (n_cell,))
        if self.layer_norm and cifg and operand(inputs, LAYER_NORMS[I_GATE]) is not None:
            raise node.error("CIFG LSTM with input-gate layer norm coefficients")
        if self.projection:
            _check(node, inputs[PROJECTION_W], "projection weights", ("INT8",), (n_output, n_cell))
            if operand(inputs, PROJECTION_BIAS) is not None:
                _check(node, inputs[PROJECTION_BIAS], "projection bias", ("INT32",), (n_output,))
        check_projection_size(node, self.projection, n_output, n_cell)
        out_state, cell_state = operand(inputs, OUTPUT_STATE), operand(inputs, CELL_STATE)
        check_state(node, out_state, n_batch * n_output, "output state")
        check_state(node, cell_state, n_batch * n_cell, "cell state")
        _check(node, out_state, "output state", ("INT8",))
        _check(node, cell_state, "cell state", ("INT16",))
        _check(node, outputs[0], "output", ("INT8",))
        if o.cell_clip < 0 or o.proj_clip < 0:
            raise node.error("clip values must be non-negative")

        n_inter = len(node.intermediates)
        if n_inter == 5:
            self._prepare_8x8_16(node, inputs, outputs)
        elif n_inter == 12 and not sequence:
            self._prepare_8x8_8(node, inputs, outputs)
        else:
            raise node.error("integer LSTM needs 5 intermediate tensors%s, got %d"
                             % ("" if sequence else " (or 12)", n_inter))
        outputs[0].shape = tuple(x.shape[:-1]) + (n_output,)

    # -- shared prepare pieces ---------------------------------------------------------------

    def _common_scales(self, node, inputs, outputs):
        """Scales, zero points and clips both integer variants use; returns the int64 input and
        recurrent weights per gate (prepare-time only: the kernel keeps its own matrices)."""
        self.in_scale, self.in_zp = _per_tensor(node, inputs[INPUT], "input")
        self.state_scale, self.state_zp = _per_tensor(node, inputs[OUTPUT_STATE], "output state")
        self.cell_q = _per_tensor(node, inputs[CELL_STATE], "cell state")
        self.out_scale = _per_tensor(node, outputs[0], "output")[0]
        w_in = {g: _constant(node, inputs[INPUT_WEIGHTS[g]], "input weights") for g in self.gates}
        w_rec = {g: _constant(node, inputs[RECURRENT_WEIGHTS[g]], "recurrent weights") for g in self.gates}
        self.s_in = {g: _per_tensor(node, inputs[INPUT_WEIGHTS[g]], "input weights")[0] for g in self.gates}
        self.s_rec = {g: _per_tensor(node, inputs[RECURRENT_WEIGHTS[g]], "recurrent weights")[0] for g in self.gates}
        self.ln_scale = {g: (_per_tensor(node, inputs[LAYER_NORMS[g]], "layer norm")[0] if self.layer_norm else F32(1))
                         for g in self.gates}
        self.ln_qm = {g: _qm(self.ln_scale[g]) for g in self.gates}
        clip = F32(node.options.proj_clip)
        self.proj_clip = int(fp.float_to_int32_x86(np.clip(clip / self.out_scale, -128, 127))) if clip > 0 else 0
        return w_in, w_rec

    def _quantized_cell_clip(self, node, limit=None):
        clip = F32(node.options.cell_clip)
        if not clip > 0 or (limit is not None and not clip < limit):
            return 0
        return int(fp.float_to_int32_x86(np.clip(clip / self.cell_q[0], -32768, 32767)))

    # -- 8x8_16 ------------------------------------------------------------------------------

    def _prepare_8x8_16(self, node, inputs, outputs):
        """PopulateQuantizedLstmParams8x8_16 and PopulatePrecomputedZPTimesWeightsWithBias."""
        self.scheme = "8x8_16"
        w_in, w_rec = self._common_scales(node, inputs, outputs)
        gates = self.gates
        inter = [(_intermediate_params(node, k) if self.layer_norm else (F32(2.0 ** -12), 0)) for k in range(4)]
        hidden_scale, self.hidden_zp = _intermediate_params(node, 4)
        # LSTM's Prepare ignores the status of PopulateQuantizedLstmParams8x8_16: when these checks
        # fail LiteRT logs an error and runs with zeroed parameters (a constant output).
        ok, cell_scale = checked_log2(self.cell_q[0])
        if not ok:
            raise node.unsupported("cell state scale %g is not a power of two" % self.cell_q[0])
        if node.opcode == "LSTM" and cell_scale > -9:
            raise node.unsupported("cell state scale 2^%d: LiteRT requires at most 2^-9" % cell_scale)
        # ApplyTanh dispatches integer bits 0..6 only; otherwise LiteRT leaves its scratch unwritten.
        if not 0 <= 15 + cell_scale <= 6:
            raise node.unsupported("cell state scale 2^%d outside LiteRT's tanh range 2^-15..2^-9" % cell_scale)
        self.cell_scale = cell_scale
        self.cell_clip = self._quantized_cell_clip(node)

        m_in, s_in, m_rec, s_rec, b_in, b_rec = [], [], [], [], [], []
        bias = {g: _constant(node, inputs[BIASES[g]], "gate bias") for g in gates}
        for g in gates:
            q_in = _qm(_scaled_ratio(self.s_in[g], self.in_scale, inter[g][0]))
            q_rec = _qm(_scaled_ratio(self.s_rec[g], self.state_scale, inter[g][0]))
            for lst, v in ((m_in, q_in[0]), (s_in, q_in[1]), (m_rec, q_rec[0]), (s_rec, q_rec[1])):
                lst.append(np.full(self.n_cell, v))
            # With layer norm the gate bias is added after normalisation, not folded here.
            folded = np.zeros(self.n_cell, np.int64) if self.layer_norm else bias[g]
            b_in.append(fp.wrap_int32(folded + w_in[g].sum(axis=1) * -self.in_zp))
            b_rec.append(fp.wrap_int32(w_rec[g].sum(axis=1) * -self.state_zp))
        self.in_matrix = IntMatrix(np.concatenate([w_in[g] for g in gates]), 128)
        self.rec_matrix = IntMatrix(np.concatenate([w_rec[g] for g in gates]), 128)
        self.in_q = (np.concatenate(b_in), np.concatenate(m_in), np.concatenate(s_in))
        self.rec_q = (np.concatenate(b_rec), np.concatenate(m_rec), np.concatenate(s_rec))

        if self.peephole:
            peep_scales = {g: _per_tensor(node, inputs[PEEPHOLES[g]], "peephole weights")[0]
                           for g in gates if g != C_GATE}
            # std::pow(2, cell_scale) is a double: this product is evaluated in double.
            self.peep_qm = {g: _qm(2.0 ** cell_scale * float(peep_scales[g]) / float(inter[g][0]))
                            for g in gates if g != C_GATE}
            if self.n_output > self.n_cell:
                raise node.unsupported("peephole LSTM with more outputs than cells (LiteRT reads past its buffers)")
        self.variance_guard = {g: max(1, int(fp.float_to_int32_x86(F32(10000) * self.ln_scale[g]))) for g in gates}
        self.hidden_qm = _qm(2.0 ** -15 / float(hidden_scale) * 2.0 ** -15)
        if self.projection:
            w_proj = _constant(node, inputs[PROJECTION_W], "projection weights")
            self.proj_qm = _qm(_scaled_ratio(_per_tensor(node, inputs[PROJECTION_W], "projection weights")[0],
                                             hidden_scale, self.state_scale))
            p_bias = operand(inputs, PROJECTION_BIAS)
            p_bias = np.zeros(self.n_output, np.int64) if p_bias is None else _constant(node, p_bias, "projection bias")
            self.proj_matrix = IntMatrix(w_proj, 128)
            self.proj_bias = fp.wrap_int32(p_bias + self.proj_matrix.row_sums * self.hidden_zp)

    def _gate_8x8_16(self, g, pre, cell, inputs, flat):
        if self.peephole and g != C_GATE:
            w = np.asarray(inputs[PEEPHOLES[g]], np.int64)
            m, s = self.peep_qm[g]
            if flat or self.n_output == self.n_cell:
                pre = peephole_accumulate(pre, w, cell, m, s, self.n_output)
            else:   # batch-major sequences run one batch row per call
                pre = np.concatenate([peephole_accumulate(pre[b:b + 1], w, cell[b:b + 1], m, s, self.n_output)
                                      for b in range(pre.shape[0])]) if pre.shape[0] else pre
        if self.layer_norm:
            a, b = self.ln_qm[g]
            pre = layer_norm_integer(pre, np.asarray(inputs[LAYER_NORMS[g]], np.int64),
                                     np.asarray(inputs[BIASES[g]], np.int64), a, b, self.variance_guard[g])
        if g == C_GATE:
            return lookup16(tanh_table(3), pre)
        return lookup16(sigmoid_table(3), pre)

    def _step_8x8_16(self, x, h, cell, inputs, flat):
        """LstmStepInteger8x8_16 for all batch rows of one time step; returns (output, cell)."""
        n = self.n_cell
        pre = matmul_accumulate(self.in_matrix, x, self.in_q[0], self.in_q[1], self.in_q[2], 0, 0, np.int16)
        pre = matmul_accumulate(self.rec_matrix, h, self.rec_q[0], self.rec_q[1], self.rec_q[2], 0, pre, np.int16)
        parts = {g: pre[:, k * n:(k + 1) * n] for k, g in enumerate(self.gates)}
        gate = {}
        for g in (I_GATE, F_GATE, C_GATE):
            if g in parts:
                gate[g] = self._gate_8x8_16(g, parts[g], cell, inputs, flat)
        cell = update_cell(cell, gate.get(I_GATE), gate[F_GATE], gate[C_GATE], self.cell_scale, self.cell_clip)
        out_gate = self._gate_8x8_16(O_GATE, parts[O_GATE], cell, inputs, flat)
        t = lookup16(tanh_table(15 + self.cell_scale), cell)
        m, s = self.hidden_qm
        if self.projection:
            # LiteRT stores the hidden state with -zero point (b/246629213) and folds +zp into the bias.
            hidden = cwise_mul_requantize(out_gate, t, m, s, -self.hidden_zp)
            out = matmul_accumulate(self.proj_matrix, hidden, self.proj_bias, self.proj_qm[0], self.proj_qm[1],
                                    self.state_zp, 0, np.int8)
            out = clip_symmetric(out, self.proj_clip)
        else:
            out = cwise_mul_requantize(out_gate, t, m, s, self.hidden_zp)
        return out, cell

    # -- 8x8_8 -------------------------------------------------------------------------------

    def _prepare_8x8_8(self, node, inputs, outputs):
        """PopulateQuantizedLstmParams8x8_8. EvalInteger8x8_8 dereferences the layer norm
        coefficients, the projection weights and the projection bias unconditionally."""
        self.scheme = "8x8_8"
        if not (self.layer_norm and self.projection and operand(inputs, PROJECTION_BIAS) is not None):
            raise node.unsupported("LiteRT's 8x8_8 integer LSTM needs layer norm, projection weights and "
                                   "projection bias")
        w_in, w_rec = self._common_scales(node, inputs, outputs)
        if self.cell_q[0] != F32(2.0 ** -15):
            raise node.error("8x8_8 integer LSTM needs a cell state scale of 2^-15")
        self.cell_scale = -15
        self.cell_clip = self._quantized_cell_clip(node, limit=1.0)
        inter = [_intermediate_params(node, k) for k in range(12)]
        scale = [s for s, _ in inter]
        zp = [z for _, z in inter]
        ratios = [(1, 0), (2, 0), (4, 3), (5, 3), (7, 6), (8, 6), (10, 9), (11, 9)]
        ia, ib = zip(*[_qm(F32(scale[a]) / F32(scale[b])) for a, b in ratios])
        # The output gate's recurrent term reads intermediate_scale_a[11] of an 8-element array:
        # in IntegerLstmParameter that is intermediate_scale_b[3]. Its zero point is zp[7], not zp[11].
        layout = {F_GATE: ((4, 2, 4), (5, 3, 5)), C_GATE: ((7, 4, 7), (8, 5, 8)),
                  O_GATE: ((10, 6, 10), (11, None, 7))}
        self.gate88 = {}
        for g, ((in_inter, in_ab, in_zp), (rec_inter, rec_ab, rec_zp)) in layout.items():
            in_eff = _qm(_scaled_ratio(self.s_in[g], self.in_scale, scale[in_inter]))
            rec_eff = _qm(_scaled_ratio(self.s_rec[g], self.state_scale, scale[rec_inter]))
            in_sum = (ia[in_ab], ib[in_ab])
            rec_sum = (ia[rec_ab], ib[rec_ab]) if rec_ab is not None else (ib[3], ib[7])
            self.gate88[g] = (IntMatrix(w_in[g], 255), in_eff, in_sum, _int8(zp[in_zp]),
                              IntMatrix(w_rec[g], 255), rec_eff, rec_sum, _int8(zp[rec_zp]))
        proj_scale = _per_tensor(node, inputs[PROJECTION_W], "projection weights")[0]
        self.proj_qm = _qm(float(proj_scale) * 2.0 ** -15 / float(self.state_scale))
        self.proj_matrix = IntMatrix(_constant(node, inputs[PROJECTION_W], "projection weights"), 1 << 15)
        self.proj_bias = _constant(node, inputs[PROJECTION_BIAS], "projection bias")

    def _gate_8x8_8(self, g, x, h, inputs):
        w_in, in_eff, in_sum, in_zp, w_rec, rec_eff, rec_sum, rec_zp = self.gate88[g]
        # PortableMatrixBatchVectorMultiply: int8 output with the intermediate's (int8) zero point.
        s0 = _sat(fp.multiply_by_quantized_multiplier(w_in.dot(x - self.in_zp), *in_eff) + in_zp, np.int8)
        s1 = _sat(fp.multiply_by_quantized_multiplier(w_rec.dot(h - self.state_zp), *rec_eff) + rec_zp, np.int8)
        # PortableTwoGateSaturatingAdd
        pre = _sat(fp.multiply_by_quantized_multiplier(s0 - in_zp, *in_sum)
                   + fp.multiply_by_quantized_multiplier(s1 - rec_zp, *rec_sum), np.int16)
        a, b = self.ln_qm[g]
        pre = layer_norm_float(pre, np.asarray(inputs[LAYER_NORMS[g]], np.int64),
                               np.asarray(inputs[BIASES[g]], np.int64), a, b)
        if g == C_GATE:
            return lookup16(tanh_float_table(-12), pre)
        return lookup16(sigmoid_float_table(), pre)

    def _step_8x8_8(self, x, h, cell, inputs, flat):
        """LstmStepInteger8x8_8: always CIFG, no peepholes."""
        forget = self._gate_8x8_8(F_GATE, x, h, inputs)
        cell_gate = self._gate_8x8_8(C_GATE, x, h, inputs)
        cell = update_cell(cell, None, forget, cell_gate, -15, self.cell_clip)
        out_gate = self._gate_8x8_8(O_GATE, x, h, inputs)
        hidden = cwise_mul_shift(out_gate, lookup16(tanh_float_table(-15), cell), 15)
        # PortableMatrixBatchVectorMultiply (int16 × int8): an int64 accumulator, hence the int64
        # MultiplyByQuantizedMultiplier overload.
        acc = self.proj_bias + exact_matmul(hidden.astype(self.proj_matrix.dtype), self.proj_matrix.t)
        out = _sat(fp.multiply_by_quantized_multiplier_int64(acc, *self.proj_qm) + self.state_zp, np.int8)
        return clip_symmetric(out, self.proj_clip), cell

    # -- eval --------------------------------------------------------------------------------

    def eval(self, node, inputs, outputs):
        x = np.asarray(inputs[INPUT], np.int64)
        state_arr, cell_arr = inputs[OUTPUT_STATE], inputs[CELL_STATE]
        h = state_arr.reshape(self.n_batch, self.n_output).astype(np.int64)
        cell = cell_arr.reshape(self.n_batch, self.n_cell).astype(np.int64)
        step = self._step_8x8_16 if self.scheme == "8x8_16" else self._step_8x8_8
        out = outputs[0]
        if x.ndim == 2:
            h, cell = step(x, h, cell, inputs, True)
            out[...] = h
        else:
            # Batch-major sequences: LiteRT runs each batch row on its own (n_batch = 1 per step),
            # which only matters for the peephole indexing; rows are otherwise independent.
            seq = x if self.time_major else x.transpose(1, 0, 2)
            res = out if self.time_major else out.transpose(1, 0, 2)
            for t in range(seq.shape[0]):
                h, cell = step(seq[t], h, cell, inputs, self.time_major)
                res[t] = h
        state_arr[...] = h.reshape(state_arr.shape)
        cell_arr[...] = cell.reshape(cell_arr.shape)


def _int8(v):
    """A zero point passed through an int8_t parameter."""
    return int(((int(v) + 128) & 0xFF) - 128)


# ---------------------------------------------------------------------------------------------
# LSTM basic kernel (kernel_type BASIC), uint8
# ---------------------------------------------------------------------------------------------

@register("LSTM", versions=(1, 4), types=("UINT8",))
class QuantizedBasicLstm(Kernel):
    """LiteRT's lstm::basic kernel on uint8: LstmCell<StateIntegerBits = 4>.

    Operands: input, previous activation, weights [4·depth, input + depth], int32 bias, previous
    state; outputs: activation, state, the concatenated input and the int16 gate pre-activations.
    Activations are read as (v - 128) / 128 whatever their quantization says; the state is Q4.11.
    """

    def prepare(self, node, inputs, outputs):
        if node.options.kernel_type != LSTM_KERNEL_BASIC:
            raise node.unsupported("uint8 input is only supported by the basic LSTM kernel")
        arity(node, inputs, outputs, 5, 4)
        x, prev_activ, weights, bias, prev_state = inputs
        want = (("UINT8", "UINT8", "UINT8", "INT32", "INT16"), ("UINT8", "INT16", "UINT8", "INT16"))
        for specs, types in ((inputs, want[0]), (outputs, want[1])):
            for s, t in zip(specs, types):
                if s.type_name != t:
                    raise node.unsupported("basic LSTM types must be uint8/int32/int16 as LiteRT's LstmCell; "
                                           "got %s" % s.type_name)
        if len(x.shape) != 2 or len(prev_activ.shape) != 2 or prev_activ.shape[0] != x.shape[0]:
            raise node.error("input and previous activation must be [batch, depth] with equal batches")
        n_batch, n_input = x.shape
        depth = prev_activ.shape[1]
        if tuple(weights.shape) != (4 * depth, n_input + depth) or tuple(bias.shape) != (4 * depth,) \
                or tuple(prev_state.shape) != (n_batch, depth):
            raise node.error("basic LSTM operand shapes do not match")
        ok, log2 = checked_log2(_per_tensor(node, outputs[1], "state output")[0])
        if not ok or 15 + log2 != 4:
            # LiteRT only instantiates LstmCell<4>: a Q4.11 state.
            raise node.error("the basic LSTM state must have scale 2^-11")
        w = _constant(node, weights, "weights")
        w_zp = _per_tensor(node, weights, "weights")[1]
        self.bias = _constant(node, bias, "bias")
        # 4096 * bias scale is a float product before QuantizeMultiplier.
        self.accum_qm = _qm(F32(4096) * _per_tensor(node, bias, "bias")[0])
        self.matrix = IntMatrix(w - w_zp, 128)
        self.depth = depth
        self.state_variables = (prev_activ.is_variable, prev_state.is_variable)
        outputs[0].shape, outputs[1].shape = tuple(prev_activ.shape), tuple(prev_state.shape)
        outputs[2].shape, outputs[3].shape = (n_batch, n_input + depth), (n_batch, 4 * depth)

    def eval(self, node, inputs, outputs):
        x, prev_activ, _, _, prev_state = inputs
        concat = np.concatenate([x, prev_activ], axis=1)
        # optimized_ops::LstmCell (the basic kernel has no reference variant) runs the
        # fully-connected part through cpu_backend_gemm, hence its rounding.
        acc = fp.wrap_int32(self.bias + self.matrix.dot(concat.astype(np.int64) - 128))
        activ = _sat(fp.multiply_by_quantized_multiplier_gemm(acc, *self.accum_qm), np.int16)
        d = self.depth
        input_gate = lookup16(sigmoid_table(3), activ[:, :d])
        modulation = lookup16(tanh_table(3), activ[:, d:2 * d])
        forget_gate = lookup16(sigmoid_table(3), activ[:, 2 * d:3 * d])
        output_gate = lookup16(sigmoid_table(3), activ[:, 3 * d:])
        # F0 × F0 products, F0 × Q4.11 state, then Rescale<4> of the F0 term and a saturating add.
        new_state = _sat(rounding_divide_by_pot16(srdhm16(input_gate, modulation), 4)
                         + srdhm16(forget_gate, prev_state.astype(np.int64)), np.int16)
        # tanh runs on the state rescaled to Q3.12 (saturating), reusing the F3 tanh.
        out16 = srdhm16(output_gate, lookup16(tanh_table(3), Q15.multiply_by_pot(new_state, 1)))
        activ_out = np.clip(rounding_divide_by_pot16(out16, 8), -128, 127) + 128
        outputs[0][...] = activ_out
        outputs[1][...] = new_state
        outputs[2][...] = concat
        outputs[3][...] = activ
        # LiteRT copies the new activation and state back into the (persistent) state inputs.
        if self.state_variables[0]:
            prev_activ[...] = activ_out
        if self.state_variables[1]:
            prev_state[...] = new_state
