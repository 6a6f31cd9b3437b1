"""Quantized activations (LOGISTIC, TANH, ELU, GELU, SOFTMAX, LOG_SOFTMAX, HARD_SWISH, LEAKY_RELU,
PRELU, RELU family) against LiteRT's reference kernels (bit-exact), plus the quantized models'
activation layers compared tensor by tensor."""
import os

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import numlite
from harness import (Const, In, assert_both_refuse, assert_outputs_match, check_op, examples, run_litert,
                     run_numlite, single_op_model)
from test_requantize import draw_quant, random_values

EIGHT_BIT = [np.int8, np.uint8]
IDS = dict(ids=lambda t: np.dtype(t).name)


def every_value(dtype):
    """All 256 values of an 8-bit type: a table activation is then checked entry by entry."""
    info = np.iinfo(dtype)
    return np.arange(info.min, info.max + 1).astype(dtype).reshape(4, 8, 8)


def seeded(data):
    return np.random.default_rng(data.draw(st.integers(0, 2 ** 32 - 1), label="seed"))


def draw_int16_input_scale(data):
    # Power-of-two scales take LiteRT's shift-only path, the others a 15-bit multiplier.
    if data.draw(st.booleans(), label="power of two"):
        return 2.0 ** data.draw(st.integers(-14, -10), label="log2 scale")
    return float(np.float32(10.0 ** data.draw(st.floats(-5, -2), label="log10 scale")))


@pytest.mark.parametrize("dtype", EIGHT_BIT, **IDS)
@settings(max_examples=examples(60), deadline=None)
@given(data=st.data())
def test_logistic_tanh_gelu_tables(dtype, data):
    q_in = draw_quant(data.draw, dtype, "in")
    x = In(every_value(dtype), q_in)
    logistic_q = (1 / 256, -128 if dtype == np.int8 else 0)   # LiteRT requires this output
    check_op("LOGISTIC", [x], [(dtype, logistic_q)], version=data.draw(st.integers(1, 3)))
    check_op("TANH", [x], [(dtype, draw_quant(data.draw, dtype, "tanh out"))], version=data.draw(st.integers(1, 3)))
    check_op("GELU", [x], [(dtype, draw_quant(data.draw, dtype, "gelu out"))], version=2,
             approximate=data.draw(st.booleans(), label="approximate"))


@pytest.mark.parametrize("opcode", ["EXP", "LOG"])
@pytest.mark.parametrize("dtype", [np.int8, np.int16], **IDS)
@settings(max_examples=examples(60), deadline=None)
@given(data=st.data())
def test_exp_log_tables(opcode, dtype, data):
    # int16: a 513-entry table interpolated on the 7 low bits; log(x <= 0) is the lowest output.
    x = every_value(dtype) if dtype == np.int8 else random_values(seeded(data), dtype, (8, 64))
    q_in = draw_quant(data.draw, dtype, "in")
    if dtype == np.int16:
        q_in = (q_in[0] / 1000, 0)
    check_op(opcode, [In(x, q_in)], [(dtype, draw_quant(data.draw, dtype, "out"))],
             version=data.draw(st.integers(1, 2)))


@settings(max_examples=examples(60), deadline=None)
@given(data=st.data())
def test_elu_int8(data):
    # LiteRT's BUILTIN_REF resolver has no ELU kernel; its builtin resolver's int8 ELU is a table.
    model, feed = single_op_model("ELU", [In(every_value(np.int8), draw_quant(data.draw, np.int8, "in"))],
                                  [(np.int8, draw_quant(data.draw, np.int8, "out"))])
    want = run_litert(model, feed, reference=False)
    for reference in (True, False):
        assert_outputs_match(run_numlite(model, feed, reference=reference), want, what="ELU")


@pytest.mark.parametrize("zero_point", [-128, -3, 0, 1, 90])
def test_table_rounding_ties(zero_point):
    # Inputs 0..255 (scale 1): tanh saturates to exactly 1.0 and ELU is the identity, so output
    # scales 2 and 0.4 put entries exactly on .5. LiteRT's reference table rounds ties away from
    # zero before adding the zero point; the builtin ELU adds the zero point, then rounds to even.
    x = In(every_value(np.int8), (1.0, -128))
    for out_scale in (2.0, 0.4, 10.0):
        check_op("TANH", [x], [(np.int8, (out_scale, zero_point))])
        model, feed = single_op_model("ELU", [x], [(np.int8, (out_scale, zero_point))])
        assert_outputs_match(run_numlite(model, feed), run_litert(model, feed, reference=False), what="ELU")


@pytest.mark.parametrize("opcode", ["LOGISTIC", "TANH"])
@settings(max_examples=examples(60), deadline=None)
@given(data=st.data())
def test_logistic_tanh_int16(opcode, data):
    x = random_values(seeded(data), np.int16, (3, 300))
    check_op(opcode, [In(x, (draw_int16_input_scale(data), 0))], [(np.int16, (2.0 ** -15, 0))],
             version=data.draw(st.integers(1, 3)))


def draw_rows(data, rng, dtype):
    shape = tuple(data.draw(st.lists(st.integers(1, 5), min_size=0, max_size=3), label="outer"))
    depth = data.draw(st.sampled_from([1, 2, 7, 33, 300]), label="depth")
    x = random_values(rng, dtype, shape + (depth,))
    if data.draw(st.booleans(), label="narrow rows"):   # values near the row maximum dominate
        x = np.clip(x, np.iinfo(dtype).max - 12, None).astype(dtype)
    return x


@pytest.mark.parametrize("dtype", EIGHT_BIT, **IDS)
@pytest.mark.parametrize("out_int16", [False, True])
@settings(max_examples=examples(60), deadline=None)
@given(data=st.data())
def test_softmax_8bit(dtype, out_int16, data):
    x = draw_rows(data, seeded(data), dtype)
    q_in = draw_quant(data.draw, dtype, "in")
    if out_int16:
        out = (np.int16, (1 / 65536, -32768))
    else:
        out = (dtype, (1 / 256, -128 if dtype == np.int8 else 0))
    check_op("SOFTMAX", [In(x, q_in)], [out], version=data.draw(st.integers(1, 3)),
             beta=data.draw(st.floats(0.05, 3), label="beta"))


@settings(max_examples=examples(60), deadline=None)
@given(data=st.data())
def test_softmax_int16(data):
    x = draw_rows(data, seeded(data), np.int16)
    check_op("SOFTMAX", [In(x, (draw_int16_input_scale(data) * 10, 0))], [(np.int16, (1 / 32768, 0))],
             version=data.draw(st.integers(1, 3)), beta=data.draw(st.floats(0.05, 3), label="beta"))


@pytest.mark.parametrize("dtype", EIGHT_BIT, **IDS)
@settings(max_examples=examples(60), deadline=None)
@given(data=st.data())
def test_log_softmax(dtype, data):
    x = draw_rows(data, seeded(data), dtype)
    scale = float(np.float32(10.0 ** data.draw(st.floats(-3, 0.5), label="log10 scale")))
    q_in = (scale, draw_quant(data.draw, dtype, "in")[1])
    check_op("LOG_SOFTMAX", [In(x, q_in)], [(dtype, (16 / 256, np.iinfo(dtype).max))],
             version=data.draw(st.integers(1, 2)))


@pytest.mark.parametrize("dtype", EIGHT_BIT, **IDS)
@settings(max_examples=examples(60), deadline=None)
@given(data=st.data())
def test_hard_swish(dtype, data):
    # Output scales up to 10^5 times the input scale: shifts past 15 bits hit LiteRT's int16
    # rounding-shift quirk (the result becomes the sign).
    q_in = draw_quant(data.draw, dtype, "in")
    out_scale = float(np.float32(q_in[0] * 10.0 ** data.draw(st.floats(-1.5, 5), label="log10 out/in scale")))
    check_op("HARD_SWISH", [In(every_value(dtype), q_in)], [(dtype, (out_scale, draw_quant(data.draw, dtype)[1]))])


@pytest.mark.parametrize("dtype", [np.int8, np.uint8, np.int16], **IDS)
@settings(max_examples=examples(60), deadline=None)
@given(data=st.data())
def test_leaky_relu(dtype, data):
    x = every_value(dtype) if dtype != np.int16 else random_values(seeded(data), np.int16, (4, 64))
    alpha = data.draw(st.one_of(st.floats(-3, 3, width=32), st.sampled_from([0.0, 0.01, 0.2, 1.0])), label="alpha")
    check_op("LEAKY_RELU", [In(x, draw_quant(data.draw, dtype, "in"))], [(dtype, draw_quant(data.draw, dtype, "out"))],
             version=data.draw(st.integers(1, 2)), alpha=alpha)


@pytest.mark.parametrize("dtype", EIGHT_BIT, **IDS)
@settings(max_examples=examples(60), deadline=None)
@given(data=st.data())
def test_prelu(dtype, data):
    rng = seeded(data)
    x = random_values(rng, dtype, (2, 3, 4, 5))
    alpha_shape = data.draw(st.sampled_from([(5,), (1, 1, 5), (4, 5), (3, 4, 5), (2, 3, 4, 5)]), label="alpha shape")
    alpha = random_values(rng, dtype, alpha_shape)
    q_alpha = draw_quant(data.draw, dtype, "alpha")
    alpha = Const(alpha, quantization=q_alpha) if data.draw(st.booleans(), label="constant alpha") else \
        In(alpha, q_alpha)
    check_op("PRELU", [In(x, draw_quant(data.draw, dtype, "in")), alpha],
             [(dtype, draw_quant(data.draw, dtype, "out"))])


@pytest.mark.parametrize("opcode, dtypes", [("RELU", [np.int8, np.uint8, np.int16]),
                                            ("RELU6", [np.int8, np.uint8, np.int16]),
                                            ("RELU_N1_TO_1", EIGHT_BIT), ("RELU_0_TO_1", EIGHT_BIT)])
@settings(max_examples=examples(60), deadline=None)
@given(data=st.data())
def test_relu_family(opcode, dtypes, data):
    dtype = data.draw(st.sampled_from(dtypes), label="dtype")
    x = every_value(dtype) if dtype != np.int16 else random_values(seeded(data), np.int16, (4, 64))
    q_in = draw_quant(data.draw, dtype, "in")
    q_out = q_in if data.draw(st.booleans(), label="same quantization") else draw_quant(data.draw, dtype, "out")
    check_op(opcode, [In(x, q_in)], [(dtype, q_out)])


def test_refusals():
    x8 = every_value(np.int8)
    # LiteRT's 8-bit LOGISTIC needs output scale 1/256; int8 SOFTMAX needs 1/256 and -128
    assert_both_refuse("LOGISTIC", [In(x8, (0.1, 0))], [(np.int8, (1 / 128, -128))])
    assert_both_refuse("SOFTMAX", [In(x8, (0.1, 0))], [(np.int8, (1 / 256, 0))], beta=1.0)
    assert_both_refuse("LOG_SOFTMAX", [In(x8, (0.1, 0))], [(np.int8, (1 / 16, 0))])
    # int16 TANH needs a 2^-15 output scale and zero points 0
    x16 = np.zeros((2, 3), np.int16)
    assert_both_refuse("TANH", [In(x16, (2.0 ** -12, 0))], [(np.int16, (2.0 ** -14, 0))])
    assert_both_refuse("RELU", [In(x16, (0.1, 4))], [(np.int16, (0.1, 0))])
    # HARD_SWISH needs an output scale no finer than input_scale / 128
    assert_both_refuse("HARD_SWISH", [In(x8, (0.1, 0))], [(np.int8, (0.0001, 0))])


# Each model's activation / elementwise layers, tensor by tensor. ``resolver`` is the LiteRT
# resolver that can run the model: mlp_uint8io has an ELU, which BUILTIN_REF lacks, so only its
# layers whose builtin kernel equals the reference one are compared (not SOFTMAX, LEAKY_RELU).
MODELS = [("mobilenet_like_int8", "BUILTIN_REF", {"HARD_SWISH", "ADD", "SOFTMAX"}),
          ("unet_like_int8", "BUILTIN_REF", {"LOGISTIC"}),
          ("mobilenet_like_16x8", "BUILTIN_REF", {"ADD", "SOFTMAX"}),
          ("mlp_uint8io", "AUTO", {"TANH", "GELU"})]


@pytest.mark.filterwarnings("ignore:Warning. Enabling `experimental_preserve_all_tensors`")
@pytest.mark.parametrize("name, resolver, opcodes", MODELS, ids=[m[0] for m in MODELS])
def test_model_layers(name, resolver, opcodes):
    from ai_edge_litert.interpreter import Interpreter, OpResolverType
    path = os.path.join(os.path.dirname(__file__), "..", "models", "data", name + ".tflite")
    want = Interpreter(model_path=path, experimental_preserve_all_tensors=True,
                       experimental_op_resolver_type=getattr(OpResolverType, resolver))
    got = numlite.Interpreter(model_path=path, experimental_preserve_all_tensors=True,
                              experimental_op_resolver_type=getattr(numlite.OpResolverType, resolver))
    sg = numlite.load_model(path).subgraphs[0]
    rng = np.random.default_rng(0)
    for interp in (want, got):
        interp.allocate_tensors()
    for d in want.get_input_details():
        x = random_values(rng, d["dtype"], d["shape"]) if np.issubdtype(d["dtype"], np.integer) else \
            rng.standard_normal(d["shape"]).astype(d["dtype"])
        want.set_tensor(d["index"], x)
        got.set_tensor(d["index"], x)
    want.invoke()
    got.invoke()
    checked = set()
    for op in sg.operators:
        if op.opcode not in opcodes:
            continue
        # Feed LiteRT's inputs to this layer alone, so upstream layers cannot mask or cause a diff.
        inputs = [Const(want.get_tensor(i), quantization=sg.tensors[i].quantization) if sg.tensors[i].data is not None
                  else In(want.get_tensor(i), quantization=sg.tensors[i].quantization) for i in op.inputs]
        out = sg.tensors[op.outputs[0]]
        model, feed = single_op_model(op.opcode, inputs, [(out.dtype, out.quantization, out.shape)],
                                      version=op.version, **op.options)
        assert_outputs_match(run_numlite(model, feed), [want.get_tensor(op.outputs[0])], what=op.opcode)
        checked.add(op.opcode)
    assert checked == opcodes
