r"""The verifier's entry points: :func:`equivalent`, :func:`verify` and :func:`verify_batch`.

Plain numbers, fractions and structures of them are compared in-process in microseconds;
answers that need symbolic work go to a sandboxed worker process with a hard deadline.

>>> verify(r"<think>...</think> so the answer is \boxed{\frac{1}{2}}", "0.5").correct
True
>>> verify(r"\boxed{3} or maybe \boxed{4}", "3").reason
'multiple_answers'
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from rewardkit.text import completion_text, final_answer, gold_answer, scan_boxes
from rewardkit.verify.answers import Outcome, compare_answers
from rewardkit.verify.cache import LRUCache
from rewardkit.verify.compare import NeedsSymbolic
from rewardkit.verify.options import VerifyOptions
from rewardkit.verify.sandbox import default_pool

if TYPE_CHECKING:
    from rewardkit.verify.model_verifier import ModelVerifier

__all__ = ["Verdict", "check", "equivalent", "verify", "verify_batch"]


@dataclass(frozen=True)
class Verdict:
    """The outcome of verifying one completion against one gold answer.

    ``reason`` is ``ok`` when correct, ``wrong_answer`` when an answer was found and
    differs, or why no fair comparison was possible: ``no_answer``, ``unbalanced_braces``,
    ``unclosed_think``, ``empty_completion``, ``multiple_answers``, ``parse_error``,
    ``too_long``, ``too_deep``, ``too_large``, ``timeout``, ``no_sandbox`` (no worker
    process could be started for a symbolic comparison), ``no_gold``. ``source`` names the
    convention the answer was read with (``boxed``, ``gsm8k``, ``a_colon``, ...). With a
    model verifier, a ``wrong_answer`` becomes one of its reasons (``ok_by_model``, ...).
    """

    correct: bool
    answer: str | None
    gold: str | None
    reason: str
    source: str | None = None


_CACHE = LRUCache(16384, maxbytes=16 << 20)
_MAX_CACHED_CHARS = 512  # longer answer pairs are rare: not worth their memory
_MAX_IN_PROCESS_CHARS = 400  # sympy builds sums in quadratic time: longer pairs go to a worker
_ENTRY_BYTES = 400  # the key tuple, the options and the cache's own bookkeeping


def _symbolic_compare(pred: str, gold: str, options: VerifyOptions) -> Outcome:
    """Runs in a worker process."""
    return compare_answers(pred, gold, options, symbolic=True)


def check(pred: str, gold: str, options: VerifyOptions | None = None) -> Outcome:
    """Compare two answer strings; the outcome says why (cached, never raises).

    >>> check("1,000", "1000")
    Outcome(correct=True, reason='ok')
    """
    options = options or VerifyOptions()
    return _check(pred, gold, options, time.monotonic() + options.timeout)


def _check(pred: str, gold: str, options: VerifyOptions, deadline: float) -> Outcome:
    """:func:`check` sharing a deadline with the other comparisons of the same call.

    Only verdicts about the answers are cached: a timeout, a worker that could not be
    started or one killed from outside says nothing about them, and the next call
    tries again.
    """
    key = (pred.strip(), gold.strip(), options)
    cached = _CACHE.get(key)
    if cached is not None:
        return cached
    about_answers = True
    try:
        if len(key[0]) + len(key[1]) > _MAX_IN_PROCESS_CHARS:
            raise NeedsSymbolic  # building long expressions costs: under a deadline
        outcome = compare_answers(pred, gold, options)
    except NeedsSymbolic:
        outcome, about_answers = _in_worker(pred, gold, options, deadline)
    except RecursionError:
        outcome = Outcome(False, "too_deep")
    except Exception:  # noqa: BLE001  (a sympy failure on odd input: retry it in a worker)
        outcome, about_answers = _in_worker(pred, gold, options, deadline)
    if about_answers and len(key[0]) + len(key[1]) <= _MAX_CACHED_CHARS:
        _CACHE.put(key, outcome, sys.getsizeof(key[0]) + sys.getsizeof(key[1]) + _ENTRY_BYTES)
    return outcome


def _in_worker(
    pred: str, gold: str, options: VerifyOptions, deadline: float
) -> tuple[Outcome, bool]:
    """The symbolic outcome and whether it is about the answers (worth caching).

    A worker that cannot be started, or dies during the call, is tried once more.
    """
    for attempt in range(2):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return Outcome(False, "timeout"), False
        try:
            result = default_pool().call(
                _symbolic_compare, (pred, gold, options), timeout=remaining
            )
        except (OSError, RuntimeError):  # no worker process could be started here
            if attempt == 0:
                continue
            return Outcome(False, "no_sandbox"), False
        if result.status == "ok":
            return result.value, True
        if result.status == "timeout":
            return Outcome(False, "timeout"), False
        if result.status == "error":  # sympy raised on these answers
            return Outcome(False, "parse_error"), True
    return Outcome(False, "parse_error"), False  # the worker died twice


def equivalent(pred: str, gold: str, **options: Any) -> bool:
    r"""Whether two answer strings are the same answer.

    Options are the fields of :class:`VerifyOptions` (``rel_tol``, ``abs_tol``,
    ``percent``, ``units``, ``timeout``).

    >>> equivalent(r"$\frac{\sqrt{3}}{3}$", r"\frac{1}{\sqrt 3}")
    True
    >>> equivalent("1/2004!", "1/2006!")
    False
    """
    return check(pred, gold, VerifyOptions.from_kwargs(**options)).correct


def verify(
    completion: Any,
    gold: Any,
    *,
    question: str | None = None,
    model_verifier: ModelVerifier | None = None,
    **options: Any,
) -> Verdict:
    r"""Extract the final answer of ``completion`` and compare it with ``gold``.

    The answer is read after the think span (``think_tags``) as ``extract`` says:
    ``"conventions"`` (default: the last box, else ``#### N``, ``The answer is ...``,
    ``Answer: ...``, ``A: N``, a bold answer), ``"boxed"`` (a box only; also spelt
    ``boxed_only=True``) or ``"lenient"`` (also the last math span or number of the
    final statement; the ``question`` keeps it off values the question states).
    Several different boxed answers are a hedge, not an answer (``multiple_answers``),
    unless ``multiple_boxes="last"`` (the default of lenient mode). ``gold`` may be a bare
    answer or a worked solution; a gold that cannot be read gives ``no_gold``.
    With a :class:`~rewardkit.verify.ModelVerifier`, a ``wrong_answer`` goes on to the
    model with the ``question`` (nothing else does).

    >>> verify("16 - 3 = 13\nA: 13", "13")
    Verdict(correct=True, answer='13', gold='13', reason='ok', source='a_colon')
    >>> verify("Thus the answer must be $x = 13$.", "13", extract="lenient").correct
    True
    """
    opts = options.pop("options", None)
    verdict = _verify(completion, gold, VerifyOptions.from_kwargs(opts, **options), question)
    if model_verifier is not None:
        verdict = model_verifier.review([verdict], [question])[0]
    return verdict


def _verify(completion: Any, gold: Any, options: VerifyOptions, question: Any = None) -> Verdict:
    deadline = time.monotonic() + options.timeout  # for all the comparisons of this call
    gold_text = _gold_text(gold, options, deadline)
    text = completion_text(completion)
    asked = completion_text(question) if options.extract == "lenient" and question else None
    extraction = final_answer(
        text, extract=options.extract, think_tags=options.think_tags, prompt=asked
    )
    if extraction.answer is None:
        return Verdict(False, None, gold_text, extraction.reason)
    answer = extraction.answer
    if gold_text is None:
        return Verdict(False, answer, None, "no_gold", extraction.source)
    if extraction.source == "boxed" and options.box_policy == "last" and not extraction.committed:
        # the last box wins only as a correction, not as one option of a list of boxes
        boxed = _distinct_boxes(extraction.boxes, options, deadline)
        if boxed is None:
            return Verdict(False, answer, gold_text, "timeout", extraction.source)
        if len(boxed) > 1:
            return Verdict(False, answer, gold_text, "multiple_answers", extraction.source)
    if extraction.source == "boxed" and options.box_policy == "hedge":
        boxed = _distinct_boxes(extraction.boxes, options, deadline)
        if boxed is None:
            return Verdict(False, answer, gold_text, "timeout", extraction.source)
        if len(boxed) > 1:
            # several different answers: right only when the gold asks for all of them
            together = ", ".join(boxed)
            outcome = _check(together, gold_text, options, deadline)
            if outcome.correct:
                return Verdict(True, together, gold_text, "ok", extraction.source)
            return Verdict(False, answer, gold_text, "multiple_answers", extraction.source)
    outcome = _check(answer, gold_text, options, deadline)
    return Verdict(outcome.correct, answer, gold_text, outcome.reason, extraction.source)


def _gold_text(gold: Any, options: VerifyOptions, deadline: float) -> str | None:
    """The gold answer; a gold boxed several times gives its different boxes together (the
    same answer boxed twice in two forms, ``15\\frac{39}{40}`` and ``\\frac{639}{40}``,
    is one answer)."""
    text = gold_answer(gold)
    if text is None or not isinstance(gold, str) or text.count(",") == 0:
        return text
    contents = tuple(dict.fromkeys(b.content.strip() for b in scan_boxes(gold).boxes))
    if len(contents) < 2:
        return text
    distinct = _distinct_boxes(contents, options, deadline)
    return ", ".join(distinct) if distinct else text


_MAX_BOXES = 20  # more different boxed answers than this is a hedge whatever they are


def _distinct_boxes(
    boxes: tuple[str, ...], options: VerifyOptions, deadline: float
) -> list[str] | None:
    """The different answers boxed in the answer region, in order (the same answer boxed
    twice, even written differently, counts once); ``None`` when telling them apart ran
    out of time."""
    if len(boxes) < 2:
        return list(boxes)
    contents = list(dict.fromkeys(boxes))
    if len(contents) > _MAX_BOXES:
        return contents
    distinct: list[str] = []
    for content in contents:
        outcomes = [_check(content, seen, options, deadline) for seen in distinct]
        if any(o.reason == "timeout" for o in outcomes):
            return None
        if not any(o.correct for o in outcomes):
            distinct.append(content)
    return distinct


def verify_batch(
    pairs: Iterable[tuple[Any, Any]],
    *,
    processes: int | None = None,
    progress: bool = False,
    questions: Sequence[str | None] | None = None,
    model_verifier: ModelVerifier | None = None,
    **options: Any,
) -> list[Verdict]:
    r""":func:`verify` over many ``(completion, gold)`` pairs.

    Identical pairs are verified once; comparisons are cached across calls. With
    ``processes=N`` the pairs that need symbolic work run on N worker processes at once.
    With a ``model_verifier``, the ``wrong_answer`` pairs go to the model together, each
    with its entry of ``questions``; ``extract="lenient"`` reads the questions too.

    >>> [v.correct for v in verify_batch([(r"\boxed{2}", "2"), (r"\boxed{3}", "2")])]
    [True, False]
    """
    opts = VerifyOptions.from_kwargs(options.pop("options", None), **options)
    pairs = list(pairs)
    if processes is not None and processes < 1:
        raise ValueError(f"processes must be a positive number, got {processes}")
    asked = list(questions) if questions is not None else [None] * len(pairs)
    if len(asked) != len(pairs):
        raise ValueError(f"{len(asked)} questions for {len(pairs)} pairs")
    lenient = opts.extract == "lenient"
    keys = [
        (_key(c), _key(g), _key(q) if lenient else None)
        for (c, g), q in zip(pairs, asked, strict=True)
    ]
    unique: dict[tuple[Any, Any, Any], int] = {}
    for i, key in enumerate(keys):
        unique.setdefault(key, i)
    order: Sequence[int] = list(unique.values())
    if progress:
        from tqdm.auto import tqdm

        order = tqdm(order, desc="verifying", unit="pair")
    results: dict[int, Verdict] = {}
    if processes and processes > 1:
        default_pool(size=processes)
        with ThreadPoolExecutor(max_workers=processes) as executor:
            futures = {i: executor.submit(_verify, *pairs[i], opts, asked[i]) for i in order}
            for i, future in futures.items():
                results[i] = future.result()
    else:
        for i in order:
            results[i] = _verify(*pairs[i], opts, asked[i])
    verdicts = [results[unique[key]] for key in keys]
    if model_verifier is not None:
        verdicts = model_verifier.review(verdicts, questions)
    return verdicts


def _key(value: Any) -> Any:
    if isinstance(value, (str, int, float)) or value is None:
        return value
    return repr(value)
