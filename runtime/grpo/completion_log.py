"""What the policy writes, for a person to read: `log_completions` and `num_completions_to_print` (TRL's names).

Every scored completion of a training step goes to OUT/completions.jsonl as one JSON object: step, prompt, the
completion's thinking, content (the final channel's text, or the decoded text / token ids of a non-chat
completion) and tool calls, each reward function's value (null where it returned None) and the columns reward
functions added with `log_extra`. The first `num_completions_to_print` of each step are also printed and written to
TensorBoard as a text table. Resuming at step S drops the lines of later steps, as the metrics log does.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

from runtime.grpo.step_records import drop_steps_after

COMPLETIONS_NAME = "completions.jsonl"
_PRINTED_CHARACTERS = 300


class CompletionLog:
    """Appends each step's completions to OUT/completions.jsonl, prints and tabulates a few of them."""

    def __init__(self, output_dir: Path, start_step: int, num_to_print: int | None, writer: Any,
                 console: Callable[[str], None]) -> None:
        self.path = output_dir / COMPLETIONS_NAME
        self.num_to_print = num_to_print
        self.writer = writer
        self.console = console
        drop_steps_after(self.path, start_step)

    def write(self, rows: list[dict[str, Any]], per_func_rewards: torch.Tensor, reward_names: list[str]) -> None:
        """`rows[i]` holds step, prompt, completion and the extra columns of completion i; `per_func_rewards` [B, F]."""
        records = [
            {"step": row["step"], "prompt": row["prompt"], **_completion_fields(row["completion"]),
             "rewards": {name: _number(value) for name, value in zip(reward_names, rewards, strict=True)},
             **{key: value for key, value in row.items() if key not in ("step", "prompt", "completion")}}
            for row, rewards in zip(rows, per_func_rewards.tolist(), strict=True)
        ]
        with self.path.open("a") as log_file:
            for record in records:
                log_file.write(json.dumps(record, default=repr) + "\n")
        shown = records if self.num_to_print is None else records[: self.num_to_print]
        if not shown:
            return
        step = shown[0]["step"]
        for record in shown:
            self.console(_console_text(record))
        if self.writer is not None:
            self.writer.add_text("completions", _markdown_table(shown), step)


def _completion_fields(completion: Any) -> dict[str, Any]:
    if isinstance(completion, list) and completion and isinstance(completion[0], dict):
        message = completion[-1]
        fields = {"thinking": message.get("thinking", ""), "content": message.get("content", "")}
        if message.get("tool_calls"):
            fields["tool_calls"] = message["tool_calls"]
        return fields
    return {"thinking": "", "content": completion}


def _prompt_text(prompt: Any) -> str:
    if isinstance(prompt, list) and prompt and isinstance(prompt[0], dict):
        return str(prompt[-1].get("content", ""))
    return str(prompt)


def _console_text(record: dict[str, Any]) -> str:
    rewards = ", ".join(f"{name} {_rounded(value)}" for name, value in record["rewards"].items())
    lines = [f"[step {record['step']}] prompt: {_short(_prompt_text(record['prompt']))}"]
    if record["thinking"]:
        lines.append(f"  thinking: {_short(record['thinking'])}")
    lines.append(f"  content: {_short(str(record['content']))}")
    lines.append(f"  rewards: {rewards}")
    return "\n".join(lines)


def _markdown_table(records: list[dict[str, Any]]) -> str:
    names = list(records[0]["rewards"])
    header = "| prompt | thinking | content | " + " | ".join(names) + " |"
    rule = "|" + " --- |" * (3 + len(names))
    rows = [
        "| " + " | ".join([
            _cell(_prompt_text(record["prompt"])), _cell(record["thinking"]), _cell(str(record["content"])),
            *(_rounded(record["rewards"][name]) for name in names),
        ]) + " |"
        for record in records
    ]
    return "\n".join([header, rule, *rows])


def _cell(text: str) -> str:
    return _short(text).replace("|", "\\|")


def _short(text: str) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= _PRINTED_CHARACTERS else text[: _PRINTED_CHARACTERS - 1] + "…"


def _rounded(value: float | None) -> str:
    return "None" if value is None else f"{value:.3f}"


def _number(value: float) -> float | None:
    return None if math.isnan(value) else value
