"""A drop-in replacement for ``tflite_runtime.interpreter`` / ``ai_edge_litert.interpreter``.

    import numlite.interpreter as tflite
    interpreter = tflite.Interpreter(model_path="model.tflite")
"""
import enum

import numpy as np

from .errors import ModelError
from .loader import load_model
from .runtime.executor import SubgraphExecutor

__all__ = ["Interpreter", "InterpreterWithCustomOps", "OpResolverType", "SignatureRunner", "load_delegate", "Delegate"]


@enum.unique
class OpResolverType(enum.Enum):
    """Kernel selection, as in LiteRT. ``BUILTIN_REF`` runs numlite's reference kernels only;
    ``AUTO``/``BUILTIN`` may pick faster verified variants; the last is accepted for parity."""
    AUTO = 0
    BUILTIN = 1
    BUILTIN_REF = 2
    BUILTIN_WITHOUT_DEFAULT_DELEGATES = 3


class Delegate:
    def __init__(self, *a, **k):
        raise ValueError("numlite does not load native delegates")


def load_delegate(library, options=None):
    """numlite is pure Python: native TFLite delegates (.so/.dll) cannot be loaded."""
    raise ValueError("Failed to load delegate from %s\nnumlite runs models in pure Python/NumPy and does not "
                     "load native TFLite delegates; drop experimental_delegates to run on the CPU." % (library,))


def _np_type(dtype):
    return np.dtype(dtype).type


class Interpreter:
    def __init__(self, model_path=None, model_content=None, experimental_delegates=None, num_threads=None,
                 experimental_op_resolver_type=OpResolverType.AUTO, experimental_preserve_all_tensors=False,
                 experimental_disable_delegate_clustering=False,
                 experimental_default_delegate_latest_features=False,
                 experimental_compress_quantization_zero_points=False,
                 experimental_disable_delegate_node_fusion=False,
                 experimental_force_delegate_node_profiling=False):
        if not isinstance(experimental_op_resolver_type, enum.Enum) or \
                experimental_op_resolver_type.name not in OpResolverType.__members__:
            raise ValueError("Unrecognized passed in op resolver type: {}".format(experimental_op_resolver_type))
        if num_threads is not None:
            if not isinstance(num_threads, int):
                raise ValueError("type of num_threads should be int")
            if num_threads < 1:
                raise ValueError("num_threads should >= 1")
        if experimental_delegates:
            raise ValueError("numlite does not run native delegates; remove experimental_delegates")
        if model_path and not model_content:
            self._model = load_model(model_path=model_path)
        elif model_content and not model_path:
            self._model = load_model(model_content=model_content)
        elif not model_path and not model_content:
            raise ValueError("`model_path` or `model_content` must be specified.")
        else:
            raise ValueError("Can't both provide `model_path` and `model_content`")
        self._num_threads = num_threads
        self._reference_only = experimental_op_resolver_type.name == "BUILTIN_REF"
        self._preserve_all = bool(experimental_preserve_all_tensors)
        self._executors = {}
        self._signature_defs = {s.key: s for s in self._model.signatures}

    # -- executors -------------------------------------------------------------------------
    def _executor(self, subgraph_index=0):
        ex = self._executors.get(subgraph_index)
        if ex is None:
            if not 0 <= subgraph_index < len(self._model.subgraphs):
                raise ValueError("subgraph_index is out of range: %d" % subgraph_index)
            ex = SubgraphExecutor(self._model, subgraph_index, self._reference_only, self._preserve_all, runtime=self)
            self._executors[subgraph_index] = ex
        return ex

    def subgraph_executor(self, subgraph_index):
        """Used by control-flow kernels (CALL_ONCE, IF, WHILE) to run other subgraphs."""
        return self._executor(subgraph_index)

    def allocate_tensors(self):
        self._executor(0).allocate()

    @property
    def arena_size(self):
        """Bytes of the planned activation arena of the primary subgraph (after allocate_tensors)."""
        return self._executor(0).arena_size

    def invoke(self):
        ex = self._executor(0)
        if not ex.allocated:
            raise RuntimeError("Invoke called on model that is not ready; call allocate_tensors() first")
        ex.invoke()

    def reset_all_variables(self):
        for ex in self._executors.values():
            ex.reset_variables()

    def num_subgraphs(self):
        return len(self._model.subgraphs)

    # -- details -----------------------------------------------------------------------------
    def _check_index(self, tensor_index, subgraph_index=0):
        n = len(self._model.subgraphs[subgraph_index].tensors)
        if not isinstance(tensor_index, (int, np.integer)) or not 0 <= tensor_index < n:
            raise ValueError("Invalid tensor index %s exceeds max tensor index %d" % (tensor_index, n - 1))
        return int(tensor_index)

    def _get_tensor_details(self, tensor_index, subgraph_index):
        tensor_index = int(tensor_index)
        subgraph_index = int(subgraph_index)
        self._check_index(tensor_index, subgraph_index)
        t = self._model.subgraphs[subgraph_index].tensors[tensor_index]
        ex = self._executor(subgraph_index)
        shape = ex.current_shape(tensor_index)
        q = t.quantization
        if q is not None:
            scales = q.scale.astype(np.float32)
            zps = q.zero_point.astype(np.int32)
            qd = int(q.quantized_dimension)
            legacy = (float(scales[0]), int(zps[0])) if scales.size == 1 else (0.0, 0)
        else:
            scales, zps, qd, legacy = np.array([], np.float32), np.array([], np.int32), 0, (0.0, 0)
        return {
            "name": t.name,
            "index": tensor_index,
            "shape": np.array(shape, np.int32),
            "shape_signature": np.array(t.signature if t.shape_signature is not None else shape, np.int32),
            "dtype": _np_type(t.dtype) if t.type_name != "STRING" else np.bytes_,
            "quantization": legacy,
            "quantization_parameters": {"scales": scales, "zero_points": zps, "quantized_dimension": qd,
                                        "block_size": 0},
            "sparsity_parameters": dict(t.sparsity) if t.sparsity else {},
        }

    def get_tensor_details(self, subgraph_index=0):
        n = len(self._model.subgraphs)
        if subgraph_index < 0 or subgraph_index >= n:
            raise ValueError("subgraph_index is out of range: %d for the model, which has %d subgraphs."
                             % (subgraph_index, n))
        return [self._get_tensor_details(i, subgraph_index)
                for i in range(len(self._model.subgraphs[subgraph_index].tensors))]

    def get_input_details(self):
        return [self._get_tensor_details(i, 0) for i in self._model.subgraphs[0].inputs]

    def get_output_details(self):
        return [self._get_tensor_details(i, 0) for i in self._model.subgraphs[0].outputs]

    def _get_ops_details(self):
        sg = self._model.subgraphs[0]
        out = []
        for i, op in enumerate(sg.operators):
            out.append({"index": i, "op_name": op.opcode, "inputs": np.array(op.inputs, np.int32),
                        "outputs": np.array(op.outputs, np.int32),
                        "operand_types": [_np_type(sg.tensors[t].dtype) for t in op.inputs if t >= 0],
                        "result_types": [_np_type(sg.tensors[t].dtype) for t in op.outputs if t >= 0]})
        return out

    # -- tensors ---------------------------------------------------------------------------
    def set_tensor(self, tensor_index, value, subgraph_index=0):
        tensor_index = self._check_index(tensor_index, subgraph_index)
        ex = self._executor(subgraph_index)
        t = ex.sg.tensors[tensor_index]
        value = np.asarray(value)
        if t.type_name == "STRING":
            if value.dtype.kind not in "OSU":
                raise ValueError("Cannot set tensor: Got value of type %s but expected type STRING for input %d, name: %s "
                                 % (_type_label(value.dtype), tensor_index, t.name))
        elif value.dtype != t.dtype:
            raise ValueError("Cannot set tensor: Got value of type %s but expected type %s for input %d, name: %s "
                             % (_type_label(value.dtype), t.type_name, tensor_index, t.name))
        if not ex.allocated or ex.arrays[tensor_index] is None:
            raise ValueError("Cannot set tensor: Tensor is unallocated. Try calling allocate_tensors() first")
        target = ex.arrays[tensor_index]
        if value.ndim != target.ndim:
            raise ValueError("Cannot set tensor: Dimension mismatch. Got %d but expected %d for input %d."
                             % (value.ndim, target.ndim, tensor_index))
        for d, (got, want) in enumerate(zip(value.shape, target.shape)):
            if got != want:
                raise ValueError("Cannot set tensor: Dimension mismatch. Got %d but expected %d for dimension %d of input %d."
                                 % (got, want, d, tensor_index))
        if t.is_constant:
            ex.arrays[tensor_index] = np.array(value, dtype=t.dtype)
            return
        if t.type_name == "STRING":
            target[...] = np.vectorize(lambda v: v if isinstance(v, bytes) else str(v).encode(), otypes=[object])(value)
        else:
            np.copyto(target, value)

    def get_tensor(self, tensor_index, subgraph_index=0):
        tensor_index = self._check_index(tensor_index, subgraph_index)
        ex = self._executor(subgraph_index)
        a = ex.arrays[tensor_index] if ex.allocated else None
        if a is None:
            raise ValueError("Tensor data is null. Run allocate_tensors() first")
        return np.array(a, copy=True)

    def tensor(self, tensor_index):
        """A callable returning a live NumPy view of the tensor's buffer (the label_image pattern)."""
        tensor_index = self._check_index(tensor_index)

        def view():
            ex = self._executor(0)
            a = ex.arrays[tensor_index] if ex.allocated else None
            if a is None:
                raise ValueError("Tensor data is null. Run allocate_tensors() first")
            return a
        return view

    def resize_tensor_input(self, input_index, tensor_size, strict=False, subgraph_index=0):
        tensor_index = self._check_index(input_index, subgraph_index)
        ex = self._executor(subgraph_index)
        sg = ex.sg
        if tensor_index not in sg.inputs:
            raise ValueError("ResizeInputTensor: tensor %d is not an input of the model" % tensor_index)
        shape = np.asarray(tensor_size)
        if shape.ndim != 1 or shape.dtype.kind not in "iu":
            raise ValueError("Invalid tensor_size: expected a 1-D integer shape")
        if np.any(shape < 0):
            raise ValueError("ResizeInputTensor: dimensions must be non-negative, got %s" % shape.tolist())
        t = sg.tensors[tensor_index]
        if strict:
            sig = t.signature
            if len(sig) != len(shape) or any(s != -1 and s != d for s, d in zip(sig, shape.tolist())):
                raise ValueError("ResizeInputTensorStrict only allows mutating unknown dimensions identified by -1.")
        if tuple(shape.tolist()) != tuple(ex.shapes[tensor_index]):
            ex.resize_input(tensor_index, shape.tolist())

    # -- signatures --------------------------------------------------------------------------
    def _get_full_signature_list(self):
        return {k: {"inputs": dict(s.inputs), "outputs": dict(s.outputs)} for k, s in self._signature_defs.items()}

    def get_signature_list(self):
        return {k: {"inputs": list(s.inputs), "outputs": list(s.outputs)} for k, s in self._signature_defs.items()}

    def get_signature_runner(self, signature_key=None):
        if signature_key is None:
            if len(self._signature_defs) != 1:
                raise ValueError("SignatureDef signature_key is None and model has {0} Signatures. "
                                 "None is only allowed when the model has 1 SignatureDef".format(len(self._signature_defs)))
            signature_key = next(iter(self._signature_defs))
        return SignatureRunner(self, signature_key)


class InterpreterWithCustomOps(Interpreter):
    def __init__(self, custom_op_registerers=None, **kwargs):
        if custom_op_registerers:
            raise ValueError("numlite cannot load native custom op registerers")
        super().__init__(**kwargs)


def _type_label(dtype):
    dtype = np.dtype(dtype)
    if dtype.kind in "SU":
        return "STRING"
    try:
        from .ir import type_name_of
        return type_name_of(dtype)
    except ValueError:
        return str(dtype).upper()


class SignatureRunner:
    def __init__(self, interpreter=None, signature_key=None):
        if not interpreter:
            raise ValueError("None interpreter provided.")
        if not signature_key:
            raise ValueError("None signature_key provided.")
        sigs = interpreter._signature_defs
        if signature_key not in sigs:
            raise ValueError('Invalid signature_key provided: "%s".' % signature_key)
        self._interpreter = interpreter
        self._sig = sigs[signature_key]
        self._subgraph_index = self._sig.subgraph_index
        self._inputs = self._sig.inputs
        self._outputs = self._sig.outputs

    def __call__(self, **kwargs):
        if len(kwargs) != len(self._inputs):
            raise ValueError("Invalid number of inputs provided for running a SignatureDef, expected %s vs provided %s"
                             % (len(self._inputs), len(kwargs)))
        it = self._interpreter
        ex = it._executor(self._subgraph_index)
        for name, value in kwargs.items():
            if name not in self._inputs:
                raise ValueError("Invalid Input name (%s) for SignatureDef" % name)
            it.resize_tensor_input(self._inputs[name], np.shape(value), subgraph_index=self._subgraph_index)
        if not ex.allocated:
            ex.allocate()
        for name, value in kwargs.items():
            it.set_tensor(self._inputs[name], value, subgraph_index=self._subgraph_index)
        ex.invoke()
        return {name: it.get_tensor(i, self._subgraph_index) for name, i in self._outputs.items()}

    def get_input_details(self):
        return {n: self._interpreter._get_tensor_details(i, self._subgraph_index) for n, i in self._inputs.items()}

    def get_output_details(self):
        return {n: self._interpreter._get_tensor_details(i, self._subgraph_index) for n, i in self._outputs.items()}
