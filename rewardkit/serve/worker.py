"""What a scoring worker process runs: a reward (sent pickled, kept once loaded) on a batch.

The server's workers are the verifier's sandbox processes
(:class:`rewardkit.verify.sandbox.WorkerPool`): a call that overruns its deadline gets its
worker killed and replaced, so a hanging sample cannot hold a worker for ever.

>>> import pickle
>>> from rewardkit.rewards import BoxedAccuracy, Sample
>>> blob = pickle.dumps(BoxedAccuracy())
>>> [r.value for r in score_batch(blob, [Sample(None, "\\\\boxed{2}", "\\\\boxed{2}", None,
...                                                {"answer": "2"})])]
[1.0]
"""

from __future__ import annotations

import hashlib
import pickle
from collections.abc import Sequence

from rewardkit.rewards.base import Reward, RewardResult, Sample

__all__ = ["score_batch"]

_LOADED: dict[bytes, Reward] = {}


def score_batch(reward_blob: bytes, samples: Sequence[Sample]) -> list[RewardResult]:
    """Score ``samples`` with the pickled reward (unpickled once per worker)."""
    key = hashlib.blake2b(reward_blob, digest_size=16).digest()
    reward = _LOADED.get(key)
    if reward is None:
        reward = _LOADED[key] = pickle.loads(reward_blob)
    if not samples:
        return []
    return reward.score_batch(list(samples))
