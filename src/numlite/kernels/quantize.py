"""DEQUANTIZE (float16 / 8- and 16-bit affine → float32) and QUANTIZE (float32 → 8/16-bit)."""
import numpy as np

from ..errors import ModelError
from .common import check_types
from .elementwise import check_arity, check_output_type, quiet, unsupported
from .fixedpoint import float_to_int32_x86, round_half_away
from .registry import Kernel, register


def _affine_params(kernel, spec, rank):
    """(scale float32, zero_point int32) shaped to broadcast against a tensor of ``rank`` dims
    (per-channel parameters lie along the quantized dimension)."""
    q = spec.quantization
    if q is None:
        raise ModelError("%s (node %s): tensor %r has no quantization parameters"
                         % (kernel.op.opcode, kernel.node_index, spec.name))
    scale = np.asarray(q.scale, np.float32)
    zp = np.asarray(q.zero_point, np.int64).astype(np.int32)
    if scale.size > 1:
        d = q.quantized_dimension
        if not 0 <= d < rank or spec.shape[d] != scale.size:
            raise ModelError("%s (node %s): %d per-channel scales do not fit dimension %d of %s"
                             % (kernel.op.opcode, kernel.node_index, scale.size, d, tuple(spec.shape)))
        shape = [1] * rank
        shape[d] = scale.size
        return scale.reshape(shape), zp.reshape(shape)
    return scale.reshape(()), zp.reshape(())


@register("DEQUANTIZE", versions=(1, 9))
class Dequantize(Kernel):
    def prepare(self, inputs, outputs):
        check_arity(self, inputs, outputs, 1)
        x = inputs[0]
        check_types(self, x, ("INT8", "UINT8", "INT16", "FLOAT16", "INT4"))
        check_output_type(self, outputs[0], "FLOAT32")
        outputs[0].shape = x.shape
        self.params = None if x.type_name == "FLOAT16" else _affine_params(self, x, len(x.shape))
        # A constant input (the usual case: float16 or int8 weights) is converted once.
        self.cached = None if x.data is None else self.convert(x.data)

    def convert(self, q):
        if self.params is None:
            return q.astype(np.float32)
        scale, zp = self.params
        # (q - zp) is exact in float32 and the single float32 product rounds exactly like
        # LiteRT's double product cast to float.
        return (q.astype(np.int32) - zp).astype(np.float32) * scale

    def eval(self, inputs, outputs):
        np.copyto(outputs[0], self.cached if self.cached is not None else self.convert(inputs[0]))


@register("QUANTIZE", versions=(1, 6))
class Quantize(Kernel):
    def prepare(self, inputs, outputs):
        check_arity(self, inputs, outputs, 1)
        x, out = inputs[0], outputs[0]
        if x.type_name != "FLOAT32":
            raise unsupported(self, "requantizing %s to %s needs the fixed-point path (not supported yet)"
                              % (x.type_name, out.type_name))
        check_types(self, out, ("INT8", "UINT8", "INT16"), "output")
        outputs[0].shape = x.shape
        self.scale, self.zp = _affine_params(self, out, len(x.shape))

    @quiet
    def eval(self, inputs, outputs):
        out = outputs[0]
        # TfLiteRound(x / scale) in float32, converted to int32 (x86 gives INT32_MIN when it
        # does not fit), plus the zero point in wrapping int32 arithmetic, then clamped.
        q = float_to_int32_x86(round_half_away(inputs[0] / self.scale)) + self.zp
        info = np.iinfo(out.dtype)
        np.copyto(out, np.clip(q, info.min, info.max), casting="unsafe")
