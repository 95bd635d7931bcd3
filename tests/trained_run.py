"""A short GRPO run for the tests of what follows training (export, generation with an adapter)."""

from __future__ import annotations

from pathlib import Path

from peft import set_peft_model_state_dict

from rewrite import RewrittenGptOss, build, load
from rewrite.tensor_files import read_tensor_file
from runtime.grpo import GRPOConfig
from runtime.grpo.model_setup import attach_lora
from runtime.grpo.trainer import GRPOTrainer
from tests.grpo.tiny_run import even_token_reward, tiny_config, toy_dataset

EXPERT_TENSORS = ["mlp.experts.gate_up_proj", "mlp.experts.down_proj"]


def train_two_steps(root: Path, quantize: str | None = None) -> tuple[Path, Path, GRPOConfig]:
    """A tiny build in `root`, checkpoint-2 of a run trained on it with LoRA on the attention projections and the
    experts (a learning rate at which two steps move the adapter), and the run's config."""
    base = build(root / "base-build", preset="tiny", quantize=quantize)
    config = tiny_config(root / "run", max_steps=2, learning_rate=0.05, lora_target_parameters=EXPERT_TENSORS)
    GRPOTrainer(str(base), even_token_reward, args=config, train_dataset=toy_dataset()).train()
    return base, root / "run" / "checkpoint-2", config


def rewritten_with_adapter(base: Path, checkpoint: Path, config: GRPOConfig) -> RewrittenGptOss:
    """The rewritten model with the checkpoint's adapter, attached as the trainer attaches it when it resumes."""
    model = load(base)
    policy = attach_lora(model, config)
    set_peft_model_state_dict(policy, read_tensor_file(checkpoint / "adapter_model.safetensors"))
    return model
