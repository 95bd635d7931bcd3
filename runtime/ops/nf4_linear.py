"""`NF4Linear`: bitsandbytes' 4-bit linear layer as a module an emitted graph can call and a checkpoint can rebuild.

It is `bitsandbytes.nn.Linear4bit` (so peft wraps it with its own 4-bit LoRA layer) with the two methods of
`rewrite.callable_modules`: its state is bitsandbytes' own (`weight` packed codes, `weight.absmax`, ...,
`weight.quant_state.bitsandbytes__nf4`, a JSON string stored as bytes), all tensors, so it saves to safetensors
and loads without quantizing again.
"""

from __future__ import annotations

import torch

from runtime.ops.four_bit import FourBitFormat, dequantize_with_torch, import_bitsandbytes

bnb = import_bitsandbytes()


class NF4Linear(bnb.nn.Linear4bit):
    """`y = x @ dequantize(W).T + b` in the format's compute dtype, with W stored in 4 bits."""

    def __init__(self, in_features: int, out_features: int, bias: bool, four_bit_format: FourBitFormat) -> None:
        super().__init__(
            in_features, out_features, bias=bias, compute_dtype=four_bit_format.dtype,
            compress_statistics=four_bit_format.double_quant, quant_type=four_bit_format.quant_type, device="meta",
        )
        self.four_bit_format = four_bit_format
        # In eval mode on CPUs with AVX512-BF16, bitsandbytes repacks the weight in place and computes in bf16,
        # whatever compute_dtype says: keep the format's numbers and stored layout on every machine.
        self.support_avx512bf16_for_cpu = False

    @classmethod
    def quantize(cls, linear: torch.nn.Linear, four_bit_format: FourBitFormat) -> NF4Linear:
        """A 4-bit copy of `linear` (its bias is shared, not copied)."""
        module = cls(linear.in_features, linear.out_features, linear.bias is not None, four_bit_format)
        weight = linear.weight.detach()
        module.weight = bnb.nn.Params4bit(
            weight, requires_grad=False, blocksize=four_bit_format.blocksize,
            compress_statistics=four_bit_format.double_quant, quant_type=four_bit_format.quant_type,
        ).to(weight.device)  # moving a Params4bit to a device is what quantizes it
        module.bias = linear.bias
        return module

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.device.type != "cpu":
            return super().forward(x)
        # bitsandbytes' CPU kernels contend with torch's threads (`four_bit.dequantize_with_torch`)
        weight = dequantize_with_torch(self.weight.data, self.weight.quant_state)
        bias = None if self.bias is None else self.bias.to(weight.dtype)
        return torch.nn.functional.linear(x.to(weight.dtype), weight, bias).to(x.dtype)

    def dequantized(self) -> torch.nn.Linear:
        """The full-precision `nn.Linear` this module computes (the bias is shared)."""
        linear = torch.nn.Linear(self.in_features, self.out_features, bias=self.bias is not None, device="meta")
        weight = bnb.functional.dequantize_4bit(self.weight.data, self.weight.quant_state)
        linear.weight = torch.nn.Parameter(weight, requires_grad=False)
        linear.bias = self.bias
        return linear

    def emitted_config(self) -> dict:
        return {"in_features": self.in_features, "out_features": self.out_features,
                "format": self.four_bit_format.to_json()}

    @classmethod
    def from_state(cls, config: dict, state: dict[str, torch.Tensor]) -> NF4Linear:
        module = cls(config["in_features"], config["out_features"], "bias" in state,
                     FourBitFormat.from_json(config["format"]))
        statistics = {
            name.removeprefix("weight."): tensor for name, tensor in state.items() if name.startswith("weight.")
        }
        weight = state["weight"]
        module.weight = bnb.nn.Params4bit.from_prequantized(
            weight, statistics, requires_grad=False, device=weight.device, module=module
        )
        if "bias" in state:
            module.bias = torch.nn.Parameter(state["bias"], requires_grad=state["bias"].is_floating_point())
        return module
