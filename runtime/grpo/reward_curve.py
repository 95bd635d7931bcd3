"""The reward curve of a run as a PNG, drawn with matplotlib's Agg canvas (no display, no global backend)."""

from __future__ import annotations

from pathlib import Path

REWARD_PREFIX = "rewards/"


def plot_reward_curve(records: list[dict], path: Path) -> None:
    """Mean reward per step, with each reward function's mean when there are several, saved to `path`."""
    # matplotlib is the [train] extra: imported only when drawing
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(7, 4), dpi=100)
    FigureCanvasAgg(figure)
    axes = figure.subplots()
    steps = [record["step"] for record in records]
    axes.plot(steps, [record["reward"] for record in records], label="reward (weighted sum)", linewidth=2)
    function_keys = sorted({key for record in records for key in record if key.startswith(REWARD_PREFIX)})
    if len(function_keys) > 1:
        for key in function_keys:
            axes.plot(steps, [record.get(key) for record in records], label=key, linewidth=1)
    axes.set_xlabel("optimizer step")
    axes.set_ylabel("mean reward")
    axes.set_title("GRPO reward")
    axes.grid(alpha=0.3)
    axes.legend(loc="best")
    figure.tight_layout()
    figure.savefig(path)
