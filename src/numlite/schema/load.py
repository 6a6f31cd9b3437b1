"""Load a .tflite file or buffer into the model IR, validating everything before use.

The checks follow LiteRT's ``InterpreterBuilder``: what LiteRT refuses to load, numlite refuses
with a :class:`numlite.ModelError` naming the table and field at fault, and what LiteRT accepts
(a constant buffer longer than its tensor needs, a sparse constant holding only its non-zero
values) numlite accepts too. A few inconsistencies LiteRT only trips over later (a signature
naming a tensor that does not exist, an operator writing into a constant) are refused here.

Checks that apply to any IR, not just to a file (index ranges, operands, quantization sizes,
signatures), are the ``check_*`` functions of :mod:`numlite.ir` that :func:`numlite.ir.validate`
runs too; the rest here concern the file itself.
"""
import mmap
import os

import numpy as np

from ..errors import ModelError
from ..ir import (Model, Operator, Quantization, Signature, Subgraph, Tensor, check_has_subgraph, check_index,
                  check_operator_operands, check_quantization, check_shape, check_signature_subgraph,
                  check_signature_tensor, check_subgraph_io, dtype_of, operator_label)
from ._tables import UNIONS
from .codecs import check_sparsity, decode_constant
from .enums import BUILTIN_OPERATOR_NAME, TENSOR_TYPE_NAME
from .reader import ByteRef, read_model_table

SCHEMA_VERSION = 3


def load_model(model_path=None, model_content=None):
    """Return a validated :class:`numlite.ir.Model` from a path (memory-mapped) or bytes."""
    if model_path is not None:
        try:
            with open(os.fspath(model_path), "rb") as f:
                size = os.fstat(f.fileno()).st_size
                if size == 0:
                    raise ModelError("Could not open '%s': the model file is empty" % (model_path,))
                buf = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
        except OSError as e:
            raise ValueError("Could not open '%s': %s" % (model_path, e.strerror or e)) from None
    else:
        if isinstance(model_content, memoryview):
            model_content = model_content.tobytes()
        if not isinstance(model_content, (bytes, bytearray)):
            raise TypeError("model_content must be bytes, got %s" % type(model_content).__name__)
        # bytes(bytes) is the same object (zero-copy); a bytearray is copied so that later edits
        # by the caller cannot change constants under a running interpreter.
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
        if t["version"] != SCHEMA_VERSION:
            raise ModelError("Model provided is schema version %d not equal to supported version %d"
                             % (t["version"], SCHEMA_VERSION))
        if t["buffers"] is None:
            raise ModelError("No buffers in the model")
        self.buffers = t["buffers"]
        self.opcodes = [self._opcode(i, oc) for i, oc in enumerate(t["operator_codes"] or [])]
        subgraphs = [self._subgraph(i, sg) for i, sg in enumerate(t["subgraphs"] or [])]
        m = Model(subgraphs=subgraphs, description=t["description"] or "", version=t["version"], source=self.buf)
        check_has_subgraph(m)
        for md in t["metadata"] or []:
            # LiteRT reads metadata from inline buffer data only and skips entries it cannot read.
            b = md["buffer"]
            if md["name"] is None or b >= len(self.buffers) or not isinstance(self.buffers[b]["data"], ByteRef):
                continue
            ref = self.buffers[b]["data"]
            m.metadata[md["name"]] = bytes(memoryview(self.buf)[ref.offset:ref.offset + ref.length])
        for i, sd in enumerate(t["signature_defs"] or []):
            if sd["signature_key"] is None:
                raise ModelError("signature_defs[%d]: missing signature_key" % i)
            sig = Signature(sd["signature_key"], sd["subgraph_index"], {}, {})
            check_signature_subgraph(sig, subgraphs, i)
            for direction, items, entries in (("input", sd["inputs"], sig.inputs),
                                              ("output", sd["outputs"], sig.outputs)):
                for tm in items or []:
                    if tm["name"] is None:  # LiteRT drops unnamed entries
                        continue
                    check_signature_tensor(sig, direction, tm["name"], tm["tensor_index"], subgraphs)
                    entries[tm["name"]] = tm["tensor_index"]
            m.signatures.append(sig)
        return m

    def _opcode(self, i, oc):
        # LiteRT takes the larger of the two codes: old files only set the deprecated int8 one,
        # new files put 127 (PLACEHOLDER_FOR_GREATER_OP_CODES) there.
        code = max(oc["deprecated_builtin_code"], oc["builtin_code"])
        name = BUILTIN_OPERATOR_NAME.get(code)
        if name is None:
            raise ModelError("operator_codes[%d]: builtin code %d out of range" % (i, code))
        if name == "CUSTOM":
            if oc["custom_code"] is None:
                raise ModelError("operator_codes[%d]: operator with CUSTOM builtin_code has no custom_code" % i)
            return ("CUSTOM", oc["custom_code"], oc["version"])
        return (name, None, oc["version"])

    def _buffer_bytes(self, b, what):
        """The bytes of buffer ``b`` as a memoryview, or None when the buffer holds no data.

        Inline data wins over an offset, as in LiteRT; an inline vector that is present but empty
        is a zero-byte constant, not "no data"."""
        buf = self.buffers[b]
        data, off, size = buf["data"], buf["offset"], buf["size"]
        if isinstance(data, ByteRef):
            return memoryview(self.buf)[data.offset:data.offset + data.length]
        if off > 1:  # data stored after the FlatBuffer (models over 2 GB)
            if off + size > self.size:
                raise ModelError("%s: constant buffer %d offset %d + size %d is beyond the %d-byte model"
                                 % (what, b, off, size, self.size))
            return memoryview(self.buf)[off:off + size]
        return None

    def _tensor(self, sgi, ti, t):
        what = "subgraph %d tensor %d (%r)" % (sgi, ti, t["name"])
        type_name = TENSOR_TYPE_NAME.get(t["type"])
        if type_name is None or dtype_of(type_name) is None:
            raise ModelError("%s: unsupported tensor type %d" % (what, t["type"]))
        shape = tuple(t["shape"] or ())
        check_shape(shape, type_name, what)
        sig = t["shape_signature"]
        sig = tuple(sig) if sig is not None else None
        b = t["buffer"]
        check_index(b, len(self.buffers), what + " buffer")
        raw = self._buffer_bytes(b, what) if b else None  # buffer 0 never holds data
        data, sparsity = None, None
        if raw is not None:
            if t["is_variable"]:
                raise ModelError("%s is a variable tensor with a buffer, which TFLite does not support" % what)
            if t["sparsity"] is not None:  # LiteRT parses sparsity for constants only
                sparsity = check_sparsity(t["sparsity"], what)
            data = decode_constant(raw, shape, type_name, sparsity is not None, what)
        q = self._quantization(t["quantization"], shape, what)
        return Tensor(name=t["name"] or "", shape=shape, type_name=type_name, data=data, quantization=q,
                      shape_signature=sig, is_variable=t["is_variable"], has_rank=t["has_rank"],
                      sparsity=sparsity, buffer=b)

    def _quantization(self, q, shape, what):
        """Affine (per-tensor or per-axis) or blockwise quantization, validated as LiteRT does.
        Parameters with neither scales nor blockwise details (e.g. min/max only) mean none."""
        if not q:
            return None
        details = q["details"]
        if q["details_type"] == UNION_CODES["BlockwiseQuantization"]:
            if not isinstance(details, dict):
                raise ModelError("%s: quantization has BlockwiseQuantization type but no details" % what)
            return Quantization(np.zeros(0, np.float32), np.zeros(0, np.int64), int(q["quantized_dimension"]),
                                details=dict(details, type="BlockwiseQuantization"))
        scale = q["scale"]
        if not scale:
            return None
        if q["zero_point"] is None:
            raise ModelError("%s: quantization parameters have a scale but no zero_point" % what)
        out = Quantization(np.asarray(scale, np.float32), np.asarray(q["zero_point"], np.int64),
                           q["quantized_dimension"],
                           np.asarray(q["min"], np.float32) if q["min"] else None,
                           np.asarray(q["max"], np.float32) if q["max"] else None,
                           # CustomQuantization: opaque bytes, kept for the writer
                           dict(details, type=UNIONS["QuantizationDetails"][q["details_type"]])
                           if isinstance(details, dict) else None)
        check_quantization(out, shape, what)
        return out

    def _subgraph(self, sgi, sg):
        if sg["tensors"] is None:
            raise ModelError("subgraph %d has no tensors vector" % sgi)
        tensors = [self._tensor(sgi, i, t) for i, t in enumerate(sg["tensors"])]
        ops = []
        for oi, o in enumerate(sg["operators"] or []):
            check_index(o["opcode_index"], len(self.opcodes), "subgraph %d operator %d opcode_index" % (sgi, oi))
            name, custom_code, version = self.opcodes[o["opcode_index"]]
            op = Operator(opcode=custom_code if name == "CUSTOM" else name, inputs=list(o["inputs"] or []),
                          outputs=list(o["outputs"] or []), version=version, custom=(name == "CUSTOM"),
                          intermediates=list(o["intermediates"] or []))
            where = operator_label(sgi, oi, op)
            for key, union in (("builtin_options", "BuiltinOptions"), ("builtin_options_2", "BuiltinOptions2")):
                val = o.get(key)
                if isinstance(val, tuple):
                    raise ModelError("%s: unknown options type %d" % (where, val[1]))
                if isinstance(val, dict):
                    op.options_type = UNIONS[union][o[key + "_type"]]
                    op.options.update(val)
            if isinstance(o["custom_options"], ByteRef):
                co = o["custom_options"]
                op.custom_options = bytes(memoryview(self.buf)[co.offset:co.offset + co.length])
            elif o["large_custom_options_offset"] > 1:
                off, size = o["large_custom_options_offset"], o["large_custom_options_size"]
                if off + size > self.size:
                    raise ModelError("%s: custom options offset is out of bounds" % where)
                op.custom_options = bytes(memoryview(self.buf)[off:off + size])
            check_operator_operands(tensors, op, sgi, oi)
            ops.append(op)
        out = Subgraph(tensors=tensors, inputs=list(sg["inputs"] or []), outputs=list(sg["outputs"] or []),
                       operators=ops, name=sg["name"] or "")
        check_subgraph_io(out, sgi)
        return out


UNION_CODES = {name: code for code, name in UNIONS["QuantizationDetails"].items()}
