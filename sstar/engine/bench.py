"""`sstar bench engine`: batched decoding against one-at-a-time, same model, same prompt.

Both paths get the same prompt, N, max_tokens, sampling settings and thread count, in the
same process, one after the other (never at the same time: they share the cores). Each is
warmed up on a different short prompt first, so that neither starts with the benchmark
prompt already in its KV cache. Times are wall clock and include prompt evaluation.
"""

from __future__ import annotations

import os
import resource
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from sstar.engine.base import Message, Request, SamplingParams

BENCH_MESSAGES = (
    Message("system", "You are an expert competitive programmer. Answer with a complete Python 3 program."),
    Message(
        "user",
        "Given an array of n integers (1 <= n <= 2*10^5), find the length of the longest contiguous "
        "subarray whose sum is divisible by k. Input: the first line has n and k, the second line the "
        "array. Print one integer. Explain your approach briefly, then write a complete Python 3 program "
        "that reads standard input.",
    ),
)
_WARMUP = (Message("user", "Say hello."),)


@dataclass
class EngineBenchResult:
    model: str
    n: int
    max_tokens: int
    threads: int
    prompt_tokens: int  # the prompt's length
    prompt_tokens_evaluated: int  # by the batched path for all N candidates
    batched_tokens: int
    batched_s: float
    batched_prompt_s: float
    batched_tok_s: float
    batched_cpu_s: float  # CPU time of this process: less sensitive than wall time to other load
    sequential_tokens: int
    sequential_s: float
    sequential_tok_s: float
    sequential_cpu_s: float
    ratio: float  # batched_tok_s / sequential_tok_s
    # What one decode step costs the batched engine with 1 and with N live sequences
    # (prompt time excluded). n * step_ms_1 / step_ms_n is the most that batching can
    # gain over decoding the N one at a time on this machine: the ceiling of `ratio`.
    step_ms_1: float
    step_ms_n: float
    decode_ceiling: float
    loadavg_before: tuple[float, float, float]
    loadavg_after: tuple[float, float, float]

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def _cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def run_engine_bench(
    model: str,
    *,
    n: int = 8,
    max_tokens: int = 128,
    temperature: float = 0.7,
    seed: int = 0,
    n_threads: int | None = None,
    progress: Callable[[str], None] | None = None,
) -> EngineBenchResult:
    from sstar.engine.llama import LlamaEngine, SequentialLlamaEngine, default_threads
    from sstar.models import resolve_model

    say = progress or (lambda _msg: None)
    threads = n_threads or default_threads()
    path = resolve_model(model)
    params = SamplingParams(temperature=temperature, top_p=0.95, max_tokens=max_tokens, seed=seed)
    request = Request(BENCH_MESSAGES, n=n, params=params)
    warmup = Request(_WARMUP, n=n, params=SamplingParams(max_tokens=4, seed=seed))
    load_before = os.getloadavg()

    say(f"batched: loading {path.name}")
    with LlamaEngine(path, n_threads=threads, label=model) as batched:
        prompt_tokens = len(batched.tokenize(batched.render(BENCH_MESSAGES)))
        batched.generate([warmup])
        before, before_s = batched.stats.prompt_tokens, batched.stats.prompt_seconds
        say(f"batched: {n} sequences x {max_tokens} tokens")
        t0, c0 = time.perf_counter(), _cpu_s()
        outs = batched.generate([request])[0]
        batched_s, batched_cpu = time.perf_counter() - t0, _cpu_s() - c0
        prompt_evaluated = batched.stats.prompt_tokens - before
        batched_prompt_s = batched.stats.prompt_seconds - before_s
        batched_tokens = sum(c.completion_tokens for c in outs)
        steps_n = max(c.completion_tokens for c in outs)
        step_ms_n = 1000 * (batched_s - batched_prompt_s) / max(1, steps_n)
        say(f"batched: 1 sequence x {max_tokens} tokens (the cost of one step)")
        single = Request(BENCH_MESSAGES, n=1, params=params)
        t1, p1 = time.perf_counter(), batched.stats.prompt_seconds
        (one,) = batched.generate([single])[0]
        single_s, single_prompt_s = time.perf_counter() - t1, batched.stats.prompt_seconds - p1
        step_ms_1 = 1000 * (single_s - single_prompt_s) / max(1, one.completion_tokens)

    say(f"sequential: loading {path.name}")
    with SequentialLlamaEngine(path, n_ctx=prompt_tokens + max_tokens + 64, n_threads=threads) as sequential:
        sequential.generate([Request(_WARMUP, n=1, params=SamplingParams(max_tokens=4, seed=seed))])
        say(f"sequential: {n} sequences x {max_tokens} tokens, one after the other")
        t0, c0 = time.perf_counter(), _cpu_s()
        outs = sequential.generate([request])[0]
        sequential_s, sequential_cpu = time.perf_counter() - t0, _cpu_s() - c0
        sequential_tokens = sum(c.completion_tokens for c in outs)

    batched_tok_s = batched_tokens / batched_s if batched_s > 0 else 0.0
    sequential_tok_s = sequential_tokens / sequential_s if sequential_s > 0 else 0.0
    return EngineBenchResult(
        model=model,
        n=n,
        max_tokens=max_tokens,
        threads=threads,
        prompt_tokens=prompt_tokens,
        prompt_tokens_evaluated=prompt_evaluated,
        batched_tokens=batched_tokens,
        batched_s=round(batched_s, 3),
        batched_prompt_s=round(batched_prompt_s, 3),
        batched_tok_s=round(batched_tok_s, 2),
        batched_cpu_s=round(batched_cpu, 3),
        sequential_tokens=sequential_tokens,
        sequential_s=round(sequential_s, 3),
        sequential_tok_s=round(sequential_tok_s, 2),
        sequential_cpu_s=round(sequential_cpu, 3),
        ratio=round(batched_tok_s / sequential_tok_s, 3) if sequential_tok_s > 0 else 0.0,
        step_ms_1=round(step_ms_1, 2),
        step_ms_n=round(step_ms_n, 2),
        decode_ceiling=round(n * step_ms_1 / step_ms_n, 3) if step_ms_n > 0 else 0.0,
        loadavg_before=load_before,
        loadavg_after=os.getloadavg(),
    )
