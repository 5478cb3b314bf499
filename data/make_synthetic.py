"""Write seeded synthetic math problems (rewardkit.datasets.synthetic) to JSONL files.

    python data/make_synthetic.py --out data/synthetic --n-train 4000 --n-eval 200 --levels 1,2,3

writes ``train.jsonl`` and ``test.jsonl`` (disjoint problems) with the columns ``problem``,
``answer``, ``solution`` (``<think>`` steps, then ``\\boxed{answer}``), ``solution_correct``,
``level``, ``subject`` and ``unique_id``. The recipes read these files with ``--data_file``.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from rewardkit.datasets import LEVELS, train_eval_split


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="data/synthetic", help="output directory")
    parser.add_argument("--n-train", type=int, default=4000)
    parser.add_argument("--n-eval", type=int, default=200)
    parser.add_argument("--levels", default=",".join(map(str, LEVELS)))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--teacher-error",
        type=float,
        default=0.0,
        help="share of worked solutions with a careless mistake",
    )
    args = parser.parse_args(argv)
    train, test = train_eval_split(
        args.n_train,
        args.n_eval,
        seed=args.seed,
        levels=[int(x) for x in args.levels.split(",")],
        teacher_error=args.teacher_error,
    )
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for name, rows in (("train", train), ("test", test)):
        with (out / f"{name}.jsonl").open("w", encoding="utf-8") as f:
            for row in rows:
                f.write(json.dumps(row) + "\n")
        print(f"wrote {len(rows)} problems to {out / f'{name}.jsonl'}")


if __name__ == "__main__":
    main()
