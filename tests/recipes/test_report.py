"""report.py: every plot says something the tables do not."""

from __future__ import annotations

import pytest
from report import distinct_groups, plot_accuracy, plot_training, reward_components


@pytest.fixture
def figures(monkeypatch):
    """The figures the report draws, kept when it closes them."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    kept = []
    close = plt.close

    def keep(fig=None):
        kept.append(fig)
        close(fig)

    monkeypatch.setattr(plt, "close", keep)
    return kept


def _history(steps, **series):
    return [{"step": s} | {k: v[i] for k, v in series.items()} for i, s in enumerate(steps)]


def test_one_reward_gets_no_components_plot_repeating_the_total(tmp_path):
    history = _history([5, 10], reward=[0.1, 0.2], **{"rewards/boxed_accuracy/mean": [0.1, 0.2]})
    written = {p.name for p in plot_training(history, tmp_path)}
    assert "reward_components.png" not in written
    assert not (tmp_path / "reward_components.png").exists()


def test_a_composite_rewards_components_are_drawn(tmp_path, figures):
    history = _history(
        [5, 10],
        reward=[0.5, 0.7],
        **{
            "rewards/math/mean": [0.5, 0.7],
            "math/format/mean": [0.8, 0.9],
            "math/accuracy/mean": [0.4, 0.6],
            "math/format/think_format/mean": [0.9, 1.0],  # nested: not a top-level component
            "math/reason/ok": [0.4, 0.6],
            "math/reason/accuracy:wrong_answer": [0.6, 0.4],
            "math/reason/format:think_format:no_think": [0.0, 0.0],
        },
    )
    written = {p.name for p in plot_training(history, tmp_path)}
    assert {"reward_components.png", "reasons_math.png"} <= written
    assert reward_components(history) == ["math/accuracy/mean", "math/format/mean"]
    (reasons,) = [f for f in figures if "why completions" in f.axes[0].get_title()]
    labels = [t.get_text() for t in reasons.axes[0].get_legend().get_texts()]
    assert labels == ["accuracy:wrong_answer", "ok"]  # a reason never seen is left out


def test_accuracy_plot_draws_one_group_when_level_and_subject_are_the_whole_set(tmp_path, figures):
    before = {"overall": {"n": 4, "accuracy": 0.25}, "level=1": {"n": 4, "accuracy": 0.25}}
    before["subject=arithmetic"] = {"n": 4, "accuracy": 0.25}
    after = {k: {"n": 4, "accuracy": 0.75} for k in before}
    records = ([{"accuracy": a} for a in (1.0, 0.0, 0.0, 0.0)],)
    records += ([{"accuracy": a} for a in (0.0, 1.0, 1.0, 1.0)],)
    plot_accuracy(before, after, tmp_path, records=records)
    (figure,) = figures
    ticks = [t.get_text() for t in figure.axes[0].get_xticklabels()]
    assert ticks == ["overall\n(n=4)"]
    moved = {t.get_text() for t in figure.axes[1].get_yticklabels()}
    assert moved == {"right -> right", "wrong -> right", "right -> wrong", "wrong -> wrong"}
    assert distinct_groups({**before, "level=2": {"n": 1}}) == ["overall", "level=2"]
