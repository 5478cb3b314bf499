"""Rubrics: weighted criteria a judge checks a response against.

A rubric is a list of criteria, each with a text, a category (``essential``,
``important``, ``optional`` or ``pitfall``), a weight (negative for pitfalls: a pitfall
is a mistake that costs points when the response makes it) and an optional reference
answer. Rubrics come from YAML, JSON or TOML files, from plain dicts and lists (a dataset
column) or from Python, and are checked when built: a bad rubric raises
:class:`RubricError` saying where and what.

>>> rubric = Rubric.from_dict({"criteria": [
...     {"text": "Gives the final answer 42", "category": "essential"},
...     {"text": "Divides by zero", "category": "pitfall"}]})
>>> [(c.category, c.weight) for c in rubric.criteria]
[('essential', 5.0), ('pitfall', -2.0)]
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CATEGORIES = ("essential", "important", "optional", "pitfall")

# Default weights per category, after "Rubrics as Rewards" (Gunjal et al., 2025), which
# weights essential criteria highest and gives pitfalls a negative weight.
DEFAULT_WEIGHTS = {"essential": 5.0, "important": 3.0, "optional": 1.0, "pitfall": -2.0}

_CRITERION_KEYS = ("text", "category", "weight", "reference")
_RUBRIC_KEYS = ("name", "criteria", "scale", "description")


class RubricError(ValueError):
    """A rubric that cannot be used, with where (file, criterion) and why."""


@dataclass(frozen=True)
class Criterion:
    """One thing a judge checks.

    ``weight`` defaults to the category's weight (:data:`DEFAULT_WEIGHTS`); pitfalls must
    weigh less than zero and the other categories more than zero.

    >>> Criterion("Shows every step", category="important").weight
    3.0
    """

    text: str
    category: str = "important"
    weight: float | None = None
    reference: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.text, str) or not self.text.strip():
            raise RubricError(f"a criterion needs a non-empty text, got {self.text!r}")
        if self.category not in CATEGORIES:
            raise RubricError(
                f"unknown category {self.category!r} for criterion {self.text[:60]!r}: "
                f"use one of {', '.join(CATEGORIES)}"
            )
        weight = DEFAULT_WEIGHTS[self.category] if self.weight is None else self.weight
        if isinstance(weight, bool) or not isinstance(weight, (int, float)):
            raise RubricError(
                f"weight of criterion {self.text[:60]!r} must be a number, got {weight!r}"
            )
        weight = float(weight)
        if not math.isfinite(weight) or weight == 0.0:
            raise RubricError(
                f"weight of criterion {self.text[:60]!r} must be finite and non-zero, got {weight}"
            )
        if self.category == "pitfall" and weight > 0:
            raise RubricError(
                f"pitfall {self.text[:60]!r} has weight {weight}: pitfalls take negative weights "
                "(the judge says whether the response makes the mistake)"
            )
        if self.category != "pitfall" and weight < 0:
            raise RubricError(
                f"criterion {self.text[:60]!r} has negative weight {weight}: only the "
                "'pitfall' category takes negative weights"
            )
        if self.reference is not None and not isinstance(self.reference, str):
            raise RubricError(f"reference of criterion {self.text[:60]!r} must be a string")
        object.__setattr__(self, "weight", weight)

    @property
    def is_pitfall(self) -> bool:
        return self.category == "pitfall"


@dataclass(frozen=True)
class Rubric:
    """Criteria plus the Likert ``scale`` (lowest, highest) used in implicit mode.

    >>> Rubric([Criterion("Correct final answer", category="essential")]).scale
    (1, 10)
    """

    criteria: tuple[Criterion, ...]
    name: str = "rubric"
    scale: tuple[int, int] = (1, 10)
    description: str | None = None
    _positive_weight: float = field(init=False, repr=False, compare=False, default=0.0)

    def __post_init__(self) -> None:
        criteria = tuple(self.criteria)
        if not criteria:
            raise RubricError(f"rubric {self.name!r} has no criteria")
        for i, criterion in enumerate(criteria):
            if not isinstance(criterion, Criterion):
                raise RubricError(f"rubric {self.name!r}: criteria[{i}] is not a Criterion")
        positive = sum(c.weight for c in criteria if c.weight > 0)
        if positive <= 0:
            raise RubricError(
                f"rubric {self.name!r} has only pitfalls: it needs at least one criterion "
                "with a positive weight to normalise scores"
            )
        scale = tuple(self.scale) if isinstance(self.scale, (list, tuple)) else self.scale
        if (
            not isinstance(scale, tuple)
            or len(scale) != 2
            or not all(isinstance(x, int) and not isinstance(x, bool) for x in scale)
            or scale[0] >= scale[1]
        ):
            raise RubricError(
                f"rubric {self.name!r}: scale must be two integers [low, high] with low < high, "
                f"got {self.scale!r}"
            )
        object.__setattr__(self, "criteria", criteria)
        object.__setattr__(self, "scale", scale)
        object.__setattr__(self, "_positive_weight", positive)

    def explicit_score(self, satisfied: Sequence[float]) -> float:
        """Combine per-criterion verdicts (1 = criterion met / pitfall made, 0 = not, or a
        probability in between) into a score in [0, 1].

        score = clip(sum_j w_j * c_j / sum_{j: w_j > 0} w_j, 0, 1)   (Rubrics as Rewards,
        Gunjal et al., 2025, explicit aggregation; pitfalls subtract their |w_j|)

        >>> rubric = Rubric([Criterion("a", weight=3), Criterion("b", weight=1),
        ...                  Criterion("c", category="pitfall", weight=-2)])
        >>> rubric.explicit_score([1, 0, 0]), rubric.explicit_score([1, 1, 1])
        (0.75, 0.5)
        """
        if len(satisfied) != len(self.criteria):
            raise ValueError(f"{len(satisfied)} verdicts for {len(self.criteria)} criteria")
        total = sum(c.weight * float(s) for c, s in zip(self.criteria, satisfied, strict=True))
        return min(1.0, max(0.0, total / self._positive_weight))

    def normalise_likert(self, rating: float) -> float:
        """Map a rating on :attr:`scale` to [0, 1]: (r - low) / (high - low).

        >>> Rubric([Criterion("a")], scale=(1, 5)).normalise_likert(4)
        0.75
        """
        low, high = self.scale
        return (float(rating) - low) / (high - low)

    @classmethod
    def from_dict(cls, data: Any, *, source: str = "rubric") -> Rubric:
        """Build a rubric from a mapping ``{"criteria": [...], "name": ..., "scale": ...}``
        or from a bare list of criteria; each criterion is a mapping or a string."""
        if isinstance(data, Rubric):
            return data
        if isinstance(data, (list, tuple)):
            data = {"criteria": list(data)}
        if not isinstance(data, Mapping):
            raise RubricError(
                f"{source}: a rubric is a mapping with 'criteria' or a list of criteria, "
                f"got {type(data).__name__}"
            )
        unknown = sorted(set(data) - set(_RUBRIC_KEYS))
        if unknown:
            raise RubricError(
                f"{source}: unknown rubric keys {unknown}; allowed: {', '.join(_RUBRIC_KEYS)}"
            )
        raw_criteria = data.get("criteria")
        if not isinstance(raw_criteria, (list, tuple)):
            raise RubricError(f"{source}: 'criteria' must be a list, got {raw_criteria!r:.80}")
        criteria = [
            _criterion(raw, f"{source}: criteria[{i}]") for i, raw in enumerate(raw_criteria)
        ]
        options: dict[str, Any] = {}
        for key in ("name", "scale", "description"):
            if data.get(key) is not None:
                options[key] = data[key]
        try:
            return cls(tuple(criteria), **options)
        except RubricError as exc:
            raise RubricError(f"{source}: {exc}") from None

    @classmethod
    def from_file(cls, path: str | Path) -> Rubric:
        """Load a rubric from a ``.yaml``/``.yml``, ``.json`` or ``.toml`` file."""
        path = Path(path)
        if not path.is_file():
            raise RubricError(f"rubric file not found: {path}")
        text = path.read_text(encoding="utf-8")
        suffix = path.suffix.lower()
        try:
            if suffix in (".yaml", ".yml"):
                import yaml

                data = yaml.safe_load(text)
            elif suffix == ".json":
                data = json.loads(text)
            elif suffix == ".toml":
                data = _toml_loads(text)
            else:
                raise RubricError(
                    f"{path}: unknown rubric format {suffix!r}; use .yaml, .yml, .json or .toml"
                )
        except RubricError:
            raise
        except Exception as exc:  # the parsers' own errors, with their line numbers
            raise RubricError(f"{path}: cannot parse {suffix[1:].upper()}: {exc}") from exc
        return cls.from_dict(data, source=str(path))


def load_rubric(spec: Rubric | Mapping | Sequence | str | Path) -> Rubric:
    """A rubric from a :class:`Rubric`, a dict or list, a file path, or a JSON string.

    >>> load_rubric('[{"text": "Correct answer", "category": "essential"}]').criteria[0].weight
    5.0
    """
    if isinstance(spec, Rubric):
        return spec
    if isinstance(spec, Path):
        return Rubric.from_file(spec)
    if isinstance(spec, str):
        stripped = spec.strip()
        if stripped.startswith(("{", "[")):
            try:
                data = json.loads(stripped)
            except json.JSONDecodeError as exc:
                raise RubricError(f"rubric string is not valid JSON: {exc}") from exc
            return Rubric.from_dict(data)
        return Rubric.from_file(spec)
    return Rubric.from_dict(spec)


def _criterion(raw: Any, where: str) -> Criterion:
    if isinstance(raw, Criterion):
        return raw
    if isinstance(raw, str):
        raw = {"text": raw}
    if not isinstance(raw, Mapping):
        raise RubricError(f"{where}: a criterion is a mapping or a string, got {raw!r:.80}")
    unknown = sorted(set(raw) - set(_CRITERION_KEYS))
    if unknown:
        raise RubricError(
            f"{where}: unknown criterion keys {unknown}; allowed: {', '.join(_CRITERION_KEYS)}"
        )
    if "text" not in raw:
        raise RubricError(f"{where}: a criterion needs a 'text'")
    try:
        return Criterion(**{key: raw[key] for key in _CRITERION_KEYS if key in raw})
    except RubricError as exc:
        raise RubricError(f"{where}: {exc}") from None


def _toml_loads(text: str) -> Any:
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        try:
            import tomli as tomllib
        except ModuleNotFoundError:
            raise RubricError(
                "reading TOML rubrics on Python 3.10 needs the 'tomli' package: "
                "pip install 'rewardkit[judge]'"
            ) from None
    return tomllib.loads(text)


def load_rubric_text(text: str) -> Rubric:
    """A rubric from a dataset cell holding JSON (never a file path: cells are data)."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise RubricError(f"rubric cell is not valid JSON: {exc}") from exc
    return Rubric.from_dict(data, source="rubric cell")
