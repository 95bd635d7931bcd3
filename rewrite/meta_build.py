"""`build_on_meta(preset)`: the module `rewrite build --preset` would write, with no weights allocated.

The preset's transformers model is created on the meta device, captured and rewritten by the passes (unverified:
meta tensors hold no values), and its emitted code is executed as `rewrite.load` executes a checkpoint's: the
module is the one a build of the preset loads back (same code, same graph hash), except that every weight is a
meta tensor (shape and dtype only). The buffers that transformers computes from the config instead of drawing (RoPE's
`inv_freq`) hold their real values, computed on the CPU by the constructor of the module that owns them, as a build
computes them. A caller materialises the weights as it wants them (`runtime.grpo.sharding` shards them with FSDP
and draws each process's rows), so gpt-oss-120b never exists whole anywhere
(`rewrite.streaming_build.materialize` fills them on one GPU in MXFP4).
"""

from __future__ import annotations

import torch
from transformers import GptOssConfig, GptOssForCausalLM

from .capture import capture
from .emit import emitted_code
from .graph_pass import PassReport
from .load import assemble
from .meta_model import config_buffers, model_on_meta
from .model import RewrittenGptOss
from .pipeline import quantize_pass_names, resolve_pass_names, run_pipeline
from .presets import preset_config
from .spec import RUNTIME_META_KEY


def build_on_meta(
    preset: str, dtype: torch.dtype = torch.float32, passes: str | list[str] | None = None, quantize: str | None = None
) -> RewrittenGptOss:
    """The loaded module of `rewrite build --preset PRESET --quantize QUANTIZE` (with `passes`: None for the
    default ones), its weights on the meta device and its computed buffers on the CPU; its manifest's source says
    `"weights": "meta"`.

    Raises `UnsupportedModelError` for an unknown preset, `PassError` for unknown passes, `QuantizationError` for
    an unknown quantization.
    """
    pass_names = resolve_pass_names(passes) + quantize_pass_names(quantize)
    model, graph_module, reports = rewritten_on_meta(preset_config(preset), dtype, pass_names)
    dtype_name = str(dtype).removeprefix("torch.")
    source_code, manifest = emitted_code(graph_module, {"preset": preset, "dtype": dtype_name, "weights": "meta"},
                                         reports, graph_module.meta.get(RUNTIME_META_KEY, {}))
    tensors = {name: tensor.detach() for name, tensor in graph_module.state_dict(keep_vars=True).items()}
    tensors.update({name: value for name, value in config_buffers(model).items() if name in tensors})
    return assemble(source_code, manifest, tensors)


def rewritten_on_meta(
    config: GptOssConfig, dtype: torch.dtype, pass_names: list[str]
) -> tuple[GptOssForCausalLM, torch.fx.GraphModule, list[PassReport]]:
    """(transformers' model of `config` on meta, its graph rewritten by `pass_names` on meta, the reports);
    unverified: meta tensors hold no values."""
    model = model_on_meta(config, dtype)
    graph_module = capture(model)
    return model, graph_module, run_pipeline(graph_module, pass_names)
