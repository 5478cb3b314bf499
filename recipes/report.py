"""Plots and the markdown report of a training run, from the trainer's logged metrics."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

# The logged series worth a plot: (file stem, title, log_history keys).
CURVES = (
    ("reward", "Total reward per step", ("reward",)),
    ("completion_length", "Mean completion length (tokens)", ("completions/mean_length",)),
    ("kl", "KL to the reference model", ("kl",)),
)


def series(log_history: Sequence[dict[str, Any]], key: str) -> tuple[list[int], list[float]]:
    """(steps, values) of one logged metric; entries without it are skipped."""
    points = [(h["step"], float(h[key])) for h in log_history if key in h and "step" in h]
    return [s for s, _ in points], [v for _, v in points]


def reward_components(log_history: Sequence[dict[str, Any]]) -> list[str]:
    """The per-reward keys TRL logs (``rewards/<name>/mean``)."""
    keys = {k for h in log_history for k in h if k.startswith("rewards/") and k.endswith("/mean")}
    return sorted(keys)


def plot_training(log_history: Sequence[dict[str, Any]], out_dir: str | Path) -> list[Path]:
    """One PNG per curve in :data:`CURVES` plus one of the reward components; returns paths."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    plots = list(CURVES) + [
        ("reward_components", "Reward components per step", tuple(reward_components(log_history)))
    ]
    for stem, title, keys in plots:
        fig, ax = plt.subplots(figsize=(5, 3), dpi=80)
        for key in keys:
            steps, values = series(log_history, key)
            if steps:
                ax.plot(steps, values, label=key.removeprefix("rewards/").removesuffix("/mean"))
        ax.set_title(title)
        ax.set_xlabel("GRPO step")
        ax.grid(alpha=0.3)
        if len(keys) > 1 or stem == "reward_components":
            ax.legend(fontsize=8)
        fig.tight_layout()
        path = out / f"{stem}.png"
        fig.savefig(path)
        plt.close(fig)
        written.append(path)
    return written


def plot_accuracy(
    before: dict[str, Any],
    after: dict[str, Any],
    out_dir: str | Path,
    labels: tuple[str, str] = ("SFT", "GRPO"),
) -> Path:
    """Bar chart of greedy accuracy before and after, overall and per group."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    groups = ["overall"] + sorted(k for k in before if k != "overall")
    x = range(len(groups))
    fig, ax = plt.subplots(figsize=(max(4, 1.2 * len(groups)), 3), dpi=80)
    width = 0.38
    for offset, label, summary in ((-width / 2, labels[0], before), (width / 2, labels[1], after)):
        values = [summary.get(g, {}).get("accuracy", 0.0) for g in groups]
        bars = ax.bar([i + offset for i in x], values, width, label=label)
        ax.bar_label(bars, fmt="%.2f", fontsize=7)
    ax.set_xticks(list(x), groups, fontsize=8)
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("held-out accuracy (greedy)")
    ax.set_title("Accuracy before and after")
    ax.legend(fontsize=8)
    fig.tight_layout()
    path = Path(out_dir) / "accuracy.png"
    fig.savefig(path)
    plt.close(fig)
    return path


def write_markdown(
    out_dir: str | Path, report: dict[str, Any], tables: dict[str, str], images: Sequence[Path]
) -> Path:
    """``report.md``: the headline numbers, metric tables and the plots."""
    out = Path(out_dir)
    gain = 100 * (report["grpo_accuracy"] - report["sft_accuracy"])
    headline = (
        f"Held-out accuracy (greedy, {report['n_eval']} problems): "
        f"SFT **{report['sft_accuracy']:.3f}** -> GRPO **{report['grpo_accuracy']:.3f}** "
        f"({gain:+.1f} points). Wall time {report['wall_seconds']:.0f} s."
    )
    lines = ["# Tiny end-to-end run", "", headline, ""]
    for title, table in tables.items():
        lines += [f"## {title}", "", table, ""]
    lines += ["## Plots", ""]
    lines += [f"![{p.stem}]({p.name})" for p in images]
    lines += ["", "## Settings", "", "```json", json.dumps(report["settings"], indent=2), "```"]
    path = out / "report.md"
    path.write_text("\n".join(lines) + "\n")
    return path
