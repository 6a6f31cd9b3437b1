"""Schema enums as plain int constants, for kernels (names as in the schema)."""
from ._tables import ENUMS


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
