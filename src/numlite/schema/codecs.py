"""Constant buffer encodings of the .tflite format, decoding and encoding side by side.

A constant tensor's buffer holds its elements in C order as:

- numeric types (float16/32/64, integers, bool, complex): little-endian scalars, whatever the
  host byte order;
- INT4, UINT4, INT2: packed, ``8 // bits`` elements a byte, element k of a byte in bits
  ``[k*bits, (k+1)*bits)`` (the low bits come first); the IR holds one int8 (uint8 for UINT4)
  value per element;
- STRING: int32 count, int32 offsets[count + 1] measured from the buffer start, then the bytes;
- sparse constants: only their stored values, 1-D; the tensor's SparsityParameters (traversal
  order, block map, per-dimension DENSE / SPARSE_CSR metadata) say where they go, and the DENSIFY
  op expands them.

Decoders validate what they read and raise :class:`numlite.ModelError` naming ``what`` (the
tensor); encoders assume an IR that :func:`numlite.ir.validate` accepts.
"""
import math
import sys

import numpy as np

from ..errors import ModelError
from ..ir import PACKED_TYPES, dtype_of

_LITTLE_ENDIAN_HOST = sys.byteorder == "little"
_DENSE, _SPARSE_CSR = 0, 1      # DimensionType


# -- numeric scalars -----------------------------------------------------------------------------
def decode_scalars(raw, dtype, count):
    """``count`` little-endian elements of ``dtype`` from the bytes ``raw``, as a read-only 1-D
    array (a view of ``raw`` on a little-endian host)."""
    if _LITTLE_ENDIAN_HOST:
        arr = np.frombuffer(raw, dtype=dtype, count=count)
    else:
        arr = np.frombuffer(raw, dtype=dtype.newbyteorder("<"), count=count).astype(dtype)
    if arr.flags.writeable:
        arr = arr.view()
        arr.flags.writeable = False
    return arr


def encode_scalars(data, dtype):
    """The little-endian bytes of ``data`` as ``dtype``, in C order."""
    return np.ascontiguousarray(data, dtype=np.dtype(dtype).newbyteorder("<")).tobytes()


# -- packed sub-byte integers --------------------------------------------------------------------
def unpack_bits(raw, count, bits, signed):
    """The first ``count`` ``bits``-wide elements packed in the bytes ``raw`` (int16 values,
    sign-extended when ``signed``)."""
    per = 8 // bits
    packed = np.frombuffer(raw, np.uint8, (count + per - 1) // per)
    parts = [(packed >> (bits * k)) & ((1 << bits) - 1) for k in range(per)]
    vals = np.stack(parts, axis=-1).reshape(-1)[:count].astype(np.int16)
    if signed:
        vals = np.where(vals >= 1 << (bits - 1), vals - (1 << bits), vals)
    return vals


def pack_bits(values, bits):
    """Pack integer ``values`` (their low ``bits`` bits) ``8 // bits`` to a byte; the last byte
    is padded with zero bits."""
    per = 8 // bits
    vals = (np.asarray(values).astype(np.int16).reshape(-1) & ((1 << bits) - 1)).astype(np.uint8)
    pad = (-vals.size) % per
    vals = np.concatenate([vals, np.zeros(pad, np.uint8)]).reshape(-1, per)
    packed = np.zeros(vals.shape[0], np.uint8)
    for k in range(per):
        packed |= vals[:, k] << (bits * k)
    return packed.tobytes()


# -- strings -------------------------------------------------------------------------------------
def decode_strings(raw, n, what):
    """A TFLite string buffer holding exactly ``n`` strings → 1-D object array of bytes."""
    raw = bytes(raw)
    if len(raw) < 4:
        raise ModelError("%s: string buffer too short" % what)
    count = int(np.frombuffer(raw, "<i4", 1)[0])
    if count != n or 4 * (count + 2) > len(raw):
        raise ModelError("%s: string buffer holds %d strings, shape needs %d" % (what, count, n))
    offs = np.frombuffer(raw, "<i4", count + 1, 4)
    if np.any(np.diff(offs) < 0) or offs[0] < 4 * (count + 2) or offs[-1] > len(raw):
        raise ModelError("%s: string buffer offsets are inconsistent" % what)
    out = np.empty(count, dtype=object)
    for i in range(count):
        out[i] = raw[offs[i]:offs[i + 1]]
    return out


def encode_strings(values):
    """Inverse of :func:`decode_strings` (``str`` values are written as UTF-8)."""
    values = [v if isinstance(v, bytes) else str(v).encode() for v in np.asarray(values, dtype=object).reshape(-1)]
    header = 4 * (len(values) + 2)
    offs = [header]
    for v in values:
        offs.append(offs[-1] + len(v))
    return np.asarray([len(values)] + offs, "<i4").tobytes() + b"".join(values)


# -- sparsity metadata ---------------------------------------------------------------------------
def check_sparsity(sp, what):
    """Validate SparsityParameters (as the FlatBuffer reader returns them) as LiteRT's
    ParseSparsity does; return them unchanged. The writer stores them as they are."""
    if sp["traversal_order"] is None or sp["dim_metadata"] is None:
        raise ModelError("%s: invalid sparsity parameters (traversal_order and dim_metadata are required)" % what)
    for i, dm in enumerate(sp["dim_metadata"]):
        if dm["format"] == _SPARSE_CSR:
            for field in ("array_segments", "array_indices"):
                vec = dm[field]
                if not isinstance(vec, dict) or vec.get("values") is None:
                    raise ModelError("%s: sparse dimension %d has no valid %s" % (what, i, field))
        elif dm["format"] != _DENSE:
            raise ModelError("%s: dimension %d has unknown sparse format %d" % (what, i, dm["format"]))
    return sp


# -- whole constants -----------------------------------------------------------------------------
def decode_constant(raw, shape, type_name, sparse, what):
    """Constant data of a tensor of ``shape`` and ``type_name`` from its buffer bytes, as a
    read-only array. A buffer longer than the tensor needs is accepted (as LiteRT does). A sparse
    constant holds only its stored values (1-D, as LiteRT's get_tensor returns them): their count
    follows from the buffer size."""
    n = math.prod(shape)
    if type_name == "STRING":
        arr = decode_strings(raw, n, what).reshape(shape)
        arr.flags.writeable = False
        return arr
    if type_name in PACKED_TYPES:
        bits = PACKED_TYPES[type_name]
        per = 8 // bits
        need = (n + per - 1) // per
        if sparse:
            need, n = len(raw), len(raw) * per
        if len(raw) < need:
            raise ModelError("%s: %s buffer has %d bytes, shape %s needs %d"
                             % (what, type_name, len(raw), shape, need))
        arr = unpack_bits(raw[:need], n, bits, signed=type_name != "UINT4").astype(dtype_of(type_name))
        arr = arr if sparse else arr.reshape(shape)
        arr.flags.writeable = False
        return arr
    dt = dtype_of(type_name)
    if sparse:
        count = len(raw) // dt.itemsize
    else:
        count = n
        if len(raw) < n * dt.itemsize:
            raise ModelError("%s: buffer has %d bytes but shape %s of %s needs %d"
                             % (what, len(raw), shape, type_name, n * dt.itemsize))
    arr = decode_scalars(raw, dt, count)
    return arr if sparse else arr.reshape(shape)


def encode_constant(type_name, data):
    """The buffer bytes of constant ``data`` of a tensor of type ``type_name``."""
    if type_name == "STRING":
        return encode_strings(data)
    if type_name in PACKED_TYPES:
        return pack_bits(data, PACKED_TYPES[type_name])
    return encode_scalars(data, dtype_of(type_name))
