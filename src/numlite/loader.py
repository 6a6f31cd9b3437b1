"""Load a .tflite file or buffer into the model IR, validating everything before use."""
import mmap
import os

import numpy as np

from .errors import ModelError
from .ir import (BUILTIN_OPERATOR_NAME, PACKED_TYPES, TENSOR_TYPE_NAME, Model, Operator, Quantization,
                 Signature, Subgraph, Tensor, dtype_of)
from .schema.reader import ByteRef, read_model_table

_MAX_RANK = 16


def load_model(model_path=None, model_content=None):
    """Return a validated :class:`numlite.ir.Model` from a path (memory-mapped) or bytes."""
    if model_path is not None:
        try:
            with open(os.fspath(model_path), "rb") as f:
                size = os.fstat(f.fileno()).st_size
                if size == 0:
                    raise ModelError("model file %s is empty" % model_path)
                buf = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
        except OSError as e:
            raise ValueError("Could not open '%s': %s" % (model_path, e)) from None
    else:
        if isinstance(model_content, memoryview):
            model_content = model_content.tobytes()
        if not isinstance(model_content, (bytes, bytearray)):
            raise TypeError("model_content must be bytes, got %s" % type(model_content).__name__)
        buf = bytes(model_content)
    return model_from_buffer(buf)


def model_from_buffer(buf):
    table = read_model_table(buf)
    return _Converter(buf, table).model()


class _Converter:
    def __init__(self, buf, table):
        self.buf, self.t = buf, table
        self.size = len(buf)

    def model(self):
        t = self.t
        self.buffers = t["buffers"] or []
        self.opcodes = [self._opcode(i, oc) for i, oc in enumerate(t["operator_codes"] or [])]
        subgraphs = [self._subgraph(i, sg) for i, sg in enumerate(t["subgraphs"] or [])]
        if not subgraphs:
            raise ModelError("model has no subgraphs")
        m = Model(subgraphs=subgraphs, description=t["description"] or "", version=t["version"])
        m._source = self.buf  # keep the mmap alive for the constant views
        for i, md in enumerate(t["metadata"] or []):
            b = md["buffer"]
            self._check_index(b, len(self.buffers), "metadata[%d].buffer" % i)
            m.metadata[md["name"] or ""] = bytes(self._buffer_bytes(b, "metadata %r" % md["name"]))
        for i, sd in enumerate(t["signature_defs"] or []):
            sgi = sd["subgraph_index"]
            self._check_index(sgi, len(subgraphs), "signature_defs[%d].subgraph_index" % i)
            nt = len(subgraphs[sgi].tensors)

            def maps(items, what):
                out = {}
                for tm in items or []:
                    self._check_index(tm["tensor_index"], nt, "signature %r %s %r" % (sd["signature_key"], what, tm["name"]))
                    out[tm["name"] or ""] = tm["tensor_index"]
                return out
            m.signatures.append(Signature(sd["signature_key"] or "", sgi, maps(sd["inputs"], "input"),
                                          maps(sd["outputs"], "output")))
        return m

    @staticmethod
    def _check_index(i, n, what):
        if not 0 <= i < n:
            raise ModelError("%s: index %d out of range [0, %d)" % (what, i, n))

    def _opcode(self, i, oc):
        code = max(oc["deprecated_builtin_code"], oc["builtin_code"])
        name = BUILTIN_OPERATOR_NAME.get(code)
        if name is None:
            raise ModelError("operator_codes[%d]: unknown builtin code %d" % (i, code))
        if name == "CUSTOM":
            return ("CUSTOM", oc["custom_code"] or "", oc["version"])
        return (name, None, oc["version"])

    def _buffer_bytes(self, b, what):
        """The bytes of buffer ``b`` as a memoryview (empty when the buffer holds no data)."""
        buf = self.buffers[b]
        data, off, size = buf["data"], buf["offset"], buf["size"]
        if off > 1:  # data stored after the FlatBuffer (models over 2 GB)
            if off + size > self.size:
                raise ModelError("%s: buffer %d offset %d + size %d beyond the %d-byte file" % (what, b, off, size, self.size))
            return memoryview(self.buf)[off:off + size]
        if isinstance(data, ByteRef) and data.length:
            return memoryview(self.buf)[data.offset:data.offset + data.length]
        return memoryview(b"")

    def _tensor(self, sgi, ti, t):
        what = "subgraph %d tensor %d (%r)" % (sgi, ti, t["name"])
        type_name = TENSOR_TYPE_NAME.get(t["type"])
        if type_name is None or dtype_of(type_name) is None:
            raise ModelError("%s: unknown tensor type %d" % (what, t["type"]))
        shape = tuple(t["shape"] or ())
        if len(shape) > _MAX_RANK:
            raise ModelError("%s: rank %d exceeds %d" % (what, len(shape), _MAX_RANK))
        sig = t["shape_signature"]
        if sig is not None:
            sig = tuple(sig)
            if len(sig) != len(shape) or any(s < -1 for s in sig):
                raise ModelError("%s: shape_signature %s inconsistent with shape %s" % (what, sig, shape))
            shape = tuple(1 if d == -1 and s == -1 else d for d, s in zip(shape, sig))
        if any(d < 0 for d in shape):
            raise ModelError("%s: negative dimension in shape %s" % (what, shape))
        b = t["buffer"]
        self._check_index(b, len(self.buffers), what + " buffer")
        raw = self._buffer_bytes(b, what) if b else memoryview(b"")
        data = None
        if len(raw):
            data = self._decode_data(raw, shape, type_name, what)
        q = self._quantization(t["quantization"], shape, what)
        return Tensor(name=t["name"] or "", shape=shape, type_name=type_name, data=data, quantization=q,
                      shape_signature=sig, is_variable=t["is_variable"], has_rank=t["has_rank"],
                      sparsity=t["sparsity"], buffer=b)

    def _decode_data(self, raw, shape, type_name, what):
        n = int(np.prod(shape, dtype=np.int64)) if shape else 1
        if type_name == "STRING":
            return _decode_strings(raw, n, what)
        if type_name in PACKED_TYPES:
            bits = PACKED_TYPES[type_name]
            per = 8 // bits
            if len(raw) != (n + per - 1) // per:
                raise ModelError("%s: %s buffer has %d bytes, shape %s needs %d" % (what, type_name, len(raw), shape, (n + per - 1) // per))
            packed = np.frombuffer(raw, np.uint8)
            parts = [(packed >> (bits * k)) & ((1 << bits) - 1) for k in range(per)]
            vals = np.stack(parts, axis=-1).reshape(-1)[:n].astype(np.int16)
            if type_name != "UINT4":
                vals = np.where(vals >= 1 << (bits - 1), vals - (1 << bits), vals)
            arr = vals.astype(dtype_of(type_name)).reshape(shape)
            arr.flags.writeable = False
            return arr
        dt = dtype_of(type_name).newbyteorder("<")
        if len(raw) != n * dt.itemsize:
            raise ModelError("%s: buffer has %d bytes but shape %s of %s needs %d" % (what, len(raw), shape, type_name, n * dt.itemsize))
        arr = np.frombuffer(raw, dtype=dt, count=n).reshape(shape)
        if arr.flags.writeable:
            arr = arr.view()
            arr.flags.writeable = False
        return arr

    def _quantization(self, q, shape, what):
        if not q:
            return None
        scale, zp = q["scale"], q["zero_point"]
        if not scale:
            return None
        scale = np.asarray(scale, np.float32)
        zp = np.asarray(zp if zp else [0] * len(scale), np.int64)
        if zp.size != scale.size:
            raise ModelError("%s: quantization has %d scales but %d zero points" % (what, scale.size, zp.size))
        qd = q["quantized_dimension"]
        if scale.size > 1 and not (0 <= qd < len(shape) and shape[qd] == scale.size):
            raise ModelError("%s: %d per-channel scales do not match dimension %d of shape %s" % (what, scale.size, qd, shape))
        mn = np.asarray(q["min"], np.float32) if q["min"] else None
        mx = np.asarray(q["max"], np.float32) if q["max"] else None
        return Quantization(scale, zp, qd, mn, mx)

    def _subgraph(self, sgi, sg):
        tensors = [self._tensor(sgi, i, t) for i, t in enumerate(sg["tensors"] or [])]
        nt = len(tensors)

        def idx_list(lst, what, allow_optional):
            lst = list(lst or [])
            for i in lst:
                if not (allow_optional and i == -1):
                    self._check_index(i, nt, "subgraph %d %s" % (sgi, what))
            return lst
        ops = []
        for oi, o in enumerate(sg["operators"] or []):
            self._check_index(o["opcode_index"], len(self.opcodes), "subgraph %d operator %d opcode_index" % (sgi, oi))
            name, custom_code, version = self.opcodes[o["opcode_index"]]
            opts, opts_type = {}, None
            for key in ("builtin_options", "builtin_options_2"):
                val = o.get(key)
                if isinstance(val, tuple):
                    raise ModelError("subgraph %d operator %d (%s): unknown options type %d" % (sgi, oi, name, val[1]))
                if isinstance(val, dict):
                    from .schema import UNIONS
                    union = "BuiltinOptions" if key == "builtin_options" else "BuiltinOptions2"
                    opts_type = UNIONS[union][o[key + "_type"]]
                    opts.update(val)
            custom_options = None
            if isinstance(o["custom_options"], ByteRef):
                co = o["custom_options"]
                custom_options = bytes(memoryview(self.buf)[co.offset:co.offset + co.length])
            elif o["large_custom_options_offset"] > 1:
                off, size = o["large_custom_options_offset"], o["large_custom_options_size"]
                if off + size > self.size:
                    raise ModelError("subgraph %d operator %d: custom options beyond end of file" % (sgi, oi))
                custom_options = bytes(memoryview(self.buf)[off:off + size])
            op = Operator(opcode=custom_code if name == "CUSTOM" else name,
                          inputs=idx_list(o["inputs"], "operator %d inputs" % oi, True),
                          outputs=idx_list(o["outputs"], "operator %d outputs" % oi, False),
                          options=opts, version=version, custom=(name == "CUSTOM"),
                          custom_options=custom_options,
                          intermediates=idx_list(o["intermediates"], "operator %d intermediates" % oi, True),
                          options_type=opts_type)
            ops.append(op)
        return Subgraph(tensors=tensors, inputs=idx_list(sg["inputs"], "inputs", False),
                        outputs=idx_list(sg["outputs"], "outputs", False), operators=ops, name=sg["name"] or "")


def _decode_strings(raw, n, what):
    """TFLite string buffer: int32 count, int32 offsets[count + 1], then the bytes."""
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
    """Inverse of the string buffer decoding (used by the writer and string tensors)."""
    values = [v if isinstance(v, bytes) else str(v).encode() for v in np.asarray(values, dtype=object).reshape(-1)]
    header = 4 * (len(values) + 2)
    offs = [header]
    for v in values:
        offs.append(offs[-1] + len(v))
    return np.asarray([len(values)] + offs, "<i4").tobytes() + b"".join(values)
