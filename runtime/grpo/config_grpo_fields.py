"""The `GRPOConfig` fields of TRL 1.16's own `GRPOConfig` (`trl/trainer/grpo_config.py`): model loading,
generation, loss and completion logging, with TRL's names, defaults and meanings.

`max_prompt_length` is older TRL's (1.16 has none, so its default is no limit); `generation_rows_per_call` is ours.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from runtime.grpo.config_option import option
from runtime.grpo.loss_names import IMPORTANCE_SAMPLING_LEVELS, LOSS_TYPES, SCALE_REWARDS

# generation_kwargs keys the engine honours; each overrides the field of the same name.
GENERATION_KWARGS = ("top_p", "top_k", "min_p", "repetition_penalty")
# model_init_kwargs keys that mean something for a rewritten model: the dtype of a transformers directory.
MODEL_INIT_DTYPE_KEYS = ("dtype", "torch_dtype")
MODEL_INIT_DTYPES = ("auto", "bfloat16", "float32")


@dataclass
class GRPOFields:
    """TRL's GRPO fields; every field has `metadata["help"]`, and `metadata["choices"]` where it has a list."""

    # Model
    model_init_kwargs: dict[str, Any] | None = option(
        None,
        'Only {"dtype": ...} (or torch_dtype): auto, bfloat16 or float32. A transformers checkpoint directory is '
        "loaded in that dtype (auto: bfloat16 on CUDA, float32 on CPU); a rewritten checkpoint must have been built "
        "in it. A dict, or its JSON text.",
    )
    disable_dropout: bool = option(
        False,
        "Disable dropout in the model: gpt-oss has none, so this sets the LoRA dropout to 0.",
    )

    # Generation
    num_generations: int = option(
        8,
        "Number of completions sampled per prompt (the group size). Each process's generation batch must be "
        "divisible by it: a group never straddles processes.",
    )
    num_generations_eval: int | None = option(
        None,
        "Completions per prompt when evaluating; None uses num_generations.",
    )
    max_prompt_length: int | None = option(
        None,
        "Maximum prompt length in tokens (older TRL's; TRL 1.16 has no limit): the trainer reports longer prompts "
        "when it starts. None (the default): no limit but the model's context.",
    )
    max_completion_length: int = option(512, "Maximum length of a generated completion in tokens.")
    generation_batch_size: int | None = option(
        None,
        "Completions generated together, over all processes, then trained on in micro-batches over the next "
        "optimizer steps: per_device_train_batch_size * processes * steps_per_generation. None: derived from "
        "steps_per_generation. Give at most one of the two.",
    )
    steps_per_generation: int | None = option(
        None,
        "Micro-batches (forward/backward passes) per generation; a multiple of gradient_accumulation_steps, so a "
        "generation feeds whole optimizer steps. None: gradient_accumulation_steps (one generation per optimizer "
        "step), or derived from generation_batch_size.",
    )
    generation_rows_per_call: int | None = option(
        None,
        "Completions sampled together in one batched generation call; None: all of a process's completions of a "
        "generation at once (fastest: decoding reads the weights once per step for the whole batch). Lower it to "
        "bound the KV cache's memory; it must divide each process's generation batch. Each completion's tokens do "
        "not depend on it.",
    )
    temperature: float = option(
        1.0,
        "Sampling temperature. The higher the temperature, the more random the completions.",
    )
    top_p: float = option(
        1.0,
        "Nucleus sampling: keep the smallest token set whose probability reaches top_p, in (0, 1].",
    )
    top_k: int = option(0, "Keep only the top_k most likely tokens when sampling; 0 disables top-k filtering.")
    min_p: float | None = option(
        None,
        "Drop tokens whose probability is below min_p times the most likely token's, in [0, 1] (applied after "
        "temperature, top_k and top_p, as transformers); None disables it.",
    )
    repetition_penalty: float = option(
        1.0,
        "Divide positive logits (multiply negative ones) of tokens already in the prompt or the completion by this, "
        "> 0: above 1 discourages repeats, 1.0 disables it. It shapes the sampling only; the loss's log-probs are "
        "the model's.",
    )
    generation_kwargs: dict[str, Any] | None = option(
        None,
        f"Sampling settings that override the fields of the same name: {', '.join(GENERATION_KWARGS)}. A dict, or its "
        "JSON text; other GenerationConfig keys are refused.",
    )
    chat_template_kwargs: dict[str, Any] | None = option(
        None,
        "Extra keyword arguments of the tokenizer's apply_chat_template for conversational prompts, e.g. "
        '{"reasoning_effort": "low"} for gpt-oss. A dict, or its JSON text.',
    )

    # Loss
    beta: float = option(0.0, "KL coefficient. With 0.0 no reference model is needed; DeepSeek-R1 used 0.001.")
    use_bias_correction_kl: bool = option(
        True,
        "Multiply the KL term by the importance ratio, so that its gradient is the unbiased reverse-KL gradient "
        "(DeepSeek-V3.2); matters only with beta != 0, on-policy too (the ratio is differentiable).",
    )
    epsilon: float = option(0.2, "Lower clipping epsilon of the importance ratio.")
    epsilon_high: float | None = option(
        None,
        "Upper clipping epsilon; None uses epsilon. DAPO recommends 0.28. With loss_type='cispo' it is the cap on "
        "the importance ratio itself (ScaleRL's epsilon_max, recommended 5.0).",
    )
    loss_type: str = option(
        "dapo",
        "How token losses are reduced. 'grpo': mean of per-sequence token means (length biased). 'bnpo': sum over "
        "the local batch's tokens / their count. 'dr_grpo': sum / (batch size * max_completion_length). 'dapo': sum "
        "/ number of completion tokens in the global accumulated batch. 'cispo': clipped, detached importance "
        "weight times log-prob, reduced as 'dapo'.",
        choices=LOSS_TYPES,
    )
    importance_sampling_level: str = option(
        "token",
        "'token': one importance ratio per token. 'sequence' (GSPO): one ratio per sequence, from the mean "
        "log-ratio over its completion tokens.",
        choices=IMPORTANCE_SAMPLING_LEVELS,
    )
    scale_rewards: str = option(
        "group",
        "Advantage scaling: 'group' divides by the reward std within each group, 'batch' by the std of the whole "
        "batch, 'none' does not scale (Dr. GRPO). True and False mean 'group' and 'none'.",
        choices=SCALE_REWARDS,
    )
    num_iterations: int = option(1, "Number of optimization passes over each generated batch (mu in the GRPO paper).")
    reward_weights: list[float] | None = option(None, "One weight per reward function; None weighs every function 1.0.")
    mask_truncated_completions: bool = option(
        False,
        "Exclude completions that hit max_completion_length without EOS from the loss (DAPO).",
    )

    # Completion logging
    log_completions: bool = option(
        False,
        "Every logging_steps steps, print a sample of (prompt, completion, rewards) rows.",
    )
    num_completions_to_print: int | None = option(
        None,
        "Rows printed by log_completions; None prints all of the step's.",
    )
