"""The model IR shared by the reader, writer, runtime and tools.

Model → subgraphs → tensors and operators, plus signatures and metadata. Constant tensor data
is a read-only NumPy array (a view into the model file when it was loaded from disk).
"""
from dataclasses import dataclass, field
from typing import Dict, List, Optional

import numpy as np

from .schema.enums import BUILTIN_OPERATOR, BUILTIN_OPERATOR_NAME, TENSOR_TYPE, TENSOR_TYPE_NAME

# TensorType name → NumPy dtype. STRING tensors hold object arrays of bytes; RESOURCE/VARIANT
# are opaque handles (represented as int64 ids).
DTYPES = {
    "FLOAT32": np.dtype(np.float32), "FLOAT16": np.dtype(np.float16), "FLOAT64": np.dtype(np.float64),
    "INT8": np.dtype(np.int8), "UINT8": np.dtype(np.uint8), "INT16": np.dtype(np.int16),
    "UINT16": np.dtype(np.uint16), "INT32": np.dtype(np.int32), "UINT32": np.dtype(np.uint32),
    "INT64": np.dtype(np.int64), "UINT64": np.dtype(np.uint64), "BOOL": np.dtype(np.bool_),
    "COMPLEX64": np.dtype(np.complex64), "COMPLEX128": np.dtype(np.complex128),
    "STRING": np.dtype(object), "RESOURCE": np.dtype(np.int64), "VARIANT": np.dtype(np.int64),
}
# Packed sub-byte types are stored packed in buffers; numlite unpacks them when read.
PACKED_TYPES = {"INT4": 4, "UINT4": 4, "INT2": 2}


def dtype_of(type_name):
    if type_name in DTYPES:
        return DTYPES[type_name]
    if type_name in ("INT4", "INT2"):
        return np.dtype(np.int8)
    if type_name == "UINT4":
        return np.dtype(np.uint8)
    return None


def type_name_of(dtype):
    dtype = np.dtype(dtype)
    for name, dt in DTYPES.items():
        if dt == dtype and name not in ("RESOURCE", "VARIANT"):
            return name
    raise ValueError("no TFLite tensor type for dtype %s" % dtype)


@dataclass
class Quantization:
    scale: np.ndarray                      # float32 [n]
    zero_point: np.ndarray                 # int64 [n]
    quantized_dimension: int = 0
    min: Optional[np.ndarray] = None
    max: Optional[np.ndarray] = None

    @property
    def per_channel(self):
        return self.scale.size > 1

    @classmethod
    def make(cls, scale, zero_point=0, quantized_dimension=0):
        scale = np.atleast_1d(np.asarray(scale, np.float32))
        zp = np.atleast_1d(np.asarray(zero_point, np.int64))
        if zp.size == 1 and scale.size > 1:
            zp = np.full(scale.shape, zp[0], np.int64)
        return cls(scale, zp, int(quantized_dimension))


@dataclass
class Tensor:
    name: str
    shape: tuple
    type_name: str = "FLOAT32"
    data: Optional[np.ndarray] = None           # constant value (read-only) or None
    quantization: Optional[Quantization] = None
    shape_signature: Optional[tuple] = None
    is_variable: bool = False
    has_rank: bool = False
    sparsity: Optional[dict] = None
    buffer: int = 0                              # buffer index in the source file (informational)

    @property
    def dtype(self):
        return dtype_of(self.type_name)

    @property
    def is_constant(self):
        return self.data is not None and not self.is_variable

    @property
    def signature(self):
        return self.shape_signature if self.shape_signature is not None else self.shape


@dataclass
class Operator:
    opcode: str                                  # builtin name ("CONV_2D") or custom code
    inputs: List[int]
    outputs: List[int]
    options: dict = field(default_factory=dict)
    version: int = 1
    custom: bool = False
    custom_options: Optional[bytes] = None
    intermediates: List[int] = field(default_factory=list)
    options_type: Optional[str] = None           # e.g. "Conv2DOptions"; None when absent

    @property
    def builtin_code(self):
        return None if self.custom else BUILTIN_OPERATOR[self.opcode]


@dataclass
class Subgraph:
    tensors: List[Tensor] = field(default_factory=list)
    inputs: List[int] = field(default_factory=list)
    outputs: List[int] = field(default_factory=list)
    operators: List[Operator] = field(default_factory=list)
    name: str = ""


@dataclass
class Signature:
    key: str
    subgraph_index: int
    inputs: Dict[str, int]                       # name → tensor index in that subgraph
    outputs: Dict[str, int]


@dataclass
class Model:
    subgraphs: List[Subgraph] = field(default_factory=list)
    signatures: List[Signature] = field(default_factory=list)
    metadata: Dict[str, bytes] = field(default_factory=dict)
    description: str = ""
    version: int = 3

    def op_histogram(self):
        hist = {}
        for sg in self.subgraphs:
            for op in sg.operators:
                hist[op.opcode] = hist.get(op.opcode, 0) + 1
        return hist


__all__ = ["Model", "Subgraph", "Tensor", "Operator", "Signature", "Quantization", "DTYPES",
           "dtype_of", "type_name_of", "BUILTIN_OPERATOR", "BUILTIN_OPERATOR_NAME", "TENSOR_TYPE",
           "TENSOR_TYPE_NAME"]
