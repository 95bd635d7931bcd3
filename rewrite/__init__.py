"""gpt-oss-rewrite: capture transformers' gpt-oss forward, rewrite it with passes, emit and load it."""

from .build import build
from .capture import capture
from .errors import CheckpointError, PassError, RewriteError, UnsupportedModelError, VerificationError
from .load import load
from .meta_build import build_on_meta
from .model import InputError, RewrittenGptOss
from .presets import PRESETS, build_preset
from .tokenizer_files import load_tokenizer, preset_tokenizer

__all__ = [
    "PRESETS",
    "CheckpointError",
    "InputError",
    "PassError",
    "RewriteError",
    "RewrittenGptOss",
    "UnsupportedModelError",
    "VerificationError",
    "build",
    "build_on_meta",
    "build_preset",
    "capture",
    "load",
    "load_tokenizer",
    "preset_tokenizer",
]
