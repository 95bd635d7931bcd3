"""`ParamWrapper` for 4-bit experts: peft's LoRA on the expert matrices of `NF4Experts` and `MXFP4Experts`, the
4-bit twin of `lora.ParamWrapper`.

peft's `target_parameters` (e.g. `["mlp.experts.gate_up_proj", "mlp.experts.down_proj"]`) wraps a module once per
targeted parameter with `lora.ParamWrapper`, which adds `scaling * lhs @ rhs` to the parameter during the call.
The 4-bit experts keep those names for their packed codes, so peft matches them, and this subclass, registered
with `LoraConfig._register_custom_module` (`register_with`), is created instead. It
keeps ParamWrapper's adapter tensors, names and layout, so the adapter saves, loads, disables and trains as
peft's does, and hands the low-rank factors to the op (the module's `lora_factors`) instead of adding a full
delta to the weights, which are 4-bit. Merging into 4-bit weights is refused.

A 4-bit experts module offers what this wrapper reads: `num_experts`, `shapes` ({matrix: (in, out)}) and the dict
`lora_factors`, which its forward reads.
"""

from __future__ import annotations

from contextlib import contextmanager

import torch
from peft import LoraConfig
from peft.tuners.lora import layer as peft_lora

from rewrite.errors import QuantizationError
from runtime.ops.mxfp4_experts import MXFP4Experts
from runtime.ops.nf4_experts import NF4Experts


def register_with(config: LoraConfig) -> LoraConfig:
    """`config`, made to wrap the expert matrices of `NF4Experts` and `MXFP4Experts` with this `ParamWrapper`."""
    config._register_custom_module({NF4Experts: ParamWrapper, MXFP4Experts: ParamWrapper})
    return config


class ParamWrapper(peft_lora.ParamWrapper):
    """peft's `lora.ParamWrapper` over a matrix of 4-bit experts (`NF4Experts`, `MXFP4Experts`). It keeps the class
    name because peft recognises parameter wrappers, which it nests to target two parameters of one module, by that
    name."""

    def _get_in_out_features(self, module: torch.nn.Module) -> tuple[int, int]:
        experts = self.get_base_layer()
        self.num_experts = experts.num_experts
        self._param_ndim = 3
        in_features, out_features = experts.shapes[self.parameter_name]
        return in_features, out_features

    def _factors(self, adapter_name: str):
        """(lhs [E, in, r], rhs [E, r, out], scaling): peft's `get_delta_factors` for `is_transposed` ([E, in, out])
        experts, kept in the adapter's dtype (the base weights are uint8 codes, not a dtype to cast to)."""
        weight_a = self.lora_A[adapter_name].weight  # [E * r, in]
        weight_b = self.lora_B[adapter_name].weight  # [out, r * E]
        lhs = weight_a.reshape(self.num_experts, -1, weight_a.shape[-1]).transpose(-2, -1)
        rhs = weight_b.reshape(weight_b.shape[0], -1, self.num_experts).permute(2, 1, 0)
        return lhs, rhs, self.scaling[adapter_name]

    @contextmanager
    def _activate_lora(self, active_adapters: list[str]):
        adapters = [adapter for adapter in active_adapters if adapter in self.lora_A]
        if not adapters:
            yield
            return
        if len(adapters) > 1:
            raise QuantizationError(
                f"LoRA on 4-bit experts runs one adapter at a time, {', '.join(adapters)} are active: "
                "call set_adapter with one name"
            )
        experts = self.get_base_layer()
        experts.lora_factors[self.parameter_name] = self._factors(adapters[0])
        try:
            yield
        finally:
            experts.lora_factors.pop(self.parameter_name, None)

    def merge(self, safe_merge: bool = False, adapter_names: list[str] | None = None) -> None:
        raise QuantizationError(
            "cannot merge a LoRA adapter into 4-bit expert weights: merge it on a full-precision build "
            "(`rewrite build` without --quantize), or keep the adapter separate"
        )
