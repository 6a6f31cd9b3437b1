"""Writer round trip: read → write → read gives the same model IR, and LiteRT sees the written
file exactly as it sees the original (tensor details, constants, outputs), including the layout
with buffer data stored after the FlatBuffer (``external_buffers=True``)."""
import json
import os
import struct

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import numlite
from ai_edge_litert import interpreter as litert
from numlite.builder import ModelBuilder
from numlite.errors import ModelError, UnsupportedOpError
from numlite.ir import Operator
from numlite.schema.reader import FlatBufferReader, read_model_table
from numlite.schema import model_to_bytes, save_model

from harness import assert_outputs_match, examples
from model_zoo import SMALL_TFLITE, small_bytes, variable_bytes, zoo_builder, zoo_bytes


CORPUS_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "models", "data")
with open(os.path.join(CORPUS_DIR, "MANIFEST.json")) as _f:
    _MANIFEST = json.load(_f)["models"]
CORPUS = {name: os.path.join(CORPUS_DIR, entry["file"]) for name, entry in _MANIFEST.items()}
CORPUS["small"] = SMALL_TFLITE


def _same_value(a, b, path):
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        a, b = np.asarray(a), np.asarray(b)
        assert a.dtype == b.dtype and a.shape == b.shape, \
            "%s: %s%s vs %s%s" % (path, a.dtype, a.shape, b.dtype, b.shape)
        same = a.tolist() == b.tolist() if a.dtype == object else np.array_equal(a, b, equal_nan=a.dtype.kind in "fc")
        assert same, "%s: values differ" % path
    elif isinstance(a, dict) and isinstance(b, dict):
        assert sorted(a) == sorted(b), "%s: keys %s vs %s" % (path, sorted(a), sorted(b))
        for k in a:
            _same_value(a[k], b[k], "%s.%s" % (path, k))
    elif isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        assert len(a) == len(b), "%s: %r vs %r" % (path, a, b)
        for k, (x, y) in enumerate(zip(a, b)):
            _same_value(x, y, "%s[%d]" % (path, k))
    else:
        assert type(a) is type(b) and (a == b or (a != a and b != b)), "%s: %r vs %r" % (path, a, b)


def _quantization_dict(q):
    if q is None:
        return None
    return {"scale": q.scale, "zero_point": q.zero_point, "quantized_dimension": q.quantized_dimension,
            "min": q.min, "max": q.max, "details": getattr(q, "details", None)}


def assert_same_ir(a, b):
    """Everything the IR carries, except the buffer numbering (a file layout detail)."""
    _same_value((a.description, a.version, a.metadata), (b.description, b.version, b.metadata), "model")
    _same_value([vars(s) for s in a.signatures], [vars(s) for s in b.signatures], "signatures")
    assert len(a.subgraphs) == len(b.subgraphs)
    for si, (sa, sb) in enumerate(zip(a.subgraphs, b.subgraphs)):
        _same_value((sa.name, sa.inputs, sa.outputs), (sb.name, sb.inputs, sb.outputs), "subgraph %d" % si)
        assert len(sa.tensors) == len(sb.tensors)
        for ti, (ta, tb) in enumerate(zip(sa.tensors, sb.tensors)):
            fields = ("name", "shape", "type_name", "shape_signature", "is_variable", "has_rank", "sparsity", "data")
            _same_value({f: getattr(ta, f) for f in fields}, {f: getattr(tb, f) for f in fields},
                        "subgraph %d tensor %d" % (si, ti))
            _same_value(_quantization_dict(ta.quantization), _quantization_dict(tb.quantization),
                        "subgraph %d tensor %d quantization" % (si, ti))
        assert len(sa.operators) == len(sb.operators)
        for oi, (oa, ob) in enumerate(zip(sa.operators, sb.operators)):
            _same_value(vars(oa), vars(ob), "subgraph %d operator %d" % (si, oi))


def roundtrip(data, **kwargs):
    model = numlite.load_model(model_content=data)
    written = model_to_bytes(model, **kwargs)
    return model, written, numlite.load_model(model_content=written)


def litert_interpreter(data, resolver="BUILTIN_REF"):
    return litert.Interpreter(model_content=bytes(bytearray(data)),
                              experimental_op_resolver_type=litert.OpResolverType[resolver])


def feed_random(interp, seed):
    rng = np.random.default_rng(seed)
    values = []
    for d in interp.get_input_details():
        dtype = np.dtype(d["dtype"])
        if dtype.kind == "f":
            v = rng.uniform(-1, 1, d["shape"]).astype(dtype)
        elif dtype.kind in "iu":
            info = np.iinfo(dtype)
            v = rng.integers(max(info.min, -100), min(info.max, 100), d["shape"], endpoint=True).astype(dtype)
        else:
            v = np.zeros(d["shape"], dtype)
        interp.set_tensor(d["index"], v)
        values.append(v)
    return values


def litert_view(data, run=True, resolver="BUILTIN_REF", seed=0):
    """What LiteRT shows of a model: tensor details of every subgraph, constants, and the
    outputs for a fixed random input."""
    it = litert_interpreter(data, resolver)
    details = [it.get_tensor_details(sg) for sg in range(it.num_subgraphs())]
    constants = {}
    # Only constants: LiteRT crashes reading a STRING tensor that has no data yet.
    model = numlite.load_model(model_content=data)
    for i, t in enumerate(model.subgraphs[0].tensors):
        if t.is_constant:
            try:
                constants[i] = it.get_tensor(i)
            except ValueError:   # zero-byte constants
                pass
    outputs = None
    if run:
        it.allocate_tensors()
        feed_random(it, seed)
        it.invoke()
        outputs = [it.get_tensor(d["index"]) for d in it.get_output_details()]
    return details, constants, outputs, it.get_signature_list()


def _assert_litert_sees_the_same(original, written, run, resolver="BUILTIN_REF"):
    want, got = litert_view(original, run, resolver), litert_view(written, run, resolver)
    _same_value(got[0], want[0], "LiteRT tensor details")
    _same_value(got[1], want[1], "LiteRT constants")
    _same_value(got[2], want[2], "LiteRT outputs")
    _same_value(got[3], want[3], "LiteRT signatures")


def _resolver(name):
    """The resolver the corpus' goldens were made with (some ops lack reference kernels)."""
    return _MANIFEST[name]["resolver"] if name in _MANIFEST else "BUILTIN_REF"


# -- the zoo: every kind of tensor ---------------------------------------------------------------
@pytest.mark.parametrize("external_buffers", [False, True])
def test_zoo_roundtrip(external_buffers):
    built = zoo_builder().build()
    data = model_to_bytes(built, external_buffers=external_buffers)
    model, written, reread = roundtrip(data, external_buffers=external_buffers)
    assert_same_ir(model, reread)
    assert_same_ir(model, numlite.load_model(model_content=zoo_bytes(not external_buffers)))
    # the builder's IR survives too (the loader adds nothing and drops nothing)
    for t in built.subgraphs[0].tensors:
        if t.data is not None and t.sparsity is None:
            got = next(x for x in reread.subgraphs[0].tensors if x.name == t.name)
            _same_value(np.asarray(got.data), np.asarray(t.data, dtype=got.data.dtype), t.name)
    assert written == model_to_bytes(reread, external_buffers=external_buffers)   # a fixed point
    _assert_litert_sees_the_same(data, written, run=True)
    names = {t.name: t for t in reread.subgraphs[0].tensors}
    assert names["strings"].data.tolist() == [b"ab", b"", "\u00e9t\u00e9".encode()]
    assert names["int4"].data.tolist() == [1, -2, 3, -8, 7]
    assert names["blockwise"].quantization.details["block_size"] == 4
    assert names["sparse_csr"].sparsity["dim_metadata"][1]["array_indices"]["values"] == [1, 0, 3, 2]
    assert reread.metadata["numlite_test"] == bytes(range(256))


def test_variable_model_roundtrip():
    model, written, reread = roundtrip(variable_bytes())
    assert_same_ir(model, reread)
    assert reread.subgraphs[0].tensors[1].is_variable
    _assert_litert_sees_the_same(variable_bytes(), written, run=True)


# -- real converter-made models ------------------------------------------------------------------
@pytest.mark.parametrize("name", sorted(CORPUS))
def test_corpus_roundtrip(name):
    with open(CORPUS[name], "rb") as f:
        data = f.read()
    model, written, reread = roundtrip(data)
    assert_same_ir(model, reread)
    _assert_litert_sees_the_same(data, written, run=True, resolver=_resolver(name))


@pytest.mark.parametrize("name", ["small", "mobilenet_like_int8", "mediapipe/pose_detection", "two_signatures"])
def test_corpus_external_buffers(name):
    with open(CORPUS[name], "rb") as f:
        data = f.read()
    model, written, reread = roundtrip(data, external_buffers=True)
    assert_same_ir(model, reread)
    _assert_litert_sees_the_same(data, written, run=True, resolver=_resolver(name))
    _check_external_layout(written, model)


def _check_external_layout(written, model):
    table = read_model_table(written)
    constants = sum(1 for sg in model.subgraphs for t in sg.tensors if t.data is not None and t.data.size)
    external = [b for b in table["buffers"] if b["offset"] > 1]
    assert len(external) >= constants > 0
    ends = []
    for b in external:
        assert b["data"] is None and b["offset"] % 16 == 0 and b["size"] > 0
        ends.append((b["offset"], b["offset"] + b["size"]))
    ends.sort()
    assert all(e0 <= s1 for (_, e0), (s1, _) in zip(ends, ends[1:])), "appended buffers overlap"
    assert ends[-1][1] == len(written)
    # the FlatBuffer alone (without the appended data) still decodes
    read_model_table(written[:ends[0][0]])


def test_numlite_runs_the_written_file_identically():
    """numlite's outputs from the rewritten files (inline and external buffers) are those from the
    original file, which agree with LiteRT's."""
    data = small_bytes()
    outs = []
    for source in (data, roundtrip(data)[1], roundtrip(data, external_buffers=True)[1]):
        it = numlite.Interpreter(model_content=source, experimental_op_resolver_type=numlite.OpResolverType.BUILTIN_REF)
        it.allocate_tensors()
        feed_random(it, 3)
        it.invoke()
        outs.append([it.get_tensor(d["index"]) for d in it.get_output_details()])
    ref = litert_interpreter(data)
    ref.allocate_tensors()
    feed_random(ref, 3)
    ref.invoke()
    assert_outputs_match(outs[0], [ref.get_tensor(d["index"]) for d in ref.get_output_details()], what="original")
    _same_value(outs[1], outs[0], "rewritten")
    _same_value(outs[2], outs[0], "external buffers")


def test_save_model(tmp_path):
    model = zoo_builder().build()
    for external in (False, True):
        path = tmp_path / ("zoo_%d.tflite" % external)
        save_model(model, str(path), external_buffers=external)
        assert_same_ir(numlite.load_model(str(path)), numlite.load_model(model_content=model_to_bytes(model)))
        litert.Interpreter(model_path=str(path)).allocate_tensors()


def test_writer_refuses_what_tflite_cannot_hold():
    b = ModelBuilder()
    x = b.input("x", (3,))
    v = b.tensor("v", (3,), is_variable=True, data=np.ones(3, np.float32))
    o = b.tensor("o", (3,))
    b.op("ADD", [x, v], [o])
    b.output(o)
    with pytest.raises(ModelError, match="variable"):
        b.to_bytes()
    b.sg.tensors[v].data = None
    # The builder makes any code that is not a builtin's name a custom op: an IR operator that
    # claims to be a builtin is what the writer must refuse.
    b.sg.operators.append(Operator("NOT_AN_OP", [x], [o]))
    with pytest.raises(ModelError, match="NOT_AN_OP"):
        b.to_bytes()


def test_custom_op_and_options_survive():
    b = ModelBuilder()
    x = b.input("x", (2, 2))
    y = b.tensor("y", (2, 2))
    z = b.tensor("z", (2, 2))
    b.op("MyCustomOp", [x, -1], [y], version=3, custom_options=b"\x01\x02flexbuffer-ish")
    b.op("MUL", [y, y], [z], fused_activation_function="RELU6")
    b.output(z)
    b.sg.operators[0].intermediates = [1]
    model, _, reread = roundtrip(b.to_bytes())
    assert_same_ir(model, reread)
    op = reread.subgraphs[0].operators[0]
    assert (op.opcode, op.custom, op.version, op.custom_options, op.inputs) == \
        ("MyCustomOp", True, 3, b"\x01\x02flexbuffer-ish", [0, -1])
    assert reread.subgraphs[0].operators[1].options["fused_activation_function"] == 3
    # LiteRT loads it (the custom op is only resolved when allocating)
    assert [d["name"] for d in litert_interpreter(b.to_bytes()).get_tensor_details()] == ["x", "y", "z"]


def test_external_buffer_offsets_are_checked():
    data = bytearray(zoo_bytes(external_buffers=True))
    table = read_model_table(bytes(data))
    last = max((b for b in table["buffers"] if b["offset"] > 1), key=lambda b: b["offset"])
    with pytest.raises(ModelError, match="beyond"):
        numlite.load_model(model_content=bytes(data[:last["offset"] + last["size"] - 1]))
    with pytest.raises(ValueError):
        litert.Interpreter(model_content=bytes(data[:last["offset"] + last["size"] - 1]))
    for value in (2 ** 63, 2 ** 64 - 1, len(data)):
        patched = bytearray(data)
        struct.pack_into("<Q", patched, _buffer_offset_positions(bytes(data))[-1], value)
        with pytest.raises(ModelError, match="beyond"):
            numlite.load_model(model_content=bytes(patched))


def _buffer_offset_positions(data):
    positions = []

    class Recorder(FlatBufferReader):
        def scalar(self, kind, pos, what):
            if what == "Buffer.offset":
                positions.append(pos)
            return super().scalar(kind, pos, what)
    r = Recorder(data)
    r.table(r.root(), "Model")
    return positions


# -- arbitrary models ------------------------------------------------------------------------------
# LiteRT names are C strings of UTF-8 text: no NUL, no lone surrogates (those cannot be encoded).
_NAME = st.text(alphabet=st.characters(blacklist_characters="\x00", blacklist_categories=("Cs",)), max_size=8)
_TYPES = ["FLOAT32", "FLOAT16", "INT8", "UINT8", "INT16", "INT32", "INT64", "BOOL", "STRING", "INT4", "UINT4",
          "COMPLEX64", "FLOAT64", "UINT16", "UINT32", "UINT64"]


@st.composite
def random_model(draw):
    rng = np.random.default_rng(draw(st.integers(0, 2 ** 16)))
    b = ModelBuilder(description=draw(_NAME))
    x = b.input("x", (2,), shape_signature=draw(st.sampled_from([None, (-1,)])))
    o = b.tensor("o", (2,))
    b.op(draw(st.sampled_from(["ADD", "MUL", "SUB"])), [x, x], [o],
         fused_activation_function=draw(st.sampled_from(["NONE", "RELU", "RELU6"])))
    b.output(o)
    for k in range(draw(st.integers(0, 8))):
        type_name = draw(st.sampled_from(_TYPES))
        shape = tuple(draw(st.lists(st.integers(0, 4), max_size=3)))
        q = None
        if type_name in ("INT8", "UINT8", "INT16", "INT32", "INT4") and draw(st.booleans()):
            axis = draw(st.integers(0, max(len(shape) - 1, 0)))
            n = shape[axis] if shape and shape[axis] > 0 and draw(st.booleans()) else 1
            q = (rng.uniform(1e-3, 2, n).astype(np.float32), rng.integers(-20, 20, n), axis)
        name = draw(_NAME)
        if draw(st.booleans()):
            n = int(np.prod(shape))
            if type_name == "STRING":
                value = np.array([bytes(rng.integers(0, 256, rng.integers(0, 5), dtype=np.uint8)) for _ in range(n)],
                                 dtype=object).reshape(shape)
            elif type_name in ("INT4", "UINT4"):
                lo, hi = (-8, 7) if type_name == "INT4" else (0, 15)
                value = rng.integers(lo, hi, shape, endpoint=True).astype(numlite.ir.dtype_of(type_name))
            else:
                value = (rng.standard_normal(shape) * 100).astype(numlite.ir.dtype_of(type_name))
            b.const(name, value, dtype=type_name, quantization=q)
        else:
            sig = tuple(-1 if draw(st.booleans()) else d for d in shape) if draw(st.booleans()) else None
            b.tensor(name, shape, type_name, q, sig, is_variable=draw(st.booleans()) and type_name != "STRING")
    if draw(st.booleans()):
        b.signature(draw(_NAME.filter(bool)), {"in": x}, {"out": o})
    for _ in range(draw(st.integers(0, 2))):
        b.metadata(draw(_NAME), draw(st.binary(max_size=16)))
    return b.build()


@settings(max_examples=examples(40), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(model=random_model(), external=st.booleans())
def test_random_models_roundtrip(model, external):
    data = model_to_bytes(model, external_buffers=external)
    first, written, reread = roundtrip(data, external_buffers=external)
    assert_same_ir(first, reread)
    assert written == model_to_bytes(reread, external_buffers=external)
    _assert_litert_sees_the_same(data, written, run=False)


def test_unencodable_text_is_a_model_error():
    b = ModelBuilder(description="\ud800")
    x = b.input("x", (2,))
    b.output(x)
    with pytest.raises(ModelError, match="UTF-8"):
        b.to_bytes()
