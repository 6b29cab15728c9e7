"""A small load test of POST /api/chat: N concurrent users, each asking questions back to back.

    python -m service.loadtest --url http://127.0.0.1:8000 --users 1 16 --requests 200

Reports, per concurrency level, p50/p95/p99 latency, throughput and the error count (any status other than
200, a broken stream or a connection error counts). Start the server with POLICYQA_RATE_LIMIT_PER_MINUTE=0, or
the per-address rate limit will (correctly) answer 429 to a single machine sending this many requests.
"""
from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import statistics
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import httpx

# questions about the sample corpus (data/speeches), answerable and not, used when no --questions file is given
SAMPLE_QUESTIONS = [
    "招商引资有哪些要求？",
    "“四讲四比”主题活动的指导思想是什么？",
    "作风建设要整治哪些问题？",
    "四大会战指的是什么？",
    "农业农村工作的重点任务有哪些？",
    "How should investment promotion be organised?",
    "项目建设方面有什么要求？",
    "明年的财政预算是多少？",
]


@dataclass
class LevelResult:
    """What one concurrency level measured."""

    users: int
    latencies_ms: list[float] = field(default_factory=list)
    errors: Counter = field(default_factory=Counter)
    seconds: float = 0.0

    def summary(self) -> dict:
        """p50/p95/p99/mean latency (ms), throughput (requests/s) and errors."""
        lat = sorted(self.latencies_ms)

        def pct(p: float) -> float | None:
            return round(lat[min(len(lat) - 1, int(round(p / 100 * (len(lat) - 1))))], 1) if lat else None

        return {"users": self.users, "requests": len(lat) + sum(self.errors.values()), "ok": len(lat),
                "errors": sum(self.errors.values()), "error_kinds": dict(self.errors),
                "p50_ms": pct(50), "p95_ms": pct(95), "p99_ms": pct(99),
                "mean_ms": round(statistics.fmean(lat), 1) if lat else None,
                "throughput_rps": round(len(lat) / self.seconds, 2) if self.seconds else None}


def load_questions(path: Path | None) -> list[str]:
    """Questions from a JSONL file with a "question" field (e.g. ../shared/eval/dev.jsonl), or the samples."""
    if path is None:
        return SAMPLE_QUESTIONS
    questions = [json.loads(line)["question"] for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    if not questions:
        raise SystemExit(f"{path}: no questions")
    return questions


async def ask(client: httpx.AsyncClient, question: str, stream: bool) -> str | None:
    """One chat request; None when it succeeded, else what went wrong."""
    if not stream:
        r = await client.post("/api/chat", json={"question": question})
        if r.status_code != 200:
            return f"HTTP {r.status_code}"
        return None if "answer" in r.json() else "no answer in the body"
    async with client.stream("POST", "/api/chat", json={"question": question, "stream": True}) as r:
        if r.status_code != 200:
            return f"HTTP {r.status_code}"
        events = [line[6:].strip() async for line in r.aiter_lines() if line.startswith("event:")]
    return None if events and events[-1] == "done" else f"stream ended with {events[-1:] or 'nothing'}"


async def run_level(url: str, users: int, requests: int, questions: list[str], stream: bool,
                    headers: dict[str, str], timeout: float) -> LevelResult:
    """`requests` chat requests spread over `users` concurrent workers."""
    result = LevelResult(users)
    counter = itertools.count()
    pool = itertools.cycle(questions)
    limits = httpx.Limits(max_connections=users, max_keepalive_connections=users)
    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=timeout, limits=limits) as client:

        async def user() -> None:
            while next(counter) < requests:
                started = time.perf_counter()
                try:
                    error = await ask(client, next(pool), stream)
                except httpx.HTTPError as exc:
                    error = type(exc).__name__
                if error is None:
                    result.latencies_ms.append((time.perf_counter() - started) * 1000)
                else:
                    result.errors[error] += 1

        started = time.perf_counter()
        await asyncio.gather(*(user() for _ in range(users)))
        result.seconds = time.perf_counter() - started
    return result


def main(argv: list[str] | None = None) -> int:
    """Run the load test and print one line per concurrency level (and JSON with --json)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--url", default="http://127.0.0.1:8000", help="Base URL of a running `policyqa serve`.")
    parser.add_argument("--users", type=int, nargs="+", default=[1, 16], help="Concurrency levels.")
    parser.add_argument("--requests", type=int, default=200, help="Requests per concurrency level.")
    parser.add_argument("--warmup", type=int, default=5, help="Unmeasured requests before the first level.")
    parser.add_argument("--questions", type=Path, help="JSONL file with a 'question' field per line.")
    parser.add_argument("--stream", action="store_true", help="Use server-sent events (time to the done event).")
    parser.add_argument("--key", help="API key to send (X-API-Key).")
    parser.add_argument("--timeout", type=float, default=120.0)
    parser.add_argument("--json", type=Path, help="Also write the results to this JSON file.")
    args = parser.parse_args(argv)
    questions = load_questions(args.questions)
    headers = {"X-API-Key": args.key} if args.key else {}
    if args.warmup:
        asyncio.run(run_level(args.url, 1, args.warmup, questions, args.stream, headers, args.timeout))
    results = []
    for users in args.users:
        summary = asyncio.run(run_level(args.url, users, args.requests, questions, args.stream, headers,
                                        args.timeout)).summary()
        results.append(summary)
        print(f"users={summary['users']:>3}  requests={summary['requests']}  p50={summary['p50_ms']} ms  "
              f"p95={summary['p95_ms']} ms  p99={summary['p99_ms']} ms  {summary['throughput_rps']} req/s  "
              f"errors={summary['errors']} {summary['error_kinds'] or ''}", flush=True)
        if any(k == "HTTP 429" for k in summary["error_kinds"]):
            print("  (429: restart the server with POLICYQA_RATE_LIMIT_PER_MINUTE=0 for load tests)", file=sys.stderr)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"url": args.url, "stream": args.stream, "levels": results}, indent=1))
    return 1 if any(r["errors"] for r in results) else 0


if __name__ == "__main__":
    raise SystemExit(main())
