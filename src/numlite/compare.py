"""Layer-by-layer comparison of numlite with LiteRT on one model and one input.

Both interpreters run with ``experimental_preserve_all_tensors=True``; every operator output is then
compared in execution order. Integer tensors are compared exactly (the difference is reported in
LSB, i.e. quantized steps); float tensors relative to the LiteRT tensor's range. The first operator
whose output differs is where a quantized model starts to drift -- the outputs after it inherit the
difference.
"""
import numpy as np

from .benchmark import random_inputs


def _litert_interpreter(path, resolver):
    try:
        from ai_edge_litert.interpreter import Interpreter, OpResolverType
    except ImportError:
        raise SystemExit("comparing needs LiteRT: pip install ai-edge-litert") from None
    return Interpreter(model_path=path, experimental_preserve_all_tensors=True,
                       experimental_op_resolver_type=getattr(OpResolverType, resolver))


def _run(interp, feed):
    for d in interp.get_input_details():
        if tuple(d["shape"]) != feed[d["index"]].shape:
            interp.resize_tensor_input(d["index"], feed[d["index"]].shape)
    interp.allocate_tensors()
    for d in interp.get_input_details():
        interp.set_tensor(d["index"], feed[d["index"]])
    interp.invoke()


def tensor_difference(got, want):
    """(max difference, unit) of two tensors of the same dtype: 'LSB' for integers, 'rel' for floats
    (max |diff| over the reference's largest magnitude)."""
    if got.shape != want.shape:
        return float("inf"), "shape %s vs %s" % (got.shape, want.shape)
    if want.dtype.kind in "biu":
        if want.size == 0:
            return 0.0, "LSB"
        return float(np.max(np.abs(got.astype(np.int64) - want.astype(np.int64)))), "LSB"
    g, w = got.astype(np.float64), want.astype(np.float64)
    finite = np.isfinite(w) & np.isfinite(g)
    if not np.array_equal(np.isfinite(w), np.isfinite(g)):
        return float("inf"), "rel"
    if not finite.any():
        return 0.0, "rel"
    scale = max(float(np.abs(w[finite]).max()), 1e-30)
    return float(np.abs(g[finite] - w[finite]).max()) / scale, "rel"


def compare_model(path, feed=None, resolver="BUILTIN_REF", seed=0):
    """Rows (node, opcode, tensor index, name, dtype, difference, unit) for every operator output of
    subgraph 0, comparing numlite with LiteRT using the same resolver kind. ``feed`` maps input tensor
    indices to arrays (random inputs from ``seed`` when omitted)."""
    from . import Interpreter, OpResolverType
    ours = Interpreter(model_path=path, experimental_preserve_all_tensors=True,
                       experimental_op_resolver_type=OpResolverType[resolver])
    theirs = _litert_interpreter(path, resolver)
    details = ours.get_input_details()
    if feed is None:
        feed = dict(zip((d["index"] for d in details), random_inputs(details, seed)))
    _run(ours, feed)
    _run(theirs, feed)
    sg = ours.runtime.model.subgraphs[0]
    rows = []
    for node, op in enumerate(sg.operators):
        for t in op.outputs:
            if t < 0:
                continue
            got, want = ours.get_tensor(t), theirs.get_tensor(t)
            if got.dtype != want.dtype:
                diff, unit = float("inf"), "dtype %s vs %s" % (got.dtype, want.dtype)
            else:
                diff, unit = tensor_difference(got, want)
            rows.append((node, op.opcode, t, sg.tensors[t].name, got.dtype.name, diff, unit))
    return rows


def format_rows(rows, tolerance=1e-4):
    """A table with the first differing operator marked; ``tolerance`` applies to float tensors."""
    lines = ["%-5s %-24s %-6s %-8s %-14s %s" % ("node", "op", "tensor", "dtype", "difference", "name")]
    first = None
    for node, opcode, t, name, dtype, diff, unit in rows:
        bad = diff > (tolerance if unit == "rel" else 0)
        if bad and first is None:
            first = node
        mark = " <- first difference" if bad and first == node else ""
        value = ("%d %s" % (diff, unit) if unit == "LSB" else "%.2e %s" % (diff, unit)) if np.isfinite(diff) else unit
        lines.append("%-5d %-24s %-6d %-8s %-14s %s%s" % (node, opcode[:24], t, dtype, value, name[:48], mark))
    lines.append("all %d operator outputs agree" % len(rows) if first is None
                 else "first difference at node %d" % first)
    return "\n".join(lines), first
