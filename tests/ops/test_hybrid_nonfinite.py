"""Hybrid (dynamic-range) kernels fed ±inf, NaN and values near the float32 limits, against
LiteRT's reference resolver.

A recurrent state that overflows, an input that holds inf or NaN: LiteRT gives such inputs a
definite result, and numlite must give the same one. The integers come from LiteRT's x86 float
to int32 conversions (hybrid.py's section on input quantization lists them), the floats from
IEEE float32 arithmetic (``dot * inf``, ``0 * inf`` = NaN, bias + inf ...). Outputs are compared
value for value: the same NaN and inf positions, every other value identical. Every family
that shares the hybrid helpers has a test here: FULLY_CONNECTED, the conv kernels (CONV_2D,
DEPTHWISE_CONV_2D, TRANSPOSE_CONV), BATCH_MATMUL, the RNNs, the LSTMs and SVDF. numlite must
compute all this without a RuntimeWarning (this module turns them into errors).
"""
import numpy as np
import pytest

from harness import Const, Var, assert_outputs_match, run_litert, run_numlite, single_op_model
from test_lstm import bidi_inputs, cell_operands as lstm_cell_operands, run_both
from test_rnn import BIDI_OPTIONS, cell_operands as rnn_cell_operands, invoke_all

pytestmark = pytest.mark.filterwarnings("error::RuntimeWarning")

F32 = np.float32
FLT_MAX = float(np.finfo(F32).max)
SPECIAL = np.array([np.inf, -np.inf, np.nan, 3e38, -3e38, FLT_MAX, 1e30, -1e30, 1e-30, 1e-39, -1e-39, 0.0], F32)
ACTIVATIONS = ["NONE", "RELU", "RELU6", "RELU_N1_TO_1", "TANH", "SIGN_BIT"]
CLAMPS = ["NONE", "RELU", "RELU6", "RELU_N1_TO_1"]


def special_values(rng, shape, share=None, magnitude=None):
    """Normal values of a random magnitude with a random share replaced by ±inf, NaN, values
    near float max or min, and zeros; sometimes a whole leading slice is zero."""
    share = rng.choice([0.05, 0.2, 0.5]) if share is None else share
    magnitude = 10.0 ** rng.uniform(-3, 3) if magnitude is None else magnitude
    x = (rng.standard_normal(shape) * magnitude).astype(F32)
    mask = rng.random(shape) < share
    x[mask] = rng.choice(SPECIAL, int(mask.sum()))
    if x.ndim and rng.random() < 0.2:
        x[rng.random(shape[0]) < 0.4] = 0
    return x


def assert_same(got, want, what):
    """Identical outputs: the same NaN and ±inf positions, every finite value equal."""
    assert_outputs_match(got, want, rtol=0, atol=0, what=what)


def check_single(opcode, inputs, outputs, **options):
    model, feed = single_op_model(opcode, inputs, outputs, **options)
    want = run_litert(model, feed)
    for reference in (True, False):
        assert_same(run_numlite(model, feed, reference=reference), want,
                    "%s%s" % (opcode, "" if reference else " [auto]"))
    return want


def check_sequence(model, feeds, what):
    """Invoke LiteRT and numlite (reference and auto) once per feed, the state carrying over;
    every invoke's outputs identical. Returns LiteRT's."""
    want = invoke_all(model, feeds, litert=True)
    for reference in (True, False):
        got = invoke_all(model, feeds, litert=False, reference=reference)
        for k, (g, w) in enumerate(zip(got, want)):
            assert_same(g, w, "%s invoke %d%s" % (what, k, "" if reference else " [auto]"))
    return want


def int8_weights(rng, shape, log10_scale=(-3, 1), per_channel_axis=None):
    w = rng.integers(-127, 128, shape).astype(np.int8)
    if per_channel_axis is None:
        return Const(w, quantization=(float(10 ** rng.uniform(*log10_scale)), 0))
    n = shape[per_channel_axis]
    scales = (10 ** rng.uniform(*log10_scale, n)).astype(F32)
    return Const(w, quantization=(scales, np.zeros(n, np.int64), per_channel_axis))


# ---------------------------------------------------------------------------------------------
# The bidirectional RNN example that overflowed (Hypothesis, tests/ops/test_rnn.py)
# ---------------------------------------------------------------------------------------------

class _Int8Weights:
    """test_rnn's int8 weight operands with one fixed scale."""

    hybrid = True

    def __init__(self, rng, scale):
        self.rng, self.scale = rng, scale

    def __call__(self, shape, what):
        return Const(self.rng.integers(-128, 127, shape, endpoint=True).astype(np.int8), quantization=(self.scale, 0))


def test_bidirectional_rnn_state_overflow():
    """Hybrid int8 weights, batch 1, time 4, input size 1, 5 forward / 1 backward units,
    time-major (the hybrid kernel then repeats both sequences 4 times), unmerged outputs, no
    activation, symmetric inputs, the aux input as the backward cell's input, 3 invokes: the
    forward state grows until it overflows to ±inf. Its quantization then has range inf
    (scaling factor inf, inverse 0, inf * 0 = NaN, which the int32 conversion turns into -127)
    and the products give ±inf or NaN; numlite used to give NaN where LiteRT keeps ±inf."""
    rng = np.random.default_rng(15)
    weights = _Int8Weights(rng, 0.03)
    steps, batch, cols = 4, 1, 1
    fw = rnn_cell_operands(weights, rng, 5, cols, batch, "fw ")
    bw = rnn_cell_operands(weights, rng, 1, cols, batch, "bw ")
    feeds = [[rng.standard_normal((steps, batch, cols)).astype(F32) for _ in range(2)] for _ in range(3)]
    inputs = [feeds[0][0]] + fw + bw + [feeds[0][1], None, None]
    model, _ = single_op_model("BIDIRECTIONAL_SEQUENCE_RNN", inputs, [F32, F32], options_type=BIDI_OPTIONS,
                               time_major=True, merge_outputs=False, fused_activation_function="NONE",
                               asymmetric_quantize_inputs=False)
    want = check_sequence(model, feeds, "BIDIRECTIONAL_SEQUENCE_RNN")
    last = want[-1][0]
    assert np.isinf(last).any() and np.isfinite(last).any(), "the example no longer overflows"


# ---------------------------------------------------------------------------------------------
# The quantization rules, one at a time (FULLY_CONNECTED with identity weights shows each
# quantized value times the input's scale)
# ---------------------------------------------------------------------------------------------

def identity_fc(row, asymmetric):
    row = np.asarray(row, F32).reshape(1, -1)
    k = row.shape[1]
    return check_single("FULLY_CONNECTED", [row, Const(np.eye(k, dtype=np.int8), quantization=(1.0, 0)), None],
                        [F32], version=9, asymmetric_quantize_inputs=asymmetric)[0][0]


def test_symmetric_conversions():
    """Symmetric quantization, a range of 7 (a NaN late in the row hides the inf from
    std::minmax_element): in the 8-wide vector part inf * 127/7 saturates to 127; in the
    scalar tail static_cast<int32_t> gives INT32_MIN for NaN and inf alike, clamped to -127."""
    vector = identity_fc([1, 2, np.inf, np.nan, 3, 4, 5, 6, 7], False)
    tail = identity_fc([1, 2, np.inf, np.nan, 3, 7], False)
    step = F32(F32(7) / F32(127))
    assert vector[2] == 127 * step and vector[3] == -127 * step
    assert tail[2] == tail[3] == -127 * step


def test_vector_rounding_adds_a_half():
    """The vector loop rounds x by adding ±0.5 in float32 and truncating: 0.49999997 + 0.5 is
    1.0 in float32, so it becomes 1 there, while the scalar tail's std::round gives 0."""
    x = F32(0.5) - F32(2.0 ** -25)
    vector = identity_fc([127, x, 0, 0, 0, 0, 0, -x], False)
    tail = identity_fc([127, x, -x], False)
    assert vector[1] == 1 and vector[-1] == -1
    assert tail[1] == 0 and tail[2] == 0


def test_asymmetric_conversions():
    """Asymmetric quantization, range [-1, 1] (NaNs make NeonMinMax forget the outliers): in
    the scalar tail offset + round(x / scale) converts with saturation — NaN 0, ±inf and huge
    values the int8 bounds; in the vector part the conversion gives INT32_MIN for NaN before the
    offset is added in wrapping int32."""
    base = np.linspace(-1, 1, 12)
    out = identity_fc(np.concatenate([base, [np.inf, np.nan, 0.5]]), True)
    scale = F32(2.0 / 255)
    offset = -1
    assert np.array_equal(out[12:14], (np.array([127, 0]) - offset) * scale)
    row = base.copy()
    row[1], row[5], row[9] = -np.inf, np.nan, 0.0
    out = identity_fc(row, True)
    assert out[1] == out[5] == (127 - offset) * scale      # INT32_MIN - 1 wraps to INT32_MAX


@pytest.mark.parametrize("row", [[np.inf], [np.inf, 1.0], [-np.inf, np.inf], [1.0, 2, 3, 4, 5, 6, 7, 8, np.inf],
                                 [np.nan], [np.nan, 1.0, 2.0], [1.0, np.nan, 2.0], [np.nan, 0, 0, 0], [0, 0, 0, 0, np.nan],
                                 [3e38, -3e38, 1, 2], [1e-38, 5e-39, 0, -1e-38], [FLT_MAX, 1.0], [1e-39, 0, 0]])
@pytest.mark.parametrize("asymmetric", [False, True])
def test_rows(row, asymmetric):
    """Rows with an infinite range (scale inf, inverse 0, a NaN zero point), NaNs that the range
    ignores, a difference max - min that overflows, ranges so small that their inverse
    overflows, and NaNs that IsZeroVector takes for zeros."""
    identity_fc(row, asymmetric)


def test_nan_counts_as_zero():
    """IsZeroVector tests blocks of 4 with |v| > 0, which a NaN fails: [NaN, 0, 0, 0] is skipped
    and the output is the bias. [NaN, 0, 0] has no whole block, v != 0 finds the NaN, and
    quantizing it gives range NaN (std::minmax_element's minimum is the first NaN) and NaNs."""
    bias = np.array([1.5, -2.0], F32)
    w = Const(np.ones((2, 4), np.int8), quantization=(0.5, 0))
    out = check_single("FULLY_CONNECTED", [np.array([[np.nan, 0, 0, 0]], F32), w, Const(bias)], [F32], version=9)
    np.testing.assert_array_equal(out[0], bias[None])
    w = Const(np.ones((2, 3), np.int8), quantization=(0.5, 0))
    out = check_single("FULLY_CONNECTED", [np.array([[np.nan, 0, 0]], F32), w, Const(bias)], [F32], version=9)
    assert np.isnan(out[0]).all()


@pytest.mark.parametrize("act", ["RELU", "RELU6", "RELU_N1_TO_1", "TANH", "SIGN_BIT", "NONE"])
def test_activation_of_nan(act):
    """ApplyActivationToVector's std::max / std::min turn a NaN into 0 (RELU, RELU6) or -1
    (RELU_N1_TO_1); TANH keeps it, SIGN_BIT reads its sign."""
    x = np.array([[np.inf, 1.0], [-np.inf, 1.0], [np.nan, 1.0], [3e38, -3e38]], F32)
    check_single("FULLY_CONNECTED", [x, Const(np.array([[1, 1], [1, -1], [0, 0]], np.int8), quantization=(4.0, 0)),
                                     Const(np.array([0.0, 1.0, np.nan], F32))],
                 [F32], version=9, fused_activation_function=act)


# ---------------------------------------------------------------------------------------------
# One differential test per family
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("seed", range(24))
def test_fully_connected(seed):
    rng = np.random.default_rng(seed)
    batch, cols, units = int(rng.integers(1, 4)), int(rng.integers(1, 41)), int(rng.integers(1, 6))
    x = special_values(rng, (batch, cols))
    w = int8_weights(rng, (units, cols), per_channel_axis=0 if rng.random() < 0.5 else None)
    bias = Const(special_values(rng, (units,), share=0.2)) if rng.random() < 0.7 else None
    check_single("FULLY_CONNECTED", [x, w, bias], [F32], version=9, asymmetric_quantize_inputs=bool(seed % 2),
                 fused_activation_function=ACTIVATIONS[seed % len(ACTIVATIONS)])


@pytest.mark.parametrize("seed", range(16))
def test_batch_matmul(seed):
    rng = np.random.default_rng(100 + seed)
    m, k, n = int(rng.integers(1, 5)), int(rng.integers(1, 30)), int(rng.integers(1, 5))
    batch = tuple(int(v) for v in rng.integers(1, 3, int(rng.integers(0, 3))))
    adj_x, adj_y = bool(rng.integers(0, 2)), bool(rng.integers(0, 2))
    rshape = batch + ((n, k) if adj_y else (k, n))
    rhs = int8_weights(rng, rshape, per_channel_axis=len(rshape) - (2 if adj_y else 1) if seed % 4 == 3 else None)
    lhs = special_values(rng, batch + ((k, m) if adj_x else (m, k)))
    check_single("BATCH_MATMUL", [lhs, rhs], [F32], version=4, adj_x=adj_x, adj_y=adj_y,
                 asymmetric_quantize_inputs=bool(seed % 2))


def window(rng):
    h, w = int(rng.integers(1, 6)), int(rng.integers(1, 6))
    kh, kw = int(rng.integers(1, min(h, 3) + 1)), int(rng.integers(1, min(w, 3) + 1))
    return (h, w), (kh, kw), dict(padding=str(rng.choice(["SAME", "VALID"])), stride_h=int(rng.integers(1, 3)),
                                  stride_w=int(rng.integers(1, 3)))


@pytest.mark.parametrize("seed", range(12))
def test_conv2d(seed):
    """Per-tensor weights quantize the image symmetrically, per-channel ones asymmetrically.
    The output clamp passes NaN and, without an activation, turns ±inf into ±FLT_MAX."""
    rng = np.random.default_rng(200 + seed)
    (h, w), (kh, kw), opts = window(rng)
    cin, oc = int(rng.integers(1, 4)), int(rng.integers(1, 4))
    x = special_values(rng, (int(rng.integers(1, 3)), h, w, cin))
    f = int8_weights(rng, (oc, kh, kw, cin), log10_scale=(-3, 0), per_channel_axis=0 if seed % 2 else None)
    out = check_single("CONV_2D", [x, f, Const(special_values(rng, (oc,), share=0.2))], [F32], version=2,
                       fused_activation_function=CLAMPS[seed % len(CLAMPS)], **opts)
    assert not np.isinf(out[0]).any()


@pytest.mark.parametrize("seed", range(8))
def test_depthwise_conv2d(seed):
    rng = np.random.default_rng(300 + seed)
    (h, w), (kh, kw), opts = window(rng)
    c, mult = int(rng.integers(1, 4)), int(rng.integers(1, 3))
    x = special_values(rng, (int(rng.integers(1, 3)), h, w, c))
    f = int8_weights(rng, (1, kh, kw, c * mult), log10_scale=(-3, 0), per_channel_axis=3)
    check_single("DEPTHWISE_CONV_2D", [x, f, Const(special_values(rng, (c * mult,), share=0.2))], [F32], version=6,
                 depth_multiplier=mult, fused_activation_function=CLAMPS[seed % len(CLAMPS)], **opts)


@pytest.mark.parametrize("seed", range(8))
def test_transpose_conv(seed):
    rng = np.random.default_rng(400 + seed)
    h, w, kh, kw = (int(v) for v in rng.integers(1, 4, 4))
    sh, sw = (int(v) for v in rng.integers(1, 3, 2))
    ic, oc, n = int(rng.integers(1, 4)), int(rng.integers(1, 4)), int(rng.integers(1, 3))
    padding = "SAME" if seed % 2 else "VALID"
    oh, ow = (h * sh, w * sw) if padding == "SAME" else ((h - 1) * sh + kh, (w - 1) * sw + kw)
    x = special_values(rng, (n, h, w, ic))
    f = int8_weights(rng, (oc, kh, kw, ic), log10_scale=(-3, 0), per_channel_axis=0 if seed % 4 > 1 else None)
    bias = Const(special_values(rng, (oc,), share=0.2)) if seed % 3 else None
    check_single("TRANSPOSE_CONV", [Const(np.array([n, oh, ow, oc], np.int32)), f, x, bias], [F32], version=4,
                 padding=padding, stride_h=sh, stride_w=sw, fused_activation_function=CLAMPS[seed % len(CLAMPS)])


@pytest.mark.parametrize("seed", range(16))
@pytest.mark.parametrize("opcode", ["RNN", "UNIDIRECTIONAL_SEQUENCE_RNN", "BIDIRECTIONAL_SEQUENCE_RNN"])
def test_rnn(opcode, seed):
    """Inputs with non-finite values and weights large enough that the state overflows;
    batch-major sequences step (and skip all-zero rows) one batch row at a time."""
    rng = np.random.default_rng(500 + seed)
    kind = np.int8 if seed % 4 else np.uint8

    class Weights:
        hybrid = True

        def __call__(self, shape, what):
            scale = float(10 ** rng.uniform(-3, 0.5))
            if kind == np.int8:
                return Const(rng.integers(-127, 128, shape).astype(np.int8), quantization=(scale, 0))
            return Const(rng.integers(0, 256, shape).astype(np.uint8), quantization=(scale, 128))

    weights = Weights()
    batch, steps = (int(v) for v in rng.integers(1, 4, 2))
    cols, units, bw_units = int(rng.integers(1, 12)), int(rng.integers(1, 9)), int(rng.integers(1, 6))
    time_major = bool(seed % 2)
    opts = dict(fused_activation_function=ACTIVATIONS[seed % len(ACTIVATIONS)],
                asymmetric_quantize_inputs=bool(seed % 3 == 0))
    share, magnitude = float(rng.choice([0.05, 0.2])), 10.0 ** rng.uniform(-1, 3)
    if opcode == "RNN":
        shape, outputs = (batch, cols), [F32]
        cells = rnn_cell_operands(weights, rng, units, cols, batch, "")
    elif opcode == "UNIDIRECTIONAL_SEQUENCE_RNN":
        shape, outputs = ((steps, batch, cols) if time_major else (batch, steps, cols)), [F32]
        cells = rnn_cell_operands(weights, rng, units, cols, batch, "")
        opts["time_major"] = time_major
    else:
        batch = 1 if time_major else batch
        shape, outputs = ((steps, batch, cols) if time_major else (batch, steps, cols)), [F32, F32]
        cells = rnn_cell_operands(weights, rng, units, cols, batch, "fw ") + \
            rnn_cell_operands(weights, rng, bw_units, cols, batch, "bw ")
        opts.update(options_type=BIDI_OPTIONS, time_major=time_major, merge_outputs=False)
    n_feed = 2 if opcode == "BIDIRECTIONAL_SEQUENCE_RNN" else 1
    feeds = [[special_values(rng, shape, share, magnitude) for _ in range(n_feed)] for _ in range(3)]
    inputs = [feeds[0][0]] + cells
    if opcode == "BIDIRECTIONAL_SEQUENCE_RNN":
        inputs += [feeds[0][1], weights((units, cols), "fw aux"), weights((bw_units, cols), "bw aux")]
    model, _ = single_op_model(opcode, inputs, outputs, version=3 if kind == np.int8 else 2, **opts)
    check_sequence(model, feeds, opcode)


def lstm_model(rng, opcode, seed):
    s = dict(hybrid=True, cifg=bool(rng.integers(0, 2)), peephole=bool(rng.integers(0, 2)),
             projection=bool(rng.integers(0, 2)), proj_bias=bool(rng.integers(0, 2)),
             layer_norm=opcode != "BIDIRECTIONAL_SEQUENCE_LSTM" and bool(rng.integers(0, 2)),
             asymmetric=bool(seed % 2))
    n_input, n_cell = int(rng.integers(1, 10)), int(rng.integers(1, 9))
    n_output = int(rng.integers(1, 7)) if s["projection"] else n_cell
    batch, steps = int(rng.integers(1, 4)), int(rng.integers(1, 4))
    time_major = seed % 4 < 2
    clip = bool(rng.integers(0, 2))
    opts = dict(fused_activation_function=["TANH", "NONE", "RELU", "RELU6", "RELU_N1_TO_1", "SIGN_BIT"][seed % 6],
                cell_clip=0.6 if clip else 0.0, proj_clip=0.5 if clip else 0.0,
                asymmetric_quantize_inputs=s["asymmetric"])
    version = 3 if s["asymmetric"] else 2
    share, magnitude = float(rng.choice([0.05, 0.2, 0.5])), 10.0 ** rng.uniform(-1, 3)
    if opcode == "BIDIRECTIONAL_SEQUENCE_LSTM":
        merge = bool(rng.integers(0, 2))
        batch = 1 if (merge and not time_major) else batch
        shape = (steps, batch, n_input) if time_major else (batch, steps, n_input)
        aux_mode = ["none", "cross links", "backward reads aux"][seed % 3]
        aux_shape = shape[:2] + ((int(rng.integers(1, 5)) if aux_mode == "cross links" else n_input),)
        inputs = bidi_inputs(rng, np.zeros(shape, F32), s, n_input, n_cell, n_output, batch, aux_mode, aux_shape)
        model, _ = single_op_model(opcode, inputs, [F32] if merge else [F32, F32], version=version,
                                   merge_outputs=merge, time_major=time_major, **opts)
        shapes = [shape] + ([aux_shape] if aux_mode != "none" else [])
    else:
        ops, lns = lstm_cell_operands(rng, n_input, n_cell, n_output, True, s["cifg"], s["peephole"],
                                      s["projection"], s["proj_bias"], s["layer_norm"])
        tail = lns if s["layer_norm"] else []
        if opcode == "LSTM":
            shape = (batch, n_input)
            model, _ = single_op_model(opcode, [np.zeros(shape, F32)] + ops + [Var((batch, n_output)), Var((batch, n_cell))]
                                       + tail, [F32], version=4 if s["asymmetric"] else 2, **opts)
        else:
            shape = (steps, batch, n_input) if time_major else (batch, steps, n_input)
            model, _ = single_op_model(opcode, [np.zeros(shape, F32)] + ops + [Var((batch, n_output)),
                                                                               Var((batch * n_cell,))] + tail,
                                       [F32], version=version, time_major=time_major, **opts)
        shapes = [shape]
    feeds = [[special_values(rng, sh, share, magnitude) for sh in shapes] for _ in range(3)]
    return model, feeds


@pytest.mark.parametrize("seed", range(12))
@pytest.mark.parametrize("opcode", ["LSTM", "UNIDIRECTIONAL_SEQUENCE_LSTM", "BIDIRECTIONAL_SEQUENCE_LSTM"])
def test_lstm(opcode, seed):
    """Non-finite inputs reach the gates, the cell state and the output state (which is fed
    back and quantized again, as is the projection input); LiteRT skips the products of
    all-zero vectors per time step, or per batch row when batch-major."""
    model, feeds = lstm_model(np.random.default_rng(600 + seed), opcode, seed)
    want, got = run_both(model, feeds)
    for k, (w, g) in enumerate(zip(want, got)):
        assert_same(g, w, "%s invoke %d" % (opcode, k))


@pytest.mark.parametrize("seed", range(12))
def test_svdf(seed):
    rng = np.random.default_rng(700 + seed)
    batch, cols, units, rank, memory = (int(rng.integers(1, n)) for n in (4, 30, 5, 4, 5))
    filters = units * rank
    wf = int8_weights(rng, (filters, cols), log10_scale=(-4, 1))
    wt = int8_weights(rng, (filters, memory), log10_scale=(-4, 1))
    bias = Const(special_values(rng, (units,), share=0.2)) if seed % 3 else None
    asymmetric = bool(seed % 2)
    feeds = [special_values(rng, (batch, cols)) for _ in range(3)]
    model, _ = single_op_model("SVDF", [feeds[0], wf, wt, bias, Var((batch, memory * filters))], [F32],
                               version=4 if asymmetric else 2, rank=rank, asymmetric_quantize_inputs=asymmetric,
                               fused_activation_function=ACTIVATIONS[seed % len(ACTIVATIONS)])
    check_sequence(model, [[x] for x in feeds], "SVDF")


# ---------------------------------------------------------------------------------------------
# Float kernels: the same inputs compute without RuntimeWarnings too
# ---------------------------------------------------------------------------------------------

def float_cases(rng):
    """(opcode, inputs, outputs, options) of float kernels whose sums, products or squares meet
    ±inf, NaN and values near float max."""
    x4 = special_values(rng, (1, 4, 4, 3), share=0.3, magnitude=1e3)
    pool = dict(filter_height=2, filter_width=2, stride_h=1, stride_w=1, padding="SAME")
    conv = dict(padding="SAME", stride_h=1, stride_w=1)
    axis = Const(np.array([1], np.int32))
    return [
        ("AVERAGE_POOL_2D", [x4], [F32], pool),
        ("L2_POOL_2D", [x4], [F32], pool),
        ("CONV_2D", [x4, Const(special_values(rng, (2, 2, 2, 3))), Const(special_values(rng, (2,)))], [F32], conv),
        ("DEPTHWISE_CONV_2D", [x4, Const(special_values(rng, (1, 2, 2, 3))), Const(special_values(rng, (3,)))], [F32],
         dict(conv, depth_multiplier=1)),
        ("TRANSPOSE_CONV", [Const(np.array([1, 8, 8, 2], np.int32)), Const(special_values(rng, (2, 2, 2, 3))), x4,
                            Const(special_values(rng, (2,)))], [F32], dict(padding="SAME", stride_h=2, stride_w=2)),
        ("FULLY_CONNECTED", [special_values(rng, (2, 5)), Const(special_values(rng, (3, 5))),
                             Const(special_values(rng, (3,)))], [F32], {}),
        ("BATCH_MATMUL", [special_values(rng, (2, 3, 4)), special_values(rng, (2, 4, 5))], [F32], {}),
        ("L2_NORMALIZATION", [x4], [F32], {}),
        ("LOCAL_RESPONSE_NORMALIZATION", [x4], [F32], dict(radius=2, bias=1.0, alpha=1.0, beta=0.5)),
        ("RESIZE_BILINEAR", [x4, Const(np.array([7, 5], np.int32))], [F32], {}),
        ("SUM", [special_values(rng, (3, 6)), axis], [F32], {}),
        ("MEAN", [special_values(rng, (3, 6)), axis], [F32], {}),
        ("REDUCE_PROD", [special_values(rng, (3, 6)), axis], [F32], {}),
        ("SVDF", [special_values(rng, (2, 5)), Const(special_values(rng, (3, 5))), Const(special_values(rng, (3, 4))),
                  Const(special_values(rng, (3,))), Var((2, 12))], [F32], dict(rank=1)),
        ("RNN", [special_values(rng, (2, 5)), Const(special_values(rng, (3, 5))), Const(special_values(rng, (3, 3))),
                 Const(special_values(rng, (3,))), Var((2, 3))], [F32], dict(fused_activation_function="TANH")),
    ]


@pytest.mark.parametrize("case", range(15))
@pytest.mark.parametrize("seed", range(4))
def test_float_kernels_without_warnings(seed, case):
    """numlite only: every float step here has an IEEE result (inf, NaN) that is the intended one.
    (Where such results differ from LiteRT's — its float kernels clamp to ±FLT_MAX, its max
    pool and reductions compare NaN away — is not this test's business.)"""
    opcode, inputs, outputs, options = float_cases(np.random.default_rng(800 + seed))[case]
    model, feed = single_op_model(opcode, inputs, outputs, **options)
    for reference in (True, False):
        run_numlite(model, feed, reference=reference)
