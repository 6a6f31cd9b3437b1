"""The writer stores byte-identical constants once: one buffer shared by their tensors, inline or
external, and the sharing survives a read-write round trip; LiteRT runs such files as numlite."""
import numpy as np
import pytest

import numlite
from numlite.builder import ModelBuilder
from numlite.schema import model_to_bytes
from numlite.schema.reader import read_model_table

from harness import assert_outputs_match, run_litert, run_numlite

X = np.array([[-1.5, 0.5, 2.0], [3.0, -4.0, 0.25]], np.float32)
C = np.array([[1.0, -2.0, 0.5], [-1.0, 1.0, -0.5]], np.float32)


def shared_constants_model():
    """o = ((x + c1) * c2 - c3) + f0 + float(i0), where c1 == c2 and the int32 zeros i0 have the
    bytes of the float32 zeros f0 (both pairs shared); c3 differs."""
    b = ModelBuilder()
    x = b.input("x", X.shape)
    c1 = b.const("c1", C)
    c2 = b.const("c2", C.copy())
    c3 = b.const("c3", C * 3)
    f0 = b.const("f0", np.zeros(X.shape, np.float32))
    i0 = b.const("i0", np.zeros(X.shape, np.int32))
    a, m, s, p, ic, o = (b.tensor(n, X.shape) for n in ("a", "m", "s", "p", "ic", "o"))
    b.op("ADD", [x, c1], [a])
    b.op("MUL", [a, c2], [m])
    b.op("SUB", [m, c3], [s])
    b.op("ADD", [s, f0], [p])
    b.op("CAST", [i0], [ic])
    b.op("ADD", [p, ic], [o])
    b.output(o)
    return b.build()


def buffer_indices(data):
    table = read_model_table(data)
    names = {t["name"]: t["buffer"] for t in table["subgraphs"][0]["tensors"]}
    with_data = [i for i, b in enumerate(table["buffers"]) if b["data"] is not None or b["offset"] > 1]
    return names, with_data


@pytest.mark.parametrize("external", [False, True])
def test_identical_constants_share_one_buffer(external):
    model = shared_constants_model()
    data = model_to_bytes(model, external_buffers=external)
    names, with_data = buffer_indices(data)
    assert names["c1"] == names["c2"] and names["f0"] == names["i0"]
    assert len({names["c1"], names["c3"], names["f0"]}) == 3
    assert sorted(with_data) == sorted({names["c1"], names["c3"], names["f0"]})
    want = run_litert(data, [X])
    got = run_numlite(data, [X])
    assert_outputs_match(got, want)
    np.testing.assert_allclose(got[0], (X + C) * C - 3 * C, rtol=1e-6)


def test_sharing_survives_a_round_trip():
    model = shared_constants_model()
    first = model_to_bytes(model)
    reread = numlite.load_model(model_content=first)
    t = {x.name: x for x in reread.subgraphs[0].tensors}
    assert t["c1"].buffer == t["c2"].buffer and t["f0"].buffer == t["i0"].buffer
    np.testing.assert_array_equal(t["c2"].data, C)
    assert t["i0"].data.dtype == np.int32 and t["f0"].data.dtype == np.float32
    second = model_to_bytes(reread)
    assert buffer_indices(second) == buffer_indices(first)
    assert_outputs_match(run_numlite(second, [X]), run_litert(second, [X]))


def test_constants_in_different_subgraphs_share_too():
    b = ModelBuilder()
    x = b.input("x", (3,))
    c = b.const("c", np.arange(3, dtype=np.float32))
    y = b.tensor("y", (3,))
    b.op("ADD", [x, c], [y])
    b.output(y)
    sb = b.subgraph("other")
    xi = sb.input("xi", (3,))
    ci = sb.const("ci", np.arange(3, dtype=np.float32))
    yi = sb.tensor("yi", (3,))
    sb.op("MUL", [xi, ci], [yi])
    sb.output(yi)
    table = read_model_table(b.to_bytes())
    assert table["subgraphs"][0]["tensors"][c]["buffer"] == table["subgraphs"][1]["tensors"][ci]["buffer"]
    assert sum(buf["data"] is not None for buf in table["buffers"]) == 1
