import json
import os
import subprocess
import sys

import numpy as np
from PIL import Image

from numlite.cli import main

DATA = os.path.join(os.path.dirname(__file__), "..", "models", "data")
DIGITS = os.path.join(os.path.dirname(__file__), "..", "..", "src", "numlite", "data")
INT8 = os.path.join(DATA, "mobilenet_like_int8.tflite")


def _digits_model():
    from numlite.demo import DATA as d
    return os.path.join(d, "digits.tflite"), os.path.join(d, "digits_samples.npz")


def test_inspect_json(capsys):
    model, _ = _digits_model()
    assert main(["inspect", model, "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["inputs"][0]["shape"] == [1, 8, 8, 1]
    assert info["inputs"][0]["dtype"] == "float32"
    assert info["outputs"][0]["shape"] == [1, 10]
    assert info["operators"]["CONV_2D"] >= 1
    assert info["arena_bytes"] > 0
    assert "serving_default" in info["signatures"]


def test_inspect_text_shows_quantization(capsys):
    assert main(["inspect", os.path.join(DATA, "mobilenet_like_int8.tflite"), "--tensors"]) == 0
    out = capsys.readouterr().out
    assert "q(scale=" in out and "per-channel" in out
    assert "operators:" in out and "CONV_2D" in out


def test_run_npy_and_save(tmp_path, capsys):
    model, samples = _digits_model()
    with np.load(samples) as z:
        img, label = z["images"][:1], int(z["labels"][0])
    np.save(tmp_path / "x.npy", img.astype(np.float32))
    out = tmp_path / "out.npz"
    assert main(["run", model, "-i", "serving_default_image:0=%s" % (tmp_path / "x.npy"), "-o", str(out), "--top", "1"]) == 0
    with np.load(out) as z:
        probs = z[z.files[0]]
    assert probs.shape == (1, 10) and int(np.argmax(probs)) == label
    assert "top-1" in capsys.readouterr().out


def test_run_image(tmp_path):
    model, samples = _digits_model()
    with np.load(samples) as z:
        img = z["images"][0, :, :, 0]
    Image.fromarray((img * 255).astype(np.uint8)).save(tmp_path / "d.png")
    assert main(["run", model, "-i", str(tmp_path / "d.png")]) == 0


def test_benchmark_with_litert(capsys):
    model, _ = _digits_model()
    assert main(["benchmark", model, "--runs", "3", "--litert", "--profile"]) == 0
    out = capsys.readouterr().out
    assert "numlite" in out and "litert-ref" in out and "CONV_2D" in out


def test_demo_subprocess():
    r = subprocess.run([sys.executable, "-m", "numlite", "demo"], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert "classified 30 handwritten digits" in r.stdout


def test_model_error_exit_code(tmp_path, capsys):
    bad = tmp_path / "bad.tflite"
    bad.write_bytes(b"\x10\x00\x00\x00TFL3" + b"\x00" * 8)
    assert main(["inspect", str(bad)]) == 2
    assert "model error" in capsys.readouterr().err


def test_compare_reference_agrees_layer_by_layer(capsys):
    assert main(["compare", INT8]) == 0
    out = capsys.readouterr().out
    assert "all 16 operator outputs agree" in out
    assert out.count(" 0 LSB") == 16


def test_compare_reports_first_difference(tmp_path, capsys):
    from numlite.compare import compare_model, format_rows
    rows = compare_model(INT8)
    # Perturb one tensor's result as if a kernel were off by one step: the table must point at it.
    node, opcode, t, name, dtype, _, unit = rows[5]
    rows[5] = (node, opcode, t, name, dtype, 1.0, unit)
    text, first = format_rows(rows)
    assert first == node and "<- first difference" in text


def test_compare_given_inputs(tmp_path, capsys):
    x = np.random.default_rng(1).integers(-128, 127, (1, 64, 64, 3)).astype(np.int8)
    np.save(tmp_path / "x.npy", x)
    assert main(["compare", INT8, "-i", "0=%s" % (tmp_path / "x.npy")]) == 0
