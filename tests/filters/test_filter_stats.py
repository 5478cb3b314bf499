"""pass@k by the unbiased estimator, pass-rate counts, drop reasons, the histogram."""

from __future__ import annotations

import json
from itertools import combinations
from math import comb

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rewardkit.filters import FilterStats, pass_at_k


@given(
    st.integers(1, 12).flatmap(
        lambda n: st.tuples(st.just(n), st.integers(0, n), st.integers(1, n))
    )
)
def test_pass_at_k_is_the_share_of_k_subsets_with_a_correct_sample(nck):
    n, c, k = nck
    samples = [True] * c + [False] * (n - c)
    subsets = list(combinations(range(n), k))
    expected = sum(any(samples[i] for i in s) for s in subsets) / len(subsets)
    assert pass_at_k(n, c, k) == pytest.approx(expected, abs=1e-12)
    assert pass_at_k(n, c, k) == pytest.approx(1 - comb(n - c, k) / comb(n, k), abs=1e-12)


def test_pass_at_k_large_n_is_stable_and_bad_arguments_raise():
    assert 0.0 < pass_at_k(10_000, 3, 100) < 1.0
    assert pass_at_k(200, 1, 1) == pytest.approx(1 / 200)
    for n, c, k in [(4, 5, 1), (4, -1, 1), (4, 1, 0), (4, 1, 5)]:
        with pytest.raises(ValueError):
            pass_at_k(n, c, k)


def test_running_stats_and_table(tmp_path):
    stats = FilterStats(ks=(1, 4))
    for judged, correct in [(4, 0), (4, 2), (4, 4), (2, 1), (0, 0)]:
        stats.add_prompt(judged, correct)
    stats.add_rows(4, 2, ["never_solved"] * 2, records=1)
    stats.add_rows(4, 0, ["always_solved"] * 4, records=0)
    assert stats.prompts == 5
    # pass@1 is the mean pass rate over judged prompts; pass@4 only counts prompts with 4.
    assert stats.pass_at(1) == pytest.approx((0 + 0.5 + 1 + 0.5) / 4)
    assert stats.pass_at(4) == pytest.approx((0 + 1 + 1) / 3)
    summary = json.loads(json.dumps(stats.summary()))
    assert summary["dropped"] == {"always_solved": 4, "never_solved": 2}
    # Counts as they came (2 of 4 is not 1 of 2) with the rate as a float: no "1/2" strings.
    assert summary["pass_rate_counts"] == [
        {"correct": 0, "judged": 4, "pass_rate": 0.0, "prompts": 1},
        {"correct": 1, "judged": 2, "pass_rate": 0.5, "prompts": 1},
        {"correct": 2, "judged": 4, "pass_rate": 0.5, "prompts": 1},
        {"correct": 4, "judged": 4, "pass_rate": 1.0, "prompts": 1},
    ]
    table = stats.table()
    assert "always_solved" in table and "pass@4" in table and "25.0%" not in table.split("\n")[0]
    png = stats.save_histogram(tmp_path / "h.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_histogram_with_many_sample_counts_and_with_nothing(tmp_path):
    stats = FilterStats()
    for judged in range(1, 60):
        stats.add_prompt(judged, judged // 3)
    assert stats.save_histogram(tmp_path / "many.png").stat().st_size > 1000
    assert FilterStats().save_histogram(tmp_path / "empty.png").exists()
    assert FilterStats().pass_at(1) is None
    with pytest.raises(ValueError):
        FilterStats(ks=(0,))


def _drawn(monkeypatch, stats, tmp_path):
    """The figure save_histogram draws (captured as it is saved)."""
    from matplotlib.figure import Figure

    figures = []
    original = Figure.savefig
    monkeypatch.setattr(
        Figure, "savefig", lambda self, *a, **k: (figures.append(self), original(self, *a, **k))[1]
    )
    stats.save_histogram(tmp_path / "h.png")
    (figure,) = figures
    return figure.axes[0]


def test_histogram_axes_stay_in_range_and_count_whole_prompts(monkeypatch, tmp_path):
    few = FilterStats()
    for correct in [0, 0, 1, 4, 4, 2]:
        few.add_prompt(4, correct)
    axes = _drawn(monkeypatch, few, tmp_path)
    assert [t.get_text() for t in axes.get_xticklabels()] == ["0/4", "1/4", "2/4", "3/4", "4/4"]
    assert all(float(y).is_integer() for y in axes.get_yticks())
    many = FilterStats()
    for i in range(200):
        many.add_prompt(64, i % 65)
    axes = _drawn(monkeypatch, many, tmp_path)
    assert axes.get_xlim() == (0.0, 1.0)
    assert all(float(y).is_integer() for y in axes.get_yticks())
