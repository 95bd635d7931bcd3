"""`--fsdp` warns about the allocator setting that made FSDP2's per-layer all-gathers slow on the GPU machine."""

import pytest

from runtime.grpo.sharding import expandable_segments_enabled


@pytest.mark.parametrize(
    ("environment", "enabled"),
    [
        ({}, False),
        ({"PYTORCH_CUDA_ALLOC_CONF": "expandable_segments:True"}, True),
        ({"PYTORCH_CUDA_ALLOC_CONF": "max_split_size_mb:128, expandable_segments: true"}, True),
        ({"PYTORCH_ALLOC_CONF": "expandable_segments:True"}, True),
        ({"PYTORCH_CUDA_ALLOC_CONF": "expandable_segments:False"}, False),
        ({"PYTORCH_CUDA_ALLOC_CONF": "max_split_size_mb:128"}, False),
    ],
)
def test_expandable_segments_are_recognised_in_either_variable(environment, enabled):
    assert expandable_segments_enabled(environment) is enabled
