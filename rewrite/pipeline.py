"""Run named passes in order: lint after each, optionally verify each against the stage before it."""

from __future__ import annotations

import time
from collections.abc import Callable

import torch

from .errors import PassError, QuantizationError, VerificationError
from .graph_pass import PassReport
from .model import RewrittenGptOss
from .spec import graph_spec
from .verify import SampleBatch, candidate_outputs, compare, default_criterion


def available_passes() -> dict:
    import passes

    return passes.REGISTRY


def resolve_pass_names(requested: str | list[str] | None) -> list[str]:
    """The passes to run, in order: `None` or "default" gives every default pass in canonical order; "none" the
    structure passes alone; a comma list (or list) those passes in that order, then the structure passes it does
    not name. The structure passes (`passes.STRUCTURE_PASSES`) always run: they make the calls of the modules
    the manifest declares by role, which the runtime needs."""
    import passes

    if requested is None or requested == "default":
        return list(passes.CANONICAL_ORDER)
    names = [] if requested == "none" else requested.split(",") if isinstance(requested, str) else list(requested)
    names = [name.strip() for name in names if name.strip()]
    unknown = [name for name in names if name not in passes.REGISTRY]
    if unknown:
        known = ", ".join(passes.CANONICAL_ORDER) or "(none yet)"
        raise PassError(f"unknown pass {', '.join(unknown)}; known passes: {known}; or 'none'")
    if len(set(names)) != len(names):
        raise PassError(f"a pass is listed twice in {','.join(names)}")
    return names + [name for name in passes.STRUCTURE_PASSES if name not in names]


QUANTIZE_PASSES = {"nf4": "quantize_nf4", "mxfp4": "quantize_mxfp4"}  # --quantize value -> the pass that makes it


def quantize_pass_names(quantize: str | None) -> list[str]:
    """The passes that `--quantize` adds; `QuantizationError` for a quantization we do not make."""
    if quantize is None:
        return []
    if quantize not in QUANTIZE_PASSES:
        raise QuantizationError(
            f"unknown quantization {quantize!r}: --quantize takes {', '.join(QUANTIZE_PASSES)} (bitsandbytes 4-bit "
            "NormalFloat, or MXFP4 experts as OpenAI ships them), or leave it out to keep the model's dtype"
        )
    return [QUANTIZE_PASSES[quantize]]


def run_pipeline(
    graph_module: torch.fx.GraphModule,
    pass_names: list[str],
    verify_batch: SampleBatch | None = None,
    tolerance: float | None = None,
    progress: Callable[[str], None] = lambda message: None,
) -> list[PassReport]:
    """Apply `pass_names` to `graph_module` in place and return their reports.

    With `verify_batch`, each stage's outputs are compared with the stage before it; a pass that moves
    any output more than `tolerance` raises `VerificationError` naming the pass and the output. A pass with an
    `exact_reference` (quantization) is compared with itself run in that context (its weights dequantized), and
    its error against the stage before goes to `report.details["error_vs_previous_stage"]`.
    """
    registry = available_passes()
    spec = graph_spec(graph_module)
    statistic, default_tolerance = default_criterion(spec.torch_dtype)
    tolerance = tolerance if tolerance is not None else default_tolerance
    before = _outputs(graph_module, verify_batch)
    reports = []
    for name in pass_names:
        progress(f"pass {name}")
        start = time.perf_counter()
        report = registry[name].apply(graph_module)
        report.seconds = time.perf_counter() - start
        try:
            graph_module.graph.lint()
        except Exception as error:  # lint raises bare RuntimeErrors; name the pass that broke the graph
            raise PassError(f"pass {name} left an invalid graph: {error}") from error
        after = _outputs(graph_module, verify_batch)
        if verify_batch is not None:
            expected = before
            if registry[name].exact_reference is not None:
                report.details["error_vs_previous_stage"] = compare(after, before, tolerance, statistic).max_error
                with registry[name].exact_reference(graph_module):
                    expected = _outputs(graph_module, verify_batch)
            comparison = compare(after, expected, tolerance, statistic)
            report.max_error = comparison.max_error
            if not comparison.passed:
                worst = max(comparison.scaled_errors, key=comparison.scaled_errors.get)
                raise VerificationError(
                    f"pass {name} changed {worst} by {comparison.scaled_errors[worst]:.3e} "
                    f"(tolerance {tolerance:.1e}); the pass is wrong for this model"
                )
        before = after
        progress(report.summary())
        reports.append(report)
    return reports


def _outputs(graph_module, batch):
    if batch is None:
        return None
    return candidate_outputs(RewrittenGptOss(graph_module, graph_spec(graph_module)), batch)
