"""Whole-model tests on real .tflite files made by the official converter (tools/make_models.py)
and on MediaPipe's published models: numlite's outputs against LiteRT reference-kernel goldens."""
import json
import os

import numpy as np
import pytest

import numlite
from harness import assert_outputs_match

DATA = os.path.join(os.path.dirname(__file__), "data")
MANIFEST = json.load(open(os.path.join(DATA, "MANIFEST.json")))["models"]

FLOAT_KINDS = {"float", "fp16"}
QUANT_KINDS = {"int8", "uint8", "16x8", "hybrid"}


def _models(kinds):
    return sorted(name for name, m in MANIFEST.items() if m["kind"] in kinds and m.get("golden"))


def _golden(name):
    with np.load(os.path.join(DATA, MANIFEST[name]["golden"]), allow_pickle=False) as z:
        return {k: z[k] for k in z.files}


def run_positional(path, golden, resolver):
    it = numlite.Interpreter(model_path=path, experimental_op_resolver_type=resolver)
    details = it.get_input_details()
    for k, d in enumerate(details):
        x = golden["input:%d" % k]
        if tuple(d["shape"]) != x.shape:
            it.resize_tensor_input(d["index"], x.shape)
    it.allocate_tensors()
    for k, d in enumerate(it.get_input_details()):
        it.set_tensor(d["index"], golden["input:%d" % k])
    it.invoke()
    return it, [it.get_tensor(d["index"]) for d in it.get_output_details()]


def _check_model(name, resolver, rtol):
    golden = _golden(name)
    path = os.path.join(DATA, MANIFEST[name]["file"])
    _, got = run_positional(path, golden, resolver)
    want = [golden["output:%d" % k] for k in range(len(got))]
    assert all(("output:%d" % k) in golden for k in range(len(got)))
    assert_outputs_match(got, want, rtol=rtol, atol=1e-5, what=name)


@pytest.mark.parametrize("resolver", [numlite.OpResolverType.BUILTIN_REF, numlite.OpResolverType.AUTO],
                         ids=["ref", "auto"])
@pytest.mark.parametrize("name", _models(FLOAT_KINDS))
def test_float_model_matches_litert(name, resolver):
    _check_model(name, resolver, rtol=1e-3)


def test_two_signatures():
    name = "two_signatures"
    golden = _golden(name)
    it = numlite.Interpreter(model_path=os.path.join(DATA, MANIFEST[name]["file"]))
    sigs = it.get_signature_list()
    assert set(sigs) == {"encode", "decode"}
    for key in sigs:
        runner = it.get_signature_runner(key)
        feed = {n: golden["sig:%s:in:%s" % (key, n)] for n in sigs[key]["inputs"]}
        out = runner(**feed)
        assert set(out) == set(sigs[key]["outputs"])
        for n, v in out.items():
            assert_outputs_match([v], [golden["sig:%s:out:%s" % (key, n)]], what="%s/%s" % (key, n))


def test_dynamic_batch_resize():
    name = "dynamic_batch"
    golden = _golden(name)
    assert int(golden["batch:3"]) == 3 if golden["batch:3"].ndim == 0 else True
    it = numlite.Interpreter(model_path=os.path.join(DATA, MANIFEST[name]["file"]))
    d = it.get_input_details()[0]
    assert list(d["shape_signature"]) == [-1, 8]
    it.resize_tensor_input(d["index"], golden["input:0"].shape, strict=True)
    it.allocate_tensors()
    it.set_tensor(d["index"], golden["input:0"])
    it.invoke()
    out = it.get_tensor(it.get_output_details()[0]["index"])
    assert out.shape[0] == golden["input:0"].shape[0]
    assert_outputs_match([out], [golden["output:0"]], what=name)


def test_live_litert_agrees_on_mobilenet_like():
    """Not only goldens: LiteRT (reference kernels) run now on the same inputs agrees too."""
    from harness import run_litert
    name = "mobilenet_like"
    golden = _golden(name)
    data = open(os.path.join(DATA, MANIFEST[name]["file"]), "rb").read()
    want = run_litert(data, [golden["input:0"]])
    _, got = run_positional(os.path.join(DATA, MANIFEST[name]["file"]), golden, numlite.OpResolverType.BUILTIN_REF)
    assert_outputs_match(got, want, what=name)


def test_demo_model_accuracy():
    from numlite.demo import DATA as DEMO
    it = numlite.Interpreter(model_path=os.path.join(DEMO, "digits.tflite"))
    it.allocate_tensors()
    with np.load(os.path.join(DEMO, "digits_samples.npz")) as z:
        images, labels = z["images"], z["labels"]
    inp, out = it.get_input_details()[0], it.get_output_details()[0]
    preds = []
    for img in images:
        it.set_tensor(inp["index"], img[None].astype(np.float32))
        it.invoke()
        preds.append(int(np.argmax(it.get_tensor(out["index"]))))
    assert np.mean(np.array(preds) == labels) >= 0.9
