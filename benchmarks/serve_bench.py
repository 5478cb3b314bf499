"""Benchmark: the reward server under OpenRLHF-style load vs scoring in-process.

Samples: GSM8K example model solutions (real model outputs ending in ``A: N``, 4 per
question, 5,276 in all), cycled up to ``--requests``; each request is one sample, posted
OpenRLHF's way (``POST /get_reward`` with ``query = prompt + response``), ``--concurrency``
at a time from one httpx client process. The server runs in its own process
(``rewardkit serve --reward boxed_accuracy@boxed_only=false``) with ``--processes``
scoring workers.

Peer: the same samples scored in this process with ``verify_batch``, all at once (it
verifies each distinct pair once) and in batches of 64 (as the server gathers them).

Second run: ``--hostile`` of the requests are crafted to hit the verifier's timeout
(``--verify-timeout`` seconds of symbolic work in a sandbox); the latency of the others is
compared with the clean run (target: p99 within 2x).

Usage: PYTHONPATH=. python benchmarks/serve_bench.py [--requests 20000] [--concurrency 64]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx
from tqdm import tqdm

ROOT = Path(__file__).resolve().parents[1]
DATA_NAME = "gsm8k_example_model_solutions.jsonl"
MODELS = ("6b_finetuning", "6b_verification", "175b_finetuning", "175b_verification")


def find_data(given: str | None) -> Path:
    candidates = (
        [Path(given)]
        if given
        else [
            ROOT.parent / "shared" / "data" / DATA_NAME,
            ROOT.parents[1] / "shared" / "data" / DATA_NAME,  # from a git worktree
        ]
    )
    for path in candidates:
        if path.exists():
            return path
    sys.exit(f"GSM8K solutions not found at {', '.join(map(str, candidates))}: pass --data")


def load_samples(path: Path) -> list[tuple[str, str, str]]:
    """(prompt, response, label) for every model solution."""
    samples = []
    with path.open(encoding="utf-8") as lines:
        for line in lines:
            row = json.loads(line)
            prompt = f"Question: {row['question']}\nAnswer: "
            for model in MODELS:
                samples.append((prompt, row[model]["solution"], row["ground_truth"]))
    return samples


def hostile(i: int) -> tuple[str, str, str]:
    """A sample whose comparison needs long symbolic work (a different one each time)."""
    n = 100000 + i
    return (
        "Question: ?\nAnswer: ",
        f"\\boxed{{(1+x)\\binom{{x}}{{{n}}}}}",
        f"\\binom{{x}}{{{n}}}+x\\binom{{x}}{{{n}}}",
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(port: int, processes: int, verify_timeout: float) -> subprocess.Popen:
    spec = f"boxed_accuracy@boxed_only=false,timeout={verify_timeout}"
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
    }
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "rewardkit.cli",
            "serve",
            "--reward",
            spec,
            "--port",
            str(port),
            "--processes",
            str(processes),
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                return server
        except httpx.HTTPError:
            time.sleep(0.2)
        if server.poll() is not None:
            sys.exit(f"the server exited: {server.stderr.read().decode()[-2000:]}")
    server.kill()
    sys.exit("the server did not start in 180 s")


async def _client(url: str, requests, indexes, concurrency: int, progress) -> dict:
    """One client process's share: latency and reward per request index."""
    out = {}
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    queue = iter(indexes)
    async with httpx.AsyncClient(limits=limits, timeout=120) as client:

        async def worker():
            for i in queue:
                prompt, response, label = requests[i]
                body = {"query": [prompt + response], "prompts": [prompt], "labels": [label]}
                start = time.perf_counter()
                for attempt in range(5):  # as the frameworks' clients do
                    try:
                        reply = await client.post(f"{url}/get_reward", json=body)
                    except httpx.TransportError:
                        if attempt == 4:
                            raise
                        out["retries"] = out.get("retries", 0) + 1
                        continue
                    if reply.status_code != 503:
                        break
                    await asyncio.sleep(0.05)
                reply.raise_for_status()
                out[i] = (time.perf_counter() - start, reply.json()["rewards"][0])
                progress()

        await asyncio.gather(*(worker() for _ in range(concurrency)))
    return out


def _client_process(url, requests, indexes, concurrency, conn) -> None:
    done = [0]

    def progress():
        done[0] += 1
        if done[0] % 200 == 0:
            conn.send(200)

    out = asyncio.run(_client(url, requests, indexes, concurrency, progress))
    conn.send(("done", out, time.process_time()))


def load_test(url: str, requests, concurrency: int, clients: int, desc: str):
    """Post every request from ``clients`` processes sharing ``concurrency`` connections;
    returns (seconds, latencies, rewards, client CPU seconds)."""
    import multiprocessing as mp

    ctx = mp.get_context("spawn")
    pipes, procs = [], []
    start = time.perf_counter()
    for k in range(clients):
        parent, child = ctx.Pipe()
        share = list(range(k, len(requests), clients))
        proc = ctx.Process(
            target=_client_process, args=(url, requests, share, concurrency // clients, child)
        )
        proc.start()
        pipes.append(parent)
        procs.append(proc)
    results, cpu, retries = {}, 0.0, 0
    with tqdm(total=len(requests), desc=desc, unit="req", mininterval=1.0) as bar:
        open_pipes = list(pipes)
        while open_pipes:
            for pipe in mp.connection.wait(open_pipes):
                message = pipe.recv()
                if isinstance(message, tuple):
                    retries += message[1].pop("retries", 0)
                    results.update(message[1])
                    cpu += message[2]
                    open_pipes.remove(pipe)
                else:
                    bar.update(message)
    seconds = time.perf_counter() - start
    for proc in procs:
        proc.join()
    latencies = [results[i][0] for i in range(len(requests))]
    rewards = [results[i][1] for i in range(len(requests))]
    if retries:
        print(f"{desc}: {retries} requests retried after a connection error")
    return seconds, latencies, rewards, cpu


def tree_cpu(pid: int) -> float:
    """CPU seconds of a process and its live descendants (the server and its workers)."""
    total = 0.0
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        for task in Path(f"/proc/{pid}/task").iterdir():
            for child in (task / "children").read_text().split():
                total += tree_cpu(int(child))
    except (OSError, ValueError, IndexError):
        pass
    return total


def in_process(requests, batch: int | None) -> tuple[float, list[float]]:
    from rewardkit.verify import verify_batch

    pairs = [(response, label) for _, response, label in requests]
    start = time.perf_counter()
    if batch is None:
        verdicts = verify_batch(pairs, boxed_only=False)
    else:
        verdicts = []
        for i in tqdm(range(0, len(pairs), batch), desc=f"in-process x{batch}", mininterval=1.0):
            verdicts += verify_batch(pairs[i : i + batch], boxed_only=False)
    return time.perf_counter() - start, [float(v.correct) for v in verdicts]


def pct(values: list[float], q: float) -> float:
    return (
        statistics.quantiles(values, n=100, method="inclusive")[q - 1]
        if len(values) > 1
        else values[0]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data")
    parser.add_argument("--requests", type=int, default=20000)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--clients", type=int, default=2, help="client processes")
    parser.add_argument("--hostile", type=float, default=0.01)
    parser.add_argument("--verify-timeout", type=float, default=1.0)
    args = parser.parse_args()

    samples = load_samples(find_data(args.data))
    requests = [samples[i % len(samples)] for i in range(args.requests)]
    load_before = os.getloadavg()

    whole_s, expected = in_process(requests, None)
    batched_s, _ = in_process(requests, 64)

    port = free_port()
    server = start_server(port, args.processes, args.verify_timeout)
    url = f"http://127.0.0.1:{port}"
    try:
        cpu0 = tree_cpu(server.pid)
        clean_s, clean_lat, rewards, client_cpu = load_test(
            url, requests, args.concurrency, args.clients, "server, clean"
        )
        server_cpu = tree_cpu(server.pid) - cpu0
        agree = sum(r == e for r, e in zip(rewards, expected, strict=True)) / len(requests)
        every = max(1, round(1 / args.hostile)) if args.hostile > 0 else 0
        mixed = [
            hostile(i) if every and i % every == every // 2 else r for i, r in enumerate(requests)
        ]
        bad = {i for i in range(len(mixed)) if every and i % every == every // 2}
        mixed_s, mixed_lat, mixed_rewards, _ = load_test(
            url, mixed, args.concurrency, args.clients, "server, hostile"
        )
        metrics = httpx.get(f"{url}/metrics").text
    finally:
        server.terminate()
        server.wait(timeout=60)
    load_after = os.getloadavg()

    others = [t for i, t in enumerate(mixed_lat) if i not in bad]
    hostile_lat = [t for i, t in enumerate(mixed_lat) if i in bad]
    n = len(requests)
    rows = [
        ("in-process verify_batch, all at once", n / whole_s, None, None),
        ("in-process verify_batch, batches of 64", n / batched_s, None, None),
        (
            "server /get_reward, 1 sample a request",
            n / clean_s,
            pct(clean_lat, 50),
            pct(clean_lat, 99),
        ),
        (
            f"server, {len(bad)} hostile: the others",
            len(others) / mixed_s,
            pct(others, 50),
            pct(others, 99),
        ),
        (
            "server, hostile samples themselves",
            None,
            pct(hostile_lat, 50) if hostile_lat else None,
            pct(hostile_lat, 99) if hostile_lat else None,
        ),
    ]
    print()
    print(
        f"{n} requests, concurrency {args.concurrency} from {args.clients} client processes, "
        f"{args.processes} scoring processes, {os.cpu_count()} CPUs; "
        f"load average before {load_before[0]:.1f}, after {load_after[0]:.1f}"
    )
    print(f"{'method':<44}{'samples/s':>11}{'p50 ms':>9}{'p99 ms':>9}")
    for name, rate, p50, p99 in rows:
        cells = [f"{rate:>11.0f}" if rate else f"{'':>11}"]
        cells += [f"{v * 1000:>9.1f}" if v is not None else f"{'':>9}" for v in (p50, p99)]
        print(f"{name:<44}{''.join(cells)}")
    print()
    print(f"server / in-process (batches of 64): {n / clean_s / (n / batched_s):.2f}")
    print(f"server / in-process (all at once):   {n / clean_s / (n / whole_s):.2f}")
    print(f"p99 of the others, hostile / clean:  {pct(others, 99) / pct(clean_lat, 99):.2f}")
    print(f"server rewards equal in-process verdicts: {agree:.2%}")
    print(
        f"CPU per request (clean run): client {client_cpu / n * 1e3:.2f} ms, "
        f"server + workers {server_cpu / n * 1e3:.2f} ms"
    )
    timeouts = sum(1 for i in bad if mixed_rewards[i] == 0.0)
    print(f"hostile samples scored 0.0: {timeouts}/{len(bad)}")
    reasons = [x for x in metrics.splitlines() if x.startswith("rewardkit_reasons_total")]
    print("server reasons:", "; ".join(x.split("{", 1)[1] for x in reasons))


if __name__ == "__main__":
    main()
