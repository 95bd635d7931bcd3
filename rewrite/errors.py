"""Exceptions of our own: each message says what went wrong and what to do about it."""


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
