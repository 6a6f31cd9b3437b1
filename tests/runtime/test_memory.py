"""The memory numlite reports is the memory it allocates.

``Interpreter.runtime.memory()`` (and ``numlite inspect``) break a model's memory down into the
planned arena (tensors and kernel scratch), per-node persistent kernel data, variables and
constants decoded into memory. tracemalloc sees every NumPy allocation, so the bytes an
interpreter retains after ``allocate_tensors()`` and an ``invoke()`` must equal the report, up to
the small Python objects (kernels, nodes, plan) around the arrays."""
import gc
import os
import tracemalloc

import numpy as np
import pytest

import numlite

DATA = os.path.join(os.path.dirname(__file__), "..", "models", "data")
MODELS = ["mobilenet_like", "mobilenet_like_int8", "unet_like_int8", "cnn_dynamic_range", "lstm_stacked_int8",
          "mediapipe/face_landmark", "fp16_weights"]
# NumPy reports every array buffer it allocates to tracemalloc under its own domain: counting that
# domain alone measures exactly the array memory, without the Python objects around it.
ARRAYS = tracemalloc.DomainFilter(True, np.lib.tracemalloc_domain)


def _array_bytes():
    return sum(t.size for t in tracemalloc.take_snapshot().filter_traces([ARRAYS]).traces)


def _feed(interpreter):
    rng = np.random.default_rng(0)
    for d in interpreter.get_input_details():
        dt = np.dtype(d["dtype"])
        if dt.kind == "f":
            v = rng.standard_normal(d["shape"]).astype(dt)
        else:
            info = np.iinfo(dt)
            v = rng.integers(info.min, info.max, d["shape"], endpoint=True).astype(dt)
        interpreter.set_tensor(d["index"], v)


@pytest.mark.parametrize("name", MODELS)
def test_report_matches_traced_allocations(name):
    with open(os.path.join(DATA, name + ".tflite"), "rb") as f:
        content = f.read()
    tracemalloc.start()
    try:
        it = numlite.Interpreter(model_content=content)
        it.allocate_tensors()      # imports kernel families: their module-level tables are not per model
        _feed(it)
        it.invoke()
        del it
        gc.collect()            # the runtime and its executors reference each other
        it = numlite.Interpreter(model_content=content)
        before = _array_bytes()
        it.allocate_tensors()
        _feed(it)
        it.invoke()
        retained = _array_bytes() - before
    finally:
        tracemalloc.stop()
    report = it.runtime.memory()
    # Nothing reported that was not allocated, nothing allocated that was not reported (a few
    # hundred bytes of slack: 0-d arrays and the like).
    assert abs(report.total - retained) <= 1024, (report, retained)


def test_arena_holds_scratch_and_is_planned_by_lifetime():
    it = numlite.Interpreter(model_path=os.path.join(DATA, "mobilenet_like.tflite"))
    it.allocate_tensors()
    report = it.runtime.memory()
    assert report.arena == it.arena_size
    tensor_bytes = sum(d["shape"].prod() * np.dtype(d["dtype"]).itemsize for d in it.get_tensor_details()
                       if it.runtime.model.subgraphs[0].tensors[d["index"]].data is None)
    # Lifetime-based reuse: the arena is smaller than every tensor and scratch buffer side by side.
    assert report.arena < tensor_bytes + report.scratch
    assert "arena" in it.runtime.plan()
