"""`export`: a training checkpoint's LoRA adapter as files transformers and peft load without this project.

Without `merged`: the peft adapter (adapter_config.json, adapter_model.safetensors), which
`PeftModel.from_pretrained(GptOssForCausalLM..., OUT)` loads. With `merged`: a transformers checkpoint of the base
with the adapter merged into its weights (peft's `merge_and_unload` on transformers' model of the base build; a
4-bit build's weights are its dequantized ones), which `GptOssForCausalLM.from_pretrained(OUT)` loads. Either way
the base build's tokenizer files and generation config come along, so `AutoTokenizer.from_pretrained(OUT)` loads
too. Before anything is written the adapter's tensors are checked against those peft makes for transformers' model
(names and shapes), so an adapter that would not load there is refused. OUT is written atomically.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path

import torch
from peft import LoraConfig, PeftModel, get_peft_model, get_peft_model_state_dict
from transformers import GptOssConfig, GptOssForCausalLM

from rewrite.manifest import MANIFEST_NAME, read_manifest
from rewrite.source import load_source
from rewrite.staged_directory import staged_directory
from rewrite.tensor_files import TensorFiles
from rewrite.tokenizer_files import write_tokenizer
from rewrite.transformers_model import transformers_model
from runtime.peft_adapter import ADAPTER_CONFIG, ADAPTER_REPAIR, ADAPTER_WEIGHTS
from runtime.training_checkpoint import (
    TrainingCheckpoint,
    TrainingCheckpointError,
    find_base,
    read_training_checkpoint,
)


def export(
    checkpoint: str | os.PathLike,
    out: str | os.PathLike,
    merged: bool = False,
    dtype: torch.dtype = torch.bfloat16,
    base: str | os.PathLike | None = None,
    force: bool = False,
    progress: Callable[[str], None] | None = None,
) -> Path:
    """Write the adapter of `checkpoint` (RUN/checkpoint-N) to `out`, merged into the base's weights in `dtype`
    when `merged`; returns `out`.

    `base` is the build the run trained, when it is not where the run recorded it (`find_base`). Raises
    `TrainingCheckpointError` for a path that is not a training checkpoint, a base that cannot be found or an
    adapter that does not fit transformers' model, `CheckpointError` when `out` exists and `force` is false.
    """
    out = Path(out)
    training = read_training_checkpoint(checkpoint)
    base_dir = find_base(training, base)
    _refuse_overwriting_inputs(out, [training.directory, base_dir])
    check_transformers_layout(training.directory, base_dir)
    report = progress or (lambda message: None)
    with staged_directory(out, force) as staging:
        if merged:
            report(f"merging {training.directory} into {base_dir} in {str(dtype).removeprefix('torch.')}")
            _write_merged(training.directory, base_dir, staging, dtype)
        else:
            _write_adapter(training, base_dir, staging)
        write_tokenizer(staging, checkpoint=base_dir)
    return out


def check_transformers_layout(adapter_dir: Path, model_dir: Path) -> None:
    """Refuse (`TrainingCheckpointError`) an adapter in `adapter_dir` whose tensors differ, by name or shape, from
    those peft makes with its adapter_config.json on transformers' model of `model_dir`'s config.json: it would not
    load there. The model is built on the meta device, so nothing is allocated."""
    lora_config = LoraConfig.from_pretrained(str(adapter_dir))
    lora_config.base_model_name_or_path = None  # the meta model has no directory; peft would warn of the change
    with torch.device("meta"):
        model = get_peft_model(GptOssForCausalLM(GptOssConfig.from_pretrained(model_dir)), lora_config)
    expected = {name: tuple(tensor.shape) for name, tensor in get_peft_model_state_dict(model).items()}
    with TensorFiles([adapter_dir / ADAPTER_WEIGHTS], repair=ADAPTER_REPAIR) as files:
        saved = {name: tuple(files.meta(name).shape) for name in files.names()}
    differences = [f"{name}: saved {list(saved[name]) if name in saved else 'nothing'}, peft expects "
                   f"{list(expected[name]) if name in expected else 'nothing'}"
                   for name in sorted(set(saved) | set(expected)) if saved.get(name) != expected.get(name)]
    if differences:
        raise TrainingCheckpointError(
            f"{adapter_dir}'s adapter does not fit transformers' GptOssForCausalLM ({len(differences)} tensors "
            f"differ, e.g. {differences[0]}): it was saved by an older gpt-oss-rewrite or trained on another model; "
            "retrain it with this version, or pass --base DIR, the build it was trained on."
        )


def _write_merged(adapter_dir: Path, base_dir: Path, out: Path, dtype: torch.dtype) -> None:
    model = PeftModel.from_pretrained(_transformers_base(base_dir, dtype), str(adapter_dir))
    model.merge_and_unload().save_pretrained(out)


def _transformers_base(base_dir: Path, dtype: torch.dtype) -> GptOssForCausalLM:
    """transformers' model of the base: a build's weights (dequantized for a 4-bit build), or a transformers
    checkpoint directory's."""
    if (base_dir / MANIFEST_NAME).is_file():
        return transformers_model(base_dir, dtype=dtype)
    model, _ = load_source(checkpoint=base_dir, dtype=dtype)
    return model


def _write_adapter(training: TrainingCheckpoint, base_dir: Path, out: Path) -> None:
    """The adapter's files, its config naming transformers' class (as peft saves one trained on it) and the base
    directory when transformers can load it (a 4-bit build's files lack the weights it quantized)."""
    quantized = (base_dir / MANIFEST_NAME).is_file() and read_manifest(base_dir).get("quantization")
    config = {
        **training.adapter_config,
        "base_model_name_or_path": None if quantized else str(base_dir.resolve()),
        "auto_mapping": {"base_model_class": GptOssForCausalLM.__name__,
                         "parent_library": GptOssForCausalLM.__module__},
    }
    (out / ADAPTER_CONFIG).write_text(json.dumps(config, indent=2, sort_keys=True) + "\n")
    shutil.copyfile(training.directory / ADAPTER_WEIGHTS, out / ADAPTER_WEIGHTS)


def _refuse_overwriting_inputs(out: Path, inputs: list[Path]) -> None:
    resolved = out.resolve()
    for path in inputs:
        if resolved == path.resolve() or resolved in path.resolve().parents:
            raise TrainingCheckpointError(f"--out {out} would replace {path}, which the export reads: choose another")
