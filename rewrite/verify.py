"""Numerical checks: a rewritten module against transformers' eager forward, or against an earlier stage.

The sample batch is left-padded, its prompts are longer than the sliding window, and after the prefill
it decodes a few tokens through the KV cache, so prefill, decode, padding and both layer types are
exercised. Errors are max absolute differences per output (logits and every layer's hidden state).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch

from .model import RewrittenGptOss
from .spec import GraphSpec, pad_aware_position_ids

# (statistic, tolerance) per dtype. float32: the largest scaled difference anywhere. bf16/fp16: the
# scaled *mean* difference, because low precision flips some tokens' top-4 experts and a flipped expert
# moves that token by O(1) in transformers' own eager forward too: on the gpt-oss-20b preset, eager bf16
# against eager float32 has a scaled mean error of at most 0.07 at every layer (docs/attention.md), while
# a wrong mask or a wrong attention moves every token.
DEFAULT_CRITERIA = {torch.float32: ("max", 1e-5), torch.bfloat16: ("mean", 0.15), torch.float16: ("mean", 0.15)}


def default_criterion(dtype: torch.dtype) -> tuple[str, float]:
    return DEFAULT_CRITERIA.get(dtype, ("mean", 0.15))


@dataclass
class SampleBatch:
    input_ids: torch.Tensor  # [B, T] left-padded prompts
    attention_mask: torch.Tensor  # [B, T]
    decode_tokens: torch.Tensor  # [B, S] tokens fed one at a time after the prefill


def sample_batch(spec: GraphSpec, device, decode_steps: int = 3, seed: int = 0) -> SampleBatch:
    """Three left-padded prompts: 2W+5, W+3 and 2W+5 tokens long for a sliding window W."""
    window = spec.sliding_window
    lengths = [2 * window + 5, window + 3, 2 * window + 5]
    width = max(lengths)
    generator = torch.Generator().manual_seed(seed)
    input_ids = torch.randint(3, spec.vocab_size, (len(lengths), width), generator=generator)
    attention_mask = torch.zeros(len(lengths), width, dtype=torch.long)
    for row, length in enumerate(lengths):
        attention_mask[row, width - length :] = 1
    input_ids = input_ids.masked_fill(attention_mask == 0, 0)
    decode_tokens = torch.randint(3, spec.vocab_size, (len(lengths), decode_steps), generator=generator)
    return SampleBatch(input_ids.to(device), attention_mask.to(device), decode_tokens.to(device))


def candidate_outputs(model: RewrittenGptOss, batch: SampleBatch) -> dict[str, torch.Tensor]:
    """Prefill and decode-step outputs of a rewritten module, named `phase/output`."""
    prompt_length = batch.input_ids.shape[1]
    steps = batch.decode_tokens.shape[1]
    cache_length = prompt_length + steps
    mask = torch.zeros(batch.input_ids.shape[0], cache_length, dtype=torch.long, device=batch.input_ids.device)
    mask[:, :prompt_length] = batch.attention_mask
    positions = pad_aware_position_ids(batch.attention_mask)
    caches = model.empty_caches(batch.input_ids.shape[0], cache_length)
    outputs = {}
    with torch.no_grad():
        result = model.step(batch.input_ids, mask, positions, 0, caches)
        _collect(outputs, "prefill", result.logits, result.hidden_states)
        next_position = positions[:, -1:] + 1
        for step in range(steps):
            slot = prompt_length + step
            mask[:, slot] = 1
            token = batch.decode_tokens[:, step : step + 1]
            result = model.step(token, mask, next_position, slot, result.caches)
            _collect(outputs, f"decode_{step}", result.logits, result.hidden_states)
            next_position = next_position + 1
    return outputs


def reference_outputs(hf_model, batch: SampleBatch) -> dict[str, torch.Tensor]:
    """The same outputs from transformers' own eager forward over whole sequences, without a cache."""
    outputs = {}
    with torch.no_grad():
        hf = _hf_forward(hf_model, batch.input_ids, batch.attention_mask)
        _collect(outputs, "prefill", hf.logits, hf.hidden_states)
        for step in range(batch.decode_tokens.shape[1]):
            ids = torch.cat([batch.input_ids, batch.decode_tokens[:, : step + 1]], dim=1)
            mask = torch.cat([batch.attention_mask, torch.ones_like(batch.decode_tokens[:, : step + 1])], dim=1)
            hf = _hf_forward(hf_model, ids, mask)
            _collect(outputs, f"decode_{step}", hf.logits[:, -1:], [h[:, -1:] for h in hf.hidden_states])
    return outputs


def _hf_forward(hf_model, input_ids, attention_mask):
    return hf_model(
        input_ids=input_ids,
        attention_mask=attention_mask,
        position_ids=pad_aware_position_ids(attention_mask),
        output_hidden_states=True,
        use_cache=False,
    )


def _collect(outputs: dict, phase: str, logits: torch.Tensor, hidden_states) -> None:
    outputs[f"{phase}/logits"] = logits.float()
    for layer, hidden in enumerate(hidden_states):
        outputs[f"{phase}/hidden_state_{layer}"] = hidden.float()


@dataclass
class Comparison:
    """Errors of every named output (`phase/output`), and whether all are within `tolerance`.

    `errors` are max absolute differences and `mean_errors` mean ones; `scaled_errors` divide the
    chosen `statistic` ("max" or "mean") by max(1, max |reference|) of the same output, so that an
    activation of magnitude 8 is held to the same relative precision as one of magnitude 1 (float32
    rounds 8.0 to steps of 1e-6). The tolerance applies to scaled errors.
    """

    errors: dict[str, float]
    mean_errors: dict[str, float]
    scales: dict[str, float]
    tolerance: float
    statistic: str = "max"
    # quantized checkpoints: the same statistic against transformers on the original, unquantized weights
    quantization_error: float | None = None
    scaled_errors: dict[str, float] = field(init=False)
    layer_errors: dict[str, float] = field(init=False)

    def __post_init__(self):
        chosen = self.errors if self.statistic == "max" else self.mean_errors
        self.scaled_errors = {name: error / max(1.0, self.scales[name]) for name, error in chosen.items()}
        by_output: dict[str, float] = {}
        for name, error in self.scaled_errors.items():
            output = name.split("/", 1)[1]
            by_output[output] = max(by_output.get(output, 0.0), error)
        self.layer_errors = by_output

    @property
    def max_error(self) -> float:
        return max(self.scaled_errors.values())

    @property
    def max_absolute_error(self) -> float:
        return max(self.errors.values())

    @property
    def passed(self) -> bool:
        return self.max_error <= self.tolerance

    def to_json(self) -> dict:
        return {
            "passed": self.passed,
            "statistic": self.statistic,
            "tolerance": self.tolerance,
            "max_error": self.max_error,
            "max_absolute_error": self.max_absolute_error,
            "per_output": self.layer_errors,
            "per_phase_absolute": self.errors,
            "per_phase_mean_absolute": self.mean_errors,
            "per_phase_scale": self.scales,
            "quantization_error": self.quantization_error,
        }


def compare(
    candidate: dict[str, torch.Tensor], reference: dict[str, torch.Tensor], tolerance: float, statistic: str = "max"
) -> Comparison:
    if candidate.keys() != reference.keys():
        missing = sorted(set(reference) ^ set(candidate))
        raise ValueError(f"outputs differ in name: {missing}")
    differences = {name: (candidate[name] - reference[name]).abs() for name in reference}
    errors = {name: difference.max().item() for name, difference in differences.items()}
    mean_errors = {name: difference.mean().item() for name, difference in differences.items()}
    scales = {name: reference[name].abs().max().item() for name in reference}
    return Comparison(errors, mean_errors, scales, tolerance, statistic)
