"""One check both LoRA tests share: an adapter trained on our module changes it, and loads on transformers' model."""

from __future__ import annotations

import torch
from peft import PeftModel

from rewrite.transformers_model import transformers_model


def assert_adapter_loads_on_transformers(model, checkpoint, adapter_dir) -> None:
    """`model.graph_module` carries peft adapters: saved, they load with `PeftModel.from_pretrained` on the HF model
    of `checkpoint` (its dequantized weights for a 4-bit build) and give its logits, with and without the adapter."""
    ids = torch.randint(3, 512, (2, 12))
    with torch.no_grad():
        adapted = model(ids)
        with model.graph_module.disable_adapter():
            base = model(ids)
    assert (adapted - base).abs().max() > 1e-2, "the adapter changes the output; disabling it removes it"
    model.graph_module.save_pretrained(adapter_dir)
    hf = PeftModel.from_pretrained(transformers_model(checkpoint), adapter_dir)
    with torch.no_grad():
        torch.testing.assert_close(hf(ids).logits, adapted, atol=1e-4, rtol=0)
        with hf.disable_adapter():
            torch.testing.assert_close(hf(ids).logits, base, atol=1e-4, rtol=0)
