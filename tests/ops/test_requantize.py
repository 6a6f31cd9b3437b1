"""QUANTIZE from integer inputs (requantisation) against LiteRT's reference kernel.

Also holds the quantization strategies the other quantized-op test files import.
"""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from harness import In, assert_both_refuse, check_op, examples

QUANT_DTYPES = [np.int8, np.uint8, np.int16]


def draw_quant(draw, dtype, label="q"):
    """(scale, zero_point): scales log-uniform over 1e-4..10; zero points at the type's edges or
    anywhere inside it (int16 is symmetric in LiteRT: zero point 0; int32 too, for simplicity)."""
    scale = float(np.float32(10.0 ** draw(st.floats(-4, 1), label=label + " log10 scale")))
    dtype = np.dtype(dtype)
    if dtype in (np.int16, np.int32):
        return scale, 0
    lo, hi = np.iinfo(dtype).min, np.iinfo(dtype).max
    zp = draw(st.one_of(st.sampled_from([lo, hi, (lo + hi + 1) // 2]), st.integers(lo, hi)), label=label + " zp")
    return scale, int(zp)


def draw_pow2_scale(draw, label, lo=-6, hi=0):
    """A power-of-two scale: products and ratios of such scales are exact, so the requantization
    multipliers are exact powers of two too and the rounding shifts meet exact halves (ties)."""
    return float(2.0 ** draw(st.integers(lo, hi), label=label + " log2 scale"))


def tie_values(rng, dtype, shape, zero_point=0, spread=3):
    """Integers within ``spread`` of the zero point (clipped to the type): small accumulators,
    which a power-of-two multiplier maps onto frequent rounding ties."""
    lo, hi = np.iinfo(dtype).min, np.iinfo(dtype).max
    v = rng.integers(-spread, spread, shape, endpoint=True) + int(zero_point)
    return np.clip(v, lo, hi).astype(dtype)


def random_values(rng, dtype, shape, lo=None, hi=None):
    """Integers over the whole range of ``dtype`` (or [lo, hi])."""
    info = np.iinfo(dtype)
    lo = info.min if lo is None else lo
    hi = info.max if hi is None else hi
    return rng.integers(lo, hi, shape, endpoint=True).astype(dtype)


PAIRS = [(np.int8, np.int8), (np.int8, np.uint8), (np.uint8, np.int8), (np.uint8, np.uint8),
         (np.int8, np.int16), (np.uint8, np.int16),
         (np.int16, np.int16), (np.int16, np.int8), (np.int16, np.int32), (np.int32, np.int8),
         (np.int32, np.int16)]


@pytest.mark.parametrize("src, dst", PAIRS, ids=lambda t: np.dtype(t).name)
@settings(max_examples=examples(50), deadline=None)
@given(data=st.data())
def test_requantize(src, dst, data):
    rng = np.random.default_rng(data.draw(st.integers(0, 2 ** 32 - 1), label="seed"))
    shape = tuple(data.draw(st.lists(st.integers(1, 6), min_size=0, max_size=4), label="shape"))
    in_q, out_q = draw_quant(data.draw, src, "in"), draw_quant(data.draw, dst, "out")
    if data.draw(st.booleans(), label="same scale"):
        out_q = (in_q[0], out_q[1])
    hi = 1 << 20 if src == np.int32 else None   # keep int32 inputs where x - zp cannot wrap
    x = random_values(rng, src, shape, None if hi is None else -hi, hi)
    check_op("QUANTIZE", [In(x, quantization=in_q)], [(dst, out_q)], version=data.draw(st.integers(1, 6)))


@pytest.mark.parametrize("src, dst, in_zp, out_zp", [(np.int8, np.uint8, -128, 0), (np.uint8, np.int8, 128, 0),
                                                     (np.int8, np.uint8, 5, 133), (np.uint8, np.int8, 200, 72)])
def test_int8_uint8_zero_point_shift(src, dst, in_zp, out_zp):
    # Same scale, zero points 128 apart: LiteRT's fast path flips the sign bit (x ^ 0x80).
    x = np.arange(np.iinfo(src).min, np.iinfo(src).max + 1).astype(src).reshape(16, 16)
    out = check_op("QUANTIZE", [In(x, quantization=(0.37, in_zp))], [(dst, (0.37, out_zp))])
    np.testing.assert_array_equal(out[0].view(np.uint8), x.view(np.uint8) ^ 0x80)


@pytest.mark.parametrize("src, dst", [(np.int8, np.int32), (np.int16, np.uint8), (np.int32, np.int32)])
def test_unsupported_pairs_refused(src, dst):
    x = np.zeros((2, 3), src)
    assert_both_refuse("QUANTIZE", [In(x, quantization=(0.1, 0))], [(dst, (0.1, 0))])


def test_int16_needs_zero_point_0():
    x = np.zeros((4,), np.int16)
    assert_both_refuse("QUANTIZE", [In(x, quantization=(0.1, 3))], [(np.int16, (0.2, 0))])
