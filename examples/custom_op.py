"""A custom op written in Python, in a model numlite runs and LiteRT's Python package cannot.

    python examples/custom_op.py

The model (built here with numlite's builder) is  x → "Swish" (custom) → FULLY_CONNECTED → y.
"Swish" is the user's op: x * sigmoid(beta * x), with ``beta`` in the op's FlexBuffer options,
as the TensorFlow converter writes custom ops with attributes.
"""
import numpy as np
from flatbuffers import flexbuffers

import numlite.interpreter as tflite
from numlite.builder import ModelBuilder


class Swish:
    """prepare: check types, read options, set the output shape. eval: fill the output in place."""

    def prepare(self, node, inputs, outputs):
        if inputs[0].type_name != "FLOAT32":
            raise node.unsupported("Swish is written for float32 input")
        self.beta = np.float32(node.flexbuffer_options().get("beta", 1.0))
        outputs[0].shape = inputs[0].shape

    def eval(self, node, inputs, outputs):
        x = inputs[0]
        np.multiply(x, 1 / (1 + np.exp(-self.beta * x)), out=outputs[0])


def register_swish(resolver):
    resolver.add_custom("Swish", Swish)


def build_model():
    rng = np.random.default_rng(0)
    b = ModelBuilder()
    x = b.input("x", (1, 8))
    h = b.tensor("swish", (1, 8))
    w = b.const("w", rng.standard_normal((4, 8)).astype(np.float32))
    y = b.tensor("y", (1, 4))
    b.op("Swish", [x], [h], custom_options=flexbuffers.Dumps({"beta": 1.5}))
    b.op("FULLY_CONNECTED", [h, w, -1], [y], fused_activation_function="NONE")
    b.output(y)
    return b.to_bytes()


def main():
    model = build_model()
    interpreter = tflite.InterpreterWithCustomOps(custom_op_registerers=[register_swish], model_content=model)
    interpreter.allocate_tensors()
    x = np.linspace(-2, 2, 8, dtype=np.float32)[None]
    interpreter.set_tensor(interpreter.get_input_details()[0]["index"], x)
    interpreter.invoke()
    y = interpreter.get_tensor(interpreter.get_output_details()[0]["index"])
    print("input ", x.round(3).tolist())
    print("output", y.round(4).tolist())
    try:
        tflite.Interpreter(model_content=model).allocate_tensors()
    except Exception as e:  # the plain Interpreter does not know the op
        print("plain Interpreter:", type(e).__name__, "-", e)


if __name__ == "__main__":
    main()
