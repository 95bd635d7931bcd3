"""The comparison statistics: scaled max in float32, scaled mean in low precision."""

import torch

from rewrite.verify import compare, default_criterion


def _outputs(value):
    return {"prefill/logits": value}


def test_errors_are_scaled_by_the_reference_magnitude():
    reference = torch.full((4, 4), 8.0)
    comparison = compare(_outputs(reference + 8e-6), _outputs(reference), tolerance=1e-5)
    assert comparison.passed and abs(comparison.max_error - 1e-6) < 1e-7


def test_one_outlier_fails_the_max_but_not_the_mean():
    reference = torch.zeros(100, 10)
    candidate = reference.clone()
    candidate[0, 0] = 5.0  # one token whose expert flipped
    assert not compare(_outputs(candidate), _outputs(reference), tolerance=0.15).passed
    assert compare(_outputs(candidate), _outputs(reference), tolerance=0.15, statistic="mean").passed
    everywhere = reference + 1.0  # a broken rewrite moves every token
    assert not compare(_outputs(everywhere), _outputs(reference), tolerance=0.15, statistic="mean").passed


def test_default_criteria_by_dtype():
    assert default_criterion(torch.float32) == ("max", 1e-5)
    assert default_criterion(torch.bfloat16)[0] == "mean"
