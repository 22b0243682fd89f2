"""The hosted service against `c2v batch`, in one run, on the same topics (offline, tier l).

1. `c2v batch` of the topics (fresh output folder, --parallel-groups N): videos per minute.
2. `c2v serve` (fresh output folder and SQLite store, --max-in-flight N): the same topics
   submitted at once; videos per minute from the first submit to the last success, and,
   while they render, the latency of `GET /v1/videos/{id}` from 20 concurrent clients.

The ratio of the two throughputs is the service's overhead (Serve, the store, SSE, one
Ray task per video). Usage: .venv/bin/python scripts/bench_service.py [--topics N] [--out FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from c2v.client import Client  # noqa: E402
from tests.service.served import Served, c2v_cli  # noqa: E402

TOPICS = ["Binary search", "Pythagorean theorem", "Euler's formula"]


def bench_batch(topics: list[str], parallel: int, out: Path) -> float:
    topics_file = out / "topics.json"
    topics_file.write_text(json.dumps(topics))
    started = time.monotonic()
    done = c2v_cli(
        "batch",
        str(topics_file),
        "-o",
        str(out / "cases"),
        "--parallel-groups",
        str(parallel),
        "--sandbox",
        "bwrap",
        "--num-cpus",
        "2",
        env={},
        timeout=3600,
    )
    if done.returncode != 0:
        raise SystemExit(f"c2v batch failed: {done.stderr[-2000:]}")
    return time.monotonic() - started


def bench_service(topics: list[str], parallel: int, out: Path, clients: int) -> tuple[float, list[float]]:
    env = {"C2V_DATABASE_URL": f"sqlite:///{out / 'store.db'}"}
    made = c2v_cli("keys", "create", "bench", "-o", str(out), env=env)
    key = made.stdout.strip()
    served = Served(
        out, env, "--max-in-flight", str(parallel), "--tenant-rpm", "1000000", "--tenant-max-in-flight", "100"
    )
    latencies: list[float] = []
    failures: list[int] = []
    stop = threading.Event()
    try:
        with Client(served.url, key) as c2v:
            started = time.monotonic()
            ids = [c2v.submit(t).id for t in topics]

            def poll(n: int) -> None:
                auth = {"Authorization": f"Bearer {key}"}
                with httpx.Client(base_url=served.url, headers=auth, timeout=120) as http:
                    while not stop.is_set():
                        t0 = time.perf_counter()
                        try:
                            http.get(f"/v1/videos/{ids[n % len(ids)]}").raise_for_status()
                        except httpx.HTTPError:
                            failures.append(1)
                        latencies.append(time.perf_counter() - t0)
                        time.sleep(0.1)

            pollers = [threading.Thread(target=poll, args=(n,), daemon=True) for n in range(clients)]
            for thread in pollers:
                thread.start()
            for vid in ids:
                view = c2v.wait(vid, timeout_s=3600)
                if view.status.value != "succeeded":
                    raise SystemExit(f"video {vid} ended {view.status.value}: {view.error}")
            elapsed = time.monotonic() - started
            stop.set()
            for thread in pollers:
                thread.join(10)
    finally:
        served.stop()
    if failures:
        print(f"bench: {len(failures)} status calls failed", file=sys.stderr)
    return elapsed, latencies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--topics", type=int, default=3, help="how many bundled topics (1-3)")
    parser.add_argument("--parallel", type=int, default=3, help="videos in flight in both runs")
    parser.add_argument("--clients", type=int, default=20, help="concurrent status pollers")
    parser.add_argument("--out", type=Path, default=None, help="also write the figures as JSON here")
    args = parser.parse_args()
    topics = TOPICS[: args.topics]
    os.environ.setdefault("C2V_LOG_LEVEL", "WARNING")
    with tempfile.TemporaryDirectory(prefix="c2v-bench-service-") as tmp:
        base = Path(tmp)
        (base / "batch").mkdir()
        (base / "service").mkdir()
        batch_s = bench_batch(topics, args.parallel, base / "batch")
        service_s, latencies = bench_service(topics, args.parallel, base / "service", args.clients)
    q = statistics.quantiles(latencies, n=100) if len(latencies) >= 2 else [float("nan")] * 99
    figures = {
        "videos": len(topics),
        "batch_s": round(batch_s, 1),
        "service_s": round(service_s, 1),
        "batch_videos_per_min": round(len(topics) / batch_s * 60, 2),
        "service_videos_per_min": round(len(topics) / service_s * 60, 2),
        "service_over_batch_time": round(service_s / batch_s, 3),
        "status_calls": len(latencies),
        "status_p50_ms": round(q[49] * 1000, 1),
        "status_p95_ms": round(q[94] * 1000, 1),
        "clients": args.clients,
    }
    print(json.dumps(figures, indent=2))
    if args.out:
        args.out.write_text(json.dumps(figures, indent=2) + "\n")


if __name__ == "__main__":
    main()
