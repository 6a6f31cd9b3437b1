"""The kernel contract and the registry: typed options with the schema's defaults, node errors,
the lazy family index, custom-code namespace, fast-variant loading."""
import os
import subprocess
import sys

import numpy as np
import pytest

import numlite
from numlite.ir import Operator
from numlite.kernels import registry
from numlite.kernels.contract import Node, Options, options_table

ROOT = os.path.join(os.path.dirname(__file__), "..", "..")


def test_options_have_the_schema_defaults():
    # Conv2DOptions: dilation factors default to 1 in the schema, strides to 0.
    node = Node(Operator("CONV_2D", [0, 1, 2], [3], options={"stride_h": 2}), 5)
    assert node.options.stride_h == 2
    assert node.options.dilation_h_factor == 1 and node.options.dilation_w_factor == 1
    assert node.options.stride_w == 0
    assert node.options.fused_activation_function == 0


def test_absent_vector_options_are_none():
    node = Node(Operator("SQUEEZE", [0], [1]), 0)
    assert node.options.squeeze_dims is None
    node = Node(Operator("RESHAPE", [0], [1], options={"new_shape": [2, 3]}), 0)
    assert list(node.options.new_shape) == [2, 3]


def test_options_table_pairs_ops_whose_table_is_named_otherwise():
    assert options_table("AVERAGE_POOL_2D") == "Pool2DOptions"
    assert options_table("MEAN") == "ReducerOptions"
    assert options_table("FULLY_CONNECTED") == "FullyConnectedOptions"
    assert options_table("UNIDIRECTIONAL_SEQUENCE_RNN") == "SequenceRNNOptions"
    assert options_table("RELU") is None


def test_reading_an_option_the_table_lacks_is_a_model_error():
    node = Node(Operator("ADD", [0, 1], [2]), 3)
    with pytest.raises(numlite.ModelError, match=r"ADD: options AddOptions have no field 'stride_h'"):
        node.options.stride_h
    assert "fused_activation_function" in node.options
    assert isinstance(node.options, Options)


def test_node_errors_name_op_and_node():
    node = Node(Operator("SOFTMAX", [0], [1], version=2), 7)
    assert str(node.error("bad")) == "SOFTMAX (node 7): bad"
    e = node.unsupported("no int4")
    assert isinstance(e, numlite.UnsupportedOpError) and e.node_index == 7 and e.version == 2
    assert isinstance(node.invoke_error("Division by 0"), RuntimeError)


def test_scratch_requests_are_recorded():
    node = Node(Operator("CONV_2D", [0, 1], [2]), 0)
    s = node.scratch((3, 4), np.int32)
    assert node.scratches == [s] and s.nbytes == 48 and s.array is None


def test_family_index_is_fresh():
    r = subprocess.run([sys.executable, os.path.join(ROOT, "tools", "gen_kernel_index.py"), "--check"],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr


def test_index_names_every_registered_op():
    from numlite.kernels._index import OP_MODULES
    assert set(OP_MODULES) == set(registry.registered_ops())


def test_builtin_and_custom_namespaces_are_separate():
    builtin_add = Operator("ADD", [0, 1], [2], version=1)
    custom_add = Operator("ADD", [0, 1], [2], version=1, custom=True)
    assert registry.lookup(builtin_add, 0, True) is not None
    with pytest.raises(numlite.UnsupportedOpError, match="custom op 'ADD'"):
        registry.lookup(custom_add, 0, True)


def test_unsupported_version_names_the_supported_ones():
    with pytest.raises(numlite.UnsupportedOpError, match="version 99 at node 4.*supports versions"):
        registry.lookup(Operator("ADD", [0, 1], [2], version=99), 4, True)


def test_a_broken_fast_package_is_reported_not_swallowed(tmp_path, monkeypatch):
    pkg = tmp_path / "broken_accel"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("raise ImportError('needs a missing compiler')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(registry, "FAST_PACKAGE", "broken_accel")
    monkeypatch.setattr(registry.load_fast_variants, "done", False)
    monkeypatch.setattr(registry, "fast_variant_errors", [])
    with pytest.warns(RuntimeWarning, match="needs a missing compiler"):
        registry.load_fast_variants()
    assert registry.fast_variant_errors == ["ImportError: needs a missing compiler"]


def test_an_absent_fast_package_is_silent(monkeypatch):
    monkeypatch.setattr(registry, "FAST_PACKAGE", "numlite_no_such_package_here")
    monkeypatch.setattr(registry.load_fast_variants, "done", False)
    monkeypatch.setattr(registry, "fast_variant_errors", [])
    registry.load_fast_variants()
    assert registry.fast_variant_errors == []
