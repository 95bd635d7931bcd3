"""The value conversions and checks of `GRPOConfig.__post_init__`, each problem phrased as what to pass instead.

`normalise` applies TRL's and transformers' conversions (JSON text of dict fields, `report_to` to a list, step
intervals to ints, derived defaults); `find_problems` lists every rule the result breaks, so that all of them are
reported at once. Nothing here imports torch.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import json
import math
import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from runtime.grpo.config_grpo_fields import GENERATION_KWARGS, MODEL_INIT_DTYPE_KEYS, MODEL_INIT_DTYPES
from runtime.grpo.errors import GRPOConfigError

if TYPE_CHECKING:
    from runtime.grpo.config import GRPOConfig

DICT_FIELDS = ("lr_scheduler_kwargs", "model_init_kwargs", "generation_kwargs", "chat_template_kwargs")
REPORTERS = ("tensorboard", "wandb")  # what report_to can name; "all" means those installed
STEP_INTERVALS = ("logging_steps", "save_steps", "eval_steps")
# TRL accepts booleans for `scale_rewards` and maps them to these strategies.
_SCALE_REWARDS_ALIASES = {True: "group", False: "none"}
_EVAL_LOSS_SCHEDULERS = ("reduce_lr_on_plateau", "greedy")


def parse_json_object(text: str, name: str) -> dict[str, Any]:
    """The dict that JSON `text` holds; raises `GRPOConfigError` saying what `name` expects."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError as error:
        raise GRPOConfigError(
            f"{name} must be a JSON object such as '{{\"key\": 1}}', got {text!r} ({error})."
        ) from error
    if not isinstance(value, dict):
        raise GRPOConfigError(f"{name} must be a JSON object such as '{{\"key\": 1}}', got {text!r}.")
    return value


def world_size_from_environment() -> int:
    """The number of processes torchrun starts (WORLD_SIZE), 1 without torchrun."""
    return int(os.environ.get("WORLD_SIZE", "1"))


def normalise(config: GRPOConfig) -> list[str]:
    """Convert `config`'s values in place as TRL and transformers do; returns the values that cannot be converted."""
    problems = []
    config.output_dir = os.path.expanduser("trainer_output" if config.output_dir is None else config.output_dir)
    config.scale_rewards = _SCALE_REWARDS_ALIASES.get(config.scale_rewards, config.scale_rewards)
    if config.epsilon_high is None:
        config.epsilon_high = config.epsilon
    if config.fsdp in (None, ""):  # transformers' defaults for "no FSDP"
        config.fsdp = False
    for name in DICT_FIELDS:
        value = getattr(config, name)
        if isinstance(value, str):
            try:
                setattr(config, name, parse_json_object(value, f"{name} ({option_name(name)})"))
            except GRPOConfigError as error:
                problems.append(str(error))
    if isinstance(config.model_init_kwargs, dict):
        config.model_init_kwargs = {
            key: str(value).removeprefix("torch.") for key, value in config.model_init_kwargs.items()
        }
    config.report_to = _reporters(config.report_to)
    for name in STEP_INTERVALS:
        value = getattr(config, name)
        if isinstance(value, float) and value >= 1 and value.is_integer():
            setattr(config, name, int(value))
    if config.eval_strategy == "steps" and not config.eval_steps:
        config.eval_steps = config.logging_steps
    return problems


def _reporters(report_to: str | list[str] | None) -> list[str]:
    names = [report_to] if isinstance(report_to, str) or report_to is None else list(report_to)
    if names in (["none"], [None]):
        return []
    if names == ["all"]:
        return [name for name in REPORTERS if importlib.util.find_spec(name) is not None]
    return names


def _positive(value: Any) -> bool:
    return value > 0


def _non_negative(value: Any) -> bool:
    return value >= 0


def _steps_or_fraction(value: float) -> bool:
    return value > 0 and (value < 1 or float(value).is_integer())


_STEPS_OR_FRACTION = "a positive integer, or a float in (0, 1) for that fraction of the total steps"

# (field, predicate, what the value must be); None values of optional fields are not checked.
_VALUE_RULES: tuple[tuple[str, Callable[[Any], bool], str], ...] = (
    ("learning_rate", _non_negative, ">= 0"),
    ("per_device_train_batch_size", _positive, "a positive integer"),
    ("gradient_accumulation_steps", _positive, "a positive integer"),
    ("num_train_epochs", _positive, "> 0"),
    ("max_steps", lambda steps: steps == -1 or steps > 0, "a positive integer, or -1 to use num_train_epochs"),
    ("weight_decay", _non_negative, ">= 0"),
    ("warmup_steps", lambda steps: steps == 0 or _steps_or_fraction(steps),
     "an integer number of steps, or a float in [0, 1) for that fraction of the total steps"),
    ("warmup_ratio", lambda ratio: 0.0 <= ratio <= 1.0, "in [0, 1]"),
    ("adam_beta1", lambda beta: 0.0 <= beta < 1.0, "in [0, 1)"),
    ("adam_beta2", lambda beta: 0.0 <= beta < 1.0, "in [0, 1)"),
    ("adam_epsilon", _non_negative, ">= 0"),
    ("max_grad_norm", _non_negative, ">= 0 (0 disables clipping)"),
    ("fp16", lambda fp16: fp16 is False,
     "False: float16 mixed precision is not supported (gpt-oss trains in bfloat16); build the checkpoint with "
     "--dtype bfloat16 and leave fp16 out"),
    ("fsdp", lambda fsdp: isinstance(fsdp, bool),
     "True or False: ours is a switch (FSDP2 shards the frozen base model under torchrun), not TRL's string of "
     "FSDP1 options; pass fsdp=True"),
    ("logging_steps", _steps_or_fraction, _STEPS_OR_FRACTION),
    ("save_steps", _steps_or_fraction, _STEPS_OR_FRACTION),
    ("eval_steps", _steps_or_fraction, _STEPS_OR_FRACTION),
    ("save_total_limit", _positive, "a positive integer or None"),
    ("per_device_eval_batch_size", _positive, "a positive integer"),
    ("lr_scheduler_type", lambda name: name not in _EVAL_LOSS_SCHEDULERS,
     "another schedule: it steps on an evaluation loss, which GRPO does not compute"),
    ("num_generations", lambda count: count >= 2, ">= 2, since advantages compare completions of one prompt"),
    ("num_generations_eval", lambda count: count >= 2, ">= 2 or None"),
    ("max_prompt_length", _positive, "a positive integer or None"),
    ("max_completion_length", _positive, "a positive integer"),
    ("generation_batch_size", _positive, "a positive integer or None"),
    ("steps_per_generation", _positive, "a positive integer or None"),
    ("generation_rows_per_call", _positive, "a positive integer or None"),
    ("temperature", _positive, "> 0"),
    ("top_p", lambda top_p: 0.0 < top_p <= 1.0, "in (0, 1]"),
    ("top_k", _non_negative, ">= 0 (0 disables top-k)"),
    ("min_p", lambda min_p: 0.0 <= min_p <= 1.0, "in [0, 1] or None"),
    ("repetition_penalty", _positive, "> 0 (1.0 disables it)"),
    ("beta", _non_negative, ">= 0"),
    ("epsilon", _non_negative, ">= 0"),
    ("epsilon_high", _non_negative, ">= 0"),
    ("num_iterations", _positive, "a positive integer"),
    ("reward_weights", lambda weights: len(weights) > 0, "a non-empty list, or None for equal weights"),
    ("num_completions_to_print", _positive, "a positive integer or None"),
    ("lora_r", _positive, "a positive integer"),
    ("lora_alpha", _positive, "> 0"),
    ("lora_dropout", lambda dropout: 0.0 <= dropout < 1.0, "in [0, 1)"),
    ("lora_target_modules", lambda names: len(names) > 0, "a non-empty list of module names"),
    ("logprob_chunk_size", _positive, "a positive integer"),
)
_RULES_BY_NAME = {name: (is_valid, requirement) for name, is_valid, requirement in _VALUE_RULES}


def find_problems(config: GRPOConfig) -> list[str]:
    """Every rule `config` breaks, each phrased as what to pass instead."""
    problems = []
    for config_field in dataclasses.fields(config):
        choices = config_field.metadata.get("choices")
        value = getattr(config, config_field.name)
        if choices is not None and value not in choices:
            problems.append(f"{describe(config_field.name, value)} must be one of {', '.join(choices)}.")
    for name, is_valid, requirement in _VALUE_RULES:
        value = getattr(config, name)
        if value is not None and not is_valid(value):
            problems.append(f"{describe(name, value)} must be {requirement}.")
    for name in DICT_FIELDS:
        value = getattr(config, name)
        if value is not None and not isinstance(value, (dict, str)):  # str: already reported by normalise
            problems.append(f"{describe(name, value)} must be a dict, its JSON text, or None.")
    return problems + [
        problem
        for check in (_report_to, _warmup, _model_init, _generation_kwargs, _generation_batches, _evaluation, _lora)
        for problem in check(config)
    ]


def _report_to(config: GRPOConfig) -> list[str]:
    problems = []
    for name in config.report_to:
        if name not in REPORTERS:
            problems.append(f"report_to {name!r} (--report-to) is not supported: use tensorboard, wandb, all or none.")
        elif importlib.util.find_spec(name) is None:
            problems.append(f"report_to {name!r} (--report-to) needs {name} installed: pip install {name}.")
    return problems


def _warmup(config: GRPOConfig) -> list[str]:
    if config.warmup_steps and config.warmup_ratio:
        return [f"{describe('warmup_steps', config.warmup_steps)} and {describe('warmup_ratio', config.warmup_ratio)} "
                "both ask for a warmup: give one (transformers 5 writes a ratio as warmup_steps < 1)."]
    return []


def _model_init(config: GRPOConfig) -> list[str]:
    kwargs = config.model_init_kwargs
    if not isinstance(kwargs, dict):
        return []
    problems = [
        f"model_init_kwargs[{key!r}] is not supported: the model is a rewritten gpt-oss; only "
        f"{' or '.join(MODEL_INIT_DTYPE_KEYS)} ({', '.join(MODEL_INIT_DTYPES)}) applies."
        for key in kwargs if key not in MODEL_INIT_DTYPE_KEYS
    ]
    for key in MODEL_INIT_DTYPE_KEYS:
        if key in kwargs and kwargs[key] not in MODEL_INIT_DTYPES:
            problems.append(
                f"model_init_kwargs[{key!r}]={kwargs[key]!r} must be one of {', '.join(MODEL_INIT_DTYPES)}."
            )
    dtype = config.requested_dtype
    if config.bf16 and dtype not in (None, "bfloat16"):
        problems.append(f"bf16=True asks for bfloat16 but model_init_kwargs asks for {dtype}: give one of the two.")
    return problems


def _generation_kwargs(config: GRPOConfig) -> list[str]:
    kwargs = config.generation_kwargs
    if not isinstance(kwargs, dict):
        return []
    problems = []
    for key, value in kwargs.items():
        where = f"generation_kwargs[{key!r}]={value!r}"
        if key == "temperature":
            problems.append(f"{where}: set temperature itself, which also scales the log-probs the loss compares.")
        elif key not in GENERATION_KWARGS:
            problems.append(f"{where} is not supported: generation_kwargs may set {', '.join(GENERATION_KWARGS)}.")
        elif value is not None and not _RULES_BY_NAME[key][0](value):
            problems.append(f"{where} must be {_RULES_BY_NAME[key][1]}.")
    return problems


def _generation_batches(config: GRPOConfig) -> list[str]:
    if config.generation_batch_size is not None and config.steps_per_generation is not None:
        return [f"{describe('generation_batch_size', config.generation_batch_size)} and "
                f"{describe('steps_per_generation', config.steps_per_generation)} cannot both be set (as in TRL): "
                "give one."]
    if min(config.per_device_train_batch_size, config.gradient_accumulation_steps) <= 0:
        return []  # reported by the value rules
    world_size = world_size_from_environment()
    per_round = config.per_device_train_batch_size * world_size
    if config.generation_batch_size is not None and config.generation_batch_size % per_round:
        return [f"{describe('generation_batch_size', config.generation_batch_size)} must be divisible by the global "
                f"batch size (per_device_train_batch_size * processes = {config.per_device_train_batch_size} * "
                f"{world_size} = {per_round})."]
    steps = config.resolved_steps_per_generation(world_size)
    accumulation = config.gradient_accumulation_steps
    if steps <= 0:
        return []  # reported by the value rules
    problems = []
    if steps % accumulation:
        given = (describe("steps_per_generation", steps) if config.steps_per_generation is not None else
                 f"{describe('generation_batch_size', config.generation_batch_size)}, {steps} steps per generation,")
        problems.append(f"{given} must be a multiple of gradient_accumulation_steps ({accumulation}), so that each "
                        "generation feeds whole optimizer steps.")
    rows = config.generation_rows_per_process(world_size)
    if config.generation_batch_size is None and config.steps_per_generation is None:
        batch, factor, unit = "the global batch", "gradient_accumulation_steps", "step"
    else:
        batch, factor, unit = "each process's generation batch", "steps_per_generation", "generation"
    product = f"(per_device_train_batch_size * {factor} = {config.per_device_train_batch_size} * {steps} = {rows})"
    if config.num_generations > 0 and rows % config.num_generations:
        problems.append(f"{batch} {product} must be divisible by num_generations ({config.num_generations}): change "
                        f"one of --per-device-train-batch-size, --{factor.replace('_', '-')}, --num-generations.")
    rows_per_call = config.generation_rows_per_call
    if rows_per_call is not None and rows_per_call > 0 and rows % rows_per_call:
        problems.append(f"{describe('generation_rows_per_call', rows_per_call)} must divide the completions each "
                        f"process generates per {unit} (per_device_train_batch_size * {factor} = {rows}), so that "
                        "every generation call has the same batch shape (one compiled decode step, one set of caches).")
    return problems


def _evaluation(config: GRPOConfig) -> list[str]:
    group = config.num_generations_eval or config.num_generations
    if config.eval_strategy == "no" or group <= 0 or config.per_device_eval_batch_size <= 0:
        return []
    if config.per_device_eval_batch_size % group:
        return [f"{describe('per_device_eval_batch_size', config.per_device_eval_batch_size)} must be divisible by "
                f"the completions per eval prompt (num_generations_eval or num_generations = {group}): each process "
                "evaluates whole groups."]
    return []


def _lora(config: GRPOConfig) -> list[str]:
    if config.lora_target_parameters and config.effective_lora_dropout:
        return [f"lora_dropout={config.lora_dropout!r} must be 0 with lora_target_parameters: peft's LoRA on "
                "parameters has no dropout; pass --lora-dropout 0 (or disable_dropout=True)."]
    return []


def describe(name: str, value: Any) -> str:
    """`name=value (--option)`: how a problem names the value at fault."""
    return f"{name}={value!r} ({option_name(name)})"


def option_name(field_name: str) -> str:
    """The command-line option of a field: `per_device_train_batch_size` -> `--per-device-train-batch-size`."""
    return "--" + field_name.replace("_", "-")


def interval_in_steps(value: float, total_steps: int) -> int:
    """A step interval (logging_steps, save_steps, eval_steps, warmup_steps): an int, or a float in (0, 1) for that
    fraction of `total_steps`, rounded up, as transformers resolves it."""
    return int(value) if value >= 1 or value == 0 else math.ceil(total_steps * value)
