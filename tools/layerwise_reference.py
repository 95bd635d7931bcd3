"""transformers' eager gpt-oss forward in float32, one decoder layer at a time.

For models whose float32 copy does not fit on the GPU (gpt-oss-20b: 84 GB): each of transformers' own
modules (embedding, rotary embedding, decoder layers, norm, lm_head) is copied to float32 on its own,
run, and freed. The masks are transformers' eager masks (0 visible, dtype minimum elsewhere), built by
`rewrite.marks.padded_causal_mask`, which the capture tests hold equal to transformers' own.
Returns what `model(..., output_hidden_states=True)` returns: logits and the hidden-state tuple.
"""

from __future__ import annotations

import copy

import torch

from rewrite.marks import padded_causal_mask
from rewrite.spec import pad_aware_position_ids


def _float32(module: torch.nn.Module) -> torch.nn.Module:
    return copy.deepcopy(module).float()


@torch.no_grad()
def layerwise_float32_forward(model, input_ids: torch.Tensor, attention_mask: torch.Tensor):
    config = model.config
    inner = model.model
    hidden = _float32(inner.embed_tokens)(input_ids)
    positions = pad_aware_position_ids(attention_mask)
    cos, sin = _float32(inner.rotary_emb)(hidden, positions)
    query_positions = torch.arange(input_ids.shape[1], device=input_ids.device)
    masks = {
        "full_attention": padded_causal_mask(attention_mask, query_positions, None, torch.float32),
        "sliding_attention": padded_causal_mask(attention_mask, query_positions, config.sliding_window, torch.float32),
    }
    saved = config._attn_implementation
    config._attn_implementation = "eager"
    hidden_states = [hidden]
    try:
        for index, layer in enumerate(inner.layers):
            layer32 = _float32(layer)
            output = layer32(hidden, attention_mask=masks[config.layer_types[index]], position_ids=positions,
                             position_embeddings=(cos, sin))
            hidden = output[0] if isinstance(output, tuple) else output
            hidden_states.append(hidden)
            del layer32
    finally:
        config._attn_implementation = saved
    hidden_states[-1] = _float32(inner.norm)(hidden)
    logits = _float32(model.lm_head)(hidden_states[-1])
    return logits, tuple(hidden_states)
