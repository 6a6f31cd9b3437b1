"""Every kernel registration declares the input-0 types it runs, so `numlite ops` lists them all."""
import numpy as np

from numlite.cli import main, op_table
from numlite.kernels.registry import registrations
from numlite.schema.enums import TENSOR_TYPE


def _declared(entry):
    return entry.types if entry.types is not None else getattr(entry.cls, "input_types", None)


def test_every_registration_declares_its_input_types():
    undeclared = ["%s: %s.%s" % (name, e.cls.__module__, e.cls.__qualname__)
                  for name, e in registrations() if e.cls.__module__.startswith("numlite.") and not _declared(e)]
    assert not undeclared, "registrations without types= or input_types: %s" % ", ".join(undeclared)


def test_declared_types_are_tensor_type_names():
    for name, e in registrations():
        types = _declared(e)
        if types is None:
            continue
        assert isinstance(types, tuple), "%s: %s.input_types is not a tuple" % (name, e.cls.__qualname__)
        bad = [t for t in types if t not in TENSOR_TYPE]
        assert not bad, "%s: %s declares unknown types %s" % (name, e.cls.__qualname__, bad)
        assert len(set(types)) == len(types), "%s: %s lists a type twice" % (name, e.cls.__qualname__)


def test_ops_listing_is_complete(capsys):
    assert all(r["types_complete"] and r["types"] for r in op_table())
    assert main(["ops"]) == 0
    out = capsys.readouterr().out
    assert "(checked at prepare)" not in out and ", ..." not in out


def test_a_registration_without_declared_types_is_listed_as_incomplete(monkeypatch):
    from numlite.kernels import registry

    class Undeclared:
        def prepare(self, node, inputs, outputs):
            outputs[0].shape = inputs[0].shape

        def eval(self, node, inputs, outputs):
            np.copyto(outputs[0], inputs[0])
    monkeypatch.setattr(registry, "_REGISTRY", dict(registry._REGISTRY))   # leave no global trace
    registry.register("UndeclaredTypes_test", custom=True)(Undeclared)
    row = next(r for r in op_table() if r["op"] == "custom:UndeclaredTypes_test")
    assert row["types"] == [] and not row["types_complete"]
