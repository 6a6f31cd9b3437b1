"""MediaPipe custom ops found in its published models.

Convolution2DTransposeBias (selfie segmentation, hair segmentation): a float transpose
convolution with bias whose options are a raw TfLiteTransposeConvParams struct in
``custom_options``: int32 padding (TfLitePadding: 1 = SAME, 2 = VALID), int32 stride_width,
int32 stride_height. Inputs are (input, weights [OC, KH, KW, IC], bias [OC]); the output size
follows from the padding mode: SAME gives ``in * stride``, VALID ``(in - 1) * stride + filter``.
The arithmetic is TRANSPOSE_CONV's (geometry.TransposeWindow): one matmul, the scatter-add of
the taps, the crop, then the bias; no activation.
"""
import struct

import numpy as np

from ..schema.enums import Padding
from .contract import Kernel
from .fused import add_bias_and_clamp
from .geometry import TransposeWindow, transpose_weight_matrix
from .operands import FLOAT, arity, check_bias, check_float_operands
from .registry import register


@register("Convolution2DTransposeBias", versions=(1, 1), custom=True)
class Convolution2DTransposeBias(Kernel):
    input_types = ("FLOAT32",)

    def prepare(self, node, inputs, outputs):
        raw = node.custom_options or b""
        arity(node, inputs, outputs, 3)
        if len(raw) < 12:
            raise node.error("needs 12 bytes of options, got %d" % len(raw))
        tf_padding, stride_w, stride_h = struct.unpack_from("<iii", raw)
        if tf_padding not in (1, 2) or stride_w <= 0 or stride_h <= 0:
            raise node.error("invalid options padding=%d strides=(%d, %d)" % (tf_padding, stride_h, stride_w))
        x, w, b = inputs
        if len(x.shape) != 4 or len(w.shape) != 4:
            raise node.error("input and weights must be 4-D")
        check_float_operands(node, x, w, outputs[0], "weights")
        oc, kh, kw, ic = w.shape
        if x.shape[3] != ic:
            raise node.error("input has %d channels, weights expect %d" % (x.shape[3], ic))
        check_bias(node, b, oc, FLOAT)
        same = tf_padding == 1

        def size(n, k, s):
            return n * s if same else (n - 1) * s + k
        out_shape = (x.shape[0], size(x.shape[1], kh, stride_h), size(x.shape[2], kw, stride_w), oc)
        self.window = TransposeWindow(node, x.shape, (kh, kw), oc, (stride_h, stride_w),
                                      Padding.SAME if same else Padding.VALID, out_shape)
        self.taps = tuple(x.shape[:3]) + (kh, kw, oc)
        self.wmat = transpose_weight_matrix(w.data) if w.data is not None else None
        self.full = node.scratch(self.window.full_shape, np.float32)
        self.contrib = node.scratch((int(np.prod(x.shape[:3])), kh * kw * oc), np.float32)
        outputs[0].shape = out_shape

    def eval(self, node, inputs, outputs):
        x, w, b = inputs
        out, tw = outputs[0], self.window
        if out.size == 0:
            return
        wmat = self.wmat if self.wmat is not None else transpose_weight_matrix(w)
        contrib = np.matmul(x.reshape(-1, x.shape[3]), wmat, out=self.contrib.array)
        out[...] = tw.crop(tw.scatter(self.full.array, contrib.reshape(self.taps)))
        add_bias_and_clamp(out, b, None)
