"""The model verifier against a real OpenAI-compatible server nobody here wrote:
``transformers serve`` on the tiny local model. Its verdicts are noise: whatever it says
must end in one of the model reasons, never a crash and never the rules' silent 0."""

from __future__ import annotations

import pytest

from rewardkit.verify import ModelVerifier, verify_batch
from rewardkit.verify.model_verifier import MODEL_REASONS
from rewardkit.verify.verifier_formats import format_names


@pytest.mark.parametrize("name", format_names())
def test_noise_from_a_real_server_becomes_a_reason(real_judge_server, name):
    mv = ModelVerifier(
        name,
        real_judge_server.model,
        base_url=real_judge_server.base_url,
        cache=False,
        max_tokens=6,
        timeout=60,
        max_retries=1,
    )
    pairs = [(r"\boxed{12 apples}", "12"), (r"\boxed{0.5}", r"\frac{1}{3}")]
    verdicts = verify_batch(
        pairs, units="match", questions=["How many?", "Half?"], model_verifier=mv
    )
    assert all(v.reason in MODEL_REASONS for v in verdicts)
    assert all(v.correct == (v.reason == "ok_by_model") for v in verdicts)
    assert mv.spent()["forwarded"] == 2
    assert mv.backend.usage.requests >= 2


def test_the_local_transformers_backend_in_process(tiny_model_path):
    mv = ModelVerifier(  # the tiny model writes noise: a few tokens are enough
        "compassverifier",
        tiny_model_path,
        backend="transformers",
        cache=False,
        max_tokens=4,
        truncated_max_tokens=0,  # a cut-off reply is not re-asked: one request
    )
    verdicts = verify_batch(
        [(r"\boxed{12 apples}", "12"), (r"\boxed{12}", "12")], units="match", model_verifier=mv
    )
    assert verdicts[0].reason in MODEL_REASONS and verdicts[1].reason == "ok"
    assert mv.backend.usage.requests == 1
