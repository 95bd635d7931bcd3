"""A run's metrics: OUT/log.jsonl (one JSON object per step), TensorBoard events (`report_to`), a tqdm bar, a
reward curve, and with `log_completions` the completions themselves (`runtime.grpo.completion_log`).

Resuming at step S drops what a killed run logged after S, so the logs read as one run: the lines of later steps
go from log.jsonl and completions.jsonl (`step_records`), and the TensorBoard writer opens with
`purge_step=S + 1`, which tells TensorBoard to discard the older events at steps after S. NaN metrics (e.g. a
clip ratio with no completion tokens) are written as JSON null.
"""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path

from tqdm import tqdm

from runtime.grpo.completion_log import COMPLETIONS_NAME, CompletionLog
from runtime.grpo.config import GRPOConfig
from runtime.grpo.reward_curve import plot_reward_curve
from runtime.grpo.step_records import drop_steps_after, read_log

LOG_NAME = "log.jsonl"
TENSORBOARD_DIR = "tensorboard"
REWARD_CURVE_NAME = "reward_curve.png"
RUN_OUTPUTS = (LOG_NAME, TENSORBOARD_DIR, REWARD_CURVE_NAME, COMPLETIONS_NAME)


class RunLog:
    """Writes one record per optimizer step; `close` draws the reward curve of the whole log."""

    def __init__(self, output_dir: Path, start_step: int, total_steps: int, config: GRPOConfig,
                 logging_steps: int) -> None:
        """`config.report_to` picks TensorBoard (in `logging_dir`, else OUT/tensorboard) and wandb."""
        self.output_dir = output_dir
        self.log_path = output_dir / LOG_NAME
        self.logging_steps = logging_steps
        drop_steps_after(self.log_path, start_step)
        self.writer = None
        if "tensorboard" in config.report_to:
            from torch.utils.tensorboard import (
                SummaryWriter,  # the [train] extra; imported only when training
            )

            self.writer = SummaryWriter(config.logging_dir or str(output_dir / TENSORBOARD_DIR),
                                        purge_step=start_step + 1)
        self.wandb_run = None
        if "wandb" in config.report_to:
            import wandb  # GRPOConfig accepts "wandb" only where it is installed

            self.wandb_run = wandb.init(name=config.run_name or output_dir.name, dir=str(output_dir),
                                        config=dataclasses.asdict(config), resume="allow")
        self.progress = tqdm(total=total_steps, initial=start_step, desc="GRPO", unit="step", dynamic_ncols=True)
        self.completion_log = None
        if config.log_completions:
            self.completion_log = CompletionLog(output_dir, start_step, config.num_completions_to_print,
                                                self.writer, self.progress.write)

    def write(self, record: dict[str, float | int]) -> None:
        """Append `record` (it has a "step") to log.jsonl and TensorBoard; advance the bar; print every
        `logging_steps` steps."""
        step = record["step"]
        with self.log_path.open("a") as log_file:
            log_file.write(json.dumps({key: _json_number(value) for key, value in record.items()}) + "\n")
        if self.writer is not None:
            for key, value in record.items():
                if key != "step" and not _is_nan(value):
                    self.writer.add_scalar(key, value, step)
            self.writer.flush()
        if self.wandb_run is not None:
            self.wandb_run.log({key: value for key, value in record.items() if key != "step"}, step=step)
        self.progress.update(1)
        self.progress.set_postfix(reward=f"{record['reward']:.3f}", loss=f"{record['loss']:.4f}")
        if step % self.logging_steps == 0:
            self.progress.write(
                f"step {step}: reward {record['reward']:.4f} ± {record['reward_std']:.4f}, "
                f"loss {record['loss']:.4f}, {record['completions/mean_length']:.1f} tokens per completion, "
                f"{record['tokens_per_second']:.0f} tokens/s"
            )

    def close(self) -> None:
        """Close the writers and draw OUT/reward_curve.png from the whole log."""
        if self.writer is not None:
            self.writer.close()
        if self.wandb_run is not None:
            self.wandb_run.finish()
        self.progress.close()
        plot_reward_curve(read_log(self.log_path), self.output_dir / REWARD_CURVE_NAME)


def _json_number(value: float | int) -> float | int | None:
    return None if _is_nan(value) else value


def _is_nan(value: float | int) -> bool:
    return isinstance(value, float) and math.isnan(value)
