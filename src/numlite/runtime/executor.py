"""Prepare once, evaluate often: the per-subgraph executor.

``allocate()`` runs every kernel's prepare in graph order (shape inference, precomputation and
scratch requests), then plans one arena for the intermediate tensors *and* the kernels' scratch
buffers with lifetime-based reuse (a scratch buffer lives for its node only). ``invoke()`` runs
the kernels' eval. An op whose inputs have data-dependent (dynamic) shapes is prepared again at
each invoke, like TFLite's dynamic tensors; its scratch is allocated then.
"""
import time

import numpy as np

from ..errors import ModelError, UnsupportedOpError
from ..kernels.contract import MAX_TENSOR_BYTES, Node, TensorSpec
from ..kernels.registry import lookup
from . import planner

__all__ = ["SubgraphExecutor", "MemoryReport", "MAX_ARENA_BYTES", "TensorSpec"]

# Refuse to plan an arena larger than this (a corrupted shape must not exhaust memory).
MAX_ARENA_BYTES = MAX_TENSOR_BYTES


def check_budget(nbytes, what="model needs"):
    if nbytes > MAX_ARENA_BYTES:
        raise ModelError("%s %d bytes of tensors, more than the %d-byte limit" % (what, nbytes, MAX_ARENA_BYTES))


def _variable_reset_value(t):
    """LiteRT's ResetVariableTensor memsets a variable to its zero point only for INT8 (one byte per
    value, so a memset can write it); every other type, quantized int16 included, starts at 0."""
    q = t.quantization
    if q is not None and t.type_name == "INT8" and q.zero_point.size == 1:
        return q.zero_point[0]
    return 0


def _nbytes(shape, dtype):
    n = 1
    for d in shape:
        n *= int(d)
    return n * dtype.itemsize


def _root(a):
    while isinstance(a.base, np.ndarray):
        a = a.base
    return a


def owned_bytes(obj, arena=None, _seen=None, _depth=0):
    """Bytes of NumPy memory ``obj`` (a kernel) keeps alive that neither the arena nor the model
    file holds: arrays it allocated, looked for in its attributes, their containers and the
    attributes of objects it holds, a few levels deep."""
    seen = set() if _seen is None else _seen
    total = 0
    if isinstance(obj, np.ndarray):
        r = _root(obj)
        if r.base is None and r is not arena and id(r) not in seen and r.dtype != object:
            seen.add(id(r))
            total += r.nbytes
        return total
    if _depth > 3 or id(obj) in seen:
        return 0
    seen.add(id(obj))
    if isinstance(obj, dict):
        items = obj.values()
    elif isinstance(obj, (list, tuple)):
        items = obj
    elif hasattr(obj, "__dict__") and not isinstance(obj, type):
        items = vars(obj).values()
    elif hasattr(obj, "__slots__"):
        items = [getattr(obj, s, None) for s in obj.__slots__]
    else:
        return 0
    for v in items:
        if isinstance(v, (np.ndarray, dict, list, tuple)) or hasattr(v, "__dict__") or hasattr(v, "__slots__"):
            total += owned_bytes(v, arena, seen, _depth + 1)
    return total


class MemoryReport:
    """What one subgraph holds per invoke, by kind (bytes).

    ``arena``: the planned arena (tensors and scratch, shared by lifetime); ``scratch``: the
    scratch requests inside it, summed; ``persistent``: per-node data the kernels keep (weights
    rearranged for matmul, tables, row sums); ``variables``: state tensors; ``constants_mapped``:
    constant data read in place from the model bytes; ``constants_owned``: constant data numlite
    had to decode into its own memory (unpacked 4-bit, densified, copies)."""

    FIELDS = ("arena", "scratch", "persistent", "variables", "constants_mapped", "constants_owned")

    def __init__(self, **kw):
        for f in self.FIELDS:
            setattr(self, f, int(kw.get(f, 0)))

    @property
    def total(self):
        """Everything numlite allocates for the model (arena, persistent, variables, owned constants);
        the mapped constants are the model bytes themselves."""
        return self.arena + self.persistent + self.variables + self.constants_owned

    def __add__(self, other):
        return MemoryReport(**{f: getattr(self, f) + getattr(other, f) for f in self.FIELDS})

    def as_dict(self):
        d = {f: getattr(self, f) for f in self.FIELDS}
        d["total"] = self.total
        return d

    def __repr__(self):
        return "MemoryReport(%s)" % ", ".join("%s=%d" % kv for kv in self.as_dict().items())


class _Step:
    """One node of the plan: its kernel, operator, Node handle and whether it is re-prepared at
    every invoke (dynamic input shapes)."""

    __slots__ = ("kernel", "op", "node", "deferred", "dynamic")

    def __init__(self, kernel, op, node, deferred):
        self.kernel, self.op, self.node, self.deferred = kernel, op, node, deferred
        self.dynamic = ()   # per output: True when its shape depends on input values


class SubgraphExecutor:
    def __init__(self, model, index, reference_only=False, preserve_all_tensors=False, custom_ops=None,
                 run_subgraph=None, xp=np):
        self.model, self.index = model, index
        self.sg = model.subgraphs[index]
        self.reference_only = reference_only
        self.preserve_all_tensors = preserve_all_tensors
        self.custom_ops = custom_ops
        self.run_subgraph = run_subgraph
        self.xp = xp
        self.shapes = [t.shape for t in self.sg.tensors]
        self.arrays = [None] * len(self.sg.tensors)
        self.variables = {}
        self.steps = []
        self.allocated = False
        self.arena = np.zeros(0, np.uint8)
        self.arena_size = 0
        self.requests, self.offsets = [], {}
        self.profile = None   # a list to collect (node, opcode, seconds) per invoke, or None

    # -- allocation ---------------------------------------------------------------------------
    def resize_input(self, tensor_index, shape):
        self.shapes[tensor_index] = tuple(int(d) for d in shape)
        self.allocated = False

    def allocate(self):
        sg = self.sg
        specs = [TensorSpec(i, t, self.shapes[i]) for i, t in enumerate(sg.tensors)]
        self.specs = specs
        self.steps = []
        for index, op in enumerate(sg.operators):
            ins = [specs[i] if i >= 0 else None for i in op.inputs]
            outs = [specs[i] for i in op.outputs]
            deferred = any(s is not None and s.shape is None for s in ins)
            node = Node(op, index, self.index, [specs[i] if 0 <= i < len(specs) else None for i in op.intermediates],
                        xp=self.xp, run_subgraph=self.run_subgraph, max_bytes=MAX_ARENA_BYTES)
            cls = lookup(op, index, self.reference_only, ins, outs, node=node, custom_ops=self.custom_ops)
            for s in ins:
                # Sparse constants hold only their stored values; only kernels that say so read them.
                if s is not None and s.sparsity and not getattr(cls, "accepts_sparse", False):
                    raise UnsupportedOpError(op.opcode, op.version, index,
                                             "sparse constant input %r (only DENSIFY reads sparse tensors)" % s.name)
            kernel = self._instantiate(cls, op, node)
            step = _Step(kernel, op, node, deferred)
            if deferred:
                for s in outs:
                    s.shape = None
            else:
                self._prepare(step, ins, outs)
                step.dynamic = tuple(s.shape is None for s in outs)
            self.steps.append(step)
        self._plan()
        self.allocated = True

    def _instantiate(self, cls, op, node):
        try:
            return cls()
        except Exception as e:  # a user's custom kernel class may fail to construct
            raise ModelError("%s (node %d): cannot create its kernel: %s: %s"
                             % (op.opcode, node.index, type(e).__name__, e)) from None

    def _prepare(self, step, ins, outs):
        node = step.node
        node.scratches = []
        try:
            step.kernel.prepare(node, ins, outs)
        except ModelError:
            raise
        except MemoryError:
            raise ModelError("%s (node %d): preparing this node needs more memory than is available"
                             % (node.opcode, node.index)) from None
        except Exception as e:  # a malformed node must surface as a model error naming the node
            raise ModelError("%s (node %d): %s: %s" % (node.opcode, node.index, type(e).__name__, e)) from None
        for s in outs:
            if s.shape is not None:
                s.shape = tuple(int(d) for d in s.shape)
                if any(d < 0 for d in s.shape):
                    raise ModelError("%s (node %d): negative output shape %s" % (node.opcode, node.index, s.shape))

    def _lifetimes(self):
        sg = self.sg
        n_ops = len(sg.operators)
        first, last = {}, {}
        for i in sg.inputs:
            first[i], last[i] = -1, n_ops
        for index, op in enumerate(sg.operators):
            for i in list(op.inputs) + list(op.outputs) + list(op.intermediates):
                if i < 0:
                    continue
                first.setdefault(i, index)
                last[i] = max(last.get(i, index), index)
        for i in sg.outputs:
            last[i] = n_ops
            first.setdefault(i, -1)
        return first, last

    def _plan(self):
        sg, specs = self.sg, self.specs
        first, last = self._lifetimes()
        requests = []
        outside = sum(a.nbytes for a in self.variables.values())
        self.arrays = [None] * len(specs)
        for i, s in enumerate(specs):
            t = sg.tensors[i]
            if t.is_variable:
                self.arrays[i] = self._variable(i, s)
                continue
            if s.data is not None:
                self.arrays[i] = s.data
                continue
            if s.shape is None or i not in first:
                continue
            if s.dtype == np.dtype(object):
                outside += _nbytes(s.shape, np.dtype(np.intp))
                check_budget(outside)
                self.arrays[i] = np.empty(s.shape, dtype=object)
                continue
            requests.append(planner.Request(i, _nbytes(s.shape, s.dtype), first[i], last[i]))
        scratch = []
        for step in self.steps:
            if not step.deferred:
                for s in step.node.scratches:
                    # Negative keys keep scratch apart from tensor indices.
                    scratch.append((s, planner.Request(-1 - len(scratch), s.nbytes, step.node.index, step.node.index)))
        requests += [r for _, r in scratch]
        check_budget(sum(r.size for r in requests) + outside, "model declares")
        offsets, size = planner.plan(requests, reuse=not self.preserve_all_tensors)
        self.requests, self.offsets = requests, offsets
        self.arena_size = size
        self.scratch_bytes = sum(r.size for _, r in scratch)
        self.arena = np.zeros(size, np.uint8)
        for r in requests:
            if r.key >= 0:
                s = specs[r.key]
                self.arrays[r.key] = self._view(r, s.shape, s.dtype)
        for s, r in scratch:
            s.array = self._view(r, s.shape, s.dtype)

    def _view(self, r, shape, dtype):
        return self.arena[self.offsets[r.key]:self.offsets[r.key] + r.size].view(dtype).reshape(shape)

    def _variable(self, i, s):
        t = self.sg.tensors[i]
        cur = self.variables.get(i)
        if cur is not None and cur.shape == s.shape:
            return cur
        check_budget(_nbytes(s.shape, s.dtype))
        arr = np.zeros(s.shape, s.dtype)
        if t.data is not None:
            arr[...] = t.data
        else:
            arr[...] = _variable_reset_value(t)
        self.variables[i] = arr
        return arr

    def reset_variables(self):
        for i, arr in self.variables.items():
            t = self.sg.tensors[i]
            arr[...] = t.data if t.data is not None else _variable_reset_value(t)

    # -- memory -------------------------------------------------------------------------------
    def memory(self):
        """A :class:`MemoryReport` of this subgraph (after allocate)."""
        mapped = owned = 0
        for t in self.sg.tensors:
            if t.is_constant and t.data.dtype != object:
                r = _root(t.data)
                if r.base is None:
                    owned += t.data.nbytes
                else:
                    mapped += t.data.nbytes
        seen = set()
        persistent = sum(owned_bytes(step.kernel, self.arena, seen) for step in self.steps)
        return MemoryReport(arena=self.arena_size, scratch=getattr(self, "scratch_bytes", 0), persistent=persistent,
                            variables=sum(a.nbytes for a in self.variables.values()),
                            constants_mapped=mapped, constants_owned=owned)

    # -- evaluation ---------------------------------------------------------------------------
    def _reprepare(self, step):
        """Prepare a node whose input shapes are known only now; give its outputs fresh buffers."""
        arrays, specs, op = self.arrays, self.specs, step.op
        in_specs = [specs[i] if i >= 0 else None for i in op.inputs]
        for s, i in zip(in_specs, op.inputs):
            if s is not None and arrays[i] is not None:
                s.shape = arrays[i].shape
        out_specs = [specs[i] for i in op.outputs]
        self._prepare(step, in_specs, out_specs)
        for s in step.node.scratches:
            check_budget(s.nbytes, "%s (node %d) scratch needs" % (step.node.opcode, step.node.index))
            s.array = np.empty(s.shape, s.dtype)
        for s in out_specs:
            if s.shape is not None:
                check_budget(_nbytes(s.shape, s.dtype))
        outs = [np.empty(s.shape, s.dtype) if s.shape is not None else None for s in out_specs]
        for s, i, o in zip(out_specs, op.outputs, outs):
            s.shape = None
            if o is not None:
                arrays[i] = o
        return outs

    def invoke(self):
        arrays = self.arrays
        prof = self.profile
        for step in self.steps:
            op, node, kernel = step.op, step.node, step.kernel
            ins = [arrays[i] if i >= 0 else None for i in op.inputs]
            if step.deferred:
                outs = self._reprepare(step)
            else:
                outs = [None if dyn else arrays[i] for i, dyn in zip(op.outputs, step.dynamic)]
            t0 = time.perf_counter() if prof is not None else 0.0
            try:
                res = kernel.eval(node, ins, outs)
            except (ModelError, RuntimeError):
                raise
            except MemoryError:
                raise ModelError("%s (node %d): out of memory during invoke" % (op.opcode, node.index)) from None
            except Exception as e:  # a corrupted-but-loadable model, or a user's kernel, failing
                raise ModelError("%s (node %d) failed: %s: %s" % (op.opcode, node.index, type(e).__name__, e)) from None
            if res is not None:
                self._store_results(step, res, outs)
            if prof is not None:
                prof.append((node.index, op.opcode, time.perf_counter() - t0))

    def _store_results(self, step, res, outs):
        op, node, arrays, specs = step.op, step.node, self.arrays, self.specs
        if len(res) != len(op.outputs):
            raise RuntimeError("%s (node %d): eval returned %d values for %d outputs"
                               % (op.opcode, node.index, len(res), len(op.outputs)))
        for k, (i, r) in enumerate(zip(op.outputs, res)):
            if r is None:
                if outs[k] is None:
                    raise RuntimeError("%s (node %d): output %d has a value-dependent shape and was not returned"
                                       % (op.opcode, node.index, k))
                continue
            if outs[k] is not None:
                raise RuntimeError("%s (node %d): output %d has a planned buffer; fill it in place instead of "
                                   "returning it" % (op.opcode, node.index, k))
            r = np.asarray(r)
            if r.dtype != specs[i].dtype:
                raise RuntimeError("%s (node %d): output %d is %s, the tensor is %s"
                                   % (op.opcode, node.index, k, r.dtype, specs[i].dtype))
            check_budget(r.nbytes)
            arrays[i] = np.array(r, order="C", copy=True) if r.dtype != object else r

    def current_shape(self, i):
        a = self.arrays[i]
        if a is not None:
            return a.shape
        s = self.specs[i].shape if self.allocated else self.shapes[i]
        return s if s is not None else self.shapes[i]
