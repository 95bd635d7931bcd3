"""Rewards to advantages as TRL computes them: weighted NaN-skipping sum, then group-relative scaling."""

import math
import statistics

import pytest
import torch

from runtime.grpo import GRPOInputError, aggregate_rewards, compute_advantages

NAN = float("nan")
STD_EPSILON = 1e-4


def tensor(values) -> torch.Tensor:
    return torch.tensor(values, dtype=torch.float64)


def test_rewards_are_the_weighted_sum_over_reward_functions():
    per_func = tensor([[1.0, 2.0], [0.5, -1.0]])
    torch.testing.assert_close(aggregate_rewards(per_func, [1.0, 0.5]), tensor([2.0, 0.0]))


def test_without_weights_every_reward_function_counts_once():
    per_func = tensor([[1.0, 2.0, 3.0]])
    torch.testing.assert_close(aggregate_rewards(per_func, None), tensor([6.0]))


def test_a_function_that_did_not_score_a_row_is_skipped_and_an_unscored_row_stays_nan():
    per_func = tensor([[NAN, 2.0], [NAN, NAN]])
    rewards = aggregate_rewards(per_func, [3.0, 0.5])
    assert rewards[0].item() == 1.0
    assert math.isnan(rewards[1].item())


def test_reward_weights_must_match_the_reward_functions():
    with pytest.raises(
        GRPOInputError, match="3 reward weights for 2 reward functions: pass one weight per function"
    ):
        aggregate_rewards(tensor([[1.0, 2.0]]), [1.0, 1.0, 1.0])


def expected_advantages(rewards: list[float], num_generations: int, scale_rewards: str) -> list[float]:
    """Per group: reward minus the group mean, over (sample std + 1e-4) of the group or the batch."""
    batch_std = statistics.stdev(rewards)
    advantages = []
    for start in range(0, len(rewards), num_generations):
        group = rewards[start : start + num_generations]
        scale = {
            "group": statistics.stdev(group) + STD_EPSILON,
            "batch": batch_std + STD_EPSILON,
            "none": 1.0,
        }
        advantages += [(reward - statistics.fmean(group)) / scale[scale_rewards] for reward in group]
    return advantages


@pytest.mark.parametrize("scale_rewards", ["group", "batch", "none"])
def test_advantages_are_rewards_centred_per_group_and_scaled_as_asked(scale_rewards):
    rewards = [1.0, 2.0, 3.0, 6.0, 0.0, 0.5, 0.5, 1.0]
    advantages = compute_advantages(tensor(rewards), num_generations=4, scale_rewards=scale_rewards)
    torch.testing.assert_close(advantages, tensor(expected_advantages(rewards, 4, scale_rewards)))


def test_a_group_of_equal_rewards_gets_zero_advantage():
    advantages = compute_advantages(tensor([0.7, 0.7, 1.0, 0.0]), num_generations=2, scale_rewards="group")
    assert advantages[:2].tolist() == [0.0, 0.0]
    assert advantages[2].item() == pytest.approx(0.5 / (statistics.stdev([1.0, 0.0]) + STD_EPSILON))


def test_unscored_completions_are_left_out_of_their_group_and_get_zero_advantage():
    advantages = compute_advantages(tensor([NAN, 1.0, 2.0, 3.0]), num_generations=4, scale_rewards="group")
    group_std = statistics.stdev([1.0, 2.0, 3.0])
    torch.testing.assert_close(
        advantages, tensor([0.0, -1.0 / (group_std + STD_EPSILON), 0.0, 1.0 / (group_std + STD_EPSILON)])
    )


@pytest.mark.parametrize(
    ("rewards", "num_generations", "scale_rewards", "message"),
    [
        (tensor([1.0, 2.0, 3.0]), 2, "group", r"do not split into groups of num_generations=2"),
        (tensor([[1.0, 2.0]]), 2, "group", r"pass a 1-D tensor"),
        (tensor([1.0, 2.0]), 2, "std", "scale_rewards='std' is unknown: use one of group, batch, none"),
    ],
)
def test_rewards_that_cannot_form_groups_are_refused(rewards, num_generations, scale_rewards, message):
    with pytest.raises(GRPOInputError, match=message):
        compute_advantages(rewards, num_generations, scale_rewards)
