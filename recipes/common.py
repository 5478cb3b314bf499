"""What the recipes share: the data arguments, loading math problems, prompts, the tiny model.

Every loader returns rows with the same keys, whatever the source:
``problem``, ``answer`` (gold answer string), ``solution`` (worked solution in the reasoning
format: ``<think>`` steps, then ``\\boxed{answer}``), ``subject``, ``level``.
Sources: ``synthetic`` (rewardkit's seeded generator), a hub dataset name (GSM8K, MATH, ...),
or a local JSONL / JSON / Parquet file given with ``data_file``.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rewardkit.datasets import train_eval_split
from rewardkit.text import last_boxed

logger = logging.getLogger("recipes")

SYSTEM_PROMPT = (
    "Think step by step inside <think> </think>, then give the final answer in \\boxed{}."
)
TINY = "tiny"


@dataclass
class DataArguments:
    """Where the math problems come from (all recipes)."""

    dataset_name: str = field(
        default="synthetic",
        metadata={
            "help": "'synthetic', or a hub dataset such as 'openai/gsm8k' or "
            "'HuggingFaceH4/MATH-500' (ignored when data_file is set)."
        },
    )
    dataset_config: str | None = field(default=None, metadata={"help": "hub dataset config"})
    dataset_split: str = field(default="train", metadata={"help": "hub dataset split"})
    data_file: str | None = field(
        default=None, metadata={"help": "local JSONL/JSON/Parquet file of GSM8K or MATH rows"}
    )
    eval_data_file: str | None = field(
        default=None,
        metadata={
            "help": "held-out file for evaluation (default: held out from "
            "the synthetic generator, or the training source)"
        },
    )
    max_samples: int | None = field(
        default=None,
        metadata={"help": "keep the first N rows (training, or held-out when evaluating)"},
    )
    n_train: int = field(default=4000, metadata={"help": "synthetic training problems"})
    n_eval: int = field(default=200, metadata={"help": "held-out problems for evaluation"})
    levels: str = field(default="1,2,3,4,5", metadata={"help": "synthetic difficulty levels"})
    teacher_error: float = field(
        default=0.0,
        metadata={
            "help": "synthetic: share of worked solutions by a careless teacher who "
            "reads a loss as a gain (for SFT data; gold answers stay right)"
        },
    )
    synthetic_seed: int = field(default=0, metadata={"help": "seed of the synthetic generator"})
    system_prompt: str | None = field(
        default=None,
        metadata={
            "help": "system message before each problem (default: none; "
            "the real-model configs set common.SYSTEM_PROMPT)"
        },
    )


def parse_levels(levels: str | list[int] | tuple[int, ...]) -> list[int]:
    """``"1,2"`` -> ``[1, 2]``."""
    if isinstance(levels, str):
        return [int(x) for x in levels.replace(" ", "").split(",") if x]
    return [int(x) for x in levels]


_GSM8K_CALC = re.compile(r"<<[^<>]*>>")


def normalise_row(row: dict[str, Any]) -> dict[str, Any]:
    """One GSM8K, MATH or synthetic row -> the recipe row (see the module docstring)."""
    if "problem" in row and "solution" in row:  # MATH, MATH-500, synthetic
        answer = row.get("answer") or last_boxed(row["solution"])
        if answer is None:
            raise ValueError(f"row has no answer and no boxed answer: {row.get('problem')!r:.80}")
        solution = row["solution"]
        if "<think>" not in solution:
            solution = f"<think>{solution.strip()}</think>\n\\boxed{{{answer}}}"
        level = row.get("level", 0)
        if isinstance(level, str):  # MATH writes "Level 3"
            digits = re.findall(r"\d+", level)
            level = int(digits[0]) if digits else 0
        return {
            "problem": row["problem"],
            "answer": str(answer),
            "solution": solution,
            "subject": row.get("subject", row.get("type", "unknown")),
            "level": level,
        }
    if "question" in row and "answer" in row:  # GSM8K
        reasoning, sep, answer = row["answer"].rpartition("####")
        if not sep:
            raise ValueError(f"GSM8K row has no '#### answer': {row['question']!r:.80}")
        answer = answer.strip().replace(",", "")
        reasoning = _GSM8K_CALC.sub("", reasoning).strip()
        return {
            "problem": row["question"],
            "answer": answer,
            "solution": f"<think>{reasoning}</think>\n\\boxed{{{answer}}}",
            "subject": "gsm8k",
            "level": 0,
        }
    raise ValueError(
        f"unknown row format with keys {sorted(row)}: expected GSM8K (question, answer) "
        "or MATH (problem, solution[, answer])"
    )


def read_rows_file(path: str | Path) -> list[dict[str, Any]]:
    """Raw rows of a local ``.jsonl``, ``.json`` or ``.parquet`` file."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"data file not found: {path}")
    if path.suffix == ".parquet":
        from datasets import Dataset

        return Dataset.from_parquet(str(path)).to_list()
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".json":
        data = json.loads(text)
        return data if isinstance(data, list) else data["data"]
    rows = []
    for number, line in enumerate(text.splitlines(), 1):
        if line.strip():
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError as err:
                raise ValueError(f"{path}:{number}: not JSON ({err.msg})") from None
    return rows


def load_math_rows(args: DataArguments, *, held_out: bool = False) -> list[dict[str, Any]]:
    """Training rows, or with ``held_out`` the evaluation rows, described by ``args``.

    Held-out rows come from ``eval_data_file`` when set; otherwise they are the synthetic
    generator's held-out problems, or the last ``n_eval`` rows of the source, which are then
    left out of training. ``max_samples`` keeps the first N of the rows returned, training or
    held-out.
    """
    if held_out and args.eval_data_file:
        rows = [normalise_row(r) for r in read_rows_file(args.eval_data_file)]
        return _cap(rows, args.max_samples)
    if args.data_file is None and args.dataset_name == "synthetic":
        train, evaluation = train_eval_split(
            args.n_train,
            args.n_eval,
            seed=args.synthetic_seed,
            levels=parse_levels(args.levels),
            teacher_error=args.teacher_error,
        )
        return _cap(evaluation if held_out else train, args.max_samples)
    if args.data_file is not None:
        raw = read_rows_file(args.data_file)
    else:
        from datasets import load_dataset

        raw = load_dataset(args.dataset_name, args.dataset_config, split=args.dataset_split)
        raw = raw.to_list()
    rows = [normalise_row(r) for r in raw]
    if args.eval_data_file:  # a separate held-out file: train on everything here
        return _cap(rows, args.max_samples)
    if len(rows) <= args.n_eval:
        raise ValueError(
            f"{len(rows)} rows cannot spare n_eval={args.n_eval} held-out rows; "
            "set eval_data_file or a smaller n_eval"
        )
    split = len(rows) - args.n_eval
    return _cap(rows[split:] if held_out else rows[:split], args.max_samples)


def _cap(rows: list[dict[str, Any]], n: int | None) -> list[dict[str, Any]]:
    return rows if n is None else rows[:n]


def chat_prompt(problem: str, system_prompt: str | None = None) -> list[dict[str, str]]:
    """The conversational prompt of one problem."""
    messages = [{"role": "system", "content": system_prompt}] if system_prompt else []
    return messages + [{"role": "user", "content": problem}]


def rl_dataset(rows: list[dict[str, Any]], system_prompt: str | None = None):
    """Rows -> a ``datasets.Dataset`` with ``prompt`` (chat) and the gold ``answer`` column."""
    from datasets import Dataset

    return Dataset.from_dict(
        {
            "prompt": [chat_prompt(r["problem"], system_prompt) for r in rows],
            "answer": [r["answer"] for r in rows],
        }
    )


def sft_dataset(rows: list[dict[str, Any]], system_prompt: str | None = None):
    """Rows -> a prompt-completion ``datasets.Dataset`` of worked solutions."""
    from datasets import Dataset

    return Dataset.from_dict(
        {
            "prompt": [chat_prompt(r["problem"], system_prompt) for r in rows],
            "completion": [[{"role": "assistant", "content": r["solution"]}] for r in rows],
        }
    )


@dataclass
class TinyModelArguments:
    """Sizes of the tiny local model, built when ``model_name_or_path`` is ``tiny``."""

    tiny_vocab_size: int = 400
    tiny_hidden_size: int = 64
    tiny_num_layers: int = 2


def resolve_model(
    model_name_or_path: str,
    output_dir: str | Path,
    rows: list[dict[str, Any]],
    tiny: TinyModelArguments | None = None,
    seed: int = 0,
    cpu: bool = False,
) -> str:
    """The model path to train: ``tiny`` builds the tiny model (tokenizer trained on ``rows``)
    under ``output_dir/tiny-model``; anything else is returned as it is (hub name or path).
    ``cpu`` must match the trainer config's ``use_cpu`` (it sets up the process group)."""
    if model_name_or_path != TINY:
        return model_name_or_path
    from accelerate import PartialState

    from rewardkit.trl import build_tiny_model

    tiny = tiny or TinyModelArguments()
    path = Path(output_dir) / "tiny-model"
    corpus = [f"{r['problem']} {r['solution']}" for r in rows[:2000]]
    with PartialState(cpu=cpu).main_process_first():  # one process builds, the others reuse it
        build_tiny_model(
            path,
            corpus=corpus,
            vocab_size=tiny.tiny_vocab_size,
            hidden_size=tiny.tiny_hidden_size,
            num_layers=tiny.tiny_num_layers,
            max_positions=512,
            seed=seed,
        )
    return str(path)


def parse_recipe_args(parser: Any, args: Sequence[str] | None = None) -> tuple[Any, ...]:
    """``parser.parse_args_and_config(args)``; on a machine without a GPU the training config
    gets ``use_cpu=True`` and ``bf16=False`` (the GSM8K configs ask for bf16 on a GPU, and
    TRL refuses bf16 without one), said in one log line. ``args`` defaults to the command
    line.
    """
    import sys

    from rewardkit.trl.device import has_accelerator

    args = list(sys.argv[1:] if args is None else args)
    trains = any(
        "use_cpu" in {f.name for f in dataclasses.fields(t)} for t in parser.dataclass_types
    )
    if trains and not has_accelerator():
        logger.warning("no GPU found: training on the CPU (use_cpu=True, bf16=False)")
        args += ["--use_cpu", "true", "--bf16", "false"]
    return parser.parse_args_and_config(args)
