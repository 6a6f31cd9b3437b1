"""The examples in examples/ run, and compute what LiteRT computes for an equivalent builtin model."""
import importlib.util
import os

import numpy as np

import numlite
import numlite.interpreter as tflite
from harness import assert_outputs_match, run_litert
from numlite.builder import ModelBuilder

EXAMPLES = os.path.join(os.path.dirname(__file__), "..", "..", "examples")


def _load(name):
    spec = importlib.util.spec_from_file_location(name, os.path.join(EXAMPLES, name + ".py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_custom_op_example_matches_a_builtin_swish(capsys):
    ex = _load("custom_op")
    ex.main()
    out = capsys.readouterr().out
    assert "output" in out and "UnsupportedOpError" in out
    model = ex.build_model()
    x = np.linspace(-2, 2, 8, dtype=np.float32)[None]
    it = tflite.InterpreterWithCustomOps(custom_op_registerers=[ex.register_swish], model_content=model)
    it.allocate_tensors()
    it.set_tensor(it.get_input_details()[0]["index"], x)
    it.invoke()
    got = it.get_tensor(it.get_output_details()[0]["index"])
    # The same computation from builtin ops: x * LOGISTIC(beta * x), then the same FULLY_CONNECTED.
    w = numlite.load_model(model_content=model).subgraphs[0].tensors[2].data
    b = ModelBuilder()
    xi = b.input("x", (1, 8))
    beta = b.const("beta", np.array([1.5], np.float32))
    bx, sig, h, y = (b.tensor(n, s) for n, s in (("bx", (1, 8)), ("sig", (1, 8)), ("h", (1, 8)), ("y", (1, 4))))
    b.op("MUL", [xi, beta], [bx], fused_activation_function="NONE")
    b.op("LOGISTIC", [bx], [sig])
    b.op("MUL", [xi, sig], [h], fused_activation_function="NONE")
    b.op("FULLY_CONNECTED", [h, b.const("w", w), -1], [y], fused_activation_function="NONE")
    b.output(y)
    assert_outputs_match([got], run_litert(b.to_bytes(), [x]), what="custom Swish vs builtin")

