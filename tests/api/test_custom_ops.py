"""Custom ops written in Python: InterpreterWithCustomOps registerers, the global decorator, and the
kernel contract as users meet it (typed errors, FlexBuffer options, scratch, dynamic outputs).

LiteRT's Python package cannot run these models, so each numerical check compares with LiteRT
running an equivalent model made of builtin ops."""
import numpy as np
import pytest
from flatbuffers import flexbuffers

import numlite
import numlite.interpreter as tflite
from harness import run_litert
from numlite.builder import ModelBuilder

F32 = np.float32


def scale_then_add_model(custom_code="ScaleBy", alpha=0.5, options=None):
    """x → custom(x; alpha) → ADD c. The custom op multiplies by its FlexBuffer option ``alpha``."""
    b = ModelBuilder()
    x = b.input("x", (2, 3))
    y = b.tensor("scaled", (2, 3))
    c = b.const("c", np.array([1.0, -2.0, 0.25], F32))
    z = b.tensor("z", (2, 3))
    blob = options if options is not None else flexbuffers.Dumps({"alpha": alpha})
    b.op(custom_code, [x], [y], custom_options=blob, custom=True)
    b.op("ADD", [y, c], [z], fused_activation_function="NONE")
    b.output(z)
    return b.to_bytes()


def builtin_equivalent(alpha=0.5):
    b = ModelBuilder()
    x = b.input("x", (2, 3))
    a = b.const("alpha", np.array([alpha], F32))
    y = b.tensor("scaled", (2, 3))
    c = b.const("c", np.array([1.0, -2.0, 0.25], F32))
    z = b.tensor("z", (2, 3))
    b.op("MUL", [x, a], [y], fused_activation_function="NONE")
    b.op("ADD", [y, c], [z], fused_activation_function="NONE")
    b.output(z)
    return b.to_bytes()


class ScaleBy:
    """The user's kernel: a few lines of NumPy."""

    def prepare(self, node, inputs, outputs):
        if inputs[0].type_name != "FLOAT32":
            raise node.unsupported("ScaleBy takes float32")
        self.alpha = np.float32(node.flexbuffer_options()["alpha"])
        outputs[0].shape = inputs[0].shape

    def eval(self, node, inputs, outputs):
        np.multiply(inputs[0], self.alpha, out=outputs[0])


def register_scale_by(resolver):
    resolver.add_custom("ScaleBy", ScaleBy)


def run(interpreter, x):
    interpreter.allocate_tensors()
    interpreter.set_tensor(interpreter.get_input_details()[0]["index"], x)
    interpreter.invoke()
    return interpreter.get_tensor(interpreter.get_output_details()[0]["index"])


X = np.array([[1.5, -3.0, 0.125], [7.0, 0.0, -0.5]], F32)


@pytest.mark.parametrize("alpha", [0.5, -3.25, 1e-3])
def test_python_custom_op_matches_litert_builtin_equivalent(alpha):
    it = tflite.InterpreterWithCustomOps(custom_op_registerers=[register_scale_by],
                                         model_content=scale_then_add_model(alpha=alpha))
    got = run(it, X)
    want = run_litert(builtin_equivalent(alpha), [X])[0]
    np.testing.assert_array_equal(got, want)


def test_registration_is_per_interpreter():
    model = scale_then_add_model()
    tflite.InterpreterWithCustomOps(custom_op_registerers=[register_scale_by], model_content=model).allocate_tensors()
    with pytest.raises(numlite.UnsupportedOpError, match="ScaleBy"):
        tflite.Interpreter(model_content=model).allocate_tensors()


def test_custom_codes_are_their_own_namespace():
    """A custom op whose code is "ADD" is not the builtin ADD (and vice versa)."""
    model = scale_then_add_model(custom_code="ADD")
    with pytest.raises(numlite.UnsupportedOpError, match="custom op 'ADD'"):
        tflite.Interpreter(model_content=model).allocate_tensors()

    def register_as_add(resolver):
        resolver.add_custom("ADD", ScaleBy)
    it = tflite.InterpreterWithCustomOps(custom_op_registerers=[register_as_add], model_content=model)
    np.testing.assert_array_equal(run(it, X), run_litert(builtin_equivalent(), [X])[0])


def test_global_decorator_registers_for_every_interpreter(monkeypatch):
    from numlite.kernels import registry
    monkeypatch.setattr(registry, "_REGISTRY", dict(registry._REGISTRY))   # leave no global trace

    @numlite.custom_op("ScaleByGlobal_test")
    class ScaleByGlobal(ScaleBy):
        pass
    it = tflite.Interpreter(model_content=scale_then_add_model(custom_code="ScaleByGlobal_test"))
    np.testing.assert_array_equal(run(it, X), run_litert(builtin_equivalent(), [X])[0])
    # The per-interpreter resolver wins over the global registration of the same code.

    class Doubler(ScaleBy):
        def prepare(self, node, inputs, outputs):
            super().prepare(node, inputs, outputs)
            self.alpha = np.float32(2.0)
    it = tflite.InterpreterWithCustomOps(custom_op_registerers=[lambda r: r.add_custom("ScaleByGlobal_test", Doubler)],
                                         model_content=scale_then_add_model(custom_code="ScaleByGlobal_test"))
    np.testing.assert_array_equal(run(it, X), run_litert(builtin_equivalent(2.0), [X])[0])


def test_exception_in_user_kernel_surfaces_from_invoke_naming_the_node():
    class Broken(ScaleBy):
        def eval(self, node, inputs, outputs):
            raise ZeroDivisionError("user bug")
    it = tflite.InterpreterWithCustomOps(custom_op_registerers=[lambda r: r.add_custom("ScaleBy", Broken)],
                                         model_content=scale_then_add_model())
    it.allocate_tensors()
    with pytest.raises(RuntimeError, match=r"ScaleBy \(node 0\).*ZeroDivisionError: user bug"):
        it.invoke()


def test_exception_in_user_prepare_surfaces_from_allocate():
    class BadPrepare(ScaleBy):
        def prepare(self, node, inputs, outputs):
            raise KeyError("missing")
    it = tflite.InterpreterWithCustomOps(custom_op_registerers=[lambda r: r.add_custom("ScaleBy", BadPrepare)],
                                         model_content=scale_then_add_model())
    with pytest.raises(RuntimeError, match=r"ScaleBy \(node 0\)"):
        it.allocate_tensors()


def test_registerer_mistakes_are_refused():
    with pytest.raises(TypeError, match="has no prepare"):
        tflite.InterpreterWithCustomOps(custom_op_registerers=[lambda r: r.add_custom("X", object)],
                                        model_content=scale_then_add_model())
    with pytest.raises(ValueError, match="name"):
        tflite.InterpreterWithCustomOps(custom_op_registerers=[lambda r: r.add_custom("", ScaleBy)],
                                        model_content=scale_then_add_model())


def test_malformed_flexbuffer_options_are_a_model_error():
    it = tflite.InterpreterWithCustomOps(custom_op_registerers=[register_scale_by],
                                         model_content=scale_then_add_model(options=b"\xff\x03"))
    with pytest.raises(numlite.ModelError, match="FlexBuffer"):
        it.allocate_tensors()


def test_returning_a_planned_output_or_a_wrong_dtype_is_refused():
    class Returns(ScaleBy):
        def eval(self, node, inputs, outputs):
            return [inputs[0] * self.alpha]
    it = tflite.InterpreterWithCustomOps(custom_op_registerers=[lambda r: r.add_custom("ScaleBy", Returns)],
                                         model_content=scale_then_add_model())
    it.allocate_tensors()
    with pytest.raises(RuntimeError, match="fill it in place"):
        it.invoke()

    class DynamicWrongType(ScaleBy):
        def prepare(self, node, inputs, outputs):
            super().prepare(node, inputs, outputs)
            outputs[0].shape = None
        def eval(self, node, inputs, outputs):
            return [inputs[0].astype(np.float64) * self.alpha]
    it = tflite.InterpreterWithCustomOps(custom_op_registerers=[lambda r: r.add_custom("ScaleBy", DynamicWrongType)],
                                         model_content=scale_then_add_model())
    it.allocate_tensors()
    with pytest.raises(RuntimeError, match="float64"):
        it.invoke()


def test_value_dependent_output_and_scratch():
    """A custom op whose output shape depends on the input values (positive entries only), using
    scratch memory planned by the runtime; the ADD after it is prepared at invoke."""
    class Positives:
        def prepare(self, node, inputs, outputs):
            self.mask = node.scratch(inputs[0].shape, np.bool_)
            outputs[0].shape = None

        def eval(self, node, inputs, outputs):
            mask = self.mask.array
            np.greater(inputs[0], 0, out=mask)
            return [inputs[0][mask]]

    b = ModelBuilder()
    x = b.input("x", (2, 3))
    y = b.tensor("pos", (0,))
    c = b.const("c", np.array([1.0], F32))
    z = b.tensor("z", (0,))
    b.op("Positives", [x], [y], custom_options=b"")
    b.op("ADD", [y, c], [z], fused_activation_function="NONE")
    b.output(z)
    it = tflite.InterpreterWithCustomOps(custom_op_registerers=[lambda r: r.add_custom("Positives", Positives)],
                                         model_content=b.to_bytes())
    got = run(it, X)
    np.testing.assert_array_equal(got, X[X > 0] + F32(1))
    report = it.runtime.memory()
    assert report.scratch == 0 or report.scratch >= X.size   # the node is prepared at invoke here
    got = run(it, -X)
    np.testing.assert_array_equal(got, -X[-X > 0] + F32(1))


def test_scratch_is_planned_in_the_arena():
    class WithScratch(ScaleBy):
        def prepare(self, node, inputs, outputs):
            super().prepare(node, inputs, outputs)
            self.tmp = node.scratch((64, 64), np.float32)

        def eval(self, node, inputs, outputs):
            self.tmp.array[...] = 7     # contents are undefined at each eval; the kernel writes first
            np.multiply(inputs[0], self.alpha, out=outputs[0])
    it = tflite.InterpreterWithCustomOps(custom_op_registerers=[lambda r: r.add_custom("ScaleBy", WithScratch)],
                                         model_content=scale_then_add_model())
    np.testing.assert_array_equal(run(it, X), run_litert(builtin_equivalent(), [X])[0])
    report = it.runtime.memory()
    assert report.scratch == 64 * 64 * 4
    assert report.arena >= report.scratch
