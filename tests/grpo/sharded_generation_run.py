"""Greedy generation from an FSDP-sharded base next to an unsharded one: `torchrun --nproc_per_node 2` runs this file.

    torchrun --standalone --nproc_per_node 2 tests/grpo/sharded_generation_run.py CHECKPOINT_DIR OUTPUT_DIR

Rank 0 generates one prompt whose stop token comes at its third step; rank 1 two prompts without a stop token,
so rank 0 alone would stop at the first stop check while rank 1 goes on to MAX_NEW_TOKENS. Each rank writes
OUTPUT_DIR/rank<R>.json: whether its tokens, mask and log-probs equal the unsharded engine's, how many model calls
each engine made, and the most units held whole at once during a sharded call.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import torch  # noqa: E402
from torch.distributed.tensor import DTensor  # noqa: E402

from rewrite import load  # noqa: E402
from runtime.generate import GenerationEngine  # noqa: E402
from runtime.grpo.distributed import Distributed  # noqa: E402
from runtime.grpo.sharding import load_sharded_policy  # noqa: E402

MAX_NEW_TOKENS = 40
PROMPTS = {0: [[5, 17, 42, 99, 3]], 1: [[7, 8, 9, 10, 11, 12, 13], [300, 301, 302]]}


def count_calls(layer: torch.nn.Module) -> list[int]:
    """A one-element list counting `layer`'s forward calls."""
    calls = [0]

    def hook(module, args):
        calls[0] += 1

    layer.register_forward_pre_hook(hook)
    return calls


def main(checkpoint: str, output_dir: Path) -> None:
    distributed = Distributed.from_environment(use_cpu=True)
    reference = load(checkpoint)
    sharded, _, sharded_base = load_sharded_policy(checkpoint, distributed)
    engines = {
        "reference": GenerationEngine(reference),
        "sharded": GenerationEngine(sharded, compile=False, lockstep_group=sharded_base.process_group),
    }
    most_whole = [0]

    def record_whole_units() -> None:
        whole = [name for name, unit in sharded_base.units.items() if not isinstance(next(unit.parameters()), DTensor)]
        most_whole[0] = max(most_whole[0], len(whole))

    for unit in sharded_base.units.values():  # registered after FSDP's hooks: they run once this unit is gathered
        unit.register_forward_pre_hook(lambda module, args: record_whole_units())
    calls = {name: count_calls(engine.model.graph_module.get_submodule("model.layers.0"))
             for name, engine in engines.items()}
    prompts = PROMPTS[distributed.rank]
    width = max(len(prompt) for prompt in prompts)
    input_ids = torch.tensor([[0] * (width - len(prompt)) + prompt for prompt in prompts])
    attention_mask = torch.tensor([[0] * (width - len(prompt)) + [1] * len(prompt) for prompt in prompts])
    eos = None
    if distributed.rank == 0:  # its stop token: the token it generates third
        free_run = engines["reference"].generate(input_ids, attention_mask, max_new_tokens=3)
        eos = int(free_run.sequences[0, -1])
        calls["reference"][0] = 0
    outputs = {name: engine.generate(input_ids, attention_mask, max_new_tokens=MAX_NEW_TOKENS, eos_token_id=eos,
                                     pad_token_id=0)
               for name, engine in engines.items()}
    expected, actual = outputs["reference"], outputs["sharded"]
    result = {
        "same_sequences": torch.equal(actual.sequences, expected.sequences),
        "same_completion_mask": torch.equal(actual.completion_mask, expected.completion_mask),
        "logprobs_error": (actual.logprobs - expected.logprobs).abs().max().item(),
        "generated": actual.sequences.shape[1] - width,
        "calls": {name: count[0] for name, count in calls.items()},
        "most_units_whole": most_whole[0],
        "units": len(sharded_base.units),
    }
    (output_dir / f"rank{distributed.rank}.json").write_text(json.dumps(result))
    distributed.shutdown()


if __name__ == "__main__":
    main(sys.argv[1], Path(sys.argv[2]))
