"""Operand layout of TFLite's LSTM ops, shared by the float, hybrid and integer LSTM kernels.

LSTM and UNIDIRECTIONAL_SEQUENCE_LSTM take 20 operands, or 24 with layer normalisation; the
optional ones (CIFG drops the input gate, peepholes, projection, layer norm) are index -1 in the
model. BIDIRECTIONAL_SEQUENCE_LSTM has its own, longer layout (forward and backward blocks, aux
inputs; see lstm.py). The checks here are the parts of LiteRT's CheckInputTensorDimensions that
the float and integer kernels share.
"""
import numpy as np

INPUT = 0
INPUT_TO_INPUT_W, INPUT_TO_FORGET_W, INPUT_TO_CELL_W, INPUT_TO_OUTPUT_W = 1, 2, 3, 4
RECURRENT_TO_INPUT_W, RECURRENT_TO_FORGET_W, RECURRENT_TO_CELL_W, RECURRENT_TO_OUTPUT_W = 5, 6, 7, 8
CELL_TO_INPUT_W, CELL_TO_FORGET_W, CELL_TO_OUTPUT_W = 9, 10, 11          # peepholes (diagonal)
INPUT_GATE_BIAS, FORGET_GATE_BIAS, CELL_GATE_BIAS, OUTPUT_GATE_BIAS = 12, 13, 14, 15
PROJECTION_W, PROJECTION_BIAS = 16, 17
OUTPUT_STATE, CELL_STATE = 18, 19                                         # variable tensors
INPUT_LAYER_NORM, FORGET_LAYER_NORM, CELL_LAYER_NORM, OUTPUT_LAYER_NORM = 20, 21, 22, 23

# Gate order used throughout numlite's LSTM kernels: input, forget, cell, output.
GATES = ("input", "forget", "cell", "output")
INPUT_GATE, FORGET_GATE, CELL_GATE, OUTPUT_GATE = range(4)
INPUT_WEIGHTS = (INPUT_TO_INPUT_W, INPUT_TO_FORGET_W, INPUT_TO_CELL_W, INPUT_TO_OUTPUT_W)
RECURRENT_WEIGHTS = (RECURRENT_TO_INPUT_W, RECURRENT_TO_FORGET_W, RECURRENT_TO_CELL_W, RECURRENT_TO_OUTPUT_W)
PEEPHOLES = (CELL_TO_INPUT_W, CELL_TO_FORGET_W, None, CELL_TO_OUTPUT_W)
BIASES = (INPUT_GATE_BIAS, FORGET_GATE_BIAS, CELL_GATE_BIAS, OUTPUT_GATE_BIAS)
LAYER_NORMS = (INPUT_LAYER_NORM, FORGET_LAYER_NORM, CELL_LAYER_NORM, OUTPUT_LAYER_NORM)

LSTM_KERNEL_BASIC = 1                    # LSTMKernelType.BASIC in LSTMOptions.kernel_type


def operand(inputs, i):
    """Operand ``i`` or None when omitted (index -1) or beyond the node's operand list."""
    return inputs[i] if i < len(inputs) else None


def check_operand_count(node, inputs, counts=(20, 24)):
    if len(inputs) not in counts:
        raise node.error("expected %s inputs, got %d" % (" or ".join(map(str, counts)), len(inputs)))


def lstm_structure(inputs):
    """Which optional parts a node uses, from which operands are present (LiteRT's CheckInputTensorDimensions
    rules: CIFG iff input-gate weights are absent; peepholes, projection and layer norm iff given)."""
    cifg = operand(inputs, INPUT_TO_INPUT_W) is None
    peephole = operand(inputs, CELL_TO_FORGET_W) is not None
    projection = operand(inputs, PROJECTION_W) is not None
    layer_norm = operand(inputs, FORGET_LAYER_NORM) is not None
    return cifg, peephole, projection, layer_norm


def check_state(node, spec, n, what):
    """A state operand: a variable tensor (LiteRT's GetVariableInput) with ``n`` elements, any shape."""
    if spec is None or not spec.is_variable:
        raise node.error("%s must be a variable tensor" % what)
    if spec.shape is None or int(np.prod(spec.shape)) != n:
        raise node.error("%s has shape %s, expected %d elements" % (what, spec.shape, n))


def check_projection_size(node, projection, n_output, n_cell):
    """Without projection the hidden state is the cell output: LiteRT does not check the sizes and
    copies n_output values of each n_cell-wide row; numlite refuses the node."""
    if not projection and n_output != n_cell:
        raise node.error("without projection the output size %d must equal the cell count %d" % (n_output, n_cell))
