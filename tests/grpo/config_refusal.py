"""What a refused GRPOConfig tells the user."""

from __future__ import annotations

import pytest

from runtime.grpo import GRPOConfig, GRPOConfigError


def config_refusal(**fields) -> str:
    """The message that ``GRPOConfig(**fields)`` is refused with; the calling test fails if it is accepted."""
    with pytest.raises(GRPOConfigError) as refusal:
        GRPOConfig(**fields)
    return str(refusal.value)
