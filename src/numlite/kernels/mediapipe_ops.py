"""MediaPipe custom ops found in its published models.

Convolution2DTransposeBias (selfie segmentation, hair segmentation): a transpose convolution with
bias whose options are a raw TfLiteTransposeConvParams struct in ``custom_options``:
int32 padding (TfLitePadding: 1 = SAME, 2 = VALID), int32 stride_width, int32 stride_height.
Inputs are (input, weights [OC, KH, KW, IC], bias [OC]); the output size follows from the
padding mode: SAME gives ``in * stride``, VALID ``(in - 1) * stride + filter``.
"""
import struct

import numpy as np

from ..errors import ModelError
from ..schema.enums import ActivationFunctionType as Act
from ..schema.enums import Padding
from .conv import TransposeConv
from .registry import register


class _ShapeSpec:
    """A constant int32 output_shape input, synthesised for the TRANSPOSE_CONV kernel."""
    type_name = "INT32"

    def __init__(self, values):
        self.data = np.asarray(values, np.int32)
        self.shape = self.data.shape


@register("Convolution2DTransposeBias", versions=(1, 1), custom=True)
class Convolution2DTransposeBias(TransposeConv):
    def prepare(self, inputs, outputs):
        raw = self.op.custom_options or b""
        if len(raw) < 12 or len(inputs) != 3:
            raise ModelError("Convolution2DTransposeBias needs 3 inputs and 12 bytes of options (got %d inputs, %d bytes)"
                             % (len(inputs), len(raw)))
        tf_padding, stride_w, stride_h = struct.unpack_from("<iii", raw)
        if tf_padding not in (1, 2) or stride_w <= 0 or stride_h <= 0:
            raise ModelError("Convolution2DTransposeBias: invalid options padding=%d strides=(%d, %d)"
                             % (tf_padding, stride_h, stride_w))
        x, w, b = inputs
        if len(x.shape) != 4 or len(w.shape) != 4:
            raise ModelError("Convolution2DTransposeBias: input and weights must be 4-D")
        same = tf_padding == 1

        def size(n, k, s):
            return n * s if same else (n - 1) * s + k
        out_shape = (x.shape[0], size(x.shape[1], w.shape[1], stride_h), size(x.shape[2], w.shape[2], stride_w), w.shape[0])
        self.options = {"padding": Padding.SAME if same else Padding.VALID, "stride_w": stride_w,
                        "stride_h": stride_h, "fused_activation_function": Act.NONE}
        super().prepare([_ShapeSpec(out_shape), w, x, b], outputs)

    def eval(self, inputs, outputs):
        x, w, b = inputs
        return super().eval([None, w, x, b], outputs)
