"""A harmony reply the tests of streaming feed in token by token, and an engine stand-in that generates it."""

from __future__ import annotations

import torch

ANALYSIS_THEN_FINAL = ("<|channel|>analysis<|message|>two plus three is five, so the answer is five<|end|>"
                       "<|start|>assistant<|channel|>final<|message|>The answer is 5.<|return|>")


def scripted_generate(reply_ids: list[int]):
    """A stand-in for `runtime.generate.generate` that hands `reply_ids` to `on_token` one step at a time (as the
    engine does for a batch of one) and returns prompt + reply."""

    def generate(model, input_ids, attention_mask=None, *, max_new_tokens, on_token=None, **options):
        reply = torch.tensor([reply_ids[:max_new_tokens]], device=input_ids.device)
        for step in range(reply.shape[1]):
            on_token(reply[:, step])
        return torch.cat([input_ids, reply], dim=1)

    return generate
