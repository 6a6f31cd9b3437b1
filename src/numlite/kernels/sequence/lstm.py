"""Float and hybrid LSTM kernels: LSTM (full kernel), UNIDIRECTIONAL_SEQUENCE_LSTM and
BIDIRECTIONAL_SEQUENCE_LSTM, as LiteRT's lstm_eval.cc computes them (EvalFloat / EvalHybrid).

One time step, for every gate (input, forget, cell, output; CIFG drops the input gate)::

    gate = act(bias + W_x x [+ W_aux aux] + W_h h [+ w_peep * c])             (no layer norm)
    gate = act(ln * normalize(W_x x [+ W_aux aux] + W_h h [+ w_peep * c]) + bias)
    c    = clip(f * c + i * g)              (CIFG: i = 1 - f); the output gate sees the new c
    h    = clip(P (o * act(c)) + p_bias)    (no projection: h = o * act(c))

Sigmoid for the input/forget/output gates, the node's fused activation for the cell gate and
the cell output. All float arithmetic is float32 in LiteRT's order of operations; sigmoid and
tanh are Eigen's approximations as LiteRT's x86 build evaluates them (eigen_logistic,
eigen.eigen_tanh). Hybrid results are therefore bit-identical to LiteRT's; float ones differ
only by the summation order inside LiteRT's float matrix products.

The hybrid kernel (float activations, int8 weights with one scale each) quantizes the input,
the auxiliary input and the recurrent state row by row every step (symmetric, or asymmetric
with ``asymmetric_quantize_inputs``), forms int32 dot products (minus row_sum * offset when
asymmetric) and accumulates ``float(dot) * (row_scale * weight_scale)`` onto the float gate;
peepholes are recovered as ``int8 * scale`` in float32 and the projection input is quantized
the same way. Each of those products is skipped when its operand is all zeros (IsZeroVector, per
time step over the batch, or per batch row when batch-major); that test takes NaNs among whole
blocks of 4 for zeros (hybrid.is_zero_vector), which shows once a state has overflowed.

A NONE fused activation is taken literally, as LiteRT does: ApplyActivationToVector then writes
nothing, so the cell gate and the output read whatever its buffers last held (see _Runner).

State (output state h, cell state c) lives in variable tensors, updated in place so it carries
over between invokes. Batch rows are independent, so both layouts run as a loop over time
steps with all batch rows at once.
"""
import decimal

import numpy as np

from ...schema.enums import ActivationFunctionType as Act
from ..contract import Kernel
from ..hybrid import activation_vector, hybrid_dot, is_zero_vector, nonfinite_ok, quantize_rows, weight_row_sums
from ..operands import check_type
from ..quant import exact_dtype, qparams, tensor_params
from ..registry import register
from .slots import (BIASES, CELL_GATE, CELL_STATE, FORGET_GATE, FORGET_LAYER_NORM, GATES, INPUT, INPUT_GATE,
                    INPUT_TO_OUTPUT_W, INPUT_WEIGHTS, LAYER_NORMS, LSTM_KERNEL_BASIC, OUTPUT_GATE, OUTPUT_STATE,
                    PEEPHOLES, PROJECTION_BIAS, PROJECTION_W, RECURRENT_TO_OUTPUT_W, RECURRENT_WEIGHTS,
                    check_operand_count, check_projection_size, check_state, lstm_structure, operand)

F32 = np.float32

# BIDIRECTIONAL_SEQUENCE_LSTM's 48 operands: the input, a forward block and a backward block each
# laid out like LSTM operands 1..17, the four state tensors, then the auxiliary input and its
# forward / backward weights (input, forget, cell, output gates). It has no layer normalisation.
BIDI_OPERANDS = 48
BIDI_FW_BLOCK, BIDI_BW_BLOCK = 1, 18
BIDI_FW_OUTPUT_STATE, BIDI_FW_CELL_STATE, BIDI_BW_OUTPUT_STATE, BIDI_BW_CELL_STATE = 35, 36, 37, 38
BIDI_AUX_INPUT = 39
BIDI_FW_AUX_WEIGHTS = (40, 41, 42, 43)
BIDI_BW_AUX_WEIGHTS = (44, 45, 46, 47)
BIDI_DIRECTIONS = ((BIDI_FW_BLOCK, (BIDI_FW_OUTPUT_STATE, BIDI_FW_CELL_STATE), BIDI_FW_AUX_WEIGHTS, "forward"),
                   (BIDI_BW_BLOCK, (BIDI_BW_OUTPUT_STATE, BIDI_BW_CELL_STATE), BIDI_BW_AUX_WEIGHTS, "backward"))

CELL_ACTIVATIONS = (Act.NONE, Act.RELU, Act.RELU_N1_TO_1, Act.RELU6, Act.TANH, Act.SIGN_BIT)


def _hybrid_lstm(inputs):
    """Float input with int8 (or uint8) weights: LiteRT's IsHybridOp on input and input-to-output weights."""
    x, w = operand(inputs, INPUT), operand(inputs, INPUT_TO_OUTPUT_W)
    return x is not None and w is not None and x.type_name == "FLOAT32" and w.type_name in ("INT8", "UINT8")


# ---------------------------------------------------------------------------------------------
# Element-wise pieces (tensor_utils)
# ---------------------------------------------------------------------------------------------

def _madd(a, b, c):
    """Eigen's pmadd without FMA (LiteRT's x86 build): a rounded product, then a rounded sum."""
    return (a * b).astype(F32) + c


def eigen_logistic(x, scalar_lanes=None):
    """Eigen's float logistic as LiteRT's tensor_utils::ApplySigmoidToVector runs it, bit for bit.

    Eigen evaluates the vector in 4-float SSE packets from the first 16-byte-aligned element of
    the destination; the elements before it and after the last whole packet (``scalar_lanes``,
    see _sse_scalar_lanes) take the scalar path. Packets: exp(x) / (1 + exp(x)) with
    exp(x) = exp(x / 2)^2, a Cephes-style range reduction and a degree-5 polynomial (no FMA).
    Scalar path: expf(x) / (1 + expf(x)) with glibc's expf (glibc_expf)."""
    x = np.asarray(x, F32)
    with np.errstate(invalid="ignore", over="ignore"):
        res = _logistic_packet(x)
        if scalar_lanes is not None and scalar_lanes.any():
            e = glibc_expf(np.minimum(x, F32(16.6355324)))
            res = np.where(scalar_lanes, (e / (F32(1) + e)).astype(F32), res)
    return res


def _logistic_packet(x):
    zero = x < F32(-104)
    x = np.minimum(x, F32(16.6355324)) * F32(0.5)
    m = np.floor(_madd(x, F32(1.44269504088896341), F32(0.5)))
    r = _madd(m, F32(-0.693359375), x)
    r = _madd(m, F32(2.12194440e-4), r)
    r2 = (r * r).astype(F32)
    p_even = _madd(r2, F32(4.1898667812347412109375e-2), F32(0.49999141693115234375))
    p_odd = _madd(r2, F32(8.33471305668354034423828125e-3), F32(0.16666877269744873046875))
    p = _madd(r, p_odd, p_even)
    p = _madd(r2, p, r + F32(1))
    e = np.ldexp(p, m.astype(np.int32)).astype(F32)
    e = (e * e).astype(F32)
    return np.where(zero, F32(0), (e / (F32(1) + e)).astype(F32))


def _exp2_table():
    """glibc's __exp2f_data.tab: the bits of 2^(i/32), correctly rounded, minus i << 47."""
    ctx = decimal.Context(prec=60)
    exact = [float(ctx.power(decimal.Decimal(2), decimal.Decimal(i) / 32)) for i in range(32)]
    return np.array(exact, np.float64).view(np.uint64) - (np.arange(32, dtype=np.uint64) << np.uint64(47))


_EXP2_TABLE = _exp2_table()
_EXPF_POLY = (float.fromhex("0x1.c6af84b912394p-5") / 32 ** 3, float.fromhex("0x1.ebfce50fac4f3p-3") / 32 ** 2,
              float.fromhex("0x1.62e42ff0c52d6p-1") / 32)
_EXPF_INV_LN2_N = float.fromhex("0x1.71547652b82fep+0") * 32
_EXPF_SHIFT = float.fromhex("0x1.8p+52")


def glibc_expf(x):
    """The C library's expf as glibc (>= 2.27) computes it, which LiteRT's Eigen scalar paths call:
    x * 32 / ln 2 = k + r, 2^(k/32) from a table and a cubic in r, all in double, rounded once
    to float (not always the correctly rounded result)."""
    x = np.asarray(x, F32)
    with np.errstate(invalid="ignore", over="ignore"):
        z = _EXPF_INV_LN2_N * x.astype(np.float64)
        kd = z + _EXPF_SHIFT
        ki = kd.view(np.uint64)
        r = z - (kd - _EXPF_SHIFT)
        scale = (_EXP2_TABLE[(ki % np.uint64(32)).astype(np.intp)] + (ki << np.uint64(47))).view(np.float64)
        c0, c1, c2 = _EXPF_POLY
        y = ((c0 * r + c1) * (r * r) + (c2 * r + 1)) * scale
        y = y.astype(F32)
    # Beyond log(2^128) and below log(2^-150) glibc returns inf / 0 without evaluating.
    y = np.where(x > F32(88.7228394), F32(np.inf), np.where(np.isnan(x), x, y))
    return np.where(x < F32(-103.972077), F32(0), y)


def _sse_scalar_lanes(start, n):
    """Which of ``n`` consecutive floats, the first ``start`` floats past a 16-byte boundary, Eigen
    computes outside whole aligned packets (its head peeling and tail)."""
    head = min((-start) % 4, n)
    end = head + (n - head) // 4 * 4
    idx = np.arange(n)
    return (idx < head) | (idx >= end)


def _activation(x, act):
    """ApplyActivationToVector for the cell gate and the cell output (NONE is handled by callers;
    hybrid.activation_vector, NaN handling included)."""
    return activation_vector(x, act)


def _clip(x, limit):
    """CwiseClipping: max(min(limit, x), -limit) with std::min/max semantics (a NaN becomes +limit)."""
    limit = F32(limit)
    y = np.where(x < limit, x, limit)
    return np.where(y < -limit, -limit, y).astype(F32)


def _normalize(x):
    """MeanStddevNormalization over each row: (x - mean) / sqrt(variance + 1e-8), in float32 with
    LiteRT's left-to-right sums (cumsum keeps that order)."""
    n = F32(x.shape[-1])
    mean = (np.cumsum(x, axis=-1, dtype=F32)[:, -1] / n).astype(F32)[:, None]
    diff = (x - mean).astype(F32)
    variance = (np.cumsum(diff * diff, axis=-1, dtype=F32)[:, -1] / n).astype(F32)
    inv = (F32(1) / np.sqrt(variance + F32(1e-8))).astype(F32)[:, None]
    return diff * inv


# ---------------------------------------------------------------------------------------------
# Operand checks shared by the three ops (LiteRT's CheckInputTensorDimensions)
# ---------------------------------------------------------------------------------------------

def _check_float(node, spec, what):
    """A float operand LiteRT checks with TF_LITE_ENSURE_TYPES_EQ: a wrong type is a model error."""
    if spec.type_name != "FLOAT32":
        raise node.error("%s must be FLOAT32, got %s" % (what, spec.type_name))


def _state(node, spec, n, what):
    """A state operand: a FLOAT32 variable tensor with ``n`` elements (any shape)."""
    check_state(node, spec, n, what)
    _check_float(node, spec, what)


def _scale(spec):
    """The single scale of a hybrid weight tensor (LiteRT's params.scale; checked at prepare)."""
    return F32(tensor_params(spec)[0])


class _Params:
    """A direction's parameters, the present gates' weights stacked column-wise in ``gates`` order
    ([K, n_gates * n_cell]; hybrid ones as _QMatrix) so that one product serves all gates."""

    __slots__ = ("wx", "waux", "wh", "diag", "start", "bias", "peephole", "ln", "proj_w", "proj_b")


class _QMatrix:
    """Hybrid weights: integer values (in an exact float type) transposed to [K, N], each source
    tensor's single scale repeated over its columns, and row sums for asymmetric inputs."""

    __slots__ = ("wt", "scale", "row_sums")

    def __init__(self, blocks, asymmetric):
        mats, scales = [], []
        for w, scale in blocks:
            w = np.asarray(w)
            if w.dtype == np.uint8:
                # LiteRT hands uint8 weights to the int8 hybrid kernel as they are: their bytes
                # are read as int8 and their zero point is ignored.
                w = w.view(np.int8)
            w = w.astype(np.int64).reshape(w.shape[0], -1)
            mats.append(w)
            scales.append(np.full(w.shape[0], scale, F32))
        w = np.concatenate(mats)
        self.wt = w.T.astype(exact_dtype(w.shape[1], 128, 128))
        self.scale = np.concatenate(scales)
        self.row_sums = weight_row_sums(w) if asymmetric else None

    def terms(self, quantized):
        """float(dot - row_sum * offset) * (row_scale * weight_scale) per row and column, the
        increment MatrixBatchVectorMultiplyAccumulate adds onto the float result."""
        dot = hybrid_dot(quantized, self.wt, self.row_sums)
        return dot.astype(F32) * (quantized[1][:, None] * self.scale[None, :]).astype(F32)


class _Direction:
    """One LSTM cell as LiteRT's CheckInputTensorDimensions validates it. ``ops`` holds the node's
    operands in LSTM layout (24 entries, None for omitted ones); ``aux`` the auxiliary-input
    weights per gate (bidirectional only)."""

    def __init__(self, node, ops, n_input, hybrid, layer_norm_allowed, aux=None, aux_input=None, diagonal=False,
                 what=""):
        self.ops, self.hybrid, self.diagonal, self.aux = ops, hybrid, diagonal, aux
        self.label = (what + " ") if what else ""
        o = node.options
        if o.cell_clip < 0 or o.proj_clip < 0:
            self.fail(node, "cell_clip and proj_clip must be >= 0")
        self.asymmetric = bool(o.asymmetric_quantize_inputs)
        self._sizes(node)
        self.cifg, self.peephole, self.projection, self.layer_norm = lstm_structure(ops)
        if self.layer_norm and not layer_norm_allowed:
            self.fail(node, "layer normalisation needs 24 operands")
        self.gates = [g for g in range(4) if not (self.cifg and g == INPUT_GATE)]
        self.wtype = self._weight_type(node)
        self._check_weights(node, n_input)
        self._check_peepholes(node)
        self._check_vectors(node)
        self._check_projection(node)
        self.n_aux = 0
        if aux is not None:
            self.n_aux = int(aux_input.shape[-1])
            for g in self.gates:
                self.check(node, aux[g], (self.n_cell, self.n_aux), self.wtype, "auxiliary %s-gate weights" % GATES[g])
        if hybrid:
            for spec in self._weight_specs():
                if qparams(node, spec, "weight").per_channel:
                    raise node.unsupported("per-channel hybrid LSTM weights (LiteRT reads one scale per tensor)")
        given = [s for i, s in enumerate(ops) if s is not None and i not in (INPUT, OUTPUT_STATE, CELL_STATE)]
        constant = all(s.data is not None for s in given + list(aux or ()) if s is not None)
        self.params = self.load([s.data if s is not None else None for s in ops],
                                [a.data if a is not None else None for a in (aux or ())]) if constant else None

    def fail(self, node, what):
        raise node.error(self.label + what)

    def check(self, node, spec, shape, type_name, what):
        if spec is None:
            self.fail(node, "missing " + what)
        if spec.shape is None or tuple(spec.shape) != tuple(shape):
            self.fail(node, "%s must have shape %s, got %s" % (what, tuple(shape), spec.shape))
        if spec.type_name != type_name:
            self.fail(node, "%s must be %s, got %s" % (what, type_name, spec.type_name))

    def _sizes(self, node):
        ops = self.ops
        for i in INPUT_WEIGHTS[1:] + RECURRENT_WEIGHTS[1:] + BIASES[1:]:
            if ops[i] is None:
                self.fail(node, "missing required operand %d" % i)
        iow, row = ops[INPUT_TO_OUTPUT_W], ops[RECURRENT_TO_OUTPUT_W]
        if iow.shape is None or len(iow.shape) != 2:
            self.fail(node, "input-to-output weights must have rank 2, got %s" % (iow.shape,))
        self.n_cell = int(iow.shape[0])
        if self.diagonal:
            self.n_output = self.n_cell
        elif row.shape is None or len(row.shape) != 2 or row.shape[0] != self.n_cell:
            self.fail(node, "recurrent-to-output weights must have shape [%d, n_output], got %s"
                      % (self.n_cell, row.shape))
        else:
            self.n_output = int(row.shape[1])

    def _weight_type(self, node):
        wtype = self.ops[INPUT_WEIGHTS[1]].type_name
        if wtype not in ("FLOAT32", "INT8", "UINT8"):
            raise node.unsupported("weight type %s not supported" % wtype)
        if (wtype != "FLOAT32") != self.hybrid:
            raise node.unsupported("%s weights with a FLOAT32 input are not a hybrid LSTM" % wtype)
        if self.hybrid and self.diagonal:
            raise node.unsupported("hybrid LSTM with diagonal recurrent weights (LiteRT reads the int8 diagonal "
                                   "as float)")
        return wtype

    def _check_weights(self, node, n_input):
        ops = self.ops
        if (ops[INPUT_WEIGHTS[0]] is None) != (ops[RECURRENT_WEIGHTS[0]] is None):
            self.fail(node, "input-to-input and recurrent-to-input weights must both be present or both absent (CIFG)")
        recurrent = (self.n_cell,) if self.diagonal else (self.n_cell, self.n_output)
        for g in self.gates:
            name = GATES[g]
            self.check(node, ops[INPUT_WEIGHTS[g]], (self.n_cell, n_input), self.wtype, "%s-gate input weights" % name)
            self.check(node, ops[RECURRENT_WEIGHTS[g]], recurrent, self.wtype, "%s-gate recurrent weights" % name)

    def _check_peepholes(self, node):
        """All or none (the input-gate one is not needed with CIFG)."""
        peeps = [self.ops[PEEPHOLES[g]] for g in (INPUT_GATE, FORGET_GATE, OUTPUT_GATE)]
        complete = (peeps[0] is not None or self.cifg) and peeps[1] is not None and peeps[2] is not None
        if not complete and any(p is not None for p in peeps):
            self.fail(node, "peephole weights must be all present or all absent")
        for p, name in zip(peeps, ("input", "forget", "output")):
            if p is not None:
                self.check(node, p, (self.n_cell,), self.wtype, "cell-to-%s weights" % name)

    def _check_vectors(self, node):
        """Gate biases (the input gate's exactly when there is one) and layer-norm coefficients."""
        ops = self.ops
        if self.cifg and ops[BIASES[INPUT_GATE]] is not None:
            self.fail(node, "a CIFG LSTM has no input gate bias")
        if self.layer_norm and self.cifg and ops[LAYER_NORMS[INPUT_GATE]] is not None:
            self.fail(node, "a CIFG LSTM has no input layer-norm coefficients")
        for g in self.gates:
            self.check(node, ops[BIASES[g]], (self.n_cell,), "FLOAT32", "%s gate bias" % GATES[g])
            if self.layer_norm:
                self.check(node, ops[LAYER_NORMS[g]], (self.n_cell,), "FLOAT32",
                           "%s layer-norm coefficients" % GATES[g])

    def _check_projection(self, node):
        pw, pb = self.ops[PROJECTION_W], self.ops[PROJECTION_BIAS]
        if pw is not None:
            self.check(node, pw, (self.n_output, self.n_cell), self.wtype, "projection weights")
        check_projection_size(node, pw is not None, self.n_output, self.n_cell)
        if pb is not None:
            if pw is None:
                self.fail(node, "projection bias without projection weights")
            self.check(node, pb, (self.n_output,), "FLOAT32", "projection bias")

    def _weight_specs(self):
        ops = self.ops
        specs = [ops[INPUT_WEIGHTS[g]] for g in self.gates] + [ops[RECURRENT_WEIGHTS[g]] for g in self.gates]
        specs += [ops[PEEPHOLES[g]] for g in self.gates if self.peephole and g != CELL_GATE]
        specs += [ops[PROJECTION_W]] if self.projection else []
        specs += [self.aux[g] for g in self.gates] if self.aux is not None else []
        return [s for s in specs if s is not None]

    def _stack(self, values, specs):
        """Weight tensors [rows, K] stacked row-wise and transposed: float [K, sum rows] or _QMatrix."""
        if not self.hybrid:
            return np.ascontiguousarray(np.concatenate([np.asarray(v, F32) for v in values]).T)
        return _QMatrix([(v, _scale(spec)) for v, spec in zip(values, specs)], self.asymmetric)

    def _vector(self, value, spec):
        if value is None:
            return None
        if self.hybrid and spec.type_name != "FLOAT32":
            # VectorScalarMultiply: an int8 peephole recovered as float32 int8 * scale.
            raw = np.asarray(value)
            raw = raw.view(np.int8) if raw.dtype == np.uint8 else raw
            return (raw.astype(F32) * _scale(spec)).astype(F32).reshape(-1)
        return np.asarray(value, F32).reshape(-1)

    def load(self, values, aux_values=()):
        """_Params from the operand values (LSTM layout; ``aux_values`` per gate)."""
        ops, gates = self.ops, self.gates
        p = _Params()
        p.wx = self._stack([values[INPUT_WEIGHTS[g]] for g in gates], [ops[INPUT_WEIGHTS[g]] for g in gates])
        p.waux = None
        if self.aux is not None:
            p.waux = self._stack([aux_values[g] for g in gates], [self.aux[g] for g in gates])
        p.wh = p.diag = None
        if self.diagonal:
            p.diag = np.concatenate([np.asarray(values[RECURRENT_WEIGHTS[g]], F32).reshape(-1) for g in gates])
        else:
            p.wh = self._stack([values[RECURRENT_WEIGHTS[g]] for g in gates],
                               [ops[RECURRENT_WEIGHTS[g]] for g in gates])
        p.bias = {g: self._vector(values[BIASES[g]], ops[BIASES[g]]) for g in gates}
        p.peephole = {g: self._vector(values[PEEPHOLES[g]], ops[PEEPHOLES[g]])
                      if self.peephole and g != CELL_GATE else None for g in gates}
        p.ln = {g: self._vector(values[LAYER_NORMS[g]], ops[LAYER_NORMS[g]]) if self.layer_norm else None
                for g in gates}
        # Gates start from their bias, or from zero with layer norm (the bias comes after it).
        p.start = np.zeros(len(gates) * self.n_cell, F32) if self.layer_norm else \
            np.concatenate([p.bias[g] for g in gates])
        p.proj_w = p.proj_b = None
        if self.projection:
            p.proj_w = self._stack([values[PROJECTION_W]], [ops[PROJECTION_W]])
            p.proj_b = self._vector(values[PROJECTION_BIAS], ops[PROJECTION_BIAS])
        return p


# ---------------------------------------------------------------------------------------------
# One time step
# ---------------------------------------------------------------------------------------------

class _Runner:
    """Runs one direction over a sequence (EvalFloat / EvalHybrid with LstmStepFloat / LstmStepHybrid).

    The input's contribution to each gate does not depend on the state, so it is computed for
    all time steps at once, element by element as LiteRT forms it (bias + W_x x [+ W_aux aux]);
    each step then adds the recurrent product and finishes the gates. Those partial sums live in
    ``gate_sums``, node scratch of [T * B, >= n_gates * n_cell] floats (bidirectional runners share it)."""

    def __init__(self, direction, options, gate_sums, rows, batch_major):
        self.d = direction
        self.act = options.fused_activation_function
        self.cell_clip = F32(options.cell_clip)
        self.proj_clip = F32(options.proj_clip)
        self.gate_sums = gate_sums
        self.batch_major = batch_major
        self.lanes = self._scalar_lanes(rows, batch_major)

    def run(self, p, xs, auxs, h_state, c_state, out, offset, forward):
        """``xs`` [T, B, K] (``auxs`` likewise or None), time-major views; writes h of every step to
        ``out[t, :, offset:offset + n_output]`` and the final state to the variable tensors.

        All of it is LiteRT's IEEE float32 arithmetic: a state that overflows to ±inf or NaN
        (LiteRT's results too) is computed on without RuntimeWarnings (hybrid.nonfinite_ok)."""
        with nonfinite_ok():
            self._run(p, xs, auxs, h_state, c_state, out, offset, forward)

    def _run(self, p, xs, auxs, h_state, c_state, out, offset, forward):
        d = self.d
        steps, rows = xs.shape[:2]
        pre, track = self._input_part(p, xs, auxs)
        lanes = self.lanes
        h = np.asarray(h_state, F32).reshape(rows, d.n_output).copy()
        c = np.asarray(c_state, F32).reshape(rows, d.n_cell).copy()
        for t in (range(steps) if forward else range(steps - 1, -1, -1)):
            h, c = self._step(p, pre[t], None if track is None else (track[0][t], track[1][t]), h, c, lanes)
            out[t, :, offset:offset + d.n_output] = h
        h_state.reshape(-1)[...] = h.reshape(-1)
        c_state.reshape(-1)[...] = c.reshape(-1)

    def _input_part(self, p, xs, auxs):
        """[T, B, N] partial gate sums before the recurrent term, and for a float LSTM with a NONE
        cell activation the tracking of its cell gate buffer (see _step)."""
        d = self.d
        steps, rows = xs.shape[:2]
        x = xs.reshape(steps * rows, -1)
        aux = auxs.reshape(steps * rows, -1) if auxs is not None else None
        acc = self.gate_sums.array[:, :p.start.size]
        if d.hybrid:
            acc[...] = p.start
            for value, w in ((x, p.wx), (aux, p.waux)):
                if value is not None:
                    self._accumulate(acc, value, w, steps)
            return acc.reshape(steps, rows, -1), None
        # CalculateLstmGateFloat ping-pongs between the gate buffer and a scratch buffer, skips
        # the products of an all-zero input (the whole time step when time-major, the batch row
        # otherwise) and lets the activation write the result into the gate buffer. A NONE
        # activation writes nothing, so the cell gate keeps the partial sum that last landed in
        # its buffer; ``in_gate`` follows where the running sum is, per row.
        track = self.act == Act.NONE
        cell = slice(d.gates.index(CELL_GATE) * d.n_cell, (d.gates.index(CELL_GATE) + 1) * d.n_cell)
        acc[...] = p.start
        gate_buf, in_gate = np.broadcast_to(p.start[cell], (steps * rows, d.n_cell)), np.ones(steps * rows, bool)
        for value, w in ((x, p.wx), (aux, p.waux)):
            if w is None:
                continue
            new = value @ w
            new += acc
            if track:
                if self.batch_major:
                    ran = np.any(value != 0, axis=-1)
                else:
                    ran = np.repeat(np.any(value.reshape(steps, -1) != 0, axis=-1), rows)
                gate_buf = np.where((ran & ~in_gate)[:, None], new[:, cell], gate_buf)
                in_gate = in_gate ^ ran
            acc[...] = new
        tracked = (gate_buf.reshape(steps, rows, -1), in_gate.reshape(steps, rows)) if track else None
        return acc.reshape(steps, rows, -1), tracked

    def _skipped(self, v, steps):
        """Rows of ``v`` [steps * B, K] whose product LiteRT skips (IsZeroVector, NaN-lenient:
        hybrid.is_zero_vector): per time step over all its batch rows, or each row on its own
        when batch-major (LiteRT then steps one batch row at a time)."""
        if self.batch_major:
            return np.array([is_zero_vector(row) for row in v], bool)
        blocks = v.reshape(steps, -1)
        return np.repeat([is_zero_vector(b) for b in blocks], len(v) // max(steps, 1)).astype(bool)

    def _accumulate(self, acc, v, w, steps=1):
        """acc += the hybrid product of ``v`` with ``w`` (a _QMatrix), except on skipped rows.
        The product comes first: LiteRT's compiled ``*result += x`` keeps x's NaN."""
        skip = self._skipped(v, steps)
        if skip.all():
            return acc
        res = w.terms(quantize_rows(v, self.d.asymmetric)) + acc
        acc[...] = np.where(skip[:, None], acc, res) if skip.any() else res
        return acc

    def _scalar_lanes(self, rows, batch_major):
        """Per sigmoid gate, the [B, n_cell] elements Eigen's logistic takes its scalar path for. The
        gates live in one scratch buffer (16-byte aligned) at n_cell * B float slots: input, cell,
        forget, output (CIFG: cell, forget, output). Time-major steps activate a whole gate at
        once, batch-major ones each batch row's n_cell values at its own offset."""
        d, n = self.d, self.d.n_cell
        slots = (CELL_GATE, FORGET_GATE, OUTPUT_GATE) if d.cifg else (INPUT_GATE, CELL_GATE, FORGET_GATE, OUTPUT_GATE)
        lanes = {}
        for slot, g in enumerate(slots):
            start = slot * n * rows
            if batch_major:
                lanes[g] = np.stack([_sse_scalar_lanes(start + b * n, n) for b in range(rows)]).reshape(rows, n)
            else:
                lanes[g] = _sse_scalar_lanes(start, rows * n).reshape(rows, n)
        return lanes

    def _gate(self, p, g, acc, c, act, lanes):
        n = self.d.n_cell
        k = self.d.gates.index(g)
        a = acc[:, k * n:(k + 1) * n]
        if p.peephole[g] is not None:
            a = a + p.peephole[g] * c
        if p.ln[g] is not None:
            a = (p.ln[g] * _normalize(a)) + p.bias[g]
        return (eigen_logistic(a, lanes[g]) if act is None else _activation(a, act)).astype(F32)

    def _step(self, p, pre, tracked, h, c, lanes):
        """One step for all batch rows: the new (h, c)."""
        d = self.d
        if d.hybrid:
            acc = self._accumulate(np.array(pre, F32), h, p.wh)
        elif p.diag is not None:
            acc = pre + p.diag * np.tile(h, len(d.gates))
        else:
            acc = h @ p.wh + pre
        i = None if d.cifg else self._gate(p, INPUT_GATE, acc, c, None, lanes)
        f = self._gate(p, FORGET_GATE, acc, c, None, lanes)
        g = self._gate(p, CELL_GATE, acc, c, self.act, lanes)
        if tracked is not None:
            # The recurrent product lands in the other buffer; the diagonal one accumulates in place.
            gate_buf, in_gate = tracked
            final_in_gate = in_gate if p.diag is not None else ~in_gate
            g = np.where(final_in_gate[:, None], g, gate_buf)
        # UpdateLstmCellFloat (CIFG: the input gate is 1 - f).
        c = f * c
        c = c + g * ((F32(1) - f) if d.cifg else i)
        if self.cell_clip > 0:
            c = _clip(c, self.cell_clip)
        c = c.astype(F32)
        o = self._gate(p, OUTPUT_GATE, acc, c, None, lanes)   # its peephole sees the new cell state
        # CalculateLstmOutput{Float,Hybrid}: with a NONE activation the scratch (the cell gate's
        # buffer) is not overwritten, so the output is o * cell gate.
        hidden = (o * (g if self.act == Act.NONE else _activation(c, self.act))).astype(F32)
        if p.proj_w is None:
            return hidden, c
        out = np.zeros((hidden.shape[0], d.n_output), F32) if p.proj_b is None else \
            np.broadcast_to(p.proj_b, (hidden.shape[0], d.n_output))
        if d.hybrid:
            out = self._accumulate(np.array(out, F32), hidden, p.proj_w)
        else:
            out = hidden @ p.proj_w + out
        if self.proj_clip > 0:
            out = _clip(out, self.proj_clip)
        return out.astype(F32), c


def _check_activation(node):
    act = node.options.fused_activation_function
    if act not in CELL_ACTIVATIONS:
        raise node.error("unsupported fused activation %s for the cell" % Act.name(act))


def _output(node, outputs, k, shape):
    spec = outputs[k]
    _check_float(node, spec, "output %d" % k)
    spec.shape = tuple(int(v) for v in shape)


def _gate_sums(node, dirs, steps, rows):
    """Scratch for the runners' partial gate sums, wide enough for each direction."""
    return node.scratch((steps * rows, max(len(d.gates) * d.n_cell for d in dirs)), F32)


class _LstmBase(Kernel):
    """Shared by the float classes and their hybrid twins (``hybrid`` True)."""

    hybrid = False
    input_types = ("FLOAT32",)

    def _single_direction(self, node, inputs, outputs, x, time_major, diagonal=False):
        """Checks and runner of LSTM / UNIDIRECTIONAL_SEQUENCE_LSTM: [T, B, I] or [B, I] input."""
        check_operand_count(node, inputs)
        if len(outputs) != 1:
            raise node.error("expected 1 output, got %d" % len(outputs))
        _check_activation(node)
        if len(x.shape) == 2:
            steps, rows = 1, int(x.shape[0])
        else:
            steps, rows = (int(v) for v in (x.shape[:2] if time_major else x.shape[1::-1]))
        ops = [operand(inputs, i) for i in range(24)]
        layer_norm_allowed = len(inputs) == 24
        if not layer_norm_allowed:
            ops[FORGET_LAYER_NORM] = None
        d = _Direction(node, ops, int(x.shape[-1]), self.hybrid, layer_norm_allowed, diagonal=diagonal)
        _state(node, ops[OUTPUT_STATE], rows * d.n_output, "output state")
        _state(node, ops[CELL_STATE], rows * d.n_cell, "cell state")
        self.d = d
        self.runner = _Runner(d, node.options, _gate_sums(node, [d], steps, rows), rows, not time_major)
        _output(node, outputs, 0, tuple(x.shape[:-1]) + (d.n_output,))

    def _check_input(self, node, inputs, rank):
        """The input: FLOAT32 (others are not this kernel's: UnsupportedOpError) of the given rank."""
        x = inputs[INPUT] if inputs else None
        if x is None:
            raise node.error("missing input")
        check_type(node, x, ("FLOAT32",))
        if x.shape is None or len(x.shape) != rank:
            raise node.error("input must have rank %d, got shape %s" % (rank, x.shape))
        return x

    @staticmethod
    def _params(d, inputs, aux=()):
        if d.params is not None:
            return d.params
        return d.load(inputs, aux)


class _Lstm(_LstmBase):
    """LSTM, full kernel: input [batch, n_input] → output [batch, n_output], one step."""

    def prepare(self, node, inputs, outputs):
        if node.options.kernel_type == LSTM_KERNEL_BASIC:
            raise node.unsupported("the BASIC LSTM kernel is not a float/hybrid full LSTM")
        x = self._check_input(node, inputs, 2)
        self._single_direction(node, inputs, outputs, x, True)

    def eval(self, node, inputs, outputs):
        x = np.asarray(inputs[INPUT], F32)
        self.runner.run(self._params(self.d, inputs), x[None], None, inputs[OUTPUT_STATE],
                        inputs[CELL_STATE], outputs[0][None], 0, True)


class _UnidirectionalLstm(_LstmBase):
    """UNIDIRECTIONAL_SEQUENCE_LSTM: input [T, B, I] (time_major) or [B, T, I]."""

    def prepare(self, node, inputs, outputs):
        x = self._check_input(node, inputs, 3)
        self.time_major = bool(node.options.time_major)
        self._single_direction(node, inputs, outputs, x, self.time_major,
                               bool(node.options.diagonal_recurrent_tensors))

    def eval(self, node, inputs, outputs):
        x = np.asarray(inputs[INPUT], F32)
        out = outputs[0]
        xs, os_ = (x, out) if self.time_major else (x.transpose(1, 0, 2), out.transpose(1, 0, 2))
        self.runner.run(self._params(self.d, inputs), xs, None, inputs[OUTPUT_STATE],
                        inputs[CELL_STATE], os_, 0, True)


class _BidirectionalLstm(_LstmBase):
    """BIDIRECTIONAL_SEQUENCE_LSTM (48 operands, see BIDI_*): a forward and a backward LSTM over the
    same sequence. ``merge_outputs`` concatenates both on the last axis of output 0. With an
    auxiliary input but no auxiliary weights, the backward cell reads the auxiliary input instead
    of the input (stacked bidirectional LSTMs without cross links).

    Not reproduced: LiteRT's batch-major path addresses the state rows with the output's row
    stride, which with merged outputs and batch > 1 makes batch row b use state row 2b (out of
    bounds for 2b >= batch); numlite keeps one state row per batch row."""

    def prepare(self, node, inputs, outputs):
        o = node.options
        x = self._check_input(node, inputs, 3)
        if len(inputs) != BIDI_OPERANDS:
            raise node.error("expected %d inputs, got %d" % (BIDI_OPERANDS, len(inputs)))
        self.merge = bool(o.merge_outputs)
        if len(outputs) != (1 if self.merge else 2):
            raise node.error("expected %d outputs, got %d" % (1 if self.merge else 2, len(outputs)))
        self.time_major = bool(o.time_major)
        steps, n_batch = (x.shape[0], x.shape[1]) if self.time_major else (x.shape[1], x.shape[0])
        n_input = int(x.shape[2])
        _check_activation(node)
        aux_input = inputs[BIDI_AUX_INPUT]
        # LiteRT decides on the forget, cell and output gates' auxiliary weights.
        present = [inputs[i] is not None for i in BIDI_FW_AUX_WEIGHTS[1:] + BIDI_BW_AUX_WEIGHTS[1:]]
        if any(present) and not all(present):
            raise node.error("auxiliary weights must be all present or all absent")
        self.use_aux = all(present)
        if aux_input is not None:
            check_type(node, aux_input, ("FLOAT32",), "auxiliary input")
            if aux_input.shape is None or len(aux_input.shape) != 3 or tuple(aux_input.shape[:2]) != tuple(x.shape[:2]):
                raise node.error("auxiliary input must have shape %s + [n_aux], got %s"
                                 % (tuple(x.shape[:2]), aux_input.shape))
        if self.use_aux and aux_input is None:
            raise node.error("auxiliary weights without an auxiliary input")
        # Stacking without cross links: the backward cell reads the auxiliary input.
        self.bw_reads_aux = aux_input is not None and not self.use_aux
        if self.bw_reads_aux and int(aux_input.shape[2]) != n_input:
            raise node.error("the backward cell's auxiliary input must have %d features, got %d"
                             % (n_input, int(aux_input.shape[2])))
        self.dirs = []
        for block, states, aux_indices, what in BIDI_DIRECTIONS:
            ops = [x] + list(inputs[block:block + 17]) + [inputs[states[0]], inputs[states[1]]] + [None] * 4
            aux = [inputs[i] for i in aux_indices] if self.use_aux else None
            d = _Direction(node, ops, n_input, self.hybrid, False, aux=aux, aux_input=aux_input, what=what)
            _state(node, ops[OUTPUT_STATE], n_batch * d.n_output, what + " output state")
            _state(node, ops[CELL_STATE], n_batch * d.n_cell, what + " cell state")
            self.dirs.append(d)
        fw, bw = self.dirs
        # LiteRT checks both cells against each size, so they must agree.
        if (fw.n_cell, fw.n_output) != (bw.n_cell, bw.n_output):
            raise node.error("forward and backward cells must have the same sizes, got %s and %s"
                             % ((fw.n_cell, fw.n_output), (bw.n_cell, bw.n_output)))
        gate_sums = _gate_sums(node, self.dirs, steps, n_batch)
        self.runners = [_Runner(d, o, gate_sums, n_batch, not self.time_major) for d in self.dirs]
        lead = tuple(int(v) for v in x.shape[:2])
        if self.merge:
            _output(node, outputs, 0, lead + (fw.n_output + bw.n_output,))
        else:
            _output(node, outputs, 0, lead + (fw.n_output,))
            _output(node, outputs, 1, lead + (bw.n_output,))

    def eval(self, node, inputs, outputs):
        def time_major(a):
            return a if a is None or self.time_major else a.transpose(1, 0, 2)
        x = time_major(np.asarray(inputs[INPUT], F32))
        aux = inputs[BIDI_AUX_INPUT]
        aux = time_major(np.asarray(aux, F32)) if aux is not None else None
        outs = [time_major(o) for o in outputs]
        for k, (d, runner, (block, states, aux_indices, _)) in enumerate(zip(self.dirs, self.runners, BIDI_DIRECTIONS)):
            values = [inputs[INPUT]] + list(inputs[block:block + 17]) + [None] * 6
            params = self._params(d, values, [inputs[i] for i in aux_indices])
            src = aux if (k == 1 and self.bw_reads_aux) else x
            cell_aux = aux if self.use_aux else None
            out, offset = (outs[0], self.dirs[0].n_output if k == 1 else 0) if self.merge else (outs[k], 0)
            runner.run(params, src, cell_aux, inputs[states[0]], inputs[states[1]],
                       out, offset, forward=(k == 0))


def _variants(base):
    float_cls = type(base.__name__.lstrip("_"), (base,), {"__doc__": base.__doc__})
    hybrid_cls = type("Hybrid" + base.__name__.lstrip("_"), (base,),
                      {"hybrid": True, "__doc__": "Hybrid (float input, int8 weights) " + base.__doc__})
    return float_cls, hybrid_cls


Lstm, HybridLstm = _variants(_Lstm)
UnidirectionalSequenceLstm, HybridUnidirectionalSequenceLstm = _variants(_UnidirectionalLstm)
BidirectionalSequenceLstm, HybridBidirectionalSequenceLstm = _variants(_BidirectionalLstm)

register("LSTM", versions=(1, 4))(Lstm)
register("LSTM", versions=(1, 4), match=_hybrid_lstm)(HybridLstm)
register("UNIDIRECTIONAL_SEQUENCE_LSTM", versions=(1, 3))(UnidirectionalSequenceLstm)
register("UNIDIRECTIONAL_SEQUENCE_LSTM", versions=(1, 3), match=_hybrid_lstm)(HybridUnidirectionalSequenceLstm)
register("BIDIRECTIONAL_SEQUENCE_LSTM", versions=(1, 3))(BidirectionalSequenceLstm)
register("BIDIRECTIONAL_SEQUENCE_LSTM", versions=(1, 3), match=_hybrid_lstm)(HybridBidirectionalSequenceLstm)
