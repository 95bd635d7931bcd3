"""gpt-oss experts as grouped GEMMs: every (token, expert) pair sorted by expert once per layer, then one grouped
matmul for the gate/up projection and one for the down projection.

Numbers: transformers' `GptOssExperts` (eager): for each pair, `h @ gate_up_proj[e] + gate_up_proj_bias[e]`, the
clamped SwiGLU of the interleaved gate (even columns) and up (odd columns) halves, `@ down_proj[e] +
down_proj_bias[e]`, times the routing weight, summed over the token's top-k experts. The top-k sum runs in a fixed
order (no atomics), so results are deterministic.

Kernels: for decoding without gradients on CUDA (few tokens per expert), the Triton grouped-GEMV kernels of
`expert_kernels`, which stream each active expert's weights once; otherwise `torch.nn.functional.grouped_mm`
(CUDA bf16, and CPU) where it applies; otherwise a loop over the experts that have tokens. Layers that store their
weights differently (4-bit) reuse `expert_loop` with their own `weights_of(expert)`, which materialises one expert's
weights at a time.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F

try:
    from runtime.ops import expert_kernels
except ImportError:  # no triton: installs without CUDA take grouped_mm or the loop
    expert_kernels = None

# (gate_up [H, 2I], gate_up_bias [2I], down [I, H], down_bias [H]) of one expert
ExpertWeights = tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]


def clamped_swiglu(gate_up: torch.Tensor, alpha: float, limit: float) -> torch.Tensor:
    """gpt-oss's activation of [..., 2I] interleaved gate/up columns -> [..., I]."""
    gate, up = gate_up[..., ::2], gate_up[..., 1::2]
    gate = gate.clamp(max=limit)
    up = up.clamp(min=-limit, max=limit)
    return (up + 1) * (gate * torch.sigmoid(gate * alpha))


class Routing:
    """The [T, k] router choice sorted by expert: pair p = token * k + slot goes to row `rank` of the sorted order."""

    def __init__(self, router_indices: torch.Tensor, routing_weights: torch.Tensor, num_experts: int) -> None:
        self.num_tokens, self.top_k = router_indices.shape
        self.expert_of_pair, self.order = torch.sort(router_indices.reshape(-1), stable=True)
        self.token_of_pair = self.order // self.top_k
        self.weight_of_pair = routing_weights.reshape(-1)[self.order]
        # histc, not bincount: its output size is static, so CUDA graphs and torch.compile accept it
        counts_input = self.expert_of_pair.float() if router_indices.device.type == "cpu" else self.expert_of_pair.int()
        counts = torch.histc(counts_input, bins=num_experts, min=0, max=num_experts - 1)
        self.offsets = torch.cumsum(counts, dim=0, dtype=torch.int32)

    def combine(self, pair_outputs: torch.Tensor) -> torch.Tensor:
        """[T*k, H] outputs in sorted order, already weighted -> [T, H] summed over each token's k experts."""
        unsorted = torch.empty_like(pair_outputs).index_copy_(0, self.order, pair_outputs)
        return unsorted.view(self.num_tokens, self.top_k, -1).sum(1)


def grouped_forward(
    hidden_states: torch.Tensor, routing: Routing, gate_up_proj: torch.Tensor, gate_up_proj_bias: torch.Tensor,
    down_proj: torch.Tensor, down_proj_bias: torch.Tensor, alpha: float, limit: float,
) -> torch.Tensor:
    """[T, H] experts output with two grouped matmuls over all experts' 3-D weights."""
    inputs = hidden_states[routing.token_of_pair]
    gate_up = F.grouped_mm(inputs, gate_up_proj, offs=routing.offsets) + gate_up_proj_bias[routing.expert_of_pair]
    activated = clamped_swiglu(gate_up, alpha, limit)
    down = F.grouped_mm(activated, down_proj, offs=routing.offsets) + down_proj_bias[routing.expert_of_pair]
    return routing.combine(down * routing.weight_of_pair[:, None])


@torch.compiler.disable  # data-dependent loop: a compiled step runs it eagerly between its graphs
def expert_loop(
    hidden_states: torch.Tensor,
    routing: Routing,
    weights_of: Callable[[int], ExpertWeights],
    alpha: float,
    limit: float,
) -> torch.Tensor:
    """The same as `grouped_forward`, one expert at a time; `weights_of(e)` gives expert e's weights. Reads the
    expert counts to the host (a sync), so it is for eager use: CPU, 4-bit storage, dtypes grouped_mm lacks."""
    inputs = hidden_states[routing.token_of_pair]
    ends = routing.offsets.tolist()
    pieces = []
    for expert, (start, end) in enumerate(zip([0, *ends[:-1]], ends, strict=True)):
        if end > start:
            gate_up_w, gate_up_b, down_w, down_b = weights_of(expert)
            activated = clamped_swiglu(inputs[start:end] @ gate_up_w + gate_up_b, alpha, limit)
            pieces.append(activated @ down_w + down_b)
    down = torch.cat(pieces) if pieces else inputs.new_zeros(0, hidden_states.shape[-1])
    return routing.combine(down * routing.weight_of_pair[:, None])


def expert_slots(router_indices: torch.Tensor, num_experts: int, block_m: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The pairs in expert-sorted slots, each expert's run padded to a multiple of `block_m`.

    Returns `slot_pair` [num_blocks * block_m]: the pair (token * k + slot) in each slot, `num_pairs` in padding;
    and `block_expert` [num_blocks]: the expert of each block of `block_m` slots, -1 past the used slots. The
    shapes depend only on the number of pairs, so the layout is built inside CUDA graphs.
    """
    flat = router_indices.reshape(-1)
    num_pairs, device = flat.numel(), flat.device
    # no sort: a pair's rank within its expert is a cumulative count, which inductor fuses with the rest
    one_hot = F.one_hot(flat, num_experts)
    rank = (one_hot.cumsum(0) * one_hot).sum(1) - 1
    counts = one_hot.sum(0)
    padded = (counts + block_m - 1) // block_m * block_m
    padded_end = torch.cumsum(padded, 0)
    slots = (padded_end - padded)[flat] + rank
    num_blocks = -(-(num_pairs + min(num_experts, num_pairs) * (block_m - 1)) // block_m)
    slot_pair = torch.full((num_blocks * block_m,), num_pairs, dtype=torch.int64, device=device)
    slot_pair = slot_pair.scatter(0, slots, torch.arange(num_pairs, device=device))
    block_start = torch.arange(num_blocks, device=device) * block_m
    block_expert = (padded_end[None, :] <= block_start[:, None]).sum(1)  # experts that end before the block
    return slot_pair, torch.where(block_start < padded_end[-1], block_expert, -1)


def kernel_forward(
    hidden_states: torch.Tensor, router_indices: torch.Tensor, routing_weights: torch.Tensor,
    gate_up_proj: torch.Tensor, gate_up_proj_bias: torch.Tensor, down_proj: torch.Tensor, down_proj_bias: torch.Tensor,
    alpha: float, limit: float,
) -> torch.Tensor:
    """[T, H] experts output with the Triton kernels of `expert_kernels` (CUDA, no autograd)."""
    kernels = expert_kernels
    num_tokens, top_k = router_indices.shape
    slot_pair, block_expert = expert_slots(router_indices, gate_up_proj.shape[0], kernels.BLOCK_M)
    activated = kernels.gate_up_activation(hidden_states, gate_up_proj, gate_up_proj_bias, slot_pair, block_expert,
                                           top_k, alpha, limit)
    pair_outputs = kernels.down_weighted(activated, down_proj, down_proj_bias, routing_weights, slot_pair,
                                         block_expert)
    return pair_outputs.view(num_tokens, top_k, -1).sum(1).to(hidden_states.dtype)


def kernels_apply(hidden_states: torch.Tensor, router_indices: torch.Tensor, weight: torch.Tensor) -> bool:
    """The Triton kernels serve CUDA inference in 16-bit floats with at most 16 pairs per expert on average
    (decoding); grouped_mm is better when experts see many tokens, and only it has a backward."""
    return (
        expert_kernels is not None
        and weight.is_cuda
        and hidden_states.dtype == weight.dtype in (torch.bfloat16, torch.float16)
        and not torch.is_grad_enabled()
        and router_indices.numel() <= 16 * weight.shape[0]
    )


def experts_forward(
    hidden_states: torch.Tensor,
    router_indices: torch.Tensor,
    routing_weights: torch.Tensor,
    weights: ExpertWeights,
    alpha: float,
    limit: float,
) -> torch.Tensor:
    """[T, H] experts output for all experts' weights (3-D matrices [E, in, out], 2-D biases [E, out]) by the first
    path that applies: the decode kernels, grouped_mm, the loop."""
    gate_up_proj = weights[0]
    if kernels_apply(hidden_states, router_indices, gate_up_proj):
        return kernel_forward(hidden_states, router_indices, routing_weights, *weights, alpha, limit)
    routing = Routing(router_indices, routing_weights, gate_up_proj.shape[0])
    if grouped_mm_applies(hidden_states, gate_up_proj):
        return grouped_forward(hidden_states, routing, *weights, alpha, limit)
    return expert_loop(hidden_states, routing, lambda e: tuple(w[e] for w in weights), alpha, limit)


def grouped_mm_applies(hidden_states: torch.Tensor, weight: torch.Tensor) -> bool:
    """grouped_mm runs bf16 on CUDA (SM80+) and any float dtype on CPU; everything else takes the loop."""
    if hidden_states.dtype != weight.dtype:
        return False
    if weight.device.type == "cuda":
        return weight.dtype == torch.bfloat16 and torch.cuda.get_device_capability(weight.device) >= (8, 0)
    return weight.device.type == "cpu" and not torch.compiler.is_compiling()


class GroupedExperts(torch.nn.Module):
    """Drop-in for transformers' `GptOssExperts`: the same parameter names, shapes and layout (so checkpoints, peft
    `target_parameters` and `PeftModel.from_pretrained` see the same model) and the same call
    `(hidden_states [T, H], router_indices [T, k], routing_weights [T, k]) -> [T, H]`."""

    # transformers marks GptOssExperts so: weights are [experts, in, out]. peft reads it to shape the LoRA factors
    # of `target_parameters`; without it an adapter saved here does not load on transformers' model.
    is_transposed = True

    def __init__(
        self, gate_up_proj: torch.Tensor, gate_up_proj_bias: torch.Tensor, down_proj: torch.Tensor,
        down_proj_bias: torch.Tensor, alpha: float, limit: float,
    ) -> None:
        super().__init__()
        self.num_experts = gate_up_proj.shape[0]
        self.gate_up_proj = _parameter(gate_up_proj)
        self.gate_up_proj_bias = _parameter(gate_up_proj_bias)
        self.down_proj = _parameter(down_proj)
        self.down_proj_bias = _parameter(down_proj_bias)
        self.alpha, self.limit = alpha, limit

    def forward(
        self, hidden_states: torch.Tensor, router_indices: torch.Tensor, routing_weights: torch.Tensor
    ) -> torch.Tensor:
        weights = (self.gate_up_proj, self.gate_up_proj_bias, self.down_proj, self.down_proj_bias)
        return experts_forward(hidden_states, router_indices, routing_weights, weights, self.alpha, self.limit)

    def emitted_config(self) -> dict:
        return {"alpha": self.alpha, "limit": self.limit}

    @classmethod
    def from_state(cls, config: dict, state: dict[str, torch.Tensor]) -> GroupedExperts:
        return cls(state["gate_up_proj"], state["gate_up_proj_bias"], state["down_proj"], state["down_proj_bias"],
                   float(config["alpha"]), float(config["limit"]))

    def extra_repr(self) -> str:
        experts, hidden, double_intermediate = self.gate_up_proj.shape
        return f"experts={experts}, hidden={hidden}, intermediate={double_intermediate // 2}"


def _parameter(tensor: torch.Tensor) -> torch.nn.Parameter:
    if isinstance(tensor, torch.nn.Parameter):
        return tensor
    return torch.nn.Parameter(tensor, requires_grad=tensor.is_floating_point())
