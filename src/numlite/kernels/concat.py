"""Joining tensors: CONCATENATION and PACK."""
import numpy as np

from ..schema.enums import ActivationFunctionType as Act
from .common import check_types
from .registry import Kernel, register
from .layout import (NUMERIC, NUMERIC_BOOL, check_same_quant, model_error, norm_axis, quant_params, require,
                    same_type)


class _Join(Kernel):
    types = NUMERIC

    def check_inputs(self, inputs, outputs):
        if not inputs:
            raise model_error(self, "needs at least one input")
        if len(outputs) != 1:
            raise model_error(self, "expected 1 output, got %d" % len(outputs))
        specs = [require(self, s, "input %d" % k) for k, s in enumerate(inputs)]
        check_types(self, specs[0], self.types)
        for s in specs[1:] + [outputs[0]]:
            same_type(self, s, specs[0], "tensor %r" % s.name)
        return specs


@register("CONCATENATION", versions=(1, 7))
class Concatenation(_Join):
    types = NUMERIC_BOOL

    def prepare(self, inputs, outputs):
        specs = self.check_inputs(inputs, outputs)
        act = self.options.get("fused_activation_function", Act.NONE)
        # LiteRT refuses any fused activation on CONCATENATION (its kernels never applied one).
        if act != Act.NONE:
            raise model_error(self, "fused activation %s is not supported" % Act.name(act))
        rank = len(specs[0].shape)
        if rank == 0:
            # LiteRT joins constant scalars (axis 0) into a vector, and refuses runtime ones.
            if int(self.options.get("axis", 0)) != 0 or any(s.data is None or s.shape != () for s in specs):
                raise model_error(self, "cannot concatenate non-constant scalars")
            self.axis = None
            outputs[0].shape = (len(specs),)
            return
        axis = norm_axis(self, int(self.options.get("axis", 0)), rank)
        total = 0
        for s in specs:
            if len(s.shape) != rank or any(a != b for d, (a, b) in enumerate(zip(s.shape, specs[0].shape)) if d != axis):
                raise model_error(self, "input shapes %s and %s do not match off axis %d" % (s.shape, specs[0].shape, axis))
            total += s.shape[axis]
        out = outputs[0]
        t = out.type_name
        for s in specs:
            if t == "INT8":
                check_same_quant(self, s, out)
            elif t == "UINT8":
                # LiteRT requantizes uint8 inputs whose scale/zero point differ from the output's.
                check_same_quant(self, s, out, unsupported_error=True)
            elif t == "INT16" and (quant_params(s)[1] != 0 or quant_params(out)[1] != 0):
                # int16 is copied without rescaling, which LiteRT only allows for symmetric tensors.
                raise model_error(self, "int16 concatenation needs zero points of 0")
        self.axis = axis
        out.shape = tuple(total if d == axis else n for d, n in enumerate(specs[0].shape))

    def eval(self, inputs, outputs):
        if self.axis is None:
            return [np.stack(inputs)]
        if outputs[0] is None:
            return [np.concatenate(inputs, axis=self.axis)]
        np.concatenate(inputs, axis=self.axis, out=outputs[0])


@register("PACK", versions=(1, 5))
class Pack(_Join):
    def prepare(self, inputs, outputs):
        specs = self.check_inputs(inputs, outputs)
        count = int(self.options.get("values_count", len(specs)))
        if count != len(specs):
            raise model_error(self, "values_count %d but %d inputs" % (count, len(specs)))
        shape = specs[0].shape
        for s in specs:
            if s.shape != shape:
                raise model_error(self, "input shapes %s and %s differ" % (s.shape, shape))
            check_same_quant(self, s, outputs[0])
        self.axis = norm_axis(self, int(self.options.get("axis", 0)), len(shape) + 1)
        outputs[0].shape = tuple(shape[:self.axis]) + (len(specs),) + tuple(shape[self.axis:])

    def eval(self, inputs, outputs):
        if outputs[0] is None:
            return [np.stack(inputs, axis=self.axis)]
        np.stack(inputs, axis=self.axis, out=outputs[0])
