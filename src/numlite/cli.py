"""``numlite`` command line: inspect, run, compare, benchmark, ops and demo."""
import argparse
import json
import os
import sys
import time

import numpy as np


def _describe_tensor(d):
    q = d["quantization_parameters"]
    scales, zps = q["scales"], q["zero_points"]
    qs = ""
    if len(scales) == 1:
        qs = " q(scale=%.6g, zero_point=%d)" % (scales[0], zps[0])
    elif len(scales):
        zp = ("zero_point=%d" % zps[0]) if np.all(zps == zps[0]) else ("zero_points %d..%d" % (zps.min(), zps.max()))
        qs = " q(per-channel x%d on dim %d, scales %.6g..%.6g, %s)" % (
            len(scales), q["quantized_dimension"], scales.min(), scales.max(), zp)
    shape = "[%s]" % ", ".join(str(int(v)) for v in d["shape_signature"])
    return "%-40s %-8s %s%s" % (d["name"][:40], np.dtype(d["dtype"]).name, shape, qs)


def _bytes(n):
    for unit, size in (("GB", 1 << 30), ("MB", 1 << 20), ("KB", 1 << 10)):
        if n >= size:
            return "%.1f %s" % (n / size, unit)
    return "%d bytes" % n


def _tensor_json(d):
    q = d["quantization_parameters"]
    return {"name": d["name"], "index": int(d["index"]), "dtype": np.dtype(d["dtype"]).name,
            "shape": d["shape"].tolist(), "shape_signature": d["shape_signature"].tolist(),
            "scales": q["scales"].tolist(), "zero_points": q["zero_points"].tolist(),
            "quantized_dimension": int(q["quantized_dimension"])}


def cmd_inspect(args):
    from . import Interpreter, load_model
    from .errors import ModelError
    model = load_model(args.model)
    info = {"file": args.model, "size_bytes": os.path.getsize(args.model), "description": model.description,
            "subgraphs": len(model.subgraphs), "tensors": sum(len(s.tensors) for s in model.subgraphs),
            "operators": model.op_histogram(), "metadata": sorted(model.metadata),
            "signatures": {s.key: {"inputs": list(s.inputs), "outputs": list(s.outputs)} for s in model.signatures}}
    it = Interpreter(model_path=args.model)
    info["inputs"] = [_tensor_json(d) for d in it.get_input_details()]
    info["outputs"] = [_tensor_json(d) for d in it.get_output_details()]
    try:
        it.allocate_tensors()
        info["arena_bytes"] = int(it.arena_size)
        info["memory"] = it.runtime.memory().as_dict()
    except ModelError as e:
        info["arena_bytes"] = None
        info["memory"] = None
        info["allocate_error"] = str(e)
    if args.tensors:
        info["tensors_detail"] = [_tensor_json(d) for d in it.get_tensor_details()]
    if args.json:
        print(json.dumps(info, indent=2))
        return 0
    print("model      %s (%d bytes)" % (args.model, info["size_bytes"]))
    if model.description:
        print("description %s" % model.description)
    print("subgraphs  %d, tensors %d, operators %d" % (info["subgraphs"], info["tensors"], sum(info["operators"].values())))
    if info["memory"] is None:
        print("memory     not allocatable: " + info["allocate_error"])
    else:
        m = info["memory"]
        print("memory     %s allocated per model instance:" % _bytes(m["total"]))
        print("  arena      %s (tensors and %s of kernel scratch, shared by lifetime)"
              % (_bytes(m["arena"]), _bytes(m["scratch"])))
        print("  persistent %s (per-node kernel data: rearranged weights, tables)" % _bytes(m["persistent"]))
        print("  variables  %s" % _bytes(m["variables"]))
        print("  constants  %s decoded into memory; %s read in place from the model bytes"
              % (_bytes(m["constants_owned"]), _bytes(m["constants_mapped"])))
    print("inputs:")
    for d in it.get_input_details():
        print("  [%d] %s" % (d["index"], _describe_tensor(d)))
    print("outputs:")
    for d in it.get_output_details():
        print("  [%d] %s" % (d["index"], _describe_tensor(d)))
    print("operators:")
    for name, n in sorted(info["operators"].items(), key=lambda kv: (-kv[1], kv[0])):
        print("  %-32s %d" % (name, n))
    if info["signatures"]:
        print("signatures:")
        for k, v in info["signatures"].items():
            print("  %s: inputs %s -> outputs %s" % (k, v["inputs"], v["outputs"]))
    print("metadata:   %s" % (", ".join(info["metadata"]) or "none"))
    if args.tensors:
        print("tensors:")
        for d in it.get_tensor_details():
            print("  [%d] %s" % (d["index"], _describe_tensor(d)))
    return 0


def _load_input(spec, detail):
    path = spec
    if path.endswith(".npy"):
        arr = np.load(path)
    elif path.endswith(".npz"):
        with np.load(path) as z:
            arr = z[z.files[0]]
    else:
        arr = _load_image(path, detail)
    want = np.dtype(detail["dtype"])
    if arr.dtype != want:
        if arr.dtype.kind == "f" and want.kind in "iu":
            raise SystemExit("input %s is %s but the model wants %s" % (path, arr.dtype, want))
        arr = arr.astype(want)
    return arr


def _load_image(path, detail):
    try:
        from PIL import Image
    except ImportError:
        raise SystemExit("reading images needs Pillow: pip install 'numlite[image]'") from None
    shape = list(detail["shape"])
    if len(shape) != 4:
        raise SystemExit("image input needs a 4-D NHWC input tensor, got shape %s" % shape)
    _, h, w, c = shape
    img = Image.open(path).convert("L" if c == 1 else "RGB").resize((w, h), Image.BILINEAR)
    arr = np.asarray(img)[None]
    if c == 1:
        arr = arr[..., None]
    dtype = np.dtype(detail["dtype"])
    if dtype.kind == "f":
        arr = arr.astype(np.float32) / 255.0
    elif dtype == np.int8:
        arr = (arr.astype(np.int16) - 128).astype(np.int8)
    return arr


def _parse_inputs(specs, details):
    by_name = {d["name"]: d for d in details}
    feed = {}
    for pos, spec in enumerate(specs or []):
        if "=" in spec:
            name, path = spec.split("=", 1)
            d = by_name.get(name)
            if d is None and name.isdigit() and int(name) < len(details):
                d = details[int(name)]
            if d is None:
                raise SystemExit("no input named %r; inputs are %s" % (name, list(by_name)))
        else:
            d, path = details[pos], spec
        feed[d["index"]] = (_load_input(path, d), d)
    return feed


def cmd_run(args):
    from . import Interpreter, OpResolverType
    it = Interpreter(model_path=args.model, experimental_op_resolver_type=OpResolverType[args.resolver])
    details = it.get_input_details()
    feed = _parse_inputs(args.input, details)
    for idx, (arr, d) in feed.items():
        if tuple(arr.shape) != tuple(d["shape"]):
            it.resize_tensor_input(idx, arr.shape)
    it.allocate_tensors()
    for d in it.get_input_details():
        if d["index"] in feed:
            it.set_tensor(d["index"], feed[d["index"]][0])
        else:
            print("note: input %r not given, using zeros" % d["name"], file=sys.stderr)
            it.set_tensor(d["index"], np.zeros(d["shape"], d["dtype"]))
    t0 = time.perf_counter()
    it.invoke()
    dt = time.perf_counter() - t0
    outs = {d["name"]: it.get_tensor(d["index"]) for d in it.get_output_details()}
    if args.output:
        np.savez(args.output, **outs)
        print("saved %d outputs to %s" % (len(outs), args.output))
    for name, v in outs.items():
        print("%s %s %s" % (name, v.dtype, list(v.shape)))
        with np.printoptions(threshold=args.print_limit, precision=5, suppress=True):
            print(v)
        if v.ndim >= 1 and v.size > 1 and v.dtype.kind in "fiu" and args.top:
            flat = v.reshape(-1)
            top = np.argsort(-flat.astype(np.float64), kind="stable")[:args.top]
            print("top-%d: %s" % (args.top, ", ".join("%d (%.4g)" % (i, flat[i]) for i in top)))
    print("invoke took %.2f ms" % (dt * 1e3))
    return 0


def cmd_compare(args):
    from . import Interpreter
    from .compare import compare_model, format_rows
    feed = None
    if args.input:
        details = Interpreter(model_path=args.model).get_input_details()
        given = _parse_inputs(args.input, details)
        if len(given) != len(details):
            raise SystemExit("give every input (%d) or none (random inputs)" % len(details))
        feed = {i: arr for i, (arr, _) in given.items()}
    rows = compare_model(args.model, feed, resolver=args.resolver, seed=args.seed)
    text, first = format_rows(rows, tolerance=args.tolerance)
    print(text)
    return 0 if first is None else 1


def cmd_benchmark(args):
    from .benchmark import benchmark_model, format_results
    results = benchmark_model(args.model, runs=args.runs, warmup=args.warmup, compare_litert=args.litert,
                              resolver=args.resolver, profile=args.profile)
    print(format_results(results, args.model))
    return 0


def op_table():
    """[{op, versions, types, variants, module}] for every registered op, from the registry."""
    from .kernels.registry import registrations
    rows = {}
    for name, e in registrations():
        r = rows.setdefault(name, {"op": name, "versions": set(), "types": set(), "variants": set(), "modules": set(),
                                   "any_type": False})
        r["versions"].add((e.lo, e.hi))
        r["variants"].add(e.variant)
        r["modules"].add(e.cls.__module__.replace("numlite.kernels.", ""))
        # A specialised registration declares its types; a generic one, its class's input_types.
        types = e.types if e.types is not None else getattr(e.cls, "input_types", None)
        if types is None:
            r["any_type"] = True        # declares nothing: "checked at prepare"
        else:
            r["types"].update(types)
    out = []
    for name in sorted(rows, key=lambda n: (n.startswith("custom:"), n)):
        r = rows[name]
        lo = min(v[0] for v in r["versions"])
        hi = max(v[1] for v in r["versions"])
        out.append({"op": name, "versions": [lo, hi], "types": sorted(r["types"]),
                    "types_complete": not r["any_type"], "variants": sorted(r["variants"]),
                    "modules": sorted(r["modules"])})
    return out


def cmd_ops(args):
    rows = op_table()
    if args.json:
        print(json.dumps(rows, indent=1))
        return 0
    print("%-34s %-8s %-12s %-36s %s" % ("op", "versions", "variants", "input types", "kernel family"))
    for r in rows:
        types = ", ".join(t.lower() for t in r["types"]) + ("" if r["types_complete"] else
                                                              (", ..." if r["types"] else "(checked at prepare)"))
        print("%-34s %-8s %-12s %-36s %s" % (r["op"], "%d-%d" % tuple(r["versions"]), ",".join(r["variants"]),
                                             types, ", ".join(r["modules"])))
    print("%d ops" % len(rows))
    return 0


def cmd_demo(args):
    from .demo import run_demo
    return run_demo(verbose=args.verbose)


def main(argv=None):
    p = argparse.ArgumentParser(prog="numlite", description="TensorFlow Lite in Python: run, inspect and benchmark .tflite models.")
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("inspect", help="show inputs, outputs, operators, arena size, signatures and metadata")
    s.add_argument("model")
    s.add_argument("--json", action="store_true", help="machine-readable output")
    s.add_argument("--tensors", action="store_true", help="also list every tensor with its quantization")
    s.set_defaults(func=cmd_inspect)
    s = sub.add_parser("run", help="run a model on .npy/.npz arrays or images and print or save the outputs")
    s.add_argument("model")
    s.add_argument("--input", "-i", action="append", metavar="NAME=FILE",
                   help="input by tensor name (or position) from a .npy/.npz file or an image (resized to the input); repeatable")
    s.add_argument("--output", "-o", metavar="OUT.npz", help="save the outputs to an .npz file")
    s.add_argument("--resolver", default="AUTO", choices=["AUTO", "BUILTIN", "BUILTIN_REF"])
    s.add_argument("--top", type=int, default=0, help="also print the top-K entries of each output")
    s.add_argument("--print-limit", type=int, default=40, help="print at most this many values per output")
    s.set_defaults(func=cmd_run)
    s = sub.add_parser("compare", help="run numlite and LiteRT side by side and compare every operator output")
    s.add_argument("model")
    s.add_argument("--input", "-i", action="append", metavar="NAME=FILE", help="as for run; random inputs if omitted")
    s.add_argument("--resolver", default="BUILTIN_REF", choices=["AUTO", "BUILTIN", "BUILTIN_REF"],
                   help="kernels on both sides (LiteRT's reference kernels by default)")
    s.add_argument("--seed", type=int, default=0, help="seed for random inputs")
    s.add_argument("--tolerance", type=float, default=1e-4, help="float tensors: allowed |diff| / max|LiteRT value|")
    s.set_defaults(func=cmd_compare)
    s = sub.add_parser("benchmark", help="time invoke() (and LiteRT's, if installed) on random inputs")
    s.add_argument("model")
    s.add_argument("--runs", type=int, default=20)
    s.add_argument("--warmup", type=int, default=2)
    s.add_argument("--resolver", default="AUTO", choices=["AUTO", "BUILTIN", "BUILTIN_REF"])
    s.add_argument("--litert", action="store_true", help="also time ai_edge_litert (reference and default kernels)")
    s.add_argument("--profile", action="store_true", help="print per-operator time")
    s.set_defaults(func=cmd_benchmark)
    s = sub.add_parser("ops", help="list every operator numlite runs: versions, input types, kernel variants")
    s.add_argument("--json", action="store_true", help="machine-readable output")
    s.set_defaults(func=cmd_ops)
    s = sub.add_parser("demo", help="classify bundled handwritten digits with a bundled real model")
    s.add_argument("--verbose", "-v", action="store_true")
    s.set_defaults(func=cmd_demo)
    args = p.parse_args(argv)
    from .errors import ModelError
    try:
        return args.func(args)
    except ModelError as e:
        print("numlite: model error: %s" % e, file=sys.stderr)
        return 2
    except BrokenPipeError:   # `numlite ops | head`: the reader left; not an error of ours
        sys.stderr.close()
        return 0


if __name__ == "__main__":
    sys.exit(main())
