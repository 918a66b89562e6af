"""PutLogEvents through boto3: logpond against moto's server, in the same run.

Usage: python bench/cloudwatch.py [--seconds 6] [--threads 1,8,32] [--batches 100,10000]

Each configuration (target x threads x batch size) runs for ``--seconds``: every thread
has its own boto3 client and its own log stream and sends PutLogEvents as fast as they are
answered. Events are short JSON log lines (the 10,000-event batch must stay under CloudWatch's
1,048,576-byte limit, 26 bytes per event included). The client side (boto3 validating,
serializing and signing; about 70 ms of CPU for a 10,000-event call) runs on the same
machine and costs the same for both targets, so it caps the ratio between them.

A second pass ("replay") measures the servers without that client cost: each thread has
botocore sign one PutLogEvents request, then sends those exact bytes again and again over
a keep-alive connection (a signature stays valid for 15 minutes; both servers accept
repeated events).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import httpx
import orjson
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials

from _harness import ACCESS_KEY_ID, SECRET, free_port, run_server

REGION = "us-east-1"
LEVELS = ("info", "info", "info", "warn", "error")


@dataclass
class Target:
    name: str
    url: str
    key: str
    secret: str


@dataclass
class Outcome:
    mode: str
    target: str
    threads: int
    batch: int
    requests: int
    events: int
    seconds: float
    errors: int

    @property
    def rate(self) -> float:
        return self.events / self.seconds if self.seconds else 0.0


@contextlib.contextmanager
def moto_server(workdir: Path) -> Iterator[Target]:
    """moto's standalone server (``moto[server]``) on a free port."""
    port = free_port()
    log = open(workdir / "moto.log", "wb")  # noqa: SIM115
    process = subprocess.Popen(
        [str(Path(sys.executable).parent / "moto_server"), "-p", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        if process.poll() is not None:
            raise RuntimeError("moto_server exited; see moto.log")
        with contextlib.suppress(httpx.HTTPError):
            httpx.get(url + "/moto-api/", timeout=1)
            break
        if time.monotonic() > deadline:
            raise RuntimeError("moto_server did not start")
        time.sleep(0.1)
    try:
        yield Target("moto", url, "testing", "testing")
    finally:
        process.terminate()
        process.wait(30)
        log.close()


def client(target: Target) -> Any:
    return boto3.client(
        "logs",
        endpoint_url=target.url,
        region_name=REGION,
        aws_access_key_id=target.key,
        aws_secret_access_key=target.secret,
        config=Config(retries={"max_attempts": 1}, max_pool_connections=4),
    )


def messages(count: int) -> list[str]:
    return [
        f'{{"level":"{LEVELS[i % 5]}","msg":"req {i}","trace_id":"t{i % 977:04d}","ms":{i % 300}}}'
        for i in range(count)
    ]


def signed(target: Target, group: str, stream: str, texts: list[str]) -> tuple[bytes, dict[str, str]]:
    """One PutLogEvents request signed by botocore: body and headers."""
    now = int(time.time() * 1000)
    body = orjson.dumps(
        {
            "logGroupName": group,
            "logStreamName": stream,
            "logEvents": [{"timestamp": now, "message": m} for m in texts],
        }
    )
    request = AWSRequest(
        method="POST",
        url=target.url + "/",
        data=body,
        headers={"X-Amz-Target": "Logs_20140328.PutLogEvents", "Content-Type": "application/x-amz-json-1.1"},
    )
    SigV4Auth(Credentials(target.key, target.secret), "logs", REGION).add_auth(request)
    return body, dict(request.headers.items())


def run(target: Target, threads: int, batch: int, seconds: float, group: str, mode: str) -> Outcome:
    setup = client(target)
    setup.create_log_group(logGroupName=group)
    for index in range(threads):
        setup.create_log_stream(logGroupName=group, logStreamName=f"s{index}")
    texts = messages(batch)
    clients = [client(target) for _ in range(threads)]
    counts = [0] * threads
    errors = [0] * threads
    start = threading.Barrier(threads + 1)
    stop_at = [0.0]

    def work(index: int) -> None:
        logs = clients[index]
        start.wait()
        while time.perf_counter() < stop_at[0]:
            now = int(time.time() * 1000)
            events = [{"timestamp": now, "message": m} for m in texts]
            try:
                logs.put_log_events(logGroupName=group, logStreamName=f"s{index}", logEvents=events)
            except Exception:
                errors[index] += 1
                continue
            counts[index] += 1

    def replay(index: int) -> None:
        body, headers = signed(target, group, f"s{index}", texts)
        with httpx.Client(timeout=120) as http:
            start.wait()
            while time.perf_counter() < stop_at[0]:
                response = http.post(target.url + "/", content=body, headers=headers)
                if response.status_code != 200:
                    errors[index] += 1
                    continue
                counts[index] += 1

    workers = [
        threading.Thread(target=work if mode == "boto3" else replay, args=(i,)) for i in range(threads)
    ]
    for worker in workers:
        worker.start()
    began = time.perf_counter()
    stop_at[0] = began + seconds
    start.wait()
    for worker in workers:
        worker.join()
    elapsed = time.perf_counter() - began
    requests = sum(counts)
    return Outcome(mode, target.name, threads, batch, requests, requests * batch, elapsed, sum(errors))


def table(outcomes: list[Outcome]) -> str:
    lines = [
        "| client | threads | batch | logpond events/s | moto events/s | logpond / moto |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    keyed = {(o.mode, o.target, o.threads, o.batch): o for o in outcomes}
    for mode, threads, batch in sorted({(o.mode, o.threads, o.batch) for o in outcomes}):
        ours, theirs = keyed.get((mode, "logpond", threads, batch)), keyed.get((mode, "moto", threads, batch))
        ratio = f"{ours.rate / theirs.rate:.1f}x" if ours and theirs and theirs.rate else "-"
        lines.append(
            f"| {mode} | {threads} | {batch:,} | {ours.rate if ours else 0:,.0f} "
            f"| {theirs.rate if theirs else 0:,.0f} | {ratio} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=6.0)
    parser.add_argument("--threads", default="1,8,32")
    parser.add_argument("--batches", default="100,10000")
    parser.add_argument(
        "--modes", default="boto3,replay", help="boto3 (the real client), replay (no client cost)"
    )
    args = parser.parse_args()
    thread_counts = [int(t) for t in args.threads.split(",")]
    batches = [int(b) for b in args.batches.split(",")]
    for name in [n for n in os.environ if n.startswith("AWS_")]:
        del os.environ[name]
    outcomes: list[Outcome] = []
    with tempfile.TemporaryDirectory(prefix="logpond-bench-cw-") as tmp:
        workdir = Path(tmp)
        with run_server(workdir / "data") as server, moto_server(workdir) as moto:
            ours = Target("logpond", server.url, ACCESS_KEY_ID, SECRET)
            for mode in args.modes.split(","):
                for batch in batches:
                    for threads in thread_counts:
                        for target in (ours, moto):
                            group = f"/bench/{mode}/{target.name}/{threads}x{batch}"
                            outcome = run(target, threads, batch, args.seconds, group, mode)
                            outcomes.append(outcome)
                            print(
                                f"{mode:6} {target.name:8} threads={threads:<3} batch={batch:<6} "
                                f"requests={outcome.requests:<6} errors={outcome.errors:<4} "
                                f"events/s={outcome.rate:,.0f}",
                                flush=True,
                            )
    print()
    print(table(outcomes))


if __name__ == "__main__":
    main()
