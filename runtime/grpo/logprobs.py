"""Per-token log-probs of completions, with no [batch, tokens, vocab] logits tensor ever existing at once.

The graph runs with its `lm_head` module bypassed, so it returns the final (normed) hidden states
[B, T, hidden]; the head is then applied to `chunk_size` completion tokens at a time. When gradients are needed
each chunk runs under activation checkpointing, so the backward pass also holds one chunk's logits at a time:
the largest vocabulary-sized tensor is [chunk_size, vocab] in forward and backward alike.
"""

from __future__ import annotations

import torch
from torch.utils.checkpoint import checkpoint

from rewrite.model import RewrittenGptOss
from runtime.grpo.memory import ActivationOffload, forward_for_backward
from runtime.lm_head import lm_head, lm_head_bypassed


def completion_logprobs(
    model: RewrittenGptOss,
    input_ids: torch.Tensor,
    attention_mask: torch.Tensor,
    prompt_length: int,
    *,
    temperature: float,
    chunk_size: int,
    gradient_checkpointing: bool = False,
    activation_offload: ActivationOffload | None = None,
) -> torch.Tensor:
    """[B, C] float32 log-probs of the completion tokens `input_ids[:, prompt_length:]` under `model`.

    As TRL, the logits are divided by `temperature` before the log-softmax, so the values are those of the
    distribution the completions were sampled from. Gradients flow when grad mode is on; with
    `gradient_checkpointing` the graph's activations are recomputed in the backward pass instead of kept, and
    with `activation_offload` what is kept lives in CPU memory (see `runtime.grpo.memory`).
    """
    batch_size, completion_length = input_ids.shape[0], input_ids.shape[1] - prompt_length
    if torch.is_grad_enabled():
        hidden = forward_for_backward(final_hidden_states, model, model, input_ids, attention_mask,
                                      gradient_checkpointing=gradient_checkpointing,
                                      activation_offload=activation_offload)
    else:
        hidden = final_hidden_states(model, input_ids, attention_mask)
    # position t predicts token t + 1, so completion tokens are predicted from positions P - 1 .. T - 2
    predicting = hidden[:, prompt_length - 1 : -1].reshape(batch_size * completion_length, -1)
    targets = input_ids[:, prompt_length:].reshape(-1)
    head = lm_head(model)
    chunks = []
    for start in range(0, targets.numel(), chunk_size):
        arguments = (head, predicting[start : start + chunk_size], targets[start : start + chunk_size], temperature)
        if torch.is_grad_enabled():
            chunks.append(checkpoint(_token_logprobs, *arguments, use_reentrant=False))
        else:
            chunks.append(_token_logprobs(*arguments))
    return torch.cat(chunks).view(batch_size, completion_length)


def final_hidden_states(
    model: RewrittenGptOss, input_ids: torch.Tensor, attention_mask: torch.Tensor
) -> torch.Tensor:
    """[B, T, hidden] the final normed hidden states, the input of the `lm_head` (which is not run)."""
    with lm_head_bypassed(model):
        return model(input_ids, attention_mask)


def _token_logprobs(
    lm_head: torch.nn.Module, hidden: torch.Tensor, targets: torch.Tensor, temperature: float
) -> torch.Tensor:
    """[N] log-softmax(lm_head(hidden) / temperature) at `targets`, in float32."""
    logits = lm_head(hidden).float() / temperature
    return logits.gather(-1, targets[:, None]).squeeze(-1) - logits.logsumexp(-1)
