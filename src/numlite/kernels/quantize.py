"""DEQUANTIZE (float16 / 8- and 16-bit affine → float32) and QUANTIZE: float32 → 8/16-bit, and
between integer types (requantization, LiteRT's "Requantize use case").
"""
import numpy as np

from . import fixedpoint as fp
from .contract import Kernel
from .operands import arity, check_type
from .quant import is_quantized, multiplier, tensor_params
from .registry import register


def _affine_params(node, spec, rank):
    """(scale float32, zero_point int32) shaped to broadcast against a tensor of ``rank`` dims
    (per-channel parameters lie along the quantized dimension)."""
    q = spec.quantization
    if q is None:
        raise node.error("tensor %r has no quantization parameters" % spec.name)
    scale = np.asarray(q.scale, np.float32)
    zp = np.asarray(q.zero_point, np.int64).astype(np.int32)
    if scale.size > 1:
        d = q.quantized_dimension
        if not 0 <= d < rank or spec.shape[d] != scale.size:
            raise node.error("%d per-channel scales do not fit dimension %d of %s" % (scale.size, d, tuple(spec.shape)))
        shape = [1] * rank
        shape[d] = scale.size
        return scale.reshape(shape), zp.reshape(shape)
    return scale.reshape(()), zp.reshape(())


@register("DEQUANTIZE", versions=(1, 9))
class Dequantize(Kernel):
    input_types = ("INT8", "UINT8", "INT16", "FLOAT16", "INT4")

    def prepare(self, node, inputs, outputs):
        arity(node, inputs, outputs, 1)
        x = inputs[0]
        check_type(node, x, self.input_types)
        if outputs[0].type_name != "FLOAT32":
            raise node.error("output type %s, expected FLOAT32" % outputs[0].type_name)
        outputs[0].shape = x.shape
        self.params = None if x.type_name == "FLOAT16" else _affine_params(node, x, len(x.shape))
        # A constant input (the usual case: float16 or int8 weights) is converted once.
        self.cached = None if x.data is None else self.convert(x.data)

    def convert(self, q):
        if self.params is None:
            return q.astype(np.float32)
        scale, zp = self.params
        # (q - zp) is exact in float32 and the single float32 product rounds exactly like
        # LiteRT's double product cast to float.
        return (q.astype(np.int32) - zp).astype(np.float32) * scale

    def eval(self, node, inputs, outputs):
        np.copyto(outputs[0], self.cached if self.cached is not None else self.convert(inputs[0]))


# Output types LiteRT's QUANTIZE Prepare accepts per input type (ai-edge-litert 2.3 also widens
# 8-bit inputs to int16).
_TARGETS = {"FLOAT32": ("INT8", "UINT8", "INT16"),
            "INT8": ("INT8", "UINT8", "INT16"), "UINT8": ("INT8", "UINT8", "INT16"),
            "INT16": ("INT8", "INT16", "INT32"), "INT32": ("INT8", "INT16")}


@register("QUANTIZE", versions=(1, 6))
class Quantize(Kernel):
    """float32 input: ``clamp(x86_int32(round_half_away(x / scale)) + zp)``, per tensor or per
    channel.

    Integer input: reference_ops::Requantize, ``out = MultiplyByQuantizedMultiplier(x - in_zp, M,
    shift) + out_zp`` (int32 MultiplyByQuantizedMultiplier, double rounding), clamped to the output
    type, with M = QuantizeMultiplier(double(in_scale) / double(out_scale)). LiteRT's one special
    case: int8↔uint8 with an effective multiplier of exactly 1 (M = 2^30, shift 1) and zero points
    128 apart is a bit flip of the sign bit (x ^ 0x80), which is what the general formula gives as
    well — no separate path is needed."""

    input_types = tuple(_TARGETS)

    def prepare(self, node, inputs, outputs):
        arity(node, inputs, outputs, 1)
        x, out = inputs[0], outputs[0]
        targets = _TARGETS.get(x.type_name)
        if targets is None:
            raise node.unsupported("quantizing %s input to %s" % (x.type_name, out.type_name))
        check_type(node, out, targets, "output")
        out.shape = x.shape
        self.lo, self.hi = fp.dtype_range(out.dtype)
        self.requantize = x.type_name != "FLOAT32"
        if not self.requantize:
            self.scale, self.zp = _affine_params(node, out, len(x.shape))
            return
        if not is_quantized(out):
            raise node.error("output needs affine quantization")
        if x.type_name == out.type_name == "INT16":
            for s in (x, out):
                if tensor_params(s)[1] != 0:
                    raise node.error("int16 tensor %r needs zero point 0, has %d" % (s.name, tensor_params(s)[1]))
        (in_scale, self.in_zp), (out_scale, self.out_zp) = tensor_params(x), tensor_params(out)
        self.mult, self.shift = multiplier(node, in_scale / out_scale if out_scale else np.inf)

    def eval(self, node, inputs, outputs):
        x, out = inputs[0], outputs[0]
        if self.requantize:
            out[...] = fp.requantize(x.astype(np.int64) - self.in_zp, self.mult, self.shift, self.out_zp,
                                     self.lo, self.hi, out.dtype)
            return
        with np.errstate(all="ignore"):
            # TfLiteRound(x / scale) in float32, converted to int32 (x86 gives INT32_MIN when it
            # does not fit), plus the zero point in wrapping int32 arithmetic, then clamped.
            q = fp.float_to_int32_x86(fp.round_half_away(x / self.scale)) + self.zp
        np.copyto(out, np.clip(q, self.lo, self.hi), casting="unsafe")
