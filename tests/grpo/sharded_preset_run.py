"""One training step of the tiny preset with fsdp and no checkpoint: `torchrun --nproc_per_node 2` runs this file.

    torchrun --standalone --nproc_per_node 2 tests/grpo/sharded_preset_run.py CHECKPOINT_DIR OUTPUT_DIR

CHECKPOINT_DIR is a build of the tiny preset, whose rotary table the run's must equal. Each rank writes
OUTPUT_DIR/rank<R>.json: the rows it holds of each sharded tensor against the tensor's rows, whether its rows equal
those drawn by one process drawing the whole tensor, whether its rotary table equals the build's, and a checksum of
the tensors every process holds whole (lm_head, norm), which must agree between ranks.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import torch  # noqa: E402
from torch.distributed.tensor import DTensor  # noqa: E402

from rewrite import load  # noqa: E402
from rewrite.presets import preset_config  # noqa: E402
from rewrite.random_weights import fill_rows  # noqa: E402
from runtime.grpo.sharding import UnbuiltPreset  # noqa: E402
from runtime.grpo.trainer import GRPOTrainer  # noqa: E402
from tests.grpo.tiny_run import even_token_reward, tiny_config, toy_dataset  # noqa: E402

ROTARY = "model.rotary_emb.inv_freq"


def main(checkpoint: str, output_dir: Path) -> None:
    config = tiny_config(output_dir, max_steps=1, save_steps=1, fsdp=True, use_cpu=True)
    trainer = GRPOTrainer(UnbuiltPreset("tiny"), even_token_reward, train_dataset=toy_dataset(), args=config)
    records = trainer.train()
    std = preset_config("tiny").initializer_range
    rows, same_as_one_process = {}, True
    for unit_name, unit in trainer.sharded_base.units.items():
        for local_name, tensor in unit.named_parameters():
            if "lora_" in local_name:
                continue  # the adapters, whole on every process
            name = f"{unit_name}.{local_name}".replace(".base_layer", "")  # LoRA wraps the linear modules
            local = tensor.to_local() if isinstance(tensor, DTensor) else tensor
            rows[name] = [local.shape[0], tensor.shape[0]]
            if isinstance(tensor, DTensor) and local.shape[0]:
                whole = torch.empty(tensor.shape, dtype=tensor.dtype)
                fill_rows(whole, name, tensor.shape, 0, std)
                start = trainer.distributed.rank * -(-tensor.shape[0] // trainer.distributed.world_size)
                same_as_one_process &= torch.equal(local, whole[start : start + local.shape[0]])
    buffers = {name.removeprefix("base_model.model."): buffer for name, buffer in trainer.policy.named_buffers()}
    whole_tensors = [tensor for name, tensor in trainer.policy.named_parameters()
                     if not isinstance(tensor, DTensor) and "lora_" not in name]  # lm_head and the final norm
    result = {
        "steps": [record["step"] for record in records],
        "loss_is_finite": all(torch.isfinite(torch.tensor(record["loss"])).item() for record in records),
        "rows": rows,
        "same_as_one_process": same_as_one_process,
        "same_rotary_as_build": torch.equal(buffers[ROTARY], load(checkpoint).graph_module.get_buffer(ROTARY)),
        "whole_tensors": len(whole_tensors),
        "whole_checksum": sum(tensor.double().sum().item() for tensor in whole_tensors),
    }
    (output_dir / f"rank{trainer.distributed.rank}.json").write_text(json.dumps(result))
    trainer.distributed.shutdown()


if __name__ == "__main__":
    main(sys.argv[1], Path(sys.argv[2]))
