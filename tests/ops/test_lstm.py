"""LSTM, UNIDIRECTIONAL_SEQUENCE_LSTM and BIDIRECTIONAL_SEQUENCE_LSTM (float and hybrid) against
LiteRT's reference resolver. Every model is invoked several times with fresh inputs on one
interpreter per runtime, so the state carried in the variable tensors is compared as well.

Hybrid results must be identical: the integer products are exact and numlite reproduces LiteRT's
float steps, Eigen's sigmoid / tanh included. Float results differ only by the summation order
of LiteRT's float matrix products (measured: < 3e-6 of the output range; the harness default
1e-5 applies)."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import numlite
from harness import Const, In, Var, assert_model_refused, assert_outputs_match, examples, run_numlite, single_op_model
from numlite.kernels.contract import Node
from numlite.kernels.sequence import lstm as K
from numlite.kernels.registry import lookup

F32 = np.float32
ACTIVATIONS = ["TANH", "TANH", "NONE", "RELU", "RELU6", "RELU_N1_TO_1", "SIGN_BIT"]


def run_both(model, feeds):
    """Outputs of each invoke, [[litert outputs], ...] and [[numlite outputs], ...], one interpreter each."""
    from ai_edge_litert.interpreter import Interpreter, OpResolverType
    runs = []
    for interp in (Interpreter(model_content=model, experimental_op_resolver_type=OpResolverType.BUILTIN_REF),
                   numlite.Interpreter(model_content=model,
                                       experimental_op_resolver_type=numlite.OpResolverType.BUILTIN_REF)):
        interp.allocate_tensors()
        outs = []
        for feed in feeds:
            for d, v in zip(interp.get_input_details(), feed):
                interp.set_tensor(d["index"], v)
            interp.invoke()
            outs.append([interp.get_tensor(d["index"]).copy() for d in interp.get_output_details()])
        runs.append(outs)
    return runs


def assert_invokes_match(model, feeds, what, exact=False):
    want, got = run_both(model, feeds)
    for k, (w, g) in enumerate(zip(want, got)):
        assert_outputs_match(g, w, what="%s invoke %d" % (what, k))
        if exact:
            for j, (a, b) in enumerate(zip(w, g)):
                np.testing.assert_array_equal(b, a, err_msg="%s invoke %d output %d" % (what, k, j))
    return want, got


def weight(rng, shape, hybrid, fan_in, uint8=False):
    v = (rng.standard_normal(shape) / np.sqrt(max(fan_in, 1))).astype(F32)
    if not hybrid:
        return Const(v)
    scale = float(np.abs(v).max() / 127) or 1.0
    q = np.clip(np.round(v / scale), -127, 127).astype(np.int8)
    if uint8:
        # LiteRT reads uint8 hybrid weights' bytes as int8 and ignores the zero point.
        return Const(q.view(np.uint8), quantization=(scale, 7))
    return Const(q, quantization=(scale, 0))


def cell_operands(rng, n_input, n_cell, n_output, hybrid, cifg, peephole, projection, proj_bias, layer_norm,
                  diagonal=False, uint8=False):
    """LSTM operands 1..17 and the four layer-norm coefficients (None where omitted)."""
    def w(shape, fan_in):
        return weight(rng, shape, hybrid, fan_in, uint8)
    live = [not (cifg and g == 0) for g in range(4)]
    ops = [w((n_cell, n_input), n_input) if live[g] else None for g in range(4)]
    rec = (n_cell,) if diagonal else (n_cell, n_output)
    ops += [w(rec, n_output) if live[g] else None for g in range(4)]
    ops += [w((n_cell,), 4) if peephole and live[g] else None for g in range(3)]
    ops += [Const((0.5 * rng.standard_normal(n_cell)).astype(F32)) if live[g] else None for g in range(4)]
    ops += [w((n_output, n_cell), n_cell) if projection else None]
    ops += [Const((0.3 * rng.standard_normal(n_output)).astype(F32)) if projection and proj_bias else None]
    lns = [Const((1 + 0.3 * rng.standard_normal(n_cell)).astype(F32)) if layer_norm and live[g] else None
           for g in range(4)]
    return ops, lns


def draw_structure(draw, hybrid_ok=True, layer_norm_ok=True):
    s = dict(
        hybrid=hybrid_ok and draw(st.booleans(), label="hybrid"),
        cifg=draw(st.booleans(), label="cifg"),
        peephole=draw(st.booleans(), label="peephole"),
        projection=draw(st.booleans(), label="projection"),
        proj_bias=draw(st.booleans(), label="projection bias"),
        layer_norm=layer_norm_ok and draw(st.booleans(), label="layer norm"))
    s["asymmetric"] = s["hybrid"] and draw(st.booleans(), label="asymmetric_quantize_inputs")
    return s


def draw_sizes(draw):
    n_input = draw(st.integers(1, 6), label="n_input")
    n_cell = draw(st.integers(1, 7), label="n_cell")
    return n_input, n_cell


def draw_options(draw, s):
    act = draw(st.sampled_from(ACTIVATIONS), label="activation")
    clip = draw(st.booleans(), label="clips")
    return dict(fused_activation_function=act, cell_clip=0.6 if clip else 0.0, proj_clip=0.5 if clip else 0.0,
                asymmetric_quantize_inputs=s["asymmetric"])


def sequence(rng, draw, shape, time_axis, batch_axis):
    """Random inputs, sometimes with all-zero time steps or batch rows (LiteRT skips their products,
    which shows with a NONE cell activation)."""
    x = rng.standard_normal(shape).astype(F32) * F32(10.0 ** draw(st.floats(-1, 0.7), label="input log10 scale"))
    if draw(st.booleans(), label="zero slices"):
        if time_axis is not None:
            idx = [slice(None)] * len(shape)
            idx[time_axis] = rng.random(shape[time_axis]) < 0.4
            x[tuple(idx)] = 0
        idx = [slice(None)] * len(shape)
        idx[batch_axis] = rng.random(shape[batch_axis]) < 0.4
        x[tuple(idx)] = 0
    return x


def version(s, base=1):
    return base if not s["hybrid"] else (3 if s["asymmetric"] else 2)


# ---------------------------------------------------------------------------------------------
# Differential tests
# ---------------------------------------------------------------------------------------------

@settings(max_examples=examples(80), deadline=None)
@given(data=st.data())
def test_lstm(data):
    draw = data.draw
    rng = np.random.default_rng(draw(st.integers(0, 2 ** 32 - 1), label="seed"))
    s = draw_structure(draw)
    n_input, n_cell = draw_sizes(draw)
    n_output = draw(st.integers(1, 6), label="n_output") if s["projection"] else n_cell
    batch = draw(st.integers(1, 3), label="batch")
    ops, lns = cell_operands(rng, n_input, n_cell, n_output, s["hybrid"], s["cifg"], s["peephole"],
                             s["projection"], s["proj_bias"], s["layer_norm"])
    # 20 operands (deprecated layout) or 24, with or without layer norm.
    tail = lns if (s["layer_norm"] or draw(st.booleans(), label="24 operands")) else []
    shape = (batch, n_input)
    inputs = [np.zeros(shape, F32)] + ops + [Var((batch, n_output)), Var((batch, n_cell))] + tail
    opts = draw_options(draw, s)
    model, _ = single_op_model("LSTM", inputs, [F32], version=4 if s["asymmetric"] else version(s), **opts)
    feeds = [[sequence(rng, draw, shape, None, 0)] for _ in range(3)]
    assert_invokes_match(model, feeds, "LSTM", exact=s["hybrid"])


@settings(max_examples=examples(80), deadline=None)
@given(data=st.data())
def test_unidirectional(data):
    draw = data.draw
    rng = np.random.default_rng(draw(st.integers(0, 2 ** 32 - 1), label="seed"))
    s = draw_structure(draw)
    n_input, n_cell = draw_sizes(draw)
    n_output = draw(st.integers(1, 6), label="n_output") if s["projection"] else n_cell
    batch, steps = draw(st.integers(1, 3), label="batch"), draw(st.integers(1, 5), label="time steps")
    time_major = draw(st.booleans(), label="time_major")
    ops, lns = cell_operands(rng, n_input, n_cell, n_output, s["hybrid"], s["cifg"], s["peephole"],
                             s["projection"], s["proj_bias"], s["layer_norm"])
    shape = (steps, batch, n_input) if time_major else (batch, steps, n_input)
    tail = lns if (s["layer_norm"] or draw(st.booleans(), label="24 operands")) else []
    inputs = [np.zeros(shape, F32)] + ops + [Var((batch, n_output)), Var((batch * n_cell,))] + tail
    opts = draw_options(draw, s)
    model, _ = single_op_model("UNIDIRECTIONAL_SEQUENCE_LSTM", inputs, [F32], version=version(s),
                               time_major=time_major, **opts)
    feeds = [[sequence(rng, draw, shape, 0 if time_major else 1, 1 if time_major else 0)] for _ in range(2)]
    assert_invokes_match(model, feeds, "UNIDIRECTIONAL_SEQUENCE_LSTM", exact=s["hybrid"])


def bidi_inputs(rng, x, s, n_input, n_cell, n_output, batch, aux_mode, aux_shape):
    fw, _ = cell_operands(rng, n_input, n_cell, n_output, s["hybrid"], s["cifg"], s["peephole"],
                          s["projection"], s["proj_bias"], False)
    bw, _ = cell_operands(rng, n_input, n_cell, n_output, s["hybrid"], s["cifg"], s["peephole"],
                          s["projection"], s["proj_bias"], False)
    states = [Var((batch, n_output)), Var((batch, n_cell)), Var((batch, n_output)), Var((batch, n_cell))]
    aux_input = [np.zeros(aux_shape, F32)] if aux_mode != "none" else [None]
    aux_weights = [None] * 8
    if aux_mode == "cross links":
        aux_weights = [weight(rng, (n_cell, aux_shape[-1]), s["hybrid"], aux_shape[-1])
                       if not (s["cifg"] and g % 4 == 0) else None for g in range(8)]
    return [x] + fw + bw + states + aux_input + aux_weights


@settings(max_examples=examples(80), deadline=None)
@given(data=st.data())
def test_bidirectional(data):
    draw = data.draw
    rng = np.random.default_rng(draw(st.integers(0, 2 ** 32 - 1), label="seed"))
    s = draw_structure(draw, layer_norm_ok=False)
    n_input, n_cell = draw_sizes(draw)
    n_output = draw(st.integers(1, 6), label="n_output") if s["projection"] else n_cell
    time_major = draw(st.booleans(), label="time_major")
    merge = draw(st.booleans(), label="merge_outputs")
    # Merged batch-major outputs with batch > 1 hit a LiteRT bug (the state rows are addressed
    # with the merged output's stride), so only one batch row there.
    batch = 1 if (merge and not time_major) else draw(st.integers(1, 3), label="batch")
    steps = draw(st.integers(1, 4), label="time steps")
    aux_mode = draw(st.sampled_from(["none", "cross links", "backward reads aux"]), label="aux input")
    shape = (steps, batch, n_input) if time_major else (batch, steps, n_input)
    n_aux = draw(st.integers(1, 4), label="n_aux") if aux_mode == "cross links" else n_input
    aux_shape = shape[:2] + (n_aux,)
    inputs = bidi_inputs(rng, np.zeros(shape, F32), s, n_input, n_cell, n_output, batch, aux_mode, aux_shape)
    opts = draw_options(draw, s)
    model, _ = single_op_model("BIDIRECTIONAL_SEQUENCE_LSTM", inputs, [F32] if merge else [F32, F32],
                               version=version(s), merge_outputs=merge, time_major=time_major, **opts)
    feeds = []
    for _ in range(2):
        feed = [sequence(rng, draw, shape, 0 if time_major else 1, 1 if time_major else 0)]
        if aux_mode != "none":
            feed.append(sequence(rng, draw, aux_shape, 0 if time_major else 1, 1 if time_major else 0))
        feeds.append(feed)
    assert_invokes_match(model, feeds, "BIDIRECTIONAL_SEQUENCE_LSTM", exact=s["hybrid"])


@pytest.mark.parametrize("act", ["TANH", "NONE", "RELU"])
@pytest.mark.parametrize("time_major", [True, False])
def test_diagonal_recurrent_weights(act, time_major):
    """UNIDIRECTIONAL_SEQUENCE_LSTM's diagonal_recurrent_tensors: recurrent weights are [n_cell]
    vectors multiplied element-wise (LiteRT's reference resolver accepts it at version 3)."""
    rng = np.random.default_rng(7)
    ops, lns = cell_operands(rng, 3, 5, 5, False, False, True, True, True, True, diagonal=True)
    shape = (4, 2, 3) if time_major else (2, 4, 3)
    inputs = [np.zeros(shape, F32)] + ops + [Var((2, 5)), Var((2, 5))] + lns
    model, _ = single_op_model("UNIDIRECTIONAL_SEQUENCE_LSTM", inputs, [F32], version=3, time_major=time_major,
                               fused_activation_function=act, diagonal_recurrent_tensors=True)
    feeds = []
    for _ in range(2):
        x = rng.standard_normal(shape).astype(F32)
        x[(1,) if time_major else (slice(None), 1)] = 0
        feeds.append([x])
    assert_invokes_match(model, feeds, "diagonal LSTM")


def probe_lstm(n, input_bias, forget_bias, cell_bias, act, x_values):
    """A float LSTM whose gates are their biases alone (zero weights), so that the output isolates
    LiteRT's gate nonlinearities exactly; the cell gate reads the scalar input (weight 1)."""
    zero = [Const(np.zeros((n, 1), F32)) for _ in range(4)]
    zero[2] = Const(np.ones((n, 1), F32))
    ops = zero + [Const(np.zeros((n, n), F32)) for _ in range(4)] + [None] * 3
    ops += [Const(np.asarray(b, F32)) for b in (input_bias, forget_bias, cell_bias, np.full(n, 40.0))]
    model, _ = single_op_model("LSTM", [np.zeros((1, 1), F32)] + ops + [None, None, Var((1, n)), Var((1, n))],
                               [F32], fused_activation_function=act)
    return model, [[np.full((1, 1), v, F32)] for v in x_values]


@pytest.mark.parametrize("n", [3, 7, 13, 1001])
def test_gate_nonlinearities_bit_exact(n):
    """Eigen's logistic (packet and scalar lanes, which depend on the gate buffer's alignment) and
    fast tanh, as LiteRT computes them: sigmoid(input bias) with a RELU cell and saturated gates;
    the forget gate (at a misaligned buffer offset) through c = f * c + 0 on a second invoke;
    tanh(tanh(cell bias))."""
    rng = np.random.default_rng(15)
    probe = (rng.standard_normal(n) * 6).astype(F32)
    sat, ones = np.full(n, 40.0), np.ones(n)
    for model, feeds in (probe_lstm(n, probe, np.full(n, -40.0), ones * 0, "RELU", [1.0]),
                         probe_lstm(n, sat, probe, ones * 0, "RELU", [1.0, -1.0]),
                         probe_lstm(n, sat, np.full(n, -40.0), probe, "TANH", [0.0])):
        assert_invokes_match(model, feeds, "gate nonlinearities", exact=True)


@pytest.mark.parametrize("layer_norm", [False, True])
@pytest.mark.parametrize("time_major", [True, False])
def test_none_activation_with_zero_rows(time_major, layer_norm):
    """A NONE cell activation leaves the cell gate holding the bias (or zero with layer norm) when
    LiteRT skipped the input product, which it decides per time step when time-major and per batch
    row otherwise; the output is then o * cell gate rather than o * c."""
    rng = np.random.default_rng(14)
    ops, lns = cell_operands(rng, 3, 4, 4, False, False, False, False, False, layer_norm)
    x = rng.standard_normal((3, 3, 3)).astype(F32)
    x[1, 0] = 0              # one row of one step (time-major: step 1 row 0; batch-major: row 1 step 0)
    x[2] = 0                 # a whole step (time-major) or a whole row (batch-major)
    inputs = [x] + ops + [Var((3, 4)), Var((3, 4))] + lns
    model, feed = single_op_model("UNIDIRECTIONAL_SEQUENCE_LSTM", inputs, [F32], time_major=time_major,
                                  fused_activation_function="NONE")
    assert_invokes_match(model, [feed, feed], "NONE activation")


@pytest.mark.parametrize("asymmetric", [False, True])
def test_uint8_hybrid_weights(asymmetric):
    rng = np.random.default_rng(8)
    ops, lns = cell_operands(rng, 4, 6, 3, True, False, True, True, True, True, uint8=True)
    shape = (2, 3, 4)
    inputs = [np.zeros(shape, F32)] + ops + [Var((2, 3)), Var((2, 6))] + lns
    model, _ = single_op_model("UNIDIRECTIONAL_SEQUENCE_LSTM", inputs, [F32], version=3 if asymmetric else 2,
                               fused_activation_function="TANH", asymmetric_quantize_inputs=asymmetric)
    assert_invokes_match(model, [[rng.standard_normal(shape).astype(F32)] for _ in range(2)], "uint8 weights",
                         exact=True)


def _half_away(v):
    return np.copysign(np.floor(np.abs(v) + 0.5), v)


def zero_point_tie_rows(rng, n, count):
    """``count`` rows of ``n`` values whose asymmetric zero point is a half up to rounding error:
    small integers times one float32, as an n_cell = 1 projection makes the output state. LiteRT's
    x86 quantizer (NeonAsymmetricQuantizeFloats) takes max - min in float32, the portable code in
    double; only rows where the two round the zero point to different integers are kept."""
    rows = []
    while len(rows) < count:
        v = (rng.integers(-9, 10, n) * rng.uniform(0.01, 1)).astype(F32)
        lo, hi = min(F32(0), v.min()), max(F32(0), v.max())
        if lo == hi:
            continue
        zps = []
        for diff in (np.float64(hi) - np.float64(lo), np.float64(hi - lo)):
            scale = diff / 255
            lo_s, hi_s = float(lo) / scale, float(hi) / scale
            zps.append(_half_away(-128 - lo_s if 128 + abs(lo_s) < 127 + abs(hi_s) else 127 - hi_s))
        if zps[0] != zps[1]:
            rows.append(v)
    return np.stack(rows)


@pytest.mark.parametrize("n_input", [4, 5])
@pytest.mark.parametrize("opcode", ["LSTM", "UNIDIRECTIONAL_SEQUENCE_LSTM", "BIDIRECTIONAL_SEQUENCE_LSTM"])
def test_asymmetric_zero_point_ties(opcode, n_input):
    """Hybrid asymmetric LSTMs with n_cell = 1 and a projection (CIFG, peepholes, no projection
    bias, batch-major): the inputs are rows whose zero point LiteRT rounds by its float32 range
    (see zero_point_tie_rows), and the output states fed back are multiples of one float, which
    hit the same ties. Bidirectional: the backward output is where this first showed."""
    rng = np.random.default_rng(16 + n_input)
    s = dict(hybrid=True, cifg=True, peephole=True, projection=True, proj_bias=False, layer_norm=False,
             asymmetric=True)
    opts = dict(fused_activation_function="TANH", cell_clip=0.6, proj_clip=0.5, asymmetric_quantize_inputs=True)
    batch, steps, n_output = 2, 3, 5
    shape = {"LSTM": (batch, n_input)}.get(opcode, (batch, steps, n_input))
    if opcode == "BIDIRECTIONAL_SEQUENCE_LSTM":
        inputs = bidi_inputs(rng, np.zeros(shape, F32), s, n_input, 1, n_output, batch, "none", None)
        model, _ = single_op_model(opcode, inputs, [F32, F32], version=3, merge_outputs=False, time_major=False,
                                   **opts)
    else:
        ops, _ = cell_operands(rng, n_input, 1, n_output, True, True, True, True, False, False)
        extra = {} if opcode == "LSTM" else dict(time_major=False)
        model, _ = single_op_model(opcode, [np.zeros(shape, F32)] + ops + [Var((batch, n_output)), Var((batch, 1))],
                                   [F32], version=4 if opcode == "LSTM" else 3, **opts, **extra)
    count = int(np.prod(shape[:-1]))
    feeds = [[zero_point_tie_rows(rng, n_input, count).reshape(shape)] for _ in range(3)]
    assert_invokes_match(model, feeds, opcode + " zero point ties", exact=True)


@pytest.mark.parametrize("hybrid", [False, True])
def test_state_carries_over(hybrid):
    """The same input twice gives different outputs (the state moved on), in both runtimes alike;
    the float weights may also arrive as runtime inputs."""
    rng = np.random.default_rng(9)
    ops, lns = cell_operands(rng, 3, 4, 4, hybrid, False, True, False, False, True)
    if not hybrid:
        ops[0] = In(ops[0].value)           # input-to-input weights as a runtime input
    x = rng.standard_normal((1, 2, 3)).astype(F32)
    inputs = [x] + ops + [Var((1, 4)), Var((1, 4))] + lns
    model, feed = single_op_model("UNIDIRECTIONAL_SEQUENCE_LSTM", inputs, [F32], version=2 if hybrid else 1,
                                  fused_activation_function="TANH")
    want, got = assert_invokes_match(model, [feed] * 3, "state", exact=hybrid)
    assert not np.allclose(got[0][0], got[1][0]) and not np.allclose(got[1][0], got[2][0])


def test_reset_variables():
    """reset_all_variables zeroes the state: the first output repeats."""
    rng = np.random.default_rng(10)
    ops, _ = cell_operands(rng, 3, 4, 4, False, False, False, False, False, False)
    x = rng.standard_normal((1, 3)).astype(F32)
    model, feed = single_op_model("LSTM", [x] + ops + [Var((1, 4)), Var((1, 4))], [F32],
                                  fused_activation_function="TANH")
    interp = numlite.Interpreter(model_content=model)
    interp.allocate_tensors()
    inp, out = interp.get_input_details()[0]["index"], interp.get_output_details()[0]["index"]
    interp.set_tensor(inp, x)
    interp.invoke()
    first = interp.get_tensor(out).copy()
    interp.invoke()
    assert not np.allclose(first, interp.get_tensor(out))
    interp.reset_all_variables()
    interp.invoke()
    np.testing.assert_array_equal(first, interp.get_tensor(out))


# ---------------------------------------------------------------------------------------------
# Malformed nodes and unsupported variants
# ---------------------------------------------------------------------------------------------

def base_lstm(rng, cifg=False, peephole=False, projection=False, layer_norm=True, n_output=4):
    ops, lns = cell_operands(rng, 3, 4, n_output if projection else 4, False, cifg, peephole, projection, True,
                             layer_norm)
    return [np.zeros((2, 3), F32)] + ops + [Var((2, n_output if projection else 4)), Var((2, 4))] + lns


def _drop(i):
    def f(ins, rng):
        ins[i] = None
    return f


def _put(i, make):
    def f(ins, rng):
        ins[i] = make(rng)
    return f


MALFORMED = {
    "19 operands": lambda ins, rng: ins.__delitem__(slice(19, None)),
    "input-to-input without recurrent-to-input": _drop(5),
    "recurrent-to-input without input-to-input": _drop(1),
    "one peephole only": _put(10, lambda rng: Const(np.ones(4, F32))),
    "projection bias without weights": _put(17, lambda rng: Const(np.ones(4, F32))),
    "missing forget bias": _drop(13),
    "input weights of the wrong shape": _put(2, lambda rng: Const(np.ones((4, 2), F32))),
    "recurrent weights of the wrong shape": _put(6, lambda rng: Const(np.ones((4, 5), F32))),
    "bias of the wrong size": _put(14, lambda rng: Const(np.ones(5, F32))),
    "constant output state": _put(18, lambda rng: Const(np.zeros((2, 4), F32))),
    "cell state of the wrong size": _put(19, lambda rng: Var((2, 5))),
    "missing cell layer norm": _drop(22),
    "layer norm of the wrong size": _put(23, lambda rng: Const(np.ones(3, F32))),
    "int32 bias": _put(12, lambda rng: Const(np.ones(4, np.int32))),
}


@pytest.mark.parametrize("opcode", ["LSTM", "UNIDIRECTIONAL_SEQUENCE_LSTM"])
@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_malformed_refused(opcode, case):
    rng = np.random.default_rng(11)
    inputs = base_lstm(rng)
    if opcode != "LSTM":
        inputs[0] = np.zeros((2, 2, 3), F32)
    MALFORMED[case](inputs, rng)
    model, feed = single_op_model(opcode, inputs, [F32], fused_activation_function="TANH")
    assert_model_refused(model, feed)


@pytest.mark.parametrize("case", ["negative cell_clip", "cifg with input gate bias", "47 operands",
                                  "merged with two outputs", "different cell sizes"])
def test_malformed_bidirectional_refused(case):
    rng = np.random.default_rng(12)
    s = dict(hybrid=False, cifg=case == "cifg with input gate bias", peephole=False, projection=False,
             proj_bias=False, asymmetric=False)
    inputs = bidi_inputs(rng, np.zeros((3, 2, 3), F32), s, 3, 4, 4, 2, "none", None)
    opts = dict(fused_activation_function="TANH", merge_outputs=False)
    outputs = [F32, F32]
    if case == "negative cell_clip":
        opts["cell_clip"] = -1.0
    elif case == "cifg with input gate bias":
        inputs[12] = Const(np.zeros(4, F32))
    elif case == "47 operands":
        inputs = inputs[:47]
    elif case == "merged with two outputs":
        opts["merge_outputs"] = True
    elif case == "different cell sizes":
        bw, _ = cell_operands(rng, 3, 5, 4, False, False, False, True, False, False)
        inputs[18:35] = bw
        inputs[38] = Var((2, 5))
    model, feed = single_op_model("BIDIRECTIONAL_SEQUENCE_LSTM", inputs, outputs, **opts)
    assert_model_refused(model, feed)


def test_unsupported_variants():
    rng = np.random.default_rng(13)
    # Per-channel hybrid weights: LiteRT's hybrid LSTM reads a single scale per tensor.
    ops, lns = cell_operands(rng, 3, 4, 4, True, False, False, False, False, False)
    w = ops[1].value
    ops[1] = Const(w, quantization=(np.full(4, 0.01, F32), np.zeros(4, np.int64), 0))
    model, feed = single_op_model("LSTM", [np.zeros((1, 3), F32)] + ops + [Var((1, 4)), Var((1, 4))], [F32],
                                  version=2, fused_activation_function="TANH")
    with pytest.raises(numlite.UnsupportedOpError):
        run_numlite(model, feed)
    # Hybrid with diagonal recurrent weights (LiteRT reinterprets the int8 diagonal as float).
    ops, _ = cell_operands(rng, 3, 4, 4, True, False, False, False, False, False, diagonal=True)
    model, feed = single_op_model("UNIDIRECTIONAL_SEQUENCE_LSTM",
                                  [np.zeros((1, 2, 3), F32)] + ops + [Var((1, 4)), Var((1, 4))], [F32],
                                  version=3, fused_activation_function="TANH", diagonal_recurrent_tensors=True)
    with pytest.raises(numlite.UnsupportedOpError):
        run_numlite(model, feed)
    # A float LSTM with float16 weights is neither the float nor the hybrid kernel.
    ops, _ = cell_operands(rng, 3, 4, 4, False, False, False, False, False, False)
    ops = [Const(o.value.astype(np.float16)) if o is not None and o.value.ndim == 2 else o for o in ops]
    model, feed = single_op_model("LSTM", [np.zeros((1, 3), F32)] + ops + [Var((1, 4)), Var((1, 4))], [F32],
                                  fused_activation_function="TANH")
    with pytest.raises(numlite.UnsupportedOpError):
        run_numlite(model, feed)


class _Spec:
    def __init__(self, type_name):
        self.type_name = type_name


class _Op:
    def __init__(self, opcode):
        self.opcode, self.version, self.options, self.custom = opcode, 1, {}, False
        self.options_type, self.custom_options = None, None


@pytest.mark.parametrize("opcode", ["LSTM", "UNIDIRECTIONAL_SEQUENCE_LSTM", "BIDIRECTIONAL_SEQUENCE_LSTM"])
@pytest.mark.parametrize("input_type, weight_type", [("FLOAT32", "FLOAT32"), ("FLOAT32", "INT8"),
                                                     ("FLOAT32", "UINT8"), ("INT8", "INT8"), ("INT16", "INT8"),
                                                     ("UINT8", "UINT8")])
def test_kernel_selection(opcode, input_type, weight_type):
    """The float class takes float weights, the hybrid class float input with 8-bit weights;
    integer-activation LSTMs are left to the integer kernels (the generic float class refuses them)."""
    specs = [_Spec(input_type)] + [_Spec(weight_type)] * 4
    cls = lookup(_Op(opcode), 0, True, specs)
    float_cls, hybrid_cls = {"LSTM": (K.Lstm, K.HybridLstm),
                             "UNIDIRECTIONAL_SEQUENCE_LSTM": (K.UnidirectionalSequenceLstm,
                                                              K.HybridUnidirectionalSequenceLstm),
                             "BIDIRECTIONAL_SEQUENCE_LSTM": (K.BidirectionalSequenceLstm,
                                                             K.HybridBidirectionalSequenceLstm)}[opcode]
    if input_type == "FLOAT32":
        assert cls is (float_cls if weight_type == "FLOAT32" else hybrid_cls)
    else:
        assert cls is not hybrid_cls
        if cls is float_cls:
            kernel = cls()
            with pytest.raises(numlite.UnsupportedOpError):
                kernel.prepare(Node(_Op(opcode), 0), [_Spec(input_type)], [_Spec(input_type)])
