"""The conv family: CONV_2D (grouped too), DEPTHWISE_CONV_2D and TRANSPOSE_CONV on NHWC data,
each in float, quantized (int8 / uint8 / int16) and hybrid (float input, int8 filter) variants.

* :mod:`.conv2d` — CONV_2D: im2col plus one matmul per group.
* :mod:`.depthwise` — DEPTHWISE_CONV_2D: strided views of the padded input times per-tap weights.
* :mod:`.transpose` — TRANSPOSE_CONV: one matmul, then a scatter-add of the taps (col2im).
* :mod:`.shared` — the operand checks, quantized requantization, hybrid input quantization and
  im2col the three share.

Each op's float kernel holds the shared prepare and eval; its quantized and hybrid kernels
override small per-dtype hooks. The window geometry lives in :mod:`numlite.kernels.geometry`.
Importing the family registers all its kernels.
"""
from . import conv2d, depthwise, transpose  # noqa: F401  (registration)
