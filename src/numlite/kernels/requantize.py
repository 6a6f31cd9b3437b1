"""Transitional: the legacy-kernel helpers ``quantized_pooling.py`` still imports from here.

QUANTIZE between integer types moved to :mod:`numlite.kernels.quantize`; the helpers' homes are
:mod:`numlite.kernels.quant` (``c_div_round``, ``tensor_params``) and
:mod:`numlite.kernels.operands` (``arity``, ``same_type``). Delete this module once
quantized_pooling.py is converted to the kernel contract.
"""
from .common import model_error
from .quant import c_div_round, tensor_params as qparams

__all__ = ["c_div_round", "model_error", "node_io", "qparams", "same_type"]


def node_io(kernel, inputs, outputs, n_in, n_out=1):
    """Check input/output counts (``n_in``: an int or a tuple of allowed counts) and that the
    inputs are present; returns the inputs."""
    allowed = (n_in,) if isinstance(n_in, int) else tuple(n_in)
    if len(inputs) not in allowed or len(outputs) != n_out:
        raise model_error(kernel, "expected %s input(s) and %d output(s), got %d and %d"
                          % (" or ".join(map(str, allowed)), n_out, len(inputs), len(outputs)))
    for k, s in enumerate(inputs):
        if s is None:
            raise model_error(kernel, "input %d is missing" % k)
    return inputs


def same_type(kernel, spec, ref, what="output"):
    if spec.type_name != ref.type_name:
        raise model_error(kernel, "%s type %s differs from input type %s" % (what, spec.type_name, ref.type_name))
