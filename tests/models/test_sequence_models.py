"""Sequence models and a legacy uint8 model from the official converter (tools/make_models.py).

* lstm_stacked*: tf_keras LSTM(32, return_sequences) -> LSTM(32) -> Dense, fused into two
  UNIDIRECTIONAL_SEQUENCE_LSTM ops: float, dynamic range (hybrid, asymmetric inputs) and full
  integer int8 (int16 cell state, intermediates, int8 I/O).
* bilstm*: tf_keras Bidirectional(LSTM): the converter emits two UNIDIRECTIONAL_SEQUENCE_LSTM
  ops with REVERSE_V2 around the backward one and a CONCATENATION (no BIDIRECTIONAL_SEQUENCE_LSTM).
* uint8_legacy_cnn: TF1 fake-quant graph converted with inference_type=uint8, the format of the
  old Coral / TF-Hub zoo models (uint8 weights with non-zero zero points, version-1 ops).

LSTM state tensors persist between invokes (as in LiteRT), so the goldens hold three invokes on
one interpreter and numlite must reproduce all of them in order.
"""
import os

import numpy as np
import pytest

import numlite
from harness import assert_outputs_match
from test_models import DATA, MANIFEST, _golden

SEQUENCE = ["lstm_stacked", "lstm_stacked_dynamic_range", "lstm_stacked_int8", "bilstm", "bilstm_int8"]
LEGACY_UINT8 = ["uint8_legacy_cnn"]
ALL = SEQUENCE + LEGACY_UINT8
LSTM_OPS = {"UNIDIRECTIONAL_SEQUENCE_LSTM", "BIDIRECTIONAL_SEQUENCE_LSTM", "LSTM"}
RESOLVERS = pytest.mark.parametrize(
    "resolver", [numlite.OpResolverType.BUILTIN_REF, numlite.OpResolverType.AUTO], ids=["ref", "auto"])


def _path(name):
    return os.path.join(DATA, MANIFEST[name]["file"])


def _tolerance(name):
    """The corpus-wide tolerances (test_models / test_quantized_models): integer models bit for
    bit, float and hybrid ones the harness default."""
    if MANIFEST[name]["kind"] in ("int8", "uint8", "16x8"):
        return dict(rtol=0.0, atol=0.0)
    return {}


def _invokes(golden):
    """[(inputs, outputs)] in invoke order: input:<i>/output:<i> then invoke:<n>:..."""
    n_in = sum(1 for k in golden if k.startswith("input:"))
    n_out = sum(1 for k in golden if k.startswith("output:"))
    runs = [([golden["input:%d" % i] for i in range(n_in)], [golden["output:%d" % i] for i in range(n_out)])]
    n = 1
    while "invoke:%d:input:0" % n in golden:
        runs.append(([golden["invoke:%d:input:%d" % (n, i)] for i in range(n_in)],
                     [golden["invoke:%d:output:%d" % (n, i)] for i in range(n_out)]))
        n += 1
    return runs


def _feed(it, inputs):
    for d, x in zip(it.get_input_details(), inputs):
        it.set_tensor(d["index"], x)
    it.invoke()


def test_corpus_entries_exist():
    """The models this file is about are in the manifest with goldens (nothing silently skipped)."""
    for name in ALL:
        assert name in MANIFEST, name
        assert MANIFEST[name].get("golden") and MANIFEST[name]["resolver"] == "BUILTIN_REF", name
    for name in SEQUENCE:
        assert len(_invokes(_golden(name))) == 3, name


@pytest.mark.parametrize("name", SEQUENCE)
def test_lstm_models_are_fused(name):
    """The converter fused every LSTM layer (no WHILE loop) and its state operands are variables."""
    model = numlite.load_model(_path(name))
    assert len(model.subgraphs) == 1
    sg = model.subgraphs[0]
    lstms = [op for op in sg.operators if op.opcode in LSTM_OPS]
    assert [op.opcode for op in lstms] == ["UNIDIRECTIONAL_SEQUENCE_LSTM"] * 2
    assert not any(op.opcode == "WHILE" for op in sg.operators)
    integer = MANIFEST[name]["kind"] == "int8"
    for op in lstms:
        assert len(op.inputs) == 24
        out_state, cell_state = (sg.tensors[op.inputs[k]] for k in (18, 19))
        assert out_state.is_variable and cell_state.is_variable
        assert out_state.data is None and cell_state.data is None
        if integer:
            assert (out_state.type_name, cell_state.type_name) == ("INT8", "INT16")
            assert len(op.intermediates) == 5   # 4 gate matmul outputs + the hidden state
            # LiteRT's integer tanh(cell) needs a cell scale of at least 2^-15
            assert cell_state.quantization.scale[0] >= 2.0 ** -15
        if MANIFEST[name]["kind"] == "hybrid":
            assert sg.tensors[op.inputs[1]].type_name == "INT8"
            assert op.options["asymmetric_quantize_inputs"]


def test_legacy_uint8_model_format():
    """uint8 activations and weights, weights with non-zero zero points (the pre-int8 format)."""
    sg = numlite.load_model(_path("uint8_legacy_cnn")).subgraphs[0]
    weights = [sg.tensors[op.inputs[1]] for op in sg.operators
               if op.opcode in ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED")]
    assert len(weights) == 7
    for w in weights:
        assert w.type_name == "UINT8" and w.data is not None
        assert w.quantization.zero_point.size == 1 and w.quantization.zero_point[0] != 0
    for i in list(sg.inputs) + list(sg.outputs):
        assert sg.tensors[i].type_name == "UINT8"
    assert {op.version for op in sg.operators} == {1}


@RESOLVERS
@pytest.mark.parametrize("name", ALL)
def test_matches_goldens_over_invokes(name, resolver):
    """Every golden invoke in order on one interpreter: state carries over like in LiteRT."""
    it = numlite.Interpreter(model_path=_path(name), experimental_op_resolver_type=resolver)
    it.allocate_tensors()
    for n, (inputs, want) in enumerate(_invokes(_golden(name))):
        _feed(it, inputs)
        got = [it.get_tensor(d["index"]) for d in it.get_output_details()]
        assert_outputs_match(got, want, what="%s invoke %d" % (name, n), **_tolerance(name))


@pytest.mark.parametrize("name", SEQUENCE)
def test_goldens_depend_on_carried_state(name):
    """The later goldens are not what a fresh interpreter gives (so a kernel that drops its state
    fails), and reset_all_variables() brings the first invoke's result back."""
    golden = _golden(name)
    runs = _invokes(golden)
    fresh = numlite.Interpreter(model_path=_path(name))
    fresh.allocate_tensors()
    _feed(fresh, runs[1][0])
    out = fresh.get_tensor(fresh.get_output_details()[0]["index"])
    assert not np.array_equal(out, runs[1][1][0]), name
    fresh.reset_all_variables()
    _feed(fresh, runs[0][0])
    got = [fresh.get_tensor(d["index"]) for d in fresh.get_output_details()]
    assert_outputs_match(got, runs[0][1], what="%s after reset" % name, **_tolerance(name))


def _tensor_indices(sg):
    """Every tensor an op writes, plus the variable (state) tensors the LSTMs update in place."""
    produced = {i for op in sg.operators for i in op.outputs}
    return sorted(produced | {i for i, t in enumerate(sg.tensors) if t.is_variable})


@pytest.mark.parametrize("name", ALL)
def test_every_tensor_every_invoke(name):
    """Layer by layer and invoke by invoke (and after reset_all_variables), every tensor equals
    LiteRT's reference kernels' (preserve_all_tensors in both): bit for bit for integer models,
    within the default float tolerance otherwise."""
    from ai_edge_litert.interpreter import Interpreter as LiteRT
    from ai_edge_litert.interpreter import OpResolverType as LR
    path = _path(name)
    ours = numlite.Interpreter(model_path=path, experimental_preserve_all_tensors=True,
                               experimental_op_resolver_type=numlite.OpResolverType.BUILTIN_REF)
    theirs = LiteRT(model_path=path, experimental_preserve_all_tensors=True, experimental_op_resolver_type=LR.BUILTIN_REF)
    ours.allocate_tensors()
    theirs.allocate_tensors()
    sg = numlite.load_model(path).subgraphs[0]
    indices = _tensor_indices(sg)
    runs = _invokes(_golden(name))
    schedule = [(inputs, "invoke %d" % n) for n, (inputs, _) in enumerate(runs)]
    schedule.append((runs[0][0], "after reset_all_variables"))
    for k, (inputs, label) in enumerate(schedule):
        if k == len(runs):
            ours.reset_all_variables()
            theirs.reset_all_variables()
        _feed(ours, inputs)
        _feed(theirs, inputs)
        for i in indices:
            assert_outputs_match([ours.get_tensor(i)], [theirs.get_tensor(i)], **_tolerance(name),
                                 what="%s %s tensor %d (%s)" % (name, label, i, sg.tensors[i].name))
