"""A two-process run whose reward function fails on rank 1 only: `torchrun --nproc_per_node 2` runs this file.

    torchrun --standalone --nproc_per_node 2 tests/grpo/raising_reward_run.py CHECKPOINT_DIR OUTPUT_DIR
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from runtime.grpo.trainer import GRPOTrainer  # noqa: E402
from tests.grpo.tiny_run import even_token_reward, tiny_config, toy_dataset  # noqa: E402

FAILURE_MESSAGE = "the reward service is unreachable from rank 1"


def reward_failing_on_rank_1(prompts: list, completions: list, completion_ids: list[list[int]], **columns):
    if os.environ["RANK"] == "1":
        raise ConnectionError(FAILURE_MESSAGE)
    return even_token_reward(prompts, completions, completion_ids)


if __name__ == "__main__":
    checkpoint, output_dir = sys.argv[1:]
    GRPOTrainer(
        checkpoint, reward_failing_on_rank_1, train_dataset=toy_dataset(), args=tiny_config(output_dir, max_steps=3)
    ).train()
