"""SVDF: a fully connected layer factored into a feature and a time filter, with memory.

Inputs: input [batch, input_size], weights_feature [num_filters, input_size], weights_time
[num_filters, memory_size], optional bias [num_units], and the variable activation state
[batch, memory_size * num_filters] (num_filters = num_units * rank). Each invoke shifts every
filter's memory left by one, writes the feature projection of the input into the newest slot,
takes the dot product of each filter's memory with its time weights, sums groups of ``rank``
filters into units, adds the bias and applies the fused activation.

Three variants, as LiteRT's svdf.cc dispatches on the weights_feature type:

* float32 (EvalFloatSVDF);
* hybrid: float input, int8 weights_feature and weights_time (EvalHybridSVDF): the input is
  quantized per batch row (symmetric, or asymmetric with ``asymmetric_quantize_inputs``), the
  feature product runs in int32 and is scaled to float; the time weights are dequantized to
  float32 and the time product runs in float like the float kernel;
* full integer: int8 input / output, int8 weights_feature, int16 weights_time, int32 bias and
  an int16 state (EvalIntegerSVDF).

The state is updated in place, so it carries over between invokes.
"""
import numpy as np

from ...schema.enums import ActivationFunctionType as Act
from .. import fixedpoint as fp
from ..contract import Kernel
from ..hybrid import (apply_activation, fused_activation, hybrid_dot, is_zero_vector, nonfinite_ok, quantize_rows,
                      weight_row_sums)
from ..operands import arity, check_rank, check_type
from ..quant import exact_dtype, exact_matmul, qparams, value_bound
from ..registry import register

F32 = np.float32
VERSIONS = (1, 4)


def _is_hybrid(inputs):
    return (len(inputs) > 1 and inputs[0] is not None and inputs[0].type_name == "FLOAT32"
            and inputs[1] is not None and inputs[1].type_name in ("INT8", "UINT8"))


class _Svdf(Kernel):
    """Node validation shared by the three variants (svdf.cc Prepare)."""

    # (weights_feature, weights_time, bias, state, output) types of the variant.
    operand_types = None

    def setup(self, node, inputs, outputs):
        # The bias (input 3) is optional.
        arity(node, inputs, outputs, 5, required=3)
        x, wf, wt, bias, state = inputs
        if state is None:
            raise node.error("required activation state (input 4) is missing")
        if not state.is_variable:
            # LiteRT's GetVariableInput refuses a state that is not a variable tensor.
            raise node.error("the activation state (input 4) must be a variable tensor")
        for spec, rank, what in ((x, 2, "input"), (wf, 2, "weights_feature"), (wt, 2, "weights_time"),
                                 (state, 2, "activation state")):
            check_rank(node, spec, rank, what)
        if bias is not None:
            check_rank(node, bias, 1, "bias")
        rank = int(node.options.rank)
        batch, input_size = x.shape
        num_filters = wf.shape[0]
        if rank <= 0:
            raise node.error("rank must be positive, got %d" % rank)
        if num_filters % rank:
            raise node.error("%d filters are not divisible by rank %d" % (num_filters, rank))
        units, memory = num_filters // rank, wt.shape[1]
        if wf.shape[1] != input_size:
            raise node.error("weights_feature has %d columns, the input %d" % (wf.shape[1], input_size))
        if wt.shape[0] != num_filters:
            raise node.error("weights_time has %d rows, expected %d filters" % (wt.shape[0], num_filters))
        if memory < 1:
            # LiteRT writes the newest activation at index memory_size - 1: out of bounds here.
            raise node.error("memory size must be at least 1")
        if bias is not None and bias.shape[0] != units:
            raise node.error("bias has %d elements, expected %d units" % (bias.shape[0], units))
        if tuple(state.shape) != (batch, memory * num_filters):
            raise node.error("activation state has shape %s, expected %s"
                             % (tuple(state.shape), (batch, memory * num_filters)))
        for spec, allowed, what in zip((wf, wt, bias, state, outputs[0]), self.operand_types,
                                       ("weights_feature", "weights_time", "bias", "activation state", "output")):
            if spec is not None:
                check_type(node, spec, (allowed,), what)
        self.rank, self.units, self.memory = rank, units, memory
        self.state_shape = (batch, num_filters, memory)
        outputs[0].shape = (batch, units)

    def push(self, state, newest):
        """Shift each filter's memory left by one and store ``newest`` [batch, filters] last.
        LiteRT shifts the whole state buffer by one element; every slot that crosses a filter
        boundary is the one overwritten by the newest value, so this is the same."""
        s = state.reshape(self.state_shape)
        new = np.concatenate([s[:, :, 1:], newest[:, :, None].astype(state.dtype, copy=False)], axis=2)
        state[...] = new.reshape(state.shape)
        return new


class _FloatTime(_Svdf):
    """The float tail of both float and hybrid SVDF (ApplyTimeWeightsBiasAndActivation)."""

    def setup_float(self, node, inputs, outputs):
        self.setup(node, inputs, outputs)
        self.act = fused_activation(node, clamps_only=False)
        self.filter_sums = node.scratch(self.state_shape[:2], F32)

    def time_and_output(self, mem, wt, bias, out):
        """BatchVectorBatchVectorDotProduct and ReductionSumVector add in float32 one term at a
        time from 0.0; numlite keeps that order (loops over memory slots and rank, vectorised over
        batch and filters). ApplyActivationToVector applies every activation, TANH and SIGN_BIT
        included."""
        scratch = self.filter_sums.array
        scratch[...] = 0
        with nonfinite_ok():
            for m in range(self.memory):
                scratch += wt[None, :, m] * mem[:, :, m]
            parts = scratch.reshape(mem.shape[0], self.units, self.rank)
            out[...] = 0
            for r in range(self.rank):
                out += parts[:, :, r]
            if bias is not None:
                out += bias.astype(F32, copy=False)
        apply_activation(out, self.act)


@register("SVDF", versions=VERSIONS)
class FloatSvdf(_FloatTime):
    """float32 SVDF (EvalFloatSVDF). The feature product is formed in float64 and rounded once;
    LiteRT's float32 dot products differ from it by float rounding only."""

    operand_types = ("FLOAT32", "FLOAT32", "FLOAT32", "FLOAT32", "FLOAT32")
    input_types = ("FLOAT32",)

    def prepare(self, node, inputs, outputs):
        check_type(node, inputs[0], self.input_types)
        self.setup_float(node, inputs, outputs)

    def eval(self, node, inputs, outputs):
        x, wf, wt, bias, state = inputs
        with np.errstate(over="ignore", invalid="ignore"):      # ±inf / NaN, float32 overflow: IEEE results
            feature = (x.astype(np.float64) @ wf.astype(np.float64).T).astype(F32)
        mem = self.push(state, feature)
        self.time_and_output(mem, wt, bias, outputs[0])


@register("SVDF", versions=VERSIONS, match=_is_hybrid)
class HybridSvdf(_FloatTime):
    """Hybrid SVDF (EvalHybridSVDF). Each input row is quantized (BatchQuantizeFloats), its
    scale multiplied by the weights_feature scale in float32; the int32 dot product (minus
    row_sum * offset for asymmetric inputs, wrapping in int32) times that scale is the newest
    state value. The time weights are dequantized once as float32(int8 * scale)."""

    operand_types = ("INT8", "INT8", "FLOAT32", "FLOAT32", "FLOAT32")
    input_types = ("FLOAT32",)      # as _is_hybrid requires

    def prepare(self, node, inputs, outputs):
        self.setup_float(node, inputs, outputs)
        wf, wt = inputs[1], inputs[2]
        # LiteRT reads the legacy per-tensor params.scale, which is 0 for multi-scale tensors.
        self.wf_scale = self._scale(node, wf, "weights_feature")
        self.wt_scale = self._scale(node, wt, "weights_time")
        self.asymmetric = bool(node.options.asymmetric_quantize_inputs)
        self.ctype = exact_dtype(wf.shape[1], 255 if self.asymmetric else 127, value_bound(wf.type_name, 0, wf.data))
        self.const_wf = self._feature_weights(wf.data) if wf.data is not None else None
        self.const_wt = self._time_weights(wt.data) if wt.data is not None else None

    @staticmethod
    def _scale(node, spec, what):
        q = qparams(node, spec, what)
        if q.per_channel:
            raise node.unsupported("%s with %d scales (hybrid SVDF needs one per-tensor scale)" % (what, q.scale.size))
        return q.tensor_scale

    def _feature_weights(self, wf):
        return np.asarray(wf, self.ctype).T, weight_row_sums(wf)

    def _time_weights(self, wt):
        return (wt.astype(F32) * self.wt_scale).astype(F32)

    def eval(self, node, inputs, outputs):
        x, wf, wt, bias, state = inputs
        wmat, row_sums = self.const_wf if self.const_wf is not None else self._feature_weights(wf)
        wt_f = self.const_wt if self.const_wt is not None else self._time_weights(wt)
        # The product accumulates onto a zeroed scratch, skipped for an all-zero input batch.
        feature = np.zeros((x.shape[0], wmat.shape[1]), F32)
        if not is_zero_vector(x):
            quantized = quantize_rows(np.asarray(x, F32), self.asymmetric)
            dot = hybrid_dot(quantized, wmat, row_sums if self.asymmetric else None)
            with nonfinite_ok():
                factors = (quantized[1] * self.wf_scale).astype(F32)
                feature = dot.astype(F32) * factors[:, None] + feature
        mem = self.push(state, feature)
        self.time_and_output(mem, wt_f, bias, outputs[0])


@register("SVDF", versions=VERSIONS, types=("INT8",))
class IntegerSvdf(_Svdf):
    """Full-integer SVDF (EvalIntegerSVDF). Two effective scales, input * weights_feature /
    state and state * weights_time / output, are formed in float32 — the released LiteRT
    multiplies the float scales before widening to double (newer sources widen first, which
    changes the Q31 multiplier in its last bits) — and applied with
    MultiplyByQuantizedMultiplier (int32, double-rounding variant). The feature product (input
    minus its zero point) is rescaled to the int16 state and saturated there, the state's zero
    point taken as 0; the time product and the rank reduction are int32 (wrapping); then the
    bias is added and the result rescaled to the int8 output. LiteRT accepts only a fused RELU
    here, yet does not clamp at zero: the output clamp is the whole int8 range."""

    operand_types = ("INT8", "INT16", "INT32", "INT16", "INT8")

    def prepare(self, node, inputs, outputs):
        self.setup(node, inputs, outputs)
        if node.options.fused_activation_function != Act.RELU:
            raise node.unsupported("full-integer SVDF supports only a fused RELU activation")
        x, wf, wt, _, state = inputs
        q_in, q_wf, q_wt, q_state, q_out = (qparams(node, spec, what) for spec, what in (
            (x, "input"), (wf, "weights_feature"), (wt, "weights_time"), (state, "activation state"),
            (outputs[0], "output")))
        s_in, s_wf, s_wt, s_state, s_out = (q.tensor_scale for q in (q_in, q_wf, q_wt, q_state, q_out))
        self.in_zp, self.out_zp = q_in.tensor_zero_point, q_out.tensor_zero_point
        self.m1 = fp.quantize_multiplier_scalar(np.float64(s_in * s_wf / s_state))
        self.m2 = fp.quantize_multiplier_scalar(np.float64(s_state * s_wt / s_out))
        self.ctype = exact_dtype(wf.shape[1], value_bound(x.type_name, self.in_zp),
                                 value_bound(wf.type_name, 0, wf.data))
        self.const_wf = self._feature_weights(wf.data) if wf.data is not None else None

    def _feature_weights(self, wf):
        return np.asarray(wf, self.ctype).T

    def eval(self, node, inputs, outputs):
        x, wf, wt, bias, state = inputs
        wmat = self.const_wf if self.const_wf is not None else self._feature_weights(wf)
        acc = fp.wrap_int32(exact_matmul(x.astype(self.ctype) - self.in_zp, wmat))
        feature = np.clip(fp.multiply_by_quantized_multiplier(acc, *self.m1), -32768, 32767)
        mem = self.push(state, feature).astype(np.int64)
        scratch = (mem * wt.astype(np.int64)[None]).sum(axis=2)
        acc = scratch.reshape(mem.shape[0], self.units, self.rank).sum(axis=2)
        if bias is not None:
            acc = acc + bias.astype(np.int64)
        res = fp.multiply_by_quantized_multiplier(fp.wrap_int32(acc), *self.m2) + self.out_zp
        outputs[0][...] = np.clip(res, -128, 127)
