"""Float activations: SOFTMAX, LOG_SOFTMAX, LOGISTIC, TANH, RELU, RELU6, RELU_N1_TO_1,
RELU_0_TO_1, LEAKY_RELU, PRELU, HARD_SWISH, ELU, GELU (quantized variants are refused)."""
import math

import numpy as np

from ..errors import ModelError
from .common import broadcast_shape, check_types
from .binary import check_arity, check_output_type, quiet, same_type
from .registry import Kernel, register
from .unary import UnaryKernel

_SQRT_PI = math.sqrt(math.pi)


def erfc(x):
    """Complementary error function in float64, vectorised (max abs error ~1e-15).

    NumPy has no erf; |x| < 2 uses the Maclaurin series of erf (40 terms converge to double
    precision there), larger |x| the Laplace continued fraction of erfc evaluated bottom-up
    (40 levels suffice from x = 2 on), and erfc(-x) = 2 - erfc(x).
    """
    x = np.asarray(x, np.float64)
    ax = np.abs(x)
    small = ax < 2.0
    xs = np.where(small, ax, 0.0)
    x2 = xs * xs
    term = xs.copy()
    total = xs.copy()
    for n in range(1, 40):
        term = term * (-x2) / n
        total = total + term / (2 * n + 1)
    erfc_small = 1.0 - total * (2.0 / _SQRT_PI)
    xl = np.where(small, 2.0, ax)
    t = xl.copy()
    for k in range(40, 0, -1):
        t = xl + (0.5 * k) / t
    erfc_large = np.exp(-xl * xl) / (_SQRT_PI * t)
    r = np.where(small, erfc_small, erfc_large)
    return np.where(x < 0, 2.0 - r, r)


class _RowWise(UnaryKernel):
    """Softmax-style ops work along the last axis, so the input needs a rank."""

    def prepare(self, inputs, outputs):
        super().prepare(inputs, outputs)
        if len(inputs[0].shape) < 1:
            raise ModelError("%s (node %s): input must have rank >= 1" % (self.op.opcode, self.node_index))

    @staticmethod
    def shifted(x):
        # LiteRT starts the running max at the lowest finite float, not -inf.
        return x - np.max(x, axis=-1, keepdims=True, initial=np.finfo(x.dtype).min)


@register("SOFTMAX", versions=(1, 4))
class Softmax(_RowWise):
    def prepare(self, inputs, outputs):
        super().prepare(inputs, outputs)
        self.store = inputs[0].dtype

    def compute(self, x, out):
        beta = x.dtype.type(self.options.get("beta", 0.0))
        e = np.exp(self.shifted(x) * beta)
        total = np.sum(e, axis=-1, keepdims=True)
        if e.dtype != self.store:
            # LiteRT parks each exp in the (half) output buffer before dividing by the float sum,
            # so an exp beyond half's range becomes inf there.
            e = e.astype(self.store).astype(e.dtype)
        return np.divide(e, total, out=out)


@register("LOG_SOFTMAX", versions=(1, 2))
class LogSoftmax(_RowWise):
    types = ("FLOAT32",)

    def compute(self, x, out):
        d = self.shifted(x)
        return np.subtract(d, np.log(np.sum(np.exp(d), axis=-1, keepdims=True)), out=out)


@register("LOGISTIC", versions=(1, 3))
class Logistic(UnaryKernel):
    # LiteRT's reference kernel saturates above this cutoff and uses exp(x) below -9.
    _UPPER = np.float32(16.619047164916992188)
    _LOWER = np.float32(-9.0)

    def compute(self, x, out):
        one = x.dtype.type(1)
        mid = one / (one + np.exp(-x))
        return np.where(x > self._UPPER, one, np.where(x < self._LOWER, np.exp(x), mid))


@register("TANH", versions=(1, 3))
class Tanh(UnaryKernel):
    wide = True
    func = np.tanh


class _Clamp(UnaryKernel):
    bounds = (None, None)

    def compute(self, x, out):
        lo, hi = self.bounds
        if hi is None:
            return np.maximum(x, x.dtype.type(lo), out=out)
        return np.clip(x, x.dtype.type(lo), x.dtype.type(hi), out=out)


@register("RELU", versions=(1, 3))
class Relu(_Clamp):
    bounds = (0, None)


@register("RELU6", versions=(1, 3))
class Relu6(_Clamp):
    bounds = (0, 6)


@register("RELU_N1_TO_1", versions=(1, 1))
class ReluN1To1(_Clamp):
    bounds = (-1, 1)


@register("RELU_0_TO_1", versions=(1, 1))
class Relu0To1(_Clamp):
    types = ("FLOAT32",)
    bounds = (0, 1)


@register("LEAKY_RELU", versions=(1, 2))
class LeakyRelu(UnaryKernel):
    types = ("FLOAT32",)

    def compute(self, x, out):
        alpha = x.dtype.type(self.options.get("alpha", 0.0))
        return np.where(x > 0, x, x * alpha)


@register("HARD_SWISH", versions=(1, 1))
class HardSwish(UnaryKernel):
    def compute(self, x, out):
        f = x.dtype.type
        relu6 = np.minimum(f(6), np.maximum(f(0), x + f(3)))
        return np.divide(x * relu6, f(6), out=out)


@register("ELU", versions=(1, 1))
class Elu(UnaryKernel):
    def compute(self, x, out):
        return np.where(x < 0, np.expm1(x), x)


@register("GELU", versions=(1, 3))
class Gelu(UnaryKernel):
    half_steps = True
    _SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)

    def compute(self, x, out):
        # LiteRT's Eigen expressions, operation by operation.
        f = x.dtype.type
        if self.options.get("approximate", False):
            inner = f(self._SQRT_2_OVER_PI) * (x + f(0.044715) * (x * x * x))
            return (f(0.5) * x) * (f(1) + np.tanh(inner))
        # 0.5·x·erfc(-x/√2): the erfc form avoids cancellation for large negative x. The
        # float64 erfc is rounded through float32 as Eigen's half erfc is.
        tail = erfc(x * f(-math.sqrt(0.5))).astype(np.float32).astype(x.dtype)
        return (f(0.5) * x) * tail


@register("PRELU", versions=(1, 1))
class Prelu(Kernel):
    def prepare(self, inputs, outputs):
        check_arity(self, inputs, outputs, 2)
        x, alpha = inputs
        check_types(self, x, ("FLOAT32",))
        same_type(self, x, alpha)
        check_output_type(self, outputs[0], x.type_name)
        shape = broadcast_shape(x.shape, alpha.shape, self.op.opcode)
        if shape != tuple(x.shape):
            raise ModelError("PRELU (node %s): alpha %s broadcasts the input %s to %s"
                             % (self.node_index, tuple(alpha.shape), tuple(x.shape), shape))
        outputs[0].shape = shape

    @quiet
    def eval(self, inputs, outputs):
        x, alpha = inputs
        np.copyto(outputs[0], np.where(x >= 0, x, x * alpha))
