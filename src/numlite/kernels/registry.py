"""Operator registry: builtin name (or custom code) → kernel classes, with version ranges.

A kernel is a small class::

    @register("ADD", versions=(1, 5))
    class Add(Kernel):
        def prepare(self, inputs, outputs):   # TensorSpec lists; set outputs[i].shape
            ...
        def eval(self, inputs, outputs):      # arrays; fill outputs[i] in place or return arrays
            ...

``prepare`` runs once per allocation: it validates dtypes, infers output shapes, and
precomputes whatever ``eval`` needs (padding, multipliers, index tables) onto ``self``.
``eval`` does array work only. Setting ``outputs[i].shape = None`` in prepare marks the output
dynamic (its shape depends on input values): ``eval`` must then return it.

Reference kernels (``variant="reference"``) are the specification. Fast variants register
beside them under the same op and are chosen at prepare time unless the interpreter asks for
BUILTIN_REF; each fast kernel may refuse a node by returning False from ``supports``.
"""
from ..errors import UnsupportedOpError

_REGISTRY = {}


class Kernel:
    """Base class for kernels. ``self.op`` is the IR operator; ``self.options`` its options."""

    variant = "reference"

    def __init__(self, op, context=None):
        self.op = op
        self.options = op.options
        self.context = context

    @classmethod
    def supports(cls, op, inputs, outputs):
        return True

    def prepare(self, inputs, outputs):  # pragma: no cover - interface
        raise NotImplementedError

    def eval(self, inputs, outputs):  # pragma: no cover - interface
        raise NotImplementedError


def register(opcode, versions=(1, 1), variant="reference", types=None, match=None):
    """Class decorator registering a kernel for ``opcode`` (builtin name or custom code).

    ``types``: the input-0 tensor types (e.g. ``("INT8", "UINT8")``) this class handles;
    ``match``: a predicate ``match(inputs) -> bool`` on the node's input TensorSpecs (e.g. float
    input with int8 weights for hybrid kernels). A specialised class (types and/or match) takes
    precedence over the generic class of the same op whenever it applies, so quantized and
    hybrid kernels live beside the float ones in their own modules.
    """
    lo, hi = versions
    tset = tuple(types) if types else None

    def applies(inputs):
        t = inputs[0].type_name if inputs and inputs[0] is not None else None
        return (tset is None or t in tset) and (match is None or bool(match(inputs)))
    special = applies if (types or match) else None

    def deco(cls):
        cls.variant = variant
        names = opcode if isinstance(opcode, (list, tuple)) else [opcode]
        for name in names:
            _REGISTRY.setdefault(name, []).append((lo, hi, variant, cls, special))
        return cls
    return deco


def lookup(op, node_index, reference_only, inputs=None, outputs=None):
    """Return the kernel class for ``op``; raise UnsupportedOpError naming op, version, node."""
    _load_all()
    entries = _REGISTRY.get(op.opcode)
    if not entries:
        raise UnsupportedOpError(op.opcode if not op.custom else "custom op %r" % op.opcode, op.version, node_index)
    matching = [e for e in entries if e[0] <= op.version <= e[1]]
    if not matching:
        raise UnsupportedOpError(op.opcode, op.version, node_index,
                                 "numlite supports versions %s" % ", ".join(sorted({"%d-%d" % (e[0], e[1]) for e in entries})))
    typed = [e for e in matching if e[4] is not None and inputs is not None and e[4](inputs)]
    matching = typed or [e for e in matching if e[4] is None] or matching
    if not reference_only:
        for lo, hi, variant, cls, _ in matching:
            if variant != "reference" and (inputs is None or cls.supports(op, inputs, outputs)):
                return cls
    for lo, hi, variant, cls, _ in matching:
        if variant == "reference":
            return cls
    return matching[0][3]


def registered_ops():
    _load_all()
    return {name: sorted({(lo, hi, v) for lo, hi, v, _, _ in entries}) for name, entries in _REGISTRY.items()}


_loaded = False


def _load_all():
    global _loaded
    if _loaded:
        return
    import importlib
    import pkgutil
    from .. import kernels
    for mod in pkgutil.iter_modules(kernels.__path__):
        if mod.name not in ("registry", "fixedpoint", "common"):
            importlib.import_module("numlite.kernels." + mod.name)
    # Only now: a module failing to import must not leave a half-filled registry marked complete.
    _loaded = True
    try:
        from .. import accel  # optional fast variants
        for mod in pkgutil.iter_modules(accel.__path__):
            importlib.import_module("numlite.accel." + mod.name)
    except ImportError:
        pass
