"""Statistics of a filtering run: pass@k, per-prompt pass rates, kept and dropped counts.

Everything accumulates one prompt at a time in constant memory, so the statistics of a
run of any size cost nothing extra; the pass-rate histogram is drawn from counts.

>>> round(pass_at_k(n=4, c=1, k=2), 4)  # 1 - C(3,2)/C(4,2)
0.5
>>> stats = FilterStats(ks=(1, 2))
>>> stats.add_prompt(n_judged=4, n_correct=2)
>>> stats.pass_at(1), round(stats.pass_at(2), 4)
(0.5, 0.8333)
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

__all__ = ["FilterStats", "pass_at_k"]


def pass_at_k(n: int, c: int, k: int) -> float:
    """Unbiased pass@k from ``n`` samples of which ``c`` are correct.

    pass@k = 1 - C(n - c, k) / C(n, k)  (Chen et al. 2021, "Evaluating Large Language
    Models Trained on Code", eq. 1), computed as 1 - prod_{i=n-c+1}^{n} (1 - k / i) so
    that no huge binomial is formed.

    >>> pass_at_k(10, 0, 5), pass_at_k(10, 6, 5)
    (0.0, 1.0)
    """
    if not 0 <= c <= n or k < 1:
        raise ValueError(f"pass@k needs 0 <= c <= n and k >= 1 (n={n}, c={c}, k={k})")
    if k > n:
        raise ValueError(f"pass@{k} needs at least {k} samples, got {n}")
    if n - c < k:  # every draw of k contains a correct sample
        return 1.0
    product = 1.0
    for i in range(n - c + 1, n + 1):
        product *= 1.0 - k / i
    return 1.0 - product


class FilterStats:
    """Running statistics: pass@k over prompts, pass-rate counts, kept and dropped rows.

    Args:
        ks: the k of pass@k to report; a prompt counts toward pass@k when it has at least
            k judged samples.
    """

    def __init__(self, ks: Sequence[int] = (1,)) -> None:
        if not ks or any(k < 1 for k in ks):
            raise ValueError(f"ks must be positive integers, got {ks}")
        self.ks = tuple(sorted(set(ks)))
        self.prompts = 0
        self.rows = 0
        self.kept_rows = 0
        self.kept_prompts = 0
        self.records = 0
        self.dropped: Counter[str] = Counter()
        # (correct, judged) of judged prompts, unreduced: 2 of 4 is not 1 of 2.
        self.rates: Counter[tuple[int, int]] = Counter()
        self.reasons: dict[str, Counter[str]] = {}  # each reward's reasons over all rows
        self.reward_sum = 0.0
        self.rewarded = 0  # rows with a (total) reward
        self._pass_sum = dict.fromkeys(self.ks, 0.0)
        self._pass_count = dict.fromkeys(self.ks, 0)

    def add_prompt(self, n_judged: int, n_correct: int) -> None:
        """Count one prompt with its number of judged and correct samples."""
        self.prompts += 1
        if n_judged == 0:
            return
        self.rates[(n_correct, n_judged)] += 1
        for k in self.ks:
            if n_judged >= k:
                self._pass_sum[k] += pass_at_k(n_judged, n_correct, k)
                self._pass_count[k] += 1

    def add_rows(self, n: int, kept: int, drop_reasons: Iterable[str], records: int) -> None:
        """Count one prompt's rows: how many came, were kept, why others went, and how
        many output records they made."""
        self.rows += n
        self.kept_rows += kept
        self.kept_prompts += kept > 0
        self.dropped.update(drop_reasons)
        self.records += records

    def add_scores(self, rows: Iterable[Mapping[str, Any]]) -> None:
        """Count scored rows' rewards and each reward's reasons (what the filters' drop
        reasons such as ``incorrect`` or ``unscored`` come from)."""
        for row in rows:
            if row.get("reward") is not None:
                self.reward_sum += row["reward"]
                self.rewarded += 1
            for name, reason in (row.get("reasons") or {}).items():
                self.reasons.setdefault(name, Counter())[str(reason)] += 1

    def add_group(self, group: Any, kept: Sequence, drops: Sequence, records: Sequence) -> None:
        """Count one prompt: its :class:`~rewardkit.filters.PromptGroup` of scored rows,
        the rows kept, the :class:`~rewardkit.filters.Dropped` ones and its records."""
        self.add_prompt(group.n_judged, group.n_correct)
        self.add_rows(len(group.rows), len(kept), (d.reason for d in drops), len(records))
        self.add_scores(group.rows)

    @property
    def mean_reward(self) -> float | None:
        """Mean total reward over the rows that have one."""
        return self.reward_sum / self.rewarded if self.rewarded else None

    def pass_at(self, k: int) -> float | None:
        """Mean pass@k over prompts with at least ``k`` judged samples."""
        count = self._pass_count.get(k, 0)
        return self._pass_sum[k] / count if count else None

    def summary(self) -> dict:
        """The numbers as a JSON-friendly dict."""
        return {
            "prompts": self.prompts,
            "rows": self.rows,
            "kept_rows": self.kept_rows,
            "kept_prompts": self.kept_prompts,
            "records": self.records,
            "dropped": dict(self.dropped.most_common()),
            "pass_at_k": {str(k): self.pass_at(k) for k in self.ks},
            "mean_reward": self.mean_reward,
            "reward_reasons": {
                name: dict(counts.most_common()) for name, counts in self.reasons.items()
            },
            "pass_rate_counts": [
                {"correct": c, "judged": n, "pass_rate": c / n, "prompts": count}
                for (c, n), count in sorted(
                    self.rates.items(), key=lambda i: (i[0][0] / i[0][1], i[0][1])
                )
            ],
        }

    def table(self) -> str:
        """A plain-text summary table."""
        lines = [
            f"{'prompts':<28}{self.prompts:>10}",
            f"{'completions':<28}{self.rows:>10}",
            f"{'kept completions':<28}{self.kept_rows:>10}  ({_share(self.kept_rows, self.rows)})",
            f"{'prompts with a kept one':<28}{self.kept_prompts:>10}",
            f"{'output records':<28}{self.records:>10}",
        ]
        for k in self.ks:
            value = self.pass_at(k)
            lines.append(f"{f'pass@{k}':<28}{'n/a' if value is None else f'{value:.4f}':>10}")
        mean = self.mean_reward
        lines.append(f"{'mean reward':<28}{'n/a' if mean is None else f'{mean:.4f}':>10}")
        if self.dropped:
            lines += ["", f"{'dropped because (filters)':<28}{'rows':>10}{'share':>9}"]
            for reason, count in self.dropped.most_common():
                lines.append(f"{reason:<28}{count:>10}{_share(count, self.rows):>9}")
        for name, counts in self.reasons.items():
            title = f"{name} reasons (reward)"
            width = max(28, len(title) + 1, *(len(r) + 2 for r in counts))
            lines += ["", f"{title:<{width}}{'rows':>10}{'share':>9}"]
            for reason, count in counts.most_common():
                lines.append(f"{reason:<{width}}{count:>10}{_share(count, self.rows):>9}")
        return "\n".join(lines)

    def save_histogram(self, path: str | Path, bins: int = 10) -> Path:
        """Draw the per-prompt pass-rate histogram to a PNG file: one bar per possible rate
        when prompts have few samples (rates are multiples of 1/d), else ``bins`` equal
        bins over [0, 1]; the y-axis counts prompts in whole numbers."""
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        from matplotlib.ticker import MaxNLocator

        values = [c / n for c, n in self.rates]
        weights = list(self.rates.values())
        d = math.lcm(*(n for _, n in self.rates)) if self.rates else 1
        figure, axes = plt.subplots(figsize=(6, 3.5))
        if d <= 20:  # a bar per multiple of 1/d, on a categorical axis labelled with rates
            counts: Counter[int] = Counter()
            for (c, n), count in self.rates.items():
                counts[c * (d // n)] += count
            axes.bar(range(d + 1), [counts[i] for i in range(d + 1)], edgecolor="black")
            same_n = len({n for _, n in self.rates}) <= 1
            step = max(1, math.ceil(d / (10 if same_n else 6)))
            axes.set_xticks(range(0, d + 1, step))
            axes.set_xticklabels(
                [f"{i}/{d}" if same_n else f"{i / d:.2f}" for i in range(0, d + 1, step)]
            )
            axes.set_xlabel(
                f"pass rate per prompt (correct of {d} samples)"
                if same_n
                else "pass rate per prompt"
            )
        else:
            axes.hist(values, bins=bins, range=(0.0, 1.0), weights=weights, edgecolor="black")
            axes.set_xlim(0.0, 1.0)
            axes.set_xlabel("pass rate per prompt")
        axes.yaxis.set_major_locator(MaxNLocator(integer=True))
        axes.set_ylabel("prompts")
        judged, unjudged = sum(weights), self.prompts - sum(weights)
        title = f"pass rates of {judged} prompts"
        if unjudged:
            title += f" ({unjudged} without a judged sample not shown)"
        axes.set_title(title)
        figure.tight_layout()
        path = Path(path)
        figure.savefig(path, dpi=100)
        plt.close(figure)
        return path


def _share(part: int, whole: int) -> str:
    return f"{part / whole:.1%}" if whole else "n/a"
