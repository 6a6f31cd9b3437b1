"""Schema enums: name ↔ code tables for operators and tensor types (used by the IR and the
loader/writer), and enums as plain int constants for kernels (names as in the schema).

Depends only on the generated tables, so the IR can use the op vocabulary without depending on
the byte format's reader or writer.
"""
from ._tables import ENUMS

BUILTIN_OPERATOR = ENUMS["BuiltinOperator"]                     # "CONV_2D" → 3
BUILTIN_OPERATOR_NAME = {v: k for k, v in BUILTIN_OPERATOR.items()}
TENSOR_TYPE = ENUMS["TensorType"]                               # "FLOAT32" → 0
TENSOR_TYPE_NAME = {v: k for k, v in TENSOR_TYPE.items()}


class _Enum:
    def __init__(self, name):
        self._name = name
        self._members = ENUMS[name]
        self._names = {v: k for k, v in self._members.items()}
        for k, v in self._members.items():
            setattr(self, k, v)

    def name(self, value):
        return self._names.get(value, "UNKNOWN(%s)" % value)

    def __contains__(self, value):
        return value in self._names

    def __repr__(self):
        return "<enum %s>" % self._name


Padding = _Enum("Padding")
ActivationFunctionType = _Enum("ActivationFunctionType")
MirrorPadMode = _Enum("MirrorPadMode")
TensorType = _Enum("TensorType")
BuiltinOperator = _Enum("BuiltinOperator")
FullyConnectedOptionsWeightsFormat = _Enum("FullyConnectedOptionsWeightsFormat")


# Builtin operators whose options table is not named after them (the schema pairs them by
# convention only; LiteRT's flatbuffer_conversions.cc spells the same pairs out).
_OPTIONS_OF = {
    "AVERAGE_POOL_2D": "Pool2DOptions", "MAX_POOL_2D": "Pool2DOptions", "L2_POOL_2D": "Pool2DOptions",
    "MEAN": "ReducerOptions", "SUM": "ReducerOptions", "REDUCE_MAX": "ReducerOptions",
    "REDUCE_MIN": "ReducerOptions", "REDUCE_PROD": "ReducerOptions", "REDUCE_ANY": "ReducerOptions",
    "REDUCE_ALL": "ReducerOptions", "MAXIMUM": "MaximumMinimumOptions", "MINIMUM": "MaximumMinimumOptions",
    "UNIDIRECTIONAL_SEQUENCE_RNN": "SequenceRNNOptions", "L2_NORMALIZATION": "L2NormOptions",
    "CONV_3D_TRANSPOSE": "Conv3DOptions", "LSTM": "LSTMOptions",
}


def _build_options_index():
    from ._tables import TABLES
    norm = {t[:-len("Options")].replace("_", "").lower(): t for t in TABLES if t.endswith("Options")}
    index = {}
    for name in ENUMS["BuiltinOperator"]:
        table = _OPTIONS_OF.get(name) or norm.get(name.replace("_", "").lower())
        if table is not None:
            index[name] = table
    return index


_OPTIONS_INDEX = _build_options_index()


def options_table(opcode):
    """The schema's options table of a builtin operator (None: the op takes no options); the
    reader, the writer and the kernels' typed options all use this one pairing."""
    return _OPTIONS_INDEX.get(opcode)
