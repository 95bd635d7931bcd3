"""`compute_loss` equals TRL's GRPO loss, checked against plain float64 loops over sequences and tokens."""

import pytest
import torch

from runtime.grpo import GRPOInputError, compute_loss

LOSS_TYPES = ("grpo", "bnpo", "dr_grpo", "dapo", "cispo")
CLIPPED_LOSS_TYPES = ("grpo", "bnpo", "dr_grpo", "dapo")
LEVELS = ("token", "sequence")
LENGTHS = (6, 3, 5, 1, 0, 4)  # completion tokens per row, right-padded; one row is empty
ADVANTAGES = (1.0, -0.7, 0.4, 1.3, -0.2, -1.1)
# Per-row shifts of log(pi / pi_old), so that whole sequences, not just single tokens, leave the clip range.
SEQUENCE_LOG_RATIO_SHIFTS = (0.5, -0.4, 0.1, 0.35, 0.0, -0.05)
EPSILON_LOW, EPSILON_HIGH = 0.2, 0.28
CISPO_CAP = 1.1  # cispo's epsilon_high caps the ratio itself
MAX_COMPLETION_LENGTH = 8
BETA = 0.04


def epsilon_high_for(loss_type: str) -> float:
    return CISPO_CAP if loss_type == "cispo" else EPSILON_HIGH


def make_batch(seed: int = 0) -> dict[str, torch.Tensor]:
    generator = torch.Generator().manual_seed(seed)
    rows, columns = len(LENGTHS), max(LENGTHS)

    def noise(scale: float) -> torch.Tensor:
        return scale * torch.randn(rows, columns, generator=generator, dtype=torch.float64)

    per_token_logps = -3.0 * torch.rand(rows, columns, generator=generator, dtype=torch.float64)
    shifts = torch.tensor(SEQUENCE_LOG_RATIO_SHIFTS, dtype=torch.float64).unsqueeze(1)
    return {
        "per_token_logps": per_token_logps,
        "old_per_token_logps": per_token_logps - shifts + noise(0.3),
        "ref_per_token_logps": per_token_logps + noise(0.5),
        "advantages": torch.tensor(ADVANTAGES, dtype=torch.float64),
        "completion_mask": (torch.arange(columns) < torch.tensor(LENGTHS).unsqueeze(1)).long(),
    }


def completion_tokens(mask: torch.Tensor, row: int) -> list[int]:
    return [column for column in range(mask.shape[1]) if mask[row, column]]


def reference_ratios(batch: dict[str, torch.Tensor], level: str) -> dict[tuple[int, int], torch.Tensor]:
    """pi / pi_old for every completion token; at sequence level, exp of the row's mean log-ratio."""
    logps, old, mask = batch["per_token_logps"], batch["old_per_token_logps"], batch["completion_mask"]
    ratios = {}
    for row in range(logps.shape[0]):
        tokens = completion_tokens(mask, row)
        sequence_log_ratio = sum(logps[row, t] - old[row, t] for t in tokens) / max(len(tokens), 1)
        for t in tokens:
            log_ratio = sequence_log_ratio if level == "sequence" else logps[row, t] - old[row, t]
            ratios[row, t] = torch.exp(log_ratio)
    return ratios


def reference_loss(batch: dict[str, torch.Tensor], loss_type: str, beta: float, level: str,
                   bias_correction: bool = True) -> torch.Tensor:
    """TRL's loss written out one token at a time (the KL term times the ratio: TRL's use_bias_correction_kl)."""
    logps, ref, mask = batch["per_token_logps"], batch["ref_per_token_logps"], batch["completion_mask"]
    epsilon_high = epsilon_high_for(loss_type)
    ratios = reference_ratios(batch, level)
    row_sums = []
    for row in range(logps.shape[0]):
        advantage = batch["advantages"][row].item()
        row_sum = torch.zeros((), dtype=torch.float64)
        for t in completion_tokens(mask, row):
            ratio = ratios[row, t]
            if loss_type == "cispo":
                weight = min(ratio.item(), epsilon_high)  # a plain number: no gradient flows through it
                token_loss = -weight * advantage * logps[row, t]
            else:
                clipped_ratio = min(max(ratio, 1 - EPSILON_LOW), 1 + epsilon_high)  # a constant once clipped
                token_loss = -min(ratio * advantage, clipped_ratio * advantage)
            if beta:
                ref_minus_policy = ref[row, t] - logps[row, t]
                kl = torch.exp(ref_minus_policy) - ref_minus_policy - 1
                token_loss = token_loss + beta * (kl * ratio if bias_correction else kl)
            row_sum = row_sum + token_loss
        row_sums.append(row_sum)
    total, num_tokens, num_rows = sum(row_sums), sum(LENGTHS), len(LENGTHS)
    if loss_type == "grpo":
        return (
            sum(row_sum / max(length, 1) for row_sum, length in zip(row_sums, LENGTHS, strict=True))
            / num_rows
        )
    if loss_type == "bnpo":
        return total / max(num_tokens, 1)
    if loss_type == "dr_grpo":
        return total / (num_rows * MAX_COMPLETION_LENGTH)
    return total / num_tokens  # dapo, cispo: tokens of the whole (one-process, unaccumulated) batch


def loss_and_gradient(batch: dict[str, torch.Tensor], loss_type: str, beta: float, level: str,
                      bias_correction: bool = True, **overrides):
    inputs = {**batch, "per_token_logps": batch["per_token_logps"].clone().requires_grad_(), **overrides}
    loss, metrics = compute_loss(
        **inputs,
        use_bias_correction_kl=bias_correction,
        loss_type=loss_type,
        beta=beta,
        epsilon_low=EPSILON_LOW,
        epsilon_high=epsilon_high_for(loss_type),
        max_completion_length=MAX_COMPLETION_LENGTH,
        importance_sampling_level=level,
    )
    loss.backward()
    return loss.detach(), inputs["per_token_logps"].grad, metrics


def reference_loss_and_gradient(batch: dict[str, torch.Tensor], loss_type: str, beta: float, level: str,
                                bias_correction: bool = True):
    logps = batch["per_token_logps"].clone().requires_grad_()
    loss = reference_loss({**batch, "per_token_logps": logps}, loss_type, beta, level, bias_correction)
    loss.backward()
    return loss.detach(), logps.grad


@pytest.mark.parametrize("level", LEVELS)
def test_batch_has_ratios_inside_and_beyond_both_clip_bounds(level):
    batch = make_batch()
    ratios = reference_ratios(batch, level)
    advantage = {key: batch["advantages"][key[0]].item() for key in ratios}
    assert any(r < 1 - EPSILON_LOW and advantage[k] < 0 for k, r in ratios.items())
    assert any(r > 1 + EPSILON_HIGH and advantage[k] > 0 for k, r in ratios.items())
    assert any(r > CISPO_CAP and advantage[k] > 0 for k, r in ratios.items())
    assert any(1 - EPSILON_LOW < r < 1 + EPSILON_HIGH for r in ratios.values())


@pytest.mark.parametrize(("beta", "bias_correction"), [(0.0, True), (BETA, True), (BETA, False)])
@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("loss_type", LOSS_TYPES)
def test_loss_and_gradient_equal_the_token_by_token_reference(loss_type, level, beta, bias_correction):
    batch = make_batch()
    loss, gradient, _ = loss_and_gradient(batch, loss_type, beta, level, bias_correction)
    expected_loss, expected_gradient = reference_loss_and_gradient(batch, loss_type, beta, level, bias_correction)
    torch.testing.assert_close(loss, expected_loss, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(gradient, expected_gradient, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("loss_type", LOSS_TYPES)
def test_missing_old_logps_mean_the_current_logps_detached(loss_type, level):
    batch = make_batch(seed=1)
    loss, gradient, _ = loss_and_gradient(batch, loss_type, BETA, level, old_per_token_logps=None)
    on_policy = {**batch, "old_per_token_logps": batch["per_token_logps"].clone()}
    expected_loss, expected_gradient = reference_loss_and_gradient(on_policy, loss_type, BETA, level)
    torch.testing.assert_close(loss, expected_loss, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(gradient, expected_gradient, rtol=1e-12, atol=1e-12)


def test_beta_zero_needs_no_reference_logps():
    batch = make_batch()
    loss, _, metrics = loss_and_gradient(batch, "dapo", 0.0, "token", ref_per_token_logps=None)
    torch.testing.assert_close(loss, reference_loss(batch, "dapo", 0.0, "token").detach())
    assert "kl" not in metrics


def test_dapo_divides_by_the_given_number_of_items_in_batch():
    batch = make_batch()
    loss, _, _ = loss_and_gradient(batch, "dapo", BETA, "token")
    doubled, _, _ = loss_and_gradient(batch, "dapo", BETA, "token", num_items_in_batch=2 * sum(LENGTHS))
    torch.testing.assert_close(doubled, loss / 2)


def reference_clip_metrics(batch: dict[str, torch.Tensor], level: str) -> dict[str, float]:
    """TRL's clip fractions: over tokens at token level, over sequences (all rows) at sequence level."""
    ratios = reference_ratios(batch, level)
    advantages, mask = batch["advantages"].tolist(), batch["completion_mask"]
    rows = range(len(LENGTHS))
    units = {row: [ratios[row, t] for t in completion_tokens(mask, row)] for row in rows}
    if level == "sequence":  # one ratio per row; an empty row has mean log-ratio 0, so ratio 1
        units = {row: row_ratios[:1] or [1.0] for row, row_ratios in units.items()}

    def fractions(is_clipped) -> tuple[float, list[float]]:
        flags = {row: [is_clipped(float(r), advantages[row]) for r in units[row]] for row in rows}
        overall = sum(sum(f) for f in flags.values()) / sum(len(f) for f in flags.values())
        return overall, [sum(f) / len(f) for f in flags.values() if f]

    low, low_per_row = fractions(lambda r, a: r < 1 - EPSILON_LOW and a < 0)
    high, high_per_row = fractions(lambda r, a: r > 1 + EPSILON_HIGH and a > 0)
    region, _ = fractions(lambda r, a: (r < 1 - EPSILON_LOW and a < 0) or (r > 1 + EPSILON_HIGH and a > 0))
    cispo, _ = fractions(lambda r, a: r > CISPO_CAP and a > 0)
    return {
        "clip_ratio/low_mean": low,
        "clip_ratio/high_mean": high,
        "clip_ratio/region_mean": region,
        "clip_ratio/low_min": min(low_per_row),
        "clip_ratio/high_max": max(high_per_row),
        "cispo_clip_ratio": cispo,
    }


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("loss_type", LOSS_TYPES)
def test_metrics_report_clip_fractions_and_mean_kl(loss_type, level):
    batch = make_batch()
    _, _, metrics = loss_and_gradient(batch, loss_type, BETA, level, bias_correction=False)
    expected = reference_clip_metrics(batch, level)
    names = (
        ["cispo_clip_ratio"] if loss_type == "cispo" else [n for n in expected if n.startswith("clip_ratio/")]
    )
    assert set(metrics) == {"kl", *names}
    for name in names:
        assert metrics[name].item() == pytest.approx(expected[name], abs=1e-12), name
    mask, logps, ref = batch["completion_mask"], batch["per_token_logps"], batch["ref_per_token_logps"]
    kl_terms = [
        torch.exp(ref[row, t] - logps[row, t]) - (ref[row, t] - logps[row, t]) - 1
        for row in range(len(LENGTHS))
        for t in completion_tokens(mask, row)
    ]
    assert metrics["kl"].item() == pytest.approx(sum(kl_terms).item() / len(kl_terms), abs=1e-12)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"loss_type": "ppo"}, "loss_type='ppo' is unknown: use one of grpo, bnpo, dr_grpo, dapo, cispo"),
        (
            {"importance_sampling_level": "batch"},
            "importance_sampling_level='batch' is unknown: use 'token' or",
        ),
        ({"ref_per_token_logps": None}, "pass the reference model's log-probs, or set beta=0"),
        ({"advantages": torch.zeros(6, 1)}, r"advantages must have shape \[6\] \(one per completion\)"),
        (
            {"completion_mask": torch.ones(6, 5)},
            r"completion_mask has shape \(6, 5\) but per_token_logps has",
        ),
    ],
)
def test_inconsistent_arguments_are_refused_with_a_fix(overrides, message):
    arguments = {
        **make_batch(),
        "loss_type": "dapo",
        "beta": BETA,
        "epsilon_low": EPSILON_LOW,
        "epsilon_high": EPSILON_HIGH,
        "max_completion_length": MAX_COMPLETION_LENGTH,
        **overrides,
    }
    with pytest.raises(GRPOInputError, match=message):
        compute_loss(**arguments)
