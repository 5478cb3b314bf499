"""The whole loop on a laptop, offline: tiny model, SFT warm start, evaluate, GRPO, evaluate.

    python recipes/run_tiny.py                       # the default, about 5-8 minutes on 2 cores
    python recipes/run_tiny.py --grpo_steps 20       # shorter

Builds a tiny Qwen2-style model and tokenizer locally, warm-starts it with SFT on synthetic
worked solutions (``configs/tiny_sft.yaml``), evaluates greedy accuracy on held-out problems,
trains it with GRPO and rewardkit's rewards (``configs/tiny_grpo.yaml``), evaluates again on
the same problems, and writes a report directory: ``report.json`` (``sft_accuracy``,
``grpo_accuracy``, ``n_eval``, ``wall_seconds``, ...), ``report.md`` and PNG plots.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

CONFIGS = Path(__file__).resolve().parent / "configs"


@dataclass
class TinyRunArguments:
    """The run as a whole; the stages' own settings are in the two YAML configs."""

    output_dir: str = field(default="runs/tiny", metadata={"help": "report directory"})
    sft_config: str = str(CONFIGS / "tiny_sft.yaml")
    grpo_config: str = str(CONFIGS / "tiny_grpo.yaml")
    sft_steps: int | None = field(default=None, metadata={"help": "override SFT max_steps"})
    grpo_steps: int | None = field(default=None, metadata={"help": "override GRPO max_steps"})
    n_eval: int | None = field(default=None, metadata={"help": "override held-out problems"})
    seed: int = 0
    num_threads: int = field(default=2, metadata={"help": "torch CPU threads"})
    eval_max_new_tokens: int = 32


def stage_args(config: str, overrides: dict[str, object]) -> list[str]:
    """Command-line style arguments for a stage: its YAML config, then the overrides."""
    args = ["--config", config]
    for key, value in overrides.items():
        if value is not None:
            args += [f"--{key}", str(value)]
    return args


def main(run: TinyRunArguments) -> dict:
    import torch
    from common import DataArguments, TinyModelArguments, load_math_rows
    from evaluate import evaluate_model, markdown_table, write_results
    from grpo_math import RLArguments
    from grpo_math import main as grpo_main
    from report import plot_accuracy, plot_training, write_markdown
    from sft_warmstart import main as sft_main
    from transformers import AutoModelForCausalLM, AutoTokenizer, set_seed
    from trl import ModelConfig, SFTConfig, TrlParser

    from rewardkit.trl import ObjectiveGRPOConfig

    start = time.time()
    torch.set_num_threads(run.num_threads)
    out = Path(run.output_dir)
    out.mkdir(parents=True, exist_ok=True)
    common = {"seed": run.seed, "n_eval": run.n_eval}

    sft_args = TrlParser((DataArguments, TinyModelArguments, ModelConfig, SFTConfig))
    sft_data, tiny, sft_model, sft_config = sft_args.parse_args_and_config(
        stage_args(run.sft_config, common | {"output_dir": out / "sft", "max_steps": run.sft_steps})
    )
    set_seed(run.seed)
    sft_dir = sft_main(sft_data, tiny, sft_model, sft_config)
    timings = {"sft_seconds": time.time() - start}

    held_out = load_math_rows(sft_data, held_out=True)

    records: dict[str, list[dict]] = {}

    def evaluate(path: str, name: str) -> dict:
        tick = time.time()
        model = AutoModelForCausalLM.from_pretrained(path)
        tokenizer = AutoTokenizer.from_pretrained(path)
        summary, records[name] = evaluate_model(
            model,
            tokenizer,
            held_out,
            system_prompt=sft_data.system_prompt,
            max_new_tokens=run.eval_max_new_tokens,
        )
        write_results(out / f"eval_{name}", summary, records[name])
        timings[f"eval_{name}_seconds"] = time.time() - tick
        return summary

    before = evaluate(sft_dir, "sft")

    tick = time.time()
    grpo_args = TrlParser(
        (DataArguments, TinyModelArguments, RLArguments, ModelConfig, ObjectiveGRPOConfig)
    )
    grpo_data, grpo_tiny, rl, grpo_model, grpo_config = grpo_args.parse_args_and_config(
        stage_args(
            run.grpo_config,
            common
            | {
                "output_dir": out / "grpo",
                "max_steps": run.grpo_steps,
                "model_name_or_path": sft_dir,
            },
        )
    )
    set_seed(run.seed)
    trainer = grpo_main(grpo_data, grpo_tiny, rl, grpo_model, grpo_config)
    timings["grpo_seconds"] = time.time() - tick
    after = evaluate(grpo_config.output_dir, "grpo")

    images = plot_training(trainer.state.log_history, out)
    images.append(plot_accuracy(before, after, out, records=(records["sft"], records["grpo"])))
    (out / "log_history.json").write_text(json.dumps(trainer.state.log_history, indent=1))
    report = {
        "sft_accuracy": before["overall"]["accuracy"],
        "grpo_accuracy": after["overall"]["accuracy"],
        "n_eval": len(held_out),
        "wall_seconds": round(time.time() - start, 1),
        "timings": {k: round(v, 1) for k, v in timings.items()},
        "sft": before,
        "grpo": after,
        "settings": {
            "run": asdict(run),
            "sft": {
                "max_steps": sft_config.max_steps,
                "learning_rate": sft_config.learning_rate,
                "teacher_error": sft_data.teacher_error,
                "levels": sft_data.levels,
            },
            "grpo": {
                "max_steps": grpo_config.max_steps,
                "learning_rate": grpo_config.learning_rate,
                "num_generations": grpo_config.num_generations,
                "beta": grpo_config.beta,
                "reward_funcs": rl.reward_funcs,
            },
        },
    }
    (out / "report.json").write_text(json.dumps(report, indent=2) + "\n")
    write_markdown(
        out,
        report,
        {"Before (SFT)": markdown_table(before), "After (GRPO)": markdown_table(after)},
        images,
    )
    print(
        f"SFT accuracy {report['sft_accuracy']:.3f} -> GRPO accuracy "
        f"{report['grpo_accuracy']:.3f} on {report['n_eval']} held-out problems "
        f"in {report['wall_seconds']:.0f} s; report in {out / 'report.md'}"
    )
    return report


if __name__ == "__main__":
    from trl import TrlParser

    (run_args,) = TrlParser((TinyRunArguments,)).parse_args_and_config()
    main(run_args)
