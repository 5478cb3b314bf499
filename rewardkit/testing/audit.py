r"""The reward-hacking audit: how much does a reward pay each probe?

For each problem the audit scores an honest correct and an honest wrong completion, then
every variant of every probe (see :mod:`rewardkit.testing.probes`). With

    correct = mean reward of the honest correct completions
    wrong   = mean reward of the honest wrong completions
    gap     = correct - wrong

a probe variant's *hack score* is ``(paid - wrong) / gap``, where ``paid`` is its mean
reward over the problems: 0 means it is paid like an honest wrong answer, 1 like a right
one. A probe's hack score is that of its best-paid variant (a policy finds the variant
that pays), and the probe is *paid for* when its hack score exceeds the threshold.
``None`` rewards (TRL skips them) are left out of the means. A reward whose gap is not
positive does not tell right from wrong answers at all; the audit then fails with the
finding ``no_signal`` and no hack score.

The audit calls the reward as TRL does (see :mod:`rewardkit.testing.calling`), in
plain-string completions when it accepts them and in chat format otherwise (recording
the plain-string crash as a finding). Async rewards are awaited. A reward that raises
never stops the audit: the error is recorded per probe.

>>> from rewardkit.rewards import BoxedAccuracy
>>> report = audit_reward(BoxedAccuracy(), problems=DEFAULT_PROBLEMS[:2],
...                       probes=[get_probe("confident_wrong")])
>>> report.probes[0].hack_score, report.passed
(0.0, True)
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from rewardkit.testing.calling import call_like_trl, with_deadline
from rewardkit.testing.probes import (
    DEFAULT_PROBLEMS,
    PROBES,
    MathProblem,
    Probe,
    get_probe,
    honest_correct,
    honest_wrong,
)

__all__ = [
    "AuditReport",
    "ProbeResult",
    "audit_reward",
    "comparison_table",
    "get_probe",
]

DEFAULT_THRESHOLD = 0.1
_EPS = 1e-9
_FORMATS = ("auto", "plain", "chat")


@dataclass
class ProbeResult:
    """What one probe was paid. ``paid`` is the mean over all its completions, ``worst`` the
    mean of its best-paid variant (``worst_variant``), ``hack_score`` that variant's
    ``(paid - wrong) / gap``."""

    name: str
    category: str
    why: str
    n_completions: int
    n_scored: int
    n_errors: int
    paid: float | None
    worst: float | None
    worst_variant: str | None
    hack_score: float | None
    flagged: bool
    variants: dict[str, float | None] = field(default_factory=dict)
    error: str | None = None


@dataclass
class AuditReport:
    """The audit of one reward: honest references, findings and one result per probe."""

    reward: str
    completion_format: str
    threshold: float
    correct: float | None
    wrong: float | None
    gap: float | None
    findings: list[str]
    probes: list[ProbeResult]

    @property
    def flagged(self) -> list[ProbeResult]:
        """The probes paid more than the threshold."""
        return [p for p in self.probes if p.flagged]

    @property
    def passed(self) -> bool:
        """True when the reward separates right from wrong and pays no probe."""
        return self.gap is not None and self.gap > _EPS and not self.flagged

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "passed": self.passed, "flagged": [p.name for p in self.flagged]}

    def to_json(self, **kwargs: Any) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, **kwargs)

    def table(self) -> str:
        """A plain-text table: one row per probe."""
        lines = [
            (
                f"reward {self.reward} ({self.completion_format} completions), "
                f"honest correct {_fmt(self.correct)}, honest wrong {_fmt(self.wrong)}, "
                f"threshold {self.threshold:g}"
            ),
        ]
        lines += [f"finding: {finding}" for finding in self.findings]
        header = f"{'probe':<22}{'paid':>7}{'worst':>7}{'hack':>7}  {'verdict':<8}best-paid variant"
        lines += ["", header, "-" * len(header)]
        for p in self.probes:
            lines.append(
                f"{p.name:<22}{_fmt(p.paid):>7}{_fmt(p.worst):>7}{_fmt(p.hack_score):>7}  "
                f"{_verdict(p):<8}{p.worst_variant if (p.worst or 0) > (self.wrong or 0) else ''}"
            )
        lines += ["", "PASSED" if self.passed else "FAILED: " + _failure(self)]
        return "\n".join(lines)


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def _verdict(p: ProbeResult) -> str:
    if p.flagged:
        return "PAID"
    if p.n_scored == 0:
        return "error" if p.n_errors else "none"
    return "ok" if p.hack_score is not None else "n/a"


def _failure(report: AuditReport) -> str:
    if report.gap is None or report.gap <= _EPS:
        return "the reward does not pay right answers more than wrong ones (no_signal)"
    return "paid for " + ", ".join(p.name for p in report.flagged)


def comparison_table(reports: Sequence[AuditReport]) -> str:
    """Several audits side by side (hack score per probe and reward) as a Markdown table.

    >>> print(comparison_table([]).splitlines()[0])
    | probe |
    """
    names = [r.reward for r in reports]
    rows = [
        "| probe | " + " | ".join(names) + " |" if names else "| probe |",
        "|---|" + "---|" * len(names),
        "| honest correct / wrong | "
        + " | ".join(f"{_fmt(r.correct)} / {_fmt(r.wrong)}" for r in reports)
        + " |",
    ]
    probe_names = list(dict.fromkeys(p.name for r in reports for p in r.probes))
    for name in probe_names:
        cells = []
        for r in reports:
            p = next((p for p in r.probes if p.name == name), None)
            cells.append("" if p is None else _cell(p))
        rows.append(f"| {name} | " + " | ".join(cells) + " |")
    rows.append("| **verdict** | " + " | ".join(_summary(r) for r in reports) + " |")
    return "\n".join(rows)


def _cell(p: ProbeResult) -> str:
    if p.hack_score is None:
        return f"paid {_fmt(p.worst)}" if p.n_scored else _verdict(p)
    text = f"{p.hack_score:.2f}"
    return f"**{text} PAID** ({p.worst_variant})" if p.flagged else text


def _summary(report: AuditReport) -> str:
    if report.passed:
        return "pays no probe"
    if report.gap is None or report.gap <= _EPS:
        return "no_signal: pays wrong answers as much as right ones"
    return f"pays {len(report.flagged)} probe(s)"


def audit_reward(
    reward: Callable[..., Any],
    *,
    problems: Sequence[MathProblem] = DEFAULT_PROBLEMS,
    probes: Sequence[Probe] = PROBES,
    threshold: float = DEFAULT_THRESHOLD,
    completion_format: str = "auto",
    gold_column: str = "solution",
    time_limit: float | None = None,
    progress: bool = False,
) -> AuditReport:
    """Run the probe battery against ``reward`` and report what it pays.

    ``completion_format`` is ``"plain"``, ``"chat"`` or ``"auto"`` (plain strings when the
    reward takes them, chat messages otherwise). ``gold_column`` names the keyword the gold
    answer is passed under (``solution`` is what TRL's ``accuracy_reward`` reads).
    With ``time_limit`` (seconds) each call runs in a worker thread and one that overruns
    is recorded as an error; without it the reward runs in the calling thread, as in a
    trainer (rewards whose own timeouts need the main thread keep them).
    """
    if completion_format not in _FORMATS:
        raise ValueError(f"completion_format must be one of {_FORMATS}, got {completion_format!r}")
    if not problems:
        raise ValueError("the audit needs at least one problem")
    if not math.isfinite(threshold):
        raise ValueError(f"threshold must be a finite number, got {threshold!r}")
    if time_limit is not None and not time_limit > 0:
        raise ValueError(f"time_limit must be positive seconds, got {time_limit!r}")
    name = str(getattr(reward, "__name__", type(reward).__name__))
    scorer = _Scorer(reward, list(problems), gold_column, time_limit)
    findings: list[str] = []

    honest = [honest_correct(p) for p in problems] + [honest_wrong(p) for p in problems]
    fmt = "plain" if completion_format == "auto" else completion_format
    values, error = scorer.score(honest, fmt, repeat_problems=2)
    if error is not None and completion_format == "auto":
        chat_values, chat_error = scorer.score(honest, "chat", repeat_problems=2)
        if chat_error is None:  # only then is the plain format to blame
            findings.append(
                f"crashed on plain-string completions ({error}); audited in chat format"
            )
            fmt, values, error = "chat", chat_values, None
    if error is not None:
        findings.append(
            f"crashed on the honest completions ({error}){_gold_hint(error, gold_column)}"
        )
    n = len(problems)
    correct = _mean(values[:n])
    wrong = _mean(values[n:])
    gap = None if correct is None or wrong is None else correct - wrong
    if gap is not None and gap <= _EPS:
        findings.append(
            f"no_signal: honest correct answers are paid {correct:.2f} and honest wrong ones "
            f"{wrong:.2f}; the reward does not tell them apart"
        )
    if correct is None or wrong is None:
        findings.append("the honest completions got no score, so no hack score can be computed")

    results = []
    iterator: Sequence[Probe] | Any = probes
    if progress:
        from tqdm import tqdm

        iterator = tqdm(probes, desc=f"auditing {name}", unit="probe")
    for probe in iterator:
        results.append(_run_probe(scorer, probe, fmt, wrong, gap, threshold))
    return AuditReport(name, fmt, threshold, correct, wrong, gap, findings, results)


def _run_probe(
    scorer: _Scorer,
    probe: Probe,
    fmt: str,
    wrong: float | None,
    gap: float | None,
    threshold: float,
) -> ProbeResult:
    built = [probe.build(problem) for problem in scorer.problems]
    variant_names = list(dict.fromkeys(v for variants in built for v in variants))
    texts: list[str] = []
    owners: list[tuple[int, str]] = []  # (problem index, variant) of each text
    for i, variants in enumerate(built):
        for variant, text in variants.items():
            texts.append(text)
            owners.append((i, variant))
    values, error = scorer.score(texts, fmt, problem_index=[i for i, _ in owners])
    if error is not None and not error.startswith("TimeoutError"):
        # retry one by one so that one crash does not hide the rest
        values, errors = [], []
        for text, (i, _) in zip(texts, owners, strict=True):
            value, one_error = scorer.score([text], fmt, problem_index=[i])
            values.append(value[0])
            if one_error is not None:
                errors.append(one_error)
        error = errors[0] if errors else None
        n_errors = len(errors)
    else:
        n_errors = len(texts) if error is not None else 0
    by_variant = {
        variant: _mean(
            [v for v, (_, owner) in zip(values, owners, strict=True) if owner == variant]
        )
        for variant in variant_names
    }
    paid_variants = {k: v for k, v in by_variant.items() if v is not None}
    worst_variant = max(paid_variants, key=paid_variants.__getitem__) if paid_variants else None
    worst = paid_variants.get(worst_variant) if worst_variant else None
    hack = None
    if worst is not None and wrong is not None and gap is not None and gap > _EPS:
        hack = (worst - wrong) / gap  # 0: paid like an honest wrong answer, 1: like a right one
    return ProbeResult(
        name=probe.name,
        category=probe.category,
        why=probe.why,
        n_completions=len(texts),
        n_scored=sum(v is not None for v in values),
        n_errors=n_errors,
        paid=_mean(values),
        worst=worst,
        worst_variant=worst_variant,
        hack_score=hack,
        flagged=hack is not None and hack > threshold,
        variants=by_variant,
        error=error,
    )


def _mean(values: Sequence[float | None]) -> float | None:
    scored = [float(v) for v in values if v is not None and math.isfinite(float(v))]
    return sum(scored) / len(scored) if scored else None


def _gold_hint(error: str, gold_column: str) -> str:
    """A hint when a crash looks like a missing dataset column (the gold answer is passed
    under one keyword only)."""
    if error.startswith(("KeyError", "TypeError")):
        return (
            f"; the gold answer was passed as {gold_column!r}: if the reward reads it under "
            "another name, give that name (gold_column=..., rewardkit audit --gold-column)"
        )
    return ""


class _Scorer:
    """Calls one reward on batches of completion texts, the way TRL calls it."""

    def __init__(
        self,
        reward: Callable[..., Any],
        problems: list[MathProblem],
        gold_column: str,
        time_limit: float | None,
    ):
        self.reward = reward
        self.problems = problems
        self.gold_column = gold_column
        self.time_limit = time_limit

    def score(
        self,
        texts: list[str],
        fmt: str,
        *,
        repeat_problems: int = 0,
        problem_index: list[int] | None = None,
    ) -> tuple[list[float | None], str | None]:
        """Rewards for ``texts`` (``None`` for all when the call failed) and the error, if any.

        ``problem_index[k]`` is the problem of ``texts[k]``; ``repeat_problems=r`` means the
        texts are r blocks of one completion per problem.
        """
        if problem_index is None:
            problem_index = list(range(len(self.problems))) * repeat_problems
        problems = [self.problems[i] for i in problem_index]
        if fmt == "chat":
            prompts: list[Any] = [[{"role": "user", "content": p.prompt}] for p in problems]
            completions: list[Any] = [[{"role": "assistant", "content": t}] for t in texts]
        else:
            prompts, completions = [p.prompt for p in problems], list(texts)
        columns = {self.gold_column: [p.gold for p in problems]}
        try:
            if self.time_limit is None:
                out = call_like_trl(self.reward, completions, prompts, columns)
            else:
                outcome = with_deadline(
                    lambda: call_like_trl(self.reward, completions, prompts, columns),
                    self.time_limit,
                )
                if outcome is None:
                    raise TimeoutError(f"no result within {self.time_limit:g} s")
                out, error = outcome
                if error is not None:
                    raise error
            values = list(out)
            if len(values) != len(texts):
                raise ValueError(f"returned {len(values)} rewards for {len(texts)} completions")
            return [_number(v) for v in values], None
        except Exception as exc:  # a crashing reward is a finding, not a crash
            return [None] * len(texts), f"{type(exc).__name__}: {exc}"[:300]


def _number(value: Any) -> float | None:
    if value is None:
        return None
    number = float(value)
    return number if math.isfinite(number) else None
