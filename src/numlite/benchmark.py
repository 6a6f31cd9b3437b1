"""Timing of invoke() for numlite and, optionally, LiteRT on the same model and inputs."""
import time

import numpy as np


def random_inputs(details, seed=0):
    rng = np.random.default_rng(seed)
    feed = []
    for d in details:
        dt = np.dtype(d["dtype"])
        shape = [max(int(s), 1) for s in d["shape"]]
        if dt.kind == "f":
            feed.append(rng.uniform(-1, 1, shape).astype(dt))
        elif dt.kind in "iu":
            info = np.iinfo(dt)
            feed.append(rng.integers(max(info.min, -128), min(info.max, 255), shape, endpoint=True).astype(dt))
        elif dt.kind == "b":
            feed.append(rng.integers(0, 2, shape).astype(bool))
        else:
            raise ValueError("cannot make random input of dtype %s" % dt)
    return feed


def _time(interp, feed, runs, warmup):
    interp.allocate_tensors()
    for d, v in zip(interp.get_input_details(), feed):
        interp.set_tensor(d["index"], v)
    for _ in range(warmup):
        interp.invoke()
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        interp.invoke()
        times.append(time.perf_counter() - t0)
    outs = [interp.get_tensor(d["index"]) for d in interp.get_output_details()]
    return np.array(times), outs


def benchmark_model(path, runs=20, warmup=2, compare_litert=False, resolver="AUTO", profile=False):
    from . import Interpreter, OpResolverType
    it = Interpreter(model_path=path, experimental_op_resolver_type=OpResolverType[resolver])
    feed = random_inputs(it.get_input_details())
    t0 = time.perf_counter()
    it.allocate_tensors()
    prepare = time.perf_counter() - t0
    times, outs = _time(it, feed, runs, warmup)
    results = {"numlite": {"times": times, "prepare": prepare, "arena": it.arena_size}}
    if profile:
        it.runtime.set_profiling(True)
        it.invoke()
        per = {}
        for _, op, dt in it.runtime.profile(0):
            per[op] = per.get(op, 0.0) + dt
        it.runtime.set_profiling(False)
        results["numlite"]["profile"] = per
    if compare_litert:
        try:
            from ai_edge_litert.interpreter import Interpreter as LI
            from ai_edge_litert.interpreter import OpResolverType as LR
        except ImportError:
            results["litert"] = "ai_edge_litert is not installed"
            return results
        for label, kind in (("litert-ref", LR.BUILTIN_REF), ("litert-default", LR.AUTO)):
            li = LI(model_path=path, experimental_op_resolver_type=kind)
            lt, lo = _time(li, feed, runs, warmup)
            diff = max((float(np.max(np.abs(a.astype(np.float64) - b.astype(np.float64)))) if a.size else 0.0)
                       for a, b in zip(outs, lo))
            results[label] = {"times": lt, "max_abs_diff_vs_numlite": diff}
    return results


def format_results(results, path):
    lines = ["model: %s" % path]
    for label, r in results.items():
        if isinstance(r, str):
            lines.append("%-15s %s" % (label, r))
            continue
        t = r["times"] * 1e3
        extra = ""
        if "prepare" in r:
            extra = "  prepare %.1f ms, arena %d bytes" % (r["prepare"] * 1e3, r["arena"])
        if "max_abs_diff_vs_numlite" in r:
            extra = "  max |diff| vs numlite %.3g" % r["max_abs_diff_vs_numlite"]
        lines.append("%-15s median %8.3f ms  min %8.3f ms  (n=%d)%s" % (label, np.median(t), t.min(), t.size, extra))
        if r.get("profile"):
            tot = sum(r["profile"].values())
            for op, s in sorted(r["profile"].items(), key=lambda kv: -kv[1]):
                lines.append("    %-28s %8.3f ms  %5.1f%%" % (op, s * 1e3, 100 * s / tot))
    return "\n".join(lines)
