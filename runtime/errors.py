"""Errors the runtime raises on purpose."""

from rewrite.model import InputError


class GenerationError(InputError):
    """A generation request that cannot be served: empty batch, too long, bad options."""
