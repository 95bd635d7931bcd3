"""Exception types of the attention ops; each message says what to change."""


class SinkAttentionInputError(ValueError):
    """Tensors passed to `flex_sink_attention` do not fit together (shapes, dtypes, window)."""
