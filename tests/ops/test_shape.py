"""Differential tests (LiteRT BUILTIN_REF vs numlite) for the shape-changing data-movement ops.

Also holds the operand helpers the other data-movement test files import (``rand``, ``operand``,
``out_of``, ``runtime_or_const``).
"""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from hypothesis.extra import numpy as hnp

import numlite
from harness import Const, In, assert_outputs_match, check_op, examples, run_litert, run_numlite, single_op_model
from numlite.builder import ModelBuilder

# Quantization given to quantized operands: data movement must copy raw values whatever it is.
QUANT = {np.int8: (0.5, -3), np.uint8: (0.25, 128), np.int16: (0.125, 0)}
DATA_TYPES = [np.float32, np.int8, np.uint8, np.int16, np.int32, np.int64, np.bool_]
SETTINGS = settings(max_examples=examples(20), deadline=None)


def rand(rng, shape, dtype):
    """Random values of any supported dtype (object = TFLite STRING)."""
    shape = tuple(shape)
    if dtype is object or dtype == np.dtype(object):
        words = np.array([b"", b"a", b"bc", b"def", b"ghij"], dtype=object)
        out = np.empty(shape, dtype=object)
        out[...] = words[rng.integers(0, len(words), shape)]
        return out
    dtype = np.dtype(dtype)
    if dtype.kind == "f":
        return rng.uniform(-50, 50, shape).astype(dtype)
    if dtype.kind == "b":
        return rng.integers(0, 2, shape).astype(bool)
    info = np.iinfo(dtype)
    return rng.integers(max(info.min, -1000), min(info.max, 1000), shape, endpoint=True).astype(dtype)


def input_shape(shape, dtype):
    """LiteRT's Python wrapper corrupts 0-d STRING inputs, so string inputs get at least one dim."""
    return (tuple(shape) or (1,)) if dtype is object else tuple(shape)


def operand(value, const=False):
    """A runtime input (or constant) carrying the dtype's test quantization."""
    q = QUANT.get(np.dtype(value.dtype).type)
    return Const(value, quantization=q) if const else In(value, quantization=q)


def out_of(dtype):
    q = QUANT.get(np.dtype(dtype).type)
    return (dtype, q) if q else dtype


def runtime_or_const(value, runtime):
    """A small index tensor given as a runtime input (dynamic output shape) or as a constant."""
    return value if runtime else Const(value)


def seeded(data):
    return np.random.default_rng(data.draw(st.integers(0, 2 ** 32 - 1), label="seed"))


def expect_both_fail(opcode, inputs, outputs, version=1, **options):
    """LiteRT refuses the node (at allocation or invoke): numlite must refuse it too."""
    model, feed = single_op_model(opcode, inputs, outputs, version=version, **options)
    with pytest.raises((RuntimeError, ValueError)):
        run_litert(model, feed)
    with pytest.raises((RuntimeError, ValueError)):
        run_numlite(model, feed)


# -- RESHAPE -------------------------------------------------------------------------------------

@SETTINGS
@given(data=st.data())
def test_reshape(data):
    rng = seeded(data)
    dtype = data.draw(st.sampled_from(DATA_TYPES + [object]))
    shape = input_shape(data.draw(hnp.array_shapes(min_dims=0, max_dims=4, min_side=1, max_side=4)), dtype)
    x = rand(rng, shape, dtype)
    # A random factorisation of the element count, possibly with one -1.
    n = x.size
    new = []
    while n > 1 and len(new) < 4:
        d = data.draw(st.sampled_from([k for k in range(1, n + 1) if n % k == 0]))
        new.append(d)
        n //= d
    if n > 1:
        new.append(n)
    new = data.draw(st.permutations(new)) if new else []
    if new and data.draw(st.booleans()):
        new[data.draw(st.integers(0, len(new) - 1))] = -1
    mode = data.draw(st.sampled_from(["option", "const", "runtime"]))
    shape_t = np.array(new, np.int32).reshape(len(new))
    if mode == "option":
        check_op("RESHAPE", [operand(x)], [out_of(dtype)], new_shape=new)
    elif mode == "const":
        check_op("RESHAPE", [operand(x), Const(shape_t)], [out_of(dtype)])
    elif dtype is not object:
        check_op("RESHAPE", [operand(x), shape_t], [out_of(dtype)])


@pytest.mark.parametrize("shape_input,option,want", [
    (np.zeros((0,), np.int32), None, ()),              # empty shape vector → scalar
    (None, [0], ()),                                   # legacy [0] option → scalar
    (np.array(1, np.int32), [1, 1], (1, 1)),           # scalar shape tensor: the option is used
    (np.array([1, 1], np.int64), [1], (1,)),           # int64 shape tensor: the option is used
])
def test_reshape_shape_sources(shape_input, option, want):
    x = np.array([3.5], np.float32)
    ins = [x] if shape_input is None else [x, Const(shape_input)]
    got = check_op("RESHAPE", ins, [np.float32], **({} if option is None else {"new_shape": option}))
    assert got[0].shape == want


def test_reshape_runtime_empty_shape_gives_scalar():
    got = check_op("RESHAPE", [np.array([3.5], np.float32), np.zeros((0,), np.int32)], [np.float32])
    assert got[0].shape == ()


@pytest.mark.parametrize("shape,new,want", [
    ((0, 3), [-1, 0], (3, 0)),        # zero-sized: -1 comes from the non-zero dims, as in TF
    ((2, 0, 3), [4, 0, -1], (4, 0, 1)),
    ((0, 5), [-1, 2, 0], (2, 2, 0)),
])
def test_reshape_zero_sized(shape, new, want):
    got = check_op("RESHAPE", [np.zeros(shape, np.float32), Const(np.array(new, np.int32))], [np.float32])
    assert got[0].shape == want


def test_reshape_bad_count():
    expect_both_fail("RESHAPE", [np.zeros((2, 3), np.float32), Const(np.array([4, -1], np.int32))], [np.float32])


# -- SQUEEZE / EXPAND_DIMS -----------------------------------------------------------------------

@SETTINGS
@given(data=st.data())
def test_squeeze(data):
    rng = seeded(data)
    dtype = data.draw(st.sampled_from(DATA_TYPES + [object]))
    shape = data.draw(hnp.array_shapes(min_dims=1, max_dims=5, min_side=1, max_side=3))
    ones = [i for i, d in enumerate(shape) if d == 1]
    dims = data.draw(st.lists(st.sampled_from(ones), unique=True)) if ones else []
    dims = [d - len(shape) if data.draw(st.booleans()) else d for d in dims]
    check_op("SQUEEZE", [operand(rand(rng, shape, dtype))], [out_of(dtype)], squeeze_dims=dims)


def test_squeeze_non_unit_dim_fails():
    expect_both_fail("SQUEEZE", [np.zeros((2, 3), np.float32)], [np.float32], squeeze_dims=[1])


@SETTINGS
@given(data=st.data())
def test_expand_dims(data):
    rng = seeded(data)
    dtype = data.draw(st.sampled_from(DATA_TYPES + [object]))
    shape = input_shape(data.draw(hnp.array_shapes(min_dims=0, max_dims=4, min_side=1, max_side=3)), dtype)
    axis = data.draw(st.integers(-len(shape) - 1, len(shape)))
    idx_type = data.draw(st.sampled_from([np.int32, np.int64]))
    runtime = data.draw(st.booleans()) and dtype is not object
    check_op("EXPAND_DIMS", [operand(rand(rng, shape, dtype)), runtime_or_const(np.array([axis], idx_type), runtime)],
             [out_of(dtype)])


def test_expand_dims_requires_equal_quantization():
    x = In(np.zeros((2, 3), np.int8), quantization=(0.5, 1))
    expect_both_fail("EXPAND_DIMS", [x, Const(np.array(0, np.int32))], [(np.int8, (0.25, 1))])


# -- SHAPE / FILL / BROADCAST_TO / TILE ------------------------------------------------------------

@pytest.mark.parametrize("out_type", [np.int32, np.int64])
def test_shape(out_type):
    # (LiteRT's Python wrapper cannot read back empty tensors, so no test output is empty.)
    for shape in [(3,), (2, 1, 4), (1, 2, 3, 4, 5)]:
        got = check_op("SHAPE", [np.zeros(shape, np.float32)], [out_type],
                       out_type="INT32" if out_type == np.int32 else "INT64")
        assert got[0].tolist() == list(shape)


@SETTINGS
@given(data=st.data())
def test_fill(data):
    rng = seeded(data)
    dtype = data.draw(st.sampled_from(DATA_TYPES + [object]))
    dims = data.draw(hnp.array_shapes(min_dims=0, max_dims=4, min_side=1, max_side=4))
    dims_t = np.array(dims, data.draw(st.sampled_from([np.int32, np.int64]))).reshape(len(dims))
    value = rand(rng, (), dtype)
    runtime = data.draw(st.booleans()) and len(dims) > 0
    check_op("FILL", [runtime_or_const(dims_t, runtime), operand(value, const=not runtime or dtype is object)],
             [out_of(dtype)])


@SETTINGS
@given(data=st.data())
def test_broadcast_to(data):
    rng = seeded(data)
    dtype = data.draw(st.sampled_from(DATA_TYPES))
    target = data.draw(hnp.array_shapes(min_dims=1, max_dims=5, min_side=1, max_side=4))
    k = data.draw(st.integers(0, len(target)))
    src = tuple(d if data.draw(st.booleans()) else 1 for d in target[len(target) - k:])
    shape_t = np.array(target, data.draw(st.sampled_from([np.int32, np.int64])))
    check_op("BROADCAST_TO", [operand(rand(rng, src, dtype)), runtime_or_const(shape_t, data.draw(st.booleans()))],
             [out_of(dtype)], version=2)


@SETTINGS
@given(data=st.data())
def test_tile(data):
    rng = seeded(data)
    dtype = data.draw(st.sampled_from(DATA_TYPES + [object]))
    shape = data.draw(hnp.array_shapes(min_dims=1, max_dims=4, min_side=1, max_side=3))
    mult = np.array(data.draw(st.lists(st.integers(1, 3), min_size=len(shape), max_size=len(shape))),
                    data.draw(st.sampled_from([np.int32, np.int64])))
    runtime = data.draw(st.booleans()) and dtype is not object
    check_op("TILE", [operand(rand(rng, shape, dtype)), runtime_or_const(mult, runtime)], [out_of(dtype)])


# -- TRANSPOSE / DEPTH_TO_SPACE / SPACE_TO_DEPTH ---------------------------------------------------

@SETTINGS
@given(data=st.data())
def test_transpose(data):
    rng = seeded(data)
    dtype = data.draw(st.sampled_from(DATA_TYPES))
    shape = data.draw(hnp.array_shapes(min_dims=1, max_dims=7, min_side=1, max_side=3))
    perm = np.array(data.draw(st.permutations(range(len(shape)))), np.int32)
    check_op("TRANSPOSE", [operand(rand(rng, shape, dtype)), runtime_or_const(perm, data.draw(st.booleans()))],
             [out_of(dtype)])


@pytest.mark.parametrize("opcode", ["DEPTH_TO_SPACE", "SPACE_TO_DEPTH"])
@SETTINGS
@given(data=st.data())
def test_block_rearrange(opcode, data):
    rng = seeded(data)
    dtype = data.draw(st.sampled_from([np.float32, np.int8, np.uint8, np.int32, np.int64]))
    bs = data.draw(st.integers(1, 3))
    n, h, w, c = (data.draw(st.integers(1, 3)) for _ in range(4))
    shape = (n, h, w, c * bs * bs) if opcode == "DEPTH_TO_SPACE" else (n, h * bs, w * bs, c)
    check_op(opcode, [operand(rand(rng, shape, dtype))], [out_of(dtype)], block_size=bs)


def test_depth_to_space_indivisible_fails():
    expect_both_fail("DEPTH_TO_SPACE", [np.zeros((1, 2, 2, 6), np.float32)], [np.float32], block_size=2)


# -- RANGE / WHERE ---------------------------------------------------------------------------------

@SETTINGS
@given(data=st.data())
def test_range(data):
    dtype = data.draw(st.sampled_from([np.int32, np.int64, np.float32]))
    if dtype == np.float32:
        start, limit = (data.draw(st.floats(-20, 20, width=32)) for _ in range(2))
        delta = data.draw(st.floats(0.0625, 5, width=32)) * (1 if limit >= start else -1)
    else:
        start, limit = (data.draw(st.integers(-30, 30)) for _ in range(2))
        delta = data.draw(st.integers(1, 7)) * (1 if limit >= start else -1)
    if start == limit:  # (an empty result cannot be read back from LiteRT)
        limit = start + delta
    runtime = data.draw(st.booleans())
    ins = [runtime_or_const(np.array(v, dtype), runtime) for v in (start, limit, delta)]
    check_op("RANGE", ins, [dtype])


def test_range_wrong_direction_fails():
    expect_both_fail("RANGE", [Const(np.array(5, np.int32)), Const(np.array(1, np.int32)),
                               Const(np.array(1, np.int32))], [np.int32])


@SETTINGS
@given(data=st.data())
def test_where(data):
    rng = seeded(data)
    shape = data.draw(hnp.array_shapes(min_dims=1, max_dims=4, min_side=1, max_side=4))
    cond = rng.random(shape) < data.draw(st.floats(0, 1))
    cond.flat[0] = True
    check_op("WHERE", [cond], [np.int64])


def test_unsupported_type_is_refused_cleanly():
    model, feed = single_op_model("TRANSPOSE", [np.zeros((2, 2), object), Const(np.array([1, 0], np.int32))], [object])
    with pytest.raises(numlite.UnsupportedOpError):
        run_numlite(model, feed)


# -- quantized operands: raw copies where LiteRT does not compare quantization ------------------

_C = lambda v: Const(np.array(v, np.int32))  # noqa: E731
RAW_COPY_CASES = {
    "RESHAPE": ((2, 3, 4), [_C([4, 6])], {}),
    "SQUEEZE": ((2, 1, 4), [], {}),
    "TRANSPOSE": ((2, 3, 4), [_C([2, 0, 1])], {}),
    "TILE": ((2, 3, 4), [_C([1, 2, 1])], {}),
    "BROADCAST_TO": ((3, 1), [_C([2, 3, 4])], {"version": 2}),
    "SLICE": ((2, 3, 4), [_C([0, 1, 1]), _C([2, 2, -1])], {}),
    "STRIDED_SLICE": ((2, 3, 4), [_C([1, 0, 3]), _C([2, 3, 0]), _C([1, 2, -1])], {}),
    "GATHER": ((2, 3, 4), [_C([2, 0, 2])], {"axis": 1}),
    "GATHER_ND": ((2, 3, 4), [_C([[1, 2], [0, 1]])], {}),
    "REVERSE_V2": ((2, 3, 4), [_C([1])], {}),
    "DEPTH_TO_SPACE": ((1, 2, 2, 4), [], {"block_size": 2}),
    "SPACE_TO_DEPTH": ((1, 4, 2, 1), [], {"block_size": 2}),
    "RESIZE_NEAREST_NEIGHBOR": ((1, 2, 3, 2), [_C([3, 5])], {}),
    "PAD": ((2, 3), [_C([[1, 0], [0, 2]])], {}),   # fills with the *output* zero point
}


@pytest.mark.parametrize("opcode", sorted(RAW_COPY_CASES))
@pytest.mark.parametrize("dtype", [np.int8, np.uint8])
def test_quantized_raw_copy(opcode, dtype):
    shape, extra, opts = RAW_COPY_CASES[opcode]
    x = rand(np.random.default_rng(1), shape, dtype)
    out_q = (0.75, 10 if dtype == np.int8 else 50)
    check_op(opcode, [In(x, quantization=(0.5, -3 if dtype == np.int8 else 128))] + extra, [(dtype, out_q)], **opts)


def test_split_raw_copy():
    x = In(rand(np.random.default_rng(2), (4, 3), np.int8), quantization=(0.5, 1))
    check_op("SPLIT", [_C(0), x], [(np.int8, (0.25, 2))] * 2, num_splits=2)


def test_fill_requires_equal_quantization():
    expect_both_fail("FILL", [_C([2, 2]), Const(np.array(3, np.int8), quantization=(0.5, 1))], [(np.int8, (0.5, 2))])


# -- ops downstream of a dynamic output (prepared again at every invoke) -------------------------

DOWNSTREAM = {
    "SQUEEZE": ([], {}),
    "TRANSPOSE": ([np.array([3, 1, 2, 0], np.int32)], {}),
    "DEPTH_TO_SPACE": ([], {"block_size": 2}),
    "TILE": ([np.array([1, 2, 1, 1], np.int32)], {}),
    "STRIDED_SLICE": ([np.array([0, 1, 0, 0], np.int32), np.array([1, 3, 2, 4], np.int32),
                       np.array([1, 1, -1, 2], np.int32)], {}),
    "GATHER": ([np.array([1, 0, 1], np.int32)], {"axis": 2}),
    "PAD": ([np.array([[0, 0], [1, 0], [0, 2], [1, 1]], np.int32)], {}),
    "MEAN": ([np.array([1, -1], np.int32)], {"keep_dims": True}),
    "RESIZE_NEAREST_NEIGHBOR": ([np.array([3, 5], np.int32)], {"half_pixel_centers": True}),
    "CONCATENATION": (None, {"axis": 3}),
}


@pytest.mark.parametrize("opcode", sorted(DOWNSTREAM))
def test_after_dynamic_reshape(opcode):
    """RESHAPE with a runtime shape feeds a second op, which numlite must prepare at invoke."""
    extra, opts = DOWNSTREAM[opcode]
    b = ModelBuilder()
    x = b.input("x", (24,), np.float32)
    shape = b.input("shape", (4,), np.int32)
    mid = b.tensor("mid", (), np.float32)
    b.op("RESHAPE", [x, shape], [mid])
    if extra is None:
        ins = [mid, mid]
    else:
        ins = [mid] + [b.const("c%d" % k, v) for k, v in enumerate(extra)]
    out = b.tensor("out", (), np.float32)
    b.op(opcode, ins, [out], **opts)
    b.output(out)
    feed = [np.arange(24, dtype=np.float32) - 7.5, np.array([1, 2, 3, 4], np.int32)]
    model = b.to_bytes()
    assert_outputs_match(run_numlite(model, feed), run_litert(model, feed), what=opcode)
