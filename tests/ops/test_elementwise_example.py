import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from hypothesis.extra import numpy as hnp

from harness import check_op


@pytest.mark.parametrize("opcode", ["ADD", "SUB", "MUL"])
@settings(max_examples=25, deadline=None)
@given(data=st.data())
def test_binary_float_broadcast(opcode, data):
    shapes = data.draw(hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=4, max_side=5))
    a = data.draw(hnp.arrays(np.float32, shapes.input_shapes[0], elements=st.floats(-10, 10, width=32)))
    b = data.draw(hnp.arrays(np.float32, shapes.input_shapes[1], elements=st.floats(-10, 10, width=32)))
    act = data.draw(st.sampled_from(["NONE", "RELU", "RELU6", "RELU_N1_TO_1"]))
    check_op(opcode, [a, b], [np.float32], fused_activation_function=act)


@pytest.mark.parametrize("dtype", [np.int32, np.int64])
def test_add_integer(dtype):
    rng = np.random.default_rng(0)
    a = rng.integers(-1000, 1000, (2, 3, 4)).astype(dtype)
    b = rng.integers(-1000, 1000, (3, 1)).astype(dtype)
    check_op("ADD", [a, b], [dtype], version=4 if dtype == np.int64 else 1)
