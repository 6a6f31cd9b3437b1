"""Eigen's float approximations, as LiteRT's Eigen-based vector helpers (tensor_utils) compute them.

The hybrid and float sequence kernels call these instead of NumPy's libm functions so that their
results are bit-identical to LiteRT's.
"""
import numpy as np

# Eigen's fast-math float tanh (ptanh_float: a [9/8] rational approximation, non-FMA build):
# LiteRT's tensor_utils::ApplyTanhToVector is an Eigen array expression, not std::tanh.
_TANH_CLAMP = np.float32(7.90738964080810547)
_TANH_ALPHA = np.array([1.394553628e-8, 2.102733560e-5, 3.520756727e-3, 1.340216100e-1], np.float32)
_TANH_BETA = np.array([8.015776984e-7, 3.326951409e-4, 2.597254514e-2, 4.673548340e-1, 1.0], np.float32)


def _horner(coeffs, x2):
    acc = np.full(x2.shape, coeffs[0], np.float32)
    for c in coeffs[1:]:
        acc = acc * x2 + c      # pmadd without FMA: product and sum rounded separately
    return acc


def eigen_tanh(a):
    """tanh as LiteRT's Eigen-based vector helpers compute it, bit for bit, in float32.
    (Clamped to +-7.907..., where the approximation reaches exactly 1.)"""
    x = np.clip(np.asarray(a, np.float32), -_TANH_CLAMP, _TANH_CLAMP)
    x2 = x * x
    p = (x2 * x) * _horner(_TANH_ALPHA, x2) + x
    return p / _horner(_TANH_BETA, x2)
