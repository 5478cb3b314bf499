r"""Seeded synthetic math word problems with gold answers and worked solutions.

Each problem comes with a worked solution in the reasoning format the recipes train on: the
steps inside a ``<think>`` span, then the answer in ``\boxed{}``. Five difficulty levels:

1. one addition or subtraction of small numbers
2. two additions or subtractions
3. three steps with a multiplication
4. a linear equation ``a*x + b = c``
5. the same equation told as a word problem

The same ``seed`` always gives the same problems, on any machine.

>>> problem = generate_problems(1, seed=0, levels=[4])[0]
>>> problem["problem"], problem["answer"]
('Solve for x: 8x + 9 = 25.', '2')
>>> problem["solution"]
'<think>8x = 25 - 9 = 16. x = 16 / 8 = 2.</think>\n\\boxed{2}'
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from typing import Any

__all__ = ["LEVELS", "generate_problems", "train_eval_split"]

LEVELS = (1, 2, 3, 4, 5)

_NAMES = ("Ann", "Ben", "Mia", "Tom", "Eva", "Sam", "Lily", "Omar", "Zoe", "Leo")
_ITEMS = ("apples", "pens", "cards", "coins", "books", "shells", "stickers", "marbles")
_GAIN = ("buys {n} more", "finds {n} more", "gets {n} more", "is given {n} more")
_LOSS = ("gives away {n}", "loses {n}", "sells {n}", "uses {n}")
_TIMES = ("ends up with {n} times as many", "multiplies them by {n}")

# Largest operand per level for the arithmetic levels (1-3).
_MAX_OPERAND = {1: 9, 2: 20, 3: 20}


def _word_step(rng: random.Random, value: int, op: str, limit: int) -> tuple[str, int, int]:
    """One story step applied to ``value``: (sentence verb phrase, operand, new value)."""
    if op == "+":
        n = rng.randint(1, limit)
        return rng.choice(_GAIN).format(n=n), n, value + n
    if op == "-":
        n = rng.randint(1, value)
        return rng.choice(_LOSS).format(n=n), n, value - n
    n = rng.randint(2, 5)
    return rng.choice(_TIMES).format(n=n), n, value * n


def _arithmetic(rng: random.Random, level: int, teacher_error: float) -> dict[str, Any]:
    limit = _MAX_OPERAND[level]
    ops = {1: 1, 2: 2, 3: 3}[level]
    name, item = rng.choice(_NAMES), rng.choice(_ITEMS)
    value = rng.randint(1, limit)
    story = [f"{name} has {value} {item}."]
    steps = []
    chosen = [rng.choice("+-") for _ in range(ops)]
    if level == 3:
        chosen[rng.randrange(ops)] = "*"
    careless = rng.random() < teacher_error
    worked = value  # the teacher's running value, wrong after a careless step
    for op in chosen:
        if op == "-" and value == 0:  # nothing left to lose
            op = "+"
        phrase, n, new = _word_step(rng, value, op, limit)
        story.append(f"Then {name} {phrase}." if len(story) > 1 else f"{name} {phrase}.")
        if careless and op == "-":
            # The careless teacher reads a loss as a gain.
            steps.append(f"{worked} + {n} = {worked + n}.")
            worked += n
        else:
            steps.append(f"{worked} {op} {n} = {_apply(op, worked, n)}.")
            worked = _apply(op, worked, n)
        value = new
    story.append(f"How many {item} does {name} have now?")
    return {
        "problem": " ".join(story),
        "answer": str(value),
        "solution": f"<think>{' '.join(steps)}</think>\n\\boxed{{{worked}}}",
        "solution_correct": worked == value,
        "subject": "arithmetic",
    }


def _apply(op: str, a: int, b: int) -> int:
    return a + b if op == "+" else a - b if op == "-" else a * b


def _algebra(rng: random.Random, level: int) -> dict[str, Any]:
    a, x, b = rng.randint(2, 9), rng.randint(1, 20), rng.randint(1, 30)
    c = a * x + b
    if level == 4:
        problem = f"Solve for x: {a}x + {b} = {c}."
    else:
        name = rng.choice(_NAMES)
        problem = (
            f"{name} thinks of a number x, multiplies it by {a} and adds {b}. "
            f"The result is {c}. What is the number?"
        )
    steps = f"{a}x = {c} - {b} = {c - b}. x = {c - b} / {a} = {x}."
    return {
        "problem": problem,
        "answer": str(x),
        "solution": f"<think>{steps}</think>\n\\boxed{{{x}}}",
        "solution_correct": True,
        "subject": "algebra",
    }


def generate_problems(
    n: int, *, seed: int = 0, levels: Iterable[int] = LEVELS, teacher_error: float = 0.0
) -> list[dict[str, Any]]:
    """``n`` problems drawn evenly at random from ``levels``, the same for the same ``seed``.

    Each row has ``problem``, ``answer`` (the gold answer as a string), ``solution`` (worked
    solution: ``<think>`` steps, then ``\\boxed{answer}``), ``level``, ``subject`` and
    ``unique_id``. Problems may repeat; :func:`train_eval_split` gives disjoint sets.
    """
    levels = tuple(levels)
    if n < 0:
        raise ValueError(f"n must be >= 0, got {n}")
    unknown = [lv for lv in levels if lv not in LEVELS]
    if not levels or unknown:
        raise ValueError(f"levels must be a non-empty subset of {LEVELS}, got {levels}")
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        level = rng.choice(levels)
        row = _arithmetic(rng, level, teacher_error) if level <= 3 else _algebra(rng, level)
        row.update(level=level, unique_id=f"synthetic/{seed}/{i}")
        rows.append(row)
    return rows


def train_eval_split(
    n_train: int,
    n_eval: int,
    *,
    seed: int = 0,
    levels: Iterable[int] = LEVELS,
    teacher_error: float = 0.0,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Disjoint training and held-out problem sets: no held-out problem text is in training.

    >>> train, held_out = train_eval_split(50, 10, seed=1, levels=[1])
    >>> len(train), len(held_out), {r["problem"] for r in train} & {r["problem"] for r in held_out}
    (50, 10, set())
    """
    levels = tuple(levels)
    held_out, seen = [], set()
    batch_seed = seed
    train: list[dict[str, Any]] = []
    # Draw in batches until both sets are full; deduplicate on the problem text.
    while len(held_out) < n_eval or len(train) < n_train:
        batch = generate_problems(
            max(64, n_train + n_eval), seed=batch_seed, levels=levels, teacher_error=teacher_error
        )
        batch_seed += 1_000_003
        fresh = 0
        for row in batch:
            if row["problem"] in seen:
                continue
            seen.add(row["problem"])
            fresh += 1
            if len(held_out) < n_eval:
                held_out.append(row)
            elif len(train) < n_train:
                train.append(row)
        if fresh == 0:
            raise ValueError(
                f"levels {levels} have too few distinct problems for {n_train} + {n_eval}"
            )
    return train, held_out
