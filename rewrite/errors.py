"""Exceptions of our own: each message says what went wrong and what to do about it.

Every error the project raises on purpose derives from `RewriteError`, so every `rewrite` command reports it
as one line and exit status 2 (`rewrite.cli_run`). The errors shared across packages live here; the two
packages with a family of their own keep it beside their code (`runtime.grpo.errors`: `GRPOError`,
`runtime.rewards.errors`: `RewardsError`), and an error that one module raises may be defined in it.
"""


class RewriteError(Exception):
    """Base class of every error the toolkit raises on purpose."""


class UnsupportedModelError(RewriteError):
    """The model or checkpoint is not a gpt-oss model this toolkit can capture."""


class CheckpointError(RewriteError):
    """A checkpoint directory is missing, incomplete, corrupt, or written by an incompatible version."""


class PassError(RewriteError):
    """A pass name is unknown, or a pass broke the graph it was given."""


class VerificationError(RewriteError):
    """A rewritten module's outputs drifted from the reference beyond tolerance."""


class QuantizationError(RewriteError):
    """A quantization is unknown, stored in a form we cannot read, or its library (bitsandbytes) is missing."""


class RunInterrupted(RewriteError):
    """A long run stopped by Ctrl-C after saving what it had; the message says how to go on."""


class InputError(RewriteError, ValueError):
    """Inputs that a module cannot run: wrong shapes, empty batches, sequences past the context."""


class GenerationError(InputError):
    """A generation request that cannot be served: empty batch, too long, bad options."""


class SinkAttentionInputError(InputError):
    """Tensors passed to the attention op (`runtime.ops.sink_attention`) do not fit together (shapes, dtypes,
    window)."""
