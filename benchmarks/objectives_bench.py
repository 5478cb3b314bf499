"""Time rewardkit's GRPO loss (ObjectiveGRPOTrainer._compute_loss) against TRL's on the same batch.

Two measurements, each for several TRL loss settings, ours and TRL's interleaved:

- ``loss math``: the model forward is replaced by fixed per-token log-probs (B x T leaf tensors),
  so only the loss computation and its backward are timed - the part rewardkit replaces;
- ``with model``: the whole ``_compute_loss`` + backward with the tiny local Qwen2 model.

Target: rewardkit within 1.1x of TRL. Run from the repository root:

    PYTHONPATH=. python benchmarks/objectives_bench.py [--batch 64 --length 1024 --repeats 30]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
import warnings

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
warnings.filterwarnings("ignore")

import torch  # noqa: E402
from datasets import Dataset  # noqa: E402
from tqdm import tqdm  # noqa: E402
from trl import GRPOTrainer  # noqa: E402

from rewardkit.trl import (  # noqa: E402
    ObjectiveGRPOConfig,
    ObjectiveGRPOTrainer,
    build_tiny_model,
)

SETTINGS = {
    "dapo (TRL default), beta=0.04": {},
    "grpo": {"loss_type": "grpo"},
    "dr_grpo": {"loss_type": "dr_grpo"},
    "cispo": {"loss_type": "cispo", "epsilon_high": 5.0},
    "gspo (sequence ratio)": {"loss_type": "grpo", "importance_sampling_level": "sequence"},
    "dapo, beta=0": {"beta": 0.0},
}


def _reward(prompts=None, completions=None, **kwargs):
    return [0.0] * len(completions)


def _trainers(model_path: str, out: str, overrides: dict):
    settings = {
        "output_dir": out,
        "per_device_train_batch_size": 4,
        "num_generations": 4,
        "max_completion_length": 8,
        "report_to": "none",
        "use_cpu": True,
        "save_strategy": "no",
        "beta": 0.04,
        **overrides,
    }
    data = Dataset.from_dict({"prompt": ["What is 2 + 3?"] * 8})
    made = []
    for cls in (GRPOTrainer, ObjectiveGRPOTrainer):
        trainer = cls(
            model=model_path,
            reward_funcs=[_reward],
            args=ObjectiveGRPOConfig(**settings),
            train_dataset=data,
        )
        trainer.model.train()
        trainer.current_gradient_accumulation_steps = 1
        made.append(trainer)
    return made


def _batch(batch: int, length: int, prompt: int, vocab: int, seed: int = 0) -> dict:
    generator = torch.Generator().manual_seed(seed)
    lengths = torch.randint(length // 4, length + 1, (batch,), generator=generator)
    mask = (torch.arange(length).unsqueeze(0) < lengths.unsqueeze(1)).long()
    logps = -torch.rand(batch, length, generator=generator) * 4
    return {
        "prompt_ids": torch.randint(0, vocab, (batch, prompt), generator=generator),
        "prompt_mask": torch.ones(batch, prompt, dtype=torch.long),
        "completion_ids": torch.randint(0, vocab, (batch, length), generator=generator),
        "completion_mask": mask,
        "advantages": torch.randn(batch, generator=generator),
        "old_per_token_logps": logps + 0.3 * torch.randn(batch, length, generator=generator),
        "ref_per_token_logps": logps + 0.3 * torch.randn(batch, length, generator=generator),
        "num_items_in_batch": mask.sum(),
    }


def _stub_forward(trainer, logps: torch.Tensor, entropies: torch.Tensor) -> None:
    """Replace the model forward by fixed log-probs, so that only the loss is timed."""

    def forward(model, input_ids, attention_mask, logits_to_keep, **kwargs):
        return logps * 1.0, entropies, None

    trainer._get_per_token_logps_and_entropies = forward


def _time(trainer, batch: dict, parameters) -> float:
    for parameter in parameters:
        parameter.grad = None
    start = time.perf_counter()
    loss = trainer._compute_loss(trainer.model, dict(batch))
    loss.backward()
    return time.perf_counter() - start


def _measure(pair, batch, parameters, repeats) -> tuple[float, float, float]:
    samples = {0: [], 1: []}
    for index in range(repeats + 2):
        for which in (index % 2, 1 - index % 2):  # alternate the order
            elapsed = _time(pair[which], batch, parameters[which])
            if index >= 2:  # warm-up
                samples[which].append(elapsed)
    losses = [pair[i]._compute_loss(pair[i].model, dict(batch)).item() for i in (0, 1)]
    return statistics.median(samples[0]), statistics.median(samples[1]), abs(losses[0] - losses[1])


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--batch", type=int, default=64, help="completions in the loss-math batch")
    parser.add_argument(
        "--length", type=int, default=1024, help="completion tokens in the loss-math batch"
    )
    parser.add_argument(
        "--model-batch", type=int, default=16, help="completions in the with-model batch"
    )
    parser.add_argument(
        "--model-length", type=int, default=128, help="completion tokens in the with-model batch"
    )
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--model-dir", default=None, help="tiny model directory (built if missing)")
    args = parser.parse_args()
    torch.manual_seed(0)
    model_path = str(build_tiny_model(args.model_dir or os.path.join(tempfile.mkdtemp(), "tiny")))
    out = tempfile.mkdtemp()

    rows = []
    for name, overrides in tqdm(SETTINGS.items(), desc="settings"):
        pair = _trainers(model_path, out, overrides)
        vocab = pair[0].model.config.vocab_size

        batch = _batch(args.batch, args.length, 16, vocab)
        logps = (batch["old_per_token_logps"] + 0.05).requires_grad_()
        entropies = torch.rand(args.batch, args.length)
        for trainer in pair:
            _stub_forward(trainer, logps, entropies)
        theirs, ours, diff = _measure(pair, batch, [[logps]] * 2, args.repeats)
        rows.append(("loss math", name, f"{args.batch}x{args.length}", theirs, ours, diff))

        pair = _trainers(model_path, out, overrides)
        batch = _batch(args.model_batch, args.model_length, 16, vocab, seed=1)
        with torch.no_grad():
            logps, _, _ = pair[0]._get_per_token_logps_and_entropies(
                pair[0].model,
                torch.cat([batch["prompt_ids"], batch["completion_ids"]], 1),
                torch.cat([batch["prompt_mask"], batch["completion_mask"]], 1),
                args.model_length,
            )
        batch["old_per_token_logps"] = logps + 0.1 * torch.randn_like(logps)
        batch["ref_per_token_logps"] = logps + 0.1 * torch.randn_like(logps)
        parameters = [list(trainer.model.parameters()) for trainer in pair]
        theirs, ours, diff = _measure(pair, batch, parameters, max(5, args.repeats // 3))
        rows.append(
            ("with model", name, f"{args.model_batch}x{args.model_length}", theirs, ours, diff)
        )

    header = (
        f"{'part':<11} {'setting':<32} {'B x T':>9} {'TRL ms':>9} {'ours ms':>9}"
        f" {'ours/TRL':>9} {'|dloss|':>9}"
    )
    print(
        f"\ntorch {torch.__version__}, {torch.get_num_threads()} thread(s), CPU;"
        " median of timed calls\n"
    )
    print(header)
    print("-" * len(header))
    for part, name, shape, theirs, ours, diff in rows:
        print(
            f"{part:<11} {name:<32} {shape:>9} {theirs * 1e3:>9.2f} {ours * 1e3:>9.2f}"
            f" {ours / theirs:>8.2f}x"
            f" {diff:>9.1e}"
        )


if __name__ == "__main__":
    main()
