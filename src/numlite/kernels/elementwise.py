"""Binary elementwise arithmetic with broadcasting: ADD, SUB, MUL (float and integer)."""
import numpy as np

from ..schema.enums import ActivationFunctionType as Act
from .common import activation_range, broadcast_shape, check_types
from .registry import Kernel, register

_FLOAT_OR_INT = ("FLOAT32", "INT32", "INT64")


class _Binary(Kernel):
    func = None
    types = _FLOAT_OR_INT

    def prepare(self, inputs, outputs):
        a, b = inputs[0], inputs[1]
        check_types(self, a, self.types)
        check_types(self, b, (a.type_name,))
        outputs[0].shape = broadcast_shape(a.shape, b.shape, self.op.opcode)
        act = self.options.get("fused_activation_function", Act.NONE)
        self.clamp = None if act == Act.NONE else activation_range(act)
        if self.clamp is None and act != Act.NONE:
            from ..errors import UnsupportedOpError
            raise UnsupportedOpError(self.op.opcode, self.op.version, self.node_index,
                                     "fused activation %s" % Act.name(act))

    def eval(self, inputs, outputs):
        out = outputs[0]
        type(self).func(inputs[0], inputs[1], out=out)
        if self.clamp is not None:
            lo, hi = self.clamp
            if out.dtype.kind != "f":
                info = np.iinfo(out.dtype)
                lo, hi = max(lo, info.min), min(hi, info.max)
            np.clip(out, lo, hi, out=out)


@register("ADD", versions=(1, 5))
class Add(_Binary):
    func = np.add


@register("SUB", versions=(1, 5))
class Sub(_Binary):
    func = np.subtract


@register("MUL", versions=(1, 7))
class Mul(_Binary):
    func = np.multiply
