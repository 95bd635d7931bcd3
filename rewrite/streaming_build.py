"""Streaming MXFP4 builds: the model is captured and rewritten on the meta device, then its tensors are made one
decoder layer at a time on the build device and handed on, so nothing exists in full precision but one layer.

Where a tensor's value comes from (`TensorValues`):
- a preset: drawn per tensor (`rewrite.random_weights`: RMSNorm weights 1, biases 0 but the router's, else
  normal(0, initializer_range)), the experts drawn in full precision one layer at a time and quantized to MXFP4
  as the released weights are (`runtime.ops.mxfp4_format.quantize_mxfp4`, expert by expert);
- a full-precision checkpoint: read tensor by tensor, the experts quantized the same way;
- an MXFP4 checkpoint (OpenAI's layout): read tensor by tensor, the experts' `*_blocks` and `*_scales` kept bit
  for bit, never dequantized.
Where they go: `write_streaming` writes them as shards of a checkpoint directory in OpenAI's MXFP4 layout (the
experts as `*_blocks`, `*_scales`, `*_bias`; `config.json` with `quantization_config.quant_method == "mxfp4"`), so
transformers and vLLM read it as released weights; `materialize` puts them into a module on the device, for a
run that builds on the GPU and writes nothing (gpt-oss-120b in MXFP4 fits one card; its bf16 build never does).
The build is unverified stage by stage (meta tensors hold no values): `rewrite check OUT` compares the result with
transformers' eager model on the same dequantized weights.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from functools import partial
from pathlib import Path

import networkx as nx
import torch
from safetensors.torch import save_file
from transformers import GptOssConfig

from . import random_weights
from .emit import emitted_code
from .errors import UnsupportedModelError
from .graphdiff import to_networkx
from .manifest import (
    GRAPH_STRUCTURE_NAME,
    GRAPH_TENSORS_NAME,
    MANIFEST_NAME,
    MODULE_NAME,
    MXFP4_METHOD,
    file_digest,
)
from .meta_build import rewritten_on_meta
from .meta_model import config_buffers, replace_tensor
from .model import RewrittenGptOss
from .mxfp4 import BLOCKS_SUFFIX, MXFP4, SCALES_SUFFIX
from .presets import preset_config
from .shard_writer import ShardWriter
from .source import check_checkpoint_directory
from .spec import QUANTIZATION_META_KEY, RUNTIME_META_KEY
from .staged_directory import staged_directory
from .tensor_files import TensorFiles, transformers_tensors
from .tokenizer_files import write_tokenizer

# what OpenAI's released config.json leaves unquantized (transformers reads the list)
MODULES_NOT_CONVERTED = ["model.layers.*.self_attn", "model.layers.*.mlp.router", "model.embed_tokens", "lm_head"]
_LAYER = re.compile(r"^model\.layers\.(\d+)\.")


class TensorValues:
    """The values of the transformers-named tensors of one source, made on `device` in `dtype` when floating."""

    def __init__(self, device: torch.device, dtype: torch.dtype, config: GptOssConfig,
                 files: TensorFiles | None = None):
        self.device, self.dtype, self.config, self.files = device, dtype, config, files

    def full(self, name: str, like: torch.Tensor) -> torch.Tensor:
        """Tensor `name` shaped like `like` (a meta tensor)."""
        if self.files is None:
            value = torch.empty(like.shape, dtype=like.dtype, device=self.device)
            random_weights.fill_rows(value, name, like.shape, 0, self.config.initializer_range)
            return value
        value = self.files.read(name).to(self.device)
        return value.to(self.dtype) if value.is_floating_point() else value

    def packed(self, name: str) -> tuple[torch.Tensor, torch.Tensor] | None:
        """The checkpoint's own MXFP4 blocks and scales of expert matrix `name`, if it has them."""
        if self.files is None or name + BLOCKS_SUFFIX not in self.files:
            return None
        return (self.files.read(name + BLOCKS_SUFFIX).to(self.device),
                self.files.read(name + SCALES_SUFFIX).to(self.device))


def stream_tensors(
    graph_module: torch.fx.GraphModule, values: TensorValues, computed: set[str]
) -> Iterator[dict[str, torch.Tensor]]:
    """The graph's meta tensors by name with their values, one decoder layer's at a time (then the rest); the
    `computed` ones (buffers computed from the config) left out."""
    from runtime.ops.mxfp4_experts import MXFP4Experts
    from runtime.ops.mxfp4_format import quantize_mxfp4

    packed_matrices = {f"{path}.{name}": module for path, module in graph_module.named_modules()
                       if isinstance(module, MXFP4Experts) for name in ("gate_up_proj", "down_proj")}
    state = graph_module.state_dict(keep_vars=True)
    for group in _layer_groups(state):
        made = {}
        for name in group:
            if name.endswith("_scales") and name.removesuffix("_scales") in packed_matrices:
                continue  # made with its blocks
            if name in packed_matrices:
                kept = values.packed(name)
                if kept is None:
                    full = values.full(name, _full_shape(state[name], state[f"{name}_scales"], values.dtype))
                    quantized = [quantize_mxfp4(expert) for expert in full]
                    kept = torch.stack([blocks for blocks, _ in quantized]), torch.stack([s for _, s in quantized])
                    del full, quantized
                made[name], made[f"{name}_scales"] = kept
            elif state[name].is_meta and name not in computed:
                made[name] = values.full(name, state[name])
        yield made


def stored_name(name: str, packed: set[str]) -> str:
    """The name a tensor has in OpenAI's layout: an expert matrix's blocks get the `_blocks` suffix."""
    return name + BLOCKS_SUFFIX if name in packed else name


def materialize(model: RewrittenGptOss, values: TensorValues) -> RewrittenGptOss:
    """`model` (built on meta, `rewrite.meta_build`) with every meta tensor made on `values.device`, in place."""
    for made in stream_tensors(model.graph_module, values, computed=set()):
        for name, tensor in made.items():
            replace_tensor(model.graph_module, name, tensor)
    for name, tensor in [*model.graph_module.named_buffers()]:
        if not tensor.is_meta and tensor.device != values.device:
            replace_tensor(model.graph_module, name, tensor.to(values.device))
    return model


def write_streaming(
    out: Path, preset: str | None, checkpoint: str | os.PathLike | None, pass_names: list[str], dtype: torch.dtype,
    device: str | torch.device, force: bool, progress: Callable[[str], None],
) -> Path:
    """Build the MXFP4 checkpoint of a preset or a checkpoint directory into `out` (module docstring)."""
    device = torch.device(device)
    with ExitStack() as stack:
        if preset is not None:
            config, source = preset_config(preset), {"preset": preset, "weights": random_weights.DESCRIPTION}
            files = None
        else:
            directory = Path(checkpoint)
            quantization = check_checkpoint_directory(directory)
            config = GptOssConfig.from_pretrained(directory, local_files_only=True)
            config.quantization_config = None
            source = {"checkpoint": str(directory.resolve()), **({"packed_from": MXFP4} if quantization else {})}
            files = stack.enter_context(transformers_tensors(directory))
        source["dtype"] = str(dtype).removeprefix("torch.")
        progress("capturing and rewriting on the meta device")
        model, graph_module, reports = rewritten_on_meta(config, dtype, pass_names)
        _check_mxfp4(graph_module)
        values = TensorValues(device, dtype, config, files)
        with staged_directory(out, force) as staging:
            _write(staging, graph_module, model, values, source, reports, progress,
                   partial(write_tokenizer, preset=preset, checkpoint=checkpoint))
    progress(f"wrote {out}; the stages ran on meta tensors, unverified: `rewrite check {out}` verifies the build")
    return out


def _write(directory: Path, graph_module, model, values: TensorValues, source: dict, reports, progress,
           tokenizer: Callable[[Path], None]) -> None:
    quantization = graph_module.meta[QUANTIZATION_META_KEY]
    packed = {f"{path}.{name}" for path in quantization["modules"] for name in ("gate_up_proj", "down_proj")}
    buffers = {name: value.contiguous() for name, value in config_buffers(model).items()
               if name in graph_module.state_dict(keep_vars=True)}
    writer = ShardWriter(directory)
    for layer, made in enumerate(stream_tensors(graph_module, values, set(buffers))):
        for name, tensor in made.items():
            writer.add(stored_name(name, packed), tensor)
        writer.flush()
        progress(f"wrote tensor group {layer + 1}")
    writer.finish()
    save_file(buffers, directory / GRAPH_TENSORS_NAME)
    config = model.config.to_dict()
    config["quantization_config"] = {"quant_method": MXFP4_METHOD, "modules_to_not_convert": MODULES_NOT_CONVERTED}
    (directory / "config.json").write_text(json.dumps(config, indent=2, sort_keys=True) + "\n")
    tokenizer(directory)
    source_code, manifest = emitted_code(graph_module, source, reports, graph_module.meta.get(RUNTIME_META_KEY, {}))
    (directory / MODULE_NAME).write_text(source_code)
    structure = nx.node_link_data(to_networkx(graph_module), edges="edges")
    (directory / GRAPH_STRUCTURE_NAME).write_text(json.dumps(structure, sort_keys=True) + "\n")
    renamed = {name: stored_name(name, packed) for name in sorted(packed)}
    manifest["tensors"].update(
        from_transformers=sorted({name for name in graph_module.state_dict() if name not in buffers}),
        graph_only=sorted(buffers), stored_as=renamed,
    )
    manifest.update(quantization=quantization,
                    files={path.name: file_digest(path) for path in sorted(directory.iterdir())})
    (directory / MANIFEST_NAME).write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")


def _check_mxfp4(graph_module: torch.fx.GraphModule) -> None:
    quantization = graph_module.meta.get(QUANTIZATION_META_KEY)
    if not quantization or quantization["method"] != MXFP4_METHOD:
        raise UnsupportedModelError("a streaming build makes MXFP4 experts: run it with --quantize mxfp4")


def _layer_groups(state: dict[str, torch.Tensor]) -> list[list[str]]:
    groups: dict[int, list[str]] = {}
    for name in state:
        match = _LAYER.match(name)
        groups.setdefault(int(match.group(1)) if match else -1, []).append(name)
    return [groups[key] for key in sorted(groups) if key >= 0] + ([groups[-1]] if -1 in groups else [])


def _full_shape(blocks: torch.Tensor, scales: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    """A meta tensor [E, in, out] of the full-precision matrix that `blocks` [E, out, in / 32, 16] pack."""
    count, outputs, groups = scales.shape
    return torch.empty(count, groups * 2 * blocks.shape[-1], outputs, dtype=dtype, device="meta")
