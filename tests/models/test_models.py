"""Whole-model tests on real .tflite files made by the official converter (tools/make_models.py)
and on MediaPipe's published models: numlite's outputs against LiteRT reference-kernel goldens,
and every intermediate tensor against LiteRT run live.

Float tolerance: the harness default (1e-5 of each tensor's range, plus 1e-7). Measured: every
tensor of every float model within 3.3e-6 of its range; the one exception is the final
LOGISTIC of selfie_segmentation, whose outputs are all below 2.5e-7 (a mask of random pixels):
its absolute error 6e-12 (the propagated input error times the tiny sigmoid) is 2.4e-5 of that
range and falls under the 1e-7 absolute slack."""
import json
import os

import numpy as np
import pytest

import numlite
from harness import assert_outputs_match, mediapipe_custom_ops_as_builtins

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


@pytest.mark.parametrize("resolver", [numlite.OpResolverType.BUILTIN_REF, numlite.OpResolverType.AUTO],
                         ids=["ref", "auto"])
@pytest.mark.parametrize("name", _models(FLOAT_KINDS))
def test_float_model_matches_litert(name, resolver):
    golden = _golden(name)
    path = os.path.join(DATA, MANIFEST[name]["file"])
    _, got = run_positional(path, golden, resolver)
    want = [golden["output:%d" % k] for k in range(len(got))]
    assert all(("output:%d" % k) in golden for k in range(len(got)))
    assert_outputs_match(got, want, what=name)


# The LiteRT resolver for a manifest's golden resolver. Models with ops missing from the
# reference resolver (ELU, CEIL) got their goldens from the builtin optimised kernels; models with
# MediaPipe's custom op (goldens from XNNPACK, "AUTO") are compared with the reference resolver
# after replacing the custom op with the builtins it stands for.
_LITERT_RESOLVER = {"AUTO": "BUILTIN_REF"}


@pytest.mark.parametrize("name", _models(FLOAT_KINDS | {"hybrid"}))
def test_float_model_every_tensor(name):
    """Float and hybrid (dynamic range) models layer by layer: every tensor an op writes is within
    the default tolerance of LiteRT's (preserve_all_tensors in both), so an error cannot hide
    behind a later op that squashes it. (Integer models: test_quantized_models, bit for bit.)"""
    from ai_edge_litert.interpreter import Interpreter as LiteRT
    from ai_edge_litert.interpreter import OpResolverType as LR
    entry = MANIFEST[name]
    golden = _golden(name)
    data = open(os.path.join(DATA, entry["file"]), "rb").read()
    theirs_data = mediapipe_custom_ops_as_builtins(data) if entry["custom_ops"] else data
    ours = numlite.Interpreter(model_content=data, experimental_preserve_all_tensors=True,
                               experimental_op_resolver_type=numlite.OpResolverType.BUILTIN_REF)
    resolver = _LITERT_RESOLVER.get(entry["resolver"], entry["resolver"])
    theirs = LiteRT(model_content=theirs_data, experimental_preserve_all_tensors=True,
                    experimental_op_resolver_type=getattr(LR, resolver))
    for it in (ours, theirs):
        for k, d in enumerate(it.get_input_details()):
            if tuple(d["shape"]) != golden["input:%d" % k].shape:
                it.resize_tensor_input(d["index"], golden["input:%d" % k].shape)
        it.allocate_tensors()
        for k, d in enumerate(it.get_input_details()):
            it.set_tensor(d["index"], golden["input:%d" % k])
        it.invoke()
    sg = numlite.load_model(model_content=data).subgraphs[0]
    produced = sorted({i for op in sg.operators for i in op.outputs})
    assert len(produced) >= len(sg.operators)
    for i in produced:
        assert_outputs_match([ours.get_tensor(i)], [theirs.get_tensor(i)],
                             what="%s tensor %d (%s)" % (name, i, sg.tensors[i].name))


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
