"""FULLY_CONNECTED and BATCH_MATMUL against LiteRT's reference kernels."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from hypothesis.extra import numpy as hnp

import numlite
from harness import Const, check_op, examples, run_litert, run_numlite, single_op_model

CLAMPS = ["NONE", "RELU", "RELU6", "RELU_N1_TO_1"]


def rand(rng, *shape):
    return rng.uniform(-2, 2, shape).astype(np.float32)


def const_or_runtime(draw, value, what):
    return Const(value) if draw(st.booleans(), label=what + " is constant") else value


# ------------------------------------------------------------------------------- FULLY_CONNECTED
@settings(max_examples=examples(100), deadline=None)
@given(data=st.data())
def test_fully_connected(data):
    draw = data.draw
    rng = np.random.default_rng(draw(st.integers(0, 2 ** 32 - 1), label="seed"))
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=4, max_side=5), label="input shape")
    keep = draw(st.booleans(), label="keep_num_dims")
    size = int(np.prod(shape))
    # Without keep_num_dims any row length up to the input size works: LiteRT truncates
    # input_size / cols and ignores the values that do not fill a row.
    cols = shape[-1] if keep else draw(st.integers(1, size))
    units = draw(st.integers(1, 8))
    x, weights = rand(rng, *shape), rand(rng, units, cols)
    bias = draw(st.sampled_from(["absent", "minus-one", "const", "runtime"]), label="bias")
    extra = {"absent": [], "minus-one": [None], "const": [Const(rand(rng, units))], "runtime": [rand(rng, units)]}[bias]
    out = check_op("FULLY_CONNECTED", [x, const_or_runtime(draw, weights, "weights")] + extra, [np.float32],
                   version=draw(st.integers(1, 12)), keep_num_dims=keep,
                   fused_activation_function=draw(st.sampled_from(CLAMPS)))
    assert out[0].shape == ((shape[:-1] + (units,)) if keep else (size // cols, units))


def test_fully_connected_mobilenet_head():
    rng = np.random.default_rng(0)
    x, weights, bias = rand(rng, 1, 1, 1, 1024), rand(rng, 1001, 1024), rand(rng, 1001)
    check_op("FULLY_CONNECTED", [x, Const(weights), Const(bias)], [np.float32])


def test_fully_connected_refusals():
    rng = np.random.default_rng(0)
    x, weights = rand(rng, 2, 6), Const(rand(rng, 3, 6))
    # LiteRT's FULLY_CONNECTED refuses TANH / SIGN_BIT fused activations.
    for act in ("TANH", "SIGN_BIT"):
        model, feed = single_op_model("FULLY_CONNECTED", [x, weights, None], [np.float32],
                                      fused_activation_function=act)
        with pytest.raises(RuntimeError):
            run_litert(model, feed)
        with pytest.raises(numlite.UnsupportedOpError, match=act):
            run_numlite(model, feed)
    # keep_num_dims needs the last input dimension to match the weights.
    model, feed = single_op_model("FULLY_CONNECTED", [rand(rng, 3, 4), weights, None], [np.float32],
                                  keep_num_dims=True)
    with pytest.raises(RuntimeError):
        run_litert(model, feed)
    with pytest.raises(numlite.ModelError, match="keep_num_dims"):
        run_numlite(model, feed)
    # The shuffled weights format is a uint8 layout numlite does not implement.
    model, feed = single_op_model("FULLY_CONNECTED", [x, weights, None], [np.float32, np.uint8], weights_format=1)
    with pytest.raises(numlite.UnsupportedOpError, match="SHUFFLED4x16INT8"):
        run_numlite(model, feed)


# ---------------------------------------------------------------------------------- BATCH_MATMUL
@settings(max_examples=examples(100), deadline=None)
@given(data=st.data())
def test_batch_matmul(data):
    draw = data.draw
    rng = np.random.default_rng(draw(st.integers(0, 2 ** 32 - 1), label="seed"))
    batch = draw(hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3, max_side=3),
                 label="batch dims")
    m, k, n = (draw(st.integers(1, 5)) for _ in range(3))
    adj_x, adj_y = draw(st.booleans(), label="adj_x"), draw(st.booleans(), label="adj_y")
    lhs = rand(rng, *batch.input_shapes[0], *((k, m) if adj_x else (m, k)))
    rhs = rand(rng, *batch.input_shapes[1], *((n, k) if adj_y else (k, n)))
    out = check_op("BATCH_MATMUL", [const_or_runtime(draw, lhs, "lhs"), const_or_runtime(draw, rhs, "rhs")],
                   [np.float32], version=draw(st.integers(1, 4)), adj_x=adj_x, adj_y=adj_y)
    assert out[0].shape == batch.result_shape + (m, n)


@pytest.mark.parametrize("lhs_shape, rhs_shape, adj_x", [
    ((2, 3, 4, 5), (1, 5, 6), False),   # LiteRT folds rhs's unit batch dim into lhs rows
    ((3, 4, 5), (2, 1, 5, 6), False),
    ((2, 3, 5, 4), (2, 1, 5, 6), True),
    ((1, 1, 1, 2, 3), (3, 4), False),   # rank 5 against rank 2
])
def test_batch_matmul_broadcast_cases(lhs_shape, rhs_shape, adj_x):
    rng = np.random.default_rng(1)
    check_op("BATCH_MATMUL", [rand(rng, *lhs_shape), Const(rand(rng, *rhs_shape))], [np.float32], adj_x=adj_x)


def test_batch_matmul_refusals():
    rng = np.random.default_rng(2)
    for lhs, rhs in (((2, 3, 4), (3, 4, 5)),          # batch dims 2 and 3 do not broadcast
                     ((2, 3), (4, 5)),                # inner dimensions differ
                     ((1, 1, 1, 1, 1, 2, 3), (3, 2))):  # rank above 5
        model, feed = single_op_model("BATCH_MATMUL", [rand(rng, *lhs), rand(rng, *rhs)], [np.float32])
        with pytest.raises(RuntimeError):
            run_litert(model, feed)
        with pytest.raises(numlite.ModelError):
            run_numlite(model, feed)
    # int8 operands without quantization parameters cannot be requantized.
    model, feed = single_op_model("BATCH_MATMUL", [rng.integers(-5, 5, (2, 3)).astype(np.int8),
                                                   rng.integers(-5, 5, (3, 2)).astype(np.int8)],
                                  [np.int8])
    with pytest.raises(numlite.ModelError):
        run_numlite(model, feed)
