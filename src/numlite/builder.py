"""Build models op by op (used by the tests and tools to make single-op models).

    b = ModelBuilder()
    x = b.input("x", (1, 8, 8, 3))
    w = b.const("w", np.ones((4, 3, 3, 3), np.float32))
    y = b.tensor("y", (1, 8, 8, 4))
    b.op("CONV_2D", [x, w, -1], [y], padding="SAME", stride_w=1, stride_h=1)
    b.output(y)
    data = b.to_bytes()

Enum-valued options accept names ("SAME", "RELU6", "FLOAT32").
"""
import numpy as np

from .ir import Model, Operator, Quantization, Signature, Subgraph, Tensor, is_builtin, type_name_of
from .schema.enums import ActivationFunctionType, MirrorPadMode, Padding, TensorType
from .schema import model_to_bytes

_ENUM_FIELDS = {
    "padding": Padding, "fused_activation_function": ActivationFunctionType, "mode": MirrorPadMode,
    "in_data_type": TensorType, "out_data_type": TensorType, "output_type": TensorType,
    "idx_out_type": TensorType, "out_type": TensorType,
}


def _type_name(dtype_or_name):
    if isinstance(dtype_or_name, str) and dtype_or_name.isupper():
        return dtype_or_name
    return type_name_of(dtype_or_name)


def _quant(q):
    if q is None or isinstance(q, Quantization):
        return q
    if isinstance(q, dict):
        return Quantization.make(q.get("scale"), q.get("zero_point", 0), q.get("quantized_dimension", 0))
    scale, zp = q[:2]
    return Quantization.make(scale, zp, q[2] if len(q) > 2 else 0)


class SubgraphBuilder:
    def __init__(self, model_builder, name=""):
        self.mb = model_builder
        self.sg = Subgraph(name=name)

    def tensor(self, name, shape, dtype="FLOAT32", quantization=None, shape_signature=None, is_variable=False,
               data=None):
        """Add a tensor; ``quantization`` may be (scale, zero_point[, quantized_dimension])."""
        t = Tensor(name=name, shape=tuple(int(d) for d in shape), type_name=_type_name(dtype),
                   quantization=_quant(quantization), is_variable=is_variable,
                   shape_signature=None if shape_signature is None else tuple(shape_signature))
        if data is not None:
            t.data = np.asarray(data, dtype=t.dtype) if t.type_name != "STRING" else np.asarray(data, dtype=object)
        self.sg.tensors.append(t)
        return len(self.sg.tensors) - 1

    def const(self, name, value, dtype=None, quantization=None):
        value = np.asarray(value) if dtype is None else np.asarray(value, dtype=np.dtype(dtype) if not isinstance(dtype, str) or not dtype.isupper() else None)
        tname = _type_name(dtype) if dtype is not None else _type_name(value.dtype)
        return self.tensor(name, value.shape, tname, quantization, data=value)

    def input(self, name, shape, dtype="FLOAT32", quantization=None, shape_signature=None):
        i = self.tensor(name, shape, dtype, quantization, shape_signature)
        self.sg.inputs.append(i)
        return i

    def output(self, *indices):
        self.sg.outputs.extend(indices)

    def op(self, opcode, inputs, outputs, version=1, custom_options=None, options_type=None, intermediates=(),
           custom=False, **options):
        """Add an operator; return its index. ``opcode`` is a builtin if it names a
        BuiltinOperator and a custom code otherwise; ``custom=True`` makes a custom op of any
        code, a builtin's name included (custom codes are a namespace of their own)."""
        opts = {k: (_ENUM_FIELDS[k]._members[v] if k in _ENUM_FIELDS and isinstance(v, str) else v)
                for k, v in options.items()}
        custom = bool(custom) or not is_builtin(opcode)
        self.sg.operators.append(Operator(opcode=opcode, inputs=list(inputs), outputs=list(outputs), options=opts,
                                          version=version, custom=custom, custom_options=custom_options,
                                          options_type=options_type, intermediates=list(intermediates)))
        return len(self.sg.operators) - 1


class ModelBuilder(SubgraphBuilder):
    """Builds subgraph 0 directly; ``subgraph()`` adds more."""

    def __init__(self, description="numlite builder"):
        self.model = Model(description=description)
        super().__init__(self)
        self.model.subgraphs.append(self.sg)

    def subgraph(self, name=""):
        sb = SubgraphBuilder(self, name)
        self.model.subgraphs.append(sb.sg)
        return sb

    def signature(self, key, inputs, outputs, subgraph_index=0):
        self.model.signatures.append(Signature(key, subgraph_index, dict(inputs), dict(outputs)))

    def metadata(self, name, data):
        self.model.metadata[name] = bytes(data)

    def build(self):
        return self.model

    def to_bytes(self):
        return model_to_bytes(self.model)
