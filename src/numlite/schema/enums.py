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
