"""`numlite ops` (generated from the registry), `numlite inspect`'s memory report, the demo's output,
and lazy loading of kernel families."""
import json
import os
import subprocess
import sys

from numlite.cli import main

DATA = os.path.join(os.path.dirname(__file__), "..", "models", "data")
SRC = os.path.join(os.path.dirname(__file__), "..", "..", "src")


def test_ops_json_lists_every_registered_op(capsys):
    from numlite.kernels.registry import registered_ops
    assert main(["ops", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    by_op = {r["op"]: r for r in rows}
    assert set(by_op) == set(registered_ops())
    assert by_op["CONV_2D"]["versions"][0] == 1 and by_op["CONV_2D"]["versions"][1] >= 6
    assert "INT8" in by_op["CONV_2D"]["types"]
    assert "reference" in by_op["ADD"]["variants"]
    assert "custom:Convolution2DTransposeBias" in by_op


def test_ops_text(capsys):
    assert main(["ops"]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0].split()[:2] == ["op", "versions"]
    assert any(line.startswith("FULLY_CONNECTED ") for line in lines)
    assert lines[-1].endswith(" ops")


def test_inspect_reports_memory_by_kind(capsys):
    model = os.path.join(DATA, "mobilenet_like_int8.tflite")
    assert main(["inspect", model, "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    m = info["memory"]
    assert m["arena"] == info["arena_bytes"] > 0
    assert m["total"] == m["arena"] + m["persistent"] + m["variables"] + m["constants_owned"]
    assert m["constants_mapped"] > 0      # the weights are read in place from the file
    assert main(["inspect", model]) == 0
    out = capsys.readouterr().out
    assert "persistent" in out and "scratch" in out and "read in place" in out


def test_demo_prints_plain_shapes():
    r = subprocess.run([sys.executable, "-m", "numlite", "demo"], capture_output=True, text=True,
                       env=dict(os.environ, PYTHONPATH=SRC))
    assert r.returncode == 0, r.stderr
    first = r.stdout.splitlines()[0]
    assert "[1, 8, 8, 1]" in first and "np.int" not in first
    assert r.stderr == ""


def test_a_model_imports_only_the_kernel_families_it_uses():
    code = ("import sys, numlite; it = numlite.Interpreter(model_path=%r); it.allocate_tensors(); "
            "print(sorted(m for m in sys.modules if m.startswith('numlite.kernels.')))"
            % os.path.join(DATA, "mlp.tflite"))
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=dict(os.environ, PYTHONPATH=SRC))
    assert r.returncode == 0, r.stderr
    loaded = set(eval(r.stdout))
    families = {m.split(".")[2] for m in loaded}
    # An MLP needs the matmul family (and whatever its activations use), not conv, sequence, resize...
    for absent in ("lstm", "sequence", "resize", "conv", "pooling", "reduce", "svdf", "rnn"):
        assert absent not in families, sorted(loaded)


def test_readme_operator_table_is_generated_from_the_registry():
    r = subprocess.run([sys.executable, os.path.join(SRC, "..", "tools", "gen_readme_ops.py"), "--check"],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
