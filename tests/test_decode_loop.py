"""The decode loop stops rows, checks "all stopped?" every STOP_CHECK_INTERVAL steps and trims what ran past it.

The loop is driven here by a scripted decode step: greedy decoding of logits that put each row's scripted token of
the next step on top, so every test knows which token each row emits at each step.
"""

from __future__ import annotations

import torch

from runtime.decode_loop import STOP_CHECK_INTERVAL, decode_n_tokens, trimmed_output
from runtime.generation_request import GenerationRequest
from runtime.sampling import SamplingOptions

VOCAB = 16
PAD = 0


def one_hot_logits(tokens: torch.Tensor) -> torch.Tensor:
    return torch.nn.functional.one_hot(tokens, VOCAB).float() * 10


class ScriptedStep:
    """A `DecodeStep` whose logits after step i put `script[:, i + 1]` on top; counts its calls."""

    def __init__(self, script: torch.Tensor):
        self.script, self.calls, self.fed = script, 0, []

    def __call__(self, token: torch.Tensor, index: int) -> torch.Tensor:
        self.calls += 1
        self.fed.append(token.clone())
        return one_hot_logits(self.script[:, index + 1])


def request(script: torch.Tensor, *, eos=(), stop_sequences=(), on_token=None) -> GenerationRequest:
    prompts = torch.ones(script.shape[0], 2, dtype=torch.long)
    return GenerationRequest(
        input_ids=prompts, attention_mask=torch.ones_like(prompts), max_new_tokens=script.shape[1],
        sampling=SamplingOptions(), stop_token_ids=torch.tensor(eos, dtype=torch.long),
        stop_sequences=tuple(torch.tensor(sequence) for sequence in stop_sequences), pad_token_id=PAD,
        generator=None, row_keys=None, on_token=on_token,
    )


def run(script, *, any_unfinished=None, **options):
    step, generation = ScriptedStep(script), request(script, **options)
    keywords = {"any_unfinished": any_unfinished} if any_unfinished else {}
    decoded = decode_n_tokens(step, one_hot_logits(script[:, 0]), generation, generation.input_ids,
                              generation.attention_mask, **keywords)
    return step, decoded, trimmed_output(generation.input_ids, decoded)


def script_of(length: int, rows: int = 2) -> torch.Tensor:
    """Tokens 2..15 in turn (never the pad), a different phase per row."""
    return (torch.arange(length)[None, :] + 3 * torch.arange(rows)[:, None]) % (VOCAB - 2) + 2


def test_rows_stop_at_their_stop_token_and_are_padded_after_it():
    script = script_of(40)
    script[0, 3], script[1, 6] = 1, 1  # token 1 is the eos
    step, decoded, output = run(script, eos=[1])
    assert output.completion_mask.tolist() == [[1] * 4 + [0] * 3, [1] * 7]
    assert output.sequences[0, 2:].tolist() == script[0, :4].tolist() + [PAD] * 3
    assert (output.logprobs[0, 4:] == 0).all() and (output.logprobs[:, :4] < 0).all()
    assert step.fed[5][0] == PAD, "a finished row is fed the pad token"


def test_the_loop_runs_on_to_the_next_stop_check_and_the_output_is_trimmed_to_the_last_stop():
    script = script_of(40)
    script[:, 2] = 1
    step, decoded, output = run(script, eos=[1])
    assert len(decoded.tokens) == STOP_CHECK_INTERVAL
    assert step.calls == STOP_CHECK_INTERVAL - 1
    assert output.sequences.shape[1] == 2 + 3 and output.completion_mask.tolist() == [[1, 1, 1]] * 2


def test_without_a_stop_the_loop_makes_max_new_tokens_and_decodes_one_step_fewer():
    script = script_of(20)
    step, decoded, output = run(script)
    assert step.calls == 19 and output.sequences[:, 2:].tolist() == script.tolist()
    assert output.completion_mask.all()


def test_a_lockstep_peer_still_generating_keeps_the_loop_going_without_changing_the_output():
    script = script_of(40)
    script[:, 2] = 1
    _, _, alone = run(script, eos=[1])
    reads = []

    def peer_unfinished(unfinished: torch.Tensor) -> bool:
        reads.append(bool(unfinished.any()))
        return True

    step, decoded, in_lockstep = run(script, eos=[1], any_unfinished=peer_unfinished)
    assert reads == [False, False]  # read at steps 16 and 32, as on every process of the group
    assert len(decoded.tokens) == 40 and step.calls == 39
    assert torch.equal(in_lockstep.sequences, alone.sequences)
    assert torch.equal(in_lockstep.logprobs, alone.logprobs)


def test_a_stop_sequence_ends_a_row_on_its_last_token():
    script = script_of(8)
    sequence = script[1, 3:5].tolist()
    _, _, output = run(script, stop_sequences=[sequence])
    assert output.completion_mask[1].tolist() == [1] * 5 + [0] * 3


def test_on_token_gets_every_step_the_loop_ran_once_in_order():
    script = script_of(40)
    script[:, 2] = 1
    streamed = []
    _, decoded, _ = run(script, eos=[1], on_token=lambda tokens: streamed.append(tokens.clone()))
    assert len(streamed) == STOP_CHECK_INTERVAL
    assert all(torch.equal(a, b) for a, b in zip(streamed, decoded.tokens, strict=True))
