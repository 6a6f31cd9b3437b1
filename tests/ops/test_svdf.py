"""SVDF against LiteRT's reference resolver: float32, hybrid (float input, int8 weights; symmetric
and asymmetric input quantization) and full integer (int8 / int16 state). The activation state
is a variable tensor, so every test invokes the model several times and compares each output;
the float and hybrid paths also compare the carried state."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import numlite
from harness import (ATOL, RTOL, Const, In, Var, assert_both_refuse, assert_model_refused, assert_outputs_match,
                     examples, single_op_model)
from test_requantize import random_values

ACTIVATIONS = ["NONE", "RELU", "RELU6", "RELU_N1_TO_1", "TANH", "SIGN_BIT"]


def invoke_sequence(model, feeds, runtime):
    """Outputs of invoking the model once per feed (the state carries over), and the final state."""
    if runtime == "litert":
        from ai_edge_litert.interpreter import Interpreter, OpResolverType
        interp = Interpreter(model_content=model, experimental_op_resolver_type=OpResolverType.BUILTIN_REF)
    else:
        kind = numlite.OpResolverType.BUILTIN_REF if runtime == "reference" else numlite.OpResolverType.AUTO
        interp = numlite.Interpreter(model_content=model, experimental_op_resolver_type=kind)
    interp.allocate_tensors()
    index = interp.get_input_details()[0]["index"]
    outs = []
    for x in feeds:
        interp.set_tensor(index, x)
        interp.invoke()
        outs.append(interp.get_tensor(interp.get_output_details()[0]["index"]).copy())
    state = [interp.get_tensor(d["index"]) for d in interp.get_tensor_details() if d["name"] == "v4"]
    return outs, (state[0].copy() if state else None)


def check_sequence(model, feeds, rtol=RTOL, atol=ATOL, exact=False):
    """Every invoke's output and the final state of numlite match LiteRT's: integers always
    exactly, floats within ``rtol`` of their range plus ``atol``, or bit for bit when ``exact``."""
    want, want_state = invoke_sequence(model, feeds, "litert")
    for runtime in ("reference", "auto"):
        got, got_state = invoke_sequence(model, feeds, runtime)
        assert got_state is not None and want_state is not None, "state tensor not found"
        for what, g, w in [("invoke %d" % k, g, w) for k, (g, w) in enumerate(zip(got, want))] + \
                [("final state", got_state, want_state)]:
            what = "SVDF[%s] %s" % (runtime, what)
            assert_outputs_match([g], [w], rtol=rtol, atol=atol, what=what)
            if exact:
                assert np.array_equal(g, w), "%s: not bit-identical, max difference %g" % (what, np.abs(g - w).max())


def draw_dims(draw):
    batch = draw(st.integers(1, 3), label="batch")
    input_size = draw(st.one_of(st.integers(1, 40), st.integers(41, 700)), label="input size")
    units = draw(st.integers(1, 6), label="units")
    rank = draw(st.integers(1, 3), label="rank")
    memory = draw(st.integers(1, 8), label="memory size")
    return batch, input_size, units, rank, memory


def float_inputs(rng, draw, shape, steps):
    """Normal inputs over a drawn magnitude; sometimes an all-zero step (LiteRT's hybrid kernel
    then skips quantization) or exact multiples of 1/4 (rounding ties)."""
    scale = 10.0 ** draw(st.floats(-2, 2), label="input log10 magnitude")
    style = draw(st.sampled_from(["normal", "zeros", "ties"]), label="input style")
    feeds = []
    for k in range(steps):
        x = rng.standard_normal(shape) * scale
        if style == "zeros" and k == 1:
            x[...] = 0
        elif style == "ties":
            x = np.round(x * 4) / 4
        feeds.append(x.astype(np.float32))
    return feeds


@settings(max_examples=examples(60), deadline=None)
@given(data=st.data())
def test_float(data):
    draw = data.draw
    rng = np.random.default_rng(draw(st.integers(0, 2 ** 32 - 1), label="seed"))
    batch, input_size, units, rank, memory = draw_dims(draw)
    filters = units * rank
    wf = rng.standard_normal((filters, input_size)).astype(np.float32)
    wt = rng.standard_normal((filters, memory)).astype(np.float32)
    bias = Const(rng.standard_normal(units).astype(np.float32)) if draw(st.booleans(), label="bias") else None
    act = draw(st.sampled_from(ACTIVATIONS), label="activation")
    feeds = float_inputs(rng, draw, (batch, input_size), 3)
    model, _ = single_op_model("SVDF", [feeds[0], Const(wf), Const(wt), bias, Var((batch, memory * filters))],
                               [np.float32], rank=rank, fused_activation_function=act)
    # numlite rounds the float64 feature product once; LiteRT adds float32 products, whose
    # rounding error follows the magnitude of the terms, not of the result: a state or output
    # that cancels to near zero can be 2e-4 of its own range off. Measured over 400 random
    # models: |error| <= 1.6e-7 x (largest sum of |x * feature weight| times largest row sum of
    # |time weight|), so allow 1e-6 of that magnitude on top of the default 1e-5 of the range.
    feature = max(float((np.abs(x.astype(np.float64)) @ np.abs(wf.astype(np.float64)).T).max()) for x in feeds)
    magnitude = feature * max(1.0, float(np.abs(wt).sum(axis=1).max()))
    check_sequence(model, feeds, atol=1e-6 * magnitude)


@settings(max_examples=examples(80), deadline=None)
@given(data=st.data())
def test_hybrid(data):
    draw = data.draw
    rng = np.random.default_rng(draw(st.integers(0, 2 ** 32 - 1), label="seed"))
    batch, input_size, units, rank, memory = draw_dims(draw)
    filters = units * rank
    wf = random_values(rng, np.int8, (filters, input_size), -127)
    wt = random_values(rng, np.int8, (filters, memory), -127)
    wf_scale, wt_scale = 10.0 ** np.array(draw(st.lists(st.floats(-4, 0), min_size=2, max_size=2),
                                               label="weight log10 scales"))
    bias = Const(rng.standard_normal(units).astype(np.float32)) if draw(st.booleans(), label="bias") else None
    act = draw(st.sampled_from(ACTIVATIONS), label="activation")
    asymmetric = draw(st.booleans(), label="asymmetric")
    feeds = float_inputs(rng, draw, (batch, input_size), 3)
    model, _ = single_op_model("SVDF", [feeds[0], Const(wf, quantization=(float(wf_scale), 0)),
                                        Const(wt, quantization=(float(wt_scale), 0)), bias,
                                        Var((batch, memory * filters))],
                               [np.float32], version=4 if asymmetric else 2, rank=rank,
                               fused_activation_function=act, asymmetric_quantize_inputs=asymmetric)
    # The integer feature product, its float32 scaling, the float32 time product and the
    # activation (Eigen's tanh for TANH) follow LiteRT operation by operation: bit-identical.
    check_sequence(model, feeds, exact=True)


def integer_model(rng, draw, batch, input_size, units, rank, memory, feeds_n=3):
    filters = units * rank
    logs = draw(st.lists(st.floats(-4, 1), min_size=4, max_size=4), label="log10 scales in/wf/wt/out")
    s_in, s_wf, s_wt, s_out = (float(np.float32(10.0 ** v)) for v in logs)
    # The state scale puts the feature product around the int16 range (sometimes saturating).
    s_state = float(np.float32(s_in * s_wf * 127 * 128 * np.sqrt(input_size) / 32768
                               * 10.0 ** draw(st.floats(-2, 1), label="state scale log10 factor")))
    in_zp = draw(st.sampled_from([-128, 127, 0, int(rng.integers(-128, 128))]), label="input zero point")
    out_zp = draw(st.sampled_from([-128, 127, 0, int(rng.integers(-128, 128))]), label="output zero point")
    wf = random_values(rng, np.int8, (filters, input_size), -127)
    wt = random_values(rng, np.int16, (filters, memory))
    bias = None
    if draw(st.booleans(), label="bias"):
        bias = Const(random_values(rng, np.int32, units, -(1 << 24), 1 << 24), quantization=(s_state * s_wt, 0))
    feeds = [random_values(rng, np.int8, (batch, input_size)) for _ in range(feeds_n)]
    model, _ = single_op_model("SVDF", [In(feeds[0], quantization=(s_in, in_zp)),
                                        Const(wf, quantization=(s_wf, 0)), Const(wt, quantization=(s_wt, 0)), bias,
                                        Var((batch, memory * filters), np.int16, quantization=(s_state, 0))],
                               [(np.int8, (s_out, out_zp))], version=3, rank=rank, fused_activation_function="RELU")
    return model, feeds


@settings(max_examples=examples(80), deadline=None)
@given(data=st.data())
def test_integer(data):
    draw = data.draw
    rng = np.random.default_rng(draw(st.integers(0, 2 ** 32 - 1), label="seed"))
    model, feeds = integer_model(rng, draw, *draw_dims(draw))
    check_sequence(model, feeds)


def test_integer_effective_scale_is_formed_in_float32():
    """input_scale * weights_feature_scale / state_scale formed in float32 gives a Q31 multiplier
    177 units below the double-precision one. An input whose feature product rounds differently
    under the two (state value 1044, not 1045) shows it in the state and in the output, which
    the second scale maps to 52 or 53 (minus 128)."""
    from numlite.kernels import fixedpoint as fp
    s_in, s_wf, s_state = np.float32(0.2664015), np.float32(0.003969552), np.float32(8.665135)
    m_float = fp.quantize_multiplier_scalar(np.float64(s_in * s_wf / s_state))
    m_double = fp.quantize_multiplier_scalar(np.float64(s_in) * np.float64(s_wf) / np.float64(s_state))
    assert m_float != m_double
    # Feature products 127 * sum(x + 128) over 512 inputs at weight 127: find one between the roundings.
    sums = np.arange(255 * 512 // 2, 255 * 512 + 1) * 127
    differs = sums[fp.multiply_by_quantized_multiplier(sums, *m_float)
                   != fp.multiply_by_quantized_multiplier(sums, *m_double)]
    full, rest = divmod(int(differs[0]) // 127, 255)
    x = np.full((1, 512), -128, np.int8)
    x[0, :full] = 127
    x[0, full:full + 1] = -128 + rest
    assert int(fp.multiply_by_quantized_multiplier(differs[0], *m_float)) == 1044
    s_wt = np.float32(1.0 / 256)
    s_out = np.float32(s_state * s_wt / np.float32(0.050225))
    model, _ = single_op_model("SVDF", [In(x, quantization=(float(s_in), -128)),
                                        Const(np.full((1, 512), 127, np.int8), quantization=(float(s_wf), 0)),
                                        Const(np.ones((1, 1), np.int16), quantization=(float(s_wt), 0)), None,
                                        Var((1, 1), np.int16, quantization=(float(s_state), 0))],
                               [(np.int8, (float(s_out), -128))], version=3, rank=1, fused_activation_function="RELU")
    check_sequence(model, [x])
    outs, state = invoke_sequence(model, [x], "reference")
    assert state[0, 0] == 1044 and outs[0][0, 0] == 52 - 128


def test_state_carries_over():
    """The same input invoked four times: the outputs change as the memory fills, identically in
    numlite and LiteRT, for each variant."""
    rng = np.random.default_rng(3)
    batch, input_size, units, rank, memory = 2, 7, 3, 2, 4
    filters = units * rank
    x = rng.standard_normal((batch, input_size)).astype(np.float32)
    var = Var((batch, memory * filters))
    float_model, _ = single_op_model("SVDF", [x, Const(rng.standard_normal((filters, input_size)).astype(np.float32)),
                                              Const(rng.standard_normal((filters, memory)).astype(np.float32)),
                                              None, var], [np.float32], rank=rank)
    hybrid_model, _ = single_op_model(
        "SVDF", [x, Const(random_values(rng, np.int8, (filters, input_size), -127), quantization=(0.01, 0)),
                 Const(random_values(rng, np.int8, (filters, memory), -127), quantization=(0.02, 0)), None, var],
        [np.float32], version=4, rank=rank, asymmetric_quantize_inputs=True)
    xq = random_values(rng, np.int8, (batch, input_size))
    int_model, _ = single_op_model(
        "SVDF", [In(xq, quantization=(0.05, 3)), Const(random_values(rng, np.int8, (filters, input_size), -127),
                                                       quantization=(0.01, 0)),
                 Const(random_values(rng, np.int16, (filters, memory), -3000, 3000), quantization=(0.001, 0)),
                 Const(random_values(rng, np.int32, units, -1000, 1000), quantization=(1e-5, 0)),
                 Var((batch, memory * filters), np.int16, quantization=(0.01, 0))],
        [(np.int8, (0.005, -2))], version=3, rank=rank, fused_activation_function="RELU")
    for model, feed, exact in ((float_model, x, False), (hybrid_model, x, True), (int_model, xq, True)):
        feeds = [feed] * 4
        check_sequence(model, feeds, exact=exact)
        outs, _ = invoke_sequence(model, feeds, "reference")
        assert not all(np.array_equal(outs[0], o) for o in outs[1:]), "the state did not change the output"


# ---------------------------------------------------------------------------------------------
# Malformed and unsupported nodes
# ---------------------------------------------------------------------------------------------

def _node(batch=2, input_size=4, units=3, rank=2, memory=3, **changes):
    """Operands of a valid float SVDF node, with some replaced."""
    filters = units * rank
    ops = {"input": np.ones((batch, input_size), np.float32),
           "wf": Const(np.ones((filters, input_size), np.float32)),
           "wt": Const(np.ones((filters, memory), np.float32)),
           "bias": Const(np.ones(units, np.float32)),
           "state": Var((batch, memory * filters))}
    ops.update(changes)
    return [ops["input"], ops["wf"], ops["wt"], ops["bias"], ops["state"]]


MALFORMED = {
    "rank 0": (_node(), {"rank": 0}),
    "filters not divisible by rank": (_node(units=3, rank=2, wf=Const(np.ones((5, 4), np.float32)),
                                            wt=Const(np.ones((5, 3), np.float32))), {"rank": 2}),
    "weights_feature rank 1": (_node(wf=Const(np.ones(6, np.float32))), {"rank": 2}),
    "input size mismatch": (_node(input=np.ones((2, 5), np.float32)), {"rank": 2}),
    "weights_time rows": (_node(wt=Const(np.ones((4, 3), np.float32))), {"rank": 2}),
    "bias size": (_node(bias=Const(np.ones(4, np.float32))), {"rank": 2}),
    "state shape": (_node(state=Var((2, 17))), {"rank": 2}),
    "state not variable": (_node(state=Const(np.zeros((2, 18), np.float32))), {"rank": 2}),
    "four inputs": (_node()[:4], {"rank": 2}),
}


# LiteRT reads only dims[0] and dims[1] of the input, so it runs a rank-3 input (reading its
# data as [dims[0], dims[1]] rows); numlite refuses the shape.
NUMLITE_ONLY = {"input rank 3": (_node(input=np.ones((2, 4, 1), np.float32)), {"rank": 2})}


@pytest.mark.parametrize("case", sorted(MALFORMED) + sorted(NUMLITE_ONLY))
def test_malformed(case):
    from harness import run_numlite
    inputs, options = MALFORMED.get(case) or NUMLITE_ONLY[case]
    if case in MALFORMED:
        assert_both_refuse("SVDF", inputs, [np.float32], **options)
    model, feed = single_op_model("SVDF", inputs, [np.float32], **options)
    with pytest.raises(numlite.ModelError) as info:
        run_numlite(model, feed)
    assert not isinstance(info.value, numlite.UnsupportedOpError), info.value


def _int_node(act="RELU", input_type=np.int8, wt_type=np.int16):
    x = np.zeros((1, 4), input_type)
    return ([In(x, quantization=(0.1, 0)), Const(np.ones((2, 4), np.int8), quantization=(0.1, 0)),
             Const(np.ones((2, 3), wt_type), quantization=(0.1, 0)), None,
             Var((1, 6), np.int16, quantization=(0.1, 0))],
            [(np.int8, (0.1, 0))], dict(rank=1, fused_activation_function=act, version=3))


def test_unsupported_integer_activation():
    """LiteRT's full-integer SVDF accepts only a fused RELU (its Eval fails otherwise)."""
    inputs, outputs, options = _int_node(act="NONE")
    model, feed = single_op_model("SVDF", inputs, outputs, **options)
    assert_model_refused(model, feed, numlite.UnsupportedOpError)


@pytest.mark.parametrize("case", ["uint8 input", "int16 input", "int8 weights_time in int8 node",
                                  "float16 weights", "per-channel hybrid weights"])
def test_unsupported_types(case):
    from harness import run_numlite
    if case == "uint8 input":
        inputs, outputs, options = _int_node(input_type=np.uint8)
    elif case == "int16 input":
        inputs, outputs, options = _int_node(input_type=np.int16)
    elif case == "int8 weights_time in int8 node":
        inputs, outputs, options = _int_node(wt_type=np.int8)
    elif case == "float16 weights":
        inputs = _node(wf=Const(np.ones((6, 4), np.float16)))
        outputs, options = [np.float32], {"rank": 2}
    else:
        inputs = _node(wf=Const(np.ones((6, 4), np.int8), quantization=(np.full(6, 0.1, np.float32),
                                                                        np.zeros(6, np.int64), 0)),
                       wt=Const(np.ones((6, 3), np.int8), quantization=(0.1, 0)))
        outputs, options = [np.float32], {"rank": 2, "version": 2}
    model, feed = single_op_model("SVDF", inputs, outputs, **options)
    with pytest.raises(numlite.UnsupportedOpError):
        run_numlite(model, feed)
