"""Less common ops met in converter output: ATAN2, SIGN."""
import numpy as np

from ..errors import ModelError
from .common import check_types
from .registry import Kernel, register


@register("ATAN2", versions=(1, 1))
class Atan2(Kernel):
    def prepare(self, inputs, outputs):
        check_types(self, inputs[0], ("FLOAT32",))
        # LiteRT's ATAN2 does not broadcast: both operands must have the same shape.
        if tuple(inputs[0].shape) != tuple(inputs[1].shape):
            raise ModelError("ATAN2 operands must have equal shapes, got %s and %s" % (inputs[0].shape, inputs[1].shape))
        outputs[0].shape = inputs[0].shape

    def eval(self, inputs, outputs):
        np.arctan2(inputs[0], inputs[1], out=outputs[0])


@register("SIGN", versions=(1, 2))
class Sign(Kernel):
    def prepare(self, inputs, outputs):
        check_types(self, inputs[0], ("FLOAT32", "FLOAT64", "INT32"))
        outputs[0].shape = inputs[0].shape

    def eval(self, inputs, outputs):
        np.sign(inputs[0], out=outputs[0])
