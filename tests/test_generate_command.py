"""`rewrite generate`: a prompt in, the reply's final channel streamed out (or one JSON object), with or without a
trained adapter; bad input gets one clear line and exit status 2."""

from __future__ import annotations

import json
import re

import pytest
from transformers import GenerationConfig

from rewrite import load, load_tokenizer
from rewrite.cli import main
from rewrite.errors import GenerationError
from runtime.chat import chat
from tests.scratch_copies import scratch_copy
from tests.scripted_reply import ANALYSIS_THEN_FINAL, scripted_generate
from tests.trained_run import rewritten_with_adapter, train_two_steps

REPLY_FIELDS = {"thinking", "content", "tool_calls", "completion_ids", "finish_reason"}


def run_generate(capsys, *arguments: str) -> tuple[int, str, str]:
    status = main(["generate", *arguments])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_a_tiny_build_replies_with_one_json_object(full_checkpoint, capsys):
    status, out, _ = run_generate(capsys, str(full_checkpoint), "--prompt", "hello", "--reasoning-effort", "low",
                                  "--max-new-tokens", "8", "--json")
    assert status == 0
    reply = json.loads(out)
    assert set(reply) == REPLY_FIELDS
    assert 0 < len(reply["completion_ids"]) <= 8 and reply["finish_reason"] in ("stop", "tool_calls", "length")


def test_the_streamed_final_channel_is_the_json_content(full_checkpoint, capsys):
    contents = []
    for seed in range(4):  # random weights reach a final channel only now and then
        common = [str(full_checkpoint), "--prompt", "hello", "--max-new-tokens", "24", "--seed", str(seed)]
        _, streamed, _ = run_generate(capsys, *common)
        _, out, _ = run_generate(capsys, *common, "--json")
        content = json.loads(out)["content"]
        assert streamed == (content + "\n" if content else "")
        contents.append(content)
    assert any(contents), "at least one seed's reply has a final channel, so the comparison is not vacuous"


@pytest.fixture()
def scripted(monkeypatch, full_checkpoint):
    """The engine replaced by one that generates ANALYSIS_THEN_FINAL (random weights seldom write harmony)."""
    reply = load_tokenizer(full_checkpoint).encode(ANALYSIS_THEN_FINAL, add_special_tokens=False)
    monkeypatch.setattr("runtime.chat.generate", scripted_generate(reply))
    return [str(full_checkpoint), "--prompt", "what is two plus three?", "--max-new-tokens", "64"]


def test_the_final_channel_goes_to_stdout_and_the_thinking_nowhere(scripted, capsys):
    assert run_generate(capsys, *scripted) == (0, "The answer is 5.\n", "")


def test_show_thinking_streams_the_analysis_channel_to_stderr(scripted, capsys):
    status, out, err = run_generate(capsys, *scripted, "--show-thinking")
    assert (status, out) == (0, "The answer is 5.\n")
    assert err == "two plus three is five, so the answer is five\n"


def test_json_prints_only_the_parsed_reply(scripted, capsys):
    status, out, err = run_generate(capsys, *scripted, "--json")
    reply = json.loads(out)
    assert (status, err) == (0, "")
    assert reply["thinking"] == "two plus three is five, so the answer is five"
    assert (reply["content"], reply["tool_calls"], reply["finish_reason"]) == ("The answer is 5.", [], "stop")


def test_a_reply_cut_off_by_max_new_tokens_finishes_for_length(scripted, capsys):
    status, out, _ = run_generate(capsys, *scripted, "--max-new-tokens", "12", "--json")
    reply = json.loads(out)
    assert (status, reply["content"], reply["finish_reason"]) == (0, "", "length")
    assert len(reply["completion_ids"]) == 12


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    return train_two_steps(tmp_path_factory.mktemp("generate-with-adapter"))


def test_an_adapter_from_a_training_checkpoint_generates_as_the_trained_policy(trained, capsys):
    base, checkpoint, config = trained
    common = [str(base), "--prompt", "hello", "--max-new-tokens", "16", "--temperature", "0", "--json"]
    _, with_adapter, _ = run_generate(capsys, *common, "--adapter", str(checkpoint))
    _, without, _ = run_generate(capsys, *common)
    expected = chat(rewritten_with_adapter(base, checkpoint, config), load_tokenizer(base),
                    [{"role": "user", "content": "hello"}], max_new_tokens=16, temperature=0,
                    eos_token_id=GenerationConfig.from_pretrained(base).eos_token_id)
    assert json.loads(with_adapter)["completion_ids"] == expected.completion_ids
    assert json.loads(without)["completion_ids"] != expected.completion_ids, "the adapter changes the reply"


@pytest.mark.parametrize("arguments, message", [
    (["{tmp}/nowhere"], "is not a directory"),
    (["{checkpoint}", "--reasoning-effort", "extreme"], "reasoning effort 'extreme' is not one of low, medium, high"),
    (["{no_tokenizer}"], "has no tokenizer"),
    (["{checkpoint}", "--adapter", "{tmp}"], "is not a peft adapter"),
    (["{checkpoint}", "--max-new-tokens", "0"], "max_new_tokens must be a positive int"),
    (["{checkpoint}", "--temperature", "-1"], r"temperature must be >= 0 \(0 decodes greedily\)"),
], ids=["no-such-directory", "bad-effort", "no-tokenizer", "not-an-adapter", "no-new-tokens", "negative-temperature"])
def test_bad_input_gets_one_line_and_exit_status_2(full_checkpoint, tmp_path, capsys, arguments, message):
    no_tokenizer = scratch_copy(full_checkpoint, tmp_path)
    for name in ("tokenizer.json", "tokenizer_config.json", "chat_template.jinja"):
        (no_tokenizer / name).unlink(missing_ok=True)
    paths = {"tmp": tmp_path, "checkpoint": full_checkpoint, "no_tokenizer": no_tokenizer}
    status, out, err = run_generate(capsys, *[argument.format(**paths) for argument in arguments], "--prompt", "hi")
    assert status == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith("rewrite generate: error: "), err
    assert re.search(message, err), err


def test_chat_refuses_messages_the_template_cannot_render(full_checkpoint):
    with pytest.raises(GenerationError, match="cannot render these messages"):
        chat(load(full_checkpoint), load_tokenizer(full_checkpoint), [{"content": "no role"}], max_new_tokens=2)
