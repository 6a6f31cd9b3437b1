"""Comparisons, logical ops and selection: EQUAL, NOT_EQUAL, LESS, LESS_EQUAL, GREATER,
GREATER_EQUAL, LOGICAL_AND, LOGICAL_OR, LOGICAL_NOT, SELECT, SELECT_V2."""
import numpy as np

from ..errors import ModelError
from .common import broadcast_shape
from .binary import BinaryKernel, check_arity, check_output_type, same_type
from .registry import Kernel, register
from .unary import UnaryKernel

_ORDERED = ("FLOAT32", "FLOAT16", "INT32", "INT64", "INT16", "INT8", "UINT8")


class _Compare(BinaryKernel):
    types = _ORDERED
    out_type = "BOOL"
    # LiteRT's LESS … GREATER_EQUAL compare int16 values raw whatever their quantization.
    # Quantized 8-bit inputs (and int16 EQUAL/NOT_EQUAL) are rescaled first: those nodes go
    # to quantized_elementwise's kernels.
    plain_quantized = ("INT16",)


@register("EQUAL", versions=(1, 5))
class Equal(_Compare):
    types = _ORDERED + ("BOOL",)
    func = np.equal


@register("NOT_EQUAL", versions=(1, 4))
class NotEqual(_Compare):
    types = _ORDERED + ("BOOL",)
    func = np.not_equal


@register("LESS", versions=(1, 3))
class Less(_Compare):
    func = np.less


@register("LESS_EQUAL", versions=(1, 2))
class LessEqual(_Compare):
    func = np.less_equal


@register("GREATER", versions=(1, 2))
class Greater(_Compare):
    func = np.greater


@register("GREATER_EQUAL", versions=(1, 3))
class GreaterEqual(_Compare):
    func = np.greater_equal


class _Logical(BinaryKernel):
    types = ("BOOL",)


@register("LOGICAL_AND", versions=(1, 1))
class LogicalAnd(_Logical):
    func = np.logical_and


@register("LOGICAL_OR", versions=(1, 1))
class LogicalOr(_Logical):
    func = np.logical_or


@register("LOGICAL_NOT", versions=(1, 1))
class LogicalNot(UnaryKernel):
    types = ("BOOL",)
    func = np.logical_not


class _Select(Kernel):
    """condition ? x : y for any element type (the values are only moved)."""

    def prepare(self, inputs, outputs):
        check_arity(self, inputs, outputs, 3)
        cond, x, y = inputs
        if cond.type_name != "BOOL":
            raise ModelError("%s (node %s): condition must be BOOL, got %s"
                             % (self.op.opcode, self.node_index, cond.type_name))
        same_type(self, x, y)
        check_output_type(self, outputs[0], x.type_name)
        shapes = tuple(cond.shape), tuple(x.shape), tuple(y.shape)
        if all(np.prod(s, dtype=np.int64) == 1 for s in shapes):
            # LiteRT treats three single-element operands as scalars, whatever their ranks
            # (and skips the version-1 shape rules): the output is a scalar.
            self.cond_shape = shapes[0]
            outputs[0].shape = ()
        else:
            outputs[0].shape = self.output_shape(*shapes)

    def eval(self, inputs, outputs):
        cond, x, y = inputs
        out = outputs[0]
        out[...] = np.where(cond.reshape(self.cond_shape), x, y).reshape(out.shape)


@register("SELECT", versions=(1, 4))
class Select(_Select):
    def output_shape(self, c, x, y):
        self.cond_shape = c
        if c == x == y:
            return x
        if x != y:
            raise ModelError("SELECT (node %s): x %s and y %s must have the same shape" % (self.node_index, x, y))
        if len(c) == 1 and len(x) >= 1 and c[0] == x[0]:
            # A rank-1 condition picks whole rows (slices along the first dimension).
            self.cond_shape = c + (1,) * (len(x) - 1)
        elif len(c) != 0:
            raise ModelError("SELECT (node %s): condition %s must match the inputs %s, be a scalar "
                             "or a vector over their first dimension" % (self.node_index, c, x))
        return x


@register("SELECT_V2", versions=(1, 2))
class SelectV2(_Select):
    def output_shape(self, c, x, y):
        self.cond_shape = c
        return broadcast_shape(broadcast_shape(c, x, "SELECT_V2"), y, "SELECT_V2")
