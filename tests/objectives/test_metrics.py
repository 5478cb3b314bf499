"""pass@k, entropy from logits, and the dynamic-sampling group mask."""

from __future__ import annotations

import itertools
import math

import pytest
import torch

from rewardkit.objectives import entropy_from_logits, informative_groups, pass_at_k, pass_at_k_batch
from rewardkit.objectives.groups import group_rows


def test_pass_at_k_reference_values():
    assert pass_at_k(10, 3, 1) == pytest.approx(0.3)
    assert pass_at_k(10, 3, 5) == pytest.approx(0.9167, abs=1e-4)
    assert pass_at_k(10, 0, 5) == 0.0 and pass_at_k(10, 8, 3) == 1.0


def test_pass_at_k_equals_the_fraction_of_k_subsets_with_a_correct_sample():
    for n, c, k in [(6, 2, 3), (7, 1, 2), (5, 5, 1), (8, 3, 4)]:
        samples = [True] * c + [False] * (n - c)
        subsets = list(itertools.combinations(samples, k))
        assert pass_at_k(n, c, k) == pytest.approx(sum(map(any, subsets)) / len(subsets))


def test_pass_at_k_is_stable_for_large_n_and_vectorised_agrees():
    assert 0.0 < pass_at_k(100_000, 3, 10) < 1.0
    n, c = torch.tensor([10, 10, 200, 50]), torch.tensor([3, 0, 17, 50])
    for k in (1, 5, 10):
        expected = torch.tensor(
            [pass_at_k(int(a), int(b), k) for a, b in zip(n, c, strict=True)], dtype=torch.float64
        )
        torch.testing.assert_close(pass_at_k_batch(n, c, k), expected)


def test_pass_at_k_rejects_impossible_counts():
    with pytest.raises(ValueError, match="0 <= c <= n"):
        pass_at_k(5, 6, 1)
    with pytest.raises(ValueError, match="1 <= k <= n"):
        pass_at_k(5, 2, 6)
    with pytest.raises(ValueError):
        pass_at_k_batch(torch.tensor([3]), torch.tensor([4]), 1)


def test_entropy_from_logits_matches_the_definition_and_survives_extreme_logits():
    logits = torch.randn(3, 4, 11, generator=torch.Generator().manual_seed(0))
    probs = torch.softmax(logits, -1)
    torch.testing.assert_close(entropy_from_logits(logits), -(probs * probs.log()).sum(-1))
    assert entropy_from_logits(torch.zeros(7)).item() == pytest.approx(math.log(7))
    peaked = torch.tensor([1e4, 0.0, -1e4])
    assert entropy_from_logits(peaked).item() == pytest.approx(0.0, abs=1e-6)
    assert entropy_from_logits(torch.zeros(2, dtype=torch.bfloat16)).dtype == torch.float32


def test_informative_groups_drop_groups_whose_rewards_all_agree():
    scores = torch.tensor(
        [1.0, 1.0, 1.0, 0.0, 0.5, 0.5, float("nan"), 1.0, float("nan"), 0.0, 1.0, float("nan")]
    )
    assert informative_groups(scores, 2).tolist() == [False, True, False, False, False, False]
    assert informative_groups(scores, 4).tolist() == [True, True, True]
    assert informative_groups(torch.tensor([0.3, 0.3 + 1e-9]), 2).tolist() == [False]
    assert informative_groups(torch.tensor([0.5, 0.5, 0.5, float("nan")]), 4).tolist() == [False]
    assert group_rows(torch.tensor([True, False, True]), 2).tolist() == [0, 1, 4, 5]
    with pytest.raises(ValueError, match="multiple of group_size=4"):
        informative_groups(torch.zeros(6), 4)
