"""The helpers the experts-layer benchmarks share (`tools/kernel_bench.py`): options, sweeps, differences, timing."""

import pytest
import torch

from tools import kernel_bench

needs_cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")


def test_the_layer_shape_options_default_to_gpt_oss_20b():
    args = kernel_bench.layer_shape_parser("A benchmark.").parse_args([])
    assert (args.batch_sizes, args.experts, args.top_k, args.hidden) == ([1, 8, 64], 32, 4, 2880)


def test_a_sweep_reports_a_setting_that_raises_by_its_exception_and_goes_on():
    def measure(setting: dict) -> dict:
        if setting["BLOCK_K"] > 64:
            raise RuntimeError("out of resources: shared memory")
        return {"us": 1.5}

    rows = kernel_bench.sweep_rows([{"BLOCK_K": 128}, {"BLOCK_K": 64}], measure)
    assert rows == [{"BLOCK_K": 128, "error": "RuntimeError"}, {"BLOCK_K": 64, "us": 1.5}]


def test_the_scaled_difference_is_the_largest_difference_over_the_largest_reference_value():
    ours, reference = torch.tensor([1.0, -3.5]), torch.tensor([2.0, -4.0])
    assert kernel_bench.max_scaled_difference(ours, reference) == pytest.approx(0.25)


@needs_cuda
def test_decode_inputs_route_each_token_to_distinct_experts_with_weights_summing_to_one():
    x, indices, routing_weights = kernel_bench.decode_inputs(batch=8, hidden=64, experts=16, top_k=4)
    assert x.shape == (8, 64) and x.dtype == torch.bfloat16
    assert all(len(set(row.tolist())) == 4 for row in indices) and int(indices.max()) < 16
    assert torch.allclose(routing_weights.float().sum(-1), torch.ones(8, device="cuda"), atol=1e-2)


@needs_cuda
@pytest.mark.parametrize("timing", [kernel_bench.mean_replay_microseconds, kernel_bench.median_replay_microseconds])
def test_a_graph_replay_is_timed_in_positive_microseconds_and_runs_the_function(timing):
    source, target = torch.ones(1024, device="cuda"), torch.zeros(1024, device="cuda")
    assert timing(lambda: target.copy_(source * 2), 5) > 0
    assert torch.equal(target, source * 2)
