"""ModelBuilder opcodes: a builtin iff the code names a BuiltinOperator, any other code a custom
op (with or without custom options), and custom=True makes a custom op of a builtin's name."""
import numpy as np
import pytest

import numlite
from numlite.builder import ModelBuilder
from numlite.schema.enums import BUILTIN_OPERATOR
from numlite.schema.reader import read_model_table

litert = pytest.importorskip("ai_edge_litert.interpreter")


def one_op_model(opcode, **kwargs):
    b = ModelBuilder()
    x = b.input("x", (2,))
    y = b.input("y", (2,))
    z = b.tensor("z", (2,))
    b.op(opcode, [x, y], [z], **kwargs)
    b.output(z)
    return b


def written_opcode(data):
    (oc,) = read_model_table(data)["operator_codes"]
    return oc["builtin_code"], oc["custom_code"]


def assert_both_refuse_unresolved_custom_op(data, code):
    with pytest.raises(RuntimeError, match="unresolved custom op: %s" % code):
        litert.Interpreter(model_content=data).allocate_tensors()
    with pytest.raises(numlite.UnsupportedOpError, match="custom op %r" % code):
        numlite.Interpreter(model_content=data).allocate_tensors()


def test_custom_op_without_custom_options():
    b = one_op_model("MyCustomOp")
    op = b.build().subgraphs[0].operators[0]
    assert (op.custom, op.custom_options) == (True, None)
    data = b.to_bytes()
    assert written_opcode(data) == (BUILTIN_OPERATOR["CUSTOM"], "MyCustomOp")
    reread = numlite.load_model(model_content=data).subgraphs[0].operators[0]
    assert (reread.opcode, reread.custom, reread.custom_options) == ("MyCustomOp", True, None)
    assert_both_refuse_unresolved_custom_op(data, "MyCustomOp")


def test_builtin_names_are_builtins():
    b = one_op_model("ADD")
    assert not b.build().subgraphs[0].operators[0].custom
    data = b.to_bytes()
    assert written_opcode(data) == (BUILTIN_OPERATOR["ADD"], None)
    x = np.array([1.5, -2.0], np.float32)
    for interp in (litert.Interpreter(model_content=data), numlite.Interpreter(model_content=data)):
        interp.allocate_tensors()
        interp.set_tensor(0, x)
        interp.set_tensor(1, x)
        interp.invoke()
        np.testing.assert_array_equal(interp.get_tensor(2), 2 * x)


def test_custom_op_named_like_a_builtin():
    b = one_op_model("ADD", custom=True, custom_options=b"\x07")
    op = b.build().subgraphs[0].operators[0]
    assert (op.opcode, op.custom) == ("ADD", True)
    data = b.to_bytes()
    assert written_opcode(data) == (BUILTIN_OPERATOR["CUSTOM"], "ADD")
    reread = numlite.load_model(model_content=data).subgraphs[0].operators[0]
    assert (reread.opcode, reread.custom, reread.custom_options) == ("ADD", True, b"\x07")
    with pytest.raises(RuntimeError, match="unresolved custom op: ADD"):
        litert.Interpreter(model_content=data).allocate_tensors()


def test_custom_code_CUSTOM_is_a_custom_op():
    b = one_op_model("CUSTOM")
    assert b.build().subgraphs[0].operators[0].custom
    assert written_opcode(b.to_bytes()) == (BUILTIN_OPERATOR["CUSTOM"], "CUSTOM")


def test_numlite_refuses_a_custom_op_named_like_a_builtin():
    assert_both_refuse_unresolved_custom_op(one_op_model("ADD", custom=True).to_bytes(), "ADD")
