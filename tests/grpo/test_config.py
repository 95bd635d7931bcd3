"""`GRPOConfig` keeps TRL's names and defaults, refuses bad values with a fix, and round-trips through argparse."""

import argparse
import dataclasses
import json

import pytest
import torch

from runtime.grpo import GRPOConfig, GRPOConfigError, add_config_arguments, config_checks, config_from_args
from runtime.grpo.config_checks import interval_in_steps
from tests.grpo.config_refusal import config_refusal

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
    "warmup_steps": 0,
    "optim": "adamw_torch_fused",
    "adam_beta1": 0.9,
    "adam_beta2": 0.999,
    "adam_epsilon": 1e-8,
    "lr_scheduler_kwargs": None,
    "fp16": False,
    "bf16": None,
    "run_name": None,
    "save_strategy": "steps",
    "eval_strategy": "no",
    "eval_steps": None,
    "per_device_eval_batch_size": 8,
    "model_init_kwargs": None,
    "disable_dropout": False,
    "num_generations_eval": None,
    "generation_batch_size": None,
    "steps_per_generation": None,
    "min_p": None,
    "repetition_penalty": 1.0,
    "generation_kwargs": None,
    "chat_template_kwargs": None,
    "log_completions": False,
    "num_completions_to_print": None,
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
        (
            {"optim": "sgd"},
            "optim='sgd' (--optim) must be one of adamw_torch, adamw_torch_fused, adamw_8bit, adamw_bnb_8bit, "
            "paged_adamw_8bit.",
        ),
        ({"adam_beta1": 1.0}, "adam_beta1=1.0 (--adam-beta1) must be in [0, 1)."),
        ({"adam_beta2": -0.1}, "adam_beta2=-0.1 (--adam-beta2) must be in [0, 1)."),
        ({"adam_epsilon": -1e-8}, "adam_epsilon=-1e-08 (--adam-epsilon) must be >= 0."),
        (
            {"warmup_steps": 2.5},
            "warmup_steps=2.5 (--warmup-steps) must be an integer number of steps, or a float in [0, 1) for that "
            "fraction of the total steps.",
        ),
        (
            {"warmup_steps": 0.1, "warmup_ratio": 0.1},
            "warmup_steps=0.1 (--warmup-steps) and warmup_ratio=0.1 (--warmup-ratio) both ask for a warmup: give one "
            "(transformers 5 writes a ratio as warmup_steps < 1).",
        ),
        (
            {"fp16": True},
            "fp16=True (--fp16) must be False: float16 mixed precision is not supported (gpt-oss trains in "
            "bfloat16); build the checkpoint with --dtype bfloat16 and leave fp16 out.",
        ),
        (
            {"fsdp": "full_shard auto_wrap"},
            "fsdp='full_shard auto_wrap' (--fsdp) must be True or False: ours is a switch (FSDP2 shards the frozen "
            "base model under torchrun), not TRL's string of FSDP1 options; pass fsdp=True.",
        ),
        (
            {"lr_scheduler_type": "reduce_lr_on_plateau"},
            "lr_scheduler_type='reduce_lr_on_plateau' (--lr-scheduler-type) must be another schedule: it steps on an "
            "evaluation loss, which GRPO does not compute.",
        ),
        (
            {"logging_steps": 2.5},
            "logging_steps=2.5 (--logging-steps) must be a positive integer, or a float in (0, 1) for that fraction "
            "of the total steps.",
        ),
        ({"save_steps": 0}, "save_steps=0 (--save-steps) must be a positive integer, or a float in (0, 1)"),
        ({"save_strategy": "best"}, "save_strategy='best' (--save-strategy) must be one of steps, epoch, no."),
        ({"eval_strategy": "always"}, "eval_strategy='always' (--eval-strategy) must be one of no, steps, epoch."),
        ({"min_p": 1.5}, "min_p=1.5 (--min-p) must be in [0, 1] or None."),
        ({"repetition_penalty": 0.0}, "repetition_penalty=0.0 (--repetition-penalty) must be > 0 (1.0 disables it)."),
        ({"num_generations_eval": 1}, "num_generations_eval=1 (--num-generations-eval) must be >= 2 or None."),
        ({"num_completions_to_print": 0}, "(--num-completions-to-print) must be a positive integer or None."),
        (
            {"report_to": "mlflow"},
            "report_to 'mlflow' (--report-to) is not supported: use tensorboard, wandb, all or none.",
        ),
        (
            {"generation_kwargs": {"temperature": 0.5}},
            "generation_kwargs['temperature']=0.5: set temperature itself, which also scales the log-probs the loss "
            "compares.",
        ),
        (
            {"generation_kwargs": {"num_beams": 4}},
            "generation_kwargs['num_beams']=4 is not supported: generation_kwargs may set top_p, top_k, min_p, "
            "repetition_penalty.",
        ),
        ({"generation_kwargs": {"top_p": 2.0}}, "generation_kwargs['top_p']=2.0 must be in (0, 1]."),
        (
            {"chat_template_kwargs": "{reasoning_effort: low}"},
            "chat_template_kwargs (--chat-template-kwargs) must be a JSON object such as '{\"key\": 1}', got "
            "'{reasoning_effort: low}' (Expecting property name enclosed in double quotes",
        ),
        ({"chat_template_kwargs": ["low"]}, "chat_template_kwargs=['low'] (--chat-template-kwargs) must be a dict"),
        (
            {"model_init_kwargs": {"device_map": "auto"}},
            "model_init_kwargs['device_map'] is not supported: the model is a rewritten gpt-oss; only dtype or "
            "torch_dtype (auto, bfloat16, float32) applies.",
        ),
        (
            {"model_init_kwargs": {"dtype": "float16"}},
            "model_init_kwargs['dtype']='float16' must be one of auto, bfloat16, float32.",
        ),
        (
            {"bf16": True, "model_init_kwargs": {"torch_dtype": "float32"}},
            "bf16=True asks for bfloat16 but model_init_kwargs asks for float32: give one of the two.",
        ),
        (
            {"lora_target_parameters": ["mlp.experts.gate_up_proj"], "lora_dropout": 0.1},
            "lora_dropout=0.1 must be 0 with lora_target_parameters: peft's LoRA on parameters has no dropout; pass "
            "--lora-dropout 0 (or disable_dropout=True).",
        ),
    ],
)
def test_invalid_values_are_refused_with_the_option_to_fix(overrides, message):
    assert message in config_refusal(**overrides)


def test_the_global_batch_must_hold_whole_groups():
    refusal = config_refusal(per_device_train_batch_size=6, gradient_accumulation_steps=1, num_generations=4)
    assert (
        "(per_device_train_batch_size * gradient_accumulation_steps = 6 * 1 = 6) must be divisible by "
        "num_generations (4)" in refusal
    )
    assert GRPOConfig(per_device_train_batch_size=2, gradient_accumulation_steps=2, num_generations=4)


def test_generation_calls_must_split_a_processs_completions_evenly():
    refusal = config_refusal(per_device_train_batch_size=8, gradient_accumulation_steps=1, num_generations=4,
                             generation_rows_per_call=3)
    assert "generation_rows_per_call=3 (--generation-rows-per-call) must divide the completions each process " \
           "generates per step (per_device_train_batch_size * gradient_accumulation_steps = 8)" in refusal
    assert GRPOConfig(per_device_train_batch_size=8, gradient_accumulation_steps=2, num_generations=4,
                      generation_rows_per_call=16)


def test_all_problems_are_reported_at_once():
    refusal = config_refusal(loss_type="ppo", top_p=0.0)
    assert "--loss-type" in refusal
    assert "--top-p" in refusal


def test_max_prompt_length_has_no_limit_by_default_as_trl_1_16_has_none():
    assert GRPOConfig().max_prompt_length is None


def test_trls_none_spellings_get_our_defaults():
    config = GRPOConfig(output_dir=None, fsdp=None)
    assert (config.output_dir, config.fsdp) == ("trainer_output", False)


def fake_installed(monkeypatch, *installed: str) -> None:
    """Pretend exactly `installed` of the reporters are importable."""
    monkeypatch.setattr(config_checks.importlib.util, "find_spec", lambda name: object() if name in installed else None)


@pytest.mark.parametrize(
    ("given", "reporters"),
    [("none", []), ("tensorboard", ["tensorboard"]), (["tensorboard", "wandb"], ["tensorboard", "wandb"]),
     ("all", ["tensorboard", "wandb"])],
)
def test_report_to_becomes_a_list_of_reporters(monkeypatch, given, reporters):
    fake_installed(monkeypatch, "tensorboard", "wandb")
    assert GRPOConfig(report_to=given).report_to == reporters


def test_report_to_wandb_needs_wandb_installed(monkeypatch):
    fake_installed(monkeypatch, "tensorboard")
    assert GRPOConfig(report_to="all").report_to == ["tensorboard"]
    refusal = config_refusal(report_to="wandb")
    assert "report_to 'wandb' (--report-to) needs wandb installed: pip install wandb." in refusal


def test_dict_fields_accept_their_json_text():
    config = GRPOConfig(generation_kwargs='{"top_p": 0.9}', chat_template_kwargs='{"reasoning_effort": "low"}')
    assert config.generation_kwargs == {"top_p": 0.9}
    assert config.chat_template_kwargs == {"reasoning_effort": "low"}


def test_generation_kwargs_override_the_sampling_fields():
    assert GRPOConfig().sampling_options == {
        "temperature": 1.0, "top_p": 1.0, "top_k": None, "min_p": None, "repetition_penalty": 1.0,
    }
    config = GRPOConfig(top_k=50, min_p=0.1, generation_kwargs={"top_k": 0, "repetition_penalty": 1.1})
    assert config.sampling_options == {
        "temperature": 1.0, "top_p": 1.0, "top_k": None, "min_p": 0.1, "repetition_penalty": 1.1,
    }


def test_step_intervals_are_step_counts_or_fractions_of_the_run():
    config = GRPOConfig(logging_steps=10.0, save_steps=0.25, warmup_steps=0.1)
    assert type(config.logging_steps) is int and config.logging_steps == 10
    intervals = [interval_in_steps(value, 10) for value in (config.logging_steps, config.save_steps, 0.1, 0)]
    assert intervals == [10, 3, 1, 0]


def test_eval_steps_default_to_logging_steps_when_evaluating():
    assert GRPOConfig(eval_strategy="steps", logging_steps=5).eval_steps == 5
    assert GRPOConfig(eval_strategy="steps", eval_steps=20).eval_steps == 20
    assert GRPOConfig().eval_steps is None


def test_eval_batches_hold_whole_groups():
    refusal = config_refusal(eval_strategy="steps", per_device_eval_batch_size=6, num_generations_eval=4)
    assert (
        "per_device_eval_batch_size=6 (--per-device-eval-batch-size) must be divisible by the completions per eval "
        "prompt (num_generations_eval or num_generations = 4): each process evaluates whole groups."
    ) in refusal
    assert GRPOConfig(eval_strategy="steps", per_device_eval_batch_size=8, num_generations_eval=4)


def test_one_generation_per_optimizer_step_by_default():
    config = GRPOConfig(per_device_train_batch_size=4, gradient_accumulation_steps=2, num_generations=4)
    assert config.resolved_steps_per_generation() == 2
    assert config.generation_rows_per_process() == 8
    assert config.optimizer_steps_per_generation() == 1


def test_steps_per_generation_spreads_one_generation_over_several_optimizer_steps():
    config = GRPOConfig(per_device_train_batch_size=4, gradient_accumulation_steps=2, steps_per_generation=6,
                        num_generations=4)
    assert (config.generation_rows_per_process(), config.optimizer_steps_per_generation()) == (24, 3)
    assert config.generation_batch_size is None  # kept as given: dataclasses.replace can change the batch sizes


def test_generation_batch_size_counts_the_completions_of_all_processes(monkeypatch):
    monkeypatch.setenv("WORLD_SIZE", "2")
    config = GRPOConfig(per_device_train_batch_size=4, generation_batch_size=32, num_generations=4)
    assert config.resolved_steps_per_generation(world_size=2) == 4
    assert config.generation_rows_per_process(world_size=2) == 16
    refusal = config_refusal(per_device_train_batch_size=4, generation_batch_size=12, num_generations=4)
    assert (
        "generation_batch_size=12 (--generation-batch-size) must be divisible by the global batch size "
        "(per_device_train_batch_size * processes = 4 * 2 = 8)."
    ) in refusal


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (
            {"generation_batch_size": 16, "steps_per_generation": 2},
            "generation_batch_size=16 (--generation-batch-size) and steps_per_generation=2 (--steps-per-generation) "
            "cannot both be set (as in TRL): give one.",
        ),
        (
            {"steps_per_generation": 3, "gradient_accumulation_steps": 2},
            "steps_per_generation=3 (--steps-per-generation) must be a multiple of gradient_accumulation_steps (2), "
            "so that each generation feeds whole optimizer steps.",
        ),
        (
            {"generation_batch_size": 24, "gradient_accumulation_steps": 2},
            "generation_batch_size=24 (--generation-batch-size), 3 steps per generation, must be a multiple of "
            "gradient_accumulation_steps (2)",
        ),
        (
            {"steps_per_generation": 3, "num_generations": 4, "per_device_train_batch_size": 2},
            "each process's generation batch (per_device_train_batch_size * steps_per_generation = 2 * 3 = 6) must "
            "be divisible by num_generations (4): change one of --per-device-train-batch-size, "
            "--steps-per-generation, --num-generations.",
        ),
        (
            {"steps_per_generation": 2, "generation_rows_per_call": 5},
            "generation_rows_per_call=5 (--generation-rows-per-call) must divide the completions each process "
            "generates per generation (per_device_train_batch_size * steps_per_generation = 16)",
        ),
    ],
)
def test_generation_batches_are_refused_as_trl_refuses_them(overrides, message):
    assert message in config_refusal(**overrides)


def test_a_model_dtype_other_than_bf16_or_model_init_kwargs_ask_is_warned_about(recwarn):
    GRPOConfig().check_model_dtype(torch.float32)
    GRPOConfig(bf16=False).check_model_dtype(torch.bfloat16)
    GRPOConfig(bf16=True).check_model_dtype(torch.bfloat16)
    assert not recwarn.list
    with pytest.warns(UserWarning) as warned:
        GRPOConfig(bf16=True).check_model_dtype(torch.float32)
    assert str(warned[0].message) == (
        "bf16=True asks for a bfloat16 model, but the checkpoint computes in float32, so training runs in float32: "
        "rebuild it with `rewrite build --dtype bfloat16` to train in bfloat16."
    )
    with pytest.warns(UserWarning, match="model_init_kwargs=.'dtype': 'float32'. asks for a float32 model"):
        GRPOConfig(model_init_kwargs={"dtype": torch.float32}).check_model_dtype("bfloat16")


def test_model_init_kwargs_dtypes_are_stored_by_name():
    config = GRPOConfig(model_init_kwargs={"torch_dtype": torch.bfloat16})
    assert config.model_init_kwargs == {"torch_dtype": "bfloat16"}
    assert config.requested_dtype == "bfloat16"
    assert GRPOConfig(model_init_kwargs={"dtype": "auto"}).requested_dtype is None


def test_disable_dropout_turns_the_lora_dropout_off():
    config = GRPOConfig(disable_dropout=True, lora_target_parameters=["mlp.experts.gate_up_proj"])
    assert config.effective_lora_dropout == 0.0
    assert GRPOConfig().effective_lora_dropout == 0.05


def test_it_stays_a_dataclass_that_replace_rechecks_and_json_serialises():
    config = GRPOConfig("runs/a", generation_kwargs={"top_p": 0.9}, report_to="tensorboard")
    assert config.output_dir == "runs/a"
    assert dataclasses.replace(config, per_device_train_batch_size=16).global_batch_size == 16
    with pytest.raises(GRPOConfigError, match="--num-generations"):
        dataclasses.replace(config, num_generations=3)
    assert json.loads(json.dumps(dataclasses.asdict(config)))["generation_kwargs"] == {"top_p": 0.9}


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


def test_trls_underscore_spellings_are_hidden_aliases():
    parser = make_parser()
    args = parser.parse_args(["--learning_rate", "0.01", "--per_device_train_batch_size", "4", "--num_generations",
                              "4", "--gradient_checkpointing", "false", "--mask_truncated_completions",
                              "--no_log_completions", "--report_to", "tensorboard", "--max_prompt_length", "none"])
    assert config_from_args(args) == GRPOConfig(
        learning_rate=0.01, per_device_train_batch_size=4, num_generations=4, gradient_checkpointing=False,
        mask_truncated_completions=True, report_to=["tensorboard"],
    )
    help_text = parser.format_help()
    assert "--learning-rate" in help_text
    assert "--learning_rate" not in help_text
    assert "--no_log_completions" not in help_text


def test_dict_options_take_json_text():
    args = make_parser().parse_args(["--generation-kwargs", '{"top_p": 0.9}', "--chat_template_kwargs",
                                     '{"reasoning_effort": "low"}', "--lr-scheduler-kwargs", "none"])
    config = config_from_args(args)
    assert (config.generation_kwargs, config.chat_template_kwargs) == ({"top_p": 0.9}, {"reasoning_effort": "low"})
    assert config.lr_scheduler_kwargs is None


def test_bad_json_is_refused_by_the_parser(capsys):
    with pytest.raises(SystemExit):
        make_parser().parse_args(["--generation-kwargs", "top_p=0.9"])
    assert (
        "argument --generation-kwargs: the value must be a JSON object such as '{\"key\": 1}', got 'top_p=0.9'"
        in capsys.readouterr().err
    )


@pytest.mark.parametrize(("arguments", "bf16"), [([], None), (["--bf16"], True), (["--no-bf16"], False)])
def test_bf16_is_left_unset_unless_given(arguments, bf16):
    assert config_from_args(make_parser().parse_args(arguments)).bf16 is bf16
