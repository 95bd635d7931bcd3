"""`GRPOConfig` keeps TRL's names and defaults, refuses bad values with a fix, and round-trips through argparse."""

import argparse
import dataclasses

import pytest

from runtime.grpo import GRPOConfig, GRPOConfigError, add_config_arguments, config_from_args

# Defaults of TRL 1.16's GRPOConfig (and the TrainingArguments values it uses) for the fields we share.
TRL_DEFAULTS = {
    "learning_rate": 1e-6,
    "num_generations": 8,
    "per_device_train_batch_size": 8,
    "gradient_accumulation_steps": 1,
    "max_completion_length": 512,
    "temperature": 1.0,
    "top_p": 1.0,
    "top_k": 0,
    "beta": 0.0,
    "epsilon": 0.2,
    "loss_type": "dapo",
    "importance_sampling_level": "token",
    "scale_rewards": "group",
    "num_iterations": 1,
    "reward_weights": None,
    "mask_truncated_completions": False,
    "logging_steps": 10,
    "save_steps": 500,
    "seed": 42,
    "max_steps": -1,
    "num_train_epochs": 3.0,
    "weight_decay": 0.0,
    "lr_scheduler_type": "linear",
    "warmup_ratio": 0.0,
    "max_grad_norm": 1.0,
    "gradient_checkpointing": True,
    "save_total_limit": None,
    "use_cpu": False,
}


def test_shared_fields_default_to_trls_values():
    config = GRPOConfig()
    assert {name: getattr(config, name) for name in TRL_DEFAULTS} == TRL_DEFAULTS


def test_lora_targets_the_attention_projections_by_default():
    assert GRPOConfig().lora_target_modules == ["q_proj", "k_proj", "v_proj", "o_proj"]


def test_every_field_has_a_help_text():
    assert all(field.metadata.get("help") for field in dataclasses.fields(GRPOConfig))


def test_epsilon_high_defaults_to_epsilon():
    assert GRPOConfig(epsilon=0.1).epsilon_high == 0.1
    assert GRPOConfig(epsilon=0.1, epsilon_high=0.28).epsilon_high == 0.28


@pytest.mark.parametrize(("given", "meant"), [(True, "group"), (False, "none"), ("batch", "batch")])
def test_scale_rewards_accepts_trls_boolean_aliases(given, meant):
    assert GRPOConfig(scale_rewards=given).scale_rewards == meant


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (
            {"loss_type": "ppo"},
            "loss_type='ppo' (--loss-type) must be one of grpo, bnpo, dr_grpo, dapo, cispo.",
        ),
        (
            {"importance_sampling_level": "batch"},
            "(--importance-sampling-level) must be one of token, sequence.",
        ),
        (
            {"scale_rewards": "std"},
            "scale_rewards='std' (--scale-rewards) must be one of group, batch, none.",
        ),
        ({"per_device_train_batch_size": 0}, "(--per-device-train-batch-size) must be a positive integer."),
        (
            {"num_generations": 1, "per_device_train_batch_size": 1},
            "num_generations=1 (--num-generations) must be >= 2",
        ),
        ({"num_generations": 0}, "num_generations=0 (--num-generations) must be >= 2"),
        ({"max_completion_length": 0}, "(--max-completion-length) must be a positive integer."),
        (
            {"max_steps": 0},
            "max_steps=0 (--max-steps) must be a positive integer, or -1 to use num_train_epochs.",
        ),
        ({"temperature": 0.0}, "temperature=0.0 (--temperature) must be > 0."),
        ({"top_p": 1.5}, "top_p=1.5 (--top-p) must be in (0, 1]."),
        ({"beta": -0.1}, "beta=-0.1 (--beta) must be >= 0."),
        ({"epsilon_high": -0.2}, "epsilon_high=-0.2 (--epsilon-high) must be >= 0."),
        ({"lora_dropout": 1.0}, "lora_dropout=1.0 (--lora-dropout) must be in [0, 1)."),
        ({"lora_target_modules": []}, "(--lora-target-modules) must be a non-empty list of module names."),
        ({"logprob_chunk_size": 0}, "(--logprob-chunk-size) must be a positive integer."),
        ({"save_total_limit": 0}, "(--save-total-limit) must be a positive integer or None."),
        ({"reward_weights": []}, "(--reward-weights) must be a non-empty list, or None for equal weights."),
    ],
)
def test_invalid_values_are_refused_with_the_option_to_fix(overrides, message):
    with pytest.raises(GRPOConfigError) as refusal:
        GRPOConfig(**overrides)
    assert message in str(refusal.value)


def test_the_global_batch_must_hold_whole_groups():
    with pytest.raises(GRPOConfigError) as refusal:
        GRPOConfig(per_device_train_batch_size=6, gradient_accumulation_steps=1, num_generations=4)
    assert (
        "(per_device_train_batch_size * gradient_accumulation_steps = 6 * 1 = 6) must be divisible by "
        "num_generations (4)" in str(refusal.value)
    )
    assert GRPOConfig(per_device_train_batch_size=2, gradient_accumulation_steps=2, num_generations=4)


def test_generation_calls_must_split_a_processs_completions_evenly():
    with pytest.raises(GRPOConfigError) as refusal:
        GRPOConfig(per_device_train_batch_size=8, gradient_accumulation_steps=1, num_generations=4,
                   generation_rows_per_call=3)
    assert "generation_rows_per_call=3 (--generation-rows-per-call) must divide the completions each process " \
           "generates per step (per_device_train_batch_size * gradient_accumulation_steps = 8)" in str(refusal.value)
    assert GRPOConfig(per_device_train_batch_size=8, gradient_accumulation_steps=2, num_generations=4,
                      generation_rows_per_call=16)


def test_all_problems_are_reported_at_once():
    with pytest.raises(GRPOConfigError) as refusal:
        GRPOConfig(loss_type="ppo", top_p=0.0)
    assert "--loss-type" in str(refusal.value)
    assert "--top-p" in str(refusal.value)


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="train")
    add_config_arguments(parser)
    return parser


def test_no_arguments_give_the_default_config():
    assert config_from_args(make_parser().parse_args([])) == GRPOConfig()


def test_dashed_options_set_the_matching_fields():
    args = make_parser().parse_args(
        [
            "--loss-type",
            "grpo",
            "--importance-sampling-level",
            "sequence",
            "--num-generations",
            "4",
            "--beta",
            "0.04",
            "--epsilon-high",
            "0.28",
            "--no-gradient-checkpointing",
            "--mask-truncated-completions",
            "--reward-weights",
            "1",
            "0.5",
            "--lora-target-modules",
            "q_proj",
            "v_proj",
            "--max-prompt-length",
            "none",
        ]
    )
    config = config_from_args(args)
    assert config == GRPOConfig(
        loss_type="grpo",
        importance_sampling_level="sequence",
        num_generations=4,
        beta=0.04,
        epsilon_high=0.28,
        gradient_checkpointing=False,
        mask_truncated_completions=True,
        reward_weights=[1.0, 0.5],
        lora_target_modules=["q_proj", "v_proj"],
        max_prompt_length=None,
    )


def test_unknown_choices_are_refused_by_the_parser():
    with pytest.raises(SystemExit):
        make_parser().parse_args(["--loss-type", "ppo"])


def test_parsed_values_are_validated_when_the_config_is_built():
    with pytest.raises(GRPOConfigError, match="--num-generations"):
        config_from_args(make_parser().parse_args(["--num-generations", "3"]))


def test_help_lists_every_field_as_a_dashed_option():
    help_text = make_parser().format_help()
    for field in dataclasses.fields(GRPOConfig):
        assert f"--{field.name.replace('_', '-')}" in help_text
