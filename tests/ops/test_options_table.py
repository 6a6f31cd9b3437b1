"""Operators without an options table: LiteRT reads some options differently from the schema's
defaults then (int16 ADD/SUB take the general rescaling path, pot_scale_int16 = false)."""
import numpy as np
import pytest

from harness import In, assert_outputs_match, run_litert, run_numlite, single_op_model


@pytest.mark.parametrize("opcode", ["ADD", "SUB"])
@pytest.mark.parametrize("with_table", [False, True])
def test_int16_add_sub_with_and_without_options_table(opcode, with_table):
    rng = np.random.default_rng(3)
    # Power-of-two scales, one input at the output scale: the pot path applies when the table
    # says so; without a table LiteRT takes the general path, whose rounding differs.
    a = In(rng.integers(-30000, 30000, (2, 5)).astype(np.int16), (2.0 ** -9, 0))
    b = In(rng.integers(-30000, 30000, (2, 5)).astype(np.int16), (2.0 ** -10, 0))
    opts = {"fused_activation_function": "NONE"} if with_table else {}
    model, feed = single_op_model(opcode, [a, b], [(np.int16, (2.0 ** -9, 0))], **opts)
    want = run_litert(model, feed)
    assert_outputs_match(run_numlite(model, feed), want, what="%s table=%s" % (opcode, with_table))
