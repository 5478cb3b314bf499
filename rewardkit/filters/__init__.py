r"""Rejection-sampling data filters: from N completions per prompt to SFT, DPO and KTO
datasets for TRL.

The modules, in the order data flows through them: :mod:`~rewardkit.filters.generate`
(read or sample completions), :mod:`~rewardkit.filters.score` (rewards),
:mod:`~rewardkit.filters.filters` (per-prompt filters), :mod:`~rewardkit.filters.export`
(TRL formats), :mod:`~rewardkit.filters.stats` (pass@k, pass rates, drop reasons);
:mod:`~rewardkit.filters.shards` makes the work resumable and
:mod:`~rewardkit.filters.pipeline` runs it all.

>>> rows = read_completions([{"prompt": "2+2?", "completions": [r"\boxed{4}", r"\boxed{3}"],
...                           "answer": "4"}], completion_fields=["completions"])
>>> scored = list(Scorer("boxed_accuracy").score_rows(rows))
>>> kept, dropped = FilterChain(["pass_rate"]).apply(scored)
>>> Exporter("dpo").records(kept)[0]["chosen"]
'\\boxed{4}'
"""

from rewardkit.filters.export import FORMATS, Exporter
from rewardkit.filters.filters import (
    FILTERS,
    BestOfN,
    CapPerPrompt,
    Correct,
    Dropped,
    Filter,
    FilterChain,
    FormatFilter,
    LengthFilter,
    PassRateBand,
    PromptGroup,
    Threshold,
    TopKDistinct,
    build_filter,
    equations,
    filter_names,
    iter_groups,
)
from rewardkit.filters.generate import generate_completions, iter_records, read_completions
from rewardkit.filters.pipeline import FilterReport, run_filter
from rewardkit.filters.score import Scorer
from rewardkit.filters.shards import ShardStore
from rewardkit.filters.stats import FilterStats, pass_at_k

__all__ = [
    "FILTERS",
    "FORMATS",
    "BestOfN",
    "CapPerPrompt",
    "Correct",
    "Dropped",
    "Exporter",
    "Filter",
    "FilterChain",
    "FilterReport",
    "FilterStats",
    "FormatFilter",
    "LengthFilter",
    "PassRateBand",
    "PromptGroup",
    "Scorer",
    "ShardStore",
    "Threshold",
    "TopKDistinct",
    "build_filter",
    "equations",
    "filter_names",
    "generate_completions",
    "iter_groups",
    "iter_records",
    "pass_at_k",
    "read_completions",
    "run_filter",
]
