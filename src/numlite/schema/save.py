"""Model IR → .tflite bytes.

With ``external_buffers=True`` constant data is not stored inside the FlatBuffer but appended
after it, each buffer recording its ``offset`` and ``size``: the layout LiteRT's converter uses
for models over the 2 GB FlatBuffer limit. Metadata stays inline because LiteRT reads metadata
from inline buffer data only.

Constant tensors whose data encode to identical bytes share one buffer.
"""
import numpy as np

from ..errors import ModelError
from ..ir import check_operator_code, check_variable_data
from ._tables import TABLES
from .enums import BUILTIN_OPERATOR, TENSOR_TYPE, options_table
from .codecs import encode_constant
from .writer import build, union_code

def _quant_dict(q):
    if q is None:
        return None
    d = {"quantized_dimension": int(q.quantized_dimension)}
    if np.size(q.scale):
        d["scale"] = np.asarray(q.scale, np.float32)
        d["zero_point"] = np.asarray(q.zero_point, np.int64)
    if q.min is not None:
        d["min"] = q.min
    if q.max is not None:
        d["max"] = q.max
    if q.details:
        d["details_type"] = union_code("QuantizationDetails", q.details["type"])
        d["details"] = q.details
    return d


# Appended buffers start on this boundary, as in LiteRT's converter.
_EXTERNAL_ALIGNMENT = 16


def model_to_bytes(model, external_buffers=False):
    """Serialise a :class:`numlite.ir.Model` to .tflite bytes (see the module docstring for
    ``external_buffers``)."""
    root, blobs = _model_table(model, external_buffers)
    if not blobs:
        return build("Model", root)
    # Offsets are uint64 fields, so their values do not change the FlatBuffer's layout: build once
    # with placeholders to learn its size, then again with the real offsets.
    for buf, _ in blobs:
        buf["offset"] = _EXTERNAL_ALIGNMENT
    size = len(build("Model", root))
    parts, end = [], size
    for buf, blob in blobs:
        start = -(-end // _EXTERNAL_ALIGNMENT) * _EXTERNAL_ALIGNMENT
        parts.append(b"\0" * (start - end) + blob)
        buf["offset"] = start
        end = start + len(blob)
    head = build("Model", root)
    assert len(head) == size, "FlatBuffer layout changed between passes"
    return head + b"".join(parts)


def _model_table(model, external_buffers):
    """The root Model table as nested dicts, plus the (buffer dict, bytes) pairs to append."""
    buffers = [{}]
    blobs = []
    # Constants with byte-identical data share one buffer, whatever their tensor or subgraph
    # (this also keeps the sharing of a file that was read).
    buffer_of = {}
    opcodes, opcode_index = [], {}
    subgraphs = []
    for sgi, sg in enumerate(model.subgraphs):
        tensors = []
        for ti, t in enumerate(sg.tensors):
            b = 0
            check_variable_data(t, sgi, ti)
            if t.data is not None:
                data = encode_constant(t.type_name, t.data)
                b = buffer_of.get(data)
                if b is None:
                    if external_buffers and data:
                        buffers.append({"size": len(data)})
                        blobs.append((buffers[-1], data))
                    else:
                        buffers.append({"data": np.frombuffer(data, np.uint8)})
                    b = buffer_of[data] = len(buffers) - 1
            td = {"shape": list(t.shape), "type": TENSOR_TYPE[t.type_name], "buffer": b, "name": t.name,
                  "quantization": _quant_dict(t.quantization), "is_variable": t.is_variable,
                  "has_rank": t.has_rank, "sparsity": t.sparsity}
            if t.shape_signature is not None:
                td["shape_signature"] = list(t.shape_signature)
            tensors.append(td)
        ops = []
        for oi, op in enumerate(sg.operators):
            check_operator_code(op, sgi, oi)
            key = ("CUSTOM" if op.custom else op.opcode, op.opcode if op.custom else None, op.version)
            if key not in opcode_index:
                code = BUILTIN_OPERATOR[key[0]]
                opcode_index[key] = len(opcodes)
                opcodes.append({"deprecated_builtin_code": min(code, 127), "builtin_code": code,
                                "custom_code": key[1], "version": op.version})
            od = {"opcode_index": opcode_index[key], "inputs": list(op.inputs), "outputs": list(op.outputs),
                  "intermediates": list(op.intermediates) or None}
            # An op read without an options table gets none back (LiteRT reads both as defaults).
            table = op.options_type or (options_table(op.opcode) if op.options and not op.custom else None)
            if table is not None:
                union = "BuiltinOptions"
                try:
                    code = union_code(union, table)
                except KeyError:
                    union = "BuiltinOptions2"
                    code = union_code(union, table)
                field = "builtin_options" if union == "BuiltinOptions" else "builtin_options_2"
                unknown = set(op.options) - {f[0] for f in TABLES[table]}
                if unknown:
                    raise ModelError("operator %s: unknown options %s for %s" % (op.opcode, sorted(unknown), table))
                od[field + "_type"] = code
                od[field] = dict(op.options)
                od[field + "_table"] = table
            if op.custom_options is not None:
                od["custom_options"] = np.frombuffer(bytes(op.custom_options), np.uint8)
            ops.append(od)
        subgraphs.append({"tensors": tensors, "inputs": list(sg.inputs), "outputs": list(sg.outputs),
                          "operators": ops, "name": sg.name or None})
    metadata = []
    for name, data in model.metadata.items():
        buffers.append({"data": np.frombuffer(bytes(data), np.uint8)})
        metadata.append({"name": name, "buffer": len(buffers) - 1})
    sigs = [{"signature_key": s.key, "subgraph_index": s.subgraph_index,
             "inputs": [{"name": n, "tensor_index": i} for n, i in s.inputs.items()],
             "outputs": [{"name": n, "tensor_index": i} for n, i in s.outputs.items()]}
            for s in model.signatures]
    root = {"version": model.version, "operator_codes": opcodes, "subgraphs": subgraphs,
            "description": model.description or None, "buffers": buffers,
            "metadata": metadata or None, "signature_defs": sigs or None}
    return root, blobs


def save_model(model, path, external_buffers=False):
    with open(path, "wb") as f:
        f.write(model_to_bytes(model, external_buffers=external_buffers))
