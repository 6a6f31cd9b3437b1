"""A tiny .tflite writer for hand-made (and deliberately broken) models, independent of numlite.

Models are nested dicts named like the fields of LiteRT's schema (tensorflow/compiler/mlir/lite/
schema/schema.fbs); a field that is absent or None is not written, and any value given is written
as is, even the schema default, so a test controls every field the reader sees. Only the tables
the loader tests need are described. Union fields take ``(table name, dict)``; their ``*_type``
field is an ordinary field set by the caller. ``Repeat(table, n)`` writes a vector of ``n``
references to one table.
"""
import struct

import flatbuffers
import numpy as np

# table -> [(field, slot, kind)]; slots and kinds from schema.fbs (deprecated fields keep their slot).
SCHEMA = {
    "Model": [("version", 0, "uint32"), ("operator_codes", 1, "[OperatorCode]"), ("subgraphs", 2, "[SubGraph]"),
              ("description", 3, "string"), ("buffers", 4, "[Buffer]"), ("metadata_buffer", 5, "[int32]"),
              ("metadata", 6, "[Metadata]"), ("signature_defs", 7, "[SignatureDef]")],
    "OperatorCode": [("deprecated_builtin_code", 0, "int8"), ("custom_code", 1, "string"), ("version", 2, "int32"),
                     ("builtin_code", 3, "int32")],
    "SubGraph": [("tensors", 0, "[Tensor]"), ("inputs", 1, "[int32]"), ("outputs", 2, "[int32]"),
                 ("operators", 3, "[Operator]"), ("name", 4, "string")],
    "Tensor": [("shape", 0, "[int32]"), ("type", 1, "int8"), ("buffer", 2, "uint32"), ("name", 3, "string"),
               ("quantization", 4, "QuantizationParameters"), ("is_variable", 5, "bool"),
               ("sparsity", 6, "SparsityParameters"), ("shape_signature", 7, "[int32]"), ("has_rank", 8, "bool")],
    "QuantizationParameters": [("min", 0, "[float32]"), ("max", 1, "[float32]"), ("scale", 2, "[float32]"),
                               ("zero_point", 3, "[int64]"), ("details_type", 4, "uint8"), ("details", 5, "union"),
                               ("quantized_dimension", 6, "int32")],
    "Operator": [("opcode_index", 0, "uint32"), ("inputs", 1, "[int32]"), ("outputs", 2, "[int32]"),
                 ("builtin_options_type", 3, "uint8"), ("builtin_options", 4, "union"),
                 ("custom_options", 5, "[uint8]"), ("custom_options_format", 6, "int8"),
                 ("mutating_variable_inputs", 7, "[bool]"), ("intermediates", 8, "[int32]"),
                 ("large_custom_options_offset", 9, "uint64"), ("large_custom_options_size", 10, "uint64"),
                 ("builtin_options_2_type", 11, "uint8"), ("builtin_options_2", 12, "union")],
    "Buffer": [("data", 0, "[uint8]"), ("offset", 1, "uint64"), ("size", 2, "uint64")],
    "Metadata": [("name", 0, "string"), ("buffer", 1, "uint32")],
    "SignatureDef": [("inputs", 0, "[TensorMap]"), ("outputs", 1, "[TensorMap]"), ("signature_key", 2, "string"),
                     ("subgraph_index", 4, "uint32")],
    "TensorMap": [("name", 0, "string"), ("tensor_index", 1, "uint32")],
    "SparsityParameters": [("traversal_order", 0, "[int32]"), ("block_map", 1, "[int32]"),
                           ("dim_metadata", 2, "[DimensionMetadata]")],
    "DimensionMetadata": [("format", 0, "int8"), ("dense_size", 1, "int32"), ("array_segments_type", 2, "uint8"),
                          ("array_segments", 3, "union"), ("array_indices_type", 4, "uint8"),
                          ("array_indices", 5, "union")],
    "Int32Vector": [("values", 0, "[int32]")],
    "AddOptions": [("fused_activation_function", 0, "int8"), ("pot_scale_int_16", 1, "bool")],
}
_SCALARS = {"bool": ("Bool", "<?"), "int8": ("Int8", "<b"), "uint8": ("Uint8", "<B"), "int32": ("Int32", "<i"),
            "uint32": ("Uint32", "<I"), "int64": ("Int64", "<q"), "uint64": ("Uint64", "<Q"),
            "float32": ("Float32", "<f")}

# Schema enum values the tests use.
ADD, CUSTOM = 0, 32                                            # BuiltinOperator
FLOAT32, INT32, STRING, INT8, INT4 = 0, 2, 5, 9, 17            # TensorType
ADD_OPTIONS = 11                                               # BuiltinOptions
BLOCKWISE_QUANTIZATION = 2                                     # QuantizationDetails
INT32_VECTOR = 1                                               # SparseIndexVector
DENSE, SPARSE_CSR = 0, 1                                       # DimensionType


class Repeat:
    """A table vector holding ``n`` references to the same table."""

    def __init__(self, table, n):
        self.table, self.n = table, n


def _scalar_vector(b, kind, values):
    raw = np.asarray(values, _SCALARS[kind][1]).reshape(-1)
    width = raw.dtype.itemsize
    b.StartVector(width, raw.size, max(width, 4) if kind != "uint8" else 16)
    for v in reversed(raw.tolist()):
        getattr(b, "Prepend" + _SCALARS[kind][0])(v)
    return b.EndVector()


def _offsets_vector(b, offsets):
    b.StartVector(4, len(offsets), 4)
    for o in reversed(offsets):
        b.PrependUOffsetTRelative(o)
    return b.EndVector()


def _table(b, name, fields):
    unknown = set(fields) - {f for f, _, _ in SCHEMA[name]}
    assert not unknown, "%s has no fields %s" % (name, sorted(unknown))
    refs = {}
    for field, _, kind in SCHEMA[name]:
        v = fields.get(field)
        if v is None or kind in _SCALARS:
            continue
        if kind == "string":
            refs[field] = b.CreateString(v)
        elif kind == "union":
            refs[field] = _table(b, v[0], v[1])
        elif kind.startswith("["):
            elem = kind[1:-1]
            if elem in _SCALARS:
                if isinstance(v, (bytes, bytearray)):
                    v = np.frombuffer(bytes(v), np.uint8)
                refs[field] = _scalar_vector(b, elem, v)
            elif isinstance(v, Repeat):
                refs[field] = _offsets_vector(b, [_table(b, elem, v.table)] * v.n)
            else:
                refs[field] = _offsets_vector(b, [_table(b, elem, t) for t in v])
        else:
            refs[field] = _table(b, kind, v)
    b.StartObject(max(slot for _, slot, _ in SCHEMA[name]) + 1)
    for field, slot, kind in SCHEMA[name]:
        v = fields.get(field)
        if v is None:
            continue
        if field in refs:
            b.PrependUOffsetTRelativeSlot(slot, refs[field], 0)
        else:
            getattr(b, "Prepend%sSlot" % _SCALARS[kind][0])(slot, v, 0)
    return b.EndObject()


def model_bytes(model):
    """Serialise a Model dict as a .tflite file (file identifier TFL3)."""
    b = flatbuffers.Builder(1024)
    b.ForceDefaults(True)
    b.Finish(_table(b, "Model", model), file_identifier=b"TFL3")
    return bytes(b.Output())


def root_table(data):
    """(table position, vtable position) of the root Model table."""
    pos = struct.unpack_from("<I", data, 0)[0]
    return pos, pos - struct.unpack_from("<i", data, pos)[0]


def f32_bytes(values):
    return np.asarray(values, "<f4").tobytes()


def add_model():
    """A valid model: y = x + c, float32 [2], c = [1.5, -2] (buffer 1); buffer 0 is the empty one."""
    return {
        "version": 3,
        "operator_codes": [{"deprecated_builtin_code": ADD, "builtin_code": ADD, "version": 1}],
        "subgraphs": [{
            "tensors": [{"shape": [2], "type": FLOAT32, "buffer": 0, "name": "x"},
                        {"shape": [2], "type": FLOAT32, "buffer": 1, "name": "c"},
                        {"shape": [2], "type": FLOAT32, "buffer": 0, "name": "y"}],
            "inputs": [0], "outputs": [2],
            "operators": [{"opcode_index": 0, "inputs": [0, 1], "outputs": [2], "builtin_options_type": ADD_OPTIONS,
                           "builtin_options": ("AddOptions", {"fused_activation_function": 0})}],
            "name": "main"}],
        "buffers": [{}, {"data": f32_bytes([1.5, -2.0])}],
    }
