"""slime's remote reward protocol (``--rm-type remote_rm --rm-url http://host:port/slime``).

slime (``slime/rollout/rm_hub/__init__.py``, ``remote_rm``) posts one sample per request,
``{"prompt": ..., "response": ..., "label": ...}``, and stores the decoded reply as the
sample's reward: a number, or a dict read through ``--reward-key`` (the ``/slime/dict``
route answers ``{"score", "reason", "acc"}``).

>>> sample = parse({"prompt": "1+1?", "response": "\\\\boxed{2}", "label": "2"})
>>> sample.text, sample.columns
('\\\\boxed{2}', {'answer': '2'})
"""

from __future__ import annotations

from typing import Any

from rewardkit.rewards.base import RewardResult, Sample
from rewardkit.serve.protocols import BadRequest, check_fields, is_completion
from rewardkit.serve.results import accuracy, jsonable, number
from rewardkit.text import completion_text

__all__ = ["as_dict", "parse"]


def parse(body: Any, label_column: str = "answer") -> Sample:
    """The sample of one slime request."""
    check_fields(body, required=("response",), optional=("prompt", "label"))
    response = body["response"]
    if not isinstance(response, str):
        raise BadRequest(f"field 'response' must be a string, got {type(response).__name__}")
    prompt = body.get("prompt")
    if prompt is not None and not is_completion(prompt):
        raise BadRequest("field 'prompt' must be a string or a list of chat messages")
    label = body.get("label")
    if label is not None and not isinstance(label, (str, int, float, dict, list)):
        raise BadRequest(f"field 'label' must be a string or a number, got {type(label).__name__}")
    text = completion_text(response)
    return Sample(prompt=prompt, completion=response, text=text, columns={label_column: label})


def value(result: RewardResult) -> float:
    """The reward slime stores: a number (``None`` cannot be one: 0.0)."""
    return number(result.value)


def as_dict(result: RewardResult) -> dict[str, Any]:
    """The dict form, for ``--reward-key score`` (or ``acc``)."""
    return {
        "score": value(result),
        "reason": result.reason,
        "acc": accuracy(result),
        "details": jsonable(result.details),
    }
