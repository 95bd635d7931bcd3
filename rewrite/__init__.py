"""gpt-oss-rewrite: capture transformers' gpt-oss forward, rewrite it with passes, emit and load it.

Attributes are imported on first use (`rewrite.lazy_exports`): importing the package, as the `rewrite` command
does before it knows what it will run, imports neither torch nor transformers.
"""

import logging

from .errors import (
    CheckpointError,
    InputError,
    PassError,
    RewriteError,
    UnsupportedModelError,
    VerificationError,
)
from .lazy_exports import make_lazy

# bitsandbytes (imported by peft where it is installed) logs a warning on every CPU import about an optional
# kernel package it could use; nothing here needs it.
logging.getLogger("bitsandbytes.backends.cpu.ops").setLevel(logging.ERROR)

make_lazy(__name__, {
    "PRESETS": ".presets",
    "RewrittenGptOss": ".model",
    "build": ".build",
    "build_on_meta": ".meta_build",
    "build_preset": ".presets",
    "capture": ".capture",
    "load": ".load",
    "load_tokenizer": ".tokenizer_files",
    "preset_tokenizer": ".tokenizer_files",
})

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
