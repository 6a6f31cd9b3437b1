"""A drop-in replacement for ``tflite_runtime.interpreter`` / ``ai_edge_litert.interpreter``.

    import numlite.interpreter as tflite
    interpreter = tflite.Interpreter(model_path="model.tflite")

Classes, methods, arguments, returned values (dict keys, NumPy types, NumPy scalars for rank-0
tensors, signature names sorted as LiteRT's std::map sorts them) and exceptions (types and texts)
follow LiteRT's Python ``Interpreter``; tests/api/test_interpreter_api.py runs both side by side,
LiteRT with its reference kernels. Intentional differences:

- An unsupported operator is reported by ``allocate_tensors()`` (``numlite.UnsupportedOpError``, a
  ValueError), not by the constructor, so that a model numlite cannot run can still be inspected.
- Failures inside ``allocate_tensors()`` / ``invoke()`` raise ``numlite.ModelError`` instances whose
  class also derives from RuntimeError, the type LiteRT raises there: either ``except`` works.
  Their texts are numlite's own, as are those of ``resize_tensor_input()``'s RuntimeErrors
  (LiteRT's quote C++ source lines).
- ``tensor()`` views of constant tensors are read-only. LiteRT hands out writable views of the
  model buffer, so writing through one silently edits the caller's ``model_content`` bytes (and
  every interpreter sharing them). ``set_tensor()`` on a constant works as in LiteRT but changes
  this interpreter's copy only; kernels that precomputed from the constant in ``allocate_tensors()``
  see the new value after the next allocation.
- ``get_tensor()`` / ``set_tensor()`` of intermediate tensors work after ``allocate_tensors()``, as in
  LiteRT with ``BUILTIN_REF``; LiteRT's default resolver lets XNNPACK take the graph, leaving the
  intermediates unallocated. numlite's arena starts zeroed, LiteRT's uninitialised.
- ``get_tensor()`` of a STRING tensor without data raises ValueError (LiteRT crashes), and a
  STRING tensor cannot be set before ``allocate_tensors()`` (LiteRT allows it).
- LiteRT renames the output of DENSIFY "Densify_output" once prepared; numlite keeps the name.
- ``allocate_tensors()`` refuses inputs and variables larger than the executor's arena limit
  before any kernel runs (LiteRT tries to allocate them).
- Native code cannot be loaded: ``load_delegate()``, a non-empty ``experimental_delegates`` and
  ``InterpreterWithCustomOps`` with the name of a native registerer raise ValueError; its
  registerers are Python functions adding Python kernels instead (something LiteRT's Python
  package cannot do). ``num_threads`` is validated and
  ignored.
- ``model_content`` may be any bytes-like object (LiteRT wants ``bytes``); ``experimental_op_resolver_type``
  may also be a member of LiteRT's own ``OpResolverType``; ``SignatureRunner`` accepts lists.
- Holding a ``SignatureRunner`` does not block ``invoke()``: LiteRT counts the runner's reference
  to its wrapper as a dangling view and raises.
- Models LiteRT loads but fails or crashes on later (a signature naming a missing tensor, a
  malformed string buffer, an operator writing into a constant or its own input) are refused by
  the constructor with ``numlite.ModelError``; BFLOAT16 and FLOAT8 tensors are not supported yet.
"""
import enum
import operator
import weakref

import numpy as np

from .errors import ModelError
from .schema import load_model
from .kernels.registry import CustomOpResolver
from .runtime.model import ModelRuntime

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


# LiteRT's text, raised when a NumPy view from tensor() outlives a call that may move the buffers.
_DANGLING_VIEW = """There is at least 1 reference to internal data
      in the interpreter in the form of a numpy array or slice. Be sure to
      only hold the function returned from tensor() if you are using raw
      data access."""

_RUNTIME_FLAVOURS = {}


def _as_runtime_error(exc):
    """Give ``exc`` a class deriving from both its own class and RuntimeError.

    numlite's model errors are ValueErrors; LiteRT reports allocation and invocation failures as
    RuntimeError. Code written for either keeps working."""
    cls = type(exc)
    if not issubclass(cls, RuntimeError):
        flavour = _RUNTIME_FLAVOURS.get(cls)
        if flavour is None:
            # Pickles as the original class, which is importable; this one is not.
            flavour = type(cls.__name__, (cls, RuntimeError), {
                "__module__": cls.__module__, "__doc__": cls.__doc__,
                "__reduce__": lambda self: (cls, self.args, self.__dict__ or None)})
            _RUNTIME_FLAVOURS[cls] = flavour
        exc.__class__ = flavour
    return exc


def _int_arg(value, what):
    """Indices are C ints in LiteRT's bindings: anything without __index__ is a TypeError."""
    try:
        return operator.index(value)
    except TypeError:
        raise TypeError("%s must be an integer, got %s" % (what, type(value).__name__)) from None


# NumPy array → TfLiteType name, as LiteRT's TfLiteTypeFromPyArray maps them.
_INCOMING_TYPE = {("f", 2): "FLOAT16", ("f", 4): "FLOAT32", ("f", 8): "FLOAT64", ("i", 1): "INT8",
                  ("i", 2): "INT16", ("i", 4): "INT32", ("i", 8): "INT64", ("u", 1): "UINT8", ("u", 2): "UINT16",
                  ("u", 4): "UINT32", ("u", 8): "UINT64", ("b", 1): "BOOL", ("c", 8): "COMPLEX64",
                  ("c", 16): "COMPLEX128"}


def _incoming_type(dtype):
    if dtype.kind in "OSU":
        return "STRING"
    return _INCOMING_TYPE.get((dtype.kind, dtype.itemsize), "NOTYPE")


def _details_dtype(t):
    """The NumPy type LiteRT reports for a tensor (None: LiteRT has none and skips the tensor)."""
    if t.type_name == "STRING":
        return np.bytes_
    if t.type_name in ("RESOURCE", "VARIANT"):
        return np.object_
    if t.type_name == "BFLOAT16":
        return None
    return t.dtype.type


def _numpy_result(a):
    """Copy out a tensor the way LiteRT's GetTensor does: a NumPy scalar for rank 0
    (PyArray_Return), arrays of bytes objects for strings."""
    if a.dtype == object:
        return np.array(a, dtype=object, copy=True)
    out = np.array(a, copy=True)
    return out[()] if out.ndim == 0 else out


class _ViewOwner:
    """Exposes one tensor's memory through ``__array_interface__``. Every array derived from a
    tensor() view keeps its owner alive, which is how the interpreter detects dangling views."""

    __slots__ = ("__array_interface__", "array", "__weakref__")

    def __init__(self, array):
        self.array = array
        self.__array_interface__ = array.__array_interface__


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
        if model_path and not model_content:
            self._model = load_model(model_path=model_path)
        elif model_content and not model_path:
            self._model = load_model(model_content=model_content)
        elif not model_path and not model_content:
            raise ValueError("`model_path` or `model_content` must be specified.")
        else:
            raise ValueError("Can't both provide `model_path` and `model_content`")
        if experimental_delegates:
            raise ValueError("numlite does not run native delegates; remove experimental_delegates")
        self._num_threads = num_threads
        self._reference_only = experimental_op_resolver_type.name == "BUILTIN_REF"
        self._preserve_all = bool(experimental_preserve_all_tensors)
        self._compress_zero_points = bool(experimental_compress_quantization_zero_points)
        self._runtime = ModelRuntime(self._model, reference_only=self._reference_only,
                                     preserve_all_tensors=self._preserve_all, custom_ops=self._custom_ops())
        self._views = weakref.WeakSet()    # owners of live tensor() views
        self._signature_defs = self.get_signature_list()

    @property
    def experimental_compress_quantization_zero_points(self):
        return self._compress_zero_points

    def _custom_ops(self):
        return None

    @property
    def runtime(self):
        """The :class:`numlite.runtime.ModelRuntime` behind this interpreter (numlite's own API:
        memory reports, profiling, the kernels chosen per node, subgraph execution)."""
        return self._runtime

    # -- executors -------------------------------------------------------------------------
    def _executor(self, subgraph_index=0):
        return self._runtime.executor(subgraph_index)

    def _check_subgraph(self, subgraph_index):
        self._runtime.check_subgraph(subgraph_index)

    def _tensor_executor(self, tensor_index, subgraph_index):
        """Validate (tensor, subgraph) indices as LiteRT's bindings do; return the executor."""
        self._check_subgraph(subgraph_index)
        n = len(self._model.subgraphs[subgraph_index].tensors)
        if not 0 <= tensor_index < n:
            raise ValueError("Invalid tensor index %d exceeds max tensor index %d" % (tensor_index, n))
        return self._executor(subgraph_index)

    def _safe_to_run(self):
        return not len(self._views)

    def _ensure_safe(self):
        if not self._safe_to_run():
            raise RuntimeError(_DANGLING_VIEW)

    def _call(self, fn, *args):
        try:
            return fn(*args)
        except ModelError as e:
            raise _as_runtime_error(e)

    def _allocate(self, subgraph_index):
        self._call(self._runtime.allocate, subgraph_index)

    def _invoke(self, subgraph_index):
        self._call(self._runtime.invoke, subgraph_index)

    def allocate_tensors(self):
        self._ensure_safe()
        self._allocate(0)

    @property
    def arena_size(self):
        """Bytes of the planned activation arena of the primary subgraph (after allocate_tensors)."""
        return self._runtime.executor(0).arena_size

    def invoke(self):
        self._ensure_safe()
        self._invoke(0)

    def reset_all_variables(self):
        self._runtime.reset_variables()

    def num_subgraphs(self):
        return len(self._model.subgraphs)

    # -- details -----------------------------------------------------------------------------
    def _shape(self, ex, i):
        if self._runtime.is_resized(ex.index, i):
            return ex.shapes[i]
        t = ex.sg.tensors[i]
        if t.is_constant:   # fixed size; a sparse constant's data holds only its stored values
            return t.shape
        return ex.current_shape(i)

    def _quantization_parameters(self, t, subgraph_index):
        """(scales, zero_points, quantized_dimension, block_size, legacy (scale, zero_point))."""
        q = t.quantization
        empty = (np.zeros(0, np.float32), np.zeros(0, np.int32), 0, 0, (0.0, 0))
        if q is None:
            return empty
        details = q.details or {}
        if details.get("type") == "BlockwiseQuantization":
            # LiteRT returns the raw contents of the scale tensor as float16 and of the zero-point
            # tensor as int32, whatever their declared types.
            tensors = self._model.subgraphs[subgraph_index].tensors

            def raw(index, dtype):
                if not 0 <= index < len(tensors):
                    raise ValueError("Invalid tensor index %d exceeds max tensor index %d" % (index, len(tensors)))
                d = tensors[index].data
                b = b"" if d is None else np.ascontiguousarray(d).tobytes()
                return np.frombuffer(b[:len(b) // dtype.itemsize * dtype.itemsize], dtype).copy()
            zps = raw(details["zero_points"], np.dtype("<i4")) if details["zero_points"] != -1 else empty[1]
            return (raw(details["scales"], np.dtype("<f2")), zps.astype(np.int32), int(q.quantized_dimension),
                    int(details["block_size"]), (0.0, 0))
        if not np.size(q.scale):
            return empty
        scales = np.asarray(q.scale, np.float32).copy()
        zps = np.asarray(q.zero_point).astype(np.int32)
        if self._compress_zero_points and zps.size and np.all(zps == zps[0]):
            zps = zps[:1]
        legacy = (float(scales[0]), int(zps[0])) if scales.size == 1 and zps.size == 1 else (0.0, 0)
        return scales, zps, int(q.quantized_dimension), 0, legacy

    def _get_tensor_details(self, tensor_index, subgraph_index):
        tensor_index = int(tensor_index)
        subgraph_index = int(subgraph_index)
        ex = self._tensor_executor(tensor_index, subgraph_index)
        t = ex.sg.tensors[tensor_index]
        dtype = _details_dtype(t)
        if dtype is None:
            raise ValueError("Could not get tensor details")
        shape = np.array(self._shape(ex, tensor_index), np.int32)
        # LiteRT keeps no signature for constants and reports the current shape when there is none.
        sig = t.shape_signature if t.shape_signature and not t.is_constant else None
        scales, zps, qd, block, legacy = self._quantization_parameters(t, subgraph_index)
        return {
            "name": t.name,
            "index": tensor_index,
            "shape": shape,
            "shape_signature": np.array(sig, np.int32) if sig is not None else shape.copy(),
            "dtype": dtype,
            "quantization": legacy,
            "quantization_parameters": {"scales": scales, "zero_points": zps, "quantized_dimension": qd,
                                        "block_size": block},
            "sparsity_parameters": _sparsity_details(t.sparsity),
        }

    def get_tensor_details(self, subgraph_index=0):
        n = len(self._model.subgraphs)
        if subgraph_index < 0 or subgraph_index >= n:
            raise ValueError("subgraph_index is out of range: %d for the model, which has %d subgraphs."
                             % (subgraph_index, n))
        details = []
        for i in range(len(self._model.subgraphs[subgraph_index].tensors)):
            try:
                details.append(self._get_tensor_details(i, subgraph_index))
            except ValueError:  # as LiteRT: tensors without a NumPy type are left out
                pass
        return details

    def get_input_details(self):
        return [self._get_tensor_details(i, 0) for i in self._model.subgraphs[0].inputs]

    def get_output_details(self):
        return [self._get_tensor_details(i, 0) for i in self._model.subgraphs[0].outputs]

    def _get_op_details(self, op_index):
        sg = self._model.subgraphs[0]
        if not 0 <= op_index < len(sg.operators):
            raise ValueError("Invalid node index")
        op = sg.operators[op_index]
        return {"index": int(op_index), "op_name": op.opcode, "inputs": np.array(op.inputs, np.int32),
                "outputs": np.array(op.outputs, np.int32),
                "operand_types": [_details_dtype(sg.tensors[i]) for i in op.inputs if i != -1],
                "result_types": [_details_dtype(sg.tensors[i]) for i in op.outputs if i != -1]}

    def _get_ops_details(self):
        return [self._get_op_details(i) for i in range(len(self._model.subgraphs[0].operators))]

    # -- tensors ---------------------------------------------------------------------------
    def _data(self, ex, i):
        """The tensor's current array, or None where LiteRT's data pointer would be null."""
        t = ex.sg.tensors[i]
        a = None if self._runtime.is_resized(ex.index, i) else ex.arrays[i]
        if a is None and t.is_constant:
            a = t.data   # constants are readable before allocation, like LiteRT's mapped buffers
        if a is None and 0 in tuple(self._shape(ex, i)):
            a = np.zeros(self._shape(ex, i), t.dtype)   # zero bytes need no allocation
        return a

    def set_tensor(self, tensor_index, value, subgraph_index=0):
        tensor_index = _int_arg(tensor_index, "tensor_index")
        subgraph_index = _int_arg(subgraph_index, "subgraph_index")
        ex = self._tensor_executor(tensor_index, subgraph_index)
        t = ex.sg.tensors[tensor_index]
        given_type = type(value).__name__
        try:
            value = np.asarray(value, order="C")
        except (ValueError, TypeError):
            raise ValueError("Failed to convert value into readable tensor.") from None
        shape = tuple(self._shape(ex, tensor_index))
        if t.type_name in ("INT4", "UINT4"):
            self._set_4bit(ex, t, tensor_index, value, shape)
            return
        incoming = _incoming_type(value.dtype)
        if incoming != t.type_name:
            raise ValueError("Cannot set tensor: Got value of type %s but expected type %s for input %d, name: %s "
                             % (incoming, t.type_name, tensor_index, t.name))
        if value.ndim != len(shape):
            raise ValueError("Cannot set tensor: Dimension mismatch. Got %d but expected %d for input %d."
                             % (value.ndim, len(shape), tensor_index))
        for d, (got, want) in enumerate(zip(value.shape, shape)):
            if got != want:
                raise ValueError("Cannot set tensor: Dimension mismatch. Got %d but expected %d for dimension %d "
                                 "of input %d." % (got, want, d, tensor_index))
        if t.type_name == "STRING":
            value = _encode_string_array(value, given_type)
        if t.is_constant:
            self._replace_constant(ex, t, tensor_index, value)
            return
        target = self._data(ex, tensor_index)
        if target is None:
            raise ValueError("Cannot set tensor: Tensor is unallocated. Try calling allocate_tensors() first")
        np.copyto(target, value)

    @staticmethod
    def _replace_constant(ex, t, tensor_index, value):
        """This interpreter owns its model IR: replacing the constant there keeps the new value
        across later allocations, as LiteRT's write into the model buffer does."""
        data = np.array(value, dtype=t.dtype)
        data.flags.writeable = False
        t.data = data
        if ex.arrays[tensor_index] is not None:
            ex.arrays[tensor_index] = data

    def _set_4bit(self, ex, t, tensor_index, value, shape):
        """INT4/UINT4 tensors take int8/uint8 arrays of the same element count, whatever their
        shape (LiteRT's Set4BitTensor), with every value in the 4-bit range."""
        want = "INT8" if t.type_name == "INT4" else "UINT8"
        incoming = _incoming_type(value.dtype)
        if incoming != want:
            raise ValueError("Cannot set tensor: Expected a numpy array of %s for %s input %d, name: %s, but got %s"
                             % (want.lower(), t.type_name, tensor_index, t.name, incoming))
        n = int(np.prod(shape, dtype=np.int64))
        if value.size != n:
            raise ValueError("Cannot set tensor: Numpy array for %s input %d, name: %s, has %d bytes, but expected "
                             "%d bytes for %d elements" % (t.type_name, tensor_index, t.name, value.nbytes, n, n))
        lo, hi = (-8, 7) if t.type_name == "INT4" else (0, 15)
        if value.size and (value.min() < lo or value.max() > hi):
            raise ValueError("Cannot set tensor: Values for %s input must be between %d and %d."
                             % (t.type_name, lo, hi))
        value = value.reshape(shape)
        if t.is_constant:
            self._replace_constant(ex, t, tensor_index, value)
            return
        target = self._data(ex, tensor_index)
        if target is None:
            raise ValueError("Cannot set tensor: Tensor is unallocated. Try calling allocate_tensors() first for "
                             "input %d, name: %s" % (tensor_index, t.name))
        np.copyto(target, value)

    def _readable(self, ex, i):
        """The array get_tensor()/tensor() expose, with LiteRT's checks (CheckGetTensorArgs)."""
        a = self._data(ex, i)
        t = ex.sg.tensors[i]
        # A zero-byte constant is a non-null pointer to nothing, which LiteRT calls invalid.
        if t.is_constant and t.type_name != "STRING" and a is not None and a.size == 0:
            raise ValueError("Invalid tensor size.")
        if a is None:
            raise ValueError("Tensor data is null. Run allocate_tensors() first")
        return a

    def get_tensor(self, tensor_index, subgraph_index=0):
        tensor_index = _int_arg(tensor_index, "tensor_index")
        subgraph_index = _int_arg(subgraph_index, "subgraph_index")
        ex = self._tensor_executor(tensor_index, subgraph_index)
        return _numpy_result(self._readable(ex, tensor_index))

    def tensor(self, tensor_index):
        """A function returning a live NumPy view of the tensor's buffer (the label_image pattern).

        Call it again after each invoke() rather than keeping the array: as in LiteRT,
        allocate_tensors(), invoke() and resize_tensor_input() refuse to run while a view (or a
        slice of one) is alive, because they may move the buffers it points into."""
        def view():
            i = _int_arg(tensor_index, "tensor_index")
            ex = self._tensor_executor(i, 0)
            a = self._readable(ex, i)
            if a.ndim == 0:
                return _numpy_result(a)
            if a.dtype == object:
                return a
            owner = _ViewOwner(a)
            self._views.add(owner)
            return np.asarray(owner)
        return view

    def resize_tensor_input(self, input_index, tensor_size, strict=False, subgraph_index=0):
        self._ensure_safe()
        self._resize(input_index, tensor_size, strict, subgraph_index)

    def _resize(self, input_index, tensor_size, strict, subgraph_index):
        # LiteRT converts the size with np.array(..., np.int32): floats truncate, values beyond
        # int32 raise OverflowError.
        dims = np.array(tensor_size, dtype=np.int32)
        if dims.ndim != 1:
            raise ValueError("Shape should be 1D instead of %d." % dims.ndim)
        dims = [int(d) for d in dims]
        index = _int_arg(input_index, "input_index")
        subgraph_index = _int_arg(subgraph_index, "subgraph_index")
        self._check_subgraph(subgraph_index)
        ex = self._executor(subgraph_index)
        n = len(ex.sg.tensors)
        if not 0 <= index < n:
            raise RuntimeError("ResizeInputTensor: tensor index %d is out of range [0, %d)" % (index, n))
        t = ex.sg.tensors[index]
        current = tuple(self._shape(ex, index))
        if strict:
            if len(current) != len(dims):
                raise RuntimeError("ResizeInputTensorStrict: tensor %d has rank %d, got %d dimensions"
                                   % (index, len(current), len(dims)))
            sig = t.shape_signature if t.shape_signature and len(t.shape_signature) == len(dims) else current
            for d, (s, want) in enumerate(zip(sig, dims)):
                if s != -1 and s != want:
                    raise RuntimeError("Attempting to resize dimension %d of tensor %d with value %d to %d. "
                                       "ResizeInputTensorStrict only allows mutating unknown dimensions identified "
                                       "by -1." % (d, index, s, want))
        if ex.arrays[index] is not None and not self._runtime.is_resized(subgraph_index, index) and current == tuple(dims):
            return  # LiteRT keeps the allocation when nothing changes
        if t.is_constant:
            raise RuntimeError("Attempting to resize a fixed-size tensor.")
        if any(d < 0 for d in dims):
            raise RuntimeError("ResizeInputTensor: negative dimension in %s" % (dims,))
        self._runtime.resize_input(subgraph_index, index, dims)

    # -- signatures --------------------------------------------------------------------------
    def _get_full_signature_list(self):
        # LiteRT keeps each signature's tensors in a std::map, so names come out sorted.
        return {s.key: {"inputs": dict(sorted(s.inputs.items())), "outputs": dict(sorted(s.outputs.items()))}
                for s in self._model.signatures}

    def get_signature_list(self):
        return {k: {"inputs": list(v["inputs"]), "outputs": list(v["outputs"])}
                for k, v in self._get_full_signature_list().items()}

    def get_signature_runner(self, signature_key=None):
        if signature_key is None:
            if len(self._signature_defs) != 1:
                raise ValueError("SignatureDef signature_key is None and model has {0} Signatures. None is only "
                                 "allowed when the model has 1 SignatureDef".format(len(self._signature_defs)))
            signature_key = next(iter(self._signature_defs))
        return SignatureRunner(interpreter=self, signature_key=signature_key)


class InterpreterWithCustomOps(Interpreter):
    """An Interpreter with custom ops of its own, written in Python (LiteRT's class name and argument).

    Each registerer is a callable ``fn(resolver)`` that calls ``resolver.add_custom("MyOp",
    MyKernel)``; ``MyKernel`` has ``prepare(self, node, inputs, outputs)`` and ``eval(self, node,
    inputs, outputs)`` (see :mod:`numlite.kernels.contract`). The ops are known to this interpreter
    only. LiteRT's registerers name native functions (strings), which numlite cannot load."""

    def __init__(self, custom_op_registerers=None, **kwargs):
        self._resolver = CustomOpResolver()
        for fn in custom_op_registerers or ():
            if isinstance(fn, str) or not callable(fn):
                raise ValueError("numlite cannot load native custom op registerers such as %r; pass a Python function "
                                 "that calls resolver.add_custom(name, kernel_class)" % (fn,))
            fn(self._resolver)
        super().__init__(**kwargs)

    def _custom_ops(self):
        return self._resolver.entries


def _encode_string_array(value, given_type):
    """Items of a STRING tensor value as bytes: str is UTF-8 encoded, bytes kept, anything else
    refused, like LiteRT's FillStringBufferWithPyArray (which also wants a real ndarray)."""
    if given_type != "ndarray":
        raise ValueError("Passed in value type is not a numpy array, got type %s." % given_type)
    out = np.empty(value.shape, dtype=object)
    flat = out.reshape(-1)
    for k, v in enumerate(value.reshape(-1).tolist()):
        if isinstance(v, str):
            v = v.encode("utf-8")
        elif not isinstance(v, bytes):
            raise ValueError("Cannot set a STRING tensor from a %s item" % type(v).__name__)
        flat[k] = v
    return out


def _sparsity_details(sp):
    """SparsityParameters in the form LiteRT's get_tensor_details reports them."""
    if not sp:
        return {}
    out = {"traversal_order": np.array(sp["traversal_order"] or [], np.int32)}
    if sp.get("block_map") is not None:
        out["block_map"] = np.array(sp["block_map"], np.int32)
    dims = []
    for dm in sp["dim_metadata"] or []:
        if dm["format"] == 0:
            dims.append({"format": 0, "dense_size": int(dm["dense_size"])})
        else:
            dims.append({"format": 1, "array_segments": np.array(dm["array_segments"]["values"], np.int32),
                         "array_indices": np.array(dm["array_indices"]["values"], np.int32)})
    out["dim_metadata"] = dims
    return out


class SignatureRunner:
    """Runs one SignatureDef: ``runner(input_name=array, ...)`` returns ``{output_name: array}``."""

    def __init__(self, interpreter=None, signature_key=None):
        if not interpreter:
            raise ValueError("None interpreter provided.")
        if not signature_key:
            raise ValueError("None signature_key provided.")
        defs = interpreter._get_full_signature_list()
        if signature_key not in defs:
            raise ValueError('Invalid signature_key provided: "%s".' % signature_key)
        self._interpreter = interpreter
        self._signature_key = signature_key
        self._inputs = defs[signature_key]["inputs"]
        self._outputs = defs[signature_key]["outputs"]
        self._subgraph_index = next(s.subgraph_index for s in interpreter._model.signatures if s.key == signature_key)

    def __call__(self, **kwargs):
        if len(kwargs) != len(self._inputs):
            raise ValueError("Invalid number of inputs provided for running a SignatureDef, expected %s vs provided %s"
                             % (len(self._inputs), len(kwargs)))
        it, sgi = self._interpreter, self._subgraph_index
        for name, value in kwargs.items():
            if name not in self._inputs:
                raise ValueError("Invalid Input name (%s) for SignatureDef" % name)
            it._call(it._resize, self._inputs[name], np.shape(value), False, sgi)
        it._allocate(sgi)
        for name, value in kwargs.items():
            it.set_tensor(self._inputs[name], value, subgraph_index=sgi)
        it._invoke(sgi)
        return {name: it.get_tensor(i, sgi) for name, i in self._outputs.items()}

    def get_input_details(self):
        return {n: self._interpreter._get_tensor_details(i, self._subgraph_index) for n, i in self._inputs.items()}

    def get_output_details(self):
        return {n: self._interpreter._get_tensor_details(i, self._subgraph_index) for n, i in self._outputs.items()}
