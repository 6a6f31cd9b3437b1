"""IR graph helpers and ``numlite.ir.validate``.

Each validate rule has a test whose IR breaks exactly that rule (the unbroken model validates),
and each helper has a test; edits that make a runnable model are written with model_to_bytes and
run in numlite and LiteRT.
"""
import glob
import os

import numpy as np
import pytest

import numlite
from numlite.builder import ModelBuilder
from numlite.ir import Model, Operator, Quantization, Subgraph, Tensor, validate
from numlite.schema import model_to_bytes

from harness import assert_outputs_match, run_litert, run_numlite
from loader.model_zoo import zoo_builder

TESTS = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
X = np.array([[-1.5, 0.5, 2.0], [3.0, -4.0, 0.25]], np.float32)
C = np.array([[1.0, -2.0, 0.5], [-1.0, 1.0, -0.5]], np.float32)


def small_model():
    """x, c → ADD → a → MUL(a, a) → m (tensors 0 x, 1 c, 2 a, 3 m), with a signature."""
    b = ModelBuilder()
    x = b.input("x", X.shape)
    c = b.const("c", C)
    a = b.tensor("a", X.shape)
    m = b.tensor("m", X.shape)
    b.op("ADD", [x, c], [a])
    b.op("MUL", [a, a], [m])
    b.output(m)
    b.signature("serve", {"x": x}, {"m": m})
    return b.build()


def run_both(model, feed=(X,)):
    """Validate, write, run in LiteRT and numlite (reference kernels); return numlite's outputs."""
    validate(model)
    data = model_to_bytes(model)
    want = run_litert(data, list(feed))
    got = run_numlite(data, list(feed))
    assert_outputs_match(got, want)
    return got


def refused(model, match):
    with pytest.raises(numlite.ModelError, match=match):
        validate(model)


# -- the unbroken models --------------------------------------------------------------------------
def test_small_model_is_valid_and_runs():
    got = run_both(small_model())
    np.testing.assert_allclose(got[0], (X + C) ** 2, rtol=1e-6)


def test_zoo_and_every_corpus_model_validate():
    validate(zoo_builder().build())
    files = glob.glob(os.path.join(TESTS, "models", "data", "*.tflite")) + \
        glob.glob(os.path.join(TESTS, "loader", "data", "*.tflite"))
    assert len(files) > 10
    for path in files:
        validate(numlite.load_model(path))


def test_omitted_optional_inputs_are_valid():
    b = ModelBuilder()
    x = b.input("x", (1, 3))
    w = b.const("w", np.ones((2, 3), np.float32))
    y = b.tensor("y", (1, 2))
    b.op("FULLY_CONNECTED", [x, w, -1], [y])
    b.output(y)
    got = run_both(b.build(), [X[:1]])
    np.testing.assert_allclose(got[0], X[:1].sum(axis=1, keepdims=True).repeat(2, axis=1), rtol=1e-6)


# -- one test per validate rule -------------------------------------------------------------------
def test_rule_model_has_a_subgraph():
    refused(Model(), "No subgraph in the model")


def test_rule_tensor_type_is_known():
    m = small_model()
    m.subgraphs[0].tensors[2].type_name = "FLOAT8"
    refused(m, r"subgraph 0 tensor 2 \('a'\): unknown tensor type 'FLOAT8'")


def test_rule_shape_has_no_negative_dimension():
    m = small_model()
    m.subgraphs[0].tensors[3].shape = (2, -1)
    refused(m, r"subgraph 0 tensor 3 \('m'\): negative dimension")


def test_rule_operator_input_index_in_range():
    m = small_model()
    m.subgraphs[0].operators[1].inputs = [2, 7]
    refused(m, r"subgraph 0 operator 1 inputs: index 7 out of range \[0, 4\)")


def test_rule_operator_input_index_is_an_integer():
    m = small_model()
    m.subgraphs[0].operators[1].inputs = [2, None]
    refused(m, r"subgraph 0 operator 1 inputs: None is not an index")


def test_rule_minus_one_only_for_optional_inputs():
    m = small_model()
    m.subgraphs[0].operators[1].outputs = [-1]
    refused(m, r"subgraph 0 operator 1 outputs: index -1 out of range")


def test_rule_intermediate_index_in_range():
    m = small_model()
    m.subgraphs[0].operators[0].intermediates = [4]
    refused(m, r"subgraph 0 operator 0 intermediates: index 4 out of range")


def test_rule_subgraph_inputs_in_range():
    m = small_model()
    m.subgraphs[0].inputs = [0, 9]
    refused(m, r"subgraph 0 inputs: index 9 out of range")


def test_rule_subgraph_outputs_in_range():
    m = small_model()
    m.subgraphs[0].outputs = [-1]
    refused(m, r"subgraph 0 outputs: index -1 out of range")


def test_rule_tensor_written_at_most_once():
    m = small_model()
    m.subgraphs[0].operators.append(Operator("SUB", [0, 1], [3]))
    refused(m, r"subgraph 0 operator 2 \(SUB\): output 0 is tensor 3 \('m'\), which operator 1 \(MUL\) already writes")


def test_rule_no_operator_reads_its_own_output():
    m = small_model()
    m.subgraphs[0].operators[1].inputs = [2, 3]
    refused(m, r"subgraph 0 operator 1 \(MUL\): tensor 3 is both input 1 and output 0")


def test_rule_no_operator_writes_a_constant():
    m = small_model()
    m.subgraphs[0].operators[1].outputs = [1]
    refused(m, r"subgraph 0 operator 1 \(MUL\): output 0 is the constant tensor 1")


def test_rule_no_operator_writes_a_subgraph_input():
    m = small_model()
    m.subgraphs[0].operators[1].outputs = [0]
    refused(m, r"subgraph 0 operator 1 \(MUL\): output 0 is the subgraph input tensor 0 \('x'\)")


def test_rule_inputs_written_before_they_are_read():
    m = small_model()
    sg = m.subgraphs[0]
    sg.operators.reverse()
    refused(m, r"subgraph 0 operator 0 \(MUL\): input 0 reads tensor 2 \('a'\) before any operator writes it "
               r"\(operator 1 \(ADD\) writes it later\)")


def test_rule_inputs_come_from_somewhere():
    m = small_model()
    sg = m.subgraphs[0]
    dangling = sg.add_tensor(Tensor("dangling", X.shape))
    sg.operators[1].inputs = [2, dangling]
    refused(m, r"input 1 reads tensor 4 \('dangling'\) before any operator writes it \(it is no subgraph input, "
               r"constant or variable, and no operator writes it\)")


def test_rule_constant_data_shape():
    m = small_model()
    m.subgraphs[0].tensors[1].shape = (3, 2)
    refused(m, r"subgraph 0 tensor 1 \('c'\): constant data has shape \(2, 3\), the tensor declares \(3, 2\)")


def test_rule_constant_data_dtype():
    m = small_model()
    m.subgraphs[0].tensors[1].data = C.astype(np.float64)
    refused(m, r"tensor 1 \('c'\): constant data has dtype float64, type FLOAT32 needs float32")


def test_rule_constant_data_is_an_array():
    m = small_model()
    m.subgraphs[0].tensors[1].data = C.tolist()
    refused(m, r"tensor 1 \('c'\): constant data is a list, not a NumPy array")


def test_rule_sparse_constant_data_is_one_dimensional():
    m = small_model()
    t = m.subgraphs[0].tensors[1]
    t.sparsity = {"traversal_order": [0, 1], "block_map": None, "dim_metadata": []}
    refused(m, r"tensor 1 \('c'\): sparse constant data must be its 1-D stored values, has shape \(2, 3\)")
    t.data = C.reshape(-1)
    validate(m)


@pytest.mark.parametrize("type_name, valid, invalid", [
    ("INT4", [-8, 7], [-8, 8]), ("UINT4", [0, 15], [16, 0]), ("INT2", [-2, 1], [-3, 1])])
def test_rule_packed_constant_values_in_range(type_name, valid, invalid):
    m = small_model()
    sg = m.subgraphs[0]
    dtype = np.uint8 if type_name == "UINT4" else np.int8
    sg.add_tensor(Tensor("packed", (2,), type_name, data=np.array(valid, dtype)))
    validate(m)
    sg.tensors[-1].data = np.array(invalid, dtype)
    refused(m, r"tensor 4 \('packed'\): constant data has values outside the %s range" % type_name)


def test_rule_variables_hold_no_data():
    m = small_model()
    t = m.subgraphs[0].tensors[1]
    t.is_variable = True
    refused(m, r"subgraph 0 tensor 1 \('c'\): TFLite does not support variable tensors with constant data")


def test_rule_zero_points_match_scales():
    m = small_model()
    m.subgraphs[0].tensors[2].quantization = Quantization(np.ones(3, np.float32), np.zeros(2, np.int64), 1)
    refused(m, r"tensor 2 \('a'\): quantization has 2 zero_point values and 3 scale values")


def test_rule_quantized_dimension_in_shape():
    m = small_model()
    m.subgraphs[0].tensors[2].quantization = Quantization.make([1.0, 2.0], 0, quantized_dimension=2)
    refused(m, r"tensor 2 \('a'\): quantized_dimension must be in range \[0, 2\), was 2")


def test_rule_scales_match_quantized_dimension():
    m = small_model()
    m.subgraphs[0].tensors[2].quantization = Quantization.make([1.0, 2.0], 0, quantized_dimension=1)
    refused(m, r"tensor 2 \('a'\): 2 scales do not match dimension 1 of shape \(2, 3\)")
    m.subgraphs[0].tensors[2].quantization = Quantization.make([1.0, 2.0, 3.0], 0, quantized_dimension=1)
    validate(m)


def test_rule_blockwise_quantization_names_tensors_in_range():
    m = zoo_builder().build()
    sg = m.subgraphs[0]
    bw = next(t for t in sg.tensors if t.name == "blockwise")
    bw.quantization.details["scales"] = len(sg.tensors)
    refused(m, r"\('blockwise'\) blockwise quantization scales: index %d out of range" % len(sg.tensors))


def test_rule_signature_tensors_exist():
    m = small_model()
    m.signatures[0].outputs["m"] = 4
    refused(m, r"signature 'serve' output 'm': index 4 out of range \[0, 4\)")


def test_rule_signature_subgraph_exists():
    m = small_model()
    m.signatures[0].subgraph_index = 1
    refused(m, r"signature_defs\[0\].subgraph_index: index 1 out of range \[0, 1\)")


@pytest.mark.parametrize("opcode, options, key", [
    ("WHILE", {"cond_subgraph_index": 1, "body_subgraph_index": 2}, "body_subgraph_index"),
    ("IF", {"then_subgraph_index": 1, "else_subgraph_index": -1}, "else_subgraph_index"),
    ("CALL_ONCE", {"init_subgraph_index": 5}, "init_subgraph_index"),
    ("CALL", {"subgraph": 2}, "subgraph"),
    ("STABLEHLO_CASE", {"branch_subgraph_indices": [1, 3]}, r"branch_subgraph_indices\[1\]"),
])
def test_rule_control_flow_subgraphs_exist(opcode, options, key):
    m = small_model()
    body = Subgraph(tensors=[Tensor("i", X.shape)], inputs=[0], outputs=[0])
    m.subgraphs.append(body)
    sg = m.subgraphs[0]
    out = sg.add_tensor(Tensor("flow", X.shape))
    sg.operators.append(Operator(opcode, [0], [out], options=dict(options)))
    refused(m, r"subgraph 0 operator 2 \(%s\) option %s: index \S+ out of range \[0, 2\)" % (opcode, key))
    if opcode != "IF":   # IF's -1 is never in range
        while len(m.subgraphs) <= 5:
            m.subgraphs.append(body)
        validate(m)


def test_rule_builtin_opcodes_exist():
    m = small_model()
    m.subgraphs[0].operators[1].opcode = "NOT_AN_OP"
    refused(m, r"subgraph 0 operator 1: unknown builtin 'NOT_AN_OP'")
    m.subgraphs[0].operators[1].opcode = "CUSTOM"
    refused(m, r"subgraph 0 operator 1: unknown builtin 'CUSTOM'")
    m.subgraphs[0].operators[1].custom = True   # any code is a valid custom op
    validate(m)


# -- helpers ----------------------------------------------------------------------------------------
def test_producers_and_consumers():
    sg = small_model().subgraphs[0]
    assert sg.producers() == {2: 0, 3: 1}
    assert sg.consumers() == {0: [0], 1: [0], 2: [1]}   # MUL reads tensor 2 twice: listed once
    sg.operators[1].inputs = [2, -1]
    assert sg.consumers() == {0: [0], 1: [0], 2: [1]}


def test_add_tensor_returns_its_index():
    sg = small_model().subgraphs[0]
    assert sg.add_tensor(Tensor("t", (1,))) == 4
    assert sg.add_tensor(Tensor("u", (1,))) == 5 and sg.tensors[5].name == "u"


def insert_relu_after_add(model):
    """ADD → a → RELU → r; MUL now reads r."""
    sg = model.subgraphs[0]
    add = sg.producers()[2]
    r = sg.add_tensor(Tensor("r", X.shape))
    for oi in sg.consumers()[2]:
        sg.operators[oi].inputs = [r if i == 2 else i for i in sg.operators[oi].inputs]
    assert sg.insert_operator(add + 1, Operator("RELU", [2], [r])) == 1
    return r


def test_insert_operator_runs_in_both_runtimes():
    m = small_model()
    insert_relu_after_add(m)
    assert [op.opcode for op in m.subgraphs[0].operators] == ["ADD", "RELU", "MUL"]
    got = run_both(m)
    np.testing.assert_allclose(got[0], np.maximum(X + C, 0) ** 2, rtol=1e-6)


def test_insert_operator_index_range():
    sg = small_model().subgraphs[0]
    assert sg.insert_operator(2, Operator("RELU", [3], [sg.add_tensor(Tensor("r", X.shape))])) == 2
    with pytest.raises(IndexError):
        sg.insert_operator(4, Operator("RELU", [0], [1]))
    with pytest.raises(IndexError):
        sg.insert_operator(-1, Operator("RELU", [0], [1]))


def test_remove_operator_then_unused_tensors_runs_in_both_runtimes():
    m = small_model()
    r = insert_relu_after_add(m)
    sg = m.subgraphs[0]
    relu = sg.remove_operator(sg.producers()[r])
    assert relu.opcode == "RELU"
    sg.operators[1].inputs = [2, 2]
    assert m.remove_unused_tensors() == [{0: 0, 1: 1, 2: 2, 3: 3}]
    assert [t.name for t in sg.tensors] == ["x", "c", "a", "m"]
    got = run_both(m)
    np.testing.assert_allclose(got[0], (X + C) ** 2, rtol=1e-6)
    with pytest.raises(IndexError):
        sg.remove_operator(2)


def test_replace_operator_runs_in_both_runtimes():
    m = small_model()
    sg = m.subgraphs[0]
    old = sg.replace_operator(1, Operator("SUB", [2, 0], [3], options={"fused_activation_function": 0}))
    assert old.opcode == "MUL"
    got = run_both(m)
    np.testing.assert_allclose(got[0], C, rtol=1e-6, atol=1e-6)
    with pytest.raises(IndexError):
        sg.replace_operator(2, old)


def test_topological_order():
    m = small_model()
    sg = m.subgraphs[0]
    assert sg.topological_order() == [0, 1]
    # a RELU appended at the end that MUL now reads: valid once the operators are put in order
    r = sg.add_tensor(Tensor("r", X.shape))
    sg.operators[1].inputs = [r, 2]
    sg.operators.append(Operator("RELU", [2], [r]))
    with pytest.raises(numlite.ModelError, match="writes it later"):
        validate(m)
    order = sg.topological_order()
    assert order == [0, 2, 1]
    sg.operators = [sg.operators[i] for i in order]
    got = run_both(m)
    np.testing.assert_allclose(got[0], np.maximum(X + C, 0) * (X + C), rtol=1e-6)


def test_topological_order_keeps_independent_operators_in_place():
    sg = Subgraph(tensors=[Tensor(str(i), (1,)) for i in range(6)], inputs=[0])
    sg.operators = [Operator("RELU", [0], [1]), Operator("RELU", [0], [2]), Operator("ADD", [1, 2], [3]),
                    Operator("RELU", [0], [4]), Operator("RELU", [4], [5])]
    assert sg.topological_order() == [0, 1, 2, 3, 4]


def test_topological_order_names_a_cycle():
    sg = Subgraph(tensors=[Tensor(str(i), (1,)) for i in range(5)], inputs=[0], name="loop")
    sg.operators = [Operator("ADD", [0, 3], [1]), Operator("RELU", [1], [2]), Operator("TANH", [2], [3]),
                    Operator("ABS", [3], [4])]
    with pytest.raises(numlite.ModelError,
                       match=r"subgraph 'loop': operators 0 \(ADD\) -> 1 \(RELU\) -> 2 \(TANH\) -> 0 \(ADD\) "
                             r"form a cycle"):
        sg.topological_order()
    sg.operators[0].inputs = [0, 1]   # reads its own output
    with pytest.raises(numlite.ModelError, match=r"operators 0 \(ADD\) -> 0 \(ADD\) form a cycle"):
        sg.topological_order()


def _operand_names(m):
    return [[([sg.tensors[i].name if i != -1 else None for i in op.inputs], [sg.tensors[i].name for i in op.outputs],
              [sg.tensors[i].name for i in op.intermediates]) for op in sg.operators] for sg in m.subgraphs]


def _signature_names(m):
    return [{k: {n: m.subgraphs[s.subgraph_index].tensors[i].name for n, i in getattr(s, k).items()}
             for k in ("inputs", "outputs")} for s in m.signatures]


def test_remove_unused_tensors_renumbers_everything():
    m = zoo_builder().build()
    sg = m.subgraphs[0]
    before = [t.name for t in sg.tensors]
    sg.outputs.append(before.index("blockwise"))      # its blockwise scales / zero points are then used too
    sg.operators[0].intermediates = [before.index("q_int16")]
    used = {"blockwise", "bw_scales", "bw_zero_points", "q_int16"} | {
        sg.tensors[i].name for op in sg.operators for i in op.inputs + op.outputs} | {
        sg.tensors[i].name for i in sg.inputs + sg.outputs}
    operands, signatures = _operand_names(m), _signature_names(m)
    io = [([sg.tensors[i].name for i in sg.inputs], [sg.tensors[i].name for i in sg.outputs]) for sg in m.subgraphs]
    n_double = len(m.subgraphs[1].tensors)

    mappings = m.remove_unused_tensors()
    after = [t.name for t in sg.tensors]
    assert after == [n for n in before if n in used] and "unused" not in after and "q_per_tensor" not in after
    assert mappings[0] == {before.index(n): k for k, n in enumerate(after)}
    assert mappings[1] == {i: i for i in range(n_double)}
    bw = sg.tensors[after.index("blockwise")].quantization.details
    assert (after[bw["scales"]], after[bw["zero_points"]]) == ("bw_scales", "bw_zero_points")
    assert _operand_names(m) == operands and _signature_names(m) == signatures
    assert [([sg.tensors[i].name for i in sg.inputs], [sg.tensors[i].name for i in sg.outputs])
            for sg in m.subgraphs] == io
    validate(m)
    reread = numlite.load_model(model_content=model_to_bytes(m))
    assert [t.name for t in reread.subgraphs[0].tensors] == after


def test_remove_unused_tensors_keeps_what_signatures_name():
    m = small_model()
    sg = m.subgraphs[0]
    extra = sg.add_tensor(Tensor("extra", (1,)))
    sg.add_tensor(Tensor("gone", (1,)))
    moved = sg.add_tensor(Tensor("moved", (1,)))
    m.signatures[0].outputs.update(extra=extra, moved=moved)
    assert m.remove_unused_tensors() == [{0: 0, 1: 1, 2: 2, 3: 3, 4: 4, 6: 5}]
    assert m.signatures[0].outputs == {"m": 3, "extra": 4, "moved": 5}
    assert sg.remove_unused_tensors() == {0: 0, 1: 1, 2: 2, 3: 3}   # a subgraph alone knows no signatures


def test_remove_unused_tensors_keeps_a_shared_quantization_intact():
    """Renumbering blockwise details copies the Quantization, so tensors of another subgraph
    sharing the object keep their own indices."""
    m = zoo_builder().build()
    q = next(t for t in m.subgraphs[0].tensors if t.name == "blockwise").quantization
    details = dict(q.details)
    m.subgraphs[0].remove_unused_tensors()
    assert q.details == details
