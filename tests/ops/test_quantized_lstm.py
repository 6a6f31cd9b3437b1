"""Integer LSTMs against LiteRT's reference kernels, bit for bit, over several invokes (the output
and cell states are variable tensors carried from one invoke to the next):

* LSTM and UNIDIRECTIONAL_SEQUENCE_LSTM, int8 activations, LiteRT's 8x8_16 path (5 intermediates),
  with every combination of CIFG / peephole / projection / layer norm LiteRT accepts;
* LSTM with 12 intermediates (LiteRT's 8x8_8 path);
* the uint8 basic LSTM kernel (kernel_type BASIC);
* the converter-made int8 LSTM models of tests/models/data;
* the configurations LiteRT rejects, or cannot run safely, refused by numlite.
"""
import os

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import numlite
from harness import Const, In, Var, assert_outputs_match, examples, run_litert, single_op_model

F32 = np.float32


def seeded(data):
    return np.random.default_rng(data.draw(st.integers(0, 2 ** 32 - 1), label="seed"))


def log_scale(draw, lo, hi, label):
    """A float32 scale 10^u, u uniform in [lo, hi] (several orders of magnitude)."""
    return float(F32(10.0 ** draw(st.floats(lo, hi), label=label)))


def zero_point(draw, label, lo=-128, hi=127):
    return draw(st.one_of(st.sampled_from([lo, hi, 0]), st.integers(lo, hi)), label=label)


def invoke_both(model, feeds):
    """Run the model on LiteRT (BUILTIN_REF) and numlite (reference and auto), one invoke per feed,
    and require identical outputs after every invoke."""
    from ai_edge_litert.interpreter import Interpreter, OpResolverType
    runs = [("litert", Interpreter(model_content=model, experimental_op_resolver_type=OpResolverType.BUILTIN_REF))]
    for kind in (numlite.OpResolverType.BUILTIN_REF, numlite.OpResolverType.AUTO):
        runs.append((str(kind), numlite.Interpreter(model_content=model, experimental_op_resolver_type=kind)))
    for _, interp in runs:
        interp.allocate_tensors()
    for step, feed in enumerate(feeds):
        results = []
        for _, interp in runs:
            for d, v in zip(interp.get_input_details(), feed):
                interp.set_tensor(d["index"], v)
            interp.invoke()
            results.append([interp.get_tensor(d["index"]).copy() for d in interp.get_output_details()])
        for (name, _), got in zip(runs[1:], results[1:]):
            assert_outputs_match(got, results[0], what="invoke %d (%s)" % (step, name))
    return results[0]


def int_const(rng, shape, dtype, lo, hi, scale):
    return Const(rng.integers(lo, hi, shape, endpoint=True).astype(dtype), quantization=(scale, 0))


def draw_structure(draw, variant):
    if variant == "8x8_8":
        # LiteRT's 8x8_8 path dereferences layer norm, projection weights and bias unconditionally.
        return dict(cifg=draw(st.booleans(), label="cifg"), peephole=draw(st.booleans(), label="peephole"),
                    projection=True, layer_norm=True)
    return {k: draw(st.booleans(), label=k) for k in ("cifg", "peephole", "projection", "layer_norm")}


def lstm_case(data, opcode, variant="8x8_16", invokes=3, force=None):
    """Draw an integer LSTM node: (model bytes, feeds per invoke). ``force`` fixes draws by label."""
    force = force or {}

    def draw(strategy, label=None):
        return force[label] if label in force else data.draw(strategy, label=label)
    rng = seeded(data)
    s = draw_structure(draw, variant)
    sequence = opcode == "UNIDIRECTIONAL_SEQUENCE_LSTM"
    n_batch, n_input = draw(st.integers(1, 3), "batch"), draw(st.integers(1, 8), "input")
    n_cell = draw(st.integers(1, 12), "cells")
    n_output = draw(st.integers(1, 10), "outputs") if s["projection"] else n_cell
    if s["peephole"] and variant == "8x8_16":
        n_output = min(n_output, n_cell)     # more outputs than cells: LiteRT reads past its buffers
    time_major = draw(st.booleans(), "time major") if sequence else True
    steps = draw(st.integers(1, 4), "steps") if sequence else 1
    cell_log2 = -15 if variant == "8x8_8" else draw(st.integers(-15, -9), "cell log2")

    # Scales roughly as a quantizer would pick them (activations of order 1, hidden state in [-1, 1]),
    # spread over an order of magnitude or two so that gates neither all saturate nor all vanish.
    in_q = (log_scale(draw, -2.5, -0.5, "input scale"), zero_point(draw, "input zp"))
    state_q = (log_scale(draw, -2.3, -1.3, "state scale"), zero_point(draw, "state zp"))
    w_scale = {k: log_scale(draw, -3, -1.5, k + " weight scale") for k in ("input", "recurrent")}
    ln = s["layer_norm"]

    def weights(shape, kind):
        return int_const(rng, shape, np.int8, -128, 127, w_scale[kind])

    def gate(present, make):
        return make() if present else None

    gates = [not s["cifg"], True, True, True]
    peep_scale = log_scale(draw, -4, -1, "peephole scale")
    # Layer norm: output (Q3.12) = normalized * weight * scale * 2^12 + bias * scale * 2^2; real
    # weights and biases of order 1 keep the gates in range.
    ln_scale = log_scale(draw, -4.5, -3, "layer norm scale")
    ln_hi = min(32767, int(3 / ln_scale))
    bias_hi = int(1024 / ln_scale) if ln else (1 << 15)
    operands = [None]
    operands += [gate(g, lambda: weights((n_cell, n_input), "input")) for g in gates]
    operands += [gate(g, lambda: weights((n_cell, n_output), "recurrent")) for g in gates]
    operands += [gate(g and s["peephole"], lambda: int_const(rng, n_cell, np.int16, -4000, 4000, peep_scale))
                 for g in (gates[0], True, True)]      # cell-to-input, -forget, -output
    operands += [gate(g, lambda: int_const(rng, n_cell, np.int32, -bias_hi, bias_hi, 1e-4)) for g in gates]
    operands += [gate(s["projection"], lambda: int_const(rng, (n_output, n_cell), np.int8, -128, 127,
                                                         log_scale(draw, -2.6, -1.8, "projection scale"))),
                 gate(s["projection"] and (variant == "8x8_8" or draw(st.booleans(), "projection bias")),
                      lambda: int_const(rng, n_output, np.int32, -(1 << 14), 1 << 14, 1e-3))]
    operands += [Var((n_batch, n_output), np.int8, state_q), Var((n_batch, n_cell), np.int16, (2.0 ** cell_log2, 0))]
    if ln or draw(st.booleans(), "24 operands"):
        operands += [gate(g and ln, lambda: int_const(rng, n_cell, np.int16, -ln_hi, ln_hi, ln_scale)) for g in gates]

    if variant == "8x8_8":
        intermediates = [(np.int8, (log_scale(draw, -3, -1, "intermediate scale"), zero_point(draw, "intermediate zp")))
                         for _ in range(12)]
    else:
        # Without layer norm LiteRT ignores intermediates 0-3 (gates are Q3.12).
        intermediates = [(np.int16, (log_scale(draw, -5, -2, "gate scale"), 0)) for _ in range(4)]
        # With projection LiteRT stores the hidden state minus its zero point (b/246629213): a zero
        # point far from 0 saturates it, so mostly draw small ones.
        hidden_zp = draw(st.one_of(st.integers(-8, 8), st.integers(-128, 127)), "hidden zp")
        intermediates.append((np.int8, (log_scale(draw, -2.4, -1.9, "hidden scale"), hidden_zp)))

    options = dict(fused_activation_function="TANH",
                   cell_clip=draw(st.sampled_from([0.0, 0.3, 0.9, 3.0]), "cell clip"),
                   proj_clip=draw(st.sampled_from([0.0, 0.3, 1.0, 4.0]), "proj clip"))
    if sequence:
        options["time_major"] = time_major
        shape = (steps, n_batch, n_input) if time_major else (n_batch, steps, n_input)
    else:
        shape = (n_batch, n_input)
    feeds = [[rng.integers(-128, 127, shape, endpoint=True).astype(np.int8)] for _ in range(invokes)]
    operands[0] = In(feeds[0][0], quantization=in_q)
    model, _ = single_op_model(opcode, operands, [(np.int8, state_q)], version=4 if opcode == "LSTM" else 1,
                               intermediates=intermediates, **options)
    return model, feeds


@settings(max_examples=examples(100), deadline=None)
@given(data=st.data())
def test_lstm_8x8_16(data):
    invoke_both(*lstm_case(data, "LSTM"))


@settings(max_examples=examples(80), deadline=None)
@given(data=st.data())
def test_sequence_lstm_8x8_16(data):
    invoke_both(*lstm_case(data, "UNIDIRECTIONAL_SEQUENCE_LSTM"))


@settings(max_examples=examples(60), deadline=None)
@given(data=st.data())
def test_lstm_8x8_8(data):
    invoke_both(*lstm_case(data, "LSTM", variant="8x8_8"))


def basic_lstm_case(data, invokes=3):
    draw = data.draw
    rng = seeded(data)
    n_batch, n_input = draw(st.integers(1, 3), "batch"), draw(st.integers(1, 6), "input")
    depth = draw(st.integers(1, 6), "depth")
    w_q = (log_scale(draw, -3, -2, "weight scale"), zero_point(draw, "weight zp", 0, 255))
    if draw(st.booleans(), "bias scale = input x weight"):
        bias_scale = w_q[0] / 128
    else:
        bias_scale = log_scale(draw, -6, -4.5, "bias scale")
    activ_q = (1 / 128, 128)            # the kernel reads activations as (v - 128) / 128 regardless
    state_q = (2.0 ** -11, 0)           # LiteRT only instantiates LstmCell<4>
    # LiteRT resets the uint8 activation state to 0 (its zero point is not used for uint8 variables).
    operands = [None, Var((n_batch, depth), np.uint8, activ_q),
                Const(rng.integers(0, 255, (4 * depth, n_input + depth), endpoint=True).astype(np.uint8),
                      quantization=w_q),
                int_const(rng, 4 * depth, np.int32, -40000, 40000, bias_scale),
                Var((n_batch, depth), np.int16, state_q)]
    feeds = [[rng.integers(0, 255, (n_batch, n_input), endpoint=True).astype(np.uint8)] for _ in range(invokes)]
    operands[0] = In(feeds[0][0], quantization=activ_q)
    outputs = [(np.uint8, activ_q), (np.int16, state_q), (np.uint8, activ_q), (np.int16, (2.0 ** -12, 0))]
    model, _ = single_op_model("LSTM", operands, outputs, version=2, kernel_type=1, fused_activation_function="TANH")
    return model, feeds


@settings(max_examples=examples(60), deadline=None)
@given(data=st.data())
def test_basic_lstm_uint8(data):
    invoke_both(*basic_lstm_case(data))


@settings(max_examples=examples(20), deadline=None)
@given(data=st.data())
def test_peephole_fewer_outputs_than_cells(data):
    """LiteRT's integer peephole term walks n_output (not n_cell) entries per call: with fewer outputs
    than cells the last cells get no peephole term, and in time-major calls the flat indexing runs
    across batch rows (batch-major sequences call it one row at a time)."""
    force = dict(cifg=data.draw(st.booleans(), "cifg"), peephole=True, projection=True, batch=3, cells=6,
                 outputs=data.draw(st.integers(1, 5), "outputs"))
    invoke_both(*lstm_case(data, data.draw(st.sampled_from(["LSTM", "UNIDIRECTIONAL_SEQUENCE_LSTM"]), "op"),
                           force=force))


@pytest.mark.parametrize("gap", [20, 60, 121, 170])
def test_layer_norm_of_saturated_gates(gap):
    """LiteRT's integer layer norm divides 2^20 by the cell count before multiplying: for a count
    that is not a power of two and values near the int16 limits the variance comes out below 1 and
    is replaced by the variance guard, and rescaled * weight + bias then exceeds int32 (LiteRT's
    build evaluates it in 64 bits). Here five gate pre-activations saturate at 32767 and one sits
    ``gap`` below."""
    rng = np.random.default_rng(gap)
    n_batch, n_cell = 2, 6
    # Effective input scale 2 (0.0625 * 0.03125 / 2^-12); x - zero point = (129, 1) in the first invoke:
    # a row (127, b) gives 2 * (129 * 127 + b) = 32766 + 2b.
    w = np.full((n_cell, 2), 127)
    w[:, 1] = 50
    w[3, 1] = -gap // 2
    weights = Const(w.astype(np.int8), quantization=(2.0 ** -5, 0))
    operands = [None] + [weights] * 4
    operands += [int_const(rng, (n_cell, n_cell), np.int8, -3, 3, 0.01) for _ in range(4)] + [None] * 3
    operands += [int_const(rng, n_cell, np.int32, -(1 << 20), 1 << 20, 1e-4) for _ in range(4)] + [None] * 2
    operands += [Var((n_batch, n_cell), np.int8, (0.01, 0)), Var((n_batch, n_cell), np.int16, (2.0 ** -11, 0))]
    operands += [int_const(rng, n_cell, np.int16, 20000, 32767, 3e-5) for _ in range(4)]
    first = np.array([[1, -127]] * n_batch, np.int8)
    feeds = [[first]] + [[rng.integers(-128, 127, (n_batch, 2), endpoint=True).astype(np.int8)] for _ in range(2)]
    operands[0] = In(first, quantization=(2.0 ** -6, -128))
    inter = [(np.int16, (2.0 ** -12, 0))] * 4 + [(np.int8, (0.008, 0))]
    model, _ = single_op_model("LSTM", operands, [(np.int8, (0.01, 0))], version=4, intermediates=inter,
                               fused_activation_function="TANH")
    invoke_both(model, feeds)


@pytest.mark.parametrize("name", ["lstm_stacked_int8", "bilstm_int8"])
def test_int8_lstm_models(name):
    """Models from the TFLite converter (stacked and bidirectional UNIDIRECTIONAL_SEQUENCE_LSTMs)."""
    with open(os.path.join(os.path.dirname(__file__), "..", "models", "data", name + ".tflite"), "rb") as f:
        model = f.read()
    from ai_edge_litert.interpreter import Interpreter
    details = Interpreter(model_content=model).get_input_details()
    rng = np.random.default_rng(len(name))
    feeds = [[rng.integers(-128, 127, d["shape"], endpoint=True).astype(d["dtype"]) for d in details]
             for _ in range(2)]
    invoke_both(model, feeds)


# ---------------------------------------------------------------------------------------------
# Refusals
# ---------------------------------------------------------------------------------------------

def small_lstm(cell_scale=2.0 ** -11, in_dtype=np.int8, n_output=4, peephole=False, projection=False,
               intermediates=5, layer_norm=False, opcode="LSTM", runtime_weights=False):
    rng = np.random.default_rng(0)
    n_batch, n_input, n_cell = 2, 3, 4
    shape = (n_batch, n_input) if opcode == "LSTM" else (2, n_batch, n_input)

    def w(shape):
        return int_const(rng, shape, np.int8, -128, 127, 0.01)
    bias_type = np.int64 if in_dtype == np.int16 else np.int32
    operands = [In(rng.integers(-100, 100, shape).astype(in_dtype), quantization=(0.05, 0)),
                In(rng.integers(-100, 100, (n_cell, n_input)).astype(np.int8), quantization=(0.01, 0))
                if runtime_weights else w((n_cell, n_input)),
                w((n_cell, n_input)), w((n_cell, n_input)), w((n_cell, n_input))]
    operands += [w((n_cell, n_output)) for _ in range(4)]
    operands += [int_const(rng, n_cell, np.int16, -100, 100, 1e-3) if peephole else None for _ in range(3)]
    operands += [int_const(rng, n_cell, bias_type, -100, 100, 1e-4) for _ in range(4)]
    operands += [w((n_output, n_cell)) if projection else None,
                 int_const(rng, n_output, np.int32, -10, 10, 1e-3) if projection else None]
    state_type = np.int16 if in_dtype == np.int16 else np.int8
    operands += [Var((n_batch, n_output), state_type, (0.02, 0)), Var((n_batch, n_cell), np.int16, (cell_scale, 0))]
    operands += [int_const(rng, n_cell, np.int16, 1000, 2000, 1e-4) if layer_norm else None for _ in range(4)]
    inter = [(np.int16, (2.0 ** -12, 0))] * 4 + [(np.int8, (0.01, 0))] if intermediates == 5 else \
        [(np.int8, (0.01, 0))] * intermediates
    options = dict(fused_activation_function="TANH")
    if opcode != "LSTM":
        options["time_major"] = True
    return single_op_model(opcode, operands, [(state_type, (0.02, 0))], version=4 if opcode == "LSTM" else 1,
                           intermediates=inter, **options)


def run_numlite_once(model, feed):
    interp = numlite.Interpreter(model_content=model, experimental_op_resolver_type=numlite.OpResolverType.BUILTIN_REF)
    interp.allocate_tensors()
    for d, v in zip(interp.get_input_details(), feed):
        interp.set_tensor(d["index"], v)
    interp.invoke()


@pytest.mark.parametrize("kwargs", [
    dict(in_dtype=np.int16),               # LiteRT has no 16x8 LSTM
    dict(intermediates=4),
], ids=["int16 activations", "4 intermediates"])
def test_both_refuse(kwargs):
    model, feed = small_lstm(**kwargs)
    with pytest.raises((RuntimeError, ValueError)):
        run_litert(model, feed)
    with pytest.raises(numlite.ModelError):
        run_numlite_once(model, feed)


@pytest.mark.parametrize("kwargs", [
    # LSTM needs a power-of-two cell scale of at most 2^-9, but its Prepare ignores the failed check
    # and LiteRT then runs with zeroed parameters.
    dict(cell_scale=2.0 ** -8),
    dict(cell_scale=3e-4),
    # LiteRT's 8x8_8 path dereferences projection weights and layer norm coefficients: it crashes.
    dict(intermediates=12),
    # With peepholes LiteRT walks n_output entries of n_cell-sized buffers: out of bounds.
    dict(peephole=True, projection=True, n_output=6),
    # UNIDIRECTIONAL_SEQUENCE_LSTM skips the cell-scale check, then ApplyTanh leaves its scratch unwritten.
    dict(cell_scale=2.0 ** -8, opcode="UNIDIRECTIONAL_SEQUENCE_LSTM"),
    # Weights are folded into biases at prepare: they must be constants.
    dict(runtime_weights=True),
], ids=["cell scale 2^-8", "cell scale not POT", "8x8_8 without projection", "peephole n_output > n_cell",
        "sequence cell scale 2^-8", "runtime weights"])
def test_numlite_refuses_what_litert_cannot_run(kwargs):
    model, feed = small_lstm(**kwargs)
    with pytest.raises(numlite.UnsupportedOpError):
        run_numlite_once(model, feed)


def test_int16_sequence_lstm_is_refused_by_both():
    """LiteRT has no 16x8 UNIDIRECTIONAL_SEQUENCE_LSTM either (nor LSTM, above): the integer kernel
    claims int8 inputs only, and the float kernel refuses int16 ones."""
    model, feed = small_lstm(in_dtype=np.int16, opcode="UNIDIRECTIONAL_SEQUENCE_LSTM")
    with pytest.raises((RuntimeError, ValueError)):
        run_litert(model, feed)
    with pytest.raises(numlite.UnsupportedOpError):
        run_numlite_once(model, feed)
