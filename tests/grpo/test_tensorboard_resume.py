"""A resumed run's logs read as one run: the steps a killed run logged after its last checkpoint are redone and
appear once, in TensorBoard, log.jsonl and completions.jsonl alike."""

from __future__ import annotations

import json
import shutil
import time
from collections import Counter

import pytest
import torch

from runtime.grpo import GRPOConfig
from runtime.grpo.run_log import RunLog, read_log
from runtime.grpo.trainer import GRPOTrainer
from tests.grpo.tiny_run import even_token_reward, tiny_config, toy_dataset

# the reader TensorBoard's own backend serves the dashboards from (scalars and text alike are tensors to it)
plugin_event_accumulator = pytest.importorskip("tensorboard.backend.event_processing.plugin_event_accumulator")

COMPLETIONS_PER_STEP = 8  # tiny_run's per_device_train_batch_size


def train(checkpoint, config, **train_args) -> None:
    GRPOTrainer(str(checkpoint), even_token_reward, train_dataset=toy_dataset(), args=config).train(**train_args)


def tensorboard_steps(directory) -> dict[str, list[int]]:
    """The steps of every tag, scalar or text, as TensorBoard shows them: purged events left out."""
    accumulator = plugin_event_accumulator.EventAccumulator(str(directory), size_guidance={"tensors": 0})
    accumulator.Reload()
    return {tag: [event.step for event in accumulator.Tensors(tag)] for tag in accumulator.Tags()["tensors"]}


def log_steps(output_dir, start_step: int, last_step: int) -> None:
    """What a run starting after `start_step` logs up to `last_step`: one record and two completions a step."""
    config = GRPOConfig(output_dir=str(output_dir), report_to="tensorboard", log_completions=True)
    run_log = RunLog(output_dir, start_step, last_step, config, logging_steps=1)
    for step in range(start_step + 1, last_step + 1):
        rows = [{"step": step, "prompt": "p", "completion": f"c{index}"} for index in range(2)]
        run_log.completion_log.write(rows, torch.full((2, 1), 0.5), ["reward_func"])
        run_log.write({"step": step, "reward": 0.5, "reward_std": 0.0, "loss": 0.1, "completions/mean_length": 3.0,
                       "tokens_per_second": 10.0})
    run_log.close()


def next_second() -> None:
    """Wait for the wall clock's next second, as a resumed run starts after the killed one: TensorBoard reads event
    files in name order, `events.out.tfevents.SECOND.HOST.PID.N`, and within one second the writers' counter N
    sorts 10 before 9 (the test failed so after other tests had opened nine writers)."""
    time.sleep(1 - time.time() % 1 + 0.01)


def test_a_run_log_resumed_at_step_s_drops_what_was_logged_after_s(tmp_path):
    log_steps(tmp_path, start_step=0, last_step=4)
    for name in ("log.jsonl", "completions.jsonl"):  # killed while writing step 5
        with (tmp_path / name).open("a") as log_file:
            log_file.write('{"step": 5, "rew')
    next_second()
    log_steps(tmp_path, start_step=2, last_step=5)  # resumed from checkpoint-2: steps 3 and 4 are redone

    steps = tensorboard_steps(tmp_path / "tensorboard")
    assert {"reward", "loss", "completions/text_summary"} <= set(steps), sorted(steps)
    assert {tag: tag_steps for tag, tag_steps in steps.items() if tag_steps != [1, 2, 3, 4, 5]} == {}
    assert [record["step"] for record in read_log(tmp_path / "log.jsonl")] == [1, 2, 3, 4, 5]
    completions = [json.loads(line) for line in (tmp_path / "completions.jsonl").read_text().splitlines()]
    assert [record["step"] for record in completions] == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]


def test_steps_redone_after_a_resume_are_logged_once(lora_checkpoint, tmp_path):
    config = tiny_config(tmp_path, max_steps=2, save_steps=1, log_completions=True, num_completions_to_print=1)
    train(lora_checkpoint, config)
    # as if killed after logging step 2 and before saving it: the newest checkpoint is checkpoint-1
    shutil.rmtree(tmp_path / "checkpoint-2")

    train(lora_checkpoint, config, resume_from_checkpoint=True)

    steps = tensorboard_steps(tmp_path / "tensorboard")
    assert {"reward", "completions/text_summary"} <= set(steps), sorted(steps)
    assert {tag: tag_steps for tag, tag_steps in steps.items() if tag_steps != [1, 2]} == {}
    assert [record["step"] for record in read_log(tmp_path / "log.jsonl")] == [1, 2]
    completions = [json.loads(line) for line in (tmp_path / "completions.jsonl").read_text().splitlines()]
    assert Counter(record["step"] for record in completions) == {step: COMPLETIONS_PER_STEP for step in (1, 2)}
