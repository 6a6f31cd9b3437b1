"""TFLite FlatBuffers schema: layout tables, enums, a validated reader and a writer."""
from ._tables import ENUMS, TABLES, UNIONS

BUILTIN_OPERATOR = ENUMS["BuiltinOperator"]
BUILTIN_OPERATOR_NAME = {v: k for k, v in BUILTIN_OPERATOR.items()}
TENSOR_TYPE = ENUMS["TensorType"]
TENSOR_TYPE_NAME = {v: k for k, v in TENSOR_TYPE.items()}

__all__ = ["ENUMS", "TABLES", "UNIONS", "BUILTIN_OPERATOR", "BUILTIN_OPERATOR_NAME",
           "TENSOR_TYPE", "TENSOR_TYPE_NAME"]
