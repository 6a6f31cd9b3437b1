"""``numlite demo``: classify real handwritten digits with a real bundled .tflite model.

The model (data/digits.tflite) is a small CNN trained on scikit-learn's copy of the UCI
handwritten digits data set and converted by the official TFLite converter
(tools/make_models.py); data/digits_samples.npz holds held-out test digits. See data/README.md.
"""
import os
import time

import numpy as np

DATA = os.path.join(os.path.dirname(__file__), "data")


def _ascii(img):
    shades = " .:-=+*#%@"
    v = np.clip(img.reshape(img.shape[0], img.shape[1]), 0, 1)
    return ["".join(shades[int(x * 9)] * 2 for x in row) for row in v]


def run_demo(verbose=False):
    from . import Interpreter
    model_path = os.path.join(DATA, "digits.tflite")
    with np.load(os.path.join(DATA, "digits_samples.npz")) as z:
        images, labels = z["images"].astype(np.float32), z["labels"]
    t0 = time.perf_counter()
    interp = Interpreter(model_path=model_path)
    interp.allocate_tensors()
    load_ms = (time.perf_counter() - t0) * 1e3
    inp = interp.get_input_details()[0]
    out = interp.get_output_details()[0]
    print("numlite demo: %s (%d bytes), input %s %s, %d bytes allocated, loaded in %.1f ms"
          % (os.path.basename(model_path), os.path.getsize(model_path), np.dtype(inp["dtype"]).name,
             inp["shape"].tolist(), interp.runtime.memory().total, load_ms))
    preds, times = [], []
    for img in images:
        interp.set_tensor(inp["index"], img[None].astype(inp["dtype"]))
        t = time.perf_counter()
        interp.invoke()
        times.append(time.perf_counter() - t)
        probs = interp.get_tensor(out["index"])[0]
        preds.append(int(np.argmax(probs)))
    preds = np.array(preds)
    correct = int((preds == labels).sum())
    for k in range(min(3, len(images))):
        print("\n".join("  " + line for line in _ascii(images[k])))
        print("  -> predicted %d (label %d)\n" % (preds[k], labels[k]))
    if verbose:
        for k, (p, l) in enumerate(zip(preds, labels)):
            print("  sample %2d: predicted %d, label %d%s" % (k, p, l, "" if p == l else "  <- miss"))
    t = np.array(times) * 1e3
    print("classified %d handwritten digits: %d correct (%.1f%%); invoke median %.3f ms, total %.1f ms"
          % (len(labels), correct, 100.0 * correct / len(labels), np.median(t), t.sum()))
    return 0 if correct >= 0.8 * len(labels) else 1
