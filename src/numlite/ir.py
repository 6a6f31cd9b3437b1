"""The model IR shared by the reader, writer, runtime and tools.

Model → subgraphs → tensors and operators, plus signatures and metadata. Constant tensor data
is a read-only NumPy array (a view into the model file when it was loaded from disk).

Every attribute the IR carries is a declared dataclass field. The IR knows the TFLite op and
tensor type vocabulary (``numlite.schema.enums``) but nothing of the byte format:
``numlite.schema`` converts between the two.

Graph editing (for converters and quantisers): ``Subgraph.producers()``, ``consumers()``,
``add_tensor()``, ``insert_operator()``, ``remove_operator()``, ``replace_operator()``,
``topological_order()``, ``Model.remove_unused_tensors()``; :func:`validate` checks the result
without a write-then-read round trip.
"""
import dataclasses
import heapq
import math
from dataclasses import dataclass, field
from typing import Dict, List, Optional

import numpy as np

from .errors import ModelError
from .schema.enums import BUILTIN_OPERATOR, BUILTIN_OPERATOR_NAME, TENSOR_TYPE, TENSOR_TYPE_NAME

# TensorType name → NumPy dtype. STRING tensors hold object arrays of bytes; RESOURCE/VARIANT
# are opaque handles (represented as int64 ids).
DTYPES = {
    "FLOAT32": np.dtype(np.float32), "FLOAT16": np.dtype(np.float16), "FLOAT64": np.dtype(np.float64),
    "INT8": np.dtype(np.int8), "UINT8": np.dtype(np.uint8), "INT16": np.dtype(np.int16),
    "UINT16": np.dtype(np.uint16), "INT32": np.dtype(np.int32), "UINT32": np.dtype(np.uint32),
    "INT64": np.dtype(np.int64), "UINT64": np.dtype(np.uint64), "BOOL": np.dtype(np.bool_),
    "COMPLEX64": np.dtype(np.complex64), "COMPLEX128": np.dtype(np.complex128),
    "STRING": np.dtype(object), "RESOURCE": np.dtype(np.int64), "VARIANT": np.dtype(np.int64),
}
# Packed sub-byte types (bits per element) are stored packed in buffers; the IR holds one
# int8 (uint8 for UINT4) value per element.
PACKED_TYPES = {"INT4": 4, "UINT4": 4, "INT2": 2}
_PACKED_RANGES = {"INT4": (-8, 7), "UINT4": (0, 15), "INT2": (-2, 1)}
# NumPy 1.x cannot make arrays of more dimensions; LiteRT itself has no limit.
MAX_RANK = 32
# A tensor whose byte size does not fit in a signed 64-bit integer cannot exist (LiteRT's
# BytesRequired refuses a size_t overflow the same way).
_MAX_TENSOR_BYTES = (1 << 63) - 1


def dtype_of(type_name):
    if type_name in DTYPES:
        return DTYPES[type_name]
    if type_name in ("INT4", "INT2"):
        return np.dtype(np.int8)
    if type_name == "UINT4":
        return np.dtype(np.uint8)
    return None


def type_name_of(dtype):
    dtype = np.dtype(dtype)
    for name, dt in DTYPES.items():
        if dt == dtype and name not in ("RESOURCE", "VARIANT"):
            return name
    raise ValueError("no TFLite tensor type for dtype %s" % dtype)


def is_builtin(opcode):
    """Whether ``opcode`` names a builtin operator (``"CUSTOM"`` itself is not an operator)."""
    return opcode in BUILTIN_OPERATOR and opcode != "CUSTOM"


@dataclass
class Quantization:
    """Affine quantization, ``real = scale * (q - zero_point)``, per tensor (one scale) or per
    channel along ``quantized_dimension``; or, with ``details``, a non-affine scheme."""
    scale: np.ndarray                      # float32 [n]; empty for blockwise quantization
    zero_point: np.ndarray                 # int64 [n]
    quantized_dimension: int = 0
    min: Optional[np.ndarray] = None       # float32 [n] calibration range (informational)
    max: Optional[np.ndarray] = None
    # The QuantizationDetails union, or None. Its "type" key names the member table, the other
    # keys are that table's fields as in the schema:
    #   {"type": "BlockwiseQuantization", "scales": tensor index (float16 scales),
    #    "zero_points": tensor index or -1, "block_size": int, "block_shape": list or None}
    #   {"type": "CustomQuantization", "custom": the opaque bytes (a uint8 sequence)}
    # Tensor indices refer to the tensor's own subgraph.
    details: Optional[dict] = None

    @property
    def per_channel(self):
        return self.scale.size > 1

    @property
    def blockwise(self):
        return bool(self.details) and self.details.get("type") == "BlockwiseQuantization"

    @classmethod
    def make(cls, scale, zero_point=0, quantized_dimension=0):
        scale = np.atleast_1d(np.asarray(scale, np.float32))
        zp = np.atleast_1d(np.asarray(zero_point, np.int64))
        if zp.size == 1 and scale.size > 1:
            zp = np.full(scale.shape, zp[0], np.int64)
        return cls(scale, zp, int(quantized_dimension))


@dataclass
class Tensor:
    name: str
    shape: tuple
    type_name: str = "FLOAT32"
    data: Optional[np.ndarray] = None           # constant value (read-only) or None
    quantization: Optional[Quantization] = None
    shape_signature: Optional[tuple] = None      # -1 marks a dynamic dimension; None: same as shape
    is_variable: bool = False
    has_rank: bool = False
    # SparsityParameters as the schema reader returns them ({"traversal_order", "block_map",
    # "dim_metadata": [{"format", "dense_size", "array_segments", ...}]}), for constants only;
    # ``data`` then holds just the stored values (1-D).
    sparsity: Optional[dict] = None
    buffer: int = 0                              # buffer index in the source file (informational)

    @property
    def dtype(self):
        return dtype_of(self.type_name)

    @property
    def is_constant(self):
        return self.data is not None and not self.is_variable

    @property
    def signature(self):
        return self.shape_signature if self.shape_signature is not None else self.shape


@dataclass
class Operator:
    opcode: str                                  # builtin name ("CONV_2D") or custom code
    inputs: List[int]                            # tensor indices; -1 for an omitted optional input
    outputs: List[int]
    options: dict = field(default_factory=dict)
    version: int = 1
    custom: bool = False                         # custom codes are their own namespace ("ADD" may be one)
    custom_options: Optional[bytes] = None
    intermediates: List[int] = field(default_factory=list)
    options_type: Optional[str] = None           # e.g. "Conv2DOptions"; None when absent

    @property
    def builtin_code(self):
        return None if self.custom else BUILTIN_OPERATOR[self.opcode]


@dataclass
class Subgraph:
    tensors: List[Tensor] = field(default_factory=list)
    inputs: List[int] = field(default_factory=list)
    outputs: List[int] = field(default_factory=list)
    operators: List[Operator] = field(default_factory=list)
    name: str = ""

    # -- queries -----------------------------------------------------------------------------
    def producers(self):
        """{tensor index: index of the operator that writes it}. A tensor written twice (which
        :func:`validate` refuses) maps to its first writer."""
        out = {}
        for oi, op in enumerate(self.operators):
            for t in op.outputs:
                if t != -1:
                    out.setdefault(t, oi)
        return out

    def consumers(self):
        """{tensor index: [indices of the operators reading it as an input]}, ascending, each
        operator once; tensors nobody reads are absent. Intermediates and subgraph outputs are
        not reads."""
        out = {}
        for oi, op in enumerate(self.operators):
            for t in op.inputs:
                if t != -1:
                    users = out.setdefault(t, [])
                    if not users or users[-1] != oi:
                        users.append(oi)
        return out

    def topological_order(self):
        """Operator indices in an order where every operator comes after those writing its
        inputs: the current order where that already holds, otherwise the lowest-numbered ready
        operator first. Raises ModelError naming the operators of a cycle."""
        writers = {}
        for oi, op in enumerate(self.operators):
            for t in op.outputs:
                if t != -1:
                    writers.setdefault(t, []).append(oi)
        deps = [sorted({w for t in op.inputs if t != -1 for w in writers.get(t, ())}) for op in self.operators]
        users = [[] for _ in self.operators]
        for oi, ds in enumerate(deps):
            for d in ds:
                users[d].append(oi)
        waiting = [len(ds) for ds in deps]
        ready = [oi for oi, n in enumerate(waiting) if n == 0]
        heapq.heapify(ready)
        order = []
        while ready:
            oi = heapq.heappop(ready)
            order.append(oi)
            for u in users[oi]:
                waiting[u] -= 1
                if waiting[u] == 0:
                    heapq.heappush(ready, u)
        if len(order) < len(self.operators):
            # Every operator left waits on another one left: walking back from any reaches a cycle.
            left = {oi for oi, n in enumerate(waiting) if n}
            path, seen, oi = [], {}, min(left)
            while oi not in seen:
                seen[oi] = len(path)
                path.append(oi)
                oi = next(d for d in deps[oi] if d in left)
            cycle = path[seen[oi]:][::-1]   # in data-flow order: each writes what the next reads
            start = cycle.index(min(cycle))
            cycle = cycle[start:] + cycle[:start + 1]
            raise ModelError("%s: operators %s form a cycle" % (
                self._label(), " -> ".join("%d (%s)" % (i, self.operators[i].opcode) for i in cycle)))
        return order

    def _label(self):
        return "subgraph %r" % self.name if self.name else "subgraph"

    # -- edits -------------------------------------------------------------------------------
    def add_tensor(self, tensor):
        """Append ``tensor``; return its index."""
        self.tensors.append(tensor)
        return len(self.tensors) - 1

    def insert_operator(self, index, op):
        """Insert ``op`` before operator ``index`` (``len(operators)`` appends); return ``index``."""
        if not 0 <= index <= len(self.operators):
            raise IndexError("operator index %d out of range [0, %d]" % (index, len(self.operators)))
        self.operators.insert(index, op)
        return index

    def remove_operator(self, index):
        """Remove operator ``index`` and return it (its tensors stay; see remove_unused_tensors)."""
        self._check_op_index(index)
        return self.operators.pop(index)

    def replace_operator(self, index, op):
        """Put ``op`` in place of operator ``index``; return the operator it replaced."""
        self._check_op_index(index)
        old, self.operators[index] = self.operators[index], op
        return old

    def _check_op_index(self, index):
        if not 0 <= index < len(self.operators):
            raise IndexError("operator index %d out of range [0, %d)" % (index, len(self.operators)))

    def remove_unused_tensors(self, keep=()):
        """Drop the tensors that no operator (input, output, intermediate), subgraph input or
        output, blockwise quantization of a kept tensor, or ``keep`` refers to, renumbering every
        such reference. Returns {old index: new index} of the tensors kept.

        Signatures live on the Model: use :meth:`Model.remove_unused_tensors`, which keeps and
        renumbers the tensors they name."""
        used = set(keep) | set(self.inputs) | set(self.outputs)
        for op in self.operators:
            used.update(op.inputs, op.outputs, op.intermediates)
        used.discard(-1)
        todo = list(used)
        while todo:   # blockwise scales / zero points of kept tensors are kept too
            for ref in _details_tensors(self.tensors[todo.pop()].quantization):
                if ref not in used:
                    used.add(ref)
                    todo.append(ref)
        kept = sorted(used)
        mapping = {old: new for new, old in enumerate(kept)}

        def remap(indices):
            return [mapping[i] if i != -1 else -1 for i in indices]
        tensors = [self.tensors[i] for i in kept]
        for t in tensors:
            q = t.quantization
            if _details_tensors(q):
                # A copy: the Quantization object may be shared with tensors of other subgraphs.
                d = dict(q.details, scales=mapping[q.details["scales"]])
                if d.get("zero_points", -1) != -1:
                    d["zero_points"] = mapping[d["zero_points"]]
                t.quantization = dataclasses.replace(q, details=d)
        for op in self.operators:
            op.inputs, op.outputs, op.intermediates = remap(op.inputs), remap(op.outputs), remap(op.intermediates)
        self.tensors, self.inputs, self.outputs = tensors, remap(self.inputs), remap(self.outputs)
        return mapping


@dataclass
class Signature:
    key: str
    subgraph_index: int
    inputs: Dict[str, int]                       # name → tensor index in that subgraph
    outputs: Dict[str, int]


@dataclass
class Model:
    subgraphs: List[Subgraph] = field(default_factory=list)
    signatures: List[Signature] = field(default_factory=list)
    metadata: Dict[str, bytes] = field(default_factory=dict)
    description: str = ""
    version: int = 3
    # What the model was loaded from (bytes or a read-only mmap), or None for a model built in
    # memory. Constant data arrays are views into it; holding it here keeps an mmap open for as
    # long as the model lives.
    source: Optional[object] = field(default=None, repr=False, compare=False)

    def op_histogram(self):
        hist = {}
        for sg in self.subgraphs:
            for op in sg.operators:
                hist[op.opcode] = hist.get(op.opcode, 0) + 1
        return hist

    def remove_unused_tensors(self):
        """:meth:`Subgraph.remove_unused_tensors` on every subgraph, keeping the tensors that
        signatures name and renumbering them. Returns the {old: new} mapping of each subgraph."""
        mappings = []
        for sgi, sg in enumerate(self.subgraphs):
            sigs = [s for s in self.signatures if s.subgraph_index == sgi]
            mapping = sg.remove_unused_tensors(keep={i for s in sigs for i in (*s.inputs.values(), *s.outputs.values())})
            for s in sigs:
                s.inputs = {k: mapping[i] for k, i in s.inputs.items()}
                s.outputs = {k: mapping[i] for k, i in s.outputs.items()}
            mappings.append(mapping)
        return mappings


def _details_tensors(q):
    """Tensor indices a blockwise quantization refers to."""
    if q is None or not q.blockwise:
        return []
    return [i for i in (q.details.get("scales"), q.details.get("zero_points", -1)) if i is not None and i != -1]


# -- structural checks -----------------------------------------------------------------------------
# validate() runs every check below. The loader runs the ones marked "(load)" on the IR it builds
# and the writer those marked "(save)", so that a file and an in-memory model are refused alike.

def tensor_label(sgi, ti, t):
    return "subgraph %d tensor %d (%r)" % (sgi, ti, t.name)


def operator_label(sgi, oi, op):
    return "subgraph %d operator %d (%s)" % (sgi, oi, op.opcode or "CUSTOM")


def check_index(i, n, what):
    """(load) ``i`` indexes a sequence of ``n`` items."""
    if not isinstance(i, (int, np.integer)) or isinstance(i, bool):
        raise ModelError("%s: %r is not an index" % (what, i))
    if not 0 <= i < n:
        raise ModelError("%s: index %d out of range [0, %d)" % (what, i, n))


def check_indices(indices, n, what, optional=False):
    """(load) Every index in range; -1 (an omitted operand) too when ``optional``."""
    for i in indices:
        if not (optional and isinstance(i, (int, np.integer)) and i == -1):
            check_index(i, n, what)


def check_shape(shape, type_name, what):
    """(load) A shape NumPy can hold: at most MAX_RANK non-negative dimensions, under 2**63
    bytes (NumPy refuses a shape whose non-zero dimensions multiply past that, even when another
    dimension is zero)."""
    if len(shape) > MAX_RANK:
        raise ModelError("%s: rank %d exceeds %d" % (what, len(shape), MAX_RANK))
    if any(d < 0 for d in shape):
        raise ModelError("%s: negative dimension in shape %s" % (what, shape))
    if math.prod(d or 1 for d in shape) * dtype_of(type_name).itemsize > _MAX_TENSOR_BYTES:
        raise ModelError("%s: shape %s describes more bytes than can be addressed" % (what, shape))


def check_quantization(q, shape, what):
    """(load) As many zero points as scales, a quantized dimension within the shape, and one
    scale, or one per entry of the quantized dimension."""
    if q is None or not np.size(q.scale):   # none, or blockwise (no scales)
        return
    n_scale, n_zp = np.size(q.scale), np.size(q.zero_point)
    if n_zp != n_scale:
        raise ModelError("%s: quantization has %d zero_point values and %d scale values" % (what, n_zp, n_scale))
    qd = q.quantized_dimension
    if qd < 0 or (shape and qd >= len(shape)):
        raise ModelError("%s: quantized_dimension must be in range [0, %d), was %d" % (what, len(shape), qd))
    if n_scale != 1 and shape and n_scale != shape[qd]:
        raise ModelError("%s: %d scales do not match dimension %d of shape %s" % (what, n_scale, qd, shape))


def check_variable_data(t, sgi, ti):
    """(save) Variables start from zero: TFLite cannot store one with constant data."""
    if t.is_variable and t.data is not None:
        raise ModelError("%s: TFLite does not support variable tensors with constant data" % tensor_label(sgi, ti, t))


def check_operator_code(op, sgi, oi):
    """(save) A builtin operator names a BuiltinOperator; any other code is a custom op."""
    if not op.custom and not is_builtin(op.opcode):
        raise ModelError("subgraph %d operator %d: unknown builtin %r" % (sgi, oi, op.opcode))


def check_operator_operands(tensors, op, sgi, oi):
    """(load) Operand indices in range (-1 only for optional inputs and intermediates), no
    tensor both read and written by the op, and no output that is a constant."""
    nt = len(tensors)
    check_indices(op.inputs, nt, "subgraph %d operator %d inputs" % (sgi, oi), optional=True)
    check_indices(op.outputs, nt, "subgraph %d operator %d outputs" % (sgi, oi))
    for k, i in enumerate(op.outputs):
        if i in op.inputs:
            raise ModelError("%s: tensor %d is both input %d and output %d"
                             % (operator_label(sgi, oi, op), i, list(op.inputs).index(i), k))
        if tensors[i].is_constant:
            raise ModelError("%s: output %d is the constant tensor %d" % (operator_label(sgi, oi, op), k, i))
    check_indices(op.intermediates, nt, "subgraph %d operator %d intermediates" % (sgi, oi), optional=True)


def check_subgraph_io(sg, sgi):
    """(load) Subgraph inputs and outputs name tensors of the subgraph."""
    check_indices(sg.inputs, len(sg.tensors), "subgraph %d inputs" % sgi)
    check_indices(sg.outputs, len(sg.tensors), "subgraph %d outputs" % sgi)


def check_signature_subgraph(sig, subgraphs, i):
    """(load) Signature ``i`` runs an existing subgraph."""
    check_index(sig.subgraph_index, len(subgraphs), "signature_defs[%d].subgraph_index" % i)


def check_signature_tensor(sig, direction, name, index, subgraphs):
    """(load) Signature entry ``name`` (an "input" or "output") names a tensor of its subgraph."""
    check_index(index, len(subgraphs[sig.subgraph_index].tensors), "signature %r %s %r" % (sig.key, direction, name))


def check_has_subgraph(model):
    """(load) A model has a subgraph to run."""
    if not model.subgraphs:
        raise ModelError("No subgraph in the model")


def _check_tensor(t, sgi, ti, n_tensors):
    what = tensor_label(sgi, ti, t)
    if dtype_of(t.type_name) is None:
        raise ModelError("%s: unknown tensor type %r" % (what, t.type_name))
    check_shape(t.shape, t.type_name, what)
    check_variable_data(t, sgi, ti)
    check_quantization(t.quantization, t.shape, what)
    q = t.quantization
    if q is not None and q.blockwise:
        check_index(q.details.get("scales"), n_tensors, what + " blockwise quantization scales")
        check_indices([q.details.get("zero_points", -1)], n_tensors, what + " blockwise quantization zero_points",
                      optional=True)
    if t.data is None:
        return
    data = t.data
    if not isinstance(data, np.ndarray):
        raise ModelError("%s: constant data is a %s, not a NumPy array" % (what, type(data).__name__))
    if data.dtype != t.dtype:
        raise ModelError("%s: constant data has dtype %s, type %s needs %s" % (what, data.dtype, t.type_name, t.dtype))
    if t.sparsity is not None:
        if data.ndim != 1:
            raise ModelError("%s: sparse constant data must be its 1-D stored values, has shape %s" % (what, data.shape))
    elif tuple(data.shape) != tuple(t.shape):
        raise ModelError("%s: constant data has shape %s, the tensor declares %s" % (what, data.shape, tuple(t.shape)))
    if t.type_name in _PACKED_RANGES and data.size:
        lo, hi = _PACKED_RANGES[t.type_name]
        if data.min() < lo or data.max() > hi:
            raise ModelError("%s: constant data has values outside the %s range [%d, %d]" % (what, t.type_name, lo, hi))


def _subgraph_references(op):
    """(option key, subgraph index) pairs of a control-flow operator's options."""
    for key, value in op.options.items():
        if key.endswith("subgraph_index") or key == "subgraph":   # IF, WHILE, CALL_ONCE, CALL, StableHLO
            yield key, value
        elif key.endswith("subgraph_indices"):                     # StableHLO case branches
            for k, v in enumerate(value or ()):
                yield "%s[%d]" % (key, k), v


def _check_subgraph(model, sgi, sg):
    tensors = sg.tensors
    for ti, t in enumerate(tensors):
        _check_tensor(t, sgi, ti, len(tensors))
    check_subgraph_io(sg, sgi)
    graph_inputs = set(sg.inputs)
    writer = {}   # tensor index → the operator writing it
    for oi, op in enumerate(sg.operators):
        where = operator_label(sgi, oi, op)
        check_operator_code(op, sgi, oi)
        check_operator_operands(tensors, op, sgi, oi)
        for k, i in enumerate(op.inputs):
            if i == -1 or i in writer or i in graph_inputs or tensors[i].data is not None or tensors[i].is_variable:
                continue
            later = next((j for j in range(oi + 1, len(sg.operators)) if i in sg.operators[j].outputs), None)
            raise ModelError("%s: input %d reads tensor %d (%r) before any operator writes it (%s)" % (
                where, k, i, tensors[i].name,
                "operator %d (%s) writes it later" % (later, sg.operators[later].opcode) if later is not None
                else "it is no subgraph input, constant or variable, and no operator writes it"))
        for k, i in enumerate(op.outputs):
            if i in graph_inputs:
                raise ModelError("%s: output %d is the subgraph input tensor %d (%r)" % (where, k, i, tensors[i].name))
            if i in writer:
                raise ModelError("%s: output %d is tensor %d (%r), which operator %d (%s) already writes"
                                 % (where, k, i, tensors[i].name, writer[i], sg.operators[writer[i]].opcode))
            writer[i] = oi
        for key, value in _subgraph_references(op):
            check_index(value, len(model.subgraphs), "%s option %s" % (where, key))


def validate(model):
    """Check ``model``'s structure without writing it: raise :class:`numlite.ModelError` naming
    the subgraph, operator or tensor at fault.

    - the model has a subgraph; tensor types are known and shapes are ones NumPy can hold;
    - every tensor index is in range (-1 only for optional inputs and intermediates): operator
      operands, subgraph inputs and outputs, signature entries, blockwise quantization tensors;
    - operators name a builtin or are custom; subgraph indices in control-flow options (keys
      ending in ``subgraph_index``, ``subgraph_indices``, CALL's ``subgraph``) are in range;
    - each tensor is written by at most one operator, never by the operator reading it, and no
      operator writes a constant or a subgraph input;
    - operators come in execution order: every input is written by an earlier operator or is a
      subgraph input, a constant or a variable;
    - constant data is a NumPy array of the tensor's dtype and shape (the 1-D stored values for a
      sparse constant; packed INT4/UINT4/INT2 values in range); variables hold no data;
    - quantization has as many zero points as scales, and one scale or one per entry of a
      quantized dimension within the shape;
    - signatures run existing subgraphs and name existing tensors.
    """
    check_has_subgraph(model)
    for sgi, sg in enumerate(model.subgraphs):
        _check_subgraph(model, sgi, sg)
    for i, sig in enumerate(model.signatures):
        check_signature_subgraph(sig, model.subgraphs, i)
        for direction, entries in (("input", sig.inputs), ("output", sig.outputs)):
            for name, index in entries.items():
                check_signature_tensor(sig, direction, name, index, model.subgraphs)


__all__ = ["Model", "Subgraph", "Tensor", "Operator", "Signature", "Quantization", "DTYPES", "PACKED_TYPES",
           "dtype_of", "type_name_of", "is_builtin", "validate", "BUILTIN_OPERATOR", "BUILTIN_OPERATOR_NAME",
           "TENSOR_TYPE", "TENSOR_TYPE_NAME"]
