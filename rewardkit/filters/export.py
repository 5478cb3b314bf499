"""Kept rows to the dataset formats TRL's trainers take.

- ``sft``: prompt-completion records for ``SFTTrainer``.
- ``dpo``: preference pairs (``chosen`` / ``rejected``) for ``DPOTrainer``: within a prompt,
  a pair needs the chosen reward above the rejected one by at least ``margin``; ties are
  never paired. Each record keeps ``score_chosen``, ``score_rejected`` and ``margin``.
- ``kto``: unpaired ``completion`` records with a boolean ``label`` (correct or not) for
  ``KTOTrainer``.

Records are conversational (``[{"role": ..., "content": ...}]``) or plain text. By
default they follow the input: chat prompts give conversational records.

>>> rows = [{"prompt": "1+1?", "completion": c, "reward": r, "correct": r > 0}
...         for c, r in [("2", 1.0), ("3", 0.0)]]
>>> pair = Exporter("dpo").records(rows)[0]
>>> pair["chosen"], pair["rejected"], pair["margin"]
('2', '3', 1.0)
>>> Exporter("kto", conversational=True).records(rows)[1]["completion"]
[{'role': 'assistant', 'content': '3'}]
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from rewardkit.text import completion_text

__all__ = ["FORMATS", "Exporter"]

FORMATS = ("sft", "dpo", "kto")
PAIRINGS = ("best_worst", "all")


class Exporter:
    """Turns one prompt's kept rows into TRL records (rows of several prompts raise).

    Args:
        format: ``sft``, ``dpo`` or ``kto``.
        conversational: ``True`` for chat messages, ``False`` for plain text, ``None``
            (default) to follow each row's prompt.
        margin: DPO: the least reward gap of a pair (ties are dropped whatever it is).
        pairs: DPO: ``best_worst`` (one pair a prompt, its best row against its worst) or
            ``all`` (every pair with enough margin, best gaps first).
        max_pairs: DPO: at most this many pairs a prompt (``None``: no limit).
        columns: extra row columns copied into every record (e.g. ``prompt_id``).
    """

    def __init__(
        self,
        format: str = "sft",
        *,
        conversational: bool | None = None,
        margin: float = 0.0,
        pairs: str = "best_worst",
        max_pairs: int | None = None,
        columns: Sequence[str] = (),
    ) -> None:
        if format not in FORMATS:
            raise ValueError(f"unknown format {format!r}: use one of {', '.join(FORMATS)}")
        if pairs not in PAIRINGS:
            raise ValueError(f"unknown pairing {pairs!r}: use one of {', '.join(PAIRINGS)}")
        if margin < 0:
            raise ValueError(f"margin must be >= 0, got {margin}")
        if max_pairs is not None and max_pairs < 1:
            raise ValueError(f"max_pairs must be at least 1, got {max_pairs}")
        self.format = format
        self.conversational = conversational
        self.margin = margin
        self.pairs = pairs
        self.max_pairs = max_pairs
        self.columns = tuple(columns)

    def records(self, rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
        """Records from the kept rows of one prompt; rows of several prompts (by
        ``prompt_id``, else by prompt) raise ``ValueError``: group them first
        (:func:`~rewardkit.filters.iter_groups`, or :func:`~rewardkit.filters.run_filter`)."""
        _check_one_prompt(rows)
        if self.format == "sft":
            return [
                {**self._prompt_and(row, "completion", row["completion"]), **self._extra(row)}
                for row in rows
            ]
        if self.format == "kto":
            return [
                {
                    **self._prompt_and(row, "completion", row["completion"]),
                    "label": bool(row.get("correct")),
                    **self._extra(row),
                }
                for row in rows
                if row.get("correct") is not None
            ]
        return self._pairs(rows)

    def _pairs(self, rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
        scored = [r for r in rows if r.get("reward") is not None]
        candidates = []
        if self.pairs == "best_worst" and scored:
            best = max(scored, key=lambda r: r["reward"])  # first of equals: input order
            worst = min(scored, key=lambda r: r["reward"])
            candidates = [(best, worst)]
        elif self.pairs == "all":
            candidates = [(a, b) for a in scored for b in scored if a["reward"] > b["reward"]]
            candidates.sort(key=lambda pair: pair[1]["reward"] - pair[0]["reward"])  # stable
        records = []
        for chosen, rejected in candidates:
            gap = chosen["reward"] - rejected["reward"]
            if gap <= 0 or gap < self.margin:  # ties carry no preference
                continue
            record = self._prompt_and(chosen, "chosen", chosen["completion"])
            record["rejected"] = self._completion(rejected, rejected["completion"])
            record.update(
                score_chosen=chosen["reward"], score_rejected=rejected["reward"], margin=gap
            )
            records.append({**record, **self._extra(chosen)})
            if self.max_pairs is not None and len(records) >= self.max_pairs:
                break
        return records

    def _chat(self, row: dict[str, Any]) -> bool:
        if self.conversational is not None:
            return self.conversational
        return isinstance(row.get("prompt"), list)

    def _prompt_and(self, row: dict[str, Any], key: str, completion: Any) -> dict[str, Any]:
        prompt = row.get("prompt")
        if self._chat(row):
            if isinstance(prompt, str):
                prompt = [{"role": "user", "content": prompt}]
        elif not isinstance(prompt, str):
            raise ValueError(
                "a chat prompt cannot be exported as plain text; use conversational=True"
            )
        return {"prompt": prompt, key: self._completion(row, completion)}

    def _completion(self, row: dict[str, Any], completion: Any) -> Any:
        if self._chat(row):
            if isinstance(completion, str):
                return [{"role": "assistant", "content": completion}]
            return completion
        return completion_text(completion)

    def _extra(self, row: dict[str, Any]) -> dict[str, Any]:
        missing = [c for c in self.columns if c not in row]
        if missing:
            raise KeyError(f"rows have no column(s) {missing} to export")
        return {c: row[c] for c in self.columns}


def _check_one_prompt(rows: Sequence[dict[str, Any]]) -> None:
    if len(rows) < 2:
        return
    by_id = any("prompt_id" in row for row in rows)
    keys = {_key(row.get("prompt_id") if by_id else row.get("prompt")) for row in rows}
    if len(keys) > 1:
        what = "prompt_id values" if by_id else "prompts"
        raise ValueError(
            f"Exporter.records takes the rows of one prompt, got rows of {len(keys)} {what}; "
            "group them by prompt first (rewardkit.filters.iter_groups or run_filter)"
        )


def _key(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)
