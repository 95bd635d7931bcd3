"""`GRPOConfig`: every knob of the GRPO trainer, named as in TRL's `GRPOConfig`.

Fields that TRL also has keep TRL's name, default and meaning (TRL 1.16 `trl/trainer/grpo_config.py`, and the
`TrainingArguments` fields it inherits), so a TRL script ports by changing imports. Fields TRL has no equivalent
for (LoRA settings, `logprob_chunk_size`) are ours. `config_arguments.py` puts the fields on a command line.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from runtime.grpo.advantages import SCALE_REWARDS
from runtime.grpo.errors import GRPOConfigError
from runtime.grpo.loss import IMPORTANCE_SAMPLING_LEVELS, LOSS_TYPES

# TRL accepts booleans for `scale_rewards` and maps them to these strategies.
_SCALE_REWARDS_ALIASES = {True: "group", False: "none"}


@dataclass
class GRPOConfig:
    """Configuration of a GRPO run; `__post_init__` fills derived defaults and raises `GRPOConfigError`.

    A field's `metadata["help"]` is its documentation (shown by `--help`); `metadata["choices"]`, where present,
    lists the values it accepts.
    """

    # Training loop (TrainingArguments names, with TRL's GRPO defaults)
    output_dir: str = field(
        default="trainer_output",
        metadata={"help": "Directory where checkpoints and logs are written."},
    )
    learning_rate: float = field(default=1e-6, metadata={"help": "The initial learning rate for AdamW."})
    per_device_train_batch_size: int = field(
        default=8,
        metadata={"help": "Number of completions per device in one forward/backward pass."},
    )
    gradient_accumulation_steps: int = field(
        default=1,
        metadata={
            "help": "Number of forward/backward passes accumulated before one optimizer step. The global batch "
            "(per_device_train_batch_size * gradient_accumulation_steps) is also the generation batch."
        },
    )
    num_train_epochs: float = field(
        default=3.0,
        metadata={"help": "Number of passes over the prompt dataset; ignored when max_steps is positive."},
    )
    max_steps: int = field(
        default=-1,
        metadata={"help": "If positive, the total number of optimizer steps; overrides num_train_epochs."},
    )
    weight_decay: float = field(default=0.0, metadata={"help": "AdamW weight decay coefficient."})
    lr_scheduler_type: str = field(
        default="linear",
        metadata={
            "help": "Learning-rate schedule, a name transformers.get_scheduler accepts (linear, cosine, constant, "
            "constant_with_warmup, ...); checked when the trainer builds the scheduler."
        },
    )
    warmup_ratio: float = field(
        default=0.0,
        metadata={"help": "Fraction of the total steps used for a linear warmup from 0 to learning_rate."},
    )
    max_grad_norm: float = field(
        default=1.0,
        metadata={"help": "Maximum gradient norm for gradient clipping; 0 disables clipping."},
    )
    gradient_checkpointing: bool = field(
        default=True,
        metadata={
            "help": "Recompute activations in the backward pass to save memory, at some speed cost: layer by layer "
            "when the checkpoint has layer modules (the layer_modules pass), else the whole forward at once."
        },
    )
    logging_steps: int = field(default=10, metadata={"help": "Log metrics every this many optimizer steps."})
    save_steps: int = field(
        default=500,
        metadata={"help": "Save a checkpoint every this many optimizer steps (and after the last step)."},
    )
    save_total_limit: int | None = field(
        default=None,
        metadata={"help": "Keep at most this many checkpoints, deleting the oldest; None keeps all."},
    )
    seed: int = field(default=42, metadata={"help": "Random seed set at the beginning of training."})
    use_cpu: bool = field(
        default=False,
        metadata={"help": "Train on the CPU even when CUDA is available (used when the model is given as a directory)."},
    )
    fsdp: bool = field(
        default=False,
        metadata={
            "help": "Shard the frozen base model across the processes with FSDP2 (under torchrun), built on the meta "
            "device and loaded shard by shard from the checkpoint directory (for a preset without one: random weights "
            "drawn shard by shard). Every phase, generation included, gathers one layer per call: use it only for a "
            "model that does not fit one GPU. Unlike TRL's fsdp option (strings of FSDP1 options) it is a switch: "
            "the LoRA adapters stay whole on every process."
        },
    )

    # Generation
    num_generations: int = field(
        default=8,
        metadata={
            "help": "Number of completions sampled per prompt (the group size). The global batch "
            "(per_device_train_batch_size * gradient_accumulation_steps) must be divisible by it."
        },
    )
    max_prompt_length: int | None = field(
        default=512,
        metadata={
            "help": "Maximum prompt length in tokens; longer prompts are truncated on the left. None keeps all."
        },
    )
    max_completion_length: int = field(
        default=512,
        metadata={"help": "Maximum length of a generated completion in tokens."},
    )
    generation_rows_per_call: int | None = field(
        default=None,
        metadata={
            "help": "Completions sampled together in one batched generation call; None: all of a process's "
            "completions of the step at once (fastest: decoding reads the weights once per step for the whole "
            "batch). Lower it to bound the KV cache's memory; it must divide per_device_train_batch_size * "
            "gradient_accumulation_steps. Each completion's tokens do not depend on it."
        },
    )
    temperature: float = field(
        default=1.0,
        metadata={
            "help": "Sampling temperature. The higher the temperature, the more random the completions."
        },
    )
    top_p: float = field(
        default=1.0,
        metadata={
            "help": "Nucleus sampling: keep the smallest token set whose probability reaches top_p, in (0, 1]."
        },
    )
    top_k: int = field(
        default=0,
        metadata={
            "help": "Keep only the top_k most likely tokens when sampling; 0 disables top-k filtering."
        },
    )

    # Loss
    beta: float = field(
        default=0.0,
        metadata={"help": "KL coefficient. With 0.0 no reference model is needed; DeepSeek-R1 used 0.001."},
    )
    epsilon: float = field(default=0.2, metadata={"help": "Lower clipping epsilon of the importance ratio."})
    epsilon_high: float | None = field(
        default=None,
        metadata={
            "help": "Upper clipping epsilon; None uses epsilon. DAPO recommends 0.28. With loss_type='cispo' it is "
            "the cap on the importance ratio itself (ScaleRL's epsilon_max, recommended 5.0)."
        },
    )
    loss_type: str = field(
        default="dapo",
        metadata={
            "help": "How token losses are reduced. 'grpo': mean of per-sequence token means (length biased). "
            "'bnpo': sum over the local batch's tokens / their count. 'dr_grpo': sum / (batch size * "
            "max_completion_length). 'dapo': sum / number of completion tokens in the global accumulated batch. "
            "'cispo': clipped, detached importance weight times log-prob, reduced as 'dapo'.",
            "choices": LOSS_TYPES,
        },
    )
    importance_sampling_level: str = field(
        default="token",
        metadata={
            "help": "'token': one importance ratio per token. 'sequence' (GSPO): one ratio per sequence, from the "
            "mean log-ratio over its completion tokens.",
            "choices": IMPORTANCE_SAMPLING_LEVELS,
        },
    )
    scale_rewards: str = field(
        default="group",
        metadata={
            "help": "Advantage scaling: 'group' divides by the reward std within each group, 'batch' by the std of "
            "the whole batch, 'none' does not scale (Dr. GRPO). True and False mean 'group' and 'none'.",
            "choices": SCALE_REWARDS,
        },
    )
    num_iterations: int = field(
        default=1,
        metadata={"help": "Number of optimization passes over each generated batch (mu in the GRPO paper)."},
    )
    reward_weights: list[float] | None = field(
        default=None,
        metadata={"help": "One weight per reward function; None weighs every function 1.0."},
    )
    mask_truncated_completions: bool = field(
        default=False,
        metadata={
            "help": "Exclude completions that hit max_completion_length without EOS from the loss (DAPO)."
        },
    )

    # LoRA (ours; defaults as TRL's ModelConfig)
    lora_r: int = field(default=16, metadata={"help": "LoRA rank."})
    lora_alpha: int = field(
        default=32, metadata={"help": "LoRA alpha; adapters are scaled by lora_alpha / lora_r."}
    )
    lora_dropout: float = field(
        default=0.05, metadata={"help": "Dropout applied to the LoRA input, in [0, 1)."}
    )
    lora_target_modules: list[str] = field(
        default_factory=lambda: ["q_proj", "k_proj", "v_proj", "o_proj"],
        metadata={
            "help": "Names of the linear modules that get LoRA adapters (default: the attention projections)."
        },
    )
    lora_target_parameters: list[str] = field(
        default_factory=list,
        metadata={
            "help": "Parameters that get LoRA adapters, as peft's LoraConfig.target_parameters (names or name "
            "suffixes): 'mlp.experts.gate_up_proj mlp.experts.down_proj' adapts every expert, in full precision or "
            "nf4. peft's parameter LoRA has no dropout, so it needs lora_dropout 0. Default: none."
        },
    )

    # Memory (ours)
    logprob_chunk_size: int = field(
        default=1024,
        metadata={
            "help": "Completion tokens per chunk when computing log-probs, so that the [batch, tokens, vocab] "
            "logits never exist at once."
        },
    )
    activation_offloading: bool = field(
        default=False,
        metadata={
            "help": "Copy the activations kept for the backward pass to CPU memory (pinned) and back when needed. "
            "With gradient_checkpointing these are only the decoder layers' inputs. Saves GPU memory on long "
            "sequences at the cost of host-device copies."
        },
    )
    embedding_offload: bool = field(
        default=False,
        metadata={
            "help": "Keep the embedding table in CPU memory (pinned) and send only the batch's rows to the GPU. "
            "Saves vocab x hidden of GPU memory (1.1 GiB on gpt-oss-20b); decoding then runs without CUDA graphs."
        },
    )

    def __post_init__(self) -> None:
        self.scale_rewards = _SCALE_REWARDS_ALIASES.get(self.scale_rewards, self.scale_rewards)
        if self.epsilon_high is None:
            self.epsilon_high = self.epsilon
        problems = _find_problems(self)
        if problems:
            raise GRPOConfigError(
                "Invalid GRPOConfig:\n" + "\n".join(f"  - {problem}" for problem in problems)
            )

    @property
    def global_batch_size(self) -> int:
        """Completions per optimizer step: per_device_train_batch_size * gradient_accumulation_steps."""
        return self.per_device_train_batch_size * self.gradient_accumulation_steps


def _positive(value: Any) -> bool:
    return value > 0


def _non_negative(value: Any) -> bool:
    return value >= 0


# (field, predicate, what the value must be); None values of optional fields are not checked.
_VALUE_RULES: tuple[tuple[str, Callable[[Any], bool], str], ...] = (
    ("learning_rate", _non_negative, ">= 0"),
    ("per_device_train_batch_size", _positive, "a positive integer"),
    ("gradient_accumulation_steps", _positive, "a positive integer"),
    ("num_train_epochs", _positive, "> 0"),
    (
        "max_steps",
        lambda steps: steps == -1 or steps > 0,
        "a positive integer, or -1 to use num_train_epochs",
    ),
    ("weight_decay", _non_negative, ">= 0"),
    ("warmup_ratio", lambda ratio: 0.0 <= ratio <= 1.0, "in [0, 1]"),
    ("max_grad_norm", _non_negative, ">= 0 (0 disables clipping)"),
    ("logging_steps", _positive, "a positive integer"),
    ("save_steps", _positive, "a positive integer"),
    ("save_total_limit", _positive, "a positive integer or None"),
    ("num_generations", lambda count: count >= 2, ">= 2, since advantages compare completions of one prompt"),
    ("max_prompt_length", _positive, "a positive integer or None"),
    ("max_completion_length", _positive, "a positive integer"),
    ("generation_rows_per_call", _positive, "a positive integer or None"),
    ("temperature", _positive, "> 0"),
    ("top_p", lambda top_p: 0.0 < top_p <= 1.0, "in (0, 1]"),
    ("top_k", _non_negative, ">= 0 (0 disables top-k)"),
    ("beta", _non_negative, ">= 0"),
    ("epsilon", _non_negative, ">= 0"),
    ("epsilon_high", _non_negative, ">= 0"),
    ("num_iterations", _positive, "a positive integer"),
    ("reward_weights", lambda weights: len(weights) > 0, "a non-empty list, or None for equal weights"),
    ("lora_r", _positive, "a positive integer"),
    ("lora_alpha", _positive, "> 0"),
    ("lora_dropout", lambda dropout: 0.0 <= dropout < 1.0, "in [0, 1)"),
    ("lora_target_modules", lambda names: len(names) > 0, "a non-empty list of module names"),
    ("logprob_chunk_size", _positive, "a positive integer"),
)


def _find_problems(config: GRPOConfig) -> list[str]:
    """Every rule `config` breaks, each phrased as what to pass instead."""
    problems = []
    for config_field in dataclasses.fields(config):
        choices = config_field.metadata.get("choices")
        value = getattr(config, config_field.name)
        if choices is not None and value not in choices:
            problems.append(f"{_describe(config_field.name, value)} must be one of {', '.join(choices)}.")
    for name, is_valid, requirement in _VALUE_RULES:
        value = getattr(config, name)
        if value is not None and not is_valid(value):
            problems.append(f"{_describe(name, value)} must be {requirement}.")
    if config.lora_target_parameters and config.lora_dropout:
        problems.append(
            f"lora_dropout={config.lora_dropout!r} must be 0 with lora_target_parameters: peft's LoRA on parameters "
            "has no dropout; pass --lora-dropout 0."
        )
    if config.num_generations > 0 and config.global_batch_size % config.num_generations != 0:
        problems.append(
            f"the global batch (per_device_train_batch_size * gradient_accumulation_steps = "
            f"{config.per_device_train_batch_size} * {config.gradient_accumulation_steps} = "
            f"{config.global_batch_size}) must be divisible by num_generations ({config.num_generations}): "
            "change one of --per-device-train-batch-size, --gradient-accumulation-steps, --num-generations."
        )
    rows_per_call = config.generation_rows_per_call
    if rows_per_call is not None and rows_per_call > 0 and config.global_batch_size % rows_per_call != 0:
        problems.append(
            f"{_describe('generation_rows_per_call', rows_per_call)} must divide the completions each process "
            f"generates per step (per_device_train_batch_size * gradient_accumulation_steps = "
            f"{config.global_batch_size}), so that every generation call has the same batch shape (one compiled "
            "decode step, one set of caches)."
        )
    return problems


def _describe(name: str, value: Any) -> str:
    return f"{name}={value!r} ({option_name(name)})"


def option_name(field_name: str) -> str:
    """The command-line option of a field: `per_device_train_batch_size` -> `--per-device-train-batch-size`."""
    return "--" + field_name.replace("_", "-")
