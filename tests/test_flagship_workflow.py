"""The seed's workflow from the command line on the tiny preset: build, generate, train --task matmul, export."""

from __future__ import annotations

import json

import torch
from transformers import AutoTokenizer, GptOssForCausalLM

from rewrite import load_tokenizer, preset_tokenizer
from rewrite.cli import main
from runtime.grpo.config import GRPOConfig
from runtime.grpo.prompts import PromptDataset
from runtime.grpo.tasks import get_task
from tests.test_export import assert_same_logits
from tests.trained_run import rewritten_with_adapter

MATMUL_REWARDS = ("function_works", "no_cheating", "correct", "speed")


def test_build_generate_train_matmul_and_export_merged(tmp_path, capsys):
    build, run, merged = tmp_path / "D", tmp_path / "R", tmp_path / "M"
    assert main(["build", "--preset", "tiny", "--out", str(build), "--no-verify"]) == 0
    assert main(["generate", str(build), "--prompt", "Write a fast matmul", "--reasoning-effort", "low",
                 "--max-new-tokens", "8", "--json"]) == 0
    reply = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert set(reply) >= {"thinking", "content", "completion_ids", "finish_reason"}

    assert main(["train", "--checkpoint", str(build), "--task", "matmul", "--steps", "3", "--out", str(run),
                 "--max-completion-length", "12", "--use-cpu"]) == 0
    records = [json.loads(line) for line in (run / "log.jsonl").read_text().splitlines()]
    assert [record["step"] for record in records] == [1, 2, 3]
    assert all(f"rewards/{name}/mean" in records[-1] for name in MATMUL_REWARDS)
    completions = [json.loads(line) for line in (run / "completions.jsonl").read_text().splitlines()]
    assert {completion["step"] for completion in completions} == {1, 2, 3}
    assert set(completions[0]["rewards"]) == set(MATMUL_REWARDS) and "thinking" in completions[0]
    assert completions[0]["prompt"][0]["content"].startswith("Create a new fast matrix multiplication")

    assert main(["export", str(run / "checkpoint-3"), "--merged", "--dtype", "float32", "--out", str(merged)]) == 0
    transformers_model = GptOssForCausalLM.from_pretrained(merged, dtype=torch.float32).eval()
    config = GRPOConfig(**{**get_task("matmul").config_defaults, "output_dir": str(run)})
    ours = rewritten_with_adapter(build, run / "checkpoint-3", config)
    assert_same_logits(ours, transformers_model, ours.spec)
    messages = [{"role": "user", "content": "hi"}]
    assert AutoTokenizer.from_pretrained(merged).apply_chat_template(messages, reasoning_effort="low") == \
        load_tokenizer(build).apply_chat_template(messages, reasoning_effort="low")


def test_the_matmul_rows_reasoning_effort_column_reaches_the_chat_template():
    tokenizer = preset_tokenizer("tiny")
    rows = get_task("matmul").build_dataset(512, 0)[:2]
    prompts = PromptDataset(rows, tokenizer, max_prompt_length=None, vocab_size=512)
    text = tokenizer.decode(prompts.token_ids(0))
    assert "Reasoning: low" in text and text.endswith("<|start|>assistant")
    other = PromptDataset([{**rows[0], "reasoning_effort": "high"}], tokenizer, max_prompt_length=None,
                          vocab_size=512, chat_template_kwargs={"reasoning_effort": "low"})
    assert "Reasoning: high" in tokenizer.decode(other.token_ids(0)), "a row's own column wins over the config's"
