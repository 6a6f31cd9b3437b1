"""The model runtime: one object owning everything needed to run a model.

It holds the subgraph executors, the inputs resized since the last allocation, the memory
budget checks, profiling, kernel-variant selection (reference only, or fast variants allowed)
and the custom kernels of one interpreter. The ``Interpreter`` is a LiteRT-compatible facade
over it; ``numlite compare``, ``numlite benchmark`` and ``numlite inspect`` use its public
methods, and control-flow kernels reach it through ``Node.run_subgraph``.
"""
import numpy as np

from ..errors import ModelError
from . import executor as _executor
from .executor import MemoryReport, SubgraphExecutor

__all__ = ["ModelRuntime", "MemoryReport"]


class ModelRuntime:
    """Runs one model IR.

    ``reference_only``: use the reference kernels only (LiteRT's BUILTIN_REF);
    ``preserve_all_tensors``: give every tensor its own arena space, so all stay readable;
    ``custom_ops``: {custom code: [registry entries]} of this runtime's own custom kernels."""

    def __init__(self, model, reference_only=False, preserve_all_tensors=False, custom_ops=None, xp=np):
        self.model = model
        self.reference_only = reference_only
        self.preserve_all_tensors = preserve_all_tensors
        self.custom_ops = custom_ops or {}
        self.xp = xp
        self._executors = {}
        self._resized = {}       # subgraph → tensors resized since its last allocation
        self._profiling = False

    # -- subgraphs -----------------------------------------------------------------------------
    def check_subgraph(self, index):
        n = len(self.model.subgraphs)
        if not 0 <= index < n:
            raise ValueError("Invalid subgraph index %d exceeds max subgraph index %d" % (index, n))

    def executor(self, index=0):
        ex = self._executors.get(index)
        if ex is None:
            self.check_subgraph(index)
            ex = SubgraphExecutor(self.model, index, self.reference_only, self.preserve_all_tensors,
                                  custom_ops=self.custom_ops, run_subgraph=self.run_subgraph, xp=self.xp)
            if self._profiling:
                ex.profile = []
            self._executors[index] = ex
            self._resized[index] = set()
        return ex

    def executors(self):
        """The executors created so far, by subgraph index."""
        return dict(self._executors)

    # -- shapes and allocation -----------------------------------------------------------------
    def resize_input(self, subgraph, tensor, shape):
        self.executor(subgraph).resize_input(tensor, shape)
        self._resized[subgraph].add(tensor)

    def is_resized(self, subgraph, tensor):
        """True while ``tensor`` has a new shape that no allocation has taken up yet."""
        return tensor in self._resized.get(subgraph, ())

    def allocate(self, subgraph=0):
        """Prepare every node and plan the arena. A no-op on a ready graph (as LiteRT's
        AllocateTensors): input values set before a redundant call survive it."""
        ex = self.executor(subgraph)
        if ex.allocated and not self._resized[subgraph]:
            return ex
        self._check_declared_size(ex)
        ex.allocate()
        self._resized[subgraph].clear()
        return ex

    def _check_declared_size(self, ex):
        """Refuse inputs and variables larger than the arena limit before any kernel prepares:
        kernels size their scratch from them."""
        total = 0
        for i in set(ex.sg.inputs) | {i for i, t in enumerate(ex.sg.tensors) if t.is_variable}:
            t = ex.sg.tensors[i]
            if not t.is_constant:
                n = 1
                for d in ex.shapes[i]:
                    n *= int(d)
                total += n * t.dtype.itemsize
        if total > _executor.MAX_ARENA_BYTES:
            raise ModelError("subgraph %d: inputs and variables need %d bytes, more than the %d-byte limit"
                             % (ex.index, total, _executor.MAX_ARENA_BYTES))

    def invoke(self, subgraph=0):
        ex = self.executor(subgraph)
        if not ex.allocated:
            raise RuntimeError("Invoke called on model that is not ready. Call allocate_tensors() first.")
        if ex.profile is not None:
            ex.profile.clear()
        ex.invoke()

    def run_subgraph(self, index, inputs):
        """Run subgraph ``index`` on ``inputs`` and return copies of its outputs (control flow)."""
        ex = self.executor(index)
        for i, value in zip(ex.sg.inputs, inputs):
            if tuple(ex.current_shape(i)) != tuple(np.shape(value)):
                self.resize_input(index, i, np.shape(value))
        self.allocate(index)
        for i, value in zip(ex.sg.inputs, inputs):
            np.copyto(ex.arrays[i], value)
        ex.invoke()
        return [np.array(ex.arrays[i], copy=True) for i in ex.sg.outputs]

    def reset_variables(self):
        """Reset the variables of every subgraph; fails, as LiteRT does, on one not allocated."""
        for sgi, sg in enumerate(self.model.subgraphs):
            ex = self._executors.get(sgi)
            for i, t in enumerate(sg.tensors):
                if t.is_variable and (ex is None or i not in ex.variables):
                    raise RuntimeError("ResetVariableTensors: variable tensor %d of subgraph %d is not allocated; "
                                       "call allocate_tensors() first" % (i, sgi))
        for ex in self._executors.values():
            ex.reset_variables()

    # -- introspection -------------------------------------------------------------------------
    def tensor(self, subgraph, index):
        """The live array of a tensor (None when it has no memory yet)."""
        return self.executor(subgraph).arrays[index]

    def memory(self, subgraph=None):
        """A MemoryReport of one allocated subgraph, or of all allocated subgraphs summed."""
        if subgraph is not None:
            return self.executor(subgraph).memory()
        total = MemoryReport()
        for ex in self._executors.values():
            if ex.allocated:
                total = total + ex.memory()
        return total

    def nodes(self, subgraph=0):
        """[(node index, opcode, kernel variant, kernel class name)] of an allocated subgraph."""
        return [(s.node.index, s.op.opcode, getattr(s.kernel, "variant", "custom"), type(s.kernel).__name__)
                for s in self.executor(subgraph).steps]

    def set_profiling(self, enabled=True):
        """Record per-node eval times at every invoke (read them with :meth:`profile`)."""
        self._profiling = bool(enabled)
        for ex in self._executors.values():
            ex.profile = [] if enabled else None

    def profile(self, subgraph=0):
        """[(node index, opcode, seconds)] of the last invoke (profiling must be on)."""
        p = self.executor(subgraph).profile
        return list(p) if p is not None else []

    def plan(self, subgraph=0):
        """The arena plan as text (tensor and scratch buffers, offsets, sizes, lifetimes)."""
        from . import planner
        ex = self.executor(subgraph)
        return planner.describe(ex.requests, ex.offsets, ex.arena_size)
