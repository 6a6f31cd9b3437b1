"""Memory and cold start of numlite against LiteRT, each run in a fresh process.

    python benchmarks/memory.py [--out benchmarks/MEMORY.md] [--repeat 3]

Per model and runtime, a new Python process imports the runtime, loads the model, allocates,
sets random inputs and invokes once. It reports the peak resident set size (``ru_maxrss``), the
part of it above the process right after import (what the model costs), and the cold start
(import → first invoke done). numlite's own report (``runtime.memory()``: arena with scratch,
persistent kernel data, variables, decoded constants) is printed beside it. Medians over
``--repeat`` processes. LiteRT runs with its reference kernels (BUILTIN_REF) and its default
path (XNNPACK).
"""
import argparse
import json
import os
import platform
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "..", "tests", "models", "data")
SHARED = os.path.join(HERE, "..", "..", "shared", "models")
MODELS = [
    ("MobileNetV2 1.0 224 uint8 (Coral)", os.path.join(SHARED, "mobilenet_v2_1.0_224_inat_insect_quant.tflite")),
    ("MobileNetV1 0.5 160 uint8 (Coral)", os.path.join(SHARED, "mobilenet_v1_0.5_160_quant.tflite")),
    ("U-Net-like int8 segmenter", os.path.join(DATA, "unet_like_int8.tflite")),
    ("MediaPipe selfie segmentation (float)", os.path.join(DATA, "mediapipe", "selfie_segmentation.tflite")),
    ("MediaPipe pose detection (float)", os.path.join(DATA, "mediapipe", "pose_detection.tflite")),
]

CHILD = r"""
import json, resource, sys, time
t0 = time.perf_counter()
runtime, path = sys.argv[1], sys.argv[2]
import numpy as np
if runtime == "numlite":
    sys.path.insert(0, sys.argv[3])
    import numlite
    make = lambda: numlite.Interpreter(model_path=path)
else:
    from ai_edge_litert.interpreter import Interpreter, OpResolverType
    kind = OpResolverType.BUILTIN_REF if runtime == "litert-ref" else OpResolverType.AUTO
    make = lambda: Interpreter(model_path=path, experimental_op_resolver_type=kind)
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
it = make()
it.allocate_tensors()
rng = np.random.default_rng(0)
for d in it.get_input_details():
    dt = np.dtype(d["dtype"])
    v = rng.random(d["shape"]).astype(dt) if dt.kind == "f" else rng.integers(0, 100, d["shape"]).astype(dt)
    it.set_tensor(d["index"], v)
it.invoke()
cold = time.perf_counter() - t0
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
out = {"peak_kb": peak, "model_kb": peak - base, "cold_s": cold}
if runtime == "numlite" and hasattr(it, "runtime"):
    out["report"] = it.runtime.memory().as_dict()
print(json.dumps(out))
"""


def run(runtime, path):
    src = os.environ.get("NUMLITE_SRC", os.path.join(HERE, "..", "src"))
    r = subprocess.run([sys.executable, "-c", CHILD, runtime, path, src], capture_output=True, text=True)
    if r.returncode:
        err = r.stderr.strip().splitlines() or ["failed"]
        custom = [line for line in err if "unresolved custom op" in line.lower() or "custom op" in line.lower()]
        return {"error": "cannot run: unresolved custom op" if custom else err[-1][:60]}
    return json.loads(r.stdout.strip().splitlines()[-1])


def median(values):
    values = sorted(values)
    return values[len(values) // 2]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=os.path.join(HERE, "MEMORY.md"))
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    lines = ["# numlite memory and cold start", "",
             "Peak RSS of a fresh process that loads the model, allocates and invokes once (MB; in brackets the "
             "part above the process right after import), cold start (import → first invoke, ms), medians of %d "
             "processes. numlite's report is `runtime.memory()`: arena (tensors + kernel scratch) / persistent "
             "kernel data / total allocated." % args.repeat, "",
             "Machine: %s, Python %s, %d CPUs; generated %s by `python benchmarks/memory.py`." % (
                 platform.machine(), platform.python_version(), os.cpu_count(), time.strftime("%Y-%m-%d")), "",
             "| model | numlite peak RSS | LiteRT ref peak RSS | LiteRT default peak RSS | numlite / LiteRT ref | "
             "numlite / LiteRT default | numlite report (arena / persistent / total) | cold start numlite | "
             "cold start LiteRT ref | cold start LiteRT default |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for label, path in MODELS:
        if not os.path.exists(path):
            print("skipping %s: %s not found" % (label, path))
            continue
        res = {}
        for runtime in ("numlite", "litert-ref", "litert-default"):
            runs = [run(runtime, path) for _ in range(args.repeat)]
            ok = [r for r in runs if "error" not in r]
            res[runtime] = ({"peak_kb": median([r["peak_kb"] for r in ok]), "model_kb": median([r["model_kb"] for r in ok]),
                             "cold_s": median([r["cold_s"] for r in ok]), "report": ok[0].get("report")}
                            if ok else runs[0])

        def rss(r):
            return r["error"] if "error" in r else "%.0f (+%.0f)" % (r["peak_kb"] / 1024, r["model_kb"] / 1024)
        n, ref, dflt = res["numlite"], res["litert-ref"], res["litert-default"]

        def ratio(other):
            return "%.2fx" % (n["peak_kb"] / other["peak_kb"]) if "error" not in n and "error" not in other else "n/a"
        rep = n.get("report")
        report = ("%.1f / %.1f / %.1f MB" % (rep["arena"] / 2**20, rep["persistent"] / 2**20, rep["total"] / 2**20)
                  if rep else "n/a")
        cold = lambda r: "n/a" if "error" in r else "%.0f" % (r["cold_s"] * 1e3)  # noqa: E731
        lines.append("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
            label, rss(n), rss(ref), rss(dflt), ratio(ref), ratio(dflt), report, cold(n), cold(ref), cold(dflt)))
        print(lines[-1], flush=True)
    with open(args.out, "w") as f:
        f.write("\n".join(lines) + "\n")
    print("wrote", args.out)


if __name__ == "__main__":
    main()
