"""Rubrics load from YAML, JSON, TOML and Python, score as documented, and reject bad input
with an error that says where and what."""

from __future__ import annotations

import json

import pytest

from rewardkit.judge import Criterion, Rubric, RubricError, load_rubric

CRITERIA = [
    {"text": "States the final answer 12", "category": "essential"},
    {"text": "Explains each step", "category": "important", "weight": 4},
    {"text": "Mentions units", "category": "optional"},
    {"text": "Divides by zero", "category": "pitfall", "weight": -3, "reference": "no division"},
]

YAML = """\
name: arithmetic
scale: [1, 5]
criteria:
  - text: States the final answer 12
    category: essential
  - text: Explains each step
    category: important
    weight: 4
  - text: Mentions units
    category: optional
  - text: Divides by zero
    category: pitfall
    weight: -3
    reference: no division
"""

TOML = """\
name = "arithmetic"
scale = [1, 5]

[[criteria]]
text = "States the final answer 12"
category = "essential"

[[criteria]]
text = "Explains each step"
category = "important"
weight = 4

[[criteria]]
text = "Mentions units"
category = "optional"

[[criteria]]
text = "Divides by zero"
category = "pitfall"
weight = -3
reference = "no division"
"""


def _expected() -> Rubric:
    return Rubric(
        (
            Criterion("States the final answer 12", "essential"),
            Criterion("Explains each step", "important", 4),
            Criterion("Mentions units", "optional"),
            Criterion("Divides by zero", "pitfall", -3, reference="no division"),
        ),
        name="arithmetic",
        scale=(1, 5),
    )


@pytest.mark.parametrize("suffix", [".yaml", ".yml", ".json", ".toml"])
def test_every_file_format_loads_the_same_rubric(tmp_path, suffix):
    text = {
        ".yaml": YAML,
        ".yml": YAML,
        ".json": json.dumps({"name": "arithmetic", "scale": [1, 5], "criteria": CRITERIA}),
        ".toml": TOML,
    }[suffix]
    path = tmp_path / f"rubric{suffix}"
    path.write_text(text, encoding="utf-8")
    assert Rubric.from_file(path) == _expected()
    assert load_rubric(path) == _expected()
    assert load_rubric(str(path)) == _expected()


def test_default_weights_follow_the_category():
    rubric = Rubric.from_dict(["plain string criterion", {"text": "x", "category": "pitfall"}])
    assert [(c.category, c.weight) for c in rubric.criteria] == [
        ("important", 3.0),
        ("pitfall", -2.0),
    ]


def test_explicit_score_is_the_weighted_sum_over_positive_weights():
    rubric = _expected()  # positive weights 5 + 4 + 1 = 10, pitfall -3
    assert rubric.explicit_score([1, 1, 1, 0]) == 1.0
    assert rubric.explicit_score([1, 0, 0, 0]) == 0.5
    assert rubric.explicit_score([1, 1, 0, 1]) == pytest.approx((5 + 4 - 3) / 10)
    assert rubric.explicit_score([0, 0, 0, 1]) == 0.0  # clipped, never negative
    assert rubric.explicit_score([0.5, 1, 0, 0]) == pytest.approx(0.65)  # probabilities
    with pytest.raises(ValueError, match="3 verdicts for 4 criteria"):
        rubric.explicit_score([1, 1, 1])


def test_likert_ratings_normalise_to_unit_interval():
    rubric = _expected()  # scale 1..5
    assert [rubric.normalise_likert(r) for r in (1, 3, 5)] == [0.0, 0.5, 1.0]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"criteria": []}, "has no criteria"),
        (
            {"criteria": [{"text": "x", "category": "crucial"}]},
            r"criteria\[0\].*unknown category 'crucial'.*essential",
        ),
        (
            {"criteria": [{"text": "x", "category": "pitfall", "weight": 2}]},
            "pitfalls take negative weights",
        ),
        (
            {"criteria": [{"text": "x", "category": "essential", "weight": -1}]},
            "only the 'pitfall' category",
        ),
        ({"criteria": [{"text": "x", "weight": 0}]}, "finite and non-zero"),
        ({"criteria": [{"text": "x", "weight": float("nan")}]}, "finite and non-zero"),
        ({"criteria": [{"text": "x", "weight": "heavy"}]}, "must be a number, got 'heavy'"),
        ({"criteria": [{"text": "x", "weight": True}]}, "must be a number"),
        ({"criteria": [{"text": "   "}]}, "non-empty text"),
        ({"criteria": [{"category": "essential"}]}, r"criteria\[0\]: a criterion needs a 'text'"),
        ({"criteria": [{"text": "x", "wieght": 2}]}, r"unknown criterion keys \['wieght'\]"),
        ({"criteria": [{"text": "x", "category": "pitfall"}]}, "only pitfalls"),
        ({"criteria": [{"text": "x"}], "scale": [5, 1]}, "low < high"),
        ({"criteria": [{"text": "x"}], "scale": [1, 2, 3]}, "two integers"),
        ({"criteria": [{"text": "x"}], "scale": [1.5, 4]}, "two integers"),
        ({"criteria": [{"text": "x"}], "rubrik": 1}, r"unknown rubric keys \['rubrik'\]"),
        ({"criteria": "x"}, "'criteria' must be a list"),
        ({"criteria": [42]}, r"criteria\[0\]: a criterion is a mapping or a string"),
        (42, "a rubric is a mapping"),
    ],
)
def test_bad_rubrics_raise_clear_errors(data, message):
    with pytest.raises(RubricError, match=message):
        Rubric.from_dict(data)


def test_file_errors_name_the_file_and_the_problem(tmp_path):
    with pytest.raises(RubricError, match="rubric file not found"):
        Rubric.from_file(tmp_path / "missing.yaml")
    bad_yaml = tmp_path / "bad.yaml"
    bad_yaml.write_text("criteria: [unclosed\n", encoding="utf-8")
    with pytest.raises(RubricError, match=r"(?s)bad.yaml: cannot parse YAML.*line 1"):
        Rubric.from_file(bad_yaml)
    bad_toml = tmp_path / "bad.toml"
    bad_toml.write_text("criteria = [\n", encoding="utf-8")
    with pytest.raises(RubricError, match="bad.toml: cannot parse TOML"):
        Rubric.from_file(bad_toml)
    bad_json = tmp_path / "bad.json"
    bad_json.write_text('{"criteria": [', encoding="utf-8")
    with pytest.raises(RubricError, match="bad.json: cannot parse JSON"):
        Rubric.from_file(bad_json)
    text = tmp_path / "rubric.txt"
    text.write_text("x", encoding="utf-8")
    with pytest.raises(RubricError, match=r"unknown rubric format '.txt'"):
        Rubric.from_file(text)
    nested = tmp_path / "nested.json"
    nested.write_text(json.dumps({"criteria": [{"text": "ok"}, {"text": "x", "category": "nope"}]}))
    with pytest.raises(RubricError, match=r"nested.json: criteria\[1\]: unknown category"):
        Rubric.from_file(nested)


def test_json_strings_load_and_bad_json_strings_fail():
    assert load_rubric('[{"text": "a"}]').criteria[0].text == "a"
    with pytest.raises(RubricError, match="not valid JSON"):
        load_rubric('[{"text": "a"')


def test_unicode_criteria_survive():
    rubric = Rubric.from_dict([{"text": "Gives π ≈ 3.14159 — correctly", "category": "essential"}])
    assert rubric.criteria[0].text.startswith("Gives π")


def test_toml_without_a_toml_parser_says_what_to_install(tmp_path, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "tomllib", None)  # as on Python 3.10 ...
    monkeypatch.setitem(sys.modules, "tomli", None)  # ... without tomli
    path = tmp_path / "rubric.toml"
    path.write_text(TOML, encoding="utf-8")
    with pytest.raises(
        RubricError, match=r"needs the 'tomli' package: pip install 'rewardkit\[judge\]'"
    ):
        Rubric.from_file(path)
