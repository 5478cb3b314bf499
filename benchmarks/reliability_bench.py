"""Reliability under fuzzing: does any verifier call overrun its timeout, raise, leak a
process or grow memory without bound?

Grammar-based, seeded fuzzing: random answers (numbers, names, powers and power chains,
fractions, roots, factorials, binomials, matrices, long sums, runs of spaces, newlines and
braces) wrapped in the answer conventions (``\\boxed{}``, ``The answer is``, ``A:``,
``####``), compared with random golds through ``verify``, from 8 threads and from asyncio.
Prints calls, the worst overrun beyond timeout + 0.5 s (target 0), exceptions (target 0),
worker processes left 5 s after the calling process is SIGKILLed (target 0), and the
resident memory after each checkpoint (a plateau, not a slope).

    python benchmarks/reliability_bench.py                  # 100k calls, RSS at 10k and 100k
    python benchmarks/reliability_bench.py --calls 3000 --checkpoints 1000,3000   # quick
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from tqdm.auto import tqdm

from rewardkit.verify import verify
from rewardkit.verify.sandbox import default_pool

SLACK = 0.5


def _atom(rng: random.Random) -> str:
    kind = rng.randrange(6)
    if kind == 0:
        return str(rng.randrange(-50, 1000))
    if kind == 1:
        return rng.choice("xyznab")
    if kind == 2:
        return f"{rng.randrange(1, 99)}.{rng.randrange(100)}"
    if kind == 3:
        return rng.choice([r"\pi", "e", r"\infty", "i"])
    if kind == 4:
        return "9" * rng.choice([30, 300, 1500])
    return rf"\frac{{{rng.randrange(1, 50)}}}{{{rng.randrange(1, 50)}}}"


def _expr(rng: random.Random, depth: int = 0) -> str:
    if depth > 3 or rng.random() < 0.3:
        return _atom(rng)
    a, b = _expr(rng, depth + 1), _expr(rng, depth + 1)
    kind = rng.randrange(12)
    if kind == 0:
        return f"{a}+{b}"
    if kind == 1:
        return f"{a}-{b}"
    if kind == 2:
        return rf"{a} \cdot {b}"
    if kind == 3:
        return rf"\frac{{{a}}}{{{b}}}"
    if kind == 4:
        return f"({a})^{{{rng.choice([2, 3, 99, 999, 9999])}}}"
    if kind == 5:
        return rf"\sqrt{{{a}}}"
    if kind == 6:
        return f"({a})!"
    if kind == 7:
        return rf"\binom{{{a}}}{{{rng.randrange(100000)}}}"
    if kind == 8:
        return "x" + "".join(f"^{{{rng.randrange(9999)}}}" for _ in range(rng.randrange(1, 4)))
    if kind == 9:
        return "+".join(f"x^{{{rng.randrange(9999)}}}" for _ in range(rng.randrange(2, 200)))
    if kind == 10:
        cells = " & ".join(_atom(rng) for _ in range(4))
        return r"\begin{pmatrix}" + cells + r" \\ " + cells + r"\end{pmatrix}"
    return rf"\exp({a})"


def _noise(rng: random.Random) -> str:
    return rng.choice([" ", "\n", "{", "}", "$", "\\", "9"]) * rng.choice([1, 30, 200, 20000])


def _completion(rng: random.Random) -> str:
    answer = _expr(rng)
    if rng.random() < 0.3:
        answer = answer + _noise(rng) if rng.random() < 0.5 else _noise(rng) + answer
    form = rng.randrange(5)
    if form == 0:
        return rf"so \boxed{{{answer}}}"
    if form == 1:
        return f"The answer is {answer}"
    if form == 2:
        return f"A: {answer}"
    if form == 3:
        return f"#### {answer}"
    return rf"<think>{_noise(rng)}</think> \boxed{{{answer}}} and \boxed{{{_atom(rng)}}}"


def fuzzed_pairs(n: int, seed: int) -> list[tuple[str, str]]:
    rng = random.Random(seed)
    return [(_completion(rng), _expr(rng) if rng.random() < 0.5 else _atom(rng)) for _ in range(n)]


def _rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


class Stats:
    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self.calls = 0
        self.worst = 0.0
        self.exceptions = 0
        self.overruns = 0

    def one(self, pair: tuple[str, str]) -> None:
        start = time.perf_counter()
        try:
            verify(*pair, timeout=self.timeout)
        except Exception:  # noqa: BLE001  (counted: the target is none)
            self.exceptions += 1
        over = time.perf_counter() - start - self.timeout - SLACK
        self.calls += 1
        self.overruns += over > 0
        self.worst = max(self.worst, over)


def run_threads(pairs, timeout: float, checkpoints: list[int]) -> tuple[Stats, dict[int, float]]:
    stats, rss = Stats(timeout), {}
    done = 0
    bar = tqdm(total=len(pairs), desc="8 threads")
    with ThreadPoolExecutor(max_workers=8) as executor, bar:
        for mark in checkpoints:
            chunk = pairs[done:mark]
            list(executor.map(stats.one, chunk))
            done = mark
            bar.update(len(chunk))
            rss[mark] = _rss_mb()
    return stats, rss


def run_asyncio(pairs, timeout: float) -> Stats:
    stats = Stats(timeout)

    async def main() -> None:
        queue = list(pairs)

        async def consumer() -> None:
            while queue:
                await asyncio.to_thread(stats.one, queue.pop())

        await asyncio.gather(*(consumer() for _ in range(8)))

    asyncio.run(main())
    return stats


_KILLED_PARENT = """
import sys, threading
from rewardkit.verify import verify
slow = r"\\boxed{(1+x)\\binom{x}{20000}}", r"\\binom{x}{20000}+x\\binom{x}{20000}"
for _ in range(8):
    threading.Thread(target=lambda: [verify(*slow, timeout=600) for _ in range(9)]).start()
print("started", flush=True)
threading.Event().wait()
"""


def processes_left_after_kill() -> int:
    """Descendants of a verifying process still alive 5 s after it was SIGKILLed."""
    root = str(Path(__file__).resolve().parents[1])
    parent = subprocess.Popen(
        [sys.executable, "-c", _KILLED_PARENT],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": root},
    )
    parent.stdout.readline()
    deadline = time.monotonic() + 120
    family: list[int] = []
    while time.monotonic() < deadline and len(family) < 3:  # the zygote and busy workers
        time.sleep(1)
        family = _descendants(parent.pid)
    parent.send_signal(signal.SIGKILL)
    parent.wait()
    time.sleep(5)
    left = [p for p in family if _alive(p)]
    for pid in left:
        os.kill(pid, signal.SIGKILL)
    return len(left)


def _descendants(pid: int) -> list[int]:
    found = []
    for task in os.listdir(f"/proc/{pid}/task") if os.path.isdir(f"/proc/{pid}") else []:
        try:
            with open(f"/proc/{pid}/task/{task}/children") as f:
                children = [int(p) for p in f.read().split()]
        except OSError:
            continue
        for child in children:
            found += [child, *_descendants(child)]
    return found


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--calls", type=int, default=100_000)
    parser.add_argument("--checkpoints", default="10000,100000", help="RSS after these calls")
    parser.add_argument("--async-calls", type=int, default=2000)
    parser.add_argument("--timeout", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    checkpoints = sorted({min(int(c), args.calls) for c in args.checkpoints.split(",")})
    if checkpoints[-1] != args.calls:
        checkpoints.append(args.calls)
    default_pool(size=2).warm_up()
    pairs = fuzzed_pairs(args.calls, args.seed)
    start = time.perf_counter()
    threads, rss = run_threads(pairs, args.timeout, checkpoints)
    thread_seconds = time.perf_counter() - start
    start = time.perf_counter()
    loop = run_asyncio(fuzzed_pairs(args.async_calls, args.seed + 1), args.timeout)
    async_seconds = time.perf_counter() - start
    left = processes_left_after_kill()
    print(f"\nverify(timeout={args.timeout}), seed {args.seed}, pool of 2 workers\n")
    print("| caller     | calls  | seconds | worst overrun (s) | overruns | exceptions |")
    print("|------------|-------:|--------:|------------------:|---------:|-----------:|")
    rows = (("8 threads", threads, thread_seconds), ("asyncio", loop, async_seconds))
    for name, stats, seconds in rows:
        print(
            f"| {name:10s} | {stats.calls:6d} | {seconds:7.1f} | {max(stats.worst, 0):17.2f} "
            f"| {stats.overruns:8d} | {stats.exceptions:10d} |"
        )
    print(f"\nprocesses left 5 s after SIGKILL of a busy verifying process: {left}")
    print("\n| calls  | RSS (MB) |\n|-------:|---------:|")
    for mark, mb in rss.items():
        print(f"| {mark:6d} | {mb:8.1f} |")


if __name__ == "__main__":
    main()
