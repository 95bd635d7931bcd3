"""The 4-bit expert kernels (MXFP4, nf4) compiled for Hopper (sm_90) on any machine, no GPU needed: whether they
compile, and the instructions of each kernel's hot loop per weight it multiplies. Prints JSON.

Triton compiles for a target it is given, and its wheel carries ptxas and cuobjdump, so the SASS a launch on an H100
or H200 would run is built here from the same arguments, with the divisibility the launcher's tensors give (pointers
and row strides multiples of 16, unit column strides). Compile errors of the GPU backend (Triton's layout passes,
ptxas) show up as they would on the card. The hot loop is the longest backward branch; its instructions times the
lanes of the program's warps over the weights one trip of it decodes is the figure the decode kernels' speed follows
(they are bound by issuing the decode, docs/benchmarks.md).

    python tools/kernel_sass.py                                   # every kernel, at gpt-oss-20b's shapes
    python tools/kernel_sass.py --kernel mxfp4_gate_up --config '{"BLOCK_N": 32, "num_stages": 4}'
"""

from __future__ import annotations

import argparse
import collections
import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import triton
from triton.backends.compiler import GPUTarget

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from runtime.ops import mxfp4_grouped_gemm, mxfp4_kernels, nf4_kernels  # noqa: E402
from runtime.ops.four_bit import NESTED_BLOCKSIZE, FourBitFormat  # noqa: E402

HOPPER = GPUTarget("cuda", 90, 32)
CUOBJDUMP = Path(triton.__file__).parent / "backends" / "nvidia" / "bin" / "cuobjdump"
HIDDEN = 2880  # gpt-oss-20b and 120b: hidden and intermediate size
EXPERTS = 32
WIDE_STEP_BLOCKS = 32  # slot blocks of a decode step of 8 tokens, top-4 of 32 experts
ONE_TOKEN_BLOCKS = 4


def decode_kernel(name: str, slot_blocks: int, hidden: int) -> dict:
    """The compile arguments of an MXFP4 decode kernel ("gate_up" or "down") as `mxfp4_kernels` launches it."""
    gate_up = name == "gate_up"
    pointers = {"out_ptr": "*bf16" if gate_up else "*fp32", "blocks_ptr": "*u8", "scales_ptr": "*u8",
                "slot_pair_ptr": "*i64", "block_expert_ptr": "*i64"}
    constants = {"top_k": 4, "hidden_size": hidden, "intermediate_size": hidden, "BLOCK_M": mxfp4_kernels.BLOCK_M,
                 "PTX": True, "stride_hidden_column": 1, "stride_activated_column": 1}
    config = mxfp4_kernels.launch_config(hidden, 2 if gate_up else 1, slot_blocks)
    return {"function": mxfp4_kernels._gate_up_kernel if gate_up else mxfp4_kernels._down_kernel,
            "pointers": pointers, "constants": constants, "config": config, "floats": ("alpha", "limit"),
            "weights_per_trip": lambda tiles: (2 if gate_up else 1) * tiles["BLOCK_N"] * tiles["GROUPS"] * 32}


def grouped_kernel(contract_packed: bool, hidden: int) -> dict:
    """The compile arguments of the grouped GEMM (forward, or the input gradient) at its launch config."""
    config = dict(mxfp4_grouped_gemm.LAUNCH_CONFIG)
    constants = {"inner_size": hidden, "CONTRACT_PACKED": contract_packed, "EXPERTS": EXPERTS, "PTX": True,
                 "stride_a_column": 1, "HAS_BIAS": contract_packed}  # the forward adds the expert bias, as it runs
    return {"function": mxfp4_grouped_gemm._grouped_kernel, "pointers": {"blocks_ptr": "*u8", "scales_ptr": "*u8",
            "offsets_ptr": "*i32"}, "constants": constants, "config": config,
            "floats": (), "weights_per_trip": lambda tiles: tiles["BLOCK_N"] * tiles["BLOCK_K"]}


def nf4_kernel(name: str, hidden: int) -> dict:
    """The compile arguments of an nf4 decode kernel ("gate_up" or "down") as `nf4_kernels` launches it, for
    double-quantized absmaxes in bitsandbytes' default blocks."""
    gate_up = name == "gate_up"
    blocksize = FourBitFormat().blocksize
    tile = nf4_kernels.tile_bytes(2 * hidden if gate_up else hidden, blocksize)
    pointers = {"codes_ptr": "*u8", "absmax_ptr": "*u8", "nested_absmax_ptr": "*fp32", "offset_ptr": "*fp32",
                "quant_map_ptr": "*fp32", "nested_quant_map_ptr": "*fp32", "out_ptr": "*bf16" if gate_up else "*fp32",
                "slot_pair_ptr": "*i64", "block_expert_ptr": "*i64"}
    constants = {"top_k": 4, "hidden_size": hidden, "intermediate_size": hidden, "BLOCK_M": nf4_kernels.BLOCK_M,
                 "TILE": tile, "HALF_BLOCK": blocksize // 2, "NESTED": True, "NESTED_BLOCK": NESTED_BLOCKSIZE}
    return {"function": nf4_kernels._gate_up_kernel if gate_up else nf4_kernels._down_kernel, "pointers": pointers,
            "constants": constants, "config": nf4_kernels.launch_config(), "floats": ("alpha", "limit"),
            "weights_per_trip": lambda tiles: tiles["BLOCK_K"] * 2 * tile}


KERNELS = {
    "mxfp4_gate_up": lambda hidden: decode_kernel("gate_up", WIDE_STEP_BLOCKS, hidden),
    "mxfp4_down": lambda hidden: decode_kernel("down", WIDE_STEP_BLOCKS, hidden),
    "mxfp4_gate_up_one_token": lambda hidden: decode_kernel("gate_up", ONE_TOKEN_BLOCKS, hidden),
    "mxfp4_down_one_token": lambda hidden: decode_kernel("down", ONE_TOKEN_BLOCKS, hidden),
    "mxfp4_grouped": lambda hidden: grouped_kernel(True, hidden),
    "mxfp4_grouped_input_grad": lambda hidden: grouped_kernel(False, hidden),
    "nf4_gate_up": lambda hidden: nf4_kernel("gate_up", hidden),
    "nf4_down": lambda hidden: nf4_kernel("down", hidden),
}


def compile_for_hopper(spec: dict, config: dict) -> triton.compiler.CompiledKernel:
    """`spec`'s kernel compiled for sm_90 with `config` (its tiles, num_warps and num_stages). Pointers not in the
    spec are bf16, other runtime arguments int32 (float32 where the spec says); pointers, strides and the grouped
    GEMM's sizes are 16-aligned, as the launcher's contiguous tensors at gpt-oss's shapes make them."""
    function = spec["function"]
    launch = dict(config)
    options = {"num_warps": launch.pop("num_warps"), "num_stages": launch.pop("num_stages")}
    constants = {**spec["constants"], **launch}
    signature, aligned = {}, []
    for index, parameter in enumerate(function.params):
        name = parameter.name
        if parameter.is_constexpr or name in constants:
            signature[name] = "constexpr"
            if name not in constants:
                raise KeyError(f"{function.__name__}'s constexpr {name} has no value here: add it to its spec")
        elif name.endswith("_ptr"):
            signature[name] = spec["pointers"].get(name, "*bf16")
            aligned.append(index)
        else:
            signature[name] = "fp32" if name in spec["floats"] else "i32"
            if name.startswith("stride") or name in ("weight_rows", "packed_size", "out_size"):
                aligned.append(index)
    constants = {name: value for name, value in constants.items() if name in signature}
    attributes = {(index,): [["tt.divisibility", 16]] for index in aligned}
    source = triton.compiler.ASTSource(function, signature, constants, attributes)
    return triton.compile(source, target=HOPPER, options=options)


def hot_loop(sass: str) -> list[str]:
    """The instructions of the longest loop (backward branch) in cuobjdump's SASS listing."""
    listing = [(int(match.group(1), 16), match.group(2)) for match in
               re.finditer(r"/\*([0-9a-f]{4,})\*/\s+([^;]+);", sass)]
    loops = [(int(target.group(1), 16), address) for address, instruction in listing
             if (target := re.search(r"BRA\s.*?0x([0-9a-f]+)", instruction)) and int(target.group(1), 16) < address]
    if not loops:
        return []
    start, end = max(loops, key=lambda loop: loop[1] - loop[0])
    return [instruction.strip() for address, instruction in listing if start <= address <= end]


def sass_of(kernel: triton.compiler.CompiledKernel) -> str:
    with tempfile.NamedTemporaryFile(suffix=".cubin") as cubin:
        cubin.write(kernel.asm["cubin"])
        cubin.flush()
        return subprocess.run([str(CUOBJDUMP), "-sass", cubin.name], capture_output=True, text=True,
                              check=True).stdout


def measure(name: str, hidden: int, config_override: dict) -> dict:
    """{kernel, config, loop_instructions, lane_instructions_per_weight, shared_bytes, top_ops} or {kernel, error}."""
    spec = KERNELS[name](hidden)
    config = {**spec["config"], **config_override}
    try:
        kernel = compile_for_hopper(spec, config)
    except Exception as error:  # the backend's failure is the finding: report it, go on with the next kernel
        return {"kernel": name, "config": config, "error": f"{type(error).__name__}: {str(error)[-300:]}"}
    loop = hot_loop(sass_of(kernel))
    ops = collections.Counter(re.sub(r"^@!?U?P\w+\s+", "", instruction).split()[0].split(".")[0]
                              for instruction in loop)
    weights = spec["weights_per_trip"](config)
    return {"kernel": name, "config": config, "loop_instructions": len(loop),
            "lane_instructions_per_weight": round(len(loop) * config["num_warps"] * 32 / weights, 2)
            if loop else None,
            "shared_bytes": kernel.metadata.shared,
            "top_ops": dict(ops.most_common(12))}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kernel", choices=sorted(KERNELS), action="append", help="default: every kernel")
    parser.add_argument("--config", type=json.loads, default={}, help="JSON overriding the launch config")
    parser.add_argument("--hidden", type=int, default=HIDDEN)
    args = parser.parse_args()
    if not CUOBJDUMP.is_file():
        parser.error(f"this Triton has no NVIDIA backend tools ({CUOBJDUMP}): install the triton wheel from PyPI")
    names = args.kernel or list(KERNELS)
    if args.hidden <= 0 or args.hidden % 32:
        parser.error(f"--hidden {args.hidden}: MXFP4 sizes are positive multiples of its groups of 32; 2880 is "
                     "gpt-oss-20b's and 120b's")
    nf4_fits = nf4_kernels.tile_bytes(args.hidden, FourBitFormat().blocksize) is not None
    if any(name.startswith("nf4") for name in names) and not nf4_fits:
        parser.error(f"--hidden {args.hidden}: the nf4 kernels take rows of whole 16-byte tiles of 64-value blocks"
                     " (a multiple of 64); pass --kernel for the MXFP4 ones only")
    if not isinstance(args.config, dict):
        parser.error('--config takes a JSON object, e.g. \'{"BLOCK_N": 32, "num_stages": 4}\'')
    for name in names:
        unknown = set(args.config) - set(KERNELS[name](args.hidden)["config"])
        if unknown:
            parser.error(f"{name}'s launch config has no {', '.join(sorted(unknown))}; it has "
                         f"{', '.join(KERNELS[name](args.hidden)['config'])}")
    rows = [measure(name, args.hidden, args.config) for name in names]
    print(json.dumps({"triton": triton.__version__, "target": "sm_90", "kernels": rows}, indent=1))
    return 1 if any("error" in row for row in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
