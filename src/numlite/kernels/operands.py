"""Operand checks every kernel family uses at prepare time. Each raises; none returns a flag.

A malformed node (wrong operand count, a missing required operand, a rank or type the op
cannot have) is a :class:`numlite.ModelError`; a well-formed case numlite does not implement
is a :class:`numlite.UnsupportedOpError` (both name the op and the node).

Also :class:`ValueShapedKernel`, the base of the ops whose output shapes depend on input values.
"""
import numpy as np

from .contract import Kernel

# Type families, by TensorType name.
FLOAT = ("FLOAT32",)
QUANTIZED = ("INT8", "UINT8", "INT16")
NUMERIC = ("FLOAT32", "INT8", "UINT8", "INT16", "INT32", "INT64")
NUMERIC_BOOL = NUMERIC + ("BOOL",)
ALL_TYPES = NUMERIC_BOOL + ("STRING",)
INDEX_TYPES = ("INT32", "INT64")


def arity(node, inputs, outputs, n_in, n_out=1, required=None):
    """Refuse a node whose operand counts do not fit the op, or that omits a required input.

    ``n_in``: an exact count, a ``(lo, hi)`` range or a set of allowed counts (a ``frozenset``
    or ``list``); ``n_out`` likewise for outputs. ``required``: how many leading inputs must be
    present (default: all of the smallest allowed count)."""
    def allowed(n, spec):
        if isinstance(spec, int):
            return n == spec, "%d" % spec
        if isinstance(spec, tuple):
            return spec[0] <= n <= spec[1], "%d-%d" % spec
        return n in spec, " or ".join(str(k) for k in sorted(spec))
    ok_in, want_in = allowed(len(inputs), n_in)
    ok_out, want_out = allowed(len(outputs), n_out)
    if not (ok_in and ok_out):
        raise node.error("expected %s inputs and %s output(s), got %d and %d"
                         % (want_in, want_out, len(inputs), len(outputs)))
    if required is None:
        required = n_in if isinstance(n_in, int) else (n_in[0] if isinstance(n_in, tuple) else min(n_in))
    for k in range(min(required, len(inputs))):
        if inputs[k] is None:
            raise node.error("required input %d is missing" % k)


def optional_input(inputs, k):
    """Input ``k`` of a node, or None when it is omitted (index -1) or beyond the input list."""
    return inputs[k] if len(inputs) > k else None


def check_type(node, spec, allowed, what="input"):
    """Refuse a tensor type the kernel does not implement (UnsupportedOpError)."""
    if spec.type_name not in allowed:
        raise node.unsupported("%s type %s not supported (supported: %s)" % (what, spec.type_name, ", ".join(allowed)))


def same_type(node, spec, ref, what="output"):
    """LiteRT's TF_LITE_ENSURE_TYPES_EQ between an operand and the reference input."""
    if spec.type_name != ref.type_name:
        raise node.error("%s type %s differs from input type %s" % (what, spec.type_name, ref.type_name))


def check_rank(node, spec, rank, what):
    if spec.shape is None or len(spec.shape) != rank:
        raise node.error("%s must have rank %d, got shape %s" % (what, rank, spec.shape))


def const_value(node, spec, what):
    """The value of an input the kernel needs at prepare time (it must be a constant)."""
    if spec is None or spec.data is None:
        raise node.unsupported("%s must be a constant tensor" % what)
    return spec.data


def int_values(node, arr, what):
    """A small integer tensor's values as Python ints (shape tensors, axes, paddings ...)."""
    a = np.asarray(arr)
    if a.dtype.kind not in "iu":
        raise node.error("%s must be an integer tensor" % what)
    return [int(v) for v in a.reshape(-1)]


def norm_axis(node, axis, rank, what="axis"):
    """A Python-style (possibly negative) axis, validated against ``rank``."""
    if not -rank <= axis < rank:
        raise node.error("%s %d out of range for rank %d" % (what, axis, rank))
    return axis + rank if axis < 0 else axis


def num_elements(shape):
    n = 1
    for d in shape:
        n *= int(d)
    return n


def broadcast_shape(node, a, b):
    """NumPy/TFLite broadcasting of two shapes; a ModelError naming the node when they do not."""
    try:
        return tuple(np.broadcast_shapes(tuple(a), tuple(b)))
    except ValueError:
        raise node.error("shapes %s and %s are not broadcastable" % (tuple(a), tuple(b))) from None


def unary_operands(node, inputs, outputs, types):
    """The operands of a one-input elementwise op: one input of an allowed type (else
    UnsupportedOpError) and one output of the same type (else ModelError), given the input's
    shape here. Returns the input's spec."""
    arity(node, inputs, outputs, 1)
    x = inputs[0]
    check_type(node, x, types)
    same_type(node, outputs[0], x)
    outputs[0].shape = x.shape
    return x


def refuse_quantized(node, *specs):
    """Refuse 8/16-bit tensors carrying quantization in a float or plain-integer kernel
    (UnsupportedOpError): they reach it only when no quantized kernel of the op applies."""
    for s in specs:
        if s.type_name in QUANTIZED and s.quantization is not None:
            raise node.unsupported("quantized %s tensors are not supported yet" % s.type_name)


def check_bias(node, bias, n, allowed):
    """An optional bias (None passes) of one of the ``allowed`` types with ``n`` elements (LiteRT
    checks the element count, not the shape); an integer bias must have zero point 0."""
    if bias is None:
        return
    check_type(node, bias, allowed, "bias")
    if num_elements(bias.shape) != n:
        raise node.error("bias has %d elements, expected %d" % (num_elements(bias.shape), n))
    if bias.type_name != "FLOAT32" and bias.quantization is not None \
            and np.any(np.asarray(bias.quantization.zero_point) != 0):
        raise node.error("bias zero point must be 0")


def check_float_operands(node, x, w, out, what="filter"):
    """A float kernel's input, weights and output: float32 throughout. Float input with integer
    weights is LiteRT's hybrid path, which the hybrid kernels serve where LiteRT has one."""
    check_type(node, x, FLOAT)
    if w.type_name != "FLOAT32":
        raise node.unsupported("%s type %s with float input (hybrid quantization) is not supported"
                               % (what, w.type_name))
    same_type(node, out, x)


# -- value-shaped kernels ------------------------------------------------------------------------

class ValueShapedKernel(Kernel):
    """Base of the ops whose output shapes depend on the *values* of some inputs (``value_inputs``:
    RESHAPE's shape, PAD's paddings, SLICE's begin and size, a reduction's axes ...).

    Subclasses implement ``check(node, inputs, outputs)`` (counts and types, on specs),
    ``plan(node, shapes, values)`` → (output shapes, plan), where ``values`` maps each value input
    to its data (None when omitted), and ``run(node, plan, inputs, outputs)``, which fills the
    outputs. With constant value inputs the plan is made once at prepare and ``run`` fills the
    planned outputs; otherwise the outputs are marked dynamic, the plan is made at every eval from
    the actual values and ``eval`` returns the outputs ``run`` filled."""

    value_inputs = ()

    def check(self, node, inputs, outputs):
        pass

    def prepare(self, node, inputs, outputs):
        self.check(node, inputs, outputs)
        self._dtypes = [o.dtype for o in outputs]
        values = {}
        for i in self.value_inputs:
            s = inputs[i] if i < len(inputs) else None
            if s is not None and s.data is None:
                self._dynamic, self._plan = True, None
                for o in outputs:
                    o.shape = None
                return
            values[i] = None if s is None else s.data
        self._dynamic = False
        shapes, self._plan = self.plan(node, [None if s is None else s.shape for s in inputs], values)
        for o, shape in zip(outputs, shapes):
            o.shape = tuple(int(d) for d in shape)

    def eval(self, node, inputs, outputs):
        if not self._dynamic:
            self.run(node, self._plan, inputs, outputs)
            return None
        values = {i: (inputs[i] if i < len(inputs) else None) for i in self.value_inputs}
        shapes, plan = self.plan(node, [None if a is None else a.shape for a in inputs], values)
        outputs = [np.empty(tuple(int(d) for d in shape), dtype) for shape, dtype in zip(shapes, self._dtypes)]
        self.run(node, plan, inputs, outputs)
        return outputs

    def plan(self, node, shapes, values):  # pragma: no cover - interface
        raise NotImplementedError

    def run(self, node, plan, inputs, outputs):  # pragma: no cover - interface
        raise NotImplementedError


def data_operands(node, inputs, outputs, n_in, types, n_out=1):
    """The common head of a data-movement op's prepare: the operand counts (as :func:`arity`),
    input 0 of one of ``types`` and every output of input 0's type. Returns input 0."""
    arity(node, inputs, outputs, n_in, n_out)
    check_type(node, inputs[0], types)
    for o in outputs:
        same_type(node, o, inputs[0])
    return inputs[0]
