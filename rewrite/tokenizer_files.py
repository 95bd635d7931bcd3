"""A build's tokenizer: written from the preset, or copied from the source checkpoint; read back by `load_tokenizer`.

A build of a preset holds the preset's harmony tokenizer (`tokenizer_build`) as transformers' `save_pretrained`
writes it (tokenizer.json, tokenizer_config.json, chat_template.jinja) and the preset's generation_config.json
(its harmony stop tokens as eos). A build of a checkpoint directory holds copies of that directory's tokenizer
files and generation_config.json, whichever it has. `AutoTokenizer.from_pretrained(build)` reads either.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from transformers import AutoTokenizer, PreTrainedTokenizerBase

from .errors import CheckpointError
from .manifest import MANIFEST_NAME, read_manifest
from .presets import preset_generation_config, preset_tokenizer_layout
from .tokenizer_build import harmony_tokenizer

# What a checkpoint's tokenizer is made of (transformers' names), and the generation settings beside it.
TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "chat_template.jinja")
GENERATION_CONFIG_FILE = "generation_config.json"


def preset_tokenizer(name: str) -> PreTrainedTokenizerBase:
    """The harmony tokenizer of a built-in preset, with its chat template (what a build of the preset holds)."""
    return harmony_tokenizer(preset_tokenizer_layout(name))


def write_tokenizer(directory: Path, preset: str | None = None, checkpoint: str | os.PathLike | None = None) -> None:
    """Write the tokenizer and generation_config.json of a build's source (a preset or a checkpoint directory)
    into `directory`, replacing a generation_config.json already there."""
    if preset is not None:
        preset_tokenizer(preset).save_pretrained(directory)
        preset_generation_config(preset).save_pretrained(directory)
        return
    for name in (*TOKENIZER_FILES, GENERATION_CONFIG_FILE):
        if (Path(checkpoint) / name).is_file():
            shutil.copyfile(Path(checkpoint) / name, directory / name)


def load_tokenizer(directory: str | os.PathLike) -> PreTrainedTokenizerBase:
    """The tokenizer of a build (or of any transformers checkpoint directory), chat template included.

    Raises `CheckpointError` when the directory holds no tokenizer, saying how to rebuild it with one, and when
    its tokenizer files cannot be read.
    """
    directory = Path(directory)
    if not (directory / "tokenizer.json").is_file() and not (directory / "tokenizer_config.json").is_file():
        raise CheckpointError(f"{directory} has no tokenizer (no tokenizer.json): {_how_to_get_one(directory)}")
    try:
        return AutoTokenizer.from_pretrained(directory, local_files_only=True)
    except Exception as error:  # transformers and tokenizers raise many kinds for files they cannot read
        raise CheckpointError(
            f"cannot read the tokenizer of {directory} ({error}); {_how_to_get_one(directory)}"
        ) from error


def _how_to_get_one(directory: Path) -> str:
    if not (directory / MANIFEST_NAME).is_file():
        return "pass a directory that holds a transformers tokenizer (tokenizer.json, tokenizer_config.json)"
    source = read_manifest(directory).get("source", {})
    if "preset" in source:
        return f"rebuild it with `rewrite build --preset {source['preset']} --out {directory} --force`"
    return (
        f"this build has no tokenizer because its source {source.get('checkpoint', '(unknown)')} had none: put the "
        f"model's tokenizer files ({', '.join(TOKENIZER_FILES)}) there and rebuild with `rewrite build --checkpoint "
        f"{source.get('checkpoint', 'SOURCE')} --out {directory} --force`"
    )
