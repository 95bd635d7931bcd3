"""`attach_adapter`: a saved peft LoRA adapter (a training checkpoint's, or an exported one) on a loaded build.

The adapter is attached as the trainer attaches one (peft's LoRA, 4-bit experts wrapped by
`runtime.ops.nf4_experts_lora`) with the saved config and weights, frozen, for inference.
"""

from __future__ import annotations

import os
from pathlib import Path

from peft import LoraConfig, PeftModel, get_peft_model, set_peft_model_state_dict
from peft.utils import CONFIG_NAME as ADAPTER_CONFIG
from peft.utils import SAFETENSORS_WEIGHTS_NAME as ADAPTER_WEIGHTS

from rewrite.errors import RewriteError
from rewrite.model import RewrittenGptOss
from rewrite.tensor_files import read_tensor_file
from runtime.ops.nf4_experts_lora import register_with

ADAPTER_REPAIR = "the adapter file is damaged: use another checkpoint-N, or train again"


class AdapterError(RewriteError):
    """A directory that holds no peft adapter, or an adapter that does not fit the model."""


def attach_adapter(model: RewrittenGptOss, adapter_dir: str | os.PathLike) -> PeftModel:
    """Wrap `model.graph_module` (in place) in a peft model carrying the adapter saved in `adapter_dir`; returns it.

    Raises `AdapterError` when `adapter_dir` holds no adapter, when the model already carries one, and when the
    adapter's tensors do not fit the model (another model's, or other LoRA targets than the model has).
    """
    adapter_dir = Path(adapter_dir)
    missing = [name for name in (ADAPTER_CONFIG, ADAPTER_WEIGHTS) if not (adapter_dir / name).is_file()]
    if missing:
        raise AdapterError(f"{adapter_dir} is not a peft adapter (it lacks {', '.join(missing)}): pass a "
                           "RUN/checkpoint-N directory or the output of `rewrite export` without --merged")
    if isinstance(model.graph_module, PeftModel):
        raise AdapterError("the model already carries a peft adapter: attach one adapter to a freshly loaded build")
    config = register_with(LoraConfig.from_pretrained(str(adapter_dir)))
    config.inference_mode = True
    policy = get_peft_model(model.graph_module, config)
    try:
        weights = read_tensor_file(adapter_dir / ADAPTER_WEIGHTS, model.device, ADAPTER_REPAIR)
        result = set_peft_model_state_dict(policy, weights)
    except RuntimeError as error:  # torch's load_state_dict: tensors of other shapes
        raise AdapterError(f"{adapter_dir}'s adapter does not fit this model ({error}): it was trained on "
                           "another model; pass the build it was trained on") from error
    if result.unexpected_keys:
        raise AdapterError(f"{adapter_dir}'s adapter has weights this model lacks (e.g. "
                           f"{result.unexpected_keys[0]}): it was trained on another model; pass the build it was "
                           "trained on")
    model.graph_module = policy.eval()
    return policy
