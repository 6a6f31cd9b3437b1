"""The arrows of docs/architecture.md, checked on the source: kernels see only the contract and
the helper homes; families do not import each other; the schema and IR know nothing of the
runtime; nothing imports the optional fast package but the registry."""
import ast
import os

import pytest

SRC = os.path.join(os.path.dirname(__file__), "..", "..", "src", "numlite")
KERNELS = os.path.join(SRC, "kernels")
HELPER_HOMES = {"contract", "registry", "operands", "quant", "fused", "fixedpoint", "fixedpoint_nonlinear",
                "eigen", "geometry", "hybrid", "_index"}


def _modules(root):
    for dirpath, _dirs, files in os.walk(root):
        for f in files:
            if f.endswith(".py"):
                yield os.path.join(dirpath, f)


def _imports(path):
    """Absolute dotted names a module imports (relative imports resolved)."""
    rel = os.path.relpath(path, os.path.dirname(SRC))[:-3].replace(os.sep, ".")
    package = rel.split(".")[:-1] if not rel.endswith("__init__") else rel.split(".")[:-1]
    with open(path) as f:
        tree = ast.parse(f.read())
    names = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = package[:len(package) - node.level + 1] if node.level else []
            mod = ".".join(base + ([node.module] if node.module else []))
            if node.module:
                names.append(mod)
            names += [mod + "." + a.name for a in node.names]
    return names


def _family(path):
    rel = os.path.relpath(path, KERNELS).replace(os.sep, "/")
    return rel.split("/")[0].replace(".py", "")


KERNEL_FILES = sorted(_modules(KERNELS))


@pytest.mark.parametrize("path", KERNEL_FILES, ids=lambda p: os.path.relpath(p, KERNELS))
def test_kernels_import_no_runtime_interpreter_or_cli(path):
    bad = [n for n in _imports(path)
           if n.startswith(("numlite.runtime", "numlite.interpreter", "numlite.cli", "numlite.accel"))]
    assert not bad, bad


@pytest.mark.parametrize("path", [p for p in KERNEL_FILES if _family(p) not in HELPER_HOMES and
                                  not p.endswith("kernels/__init__.py")],
                         ids=lambda p: os.path.relpath(p, KERNELS))
def test_families_import_only_helper_homes_and_themselves(path):
    family = _family(path)
    for name in _imports(path):
        if not name.startswith("numlite.kernels."):
            continue
        target = name.split(".")[2]
        assert target in HELPER_HOMES or target == family, "%s imports %s" % (family, name)


@pytest.mark.parametrize("path", sorted(_modules(os.path.join(SRC, "schema"))) + [os.path.join(SRC, "ir.py")],
                         ids=lambda p: os.path.relpath(p, SRC))
def test_schema_and_ir_know_nothing_of_runtime_or_kernels(path):
    bad = [n for n in _imports(path) if n.startswith(("numlite.runtime", "numlite.kernels", "numlite.interpreter"))]
    assert not bad, bad
