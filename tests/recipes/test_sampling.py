"""recipes/sampling.py goes through rewardkit.filters: pairs and filters stay within a problem."""

from __future__ import annotations

import json


def test_dpo_pairs_are_made_within_each_problem(tmp_path):
    from sampling import score_filter_export

    records = []
    for i in range(4):  # each problem has a right and a wrong sample
        gold = str(10 + i)
        records.append(
            {
                "prompt": [{"role": "user", "content": f"What is {i} + 10?"}],
                "answer": gold,
                "completions": [rf"\boxed{{{int(gold) + 1}}}", rf"\boxed{{{gold}}}"],
            }
        )
    pairs, stats = score_filter_export(records, "boxed_accuracy", ["pass_rate"], "dpo", tmp_path)
    assert len(pairs) == 4 and stats["problems"] == 4 and stats["exported"] == 4
    for record, pair in zip(records, pairs, strict=True):
        assert pair["prompt"] == record["prompt"]
        assert pair["chosen"][0]["content"] == rf"\boxed{{{record['answer']}}}"
        assert pair["rejected"][0]["content"] in record["completions"]
    assert (tmp_path / "dpo.jsonl").exists() and (tmp_path / "stats.json").exists()
    assert json.loads((tmp_path / "stats.json").read_text())["records"] == 4
