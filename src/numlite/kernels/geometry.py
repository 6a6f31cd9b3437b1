"""Spatial geometry of the windowed kernels (convolutions, pooling) on NHWC data.

* :func:`compute_padding` — TFLite's ComputePaddingHeightWidth for one axis.
* :class:`Window` — a 2-D sliding window: output size and paddings, the padded source buffer
  (working memory a kernel asks for with :meth:`Window.scratch`, for all output rows or a tile
  of them) and the strided view of the source under each filter tap.
* :class:`TransposeWindow` — TRANSPOSE_CONV's geometry: the output padded as if it were the
  input of the forward convolution, and the scatter of every tap's contribution (col2im).

A helper home, not a family: the conv family, pooling and the MediaPipe custom ops use it.
"""
import numpy as np

from ..errors import ModelError
from ..schema.enums import Padding
from .quant import weight_operand


def compute_padding(in_size, filter_size, stride, dilation, padding):
    """Output size and leading padding for one spatial dim (TFLite's ComputePaddingHeightWidth)."""
    if stride <= 0 or dilation <= 0:
        raise ModelError("stride and dilation must be positive (got %d, %d)" % (stride, dilation))
    effective = (filter_size - 1) * dilation + 1
    if padding == Padding.SAME:
        out = (in_size + stride - 1) // stride
    elif padding == Padding.VALID:
        out = (in_size - effective + stride) // stride
    else:
        raise ModelError("unknown padding %d" % padding)
    out = max(out, 0)
    total = max((out - 1) * stride + effective - in_size, 0)
    return out, total // 2


class Window:
    """Geometry of a 2-D sliding window over NHWC data (TFLite's ComputePaddingHeightWidth).

    ``taps(src)`` yields, per filter tap, the strided view ``v[n, oy, ox, c] =
    src[n, oy*stride + tap*dilation, ...]`` of a padded source. The padding below/right is only
    what the last window reaches, so positions outside the image are read from a border that
    holds ``fill`` (zero for sums, the lowest value for max)."""

    def __init__(self, in_hw, filter_hw, strides, dilations, padding):
        (self.in_h, self.in_w), (self.fh, self.fw) = in_hw, filter_hw
        (self.sh, self.sw), (self.dh, self.dw) = strides, dilations
        if self.fh < 1 or self.fw < 1:
            raise ModelError("filter size must be positive, got %dx%d" % (self.fh, self.fw))
        self.out_h, self.pad_top = compute_padding(self.in_h, self.fh, self.sh, self.dh, padding)
        self.out_w, self.pad_left = compute_padding(self.in_w, self.fw, self.sw, self.dw, padding)
        self.pad_bottom = max(0, (self.out_h - 1) * self.sh + (self.fh - 1) * self.dh + 1 - self.pad_top - self.in_h)
        self.pad_right = max(0, (self.out_w - 1) * self.sw + (self.fw - 1) * self.dw + 1 - self.pad_left - self.in_w)
        self.padded = bool(self.pad_top or self.pad_left or self.pad_bottom or self.pad_right)

    @property
    def out_hw(self):
        return self.out_h, self.out_w

    @property
    def pointwise(self):
        """A 1x1, stride-1, unpadded window reads the source as it is (no im2col needed)."""
        return self.fh == self.fw == 1 and self.sh == self.sw == 1 and not self.padded

    def source_lines(self, lines):
        """Padded input lines that ``lines`` consecutive output rows read."""
        return max(0, (lines - 1) * self.sh + (self.fh - 1) * self.dh + 1)

    def scratch(self, node, batch, channels, dtype, lines=None, copy=False):
        """Ask ``node`` for the padded source buffer of tiles of ``lines`` output rows (default:
        all of them): None when no padding is needed, unless ``copy`` (the kernel always
        converts its input, e.g. to a wider type or without its zero point)."""
        if not (self.padded or copy):
            return None
        rows = self.source_lines(self.out_h if lines is None else lines)
        return node.scratch((batch, rows, self.pad_left + self.in_w + self.pad_right, channels), dtype)

    def load(self, buf, x, rows=None, fill=0, offset=0):
        """(source, rows in it) to take the taps of output rows ``rows`` = (y0, y1) (default: all)
        from: ``x`` itself when ``buf`` is None; else the input lines those rows read, minus
        ``offset``, written into ``buf`` (a Scratch, whose contents are undefined at each eval)
        with ``fill`` in its border."""
        y0, y1 = rows if rows is not None else (0, self.out_h)
        if buf is None:
            return x, (y0, y1)
        p0 = y0 * self.sh
        a = buf.array[:, :self.source_lines(y1 - y0)]
        i0, i1 = max(p0 - self.pad_top, 0), min(p0 + a.shape[1] - self.pad_top, self.in_h)
        t, n = i0 + self.pad_top - p0, max(0, i1 - i0)      # buffer line of image line i0, image lines
        l, w = self.pad_left, self.in_w
        if self.padded:
            a[:, :t] = fill
            a[:, t + n:] = fill
            a[:, t:t + n, :l] = fill
            a[:, t:t + n, l + w:] = fill
        inner = a[:, t:t + n, l:l + w]
        inner[...] = x[:, i0:i0 + n]
        if offset:
            inner -= offset
        return a, (0, y1 - y0)

    def taps(self, src, rows=None):
        """(ky, kx, view) per filter tap; ``rows``: the output rows (y0, y1) to cover (all)."""
        y0, y1 = rows if rows is not None else (0, self.out_h)
        ys_span, xs_span = (y1 - y0 - 1) * self.sh + 1, (self.out_w - 1) * self.sw + 1
        for ky in range(self.fh):
            start = y0 * self.sh + ky * self.dh
            lines = src[:, start:start + ys_span:self.sh]
            for kx in range(self.fw):
                x0 = kx * self.dw
                yield ky, kx, lines[:, :, x0:x0 + xs_span:self.sw]

    def valid_counts(self):
        """[out_h, out_w] count of filter taps that fall inside the image (pooling divisors)."""
        def per_axis(out, stride, pad, size, filt):
            start = np.arange(out) * stride - pad
            return np.clip(np.minimum(filt, size - start) - np.maximum(0, -start), 0, None)
        cy = per_axis(self.out_h, self.sh, self.pad_top, self.in_h, self.fh)
        cx = per_axis(self.out_w, self.sw, self.pad_left, self.in_w, self.fw)
        return np.outer(cy, cx)


def window_from_options(node, in_hw, filter_hw, dilated=True):
    """The node's window from its options (strides, padding and, for convolutions, dilations)."""
    o = node.options
    dil = (o.dilation_h_factor, o.dilation_w_factor) if dilated else (1, 1)
    try:
        return Window(in_hw, filter_hw, (o.stride_h, o.stride_w), dil, o.padding)
    except ModelError as e:
        raise node.error(str(e)) from None


class TransposeWindow:
    """Geometry of a TRANSPOSE_CONV: input [N, H, W, IC], filter taps KH x KW, strides, the
    output shape [N, OH, OW, OC] from the node's output_shape values.

    Every input pixel spreads ``KH x KW`` tap contributions over a buffer ``full_shape`` that
    starts at the forward convolution's leading padding; the output is its crop."""

    def __init__(self, node, in_shape, filter_hw, out_channels, strides, padding, shape_values):
        vals = np.asarray(shape_values).reshape(-1)
        n, h, w = in_shape[:3]
        kh, kw = filter_hw
        if vals.size != 4:
            raise node.error("output_shape must have 4 elements, got %d" % vals.size)
        self.out_shape = out_shape = tuple(int(v) for v in vals)
        if min(out_shape) < 0 or out_shape[0] != n or out_shape[3] != out_channels:
            raise node.error("output_shape %s does not match batch %d and %d output channels"
                             % (out_shape, n, out_channels))
        (sh, sw), (oh, ow) = strides, out_shape[1:3]
        # LiteRT pads as if the output were the input of the forward convolution.
        try:
            in_h, self.pad_h = compute_padding(oh, kh, sh, 1, padding)
            in_w, self.pad_w = compute_padding(ow, kw, sw, 1, padding)
        except ModelError as e:
            raise node.error(str(e)) from None
        # LiteRT refuses an output_shape whose forward convolution would not give the input's size.
        if (in_h, in_w) != (h, w):
            raise node.error("output_shape %s with this filter, stride and padding corresponds to a %dx%d input, "
                             "but the input is %dx%d" % (out_shape, in_h, in_w, h, w))
        self.in_hw, self.filter_hw, self.strides = (h, w), (kh, kw), (sh, sw)
        self.full_shape = (n, max((h - 1) * sh + kh, self.pad_h + oh), max((w - 1) * sw + kw, self.pad_w + ow),
                           out_channels)

    def tap_targets(self, full, reverse=False):
        """(ky, kx, view of ``full`` the tap's contributions add to), taps ascending (or descending)."""
        (h, w), (kh, kw), (sh, sw) = self.in_hw, self.filter_hw, self.strides
        ys, xs = (h - 1) * sh + 1, (w - 1) * sw + 1
        order = (lambda k: range(k - 1, -1, -1)) if reverse else range
        for ky in order(kh):
            for kx in order(kw):
                yield ky, kx, full[:, ky:ky + ys:sh, kx:kx + xs:sw, :]

    def scatter(self, full, contrib):
        """full = sum of the taps' contributions ``contrib`` [N, H, W, KH, KW, OC] (col2im)."""
        full.fill(0)
        for ky, kx, dst in self.tap_targets(full):
            dst += contrib[:, :, :, ky, kx, :]
        return full

    def crop(self, full):
        """The output's part of ``full``."""
        oh, ow = self.out_shape[1:3]
        return full[:, self.pad_h:self.pad_h + oh, self.pad_w:self.pad_w + ow, :]


def transpose_weight_matrix(w, zero_point=0, dtype=np.float32):
    """TRANSPOSE_CONV weights [OC, KH, KW, IC] → contiguous [IC, KH*KW*OC] (zero point removed),
    so one matmul gives every tap's contribution: [N*H*W, IC] x this → [N, H, W, KH, KW, OC]."""
    return weight_operand(np.asarray(w).transpose(3, 1, 2, 0), zero_point, dtype).reshape(w.shape[3], -1)
