"""A validated, zero-copy FlatBuffers reader driven by the schema tables.

Every offset, length and index is bounds-checked before it is followed, so a truncated or
corrupted file raises :class:`numlite.ModelError` naming the table and field at fault. Large
byte vectors (``Buffer.data``, ``custom_options``) are returned as ``(offset, length)`` pairs
into the original buffer so that constant tensors stay views of the (memory-mapped) file.

The decoder also keeps a work budget: a hostile file can make many table references point at
the same large table or vector, which would make a naive decoder do work quadratic in the file
size. Each step is charged roughly what it costs (a table: one unit per schema field examined; a
scalar vector: one unit per 16 elements, as NumPy decodes it), and the budget grows linearly with
the file, so decoding time is bounded by the file's size whatever it contains.
"""
import struct

import numpy as np

from ..errors import ModelError
from ._tables import TABLES

_SCALAR = {
    "bool": ("<B", 1), "int8": ("<b", 1), "uint8": ("<B", 1), "int16": ("<h", 2),
    "uint16": ("<H", 2), "int32": ("<i", 4), "uint32": ("<I", 4), "int64": ("<q", 8),
    "uint64": ("<Q", 8), "float32": ("<f", 4), "float64": ("<d", 8),
}
_NP = {k: np.dtype(v[0]) for k, v in _SCALAR.items()}
# Byte vectors kept as (offset, length) references instead of being decoded.
_BYTE_REFS = {("Buffer", "data"), ("Operator", "custom_options"), ("Metadata", "data")}
_MAX_DEPTH = 32


class ByteRef(tuple):
    """(offset, length) of a byte vector inside the model buffer."""

    @property
    def offset(self):
        return self[0]

    @property
    def length(self):
        return self[1]


class FlatBufferReader:
    def __init__(self, buf):
        self.buf = buf
        self.view = memoryview(buf).cast("B") if not isinstance(buf, (bytes, bytearray)) else memoryview(buf)
        self.size = len(self.view)
        # Converter-made files need at most ~0.4 units per byte (measured over the test corpus)
        # and no sensible file much above one (all tables, each with few fields set); a unit
        # costs about a microsecond.
        self.budget = 2 * self.size + 20_000

    # -- primitives -------------------------------------------------------------------------
    def _need(self, pos, n, what):
        if pos < 0 or n < 0 or pos + n > self.size:
            raise ModelError("%s: offset %d (+%d bytes) is outside the %d-byte model" % (what, pos, n, self.size))

    def _spend(self, n, what):
        self.budget -= n
        if self.budget < 0:
            raise ModelError("%s: the model references far more data than it contains (shared or cyclic offsets)"
                             % what)

    def scalar(self, kind, pos, what):
        fmt, n = _SCALAR[kind]
        self._need(pos, n, what)
        return struct.unpack_from(fmt, self.view, pos)[0]

    def uoffset(self, pos, what):
        target = pos + self.scalar("uint32", pos, what)
        self._need(target, 4, what)
        return target

    # -- tables -----------------------------------------------------------------------------
    def root(self):
        if self.size < 8:
            raise ModelError("model is too small to be a FlatBuffer (%d bytes)" % self.size)
        return self.uoffset(0, "root table")

    def table(self, pos, name, depth=0):
        """Decode table ``name`` at ``pos`` into a dict of all present fields (defaults filled)."""
        if depth > _MAX_DEPTH:
            raise ModelError("%s: tables nested too deeply" % name)
        self._need(pos, 4, name)
        vtable = pos - self.scalar("int32", pos, name)
        self._need(vtable, 4, name + " vtable")
        vt_size = self.scalar("uint16", vtable, name + " vtable")
        obj_size = self.scalar("uint16", vtable + 2, name + " vtable")
        if vt_size < 4 or vt_size % 2:
            raise ModelError("%s: invalid vtable size %d" % (name, vt_size))
        self._need(vtable, vt_size, name + " vtable")
        self._need(pos, obj_size, name)
        n_slots = (vt_size - 4) // 2
        self._spend(len(TABLES[name]) + 1, name)
        out = {}
        for field, slot, kind, default in TABLES[name]:
            off = self.scalar("uint16", vtable + 4 + 2 * slot, name) if slot < n_slots else 0
            if off == 0:
                out[field] = default
                continue
            if off >= obj_size:
                raise ModelError("%s.%s: field offset %d beyond object size %d" % (name, field, off, obj_size))
            what = "%s.%s" % (name, field)
            fpos = pos + off
            if kind in _SCALAR:
                v = self.scalar(kind, fpos, what)
                out[field] = bool(v) if kind == "bool" else v
            elif kind == "string":
                out[field] = self.string(self.uoffset(fpos, what), what)
            elif kind.startswith("table:"):
                out[field] = self.table(self.uoffset(fpos, what), kind[6:], depth + 1)
            elif kind.startswith("union:"):
                out[field] = ("union", self.uoffset(fpos, what))  # resolved below with its type
            elif kind.startswith("["):
                out[field] = self.vector(self.uoffset(fpos, what), kind[1:-1], what, depth,
                                         as_ref=(name, field) in _BYTE_REFS)
            else:  # pragma: no cover - schema kinds are closed
                raise ModelError("%s: unknown field kind %s" % (what, kind))
        for field, _, kind, _ in TABLES[name]:
            if kind.startswith("union:") and isinstance(out.get(field), tuple):
                from ._tables import UNIONS
                type_code = out.get(field + "_type", 0)
                member = UNIONS[kind[6:]].get(type_code)
                if member is None:
                    out[field] = None if type_code == 0 else ("unknown-union", type_code)
                else:
                    out[field] = self.table(out[field][1], member, depth + 1)
        return out

    def string(self, pos, what):
        n = self.scalar("uint32", pos, what)
        self._need(pos + 4, n, what)
        self._spend(n // 16 + 1, what)
        # LiteRT treats names as opaque bytes, so a stray non-UTF-8 byte must not make a model
        # unloadable; it shows up as U+FFFD.
        return bytes(self.view[pos + 4:pos + 4 + n]).decode("utf-8", errors="replace")

    def vector(self, pos, elem, what, depth, as_ref=False):
        n = self.scalar("uint32", pos, what)
        start = pos + 4
        if elem in _SCALAR:
            width = _SCALAR[elem][1]
            self._need(start, n * width, what)
            if as_ref:
                self._spend(1, what)
                return ByteRef((start, n))
            self._spend(n // 16 + 1, what)
            arr = np.frombuffer(self.view, dtype=_NP[elem], count=n, offset=start)
            return arr.astype(bool) if elem == "bool" else arr.tolist()
        self._need(start, 4 * n, what)
        self._spend(n + 1, what)
        if elem == "string":
            return [self.string(self.uoffset(start + 4 * i, what), what) for i in range(n)]
        tname = elem[6:]
        return [self.table(self.uoffset(start + 4 * i, what), tname, depth + 1) for i in range(n)]


def read_model_table(buf):
    """Decode the root ``Model`` table of a .tflite buffer (raises ModelError on corruption)."""
    r = FlatBufferReader(buf)
    if r.size >= 8 and bytes(r.view[4:8]) not in (b"TFL3",):
        raise ModelError("not a TFLite model: file identifier is %r, expected b'TFL3'" % bytes(r.view[4:8]))
    return r.table(r.root(), "Model")
