"""CONCATENATION of uint8 tensors whose scales / zero points differ from the output's
(reference_ops::ConcatenationWithScaling).

LiteRT requantizes only uint8 inputs: int8 inputs must already share the output's quantization
and int16 inputs are copied raw (zero points 0), both handled by the generic kernel. The uint8
rescaling is done in float32, exactly as LiteRT writes it::

    scale = in_scale * (1.f / out_scale)            # float32
    bias  = -in_zp * scale                          # float32
    out   = clamp(int(round(x * scale + bias)) + out_zp, 0, 255)   # round half away from zero

Inputs whose scale and zero point equal the output's are copied unchanged.
"""
import numpy as np

from ..schema.enums import ActivationFunctionType as Act
from . import fixedpoint as fp
from .registry import Kernel, register
from .requantize import model_error, qparams, same_type


@register("CONCATENATION", versions=(1, 7), types=("UINT8",))
class QuantizedConcatenation(Kernel):
    def prepare(self, inputs, outputs):
        if not inputs or len(outputs) != 1:
            raise model_error(self, "expected at least one input and one output")
        if any(s is None for s in inputs):
            raise model_error(self, "an input is missing")
        if self.options.get("fused_activation_function", Act.NONE) != Act.NONE:
            raise model_error(self, "LiteRT does not support a fused activation on CONCATENATION")
        first, out = inputs[0], outputs[0]
        for s in inputs[1:] + [out]:
            same_type(self, s, first, "tensor %r" % s.name)
        rank = len(first.shape)
        if rank == 0:
            raise model_error(self, "cannot concatenate scalars")
        axis = int(self.options.get("axis", 0))
        axis = axis + rank if axis < 0 else axis
        if not 0 <= axis < rank:
            raise model_error(self, "axis %d is out of range for rank %d" % (self.options.get("axis", 0), rank))
        for s in inputs:
            if len(s.shape) != rank or any(a != b for d, (a, b) in enumerate(zip(s.shape, first.shape)) if d != axis):
                raise model_error(self, "input shapes %s and %s differ off axis %d" % (s.shape, first.shape, axis))
        self.axis = axis
        out_scale, out_zp = qparams(out)
        inv = np.float32(1) / np.float32(out_scale) if out_scale else np.float32(np.inf)
        # Per input: None (copy) or the float32 (scale, bias) of its affine map to the output.
        self.maps = []
        for s in inputs:
            in_scale, in_zp = qparams(s)
            if (in_scale, in_zp) == (out_scale, out_zp):
                self.maps.append(None)
            else:
                scale = np.float32(in_scale) * inv
                self.maps.append((scale, np.float32(-in_zp) * scale))
        self.out_zp = out_zp
        out.shape = tuple(sum(s.shape[axis] for s in inputs) if d == axis else n
                          for d, n in enumerate(first.shape))

    def eval(self, inputs, outputs):
        parts = [x if m is None else self._rescale(x, *m) for x, m in zip(inputs, self.maps)]
        if outputs[0] is None:
            return [np.concatenate(parts, axis=self.axis)]
        np.concatenate(parts, axis=self.axis, out=outputs[0])

    def _rescale(self, x, scale, bias):
        v = fp.round_half_away(x.astype(np.float32) * scale + bias).astype(np.int64) + self.out_zp
        return np.clip(v, 0, 255).astype(np.uint8)
