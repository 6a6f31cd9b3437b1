"""The kernel contract: everything a kernel may know of the world, in one small public module.

Builtin kernels, fast variants and users' custom ops are all written against it::

    class Square:
        def prepare(self, node, inputs, outputs):   # TensorSpecs: set outputs[i].shape
            outputs[0].shape = inputs[0].shape
        def eval(self, node, inputs, outputs):      # arrays: fill outputs[i] in place
            node.xp.multiply(inputs[0], inputs[0], out=outputs[0])

``prepare`` runs once per allocation (and again when an input shape changes). ``inputs`` and
``outputs`` are :class:`TensorSpec` lists there: shape, type, quantization and, for constants,
the data. A kernel validates, infers output shapes, precomputes what ``eval`` needs (multipliers,
padding, weight layouts) onto ``self`` and asks for working memory with ``node.scratch``.

``eval`` does array work only. ``inputs`` are arrays (None for an omitted optional input);
``outputs`` are the planned output buffers, which the kernel fills in place. An output whose
shape depends on input *values* is marked in prepare with ``outputs[i].shape = None``; its slot
in ``outputs`` is None at eval and the kernel returns it: ``eval`` then returns a sequence with
one entry per output (None for those filled in place). The returned array must have the
tensor's exact dtype. Nothing else is ever returned.

A kernel imports nothing from the runtime, the interpreter or the CLI: the :class:`Node` is its
only window on them.
"""
import numpy as np

from ..errors import ModelError, UnsupportedOpError
from ..schema._tables import TABLES
from ..schema.enums import options_table

__all__ = ["TensorSpec", "Node", "Options", "Scratch", "Kernel", "options_table", "MAX_TENSOR_BYTES"]

#: The default memory budget: no arena, tensor or kernel buffer numlite allocates for a model may
#: exceed it, so a corrupted shape raises a ModelError instead of exhausting memory. The runtime
#: hands its budget to each node (``node.max_bytes``).
MAX_TENSOR_BYTES = 1 << 34


class TensorSpec:
    """What prepare sees of a tensor: shape (None = decided at eval), type, quantization, and the
    data of constants (None otherwise; variables are not constants)."""

    __slots__ = ("index", "name", "shape", "type_name", "dtype", "quantization", "data", "is_variable", "sparsity")

    def __init__(self, index, t, shape):
        self.index, self.name = index, t.name
        self.shape = shape
        self.type_name, self.dtype = t.type_name, t.dtype
        self.quantization = t.quantization
        self.data = t.data if not t.is_variable else None
        self.is_variable = t.is_variable
        self.sparsity = t.sparsity

    def __repr__(self):
        return "TensorSpec(%d %r %s %s)" % (self.index, self.name, self.type_name, self.shape)


_DEFAULTS = {}


def _defaults(table):
    d = _DEFAULTS.get(table)
    if d is None:
        # Scalars take the schema's default; vectors, tables and unions are absent (None).
        d = {f: (None if kind.startswith(("table:", "union:", "[")) else default)
             for f, _slot, kind, default in TABLES[table]}
        _DEFAULTS[table] = d
    return d


class Options:
    """An operator's options as attributes, absent fields at the schema's defaults
    (``node.options.stride_h``). Reading a field the options table lacks is a ModelError naming
    the op: it means the model and the kernel disagree about the op."""

    __slots__ = ("_table", "_values", "_opcode")

    def __init__(self, opcode, table, values):
        self._opcode, self._table = opcode, table
        values = dict(values or {})
        self._values = dict(_defaults(table), **values) if table in TABLES else values

    def __getattr__(self, name):
        try:
            return self._values[name]
        except KeyError:
            raise ModelError("%s: options %s have no field %r" % (self._opcode, self._table or "(none)", name)) from None

    def __contains__(self, name):
        return name in self._values

    def as_dict(self):
        return dict(self._values)

    def __repr__(self):
        return "%s(%s)" % (self._table or "Options", ", ".join("%s=%r" % kv for kv in self._values.items()))


class Scratch:
    """Working memory a kernel asked for at prepare. The runtime places it in the arena with the
    node's lifetime (it is shared with tensors that are not live during the node) and binds
    ``array`` before eval. Its contents are undefined at the start of every eval."""

    __slots__ = ("shape", "dtype", "array")

    def __init__(self, shape, dtype):
        self.shape = tuple(int(d) for d in shape)
        self.dtype = np.dtype(dtype)
        self.array = None

    @property
    def nbytes(self):
        n = self.dtype.itemsize
        for d in self.shape:
            n *= d
        return n


class Node:
    """One operator as its kernel sees it: opcode, version, index (within its subgraph), typed
    options, custom options, intermediate tensors, the array namespace, scratch requests and a way
    to run another subgraph."""

    __slots__ = ("opcode", "version", "index", "subgraph", "custom", "options", "has_options", "custom_options",
                 "intermediates", "xp", "scratches", "max_bytes", "_run_subgraph", "_flex")

    def __init__(self, op, index, subgraph=0, intermediates=(), xp=np, run_subgraph=None,
                 max_bytes=MAX_TENSOR_BYTES):
        self.opcode, self.version, self.custom = op.opcode, op.version, op.custom
        self.index, self.subgraph = index, subgraph
        table = op.options_type or (None if op.custom else options_table(op.opcode))
        self.options = Options(op.opcode, table, op.options)
        # False when the operator carries no options table at all: LiteRT then reads some options
        # differently from the schema's defaults (int16 ADD/SUB's pot_scale_int16 is false, not
        # true; a 16x8 conv/FC's quantized_bias_type stays kTfLiteNoType and is refused).
        self.has_options = op.options_type is not None or bool(op.options)
        self.custom_options = op.custom_options
        self.intermediates = list(intermediates)
        self.xp = xp
        self.scratches = []
        self.max_bytes = max_bytes
        self._run_subgraph = run_subgraph
        self._flex = None

    def __repr__(self):
        return "Node(%d %s v%d)" % (self.index, self.opcode, self.version)

    # -- memory --------------------------------------------------------------------------------
    def scratch(self, shape, dtype):
        """Ask for a working buffer (at prepare). Returns a :class:`Scratch`; its ``array`` is a
        view into the planned arena at eval."""
        s = Scratch(shape, dtype)
        self.scratches.append(s)
        return s

    def check_bytes(self, nbytes, what):
        """Refuse (ModelError) a buffer of ``nbytes`` that a kernel sizes from the model's data,
        beyond the runtime's memory budget — before allocating it."""
        if nbytes > self.max_bytes:
            raise self.error("%s needs %d bytes, more than the %d-byte limit" % (what, nbytes, self.max_bytes))

    # -- control flow ---------------------------------------------------------------------------
    def run_subgraph(self, index, inputs):
        """Run subgraph ``index`` on ``inputs`` (arrays) and return its outputs (arrays owned by
        the caller)."""
        if self._run_subgraph is None:
            raise self.error("cannot run subgraphs here")
        return self._run_subgraph(index, inputs)

    # -- custom options -------------------------------------------------------------------------
    def flexbuffer_options(self):
        """The custom options decoded from FlexBuffers (the format MediaPipe, TF ops and the
        converter's custom ops use): a dict, list or scalar."""
        if self._flex is None:
            if not self.custom_options:
                self._flex = {}
            else:
                from flatbuffers import flexbuffers
                try:
                    self._flex = flexbuffers.Loads(bytes(self.custom_options))
                except Exception as e:  # the reader trusts offsets; any failure means a malformed blob
                    raise self.error("custom options are not a valid FlexBuffer (%s: %s)"
                                     % (type(e).__name__, e)) from None
        return self._flex

    # -- errors ---------------------------------------------------------------------------------
    def error(self, message):
        """A ModelError naming the node: the model is malformed or inconsistent."""
        return ModelError("%s (node %d): %s" % (self.opcode, self.index, message))

    def unsupported(self, message):
        """An UnsupportedOpError naming op, version and node: numlite does not run this case."""
        return UnsupportedOpError(self.opcode, self.version, self.index, message)

    def invoke_error(self, message):
        """A failure that depends on input values: LiteRT reports it from Invoke (RuntimeError)."""
        return RuntimeError("%s (node %d): %s" % (self.opcode, self.index, message))


class Kernel:
    """Optional base class for kernels: documents the two methods and the class attributes the
    registry reads. Any class with ``prepare`` and ``eval`` works (users' custom ops need not
    derive from it)."""

    #: "reference" for the specification kernels; fast variants name themselves ("numba", ...).
    variant = "reference"
    #: Kernels that read sparse constants (DENSIFY) say so; others never see them.
    accepts_sparse = False
    #: The TensorType names of input 0 that ``prepare`` accepts, e.g. ``("FLOAT32", "INT32")``:
    #: what ``numlite ops`` lists for a generic registration (a specialised one declares its types
    #: with ``register(..., types=...)``). Every builtin kernel declares them; None: undeclared.
    input_types = None

    @classmethod
    def supports(cls, node, inputs, outputs):
        """Fast variants may decline a node at prepare time (return False)."""
        return True

    def prepare(self, node, inputs, outputs):  # pragma: no cover - interface
        raise NotImplementedError

    def eval(self, node, inputs, outputs):  # pragma: no cover - interface
        raise NotImplementedError
