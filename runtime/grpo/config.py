"""`GRPOConfig`: every knob of the GRPO trainer, named as in TRL's `GRPOConfig`.

Fields that TRL also has keep TRL's name, default and meaning (TRL 1.16 `trl/trainer/grpo_config.py`, and the
`TrainingArguments` fields it inherits: `config_training_fields.py`, `config_grpo_fields.py`), so a TRL script
ports by changing imports. Fields TRL has no equivalent for (LoRA settings, memory savers) are ours, below. TRL's
other fields are refused by name with what to do instead, or accepted with no effect (`trl_fields.py`); the
values are checked by `config_checks.py`. `config_arguments.py` puts the fields on a command line.

Where TRL's `__post_init__` fills `generation_batch_size` and `steps_per_generation` from each other, ours keeps
them as given (so that `dataclasses.replace` can change the batch sizes) and resolves them per number of
processes: `resolved_steps_per_generation`, `generation_rows_per_process`.
"""

from __future__ import annotations

import dataclasses
import json
import warnings
from dataclasses import dataclass, field
from typing import Any

from runtime.grpo.config_checks import find_problems, normalise
from runtime.grpo.config_grpo_fields import GENERATION_KWARGS, GRPOFields
from runtime.grpo.config_training_fields import TrainingFields
from runtime.grpo.errors import GRPOConfigError
from runtime.grpo.trl_fields import accepted_arguments, trl_field_value


@dataclass
class _ConfigFields(GRPOFields, TrainingFields):
    """TRL's fields (TrainingFields first, then GRPOFields: the dataclass order follows the bases in reverse),
    then ours."""

    # LoRA (ours; names and defaults as TRL's ModelConfig). Not `__init__` parameters of the dataclass, so that TRL's
    # `TrlParser((ScriptArguments, GRPOConfig, ModelConfig))`, which skips such fields, does not declare them twice;
    # `GRPOConfig(lora_r=...)` takes them all the same.
    lora_r: int = field(default=16, init=False, metadata={"help": "LoRA rank."})
    lora_alpha: int = field(default=32, init=False,
                            metadata={"help": "LoRA alpha; adapters are scaled by lora_alpha / lora_r."})
    lora_dropout: float = field(default=0.05, init=False,
                                metadata={"help": "Dropout applied to the LoRA input, in [0, 1)."})
    lora_target_modules: list[str] = field(
        default_factory=lambda: ["q_proj", "k_proj", "v_proj", "o_proj"], init=False,
        metadata={"help": "Names of the linear modules that get LoRA adapters (default: the attention projections)."},
    )
    lora_target_parameters: list[str] = field(
        default_factory=list, init=False,
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
            "Saves vocab x hidden of GPU memory; decoding then runs without CUDA graphs."
        },
    )

    def __post_init__(self) -> None:
        """TRL's conversions, then every check; one `GRPOConfigError` lists all problems. (Here, not on
        GRPOConfig: the generated `__init__` calls the `__post_init__` its own class has.)"""
        for name, value in self.__dict__.pop("_lora_arguments", {}).items():
            setattr(self, name, value)
        problems = normalise(self)
        problems += find_problems(self)
        if problems:
            raise GRPOConfigError("Invalid GRPOConfig:\n" + "\n".join(f"  - {problem}" for problem in problems))


_FIELD_NAMES = frozenset(config_field.name for config_field in dataclasses.fields(_ConfigFields))
_LORA_FIELDS = frozenset(config_field.name for config_field in dataclasses.fields(_ConfigFields)
                         if not config_field.init)


class GRPOConfig(_ConfigFields):
    """Configuration of a GRPO run: the fields' `metadata["help"]` is their documentation (shown by `--help`),
    `metadata["choices"]`, where present, lists the values a field accepts.

    `GRPOConfig(**kwargs)` takes the fields by name (positionally in field order, output_dir first); TRL's fields
    that are not ours are refused or ignored as `runtime.grpo.trl_fields` says. `__post_init__` converts values as
    TRL does and raises one `GRPOConfigError` listing every problem. It stays a dataclass: `dataclasses.fields` and
    `asdict` work; `replaced(**changes)` is `dataclasses.replace` that also keeps (or changes) the lora_* fields.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.__dict__["_lora_arguments"] = {name: kwargs.pop(name) for name in _LORA_FIELDS if name in kwargs}
        super().__init__(*args, **accepted_arguments(kwargs, _FIELD_NAMES))
        self.__dict__["_trl_arguments"] = {name: value for name, value in kwargs.items() if name not in _FIELD_NAMES}

    def __getattr__(self, name: str) -> Any:
        """Only reached for names that are not fields: TRL's fields that are not ours read as given or as TRL's
        default (`trl_fields.trl_field_value`)."""
        return trl_field_value(name, self.__dict__.get("_trl_arguments", {}))

    def replaced(self, **changes: Any) -> GRPOConfig:
        """A checked copy with `changes` applied (any field, lora_* included); TRL's fields that are not ours
        keep their values."""
        values = {config_field.name: getattr(self, config_field.name) for config_field in dataclasses.fields(self)}
        copied = GRPOConfig(**{**values, **changes})
        copied.__dict__["_trl_arguments"] = dict(self.__dict__.get("_trl_arguments", {}))
        return copied

    def to_dict(self) -> dict[str, Any]:
        """Every field (lora_* included) and every TRL field given that is not ours, as transformers'
        `TrainingArguments.to_dict`: what `GRPOConfig(**config.to_dict())` rebuilds."""
        values = {config_field.name: getattr(self, config_field.name) for config_field in dataclasses.fields(self)}
        return {**values, **self.__dict__.get("_trl_arguments", {})}

    def to_json_string(self) -> str:
        """`to_dict()` as JSON, indented and sorted as transformers writes it."""
        return json.dumps(self.to_dict(), indent=2, sort_keys=True, default=str)

    @property
    def global_batch_size(self) -> int:
        """Completions per optimizer step and process: per_device_train_batch_size * gradient_accumulation_steps."""
        return self.per_device_train_batch_size * self.gradient_accumulation_steps

    def resolved_steps_per_generation(self, world_size: int = 1) -> int:
        """Micro-batches per process per generation (TRL's steps_per_generation after its `__post_init__`):
        steps_per_generation, else generation_batch_size / (per_device_train_batch_size * world_size), else
        gradient_accumulation_steps."""
        if self.steps_per_generation is not None:
            return self.steps_per_generation
        if self.generation_batch_size is not None:
            return self.generation_batch_size // (self.per_device_train_batch_size * world_size)
        return self.gradient_accumulation_steps

    def generation_rows_per_process(self, world_size: int = 1) -> int:
        """Completions each process generates at once: per_device_train_batch_size * steps per generation."""
        return self.per_device_train_batch_size * self.resolved_steps_per_generation(world_size)

    def optimizer_steps_per_generation(self, world_size: int = 1) -> int:
        """Optimizer steps that one generation feeds (before num_iterations repeats them)."""
        return self.resolved_steps_per_generation(world_size) // self.gradient_accumulation_steps

    @property
    def sampling_options(self) -> dict[str, Any]:
        """`GenerationEngine.generate`'s sampling keywords (do_sample aside): temperature, top_k (None for 0),
        top_p, min_p and repetition_penalty, with generation_kwargs' overrides applied."""
        options = {name: getattr(self, name) for name in GENERATION_KWARGS}
        options.update({key: value for key, value in (self.generation_kwargs or {}).items() if value is not None})
        return {"temperature": self.temperature, **options, "top_k": options["top_k"] or None}

    @property
    def effective_lora_dropout(self) -> float:
        """The LoRA dropout to build adapters with: 0 with disable_dropout, else lora_dropout."""
        return 0.0 if self.disable_dropout else self.lora_dropout

    @property
    def requested_dtype(self) -> str | None:
        """The dtype asked of the model ("bfloat16" or "float32"), from model_init_kwargs or bf16=True; None: the
        checkpoint's own (a transformers directory: bfloat16 on CUDA, float32 on CPU)."""
        kwargs = self.model_init_kwargs if isinstance(self.model_init_kwargs, dict) else {}
        dtype = kwargs.get("dtype", kwargs.get("torch_dtype"))
        if dtype not in (None, "auto"):
            return dtype
        return "bfloat16" if self.bf16 else None

    def check_model_dtype(self, dtype: Any) -> None:
        """Warn when the model's `dtype` (a torch.dtype or its name) is not `requested_dtype`: a built checkpoint
        computes in the dtype it was built in (a TRL script's bf16=True still runs, on that dtype)."""
        name = str(dtype).removeprefix("torch.")
        wanted = self.requested_dtype
        if wanted is not None and name != wanted:
            source = f"model_init_kwargs={self.model_init_kwargs}" if self.model_init_kwargs else "bf16=True"
            warnings.warn(
                f"{source} asks for a {wanted} model, but the checkpoint computes in {name}, so training runs in "
                f"{name}: rebuild it with `rewrite build --dtype {wanted}` to train in {wanted}.", stacklevel=2
            )
