"""Built-in training tasks: a name -> a prompt dataset builder, reward functions, and settings that suit it.

`target-token` is a toy task for checking that the trainer learns: prompts are random token ids, and the reward
is the fraction of the completion's tokens (its stop token included) that are TARGET_TOKEN_ID (7, an ordinary
token of the tiny preset's 512-token vocabulary; 0, 1 and 2 are its pad, eos and bos). An untrained model emits
it with probability about 1/512, so the reward starts near 0 and a learning trainer drives it up.

`even-tokens` has the same prompts and a dense reward, the fraction of even token ids: about 0.5 from the first
step, so every group has an advantage signal and every step moves the adapters (what a check of the trainer's
arithmetic needs, e.g. that several processes train as one).

`matmul` is the seed's flagship: gpt-oss is asked, in a chat with reasoning effort low, for a fast pure-Python
`matmul(A, B)`, and four rewards judge the final channel's code with the project's judge (`runtime.rewards`):
function_works, no_cheating, correct, speed. It needs the build's tokenizer (`uses_tokenizer`).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from runtime.grpo.errors import GRPOTaskError

RewardFunction = Callable[..., Sequence[float | None]]

TARGET_TOKEN_ID = 7
FIRST_ORDINARY_TOKEN_ID = 3  # prompts avoid the tiny preset's pad (0), eos (1) and bos (2)
TARGET_TOKEN_PROMPTS = 256
TARGET_TOKEN_PROMPT_LENGTHS = (4, 12)  # inclusive range; prompts of several lengths exercise left padding


@dataclass(frozen=True)
class Task:
    """A built-in task: `build_dataset(vocab_size, seed)` -> rows with a "prompt" column, the reward functions
    (made by `make_reward_funcs` on first use, so that listing the tasks imports neither torch nor the judge), and
    GRPOConfig values that suit it (the `rewrite train` command uses them for options left out)."""

    name: str
    description: str
    build_dataset: Callable[[int, int], list[dict[str, Any]]]
    make_reward_funcs: Callable[[], tuple[RewardFunction, ...]]
    config_defaults: dict[str, Any] = field(default_factory=dict)
    uses_tokenizer: bool = False
    """Prompts are chat messages: the trainer needs the checkpoint's tokenizer and chat template."""

    @functools.cached_property
    def reward_funcs(self) -> tuple[RewardFunction, ...]:
        return self.make_reward_funcs()


def target_token_reward(prompts: list, completions: list, completion_ids: list[list[int]], **columns) -> list[float]:
    """Fraction of each completion's tokens that are TARGET_TOKEN_ID (0.0 for an empty completion)."""
    return [sum(token == TARGET_TOKEN_ID for token in ids) / len(ids) if ids else 0.0 for ids in completion_ids]


def even_token_reward(prompts: list, completions: list, completion_ids: list[list[int]], **columns) -> list[float]:
    """Fraction of each completion's tokens with an even id (0.0 for an empty completion)."""
    return [sum(token % 2 == 0 for token in ids) / len(ids) if ids else 0.0 for ids in completion_ids]


def target_token_dataset(vocab_size: int, seed: int) -> list[dict[str, Any]]:
    """TARGET_TOKEN_PROMPTS prompts of random ordinary token ids and random lengths, a pure function of `seed`."""
    import torch

    from rewrite.seeds import seeded_generator

    generator = seeded_generator("cpu", seed, "target-token-dataset")
    shortest, longest = TARGET_TOKEN_PROMPT_LENGTHS
    lengths = torch.randint(shortest, longest + 1, (TARGET_TOKEN_PROMPTS,), generator=generator).tolist()
    return [
        {"prompt": torch.randint(FIRST_ORDINARY_TOKEN_ID, vocab_size, (length,), generator=generator).tolist()}
        for length in lengths
    ]


MATMUL_PROMPT = """Create a new fast matrix multiplication function using only native Python code.
You are given a list of list of numbers.
Output your new function in backticks using the format below:
```python
def matmul(A, B):
    return ...
```"""
MATMUL_PROMPTS = 1000


def matmul_rewards() -> tuple[RewardFunction, ...]:
    """The judge's four rewards of the matmul coding task (`runtime.rewards.CodingTaskRewards`)."""
    from runtime.rewards.coding_task_rewards import CodingTaskRewards
    from runtime.rewards.matmul_task import MATMUL

    return tuple(CodingTaskRewards(MATMUL).reward_funcs)


def matmul_dataset(vocab_size: int, seed: int) -> list[dict[str, Any]]:
    """The seed notebook's dataset: one user prompt, MATMUL_PROMPTS times, each row with reasoning_effort "low"
    (a column the harmony chat template reads)."""
    row = {"prompt": [{"role": "user", "content": MATMUL_PROMPT}], "reasoning_effort": "low"}
    return [dict(row) for _ in range(MATMUL_PROMPTS)]


def toy_task_defaults(learning_rate: float, prompts_per_step: int, generations: int, completion_tokens: int,
                      lora_r: int, **more) -> dict[str, Any]:
    """The token-id toy tasks' training settings: `prompts_per_step` prompts of `generations` completions each, at a
    constant learning rate, adapters of rank `lora_r` (alpha twice that) without dropout, no checkpointing (the tiny
    model's activations are small), a log and a checkpoint every 10 steps; `more` adds or overrides fields."""
    return {
        "learning_rate": learning_rate, "lr_scheduler_type": "constant",
        "per_device_train_batch_size": prompts_per_step * generations, "num_generations": generations,
        "max_completion_length": completion_tokens,
        "lora_r": lora_r, "lora_alpha": 2 * lora_r, "lora_dropout": 0.0, "gradient_checkpointing": False,
        "logging_steps": 10, "save_steps": 10, **more,
    }


TASKS: dict[str, Task] = {
    "target-token": Task(
        name="target-token",
        description=f"reward = fraction of completion tokens equal to token id {TARGET_TOKEN_ID}",
        build_dataset=target_token_dataset,
        make_reward_funcs=lambda: (target_token_reward,),
        config_defaults=toy_task_defaults(learning_rate=2e-2, prompts_per_step=4, generations=8, completion_tokens=16,
                                          lora_r=8, scale_rewards="batch", save_total_limit=2),
    ),
    "even-tokens": Task(
        name="even-tokens",
        description="reward = fraction of completion tokens with an even id (dense: every step learns)",
        build_dataset=target_token_dataset,
        make_reward_funcs=lambda: (even_token_reward,),
        config_defaults=toy_task_defaults(learning_rate=1e-2, prompts_per_step=2, generations=4, completion_tokens=8,
                                          lora_r=4),
    ),
    "matmul": Task(
        name="matmul",
        description="write a fast pure-Python matmul(A, B); rewards: function_works, no_cheating, correct, speed",
        build_dataset=matmul_dataset,
        make_reward_funcs=matmul_rewards,
        uses_tokenizer=True,
        config_defaults={
            "learning_rate": 5e-5,
            "weight_decay": 0.01,
            "warmup_ratio": 0.1,
            "lr_scheduler_type": "linear",
            "per_device_train_batch_size": 2,
            "num_generations": 2,
            "max_completion_length": 768,
            "lora_r": 4,
            "lora_alpha": 8,
            "lora_dropout": 0.0,
            "logging_steps": 1,
            "save_steps": 100,
            "log_completions": True,
            "num_completions_to_print": 1,
        },
    ),
}


def get_task(name: str) -> Task:
    """The built-in task called `name`; raises `GRPOTaskError` listing the known ones."""
    if name not in TASKS:
        raise GRPOTaskError(f"unknown task {name!r}: choose one of {', '.join(sorted(TASKS))}.")
    return TASKS[name]
