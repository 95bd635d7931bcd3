"""Exception types of the GRPO package; each message says what to change."""


class GRPOConfigError(ValueError):
    """A `GRPOConfig` field holds a value the trainer cannot use."""


class GRPOInputError(ValueError):
    """Tensors or arguments passed to the loss or advantage functions do not fit together."""
