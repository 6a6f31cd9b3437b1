"""numlite: TensorFlow Lite in Python. Run .tflite models with NumPy only.

    from numlite import Interpreter
    interpreter = Interpreter(model_path="model.tflite")
"""
from .errors import ModelError, UnsupportedOpError
from .interpreter import Interpreter, InterpreterWithCustomOps, OpResolverType, SignatureRunner, load_delegate
from .kernels.registry import custom_op
from .schema import load_model, model_to_bytes, save_model

__version__ = "0.1.0"
__all__ = ["Interpreter", "InterpreterWithCustomOps", "custom_op", "OpResolverType", "SignatureRunner", "load_delegate", "ModelError",
           "UnsupportedOpError", "load_model", "model_to_bytes", "save_model", "__version__"]
