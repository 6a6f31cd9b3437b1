"""Differential-testing helpers: build single-op models, run them in numlite and LiteRT, compare.

LiteRT runs with its reference kernels (OpResolverType.BUILTIN_REF) unless told otherwise.
Integer outputs must be identical; float outputs must agree within ``rtol`` of each output's
range (its peak-to-peak span or largest magnitude, whichever is larger) plus ``atol``.

Default float tolerance: ``rtol = 1e-5``, ``atol = 1e-7``. Measured over the whole suite with four
times the CI example budget, numlite's largest error against LiteRT was 3.3e-6 of the output
range (usually ~1e-7; the difference is LiteRT's float32 summation order, numlite's sums are
more exact): 1e-5 leaves a 3x margin. ``atol`` is about one float32 ulp of a unit-sized operand,
slack for outputs that all cancel to (nearly) zero; the op tests draw operands of magnitude ~1.
Tests that genuinely need more say so next to their explicit tolerance.
"""
import numpy as np
import pytest
from hypothesis import settings

import numlite
from numlite.builder import ModelBuilder


def examples(n):
    """A test's Hypothesis example budget: ``n`` under the ``ci`` / ``local`` profiles (100 examples
    by default), scaled with the loaded profile's ``max_examples`` otherwise (see conftest.py)."""
    return max(1, round(n * settings.default.max_examples / 100))


class Const:
    """A constant operand for :func:`single_op_model`."""

    def __init__(self, value, dtype=None, quantization=None):
        self.value = np.asarray(value) if dtype is None else np.asarray(value, dtype)
        self.quantization = quantization


class In:
    """A runtime input operand with explicit quantization / dtype."""

    def __init__(self, value, quantization=None, shape_signature=None):
        self.value = np.asarray(value)
        self.quantization = quantization
        self.shape_signature = shape_signature


class Var:
    """A variable (state) tensor operand, e.g. an LSTM's cell state: zero-initialised by both runtimes
    (quantized ones to their zero point) and updated in place by the op."""

    def __init__(self, shape, dtype=np.float32, quantization=None):
        self.shape, self.dtype, self.quantization = tuple(shape), dtype, quantization


def single_op_model(opcode, inputs, outputs, version=1, intermediates=(), **options):
    """Model bytes with one op. ``inputs``: arrays (runtime inputs), In(...), Const(...), Var(...) or None
    (optional, index -1). ``outputs``: dtypes, or (dtype, quantization) pairs, or
    (dtype, quantization, shape). ``intermediates``: (dtype, quantization) pairs for the op's
    intermediate tensors (integer LSTMs read their scales). Returns (model_bytes, runtime_input_values)."""
    b = ModelBuilder()
    idx, feed = [], []
    for k, v in enumerate(inputs):
        if v is None:
            idx.append(-1)
        elif isinstance(v, Const):
            idx.append(b.const("c%d" % k, v.value, quantization=v.quantization))
        elif isinstance(v, Var):
            idx.append(b.tensor("v%d" % k, v.shape, v.dtype, v.quantization, is_variable=True))
        else:
            v = v if isinstance(v, In) else In(v)
            idx.append(b.input("in%d" % k, v.value.shape, v.value.dtype, v.quantization, v.shape_signature))
            feed.append(v.value)
    outs = []
    for k, o in enumerate(outputs):
        o = o if isinstance(o, tuple) else (o,)
        dtype, q, shape = (tuple(o) + (None, None))[:3]
        outs.append(b.tensor("out%d" % k, shape if shape is not None else (), dtype, q))
    inter = [b.tensor("intermediate%d" % k, (), d, q) for k, (d, q) in enumerate(intermediates)]
    b.op(opcode, idx, outs, version=version, intermediates=inter, **options)
    b.output(*outs)
    return b.to_bytes(), feed


def _run(interp, feed):
    details = interp.get_input_details()
    for d, v in zip(details, feed):
        if tuple(d["shape"]) != v.shape:
            interp.resize_tensor_input(d["index"], v.shape)
    interp.allocate_tensors()
    for d, v in zip(interp.get_input_details(), feed):
        interp.set_tensor(d["index"], v)
    interp.invoke()
    return [interp.get_tensor(d["index"]) for d in interp.get_output_details()]


def run_litert(model, feed, reference=True):
    from ai_edge_litert.interpreter import Interpreter, OpResolverType
    kind = OpResolverType.BUILTIN_REF if reference else OpResolverType.AUTO
    return _run(Interpreter(model_content=model, experimental_op_resolver_type=kind), feed)


def run_numlite(model, feed, reference=True):
    kind = numlite.OpResolverType.BUILTIN_REF if reference else numlite.OpResolverType.AUTO
    return _run(numlite.Interpreter(model_content=model, experimental_op_resolver_type=kind), feed)


RTOL, ATOL = 1e-5, 1e-7


def assert_outputs_match(got, want, rtol=RTOL, atol=ATOL, what=""):
    assert len(got) == len(want), "%s: %d outputs vs %d" % (what, len(got), len(want))
    for k, (g, w) in enumerate(zip(got, want)):
        g, w = np.asarray(g), np.asarray(w)
        assert g.dtype == w.dtype, "%s output %d: dtype %s vs LiteRT %s" % (what, k, g.dtype, w.dtype)
        assert g.shape == w.shape, "%s output %d: shape %s vs LiteRT %s" % (what, k, g.shape, w.shape)
        if w.dtype.kind in "biuO":
            if not np.array_equal(g, w):
                bad = np.argwhere(g != w)
                raise AssertionError("%s output %d: %d of %d values differ (first at %s: %s vs LiteRT %s)"
                                     % (what, k, len(bad), w.size, tuple(bad[0]), g[tuple(bad[0])], w[tuple(bad[0])]))
        else:
            wf = w.astype(np.float64)
            gf = g.astype(np.float64)
            same_nan = np.isnan(wf) == np.isnan(gf)
            assert same_nan.all(), "%s output %d: NaN positions differ" % (what, k)
            finite = np.isfinite(wf)
            assert np.array_equal(np.isinf(wf), np.isinf(gf)) and np.array_equal(wf[np.isinf(wf)], gf[np.isinf(gf)]), \
                "%s output %d: infinities differ" % (what, k)
            if finite.any():
                span = float(np.ptp(wf[finite])) if finite.sum() > 1 else 0.0
                scale = max(span, float(np.abs(wf[finite]).max()), 1e-30)
                err = np.abs(gf[finite] - wf[finite])
                assert err.max() <= rtol * scale + atol, "%s output %d: max error %.3g exceeds %.3g (range %.3g)" % (
                    what, k, err.max(), rtol * scale + atol, scale)


def check_op(opcode, inputs, outputs, version=1, rtol=RTOL, atol=ATOL, variants=("reference", "auto"),
             **options):
    """Build a single-op model, run it in LiteRT (reference kernels) and numlite; compare.
    Returns numlite's outputs."""
    model, feed = single_op_model(opcode, inputs, outputs, version=version, **options)
    want = run_litert(model, feed)
    got = None
    for v in variants:
        got = run_numlite(model, feed, reference=(v == "reference"))
        assert_outputs_match(got, want, rtol=rtol, atol=atol, what="%s[%s]" % (opcode, v))
    return got


def assert_model_refused(model, feed, error=numlite.ModelError):
    """LiteRT fails to prepare or invoke the model; numlite refuses it with ``error``."""
    with pytest.raises((RuntimeError, ValueError)):
        run_litert(model, feed)
    with pytest.raises(error):
        run_numlite(model, feed)


def assert_both_refuse(opcode, inputs, outputs, error=numlite.ModelError, **options):
    """LiteRT fails to prepare or invoke the single-op node; numlite refuses it with ``error``."""
    model, feed = single_op_model(opcode, inputs, outputs, **options)
    assert_model_refused(model, feed, error)


def mediapipe_custom_ops_as_builtins(model_bytes):
    """The model with each MediaPipe ``Convolution2DTransposeBias`` custom op replaced by the
    builtin it is made of, so LiteRT's reference resolver (which lacks the custom op) can run it:
    TRANSPOSE_CONV version 3 with the bias as its fourth input. The custom options are MediaPipe's
    raw TfLiteTransposeConvParams struct: int32 padding (1 = SAME, 2 = VALID), int32 stride_width,
    int32 stride_height. The output shape is the output tensor's declared shape."""
    import struct
    from numlite.ir import Tensor
    from numlite.schema.enums import Padding
    model = numlite.load_model(model_content=model_bytes)
    for sg in model.subgraphs:
        for op in sg.operators:
            if op.opcode != "Convolution2DTransposeBias":
                continue
            padding, stride_w, stride_h = struct.unpack_from("<iii", op.custom_options)
            x, w, b = op.inputs
            sg.tensors.append(Tensor(name="%s/output_shape" % sg.tensors[op.outputs[0]].name, shape=(4,),
                                     type_name="INT32", data=np.array(sg.tensors[op.outputs[0]].shape, np.int32)))
            op.opcode, op.custom, op.custom_options, op.version = "TRANSPOSE_CONV", False, None, 3
            op.inputs = [len(sg.tensors) - 1, w, x, b]
            op.options = {"padding": {1: Padding.SAME, 2: Padding.VALID}[padding], "stride_w": stride_w,
                          "stride_h": stride_h}
            op.options_type = None
    return numlite.model_to_bytes(model)
