"""numlite.Interpreter side by side with ai_edge_litert.interpreter.Interpreter.

Every test drives both interpreters with the same calls on the same model and compares what
comes back: values *and* their types (int32 shape arrays, NumPy type classes, numpy scalars for
rank-0 tensors, tuples), and for errors the exception type (numlite's must be an instance of
LiteRT's) and message. The intentional differences are listed in numlite.interpreter's docstring.
"""
import os

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import numlite
import numlite.interpreter as tflite
from ai_edge_litert import interpreter as litert
from numlite.builder import ModelBuilder

from harness import examples
from loader.model_zoo import variable_bytes, zoo_builder, zoo_bytes


REF = "BUILTIN_REF"


def pair(data, **kwargs):
    """(LiteRT, numlite) interpreters on the same model with reference kernels. LiteRT writes
    set_tensor() values for constants into the bytes it was given, so it gets its own copy."""
    li = litert.Interpreter(model_content=bytes(bytearray(data)),
                            experimental_op_resolver_type=litert.OpResolverType[REF], **kwargs)
    ni = numlite.Interpreter(model_content=bytes(data), experimental_op_resolver_type=numlite.OpResolverType[REF],
                             **kwargs)
    return li, ni


def assert_same(got, want, path="value"):
    """Equal values of identical types, recursively (dict key order included)."""
    if isinstance(want, dict):
        assert isinstance(got, dict), "%s: %r is not a dict" % (path, got)
        assert list(got) == list(want), "%s: keys %s, LiteRT %s" % (path, list(got), list(want))
        for k in want:
            assert_same(got[k], want[k], "%s[%r]" % (path, k))
    elif isinstance(want, (list, tuple)):
        assert type(got) is type(want) and len(got) == len(want), "%s: %r, LiteRT %r" % (path, got, want)
        for k, (g, w) in enumerate(zip(got, want)):
            assert_same(g, w, "%s[%d]" % (path, k))
    elif isinstance(want, np.ndarray):
        assert isinstance(got, np.ndarray), "%s: %r is not an ndarray" % (path, got)
        assert got.dtype == want.dtype and got.shape == want.shape, \
            "%s: %s%s, LiteRT %s%s" % (path, got.dtype, got.shape, want.dtype, want.shape)
        if want.dtype == object:
            assert got.tolist() == want.tolist(), "%s: %r, LiteRT %r" % (path, got, want)
        else:
            assert np.array_equal(got, want, equal_nan=want.dtype.kind in "fc"), "%s: %r, LiteRT %r" % (path, got, want)
    else:
        assert type(got) is type(want), "%s: %r (%s), LiteRT %r (%s)" % (path, got, type(got), want, type(want))
        assert got == want or (got != got and want != want), "%s: %r, LiteRT %r" % (path, got, want)


def outcome(fn, *args):
    try:
        return "ok", fn(*args)
    except Exception as e:  # noqa: BLE001 - the exception is the result under test
        return "raised", e


def assert_same_outcome(got, want, what, same_message=True):
    """Both succeed with equal results, or numlite raises an instance of LiteRT's exception type."""
    (gk, gv), (wk, wv) = got, want
    assert gk == wk, "%s: numlite %s %r, LiteRT %s %r" % (what, gk, gv, wk, wv)
    if wk == "ok":
        assert_same(gv, wv, what)
        return
    assert isinstance(gv, type(wv)), "%s: numlite raised %s(%s), LiteRT %s(%s)" % (
        what, type(gv).__name__, gv, type(wv).__name__, wv)
    if same_message and not isinstance(wv, TypeError):   # pybind's TypeError texts are its own
        assert str(gv) == str(wv), "%s: message %r, LiteRT %r" % (what, str(gv), str(wv))


def both(li, ni, method, *args, **kwargs):
    return (outcome(lambda: getattr(ni, method)(*args, **kwargs)),
            outcome(lambda: getattr(li, method)(*args, **kwargs)))


def feed(interp, seed=0):
    rng = np.random.default_rng(seed)
    for d in interp.get_input_details():
        shape, dtype = tuple(d["shape"]), d["dtype"]
        value = rng.integers(-5, 5, shape).astype(dtype) if np.dtype(dtype).kind in "iu" else \
            rng.standard_normal(shape).astype(dtype)
        interp.set_tensor(d["index"], value)


ZOO = zoo_bytes()


# -- module surface -------------------------------------------------------------------------
def test_import_styles():
    from numlite import Interpreter
    assert Interpreter is tflite.Interpreter is numlite.Interpreter
    for name in ("Interpreter", "InterpreterWithCustomOps", "OpResolverType", "SignatureRunner", "load_delegate",
                 "Delegate"):
        assert hasattr(tflite, name), name
        assert hasattr(litert, name), name


def test_op_resolver_type_matches_litert():
    assert [(e.name, e.value) for e in tflite.OpResolverType] == [(e.name, e.value) for e in litert.OpResolverType]
    for kind in litert.OpResolverType:  # LiteRT's own members are accepted too
        numlite.Interpreter(model_content=ZOO, experimental_op_resolver_type=kind)


# -- tensor details ---------------------------------------------------------------------------
@pytest.mark.parametrize("compress", [False, True])
def test_tensor_details_match_litert(compress):
    li, ni = pair(ZOO, experimental_compress_quantization_zero_points=compress)
    assert ni.experimental_compress_quantization_zero_points is li.experimental_compress_quantization_zero_points
    for stage in ("before allocate_tensors", "after allocate_tensors"):
        for sg in (0, 1):
            assert_same(ni.get_tensor_details(sg), li.get_tensor_details(sg), "%s subgraph %d" % (stage, sg))
        assert_same(ni.get_input_details(), li.get_input_details(), stage + " inputs")
        assert_same(ni.get_output_details(), li.get_output_details(), stage + " outputs")
        li.allocate_tensors()
        ni.allocate_tensors()
    details = {d["name"]: d for d in ni.get_tensor_details()}
    # The comparison above must cover what the zoo was built for.
    assert details["q_per_channel"]["quantization_parameters"]["scales"].size == 3
    assert details["blockwise"]["quantization_parameters"]["block_size"] == 4
    assert set(details["sparse_blocked"]["sparsity_parameters"]) == {"traversal_order", "block_map", "dim_metadata"}
    assert details["x"]["shape_signature"].tolist() == [-1, 4]
    assert details["strings"]["dtype"] is np.bytes_


def test_tensor_details_subgraph_range():
    li, ni = pair(ZOO)
    for sg in (-1, 2):
        assert_same_outcome(*both(li, ni, "get_tensor_details", sg), "get_tensor_details(%d)" % sg)


def test_ops_details_match_litert():
    li, ni = pair(ZOO)
    li.allocate_tensors()
    ni.allocate_tensors()
    assert_same(ni._get_ops_details(), li._get_ops_details(), "ops")


# -- get_tensor / set_tensor ------------------------------------------------------------------
def test_get_tensor_matches_litert_through_the_lifecycle():
    li, ni = pair(ZOO)
    n = len(li.get_tensor_details())
    # Intermediates share arena space with later tensors in both runtimes, each in its own way.
    intermediates = {i for op in ni._get_ops_details() for i in op["outputs"].tolist()} - \
        {d["index"] for d in li.get_output_details()}

    def compare(stage):
        for i in range(n):
            got, want = both(li, ni, "get_tensor", i)
            if i in intermediates and want[0] == "ok":
                assert got[0] == "ok" and got[1].shape == want[1].shape and got[1].dtype == want[1].dtype
                continue
            assert_same_outcome(got, want, "%s: get_tensor(%d)" % (stage, i))
    compare("before")
    li.allocate_tensors()
    ni.allocate_tensors()
    for it in (li, ni):
        feed(it)
        it.invoke()
    compare("after invoke")
    for sg, n1 in ((1, 3),):
        for i in range(n1):
            assert_same_outcome(*both(li, ni, "get_tensor", i, sg), "subgraph %d get_tensor(%d)" % (sg, i))


SET_CASES = [
    ("float64 into float32", 0, lambda: np.zeros((1, 4), np.float64)),
    ("int32 into float32", 0, lambda: np.zeros((1, 4), np.int32)),
    ("bool into float32", 0, lambda: np.ones((1, 4), bool)),
    ("float16 into float32", 0, lambda: np.ones((1, 4), np.float16)),
    ("list of floats (float64)", 0, lambda: [[1.0, 2.0, 3.0, 4.0]]),
    ("str into float32", 0, lambda: "abc"),
    ("None into float32", 0, lambda: None),
    ("wrong rank", 0, lambda: np.zeros((4,), np.float32)),
    ("wrong dimension", 0, lambda: np.zeros((2, 4), np.float32)),
    ("non-contiguous", 0, lambda: np.ones((4, 1), np.float32).T),
    ("python int into int32 scalar", "s", lambda: 3),
    ("int64 into int32 scalar", "s", lambda: np.int64(3)),
    ("int32 scalar", "s", lambda: np.int32(3)),
    ("out of range index", 99, lambda: np.zeros((1, 4), np.float32)),
    ("negative index", -1, lambda: np.zeros((1, 4), np.float32)),
    ("float index", 1.0, lambda: np.zeros((1, 4), np.float32)),
    ("intermediate", "t", lambda: np.ones((1, 4), np.float32)),
    ("unused tensor", "unused", lambda: np.ones((2, 2), np.float32)),
    ("string constant from str array", "strings", lambda: np.array(["x", "yy", "\u00e9"])),
    ("string constant from object array", "strings", lambda: np.array([b"x", "y", b""], dtype=object)),
    ("string constant from bytes array", "strings", lambda: np.array([b"x", b"yy", b"zzz"])),
    ("string constant from ints", "strings", lambda: np.array([1, 2, 3])),
    ("string constant from a list", "strings", lambda: ["a", "b", "c"]),
    ("int4 constant", "int4", lambda: np.array([7, -8, 0, 1, 2], np.int8)),
    ("int4 constant, other shape", "int4", lambda: np.array([[7, -8, 0, 1, 2]], np.int8)),
    ("int4 constant out of range", "int4", lambda: np.array([8, 0, 0, 0, 0], np.int8)),
    ("int4 constant wrong count", "int4", lambda: np.zeros(4, np.int8)),
    ("int4 constant from uint8", "int4", lambda: np.zeros(5, np.uint8)),
    ("uint4 constant", "uint4", lambda: np.array([[1, 2, 3]], np.uint8)),
    ("uint4 constant out of range", "uint4", lambda: np.array([[16, 0, 0]], np.uint8)),
    ("float constant", "c", lambda: np.full((1, 4), 3.0, np.float32)),
]


@pytest.mark.parametrize("what,index,value", SET_CASES, ids=[c[0] for c in SET_CASES])
def test_set_tensor_matches_litert(what, index, value):
    li, ni = pair(ZOO)
    if isinstance(index, str):
        index = next(d["index"] for d in li.get_tensor_details() if d["name"] == index)
    # before allocation: constants are settable, everything else is unallocated
    assert_same_outcome(*both(li, ni, "set_tensor", index, value()), what + " (before allocate)")
    li, ni = pair(ZOO)
    li.allocate_tensors()
    ni.allocate_tensors()
    got, want = both(li, ni, "set_tensor", index, value())
    assert_same_outcome(got, want, what)
    if want[0] == "ok":
        assert_same_outcome(*both(li, ni, "get_tensor", index), what + ": value read back")


def test_set_constant_is_private_to_the_interpreter():
    """LiteRT writes into the model buffer (shared by every interpreter on the same bytes);
    numlite keeps the change in the interpreter, and across re-allocation."""
    a = numlite.Interpreter(model_content=ZOO)
    b = numlite.Interpreter(model_content=ZOO)
    c = next(d["index"] for d in a.get_tensor_details() if d["name"] == "c")
    a.set_tensor(c, np.full((1, 4), 3.0, np.float32))
    a.resize_tensor_input(0, [2, 4])
    a.resize_tensor_input(1, [2, 4])
    a.allocate_tensors()
    a.set_tensor(0, np.ones((2, 4), np.float32))
    a.set_tensor(1, np.ones((2, 4), np.float32))
    a.invoke()
    assert np.array_equal(a.get_tensor(a.get_output_details()[0]["index"]), np.full((2, 4), 6.0, np.float32))
    assert np.array_equal(b.get_tensor(c), np.array([[1.0, -2.0, 0.5, 4.0]], np.float32))
    with pytest.raises(ValueError):  # read-only view: numlite never edits the model bytes
        a.tensor(c)()[0, 0] = 1.0


def test_lifecycle_errors():
    li, ni = pair(ZOO)
    assert_same_outcome(*both(li, ni, "get_tensor", 0), "get_tensor before allocate_tensors")
    assert_same_outcome(*both(li, ni, "set_tensor", 0, np.zeros((1, 4), np.float32)), "set_tensor before allocate")
    got, want = both(li, ni, "invoke")
    assert_same_outcome(got, want, "invoke before allocate_tensors", same_message=False)
    assert "Invoke called on model that is not ready" in str(got[1])
    for args in ((0, 5), (-1, 0), (99, 0)):
        assert_same_outcome(*both(li, ni, "get_tensor", *args), "get_tensor%s" % (args,))
    assert_same_outcome(*both(li, ni, "get_tensor", 0.5), "get_tensor(0.5)", same_message=False)
    assert_same_outcome(*both(li, ni, "get_tensor", np.int64(2)), "get_tensor(np.int64)")
    assert_same_outcome(*both(li, ni, "get_tensor", True), "get_tensor(True)", same_message=False)
    assert_same_outcome(*both(li, ni, "allocate_tensors"), "allocate_tensors")
    assert_same_outcome(*both(li, ni, "allocate_tensors"), "allocate_tensors again")


def test_allocate_tensors_again_keeps_inputs():
    """LiteRT's AllocateTensors is a no-op on a ready graph: values set before it survive."""
    li, ni = pair(ZOO)
    for it in (li, ni):
        it.allocate_tensors()
        feed(it, seed=3)
        it.allocate_tensors()
        it.invoke()
    for d in li.get_output_details():
        assert_same(ni.get_tensor(d["index"]), li.get_tensor(d["index"]), d["name"])


def test_rank0_tensors_are_numpy_scalars():
    li, ni = pair(ZOO)
    s = next(d["index"] for d in li.get_input_details() if d["name"] == "s")
    out = next(d["index"] for d in li.get_output_details() if d["name"] == "s_times_k")
    for it in (li, ni):
        it.allocate_tensors()
        feed(it)
        it.set_tensor(s, np.int32(6))
        it.invoke()
    assert_same(ni.get_tensor(out), li.get_tensor(out), "get_tensor of a rank-0 output")
    assert_same(ni.tensor(out)(), li.tensor(out)(), "tensor() of a rank-0 output")
    assert type(ni.get_tensor(out)) is np.int32


# -- resize_tensor_input -------------------------------------------------------------------------
RESIZE_CASES = [
    ("same shape", 0, [1, 4], False), ("batch 3", 0, [3, 4], False), ("strict batch 3", 0, [3, 4], True),
    ("strict fixed dim", 0, [1, 5], True), ("strict rank", 0, [1, 4, 1], True),
    ("strict on a fixed input", 1, [3, 4], True), ("zero batch", 0, [0, 4], False),
    ("negative", 0, [-1, 4], False), ("strict -1", 0, [-1, 4], True), ("float sizes", 0, [2.7, 4.0], False),
    ("2-D size", 0, [[1, 4]], False), ("scalar size", 0, 3, False), ("int64 array", 0, np.array([2, 4]), False),
    ("beyond int32", 0, [2 ** 31, 4], False), ("string size", 0, "ab", False), ("None size", 0, None, False),
    ("constant", "c", [2, 4], False), ("constant same shape", "c", [1, 4], False),
    ("intermediate", "t", [2, 4], False), ("unused", "unused", [5, 4], False),
    ("index out of range", 99, [1, 4], False), ("float index", 0.0, [1, 4], False),
]


@pytest.mark.parametrize("what,index,size,strict", RESIZE_CASES, ids=[c[0] for c in RESIZE_CASES])
def test_resize_tensor_input_matches_litert(what, index, size, strict):
    li, ni = pair(ZOO)
    if isinstance(index, str):
        index = next(d["index"] for d in li.get_tensor_details() if d["name"] == index)
    for it in (li, ni):
        it.allocate_tensors()
        feed(it)
    got, want = both(li, ni, "resize_tensor_input", index, size, strict=strict)
    # LiteRT's resize errors quote C++ source lines; numlite's say the same in words.
    assert_same_outcome(got, want, what, same_message=isinstance(want[1], ValueError))
    if want[0] != "ok":
        return
    assert_same(ni.get_tensor_details(), li.get_tensor_details(), what + ": details before re-allocation")
    got, want = both(li, ni, "invoke")
    assert_same_outcome(got, want, what + ": invoke before re-allocation", same_message=False)
    got, want = both(li, ni, "allocate_tensors")
    assert_same_outcome(got, want, what + ": allocate_tensors", same_message=False)
    if want[0] != "ok":
        return
    for it in (li, ni):
        feed(it, seed=1)
        it.invoke()
    assert_same(ni.get_input_details(), li.get_input_details(), what + ": input details")
    assert_same(ni.get_output_details(), li.get_output_details(), what + ": output details")
    for d in li.get_output_details():
        assert_same(ni.get_tensor(d["index"]), li.get_tensor(d["index"]), what + ": output " + d["name"])


def test_allocation_failure_is_a_runtime_error_and_a_model_error():
    li, ni = pair(ZOO)
    for it in (li, ni):
        it.resize_tensor_input(0, [3, 4])
        it.resize_tensor_input(1, [2, 4])   # (3, 4) + (2, 4) do not broadcast
    got, want = both(li, ni, "allocate_tensors")
    assert_same_outcome(got, want, "allocate_tensors", same_message=False)
    assert isinstance(got[1], numlite.ModelError) and "broadcast" in str(got[1])
    assert_same_outcome(*both(li, ni, "invoke"), "invoke after a failed allocation", same_message=False)


@settings(max_examples=examples(30), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(dims=st.lists(st.integers(-2, 6), min_size=1, max_size=3), strict=st.booleans(), index=st.sampled_from([0, 1]),
       second=st.lists(st.integers(0, 6), min_size=2, max_size=2))
def test_resize_then_run_matches_litert(dims, strict, index, second):
    li, ni = pair(ZOO)
    for it in (li, ni):
        it.allocate_tensors()
    got, want = both(li, ni, "resize_tensor_input", index, dims, strict=strict)
    assert_same_outcome(got, want, "resize %s" % dims, same_message=False)
    got, want = both(li, ni, "resize_tensor_input", 1 - index, second)
    assert_same_outcome(got, want, "resize %s" % second, same_message=False)
    assert_same(ni.get_input_details(), li.get_input_details(), "input details")
    got, want = both(li, ni, "allocate_tensors")
    assert_same_outcome(got, want, "allocate_tensors", same_message=False)
    if want[0] == "ok":
        for it in (li, ni):
            feed(it, seed=2)
            it.invoke()
        for d in li.get_output_details():
            assert_same(ni.get_tensor(d["index"]), li.get_tensor(d["index"]), "output " + d["name"])


# -- tensor() views ----------------------------------------------------------------------------
def test_tensor_view_pattern():
    """label_image.py: hold the function, write the input through it, read the output."""
    li, ni = pair(ZOO)
    results = []
    for it in (li, ni):
        it.allocate_tensors()
        feed(it)
        inp = it.tensor(it.get_input_details()[0]["index"])
        out = it.tensor(it.get_output_details()[0]["index"])
        inp()[0] = [1.0, 2.0, 3.0, 4.0]
        inp()[0, 1] += 10.0
        it.invoke()
        first = out().copy()
        inp()[:] = 0.5
        it.invoke()
        results.append((first, out().copy(), it.get_tensor(it.get_output_details()[0]["index"])))
    assert_same(results[1], results[0], "tensor() views")


@pytest.mark.parametrize("call", ["allocate_tensors", "invoke", "resize_tensor_input"])
@pytest.mark.parametrize("held", ["view", "slice", "reshaped"])
def test_dangling_views_are_refused(call, held):
    li, ni = pair(ZOO)
    outcomes = []
    for it in (li, ni):
        it.allocate_tensors()
        view = it.tensor(0)()
        kept = {"view": view, "slice": view[0, 1:], "reshaped": view.reshape(-1)}[held]
        del view
        args = (0, [1, 4]) if call == "resize_tensor_input" else ()
        outcomes.append(outcome(getattr(it, call), *args))
        del kept
        outcomes.append(outcome(getattr(it, call), *args))   # fine once the view is gone
    assert_same_outcome(outcomes[2], outcomes[0], "%s while a %s is held" % (call, held))
    assert_same_outcome(outcomes[3], outcomes[1], "%s after releasing it" % call)
    assert outcomes[2][0] == "raised" and outcomes[3][0] == "ok"


def test_tensor_before_allocation_and_bad_index():
    li, ni = pair(ZOO)
    for index in (0, 99):
        got, want = outcome(ni.tensor(index)), outcome(li.tensor(index))
        assert_same_outcome(got, want, "tensor(%d)()" % index)


# -- signatures ------------------------------------------------------------------------------
def test_signature_lists_match_litert():
    li, ni = pair(ZOO)
    assert_same(ni.get_signature_list(), li.get_signature_list(), "get_signature_list")
    assert_same(ni._get_full_signature_list(), li._get_full_signature_list(), "_get_full_signature_list")
    assert list(ni.get_signature_list()["main"]["inputs"]) == ["s", "x", "y"]  # sorted, as std::map


def test_signature_runners_match_litert():
    li, ni = pair(ZOO)
    x, y, s = np.arange(4, dtype=np.float32).reshape(1, 4), np.ones((1, 4), np.float32), np.int32(2)
    for key, kwargs in (("main", {"x": x, "y": y, "s": s}),
                        ("main", {"x": np.ones((3, 4), np.float32), "y": np.ones((1, 4), np.float32), "s": s}),
                        ("double", {"inp": np.arange(5, dtype=np.float32)}),
                        ("double", {"inp": np.arange(2, dtype=np.float32)})):
        lr, nr = li.get_signature_runner(key), ni.get_signature_runner(key)
        assert_same(nr.get_input_details(), lr.get_input_details(), key + " input details")
        assert_same(nr(**kwargs), lr(**kwargs), key + " outputs")
        assert_same(nr.get_output_details(), lr.get_output_details(), key + " output details")
    # signature "main" runs subgraph 0, so the interpreter sees the runner's results
    assert_same(ni.get_output_details(), li.get_output_details(), "interpreter outputs after the runners")


def test_single_signature_runner_without_key():
    b = ModelBuilder()
    x = b.input("x", (2,))
    o = b.tensor("o", (2,))
    b.op("ADD", [x, x], [o])
    b.output(o)
    b.signature("only", {"in": x}, {"out": o})
    li, ni = pair(b.to_bytes())
    value = np.array([1.5, -2.0], np.float32)
    assert_same(ni.get_signature_runner()(**{"in": value}), li.get_signature_runner()(**{"in": value}), "runner")


def test_signature_runner_errors():
    li, ni = pair(ZOO)
    good = {"x": np.ones((1, 4), np.float32), "y": np.ones((1, 4), np.float32), "s": np.int32(1)}
    cases = [
        ("no key with two signatures", lambda m, it: it.get_signature_runner()),
        ("unknown key", lambda m, it: it.get_signature_runner("nope")),
        ("None interpreter", lambda m, it: m.SignatureRunner(None, "main")),
        ("None key", lambda m, it: m.SignatureRunner(it, None)),
        ("too few inputs", lambda m, it: it.get_signature_runner("main")(x=good["x"])),
        ("unknown input", lambda m, it: it.get_signature_runner("main")(x=good["x"], y=good["y"], z=good["s"])),
        ("wrong dtype", lambda m, it: it.get_signature_runner("main")(**dict(good, y=np.ones((1, 4))))),
        ("positional", lambda m, it: it.get_signature_runner("main")(good["x"])),
    ]
    for what, fn in cases:
        assert_same_outcome(outcome(fn, tflite, ni), outcome(fn, litert, li), what)
    got = outcome(lambda: ni.get_signature_runner("main")(**dict(good, y=np.ones((2, 4), np.float32))))
    want = outcome(lambda: li.get_signature_runner("main")(**dict(good, y=np.ones((2, 4), np.float32))))
    assert_same_outcome(got, want, "shapes that do not broadcast", same_message=False)
    model = zoo_builder().build()
    model.signatures = []
    li, ni = pair(numlite.model_to_bytes(model))
    assert_same_outcome(outcome(ni.get_signature_runner), outcome(li.get_signature_runner), "no signatures")
    assert_same(ni.get_signature_list(), li.get_signature_list(), "empty signature list")


# -- variables ---------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", ["FLOAT32", "INT32"])
def test_reset_all_variables(dtype):
    li, ni = pair(variable_bytes(dtype))
    np_type = np.float32 if dtype == "FLOAT32" else np.int32
    got, want = both(li, ni, "reset_all_variables")
    assert_same_outcome(got, want, "reset_all_variables before allocation", same_message=False)
    assert isinstance(got[1], RuntimeError)
    results = []
    for it in (li, ni):
        it.allocate_tensors()
        seen = [it.get_tensor(1)]
        it.set_tensor(0, np.ones((1, 3), np_type))
        it.set_tensor(1, np.full((1, 3), 5, np_type))
        it.invoke()
        seen.append(it.get_tensor(2))
        seen.append(it.reset_all_variables())
        seen.append(it.get_tensor(1))
        it.invoke()
        seen.append(it.get_tensor(2))
        results.append(seen)
    assert_same(results[1], results[0], "variable lifecycle")


# -- construction --------------------------------------------------------------------------
CONSTRUCTOR_CASES = [
    ("num_threads str", dict(model_content=ZOO, num_threads="2")),
    ("num_threads 0", dict(model_content=ZOO, num_threads=0)),
    ("num_threads -1", dict(model_content=ZOO, num_threads=-1)),
    ("num_threads float", dict(model_content=ZOO, num_threads=2.0)),
    ("num_threads 4", dict(model_content=ZOO, num_threads=4)),
    ("resolver as int", dict(model_content=ZOO, experimental_op_resolver_type=2)),
    ("resolver as str", dict(model_content=ZOO, experimental_op_resolver_type="BUILTIN_REF")),
    ("no model", dict()),
    ("empty model_content", dict(model_content=b"")),
    ("both sources", dict(model_content=ZOO, model_path="x.tflite")),
    ("str model_content", dict(model_content="not bytes")),
    ("garbage model_content", dict(model_content=b"\0" * 64)),
    ("3-byte model_content", dict(model_content=b"abc")),
    ("missing file", dict(model_path="/nonexistent/model.tflite")),
    ("directory", dict(model_path="/")),
    ("empty delegates list", dict(model_content=ZOO, experimental_delegates=[])),
    ("preserve all tensors", dict(model_content=ZOO, experimental_preserve_all_tensors=True)),
]


@pytest.mark.parametrize("what,kwargs", CONSTRUCTOR_CASES, ids=[c[0] for c in CONSTRUCTOR_CASES])
def test_constructor_matches_litert(what, kwargs):
    got = outcome(lambda: type(numlite.Interpreter(**kwargs)).__name__)
    want = outcome(lambda: type(litert.Interpreter(**kwargs)).__name__)
    # messages differ for files (LiteRT's quote its C++ allocator) and type errors (pybind's)
    assert_same_outcome(got, want, what, same_message=False)
    if got[0] == "raised" and isinstance(want[1], ValueError) and "model_" in str(want[1]):
        assert str(got[1]) == str(want[1])


def test_model_path_and_pathlike(tmp_path):
    path = tmp_path / "zoo.tflite"
    path.write_bytes(ZOO)
    for source in (str(path), path, os.fsencode(str(path))):
        li = litert.Interpreter(model_path=source)
        ni = numlite.Interpreter(model_path=source)
        assert_same(ni.get_tensor_details(), li.get_tensor_details(), "model_path=%r" % (source,))
    empty = tmp_path / "empty.tflite"
    empty.write_bytes(b"")
    with pytest.raises(ValueError, match="empty"):
        numlite.Interpreter(model_path=str(empty))
    with pytest.raises(ValueError):
        litert.Interpreter(model_path=str(empty))


def test_native_code_is_refused_clearly():
    with pytest.raises(ValueError, match="Failed to load delegate from libedgetpu.so.1\n.*does not load native"):
        tflite.load_delegate("libedgetpu.so.1")
    with pytest.raises(ValueError, match="delegates"):
        tflite.Interpreter(model_content=ZOO, experimental_delegates=[object()])
    with pytest.raises(ValueError, match="registerers"):
        tflite.InterpreterWithCustomOps(model_content=ZOO, custom_op_registerers=["Register"])
    it = tflite.InterpreterWithCustomOps(model_content=ZOO, custom_op_registerers=[])
    assert isinstance(it, tflite.Interpreter)


# -- property test over arbitrary unconnected tensors --------------------------------------------
_TYPES = ["FLOAT32", "FLOAT16", "FLOAT64", "INT8", "UINT8", "INT16", "UINT16", "INT32", "UINT32", "INT64", "BOOL",
          "COMPLEX64", "STRING", "INT4"]


@st.composite
def loose_tensor(draw):
    type_name = draw(st.sampled_from(_TYPES))
    shape = tuple(draw(st.lists(st.integers(0, 4), max_size=4)))
    constant = draw(st.booleans())
    spec = {"type": type_name, "shape": shape, "constant": constant, "quantization": None, "signature": None}
    if type_name in ("INT8", "UINT8", "INT16", "INT32", "INT4") and draw(st.booleans()):
        axis = draw(st.integers(0, max(len(shape) - 1, 0)))
        n = shape[axis] if shape and draw(st.booleans()) and shape[axis] > 0 else 1
        scales = draw(st.lists(st.floats(float(np.float32(1e-4)), 10, width=32), min_size=n, max_size=n))
        zps = draw(st.lists(st.integers(-128, 127), min_size=n, max_size=n))
        spec["quantization"] = (scales, zps, axis)
    if not constant and shape and draw(st.booleans()):
        spec["signature"] = tuple(-1 if draw(st.booleans()) else d for d in shape)
    return spec


def _loose_model(specs, seed):
    rng = np.random.default_rng(seed)
    b = ModelBuilder()
    x = b.input("x", (2,))
    o = b.tensor("o", (2,))
    b.op("ADD", [x, x], [o])
    b.output(o)
    for k, spec in enumerate(specs):
        name = "t%d" % k
        if spec["constant"]:
            if spec["type"] == "STRING":
                value = np.array([b"s%d" % i for i in range(int(np.prod(spec["shape"])))], dtype=object)
                value = value.reshape(spec["shape"])
            elif spec["type"] == "INT4":
                value = rng.integers(-8, 8, spec["shape"]).astype(np.int8)
            else:
                value = (rng.standard_normal(spec["shape"]) * 50).astype(numlite.ir.dtype_of(spec["type"]))
            i = b.const(name, value, dtype=spec["type"], quantization=spec["quantization"])
        else:
            i = b.tensor(name, spec["shape"], spec["type"], spec["quantization"], spec["signature"])
        assert i is not None
    return b.to_bytes()


@settings(max_examples=examples(25), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(specs=st.lists(loose_tensor(), min_size=1, max_size=6), seed=st.integers(0, 2 ** 16))
def test_arbitrary_tensors_report_like_litert(specs, seed):
    li, ni = pair(_loose_model(specs, seed))
    assert_same(ni.get_tensor_details(), li.get_tensor_details(), "details before allocation")
    # LiteRT dereferences the null buffer of a STRING tensor without data (a segfault).
    readable = [2 + k for k, spec in enumerate(specs) if spec["constant"] or spec["type"] != "STRING"]
    for i in readable:
        assert_same_outcome(*both(li, ni, "get_tensor", i), "get_tensor(%d) before allocation" % i)
    li.allocate_tensors()
    ni.allocate_tensors()
    assert_same(ni.get_tensor_details(), li.get_tensor_details(), "details after allocation")
    for i in readable:
        assert_same_outcome(*both(li, ni, "get_tensor", i), "get_tensor(%d)" % i)
    for i in set(range(2, 2 + len(specs))) - set(readable):
        if 0 not in specs[i - 2]["shape"]:
            with pytest.raises(ValueError, match="null"):
                ni.get_tensor(i)


@settings(max_examples=examples(30), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(dtype=st.sampled_from([np.float32, np.float64, np.int32, np.int8, np.uint8, np.bool_, np.float16, np.int64]),
       shape=st.lists(st.integers(0, 5), max_size=3), target=st.sampled_from(["x", "y", "s", "q_activation", "c"]))
def test_set_tensor_validation_matches_litert(dtype, shape, target):
    li, ni = pair(ZOO)
    li.allocate_tensors()
    ni.allocate_tensors()
    index = next(d["index"] for d in li.get_tensor_details() if d["name"] == target)
    value = np.zeros(shape, dtype)
    assert_same_outcome(*both(li, ni, "set_tensor", index, value),
                        "set_tensor(%s, %s%s)" % (target, value.dtype, shape))


def test_tensors_litert_cannot_describe_are_left_out():
    """get_tensor_details() skips a tensor whose details raise ValueError: here blockwise
    quantization naming a scale tensor that does not exist. get_input_details() raises."""
    b = zoo_builder()
    bad = next(i for i, t in enumerate(b.sg.tensors) if t.name == "blockwise")
    b.sg.tensors[bad].quantization.details = dict(b.sg.tensors[bad].quantization.details, scales=999)
    x = b.sg.inputs[0]
    b.sg.tensors[x].quantization = b.sg.tensors[bad].quantization
    li, ni = pair(numlite.model_to_bytes(b.build()))
    assert_same(ni.get_tensor_details(), li.get_tensor_details(), "details")
    assert bad not in [d["index"] for d in ni.get_tensor_details()]
    assert_same_outcome(*both(li, ni, "get_input_details"), "get_input_details")


@pytest.mark.parametrize("dtype,zp", [("INT8", 5), ("INT16", 7), ("UINT8", 9), ("FLOAT32", 0)])
def test_variable_reset_value_matches_litert(dtype, zp):
    # LiteRT memsets a variable to its zero point only for int8; int16/uint8 start at 0.
    from ai_edge_litert.interpreter import Interpreter as LiteRT
    from numlite.builder import ModelBuilder
    b = ModelBuilder()
    q = (0.5, zp) if dtype != "FLOAT32" else None
    v = b.tensor("state", (2, 3), dtype, q, is_variable=True)
    y = b.tensor("y", (6,), dtype, q)
    shape = b.const("shape", np.array([6], np.int32))
    b.op("RESHAPE", [v, shape], [y])
    b.output(y)
    data = b.to_bytes()
    outs = []
    for cls in (LiteRT, numlite.Interpreter):
        it = cls(model_content=data)
        it.allocate_tensors()
        it.invoke()
        outs.append(it.get_tensor(it.get_output_details()[0]["index"]))
    np.testing.assert_array_equal(outs[1], outs[0])
    assert outs[1].dtype == outs[0].dtype
