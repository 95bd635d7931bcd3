"""`MXFP4Experts`: gpt-oss experts kept in MXFP4 as the released checkpoints ship them (`runtime.ops.mxfp4_format`),
dequantized inside the op; the frozen base of LoRA training on the released weights.

Storage, per matrix M in (gate_up_proj [E, H, 2I], down_proj [E, I, H], transformers' [experts, in, out] layout):
`M` is a frozen uint8 parameter of the checkpoint's `M_blocks` [E, out, in / 32, 16] (a parameter so that peft's
`target_parameters` finds it by transformers' name), the buffer `M_scales` uint8 [E, out, in / 32] the checkpoint's
`M_scales`, and `M_bias` [E, out] stays in the compute dtype, which is the biases' dtype. Parameters are registered
in `PARAMETER_ORDER`, transformers' order, which peft's nesting of wrappers turns into adapter tensor names.

Numbers: `GroupedExperts`' on the dequantized weights, plus an optional LoRA delta per matrix, `x @ W[e] +
scaling * (x @ lhs[e]) @ rhs[e]`, the factors set by `runtime.ops.nf4_experts_lora.ParamWrapper` (peft) during the
call. Only the factors (and the biases, unless peft froze them) get gradients; no full-precision copy of the
experts outlives a matmul.

Paths (`expert_path`): on CUDA in 16-bit floats with the Triton kernels importable, calls without gradients,
without LoRA and with few tokens per expert (decoding) take `mxfp4_kernels`' decode kernels, which read the packed
weights once per active expert; other CUDA calls take `mxfp4_grouped_gemm.mxfp4_grouped_matmul` over the packed
weights (backward to the inputs), with the LoRA delta in torch. Everything else (CPU, float32, installs without
triton) takes the torch path: one expert at a time, dequantized inside an autograd function whose backward
dequantizes again. `tests/ops/mxfp4_reference_kernels.py` states the kernels' contracts in torch.
"""

from __future__ import annotations

import enum

import torch
import torch.nn.functional as F

from rewrite.errors import QuantizationError
from runtime.ops.grouped_experts import (
    GroupedExperts,
    Routing,
    _parameter,
    clamped_swiglu,
    expert_loop,
    expert_slots,
    grouped_mm_applies,
)
from runtime.ops.mxfp4_format import BLOCK_SIZE, dequantize_mxfp4, quantize_mxfp4
from runtime.ops.nf4_experts import MATRICES, PARAMETER_ORDER, LoraFactors, _ExpertMatrix

try:
    from runtime.ops import mxfp4_grouped_gemm, mxfp4_kernels
except ImportError:  # no triton: every call takes the torch path
    mxfp4_grouped_gemm = mxfp4_kernels = None

PACKED_SUFFIXES = ("_blocks", "_scales")  # the checkpoint's names of a matrix's MXFP4 tensors
DECODE_PAIRS_PER_EXPERT = 16  # as GroupedExperts' kernels: above it, experts see enough tokens for a matmul kernel


class ExpertPath(enum.Enum):
    DECODE_KERNELS = "decode kernels"  # grouped GEMV over the packed weights: CUDA inference, few tokens, no LoRA
    GROUPED_KERNEL = "grouped kernel"  # grouped matmul over the packed weights, LoRA delta in torch
    TORCH = "torch"  # one expert at a time, dequantized in torch


def expert_path(hidden_states: torch.Tensor, router_indices: torch.Tensor, experts: MXFP4Experts) -> ExpertPath:
    """The implementation that serves a call of `experts` (module docstring: Paths)."""
    dtype = hidden_states.dtype
    sixteen_bit = dtype == experts.compute_dtype and dtype in (torch.bfloat16, torch.float16)
    if mxfp4_kernels is None or not hidden_states.is_cuda or not sixteen_bit:
        return ExpertPath.TORCH
    decoding = router_indices.numel() <= DECODE_PAIRS_PER_EXPERT * experts.num_experts
    if decoding and not torch.is_grad_enabled() and not experts.lora_factors:
        return ExpertPath.DECODE_KERNELS
    return ExpertPath.GROUPED_KERNEL


class MXFP4Experts(torch.nn.Module):
    """Drop-in for `GroupedExperts` with MXFP4 expert matrices: the same call and biases, the same numbers on the
    dequantized weights."""

    is_transposed = True  # as GroupedExperts: [experts, in, out] matrices, which peft's LoRA factors follow

    def __init__(self, tensors: dict[str, torch.Tensor], alpha: float, limit: float) -> None:
        """`tensors` holds `state_names()`: per matrix M, `M` (blocks), `M_scales` and `M_bias`."""
        super().__init__()
        self.shapes, self.num_experts = _check_packed(tensors)
        for name in PARAMETER_ORDER:
            self.register_parameter(name, _parameter(tensors[name]))
        for name in MATRICES:
            self.register_buffer(f"{name}_scales", tensors[f"{name}_scales"])
        self.alpha, self.limit = alpha, limit
        self.lora_factors: dict[str, LoraFactors] = {}

    @classmethod
    def from_grouped(cls, experts: GroupedExperts) -> MXFP4Experts:
        """Quantize each expert's matrices on its own (never a second copy of all experts); biases are shared."""
        tensors = {}
        for name in MATRICES:
            blocks, scales = zip(*(quantize_mxfp4(weight) for weight in getattr(experts, name).detach()), strict=True)
            tensors.update({name: torch.stack(blocks), f"{name}_scales": torch.stack(scales),
                            f"{name}_bias": getattr(experts, f"{name}_bias")})
        return cls(tensors, experts.alpha, experts.limit)

    @classmethod
    def from_packed(cls, packed: dict[str, torch.Tensor], biases: dict[str, torch.Tensor], alpha: float,
                    limit: float) -> MXFP4Experts:
        """The released bits as they are: `packed` holds the checkpoint's `gate_up_proj_blocks`, `gate_up_proj_scales`,
        `down_proj_blocks`, `down_proj_scales` (names relative to the experts module), `biases` its
        `gate_up_proj_bias` and `down_proj_bias`, whose dtype becomes the compute dtype."""
        wanted = [f"{name}{suffix}" for name in MATRICES for suffix in PACKED_SUFFIXES]
        wanted_biases = [f"{name}_bias" for name in MATRICES]
        missing = [name for name in wanted if name not in packed]
        missing += [name for name in wanted_biases if name not in biases]
        if missing:
            raise QuantizationError(
                f"MXFP4 experts need {', '.join(wanted + wanted_biases)}, and {', '.join(missing)} are missing; pass "
                "the tensors of one experts module of a gpt-oss MXFP4 checkpoint"
            )
        tensors = {f"{name}_bias": biases[f"{name}_bias"] for name in MATRICES}
        for name in MATRICES:
            tensors.update({name: packed[f"{name}_blocks"], f"{name}_scales": packed[f"{name}_scales"]})
        return cls(tensors, alpha, limit)

    @property
    def compute_dtype(self) -> torch.dtype:
        return self.gate_up_proj_bias.dtype

    def dequantize(self, name: str, experts: slice) -> torch.Tensor:
        """The matrices `name` of `experts` [n, in, out] in the compute dtype, transformers' layout."""
        return dequantize_mxfp4(getattr(self, name)[experts], getattr(self, f"{name}_scales")[experts],
                                self.compute_dtype)

    def forward(
        self, hidden_states: torch.Tensor, router_indices: torch.Tensor, routing_weights: torch.Tensor
    ) -> torch.Tensor:
        path = expert_path(hidden_states, router_indices, self)
        if path is ExpertPath.DECODE_KERNELS:
            return self.forward_decode_kernels(hidden_states, router_indices, routing_weights)
        if path is ExpertPath.GROUPED_KERNEL:
            return self.forward_grouped_kernel(hidden_states, router_indices, routing_weights)
        return self.forward_per_expert(hidden_states, router_indices, routing_weights)

    def forward_per_expert(
        self, hidden_states: torch.Tensor, router_indices: torch.Tensor, routing_weights: torch.Tensor
    ) -> torch.Tensor:
        """The torch path: an expert's matrices exist in full precision only for its own matmuls."""
        routing = Routing(router_indices, routing_weights, self.num_experts)
        return expert_loop(hidden_states, routing, self._expert_weights, self.alpha, self.limit)

    def _expert_weights(self, expert: int):
        return (_ExpertMatrix(self, "gate_up_proj", expert), self.gate_up_proj_bias[expert],
                _ExpertMatrix(self, "down_proj", expert), self.down_proj_bias[expert])

    def forward_decode_kernels(
        self, hidden_states: torch.Tensor, router_indices: torch.Tensor, routing_weights: torch.Tensor
    ) -> torch.Tensor:
        """`mxfp4_kernels`' decode kernels (no autograd, no LoRA): the pairs in expert-sorted slots, as
        `grouped_experts.kernel_forward` lays them out."""
        num_tokens, top_k = router_indices.shape
        slot_pair, block_expert = expert_slots(router_indices, self.num_experts, mxfp4_kernels.BLOCK_M)
        activated = mxfp4_kernels.mxfp4_gate_up_activation(
            hidden_states, self.gate_up_proj, self.gate_up_proj_scales, self.gate_up_proj_bias, slot_pair,
            block_expert, top_k, self.alpha, self.limit,
        )
        pair_outputs = mxfp4_kernels.mxfp4_down_weighted(
            activated, self.down_proj, self.down_proj_scales, self.down_proj_bias, routing_weights, slot_pair,
            block_expert,
        )
        return pair_outputs.view(num_tokens, top_k, -1).sum(1).to(hidden_states.dtype)

    def forward_grouped_kernel(
        self, hidden_states: torch.Tensor, router_indices: torch.Tensor, routing_weights: torch.Tensor
    ) -> torch.Tensor:
        """`mxfp4_grouped_gemm.mxfp4_grouped_matmul` over the pairs sorted by expert, as `grouped_forward` runs
        `grouped_mm`, with the LoRA delta beside it."""
        routing = Routing(router_indices, routing_weights, self.num_experts)
        gate_up = self._grouped_product("gate_up_proj", hidden_states[routing.token_of_pair], routing)
        down = self._grouped_product("down_proj", clamped_swiglu(gate_up, self.alpha, self.limit), routing)
        return routing.combine(down * routing.weight_of_pair[:, None])

    def _grouped_product(self, name: str, inputs: torch.Tensor, routing: Routing) -> torch.Tensor:
        """[pairs, out]: each sorted pair's `inputs @ M[e] + M_bias[e]` (+ the LoRA delta) for its expert e."""
        output = mxfp4_grouped_gemm.mxfp4_grouped_matmul(inputs, getattr(self, name), getattr(self, f"{name}_scales"),
                                                         routing.offsets, getattr(self, f"{name}_bias"))
        factors = self.lora_factors.get(name)
        if factors is None:
            return output
        return output + sorted_low_rank(inputs, routing, factors).to(output.dtype)

    def dequantized(self) -> GroupedExperts:
        """The full-precision `GroupedExperts` this module computes without LoRA (biases shared)."""
        weights = {name: self.dequantize(name, slice(None)).contiguous() for name in MATRICES}
        return GroupedExperts(weights["gate_up_proj"], self.gate_up_proj_bias, weights["down_proj"],
                              self.down_proj_bias, self.alpha, self.limit)

    def emitted_config(self) -> dict:
        return {"shapes": {name: list(shape) for name, shape in self.shapes.items()}, "num_experts": self.num_experts,
                "alpha": self.alpha, "limit": self.limit}

    @classmethod
    def from_state(cls, config: dict, state: dict[str, torch.Tensor]) -> MXFP4Experts:
        """Rebuilt from `emitted_config()` and the saved tensors; `KeyError` / `ValueError` when they do not fit."""
        names = {f"{name}{suffix}" for name in MATRICES for suffix in ("", "_scales", "_bias")}
        missing, unknown = sorted(names - set(state)), sorted(set(state) - names)
        if missing or unknown:
            raise KeyError(f"MXFP4 experts save {', '.join(sorted(names))}; missing: {', '.join(missing) or 'none'}, "
                           f"unknown: {', '.join(unknown) or 'none'}")
        module = cls(state, float(config["alpha"]), float(config["limit"]))
        saved = {key: module.emitted_config()[key] for key in ("shapes", "num_experts")}
        if saved != {key: config[key] for key in saved}:
            raise ValueError(f"the saved MXFP4 experts have {saved}, the manifest says {config}")
        return module

    def extra_repr(self) -> str:
        hidden, double_intermediate = self.shapes["gate_up_proj"]
        return f"experts={self.num_experts}, hidden={hidden}, intermediate={double_intermediate // 2}, mxfp4"


def sorted_low_rank(inputs: torch.Tensor, routing: Routing, factors: LoraFactors) -> torch.Tensor:
    """[pairs, out]: `scaling * (inputs[p] @ lhs[e]) @ rhs[e]` for pairs p sorted by expert e, in the inputs' dtype
    (peft's delta reaches a 16-bit weight in its dtype too); grouped_mm where it runs, else one expert at a time."""
    lhs, rhs, scaling = factors
    # grouped_mm takes row- or column-major operands with 16-byte aligned strides: lhs column-major (stride `in`),
    # rhs row-major (stride `out`), and the rank's rows of the product in between
    lhs = lhs.to(inputs.dtype).transpose(-2, -1).contiguous().transpose(-2, -1)
    rhs = rhs.to(inputs.dtype).contiguous()
    if grouped_mm_applies(inputs, lhs) and lhs.shape[-1] * lhs.element_size() % 16 == 0:
        low_rank = F.grouped_mm(F.grouped_mm(inputs, lhs, offs=routing.offsets), rhs, offs=routing.offsets)
    else:
        ends = routing.offsets.tolist()
        low_rank = torch.cat([inputs[start:end] @ lhs[expert] @ rhs[expert]
                              for expert, (start, end) in enumerate(zip([0, *ends[:-1]], ends, strict=True))])
    return scaling * low_rank


def _check_packed(tensors: dict[str, torch.Tensor]) -> tuple[dict[str, tuple[int, int]], int]:
    """The (in, out) of each matrix and the number of experts; `QuantizationError` when the tensors are not two
    MXFP4 expert matrices that chain (H -> 2I, I -> H) with their biases."""
    shapes = {}
    for name in MATRICES:
        blocks, scales, bias = (tensors[f"{name}{suffix}"] for suffix in ("", "_scales", "_bias"))
        if not (blocks.dtype == scales.dtype == torch.uint8 and blocks.dim() == 4
                and blocks.shape[-1] == BLOCK_SIZE // 2 and scales.shape == blocks.shape[:-1]
                and bias.is_floating_point() and bias.shape == blocks.shape[:2]):
            raise QuantizationError(
                f"{name}: blocks {blocks.dtype} {list(blocks.shape)}, scales {scales.dtype} {list(scales.shape)} and "
                f"bias {bias.dtype} {list(bias.shape)} are not MXFP4 experts: expected uint8 blocks [E, out, in/32, "
                "16], uint8 scales [E, out, in/32] and a float bias [E, out], as gpt-oss checkpoints store them"
            )
        shapes[name] = (blocks.shape[2] * BLOCK_SIZE, blocks.shape[1])
    (hidden, double_intermediate), down = shapes["gate_up_proj"], shapes["down_proj"]
    num_experts = {tensors[name].shape[0] for name in MATRICES}
    if down != (double_intermediate // 2, hidden) or double_intermediate % 2 or len(num_experts) > 1:
        raise QuantizationError(
            f"MXFP4 experts gate_up_proj {shapes['gate_up_proj']} (in, out) and down_proj {down} do not chain as "
            "gpt-oss's do (hidden -> 2 * intermediate, intermediate -> hidden, same experts): take both from one "
            "experts module"
        )
    return shapes, num_experts.pop()
