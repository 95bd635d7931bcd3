"""Per-layer error in bf16 on the GPU: the rewritten model and transformers' eager, both against float32.

Builds a preset (default gpt-oss-20b, random bf16 weights) on CUDA, captures and rewrites it, and runs
a left-padded batch with prompts longer than the sliding window, prefill then decode steps, through
  ours:  the rewritten graph in bf16 (KV cache, flex-sink attention),
  hf:    transformers' eager forward in bf16,
  ref:   transformers' eager forward in float32, layer by layer (tools/layerwise_reference.py),
all on the same weights. Prints JSON: per layer, max abs error of ours and of hf against ref.

    python tools/check_bf16_layers.py --preset gpt-oss-20b
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from rewrite import RewrittenGptOss, build_preset, capture  # noqa: E402
from rewrite.pipeline import resolve_pass_names, run_pipeline  # noqa: E402
from rewrite.spec import graph_spec  # noqa: E402
from rewrite.verify import _collect, candidate_outputs, reference_outputs, sample_batch  # noqa: E402
from tools.layerwise_reference import layerwise_float32_forward  # noqa: E402


def float32_reference(model, batch) -> dict[str, torch.Tensor]:
    outputs = {}
    logits, hidden = layerwise_float32_forward(model, batch.input_ids, batch.attention_mask)
    _collect(outputs, "prefill", logits, hidden)
    for step in range(batch.decode_tokens.shape[1]):
        ids = torch.cat([batch.input_ids, batch.decode_tokens[:, : step + 1]], dim=1)
        mask = torch.cat([batch.attention_mask, torch.ones_like(batch.decode_tokens[:, : step + 1])], dim=1)
        logits, hidden = layerwise_float32_forward(model, ids, mask)
        _collect(outputs, f"decode_{step}", logits[:, -1:], [h[:, -1:] for h in hidden])
    return outputs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="gpt-oss-20b")
    parser.add_argument("--passes", default="default")
    parser.add_argument("--decode-steps", type=int, default=2)
    args = parser.parse_args()
    model = build_preset(args.preset, dtype=torch.bfloat16, device="cuda")
    graph_module = capture(model)
    run_pipeline(graph_module, resolve_pass_names(args.passes))
    spec = graph_spec(graph_module)
    batch = sample_batch(spec, device="cuda", decode_steps=args.decode_steps)
    ours = candidate_outputs(RewrittenGptOss(graph_module, spec), batch)
    hf = reference_outputs(model, batch)
    reference = float32_reference(model, batch)
    real = batch.attention_mask.bool()

    def differences(outputs, output):
        """|outputs - reference| over real positions of every phase, flattened."""
        pieces = []
        for name in reference:
            if name.split("/", 1)[1] != output:
                continue
            difference = (outputs[name] - reference[name]).abs()
            if name.startswith("prefill/"):
                difference = difference[real]  # padded positions carry no information
            pieces.append(difference.flatten())
        return torch.cat(pieces)

    rows = []
    for output in ["logits"] + [f"hidden_state_{i}" for i in range(spec.num_layers + 1)]:
        scale = max(reference[name].abs().max().item() for name in reference if name.endswith("/" + output))
        row = {"output": output, "fp32_max_abs": scale}
        for label, outputs in (("ours", ours), ("hf_eager", hf)):
            difference = differences(outputs, output)
            row[f"{label}_max_abs_err"] = difference.max().item()
            row[f"{label}_mean_abs_err"] = difference.mean().item()
        rows.append(row)
    print(json.dumps({"device": torch.cuda.get_device_name(), "preset": args.preset,
                      "prompt_lengths": batch.attention_mask.sum(1).tolist(),
                      "decode_steps": args.decode_steps, "layers": rows}, indent=1))


if __name__ == "__main__":
    main()
