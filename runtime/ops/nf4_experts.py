"""`NF4Experts`: gpt-oss experts with every expert's matrices quantized to 4 bits on its own, dequantized just in
time inside the op: one expert at a time in eager calls (training, prefill), one layer at a time in compiled decoding.

Storage, per matrix M in (gate_up_proj [E, H, 2I], down_proj [E, I, H], transformers' layout): `M` is a uint8
parameter [E, H*2I/2] of packed codes (a parameter, frozen, so peft's `target_parameters` finds it by name), and
buffers `M_absmax`, `M_nested_absmax`, `M_offset` hold each expert's bitsandbytes `QuantState` tensors stacked
(`runtime.ops.four_bit`); the biases stay in the compute dtype.

Numbers: `GroupedExperts`' on the dequantized weights (the same `expert_loop`), plus an optional LoRA delta per
matrix: expert e computes `x @ (dequantize(M[e]) + scaling * lhs[e] @ rhs[e])` as `x @ dequantize(M[e]) +
scaling * (x @ lhs[e]) @ rhs[e]`. The base product's backward dequantizes again instead of keeping the weight, so
no full-precision expert outlives its matmul, in the forward or the backward; only the LoRA factors get gradients.
`runtime.ops.nf4_experts_lora.ParamWrapper` (peft) sets the factors while it calls the module. In a compiled call
without gradients (a decode step) the layer's experts are dequantized together, the delta added to them, and the
call takes `GroupedExperts`' full-precision paths (decode kernels, grouped_mm): the same numbers up to rounding, and a
step that compiles whole, at the cost of one layer's experts in full precision while the layer runs. Without LoRA, on
CUDA, that call takes `nf4_kernels` instead, which dequantize each active expert's codes in registers. Eager calls keep
the per-expert loop, whose transient is one expert: a 20b prefill would otherwise hold 1.5 GiB of dequantized experts.
"""

from __future__ import annotations

import torch

from runtime.ops.four_bit import FourBitFormat, dequantize_stacked, import_bitsandbytes
from runtime.ops.grouped_experts import GroupedExperts, Routing, expert_loop, experts_forward

try:
    from runtime.ops import nf4_kernels
except ImportError:  # no triton: installs without CUDA dequantize the layer's experts
    nf4_kernels = None

MATRICES = ("gate_up_proj", "down_proj")
# transformers' GptOssExperts registers its parameters in this order. peft nests the wrappers of two
# `target_parameters` of one module in registration order, and the nesting names the adapter's tensors (the outer
# wrapper's `experts.lora_A`, the inner's `experts.base_layer.lora_A`): an adapter saved here loads on
# transformers' model only if the order is the same.
PARAMETER_ORDER = ("gate_up_proj", "gate_up_proj_bias", "down_proj", "down_proj_bias")
# (lhs [E, in, r], rhs [E, r, out], scaling): a matrix's LoRA delta per expert, lhs[e] @ rhs[e] * scaling
LoraFactors = tuple[torch.Tensor, torch.Tensor, float]


class _FrozenMatmul(torch.autograd.Function):
    """`inputs @ weight_of()` for a frozen weight that is rebuilt in the backward instead of kept."""

    @staticmethod
    def forward(ctx, inputs, weight_of):
        ctx.weight_of = weight_of
        return inputs @ weight_of()

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output @ ctx.weight_of().T, None


class _ExpertMatrix:
    """Expert e's matrix M as the right operand of `x @ M`, which is how `expert_loop` uses it."""

    def __init__(self, experts: NF4Experts, name: str, expert: int) -> None:
        self.experts, self.name, self.expert = experts, name, expert

    def __rmatmul__(self, inputs: torch.Tensor) -> torch.Tensor:
        one_expert = slice(self.expert, self.expert + 1)
        output = _FrozenMatmul.apply(inputs, lambda: self.experts.dequantize(self.name, one_expert)[0])
        factors = self.experts.lora_factors.get(self.name)
        if factors is None:
            return output
        lhs, rhs, scaling = factors
        low_rank = (inputs.to(lhs.dtype) @ lhs[self.expert]) @ rhs[self.expert]
        return output + (scaling * low_rank).to(output.dtype)


class NF4Experts(torch.nn.Module):
    """Drop-in for `GroupedExperts` with 4-bit expert matrices: the same call and biases, the same numbers on the
    dequantized weights."""

    is_transposed = True  # as GroupedExperts: [experts, in, out] matrices, which peft's LoRA factors follow

    def __init__(self, shapes: dict[str, list[int]], num_experts: int, four_bit_format: FourBitFormat,
                 alpha: float, limit: float) -> None:
        super().__init__()
        self.shapes = {name: tuple(shapes[name]) for name in MATRICES}
        self.num_experts = num_experts
        self.four_bit_format = four_bit_format
        self.alpha, self.limit = alpha, limit
        self.lora_factors: dict[str, LoraFactors] = {}

    @classmethod
    def quantize(cls, experts: GroupedExperts, four_bit_format: FourBitFormat) -> NF4Experts:
        """Quantize each expert's matrices separately (never a second copy of all experts); biases are shared."""
        functional = import_bitsandbytes().functional
        shapes = {name: list(getattr(experts, name).shape[1:]) for name in MATRICES}
        module = cls(shapes, experts.num_experts, four_bit_format, experts.alpha, experts.limit)
        for name in MATRICES:
            pieces = []
            for weight in getattr(experts, name).detach():
                codes, state = functional.quantize_4bit(
                    weight.contiguous(), blocksize=four_bit_format.blocksize,
                    compress_statistics=four_bit_format.double_quant, quant_type=four_bit_format.quant_type,
                )
                pieces.append((codes.view(-1), state))
            module._store(name, pieces)
            module.register_parameter(f"{name}_bias", getattr(experts, f"{name}_bias"))
        return module

    def _store(self, name: str, pieces: list) -> None:
        states = [state for _, state in pieces]
        packed = torch.stack([codes for codes, _ in pieces])
        self.register_parameter(name, torch.nn.Parameter(packed, requires_grad=False))
        self.register_buffer(f"{name}_absmax", torch.stack([state.absmax for state in states]))
        self.register_buffer("quant_map", states[0].code)
        if self.four_bit_format.double_quant:
            self.register_buffer(f"{name}_nested_absmax", torch.stack([state.state2.absmax for state in states]))
            self.register_buffer(f"{name}_offset", torch.stack([torch.as_tensor(state.offset) for state in states]))
            self.register_buffer("nested_quant_map", states[0].state2.code)

    def dequantize(self, name: str, experts: slice) -> torch.Tensor:
        """The matrices `name` of `experts` [n, in, out] in the compute dtype, transformers' layout."""
        nested = None
        if self.four_bit_format.double_quant:
            nested = (getattr(self, f"{name}_nested_absmax")[experts], getattr(self, f"{name}_offset")[experts],
                      self.nested_quant_map)
        return dequantize_stacked(getattr(self, name)[experts], getattr(self, f"{name}_absmax")[experts],
                                  self.shapes[name], self.four_bit_format, self.quant_map, nested)

    def forward(
        self, hidden_states: torch.Tensor, router_indices: torch.Tensor, routing_weights: torch.Tensor
    ) -> torch.Tensor:
        if torch.compiler.is_compiling() and not torch.is_grad_enabled():
            return self.forward_layer_at_once(hidden_states, router_indices, routing_weights)
        return self.forward_per_expert(hidden_states, router_indices, routing_weights)

    def forward_per_expert(
        self, hidden_states: torch.Tensor, router_indices: torch.Tensor, routing_weights: torch.Tensor
    ) -> torch.Tensor:
        """Eager calls (training, prefill, reference log-probs): an expert's matrices exist in full precision only
        for its own matmuls."""
        routing = Routing(router_indices, routing_weights, self.num_experts)
        return expert_loop(hidden_states, routing, self._expert_weights, self.alpha, self.limit)

    def forward_layer_at_once(
        self, hidden_states: torch.Tensor, router_indices: torch.Tensor, routing_weights: torch.Tensor
    ) -> torch.Tensor:
        """Compiled calls without gradients (decoding). Without LoRA, where `nf4_kernels` serve (CUDA, few tokens
        per expert), their kernels read each active expert's codes once and dequantize them in registers. Otherwise
        the layer's experts in full precision for the call, so the step takes the full-precision paths (decode
        kernels, grouped_mm), compiles whole and replays as a CUDA graph, whose memory pool holds one layer's
        experts."""
        if nf4_kernels is not None and not self.lora_factors:
            gate_up, down = self.packed("gate_up_proj"), self.packed("down_proj")
            if nf4_kernels.nf4_kernels_apply(hidden_states, router_indices, gate_up, down):
                return nf4_kernels.nf4_kernel_forward(hidden_states, router_indices, routing_weights, gate_up,
                                                      self.gate_up_proj_bias, down, self.down_proj_bias, self.alpha,
                                                      self.limit)
        weights = (self._with_lora_delta("gate_up_proj"), self.gate_up_proj_bias,
                   self._with_lora_delta("down_proj"), self.down_proj_bias)
        return experts_forward(hidden_states, router_indices, routing_weights, weights, self.alpha, self.limit)

    def packed(self, name: str) -> nf4_kernels.PackedMatrix:
        """The matrices `name` of all experts as stored, for `nf4_kernels`."""
        def nested(suffix: str) -> torch.Tensor | None:
            return getattr(self, f"{name}{suffix}") if self.four_bit_format.double_quant else None

        return nf4_kernels.PackedMatrix(
            getattr(self, name), getattr(self, f"{name}_absmax"), nested("_nested_absmax"), nested("_offset"),
            self.quant_map, self.nested_quant_map if self.four_bit_format.double_quant else None,
            self.four_bit_format.blocksize, self.shapes[name], self.four_bit_format.dtype,
        )

    def _with_lora_delta(self, name: str) -> torch.Tensor:
        """All experts' matrices `name` [E, in, out], plus the active LoRA delta `scaling * lhs[e] @ rhs[e]`."""
        weight = self.dequantize(name, slice(None))
        factors = self.lora_factors.get(name)
        if factors is None:
            return weight
        lhs, rhs, scaling = factors
        return weight + (scaling * torch.bmm(lhs, rhs)).to(weight.dtype)

    def _expert_weights(self, expert: int):
        return (_ExpertMatrix(self, "gate_up_proj", expert), self.gate_up_proj_bias[expert],
                _ExpertMatrix(self, "down_proj", expert), self.down_proj_bias[expert])

    def dequantized(self) -> GroupedExperts:
        """The full-precision `GroupedExperts` this module computes without LoRA (biases shared)."""
        weights = {name: self.dequantize(name, slice(None)) for name in MATRICES}
        return GroupedExperts(weights["gate_up_proj"], self.gate_up_proj_bias, weights["down_proj"],
                              self.down_proj_bias, self.alpha, self.limit)

    def emitted_config(self) -> dict:
        return {"shapes": {name: list(shape) for name, shape in self.shapes.items()}, "num_experts": self.num_experts,
                "format": self.four_bit_format.to_json(), "alpha": self.alpha, "limit": self.limit}

    @classmethod
    def from_state(cls, config: dict, state: dict[str, torch.Tensor]) -> NF4Experts:
        module = cls(config["shapes"], int(config["num_experts"]), FourBitFormat.from_json(config["format"]),
                     float(config["alpha"]), float(config["limit"]))
        missing = sorted(module.state_names() - set(state))
        if missing:
            raise KeyError(f"no saved {', '.join(missing)}")
        for name in PARAMETER_ORDER:
            tensor = state[name]
            module.register_parameter(name, torch.nn.Parameter(tensor, requires_grad=tensor.is_floating_point()))
        for name, tensor in state.items():
            if name not in PARAMETER_ORDER:
                module.register_buffer(name, tensor)
        return module

    def state_names(self) -> set[str]:
        """The names of the tensors this module's format stores."""
        nested = ("_nested_absmax", "_offset") if self.four_bit_format.double_quant else ()
        per_matrix = ("", "_bias", "_absmax", *nested)
        shared = ("quant_map", *(("nested_quant_map",) if self.four_bit_format.double_quant else ()))
        return {f"{name}{suffix}" for name in MATRICES for suffix in per_matrix} | set(shared)

    def extra_repr(self) -> str:
        hidden, double_intermediate = self.shapes["gate_up_proj"]
        return (f"experts={self.num_experts}, hidden={hidden}, intermediate={double_intermediate // 2}, "
                f"{self.four_bit_format.quant_type}, blocksize={self.four_bit_format.blocksize}")
