"""Every validation rule of the model loader and FlatBuffer reader, one minimal model per rule.

Each test starts from a valid model (tflite_writer.add_model(): y = x + c, which LiteRT and
numlite both run), breaks exactly one rule, and checks that ``numlite.Interpreter`` refuses it
with a ModelError naming that rule. Where LiteRT refuses the same model too, the test says so
(``litert=True``); the rest are checks numlite makes at load time that LiteRT makes later, or
not at all. The tests go through the public constructor only, so they hold wherever the loader
lives.
"""
import struct

import numpy as np
import pytest

import numlite
from tflite_writer import (BLOCKWISE_QUANTIZATION, CUSTOM, DENSE, FLOAT32, INT4, INT32_VECTOR, SPARSE_CSR, STRING,
                           Repeat, add_model, f32_bytes, model_bytes, root_table)

X = np.array([1.0, 2.0], np.float32)


def refused(data, match, litert=False):
    """numlite refuses the model bytes with a ModelError matching ``match``; with ``litert``,
    LiteRT refuses them as well (when loading or allocating)."""
    with pytest.raises(numlite.ModelError, match=match):
        numlite.Interpreter(model_content=data)
    if litert:
        from ai_edge_litert.interpreter import Interpreter
        with pytest.raises((ValueError, RuntimeError)):
            Interpreter(model_content=data).allocate_tensors()


def broken(edit):
    """add_model() with ``edit(model)`` applied, as bytes."""
    m = add_model()
    edit(m)
    return model_bytes(m)


def subgraph(m):
    return m["subgraphs"][0]


def with_tensor(m, tensor, data=None):
    """Adds an unconnected tensor (and, with ``data``, a buffer of its own) to subgraph 0."""
    if data is not None:
        m["buffers"].append({"data": data})
        tensor.setdefault("buffer", len(m["buffers"]) - 1)
    tensor.setdefault("type", FLOAT32)
    tensor.setdefault("buffer", 0)
    tensor.setdefault("name", "extra")
    subgraph(m)["tensors"].append(tensor)
    return m


def test_valid_model_runs_in_both():
    """The starting point of every test below is valid."""
    from harness import run_litert, run_numlite
    data = model_bytes(add_model())
    np.testing.assert_array_equal(run_numlite(data, [X])[0], [2.5, 0.0])
    np.testing.assert_array_equal(run_litert(data, [X])[0], [2.5, 0.0])


# ------------------------------------------------------------------------------- FlatBuffer reader
def test_file_identifier_must_be_TFL3():
    data = bytearray(model_bytes(add_model()))
    data[4:8] = b"TFL2"
    refused(bytes(data), "file identifier is b'TFL2'", litert=True)


def test_model_must_be_at_least_a_flatbuffer_header():
    refused(model_bytes(add_model())[:7], r"too small to be a FlatBuffer \(7 bytes\)", litert=True)


def test_offsets_must_stay_inside_the_model():
    data = bytearray(model_bytes(add_model()))
    struct.pack_into("<I", data, 0, len(data) + 64)
    refused(bytes(data), r"root table: offset \d+ \(\+4 bytes\) is outside the \d+-byte model", litert=True)


def test_vtable_size_must_be_even_and_at_least_4():
    data = bytearray(model_bytes(add_model()))
    _, vtable = root_table(data)
    struct.pack_into("<H", data, vtable, 5)
    refused(bytes(data), "Model: invalid vtable size 5", litert=True)


def test_field_offsets_must_lie_inside_their_table():
    data = bytearray(model_bytes(add_model()))
    _, vtable = root_table(data)
    (obj_size,) = struct.unpack_from("<H", data, vtable + 2)
    struct.pack_into("<H", data, vtable + 4, obj_size)   # slot 0: Model.version
    refused(bytes(data), "Model.version: field offset %d beyond object size %d" % (obj_size, obj_size), litert=True)


def test_shared_references_exhaust_the_work_budget():
    """20000 references to one subgraph table: decoding each copy would cost time quadratic in
    the file size. A few shared references are legitimate."""
    one = add_model()["subgraphs"][0]
    refused(broken(lambda m: m.update(subgraphs=Repeat(one, 20_000))), "far more data than it contains")
    assert len(numlite.load_model(model_content=broken(lambda m: m.update(subgraphs=Repeat(one, 3)))).subgraphs) == 3


# ------------------------------------------------------------------------------------ Model table
def test_model_file_must_not_be_empty(tmp_path):
    path = tmp_path / "empty.tflite"
    path.write_bytes(b"")
    with pytest.raises(numlite.ModelError, match="the model file is empty"):
        numlite.Interpreter(model_path=str(path))


def test_schema_version_must_be_3():
    refused(broken(lambda m: m.update(version=2)), "schema version 2 not equal to supported version 3", litert=True)


def test_buffers_vector_is_required():
    refused(broken(lambda m: m.update(buffers=None)), "No buffers in the model", litert=True)


def test_at_least_one_subgraph():
    refused(broken(lambda m: m.update(subgraphs=[])), "No subgraph in the model", litert=True)
    # (LiteRT 2.3 crashes on a missing subgraphs vector: not run there)
    refused(broken(lambda m: m.update(subgraphs=None)), "No subgraph in the model")


def _signature(**fields):
    sig = {"inputs": [{"name": "x", "tensor_index": 0}], "outputs": [{"name": "y", "tensor_index": 2}],
           "signature_key": "serving_default", "subgraph_index": 0}
    sig.update(fields)
    return sig


def test_signature_needs_a_key():
    assert numlite.Interpreter(model_content=broken(lambda m: m.update(signature_defs=[_signature()]))) \
        .get_signature_list() == {"serving_default": {"inputs": ["x"], "outputs": ["y"]}}
    refused(broken(lambda m: m.update(signature_defs=[_signature(signature_key=None)])),
            r"signature_defs\[0\]: missing signature_key", litert=True)


def test_signature_subgraph_index_in_range():
    refused(broken(lambda m: m.update(signature_defs=[_signature(subgraph_index=3)])),
            r"signature_defs\[0\]\.subgraph_index: index 3 out of range \[0, 1\)")


def test_signature_tensor_index_in_range():
    refused(broken(lambda m: m.update(signature_defs=[_signature(inputs=[{"name": "x", "tensor_index": 9}])])),
            r"signature 'serving_default' input 'x': index 9 out of range \[0, 3\)")


# ---------------------------------------------------------------------------------- operator codes
def test_builtin_code_in_range():
    def edit(m):
        m["operator_codes"][0].update(deprecated_builtin_code=127, builtin_code=5000)
    refused(broken(edit), r"operator_codes\[0\]: builtin code 5000 out of range", litert=True)


def test_custom_operator_needs_a_custom_code():
    def edit(m):
        m["operator_codes"][0].update(deprecated_builtin_code=CUSTOM, builtin_code=CUSTOM)
    refused(broken(edit), r"operator_codes\[0\]: operator with CUSTOM builtin_code has no custom_code", litert=True)


# ------------------------------------------------------------------------------------------ buffers
def test_external_buffer_must_lie_inside_the_file():
    refused(broken(lambda m: m["buffers"][1].update(data=None, offset=1 << 20, size=8)),
            r"constant buffer 1 offset 1048576 \+ size 8 is beyond the \d+-byte model", litert=True)


# ------------------------------------------------------------------------------------------ tensors
def test_tensor_type_must_be_known():
    refused(broken(lambda m: with_tensor(m, {"shape": [2], "type": 100})), "unsupported tensor type 100",
            litert=True)


def test_rank_at_most_32():
    refused(broken(lambda m: with_tensor(m, {"shape": [1] * 33})), "rank 33 exceeds 32")


def test_no_negative_dimensions():
    refused(broken(lambda m: with_tensor(m, {"shape": [2, -3]})), r"negative dimension in shape \(2, -3\)",
            litert=True)


def test_tensor_size_must_be_addressable():
    refused(broken(lambda m: with_tensor(m, {"shape": [2 ** 31 - 1] * 3})),
            "describes more bytes than can be addressed", litert=True)


def test_tensor_buffer_index_in_range():
    refused(broken(lambda m: with_tensor(m, {"shape": [2], "buffer": 7})),
            r"tensor 3 \('extra'\) buffer: index 7 out of range \[0, 2\)", litert=True)


def test_variable_tensor_has_no_buffer():
    refused(broken(lambda m: with_tensor(m, {"shape": [2], "is_variable": True}, f32_bytes([1, 2]))),
            "is a variable tensor with a buffer", litert=True)


def test_constant_buffer_covers_the_shape():
    refused(broken(lambda m: with_tensor(m, {"shape": [4]}, f32_bytes([1, 2]))),
            r"buffer has 8 bytes but shape \(4,\) of FLOAT32 needs 16", litert=True)


def test_packed_int4_buffer_covers_the_shape():
    refused(broken(lambda m: with_tensor(m, {"shape": [10], "type": INT4}, b"\x12\x34")),
            r"INT4 buffer has 2 bytes, shape \(10,\) needs 5", litert=True)


# ------------------------------------------------------------------------------------- quantization
def quantized(m, **q):
    return with_tensor(m, {"shape": [2, 3], "quantization": q})


def test_blockwise_quantization_needs_details():
    refused(broken(lambda m: quantized(m, details_type=BLOCKWISE_QUANTIZATION)),
            "quantization has BlockwiseQuantization type but no details", litert=True)


def test_scale_needs_a_zero_point():
    refused(broken(lambda m: quantized(m, scale=[0.5])), "quantization parameters have a scale but no zero_point",
            litert=True)


def test_zero_point_count_matches_scale_count():
    refused(broken(lambda m: quantized(m, scale=[0.5, 0.25], zero_point=[0], quantized_dimension=0)),
            "quantization has 1 zero_point values and 2 scale values", litert=True)


def test_quantized_dimension_in_range():
    refused(broken(lambda m: quantized(m, scale=[0.5] * 3, zero_point=[0] * 3, quantized_dimension=2)),
            r"quantized_dimension must be in range \[0, 2\), was 2", litert=True)


def test_per_channel_scales_match_their_dimension():
    refused(broken(lambda m: quantized(m, scale=[0.5, 0.25], zero_point=[0, 0], quantized_dimension=1)),
            r"2 scales do not match dimension 1 of shape \(2, 3\)", litert=True)


# ----------------------------------------------------------------------------------------- sparsity
def sparse(m, sparsity):
    return with_tensor(m, {"shape": [2], "sparsity": sparsity}, f32_bytes([1, 2]))


def test_sparsity_needs_traversal_order_and_dim_metadata():
    refused(broken(lambda m: sparse(m, {"dim_metadata": [{"format": DENSE, "dense_size": 2}]})),
            r"invalid sparsity parameters \(traversal_order and dim_metadata are required\)", litert=True)


def test_sparse_csr_dimension_needs_segments_and_indices():
    csr = {"format": SPARSE_CSR, "array_indices_type": INT32_VECTOR,
           "array_indices": ("Int32Vector", {"values": [0, 1]})}
    refused(broken(lambda m: sparse(m, {"traversal_order": [0], "dim_metadata": [csr]})),
            "sparse dimension 0 has no valid array_segments", litert=True)


def test_sparse_dimension_format_must_be_known():
    refused(broken(lambda m: sparse(m, {"traversal_order": [0], "dim_metadata": [{"format": 2, "dense_size": 2}]})),
            "dimension 0 has unknown sparse format 2", litert=True)


# ------------------------------------------------------------------------------------------ strings
def strings(m, raw):
    return with_tensor(m, {"shape": [1], "type": STRING}, raw)


def test_string_buffer_holds_a_count():
    refused(broken(lambda m: strings(m, b"\x01\x00")), "string buffer too short")


def test_string_count_matches_the_shape():
    refused(broken(lambda m: strings(m, struct.pack("<4i", 2, 16, 17, 18) + b"ab")),
            "string buffer holds 2 strings, shape needs 1")


def test_string_offsets_are_consistent():
    refused(broken(lambda m: strings(m, struct.pack("<3i", 1, 12, 10) + b"xy")),
            "string buffer offsets are inconsistent")


# ---------------------------------------------------------------------------------------- subgraphs
def test_subgraph_needs_a_tensors_vector():
    refused(broken(lambda m: subgraph(m).update(tensors=None)), "subgraph 0 has no tensors vector", litert=True)


def test_subgraph_input_index_in_range():
    refused(broken(lambda m: subgraph(m).update(inputs=[3])), r"subgraph 0 inputs: index 3 out of range \[0, 3\)",
            litert=True)


def test_subgraph_output_index_in_range():
    # (LiteRT 2.3 aborts on this one: not run there)
    refused(broken(lambda m: subgraph(m).update(outputs=[-1])),
            r"subgraph 0 outputs: index -1 out of range \[0, 3\)")


# ---------------------------------------------------------------------------------------- operators
def operator(m):
    return subgraph(m)["operators"][0]


def test_opcode_index_in_range():
    refused(broken(lambda m: operator(m).update(opcode_index=4)),
            r"subgraph 0 operator 0 opcode_index: index 4 out of range \[0, 1\)", litert=True)


def test_builtin_options_type_must_be_known():
    refused(broken(lambda m: operator(m).update(builtin_options_type=250)),
            r"subgraph 0 operator 0 \(ADD\): unknown options type 250")
    refused(broken(lambda m: operator(m).update(builtin_options_2_type=250,
                                                builtin_options_2=("AddOptions", {}))),
            r"subgraph 0 operator 0 \(ADD\): unknown options type 250")


def test_large_custom_options_must_lie_inside_the_file():
    refused(broken(lambda m: operator(m).update(large_custom_options_offset=1 << 20, large_custom_options_size=4)),
            r"subgraph 0 operator 0 \(ADD\): custom options offset is out of bounds")


def test_operator_input_index_in_range():
    refused(broken(lambda m: operator(m).update(inputs=[0, 7])),
            r"subgraph 0 operator 0 inputs: index 7 out of range \[0, 3\)", litert=True)


def test_operator_output_index_in_range():
    """-1 (an omitted optional operand) is allowed for inputs only."""
    refused(broken(lambda m: operator(m).update(outputs=[-1])),
            r"subgraph 0 operator 0 outputs: index -1 out of range \[0, 3\)", litert=True)


def test_operator_intermediate_index_in_range():
    refused(broken(lambda m: operator(m).update(intermediates=[5])),
            r"subgraph 0 operator 0 intermediates: index 5 out of range \[0, 3\)")


def test_operator_output_is_not_also_its_input():
    refused(broken(lambda m: operator(m).update(outputs=[0])),
            r"subgraph 0 operator 0 \(ADD\): tensor 0 is both input 0 and output 0", litert=True)


def test_operator_output_is_not_a_constant():
    def edit(m):
        with_tensor(m, {"shape": [2]}, f32_bytes([3, 4]))
        operator(m).update(outputs=[3])
    refused(broken(edit), r"subgraph 0 operator 0 \(ADD\): output 0 is the constant tensor 3")
