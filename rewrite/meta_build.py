"""`build_on_meta(preset)`: the module `rewrite build --preset` would write, with no weights allocated.

The preset's transformers model is created on the meta device, captured and rewritten by the passes (unverified:
meta tensors hold no values), and its emitted code is executed as `rewrite.load` executes a checkpoint's: the
module is the one a build of the preset loads back (same code, same graph hash), except that every weight is a
meta tensor (shape and dtype only). The buffers that transformers computes from the config instead of drawing (RoPE's
`inv_freq`) hold their real values, computed on the CPU by the constructor of the module that owns them, as a build
computes them. A caller materialises the weights as it wants them (`runtime.grpo.sharding` shards them with FSDP
and draws each process's rows), so a 234 GB gpt-oss-120b never exists whole anywhere.
"""

from __future__ import annotations

import torch
from transformers import GptOssForCausalLM

from .capture import capture
from .codegen import module_from_source
from .emit import emitted_code
from .errors import UnsupportedModelError
from .model import RewrittenGptOss
from .pipeline import resolve_pass_names, run_pipeline
from .presets import build_preset
from .spec import RUNTIME_META_KEY, graph_spec


def build_on_meta(preset: str, dtype: torch.dtype = torch.float32, passes: str | list[str] | None = None) -> RewrittenGptOss:
    """The loaded module of `rewrite build --preset PRESET` (with `passes`: None for the default ones), its weights
    on the meta device and its computed buffers on the CPU; its manifest's source says `"weights": "meta"`.

    Raises `UnsupportedModelError` for an unknown preset, `PassError` for unknown passes.
    """
    model = build_preset(preset, dtype=dtype, device="meta")
    graph_module = capture(model)
    reports = run_pipeline(graph_module, resolve_pass_names(passes))
    dtype_name = str(dtype).removeprefix("torch.")
    source_code, manifest = emitted_code(graph_module, {"preset": preset, "dtype": dtype_name, "weights": "meta"},
                                         reports, graph_module.meta.get(RUNTIME_META_KEY, {}))
    tensors = {name: tensor.detach() for name, tensor in graph_module.state_dict(keep_vars=True).items()}
    tensors.update({name: value for name, value in _computed_buffers(model).items() if name in tensors})
    emitted = module_from_source(source_code, tensors, set(manifest["tensors"]["parameters"]), manifest["modules"])
    return RewrittenGptOss(emitted, graph_spec(graph_module), manifest).eval()


def _computed_buffers(model: GptOssForCausalLM) -> dict[str, torch.Tensor]:
    """Every buffer of `model` by name, computed on the CPU: each module that owns buffers is built again from the
    config there (in gpt-oss only the rotary embedding does, and its constructor computes them)."""
    buffers = {}
    for module_name, module in model.named_modules():
        own = dict(module.named_buffers(recurse=False))
        if not own:
            continue
        try:
            with torch.device("cpu"):
                rebuilt = type(module)(model.config)
        except TypeError as error:
            raise UnsupportedModelError(
                f"cannot compute the buffers of {module_name} ({type(module).__name__}) without weights: its "
                f"constructor does not take the model config alone ({error}); build the preset with `rewrite build`"
            ) from error
        buffers.update({f"{module_name}.{name}": getattr(rebuilt, name) for name in own})
    return buffers
