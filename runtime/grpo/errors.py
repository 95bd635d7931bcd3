"""Exception types of the GRPO package; each message says what to change.

They derive from `rewrite.RewriteError`, so the `rewrite` command reports them as `rewrite train: error: ...`.
"""

from rewrite.errors import RewriteError, RunInterrupted


class GRPOError(RewriteError):
    """Base class of every error the GRPO package raises on purpose."""


class GRPOConfigError(GRPOError, ValueError):
    """A `GRPOConfig` field holds a value the trainer cannot use."""


class GRPOInputError(GRPOError, ValueError):
    """Tensors or arguments passed to the loss, advantage or reward functions do not fit together."""


class GRPODatasetError(GRPOInputError):
    """The training dataset cannot be turned into prompts: a missing column, string prompts without a tokenizer."""


class GRPOModelError(GRPOError):
    """The model cannot be trained as given: no linear modules for LoRA, unknown stop and pad tokens."""


class GRPOOutputDirError(GRPOError):
    """The output directory holds another run, or no checkpoint to resume from."""


class GRPOTaskError(GRPOError, KeyError):
    """A built-in task name that the registry does not know."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0])


class GRPORewardError(GRPOInputError):
    """A reward function failed or returned something unusable; the message names the function and the row."""


class GRPOInterrupted(GRPOError, RunInterrupted):
    """Training was stopped with Ctrl-C after saving the last completed step; the message says how to resume."""


class GRPOUnsupportedError(GRPOError, AttributeError):
    """A TRL / transformers `Trainer` attribute or argument this trainer does not have; the message says what to use
    instead. An AttributeError, so that `hasattr` and `getattr(trainer, name, default)` keep working."""
