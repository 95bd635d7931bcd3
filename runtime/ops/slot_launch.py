"""The host side every grouped-GEMV decode kernel of the experts shares (`expert_kernels`, `mxfp4_kernels`,
`nf4_kernels`): the outputs it writes, its grid over blocks of slots, and the arguments all its kernels take by name.

Slots (`grouped_experts.expert_slots(router_indices, E, BLOCK_M)`): the (token, expert) pairs in expert-sorted slots,
each expert's run padded to a multiple of BLOCK_M. A gate/up kernel writes [slots, I] in the hidden states' dtype at
each pair's slot; a down kernel writes float32 [T * k, H] at each pair's own index token * k + j, times its routing
weight, so the top-k sum is a reshape and a sum. The fake (meta) implementations of the ops allocate the same outputs.
"""

from __future__ import annotations

import torch
import triton

BLOCK_M = 16  # slots per block: the rows a program multiplies by its expert's weights


def gate_up_output(hidden_states: torch.Tensor, slot_pair: torch.Tensor, intermediate_size: int) -> torch.Tensor:
    """The empty [slots, I] a gate/up kernel writes, in the hidden states' dtype (rows of padding slots stay so)."""
    return hidden_states.new_empty(slot_pair.shape[0], intermediate_size)


def down_output(activated: torch.Tensor, routing_weights: torch.Tensor, hidden_size: int) -> torch.Tensor:
    """The empty float32 [T * k, H] a down kernel writes, a row per (token, expert) pair."""
    return activated.new_empty(routing_weights.numel(), hidden_size, dtype=torch.float32)


def launch_gate_up_kernel(kernel: triton.JITFunction, hidden_states: torch.Tensor, slot_pair: torch.Tensor,
                          block_expert: torch.Tensor, top_k: int, alpha: float, limit: float, intermediate_size: int,
                          column_tiles: int, **arguments) -> torch.Tensor:
    """`gate_up_output` filled by `kernel` over the blocks of slots and `column_tiles` tiles of I; the arguments every
    gate/up kernel takes are passed by name, `arguments` (its weights, strides and launch settings) as given."""
    out = gate_up_output(hidden_states, slot_pair, intermediate_size)
    _launch(kernel, out, slot_pair, block_expert, column_tiles, hidden_ptr=hidden_states,
            num_pairs=hidden_states.shape[0] * top_k, top_k=top_k, intermediate_size=intermediate_size, alpha=alpha,
            limit=limit, **arguments)
    return out


def launch_down_kernel(kernel: triton.JITFunction, activated: torch.Tensor, routing_weights: torch.Tensor,
                       slot_pair: torch.Tensor, block_expert: torch.Tensor, hidden_size: int, column_tiles: int,
                       **arguments) -> torch.Tensor:
    """`down_output` filled by `kernel` over the blocks of slots and `column_tiles` tiles of H; the arguments every
    down kernel takes are passed by name, `arguments` (its weights, strides and launch settings) as given."""
    out = down_output(activated, routing_weights, hidden_size)
    _launch(kernel, out, slot_pair, block_expert, column_tiles, activated_ptr=activated,
            routing_weight_ptr=routing_weights.reshape(-1), num_pairs=routing_weights.numel(), hidden_size=hidden_size,
            **arguments)
    return out


def _launch(kernel, out, slot_pair, block_expert, column_tiles, **arguments) -> None:
    """Program (i, j) for block i of slots and column tile j, given `out` and the slot layout by name."""
    kernel[(block_expert.shape[0], column_tiles)](
        out_ptr=out, stride_out=out.stride(0), slot_pair_ptr=slot_pair, block_expert_ptr=block_expert,
        BLOCK_M=BLOCK_M, **arguments,
    )
