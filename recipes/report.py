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
    """The series that split the total reward: TRL's per-reward means (``rewards/<name>/mean``)
    when there are several rewards, else the components one composite reward logs
    (``<name>/<component>/mean``, e.g. ``math/format/mean``); empty when there is nothing to
    split (a plot of one series would repeat the total-reward plot).

    >>> logged = {"rewards/math/mean": 1, "math/format/mean": 1, "math/accuracy/mean": 0}
    >>> reward_components([logged])
    ['math/accuracy/mean', 'math/format/mean']
    >>> reward_components([{"rewards/boxed_accuracy/mean": 1}])
    []
    """
    keys = {k for h in log_history for k in h}
    rewards = sorted(k for k in keys if k.startswith("rewards/") and k.endswith("/mean"))
    if len(rewards) > 1:
        return rewards
    if not rewards:
        return []
    name = rewards[0].removeprefix("rewards/").removesuffix("/mean")
    parts = sorted(k for k in keys if k.startswith(f"{name}/") and k.count("/") == 2)
    parts = [k for k in parts if k.endswith("/mean")]
    return parts if len(parts) > 1 else []


def reason_shares(log_history: Sequence[dict[str, Any]]) -> dict[str, list[str]]:
    """``{reward: its reason-share keys}`` for the top-level reasons each reward logged
    (``<reward>/reason/<reason>``), keeping the reasons that were ever above 0."""
    keys = sorted({k for h in log_history for k in h if k.count("/") == 2 and "/reason/" in k})
    out: dict[str, list[str]] = {}
    for key in keys:
        if any(h.get(key, 0) for h in log_history):
            out.setdefault(key.split("/", 1)[0], []).append(key)
    return out


def _smoothed(values: Sequence[float], window: int) -> list[float]:
    out, total = [], 0.0
    for i, value in enumerate(values):
        total += value
        if i >= window:
            total -= values[i - window]
        out.append(total / min(i + 1, window))
    return out


def plot_training(log_history: Sequence[dict[str, Any]], out_dir: str | Path) -> list[Path]:
    """PNGs of the training curves (:data:`CURVES`, each with its moving average), of the
    reward's components when there are several, and of each reward's reason shares over
    the run (what the failures were, and how they changed); returns the paths written."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    plots = list(CURVES)
    components = reward_components(log_history)
    if components:
        plots.append(("reward_components", "Reward components per step", tuple(components)))
    for stem, title, keys in plots:
        fig, ax = plt.subplots(figsize=(5, 3), dpi=80)
        drawn = 0
        for key in keys:
            steps, values = series(log_history, key)
            if not steps:
                continue
            drawn += 1
            label = key.removeprefix("rewards/").removesuffix("/mean")
            window = max(1, len(values) // 10)
            if len(keys) == 1 and window > 1:  # a noisy curve: raw values faint, trend bold
                ax.plot(steps, values, alpha=0.35, label="per logging step")
                ax.plot(steps, _smoothed(values, window), label=f"moving average ({window})")
            elif len(keys) == 1:
                ax.plot(steps, values, label="per logging step")
            else:
                ax.plot(steps, values, label=label)
        if not drawn:
            plt.close(fig)
            continue
        ax.set_title(title)
        ax.set_xlabel("GRPO step")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
        fig.tight_layout()
        path = out / f"{stem}.png"
        fig.savefig(path)
        plt.close(fig)
        written.append(path)
    for reward, keys in reason_shares(log_history).items():
        steps, _ = series(log_history, keys[0])
        stacks = [[float(h.get(k, 0.0)) for h in log_history if keys[0] in h] for k in keys]
        fig, ax = plt.subplots(figsize=(6, 3), dpi=80)
        labels = [k.rsplit("/reason/", 1)[1] for k in keys]
        ax.stackplot(steps, stacks, labels=labels, alpha=0.85)
        ax.set_ylim(0, 1)
        ax.set_title(f"{reward}: why completions earned what they did")
        ax.set_xlabel("GRPO step")
        ax.set_ylabel("share of completions")
        ax.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.0, 0.5))
        fig.tight_layout()
        path = out / f"reasons_{reward}.png"
        fig.savefig(path)
        plt.close(fig)
        written.append(path)
    return written


def distinct_groups(summary: dict[str, Any]) -> list[str]:
    """``overall`` and the groups that are not the whole set again (a run with one level
    and one subject has only ``overall``).

    >>> distinct_groups({"overall": {"n": 4}, "level=1": {"n": 4}, "level=2": {"n": 1}})
    ['overall', 'level=2']
    """
    n = summary["overall"]["n"]
    return ["overall"] + sorted(k for k in summary if k != "overall" and summary[k]["n"] != n)


def transitions(before: Sequence[dict], after: Sequence[dict]) -> dict[str, int]:
    """How each problem's greedy verdict changed: kept right, fixed, broken, still wrong.

    >>> transitions([{"accuracy": 1.0}, {"accuracy": 0.0}], [{"accuracy": 1.0}, {"accuracy": 1.0}])
    {'right -> right': 1, 'wrong -> right': 1, 'right -> wrong': 0, 'wrong -> wrong': 0}
    """
    counts = dict.fromkeys(
        ("right -> right", "wrong -> right", "right -> wrong", "wrong -> wrong"), 0
    )
    for b, a in zip(before, after, strict=True):
        key = f"{'right' if b['accuracy'] else 'wrong'} -> {'right' if a['accuracy'] else 'wrong'}"
        counts[key] += 1
    return counts


def plot_accuracy(
    before: dict[str, Any],
    after: dict[str, Any],
    out_dir: str | Path,
    labels: tuple[str, str] = ("SFT", "GRPO"),
    records: tuple[Sequence[dict], Sequence[dict]] | None = None,
) -> Path:
    """Greedy accuracy before and after for each distinct group, and with the per-problem
    ``records`` of both evaluations, what changed problem by problem (fixed, broken): the
    tables give the two accuracies, not how many problems moved each way."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    groups = distinct_groups(before)
    panels = 2 if records else 1
    fig, axes = plt.subplots(
        1, panels, figsize=(max(3.5, 1.2 * len(groups)) + 3.5 * (panels - 1), 3), dpi=80
    )
    axes = list(axes) if panels > 1 else [axes]
    ax = axes[0]
    x = range(len(groups))
    width = 0.38
    for offset, label, summary in ((-width / 2, labels[0], before), (width / 2, labels[1], after)):
        values = [summary.get(g, {}).get("accuracy", 0.0) for g in groups]
        bars = ax.bar([i + offset for i in x], values, width, label=label)
        ax.bar_label(bars, fmt="%.2f", fontsize=7)
    ax.set_xticks(list(x), [f"{g}\n(n={before[g]['n']})" for g in groups], fontsize=8)
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("held-out accuracy (greedy)")
    ax.set_title("Accuracy before and after")
    ax.legend(fontsize=8)
    if records:
        moved = transitions(*records)
        ax = axes[1]
        colors = ["#4c9f70", "#2e7dd1", "#d1495b", "#999999"]
        bars = ax.barh(list(moved)[::-1], list(moved.values())[::-1], color=colors[::-1])
        ax.bar_label(bars, fontsize=8)
        ax.set_xlabel("problems")
        ax.set_title(f"Per problem, {labels[0]} -> {labels[1]}")
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
