"""Every input type `numlite ops` lists for the ops below, run once through LiteRT's reference kernels
and numlite on a small fixed example; and the input types LiteRT refuses, refused by both.

The hypothesis tests of these ops draw their dtypes, so which (op, type) pairs one run of the suite
sends through LiteRT varies; this table reaches every declared pair of these ops on every run, which
keeps the op coverage check (tests/op_coverage.py) deterministic. It is generated from the registry:
a type added to one of these ops' ``input_types`` is tested here at once (and needs a recipe that
fits it). The ops not listed here have deterministic tests for each of their types elsewhere.
"""
import zlib

import numpy as np
import pytest

import numlite
from loader.model_zoo import SPARSE_CSR, SPARSE_DENSE
from harness import (Const, In, assert_both_refuse, assert_model_refused, check_op, run_litert, run_numlite,
                     single_op_model)
from numlite.builder import ModelBuilder
from numlite.cli import op_table
from numlite.ir import DTYPES

I32 = np.int32
QP = {"INT8": (0.05, -3), "UINT8": (0.05, 120), "INT16": (0.002, 0)}     # (scale, zero point)
PACKED = {"INT4": (-8, 7), "UINT4": (0, 15), "INT2": (-2, 1)}


def _rng(*key):
    return np.random.default_rng(zlib.crc32(repr(key).encode()))


def values(rng, t, shape, lo=-5, hi=5):
    """Deterministic values of TensorType ``t`` in [lo, hi] (clipped to the type's range)."""
    if t == "STRING":
        words = np.array([b"", b"a", b"bc", b"def"], dtype=object)
        return words[rng.integers(0, len(words), shape)].astype(object)
    if t == "BOOL":
        return rng.random(shape) < 0.5
    dt = DTYPES[t] if t not in PACKED else np.dtype(np.uint8 if t == "UINT4" else np.int8)
    if dt.kind == "f":
        return rng.uniform(lo, hi, shape).astype(dt)
    if dt.kind == "c":
        return (rng.uniform(lo, hi, shape) + 1j * rng.uniform(lo, hi, shape)).astype(dt)
    info = np.iinfo(dt) if t not in PACKED else None
    a, b = (PACKED[t] if t in PACKED else (max(lo, int(info.min)), min(hi, int(info.max))))
    return rng.integers(a, b, shape, endpoint=True).astype(dt)


def tensor(rng, t, shape, q=False, lo=-5, hi=5):
    """A runtime input of type ``t``; 8/16-bit types quantized with QP when ``q``."""
    qp = QP.get(t) if q else None
    if qp is not None:
        lo, hi = lo + qp[1], hi + qp[1]
    return In(values(rng, t, shape, lo, hi), quantization=qp)


def out(t, q=False):
    qp = QP.get(t) if q else None
    return (t, qp) if qp else t


def _quantized_kernel_types(op):
    """The input types a specialised (quantized) kernel of ``op`` serves: their tensors get QP."""
    from numlite.kernels.registry import registrations
    return {t for name, e in registrations() if name == op and e.types for t in e.types}


# -- recipes: op → f(rng, t, q) -> (inputs, outputs, options) ------------------------------------

_POSITIVE = {"SQRT", "RSQRT", "LOG"}


def _unary(op, **options):
    def recipe(rng, t, q):
        lo = 1 if op in _POSITIVE else -5
        return [tensor(rng, t, (2, 3), q, lo, 5)], [out(t, q)], options
    return recipe


def _binary(op, output=None, divides=False, equal_shapes=False, **options):
    def recipe(rng, t, q):
        a = tensor(rng, t, (2, 3), q)
        # Divisors are positive (integer division by zero fails the invoke in both runtimes).
        b = tensor(rng, t, (2, 3) if equal_shapes else (3,), q, 1 if divides else -5, 5)
        return [a, b], [output or out(t, q)], options
    return recipe


def _pow(rng, t, q):
    return [tensor(rng, t, (2, 3), q, 1, 4), tensor(rng, t, (3,), q, 0, 3)], [t], {}


def _with_consts(shape, consts, n_out=1, **options):
    """One data input of ``shape`` followed by int32 constants; every output of the input's type."""
    def recipe(rng, t, q):
        return ([tensor(rng, t, shape, q)] + [Const(np.array(c, I32)) for c in consts],
                [out(t, q)] * n_out, options)
    return recipe


def _two_inputs(op, **options):
    def recipe(rng, t, q):
        return [tensor(rng, t, (2, 3), q), tensor(rng, t, (2, 3), q)], [out(t, q)], options
    return recipe


def _padv2(rng, t, q):
    x = tensor(rng, t, (2, 3), q)
    value = Const(values(rng, t, ()), quantization=x.quantization)
    return [x, Const(np.array([[1, 0], [0, 2]], I32)), value], [out(t, q)], {}


def _reduce(op, **options):
    def recipe(rng, t, q):
        return [tensor(rng, t, (2, 3), q), Const(np.array([1], I32))], [out(t, q)], options
    return recipe


def _arg(rng, t, q):
    return [tensor(rng, t, (2, 3)), Const(np.array([1], I32))], ["INT32"], {"output_type": "INT32"}


def _topk(rng, t, q):
    return [tensor(rng, t, (2, 4)), Const(np.array(2, I32))], [t, "INT32"], {}


def _shape(rng, t, q):
    return [tensor(rng, t, (2, 3))], ["INT32"], {"out_type": "INT32"}


def _cast(rng, t, q):
    return [tensor(rng, t, (2, 3))], ["FLOAT32" if t != "FLOAT32" else "INT32"], {}


def _fill(rng, t, q):
    return [In(np.array([2, 3], DTYPES[t])), Const(np.float32(1.5))], ["FLOAT32"], {}


def _one_hot(rng, t, q):
    return ([In(np.array([0, 2, 1, 3], DTYPES[t])), Const(np.array(3, I32)), Const(np.float32(1)),
             Const(np.float32(-1))], ["FLOAT32"], {"axis": -1})


def _range(rng, t, q):
    start, limit, delta = (0.5, 4.0, 0.75) if t == "FLOAT32" else (1, 10, 3)
    return [In(np.array(v, DTYPES[t])) for v in (start, limit, delta)], [t], {}


def _dequantize(rng, t, q):
    return [tensor(rng, t, (2, 3), True)], ["FLOAT32"], {}


def _packed_model(op, t):
    """Sub-byte types exist only as constants (packed in the file): a model with one constant input."""
    b = ModelBuilder()
    quantization = (0.25, 1) if op == "DEQUANTIZE" else None
    x = b.const("x", values(_rng(op, t), t, (2, 3)), dtype=t, quantization=quantization)
    o = b.tensor("out", (), "INT32" if op == "SHAPE" else "FLOAT32")
    b.op(op, [x], [o], **({"out_type": "INT32"} if op == "SHAPE" else {}))
    b.output(o)
    return b.to_bytes()


def _split(rng, t, q):
    return [Const(np.array(1, DTYPES[t])), tensor(rng, "FLOAT32", (2, 4))], ["FLOAT32"] * 2, {"num_splits": 2}


def _select(rng, t, q):
    return [tensor(rng, t, (2, 3)), tensor(rng, "FLOAT32", (2, 3)), tensor(rng, "FLOAT32", (2, 3))], ["FLOAT32"], {}


RECIPES = {
    **{op: _unary(op) for op in ("ABS", "NEG", "SIN", "COS", "FLOOR", "SIGN", "ZEROS_LIKE", "SQRT", "RSQRT", "EXP",
                                 "LOG", "SQUARE", "LOGICAL_NOT", "RELU", "RELU6", "RELU_N1_TO_1", "RELU_0_TO_1")},
    **{op: _binary(op, fused_activation_function="NONE") for op in ("ADD", "SUB", "MUL")},
    "DIV": _binary("DIV", divides=True, fused_activation_function="NONE"),
    **{op: _binary(op) for op in ("SQUARED_DIFFERENCE", "MAXIMUM", "MINIMUM", "LOGICAL_AND", "LOGICAL_OR")},
    **{op: _binary(op, divides=True) for op in ("FLOOR_DIV", "FLOOR_MOD")},
    **{op: _binary(op, output="BOOL") for op in ("EQUAL", "NOT_EQUAL", "LESS", "LESS_EQUAL", "GREATER",
                                                  "GREATER_EQUAL")},
    "ATAN2": _binary("ATAN2", equal_shapes=True),
    "POW": _pow,
    "RESHAPE": _with_consts((2, 3), [[3, 2]]),
    "SQUEEZE": _with_consts((1, 3, 1), []),
    "EXPAND_DIMS": _with_consts((2, 3), [[1]]),
    "TRANSPOSE": _with_consts((2, 3, 2), [[2, 0, 1]]),
    "TILE": _with_consts((2, 3), [[2, 1]]),
    "BROADCAST_TO": _with_consts((1, 3), [[2, 3]]),
    "REVERSE_V2": _with_consts((2, 3), [[1]]),
    "SLICE": _with_consts((3, 4), [[1, 0], [2, 3]]),
    "STRIDED_SLICE": _with_consts((3, 4), [[0, 1], [3, 4], [2, 1]]),
    "GATHER": _with_consts((4,), [[2, 0, 3]], axis=0),       # LiteRT gathers strings from vectors only
    "GATHER_ND": _with_consts((3, 4), [[[1], [0]]]),
    "SPLIT_V": _with_consts((2, 3), [[1, 2], 1], n_out=2, num_splits=2),
    "UNPACK": _with_consts((2, 3), [], n_out=2, num=2, axis=0),
    "PAD": _with_consts((2, 3), [[[1, 0], [0, 2]]]),
    "PADV2": _padv2,
    "MIRROR_PAD": _with_consts((2, 3), [[[1, 1], [1, 1]]], mode="SYMMETRIC"),
    "DEPTH_TO_SPACE": _with_consts((1, 1, 2, 4), [], block_size=2),
    "SPACE_TO_DEPTH": _with_consts((1, 2, 4, 1), [], block_size=2),
    "SPACE_TO_BATCH_ND": _with_consts((1, 2, 2, 1), [[2, 2], [[1, 1], [0, 2]]]),
    "BATCH_TO_SPACE_ND": _with_consts((4, 2, 2, 1), [[2, 2], [[0, 1], [1, 0]]]),
    "RESIZE_NEAREST_NEIGHBOR": _with_consts((1, 2, 2, 1), [[3, 3]]),
    "CONCATENATION": _two_inputs("CONCATENATION", axis=1, fused_activation_function="NONE"),
    "PACK": _two_inputs("PACK", values_count=2, axis=0),
    **{op: _reduce(op) for op in ("MEAN", "SUM", "REDUCE_PROD", "REDUCE_MAX", "REDUCE_MIN", "REDUCE_ANY",
                                  "REDUCE_ALL")},
    "CUMSUM": _with_consts((2, 3), [1]),
    "ARG_MAX": _arg,
    "ARG_MIN": _arg,
    "TOPK_V2": _topk,
    "WHERE": lambda rng, t, q: ([tensor(rng, t, (2, 3), lo=0, hi=1)], ["INT64"], {}),
    "SHAPE": _shape,
    "CAST": _cast,
    "FILL": _fill,
    "ONE_HOT": _one_hot,
    "RANGE": _range,
    "DEQUANTIZE": _dequantize,
    "SPLIT": _split,
    "SELECT": _select,
    "SELECT_V2": _select,
}
# Ops whose quantized types need quantization parameters although no specialised kernel serves them.
QUANTIZED_GENERIC = {"MEAN", "SUM"}
VERSION = {"BROADCAST_TO": 2}


def _declared():
    return [(r["op"], t) for r in op_table() if r["op"] in RECIPES for t in r["types"]]


@pytest.mark.parametrize("op,type_name", _declared(), ids=lambda v: str(v))
def test_declared_input_type_runs_like_litert(op, type_name):
    if type_name in PACKED:
        model = _packed_model(op, type_name)
        np.testing.assert_array_equal(run_numlite(model, [])[0], run_litert(model, [])[0])
        return
    q = type_name in QP and (type_name in _quantized_kernel_types(op) or op in QUANTIZED_GENERIC)
    inputs, outputs, options = RECIPES[op](_rng(op, type_name), type_name, q)
    if type_name.startswith("COMPLEX"):     # check_op compares floats, and only the real parts of complex ones
        model, feed = single_op_model(op, inputs, outputs, version=VERSION.get(op, 1), **options)
        for got, want in zip(run_numlite(model, feed), run_litert(model, feed)):
            assert got.dtype == want.dtype and got.shape == want.shape
            np.testing.assert_array_equal(got, want)
        return
    check_op(op, inputs, outputs, version=VERSION.get(op, 1), **options)


def test_every_recipe_op_declares_its_types():
    declared = {op for op, _ in _declared()}
    assert set(RECIPES) <= declared, sorted(set(RECIPES) - declared)


# -- types LiteRT refuses ---------------------------------------------------------------------------

REFUSED = [
    # LiteRT's reference kernels have no float16 version of these (its XNNPACK delegate runs some).
    *[(op, "FLOAT16") for op in ("ABS", "SQRT", "RSQRT", "EXP", "LOG", "SQUARE", "RELU", "RELU6", "RELU_N1_TO_1",
                                 "SUB", "DIV", "SQUARED_DIFFERENCE")],
    ("HARD_SWISH", "FLOAT16"),
    # Elements of 16 bytes (and strings) are not moved by LiteRT's SPACE_TO_BATCH_ND / BATCH_TO_SPACE_ND.
    ("SPACE_TO_BATCH_ND", "COMPLEX128"), ("BATCH_TO_SPACE_ND", "COMPLEX128"),
    ("SPACE_TO_BATCH_ND", "STRING"),
]


@pytest.mark.parametrize("op,type_name", REFUSED, ids=lambda v: str(v))
def test_input_type_litert_refuses_is_refused(op, type_name):
    assert type_name not in next(r["types"] for r in op_table() if r["op"] == op)
    recipe = RECIPES.get(op, _unary(op))
    inputs, outputs, options = recipe(_rng(op, type_name), type_name, False)
    assert_both_refuse(op, inputs, outputs, error=numlite.UnsupportedOpError, **options)


@pytest.mark.parametrize("op", ["CEIL", "ELU"])
def test_float16_ops_only_in_litert_builtin_resolver_are_refused(op):
    """CEIL and ELU are not in LiteRT's reference resolver at all; its builtin ones refuse float16."""
    from ai_edge_litert.interpreter import Interpreter, OpResolverType
    from harness import _run
    model, feed = single_op_model(op, [np.ones((2, 3), np.float16)], [np.float16])
    kind = OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES
    with pytest.raises((RuntimeError, ValueError)):
        _run(Interpreter(model_content=model, experimental_op_resolver_type=kind), feed)
    with pytest.raises(numlite.UnsupportedOpError):
        run_numlite(model, feed)


# -- DENSIFY: a sparse constant --------------------------------------------------------------------

# The CSR constant of the loader tests (tests/loader/model_zoo.py) and the matrix behind it.
_DENSE, _CSR = SPARSE_DENSE, SPARSE_CSR


def _densify_model(type_name):
    b = ModelBuilder()
    sparse = b.const("sparse", _DENSE[_DENSE != 0].astype(DTYPES[type_name]))
    b.sg.tensors[sparse].shape = _DENSE.shape
    b.sg.tensors[sparse].sparsity = _CSR
    dense = b.tensor("Densify_output", _DENSE.shape, type_name)
    b.op("DENSIFY", [sparse], [dense])
    b.output(dense)
    return b.to_bytes()


@pytest.mark.parametrize("type_name", next(r["types"] for r in op_table() if r["op"] == "DENSIFY"))
def test_densify_declared_types(type_name):
    model = _densify_model(type_name)
    want, got = run_litert(model, []), run_numlite(model, [])
    np.testing.assert_array_equal(got[0], want[0])
    assert got[0].dtype == want[0].dtype == DTYPES[type_name]


@pytest.mark.parametrize("type_name", ["INT32", "UINT8", "FLOAT64"])
def test_densify_types_litert_refuses(type_name):
    assert_model_refused(_densify_model(type_name), [], numlite.UnsupportedOpError)


@pytest.mark.parametrize("level,dense_size", [(0, 1 << 26), (0, 3)])
def test_densify_refuses_a_dense_size_off_the_shape(level, dense_size):
    """A DENSE level's size is its dimension's: a corrupted one is refused before anything is
    expanded (a fuzzed model once spent seconds expanding 2^26 positions only to be refused)."""
    import copy
    csr = copy.deepcopy(_CSR)
    csr["dim_metadata"][level]["dense_size"] = dense_size
    b = ModelBuilder()
    sparse = b.const("sparse", _DENSE[_DENSE != 0].astype(np.float32))
    b.sg.tensors[sparse].shape = _DENSE.shape
    b.sg.tensors[sparse].sparsity = csr
    dense = b.tensor("Densify_output", _DENSE.shape, "FLOAT32")
    b.op("DENSIFY", [sparse], [dense])
    b.output(dense)
    with pytest.raises(numlite.ModelError, match="dense_size"):
        run_numlite(b.to_bytes(), [])
