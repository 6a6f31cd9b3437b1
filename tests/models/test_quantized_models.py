"""Quantized real models (official converter: full-integer int8, uint8 I/O, 16x8, dynamic range):
numlite must reproduce LiteRT's reference-kernel outputs bit for bit."""
import os

import numpy as np
import pytest

import numlite
from harness import assert_outputs_match, run_litert
from test_models import DATA, MANIFEST, _golden, run_positional

INTEGER_KINDS = {"int8", "uint8", "16x8"}


def _names(kinds, resolver=None):
    return sorted(n for n, m in MANIFEST.items() if m["kind"] in kinds and m.get("golden")
                  and (resolver is None or m["resolver"] == resolver))


@pytest.mark.parametrize("resolver", [numlite.OpResolverType.BUILTIN_REF, numlite.OpResolverType.AUTO],
                         ids=["ref", "auto"])
@pytest.mark.parametrize("name", _names(INTEGER_KINDS, "BUILTIN_REF"))
def test_integer_model_bit_exact(name, resolver):
    golden = _golden(name)
    _, got = run_positional(os.path.join(DATA, MANIFEST[name]["file"]), golden, resolver)
    want = [golden["output:%d" % k] for k in range(len(got))]
    # rtol = atol = 0: integer outputs identical, float (dequantized) outputs identical too.
    assert_outputs_match(got, want, rtol=0.0, atol=0.0, what=name)


@pytest.mark.parametrize("name", _names(INTEGER_KINDS, "BUILTIN_REF"))
def test_integer_model_every_tensor_bit_exact(name):
    """Layer by layer: every intermediate tensor equals LiteRT's (preserve_all_tensors in both)."""
    from ai_edge_litert.interpreter import Interpreter as LI
    from ai_edge_litert.interpreter import OpResolverType as LR
    golden = _golden(name)
    path = os.path.join(DATA, MANIFEST[name]["file"])
    ours = numlite.Interpreter(model_path=path, experimental_preserve_all_tensors=True,
                               experimental_op_resolver_type=numlite.OpResolverType.BUILTIN_REF)
    theirs = LI(model_path=path, experimental_preserve_all_tensors=True, experimental_op_resolver_type=LR.BUILTIN_REF)
    for it in (ours, theirs):
        it.allocate_tensors()
        for k, d in enumerate(it.get_input_details()):
            it.set_tensor(d["index"], golden["input:%d" % k])
        it.invoke()
    sg = numlite.load_model(path).subgraphs[0]
    produced = {i for op in sg.operators for i in op.outputs}
    checked = 0
    for i in sorted(produced):
        a, b = ours.get_tensor(i), theirs.get_tensor(i)
        assert_outputs_match([a], [b], rtol=0.0, atol=0.0, what="%s tensor %d (%s)" % (name, i, sg.tensors[i].name))
        checked += 1
    assert checked == len(produced)


@pytest.mark.parametrize("name", _names(INTEGER_KINDS, "BUILTIN_WITHOUT_DEFAULT_DELEGATES"))
def test_integer_model_with_ops_missing_from_litert_reference(name):
    """LiteRT's reference resolver lacks some ops (ELU): the golden comes from its optimised
    kernels, which may round differently; numlite (reference semantics) must stay within 1 LSB."""
    golden = _golden(name)
    _, got = run_positional(os.path.join(DATA, MANIFEST[name]["file"]), golden, numlite.OpResolverType.BUILTIN_REF)
    for k, g in enumerate(got):
        w = golden["output:%d" % k]
        assert g.dtype == w.dtype and g.shape == w.shape
        assert np.max(np.abs(g.astype(np.int64) - w.astype(np.int64))) <= 1, name


@pytest.mark.parametrize("name", _names({"hybrid"}))
def test_hybrid_model(name):
    golden = _golden(name)
    _, got = run_positional(os.path.join(DATA, MANIFEST[name]["file"]), golden, numlite.OpResolverType.BUILTIN_REF)
    want = [golden["output:%d" % k] for k in range(len(got))]
    assert_outputs_match(got, want, what=name)   # measured: < 1e-7 of the range


def test_live_litert_int8():
    name = "mobilenet_like_int8"
    golden = _golden(name)
    data = open(os.path.join(DATA, MANIFEST[name]["file"]), "rb").read()
    rng = np.random.default_rng(7)
    x = rng.integers(-128, 128, golden["input:0"].shape).astype(np.int8)
    want = run_litert(data, [x])
    it = numlite.Interpreter(model_content=data)
    it.allocate_tensors()
    it.set_tensor(it.get_input_details()[0]["index"], x)
    it.invoke()
    got = [it.get_tensor(d["index"]) for d in it.get_output_details()]
    assert_outputs_match(got, want, rtol=0.0, atol=0.0, what=name)
