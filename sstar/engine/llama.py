"""llama.cpp through llama-cpp-python: batched decoding of many sequences at once.

Why the low-level API: on a CPU, decoding one token costs about the same for 1 sequence
as for 8 (the weights are read once per step), so N candidates decoded together give far
more tokens/s than N decoded one after the other (which is all the high-level ``Llama``
object and its server do). One ``generate`` call:

1. renders each request's messages with the model's own chat template (GGUF metadata,
   rendered by jinja2 as Hugging Face does) and tokenizes them;
2. evaluates every prompt ONCE for all of the request's N samples;
3. then each step is ONE ``llama_decode`` for all live sequences (of all requests), each
   sequence sampling from its own sampler chain (top-k, top-p, temperature, seeded dist;
   greedy at temperature 0). Sequences end on their own: end-of-generation token, stop
   string, or max_tokens (finish_reason "length").

KV layout (``kv_unified``):

- False (default): one KV stream per sequence. The prompt is evaluated in the first
  sequence's stream and copied to the others (``llama_memory_seq_cp``, a memory copy).
  Each sequence attends only to its own cells, so attention costs O(own length), not
  O(all cells), and no sequence sees another's cells. (Outputs still can depend on the
  batch in the last bits: how the prompt is split into ubatches and the batch size change
  llama.cpp's summation order. With SmolLM2 greedy in a batch equals greedy alone, bit for
  bit (tested); with Qwen2.5-Coder-1.5B 10 of 11 greedy answers differed somewhere.
  The same requests in the same call give the same outputs for a seed.)
- True: one shared buffer; each prompt token carries all N sequence ids so the N
  sequences share the prompt's cells (least memory). Every sequence's attention then spans
  every cell (masked), and results differ slightly with the batch's composition.

Loading: some builds crash (a signal, not an exception) on some CPUs: an AMX build on an
AMX Xeon segfaults in ``llama_decode`` unless loaded without extra buffer types. The load
options are chosen, and verified by a probe in a child process, before this process loads
anything (sstar.engine.safety; once per build and model, then cached); ``sstar doctor``
reads the same facts from there.

The context is sized to hold every sequence, reused by later calls when big enough, and
cleared between calls. Requests that do not fit in one context (``n_ctx`` cap, 256
sequences) run in several waves.
"""

from __future__ import annotations

import codecs
import collections
import contextlib
import ctypes
import os
import secrets
import sys
import threading
import time
import weakref
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from sstar.engine.base import (
    Completion, Engine, Generation, Message, Request, SamplingParams, Usage, best_choice, is_degenerate, normalise_choices,
    split_unfinished,
)
from sstar.extract import closed_block_end
from sstar.engine.safety import LoadDecision, LoadOptions, choose_load_options
from sstar.errors import EngineError

__all__ = ["LlamaEngine", "LoadDecision", "LoadOptions", "SequentialLlamaEngine"]

LLAMA_INSTALL_HINT = (
    "install sstar's llama extra, e.g. pip install 'sstar[llama]' (or a model extra such as "
    "'sstar[qwen-coder-1-5b]', which includes it); it compiles llama.cpp: about 5 minutes"
)
MAX_SEQUENCES = 256  # llama.cpp's LLAMA_MAX_SEQ
DEFAULT_MAX_CTX = 131_072  # cells; a cap on KV memory when the caller sets no n_ctx
_SLACK_CELLS = 16  # cells fill up in order within a call, so little slack is needed
_GGML_LOG_LEVEL_ERROR = 3


def import_llama_cpp() -> ModuleType:
    """llama_cpp, or an EngineError saying how to install it."""
    if "llama_cpp" not in sys.modules:
        # llama.cpp's CPU threads meet at an OpenMP barrier hundreds of times per token;
        # libgomp spins 300k rounds there before sleeping. When anything else wants the
        # cores (the sandbox running tests, another model), a spinning thread holds a core
        # its partner needs, and decoding slowed 5-100x in our measurements (2 cores:
        # 10 vs 67 tok/s with two busy processes). 1000 rounds cost nothing measurable on an
        # idle machine. libgomp reads this once, when llama.cpp's library is loaded; a value
        # the user set wins.
        os.environ.setdefault("GOMP_SPINCOUNT", "1000")
    try:
        import llama_cpp
    except ImportError as err:
        raise EngineError(f"llama-cpp-python is not installed ({err}): {LLAMA_INSTALL_HINT}") from None
    return llama_cpp


def _round_up(value: int, step: int) -> int:
    return -(-value // step) * step


def default_threads() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


# --- llama.cpp's log ------------------------------------------------------------------


class _LlamaLog:
    """Where llama.cpp's log lines go: nowhere, unless an engine was opened with verbose=True;
    error lines are kept for EngineError messages.

    llama.cpp has ONE log callback per process, so this is one object for the module, and
    the ctypes callback is installed once and never uninstalled: a callback that is freed
    while installed segfaults at the next log line (engines come and go; this stays).
    """

    def __init__(self) -> None:
        self.errors: collections.deque[str] = collections.deque(maxlen=30)
        self.verbose_engines: weakref.WeakSet[Any] = weakref.WeakSet()
        self._callback: Any = None
        self._lock = threading.Lock()

    def install(self, lib: ModuleType) -> None:
        with self._lock:
            if self._callback is None:
                self._callback = lib.llama_log_callback(self._on_log)
                lib.llama_log_set(self._callback, ctypes.c_void_p(0))

    def _on_log(self, level: int, text: bytes, _user_data: Any) -> None:
        try:
            line = text.decode("utf-8", errors="replace")
            if level == _GGML_LOG_LEVEL_ERROR:
                self.errors.append(line.rstrip())
            if len(self.verbose_engines):
                print(line, end="", file=sys.stderr, flush=True)
        except Exception:  # never let an exception cross into C
            pass


_LLAMA_LOG = _LlamaLog()


# --- chat template -------------------------------------------------------------------


class ChatTemplate:
    """The model's chat template from its GGUF metadata, rendered like Hugging Face does."""

    def __init__(self, lib: ModuleType, template: str | None, bos: str, eos: str) -> None:
        self.source = template
        self._lib = lib
        self._jinja: Any = None
        if template:
            try:
                from llama_cpp.llama_chat_format import Jinja2ChatFormatter

                self._jinja = Jinja2ChatFormatter(template=template, eos_token=eos, bos_token=bos)
            except Exception:  # a template jinja2 cannot parse: llama.cpp's own renderer below
                self._jinja = None

    def render(self, messages: Sequence[Message]) -> str:
        """The prompt for a new assistant turn after ``messages``."""
        as_dicts = [{"role": m.role, "content": m.content} for m in messages]
        if self._jinja is not None:
            try:
                return str(self._jinja(messages=as_dicts).prompt)
            except Exception:
                pass
        return self._render_builtin(messages)

    def render_request(self, messages: Sequence[Message], params: SamplingParams) -> str:
        """The prompt for a request: a new assistant turn, or (``params.continue_reply``)
        the last assistant message continued in the same turn. Rendering the messages
        before it with the generation prompt and appending its text is right for every
        template whose assistant turn is "header, then the text" (chatml, llama3, ...)."""
        before, unfinished = split_unfinished(messages, params)
        return self.render(before) + unfinished

    def _render_builtin(self, messages: Sequence[Message]) -> str:
        # llama.cpp recognises the common template families (chatml, llama3, ...) by
        # their text; a model with no template at all gets chatml.
        lib = self._lib
        keep = [(m.role.encode(), m.content.encode()) for m in messages]
        chat = (lib.llama_chat_message * len(keep))(*[lib.llama_chat_message(r, c) for r, c in keep])
        tmpl = (self.source or "chatml").encode()
        size = 2 * sum(len(r) + len(c) for r, c in keep) + 256
        for _ in range(2):
            buf = ctypes.create_string_buffer(size)
            n = lib.llama_chat_apply_template(tmpl, chat, len(keep), True, buf, size)
            if n < 0:
                raise EngineError("the model's chat template is not supported by llama.cpp; use a model with a standard template.")
            if n <= size:
                return buf.raw[:n].decode("utf-8", errors="replace")
            size = n + 1
        raise EngineError("could not render the chat template")


# --- per-sequence state --------------------------------------------------------------


@dataclass
class _Seq:
    request: int
    sample: int
    seq_id: int
    sampler: Any
    max_tokens: int
    stop: tuple[str, ...]
    pos: int  # position of the next token fed
    prompt_tokens: int
    stop_on_repetition: bool = False  # off unless the request asks; lets tests build a bare _Seq
    stop_after_block: str = ""
    choices: tuple[str, ...] = ()  # a constrained answer: no sampling, one read of the logits
    choice_tokens: list[set[int]] = field(default_factory=list)
    choice_probs: dict[str, float] | None = None
    decoder: Any = field(default_factory=lambda: codecs.getincrementaldecoder("utf-8")(errors="replace"))
    text: str = ""
    tokens: int = 0
    pending: int | None = None  # sampled, to be fed at the next step
    finish: str | None = None
    seconds: float = 0.0


@dataclass(frozen=True)
class _Unit:
    """Samples [first, first + count) of one request, run together in one wave."""

    request: int
    first: int
    count: int


class LlamaEngine(Engine):
    """Batched llama.cpp engine (see the module docstring).

    ``n_ctx``: a cap on KV cells over all sequences (default: sized per call, at most 131072);
    ``kv_unified``: the KV layout (module docstring);
    ``flash_attn``: force llama.cpp's flash attention on or off (default: its own choice);
    ``n_threads``: CPU threads (default: every core this process may use);
    ``n_gpu_layers``: layers to offload (default: all when llama.cpp was built with GPU
    support, none otherwise);
    ``load_options``: how to load the model, used as given (no decision, no probe);
    ``verify_load``: when choosing the options here, verify them by a probe in a child
    process (cached per build and model: see sstar.engine.safety); False takes the
    decision's first choice unverified.
    ``content_id``: the model file's verified sha256 when the caller knows it (a registry
    model): the completion cache's key then survives a reinstall, another folder or machine.
    """

    name = "llama"

    def __init__(
        self,
        model_path: str | Path,
        *,
        n_ctx: int | None = None,
        n_threads: int | None = None,
        n_gpu_layers: int | None = None,
        n_batch: int = 512,
        verbose: bool = False,
        label: str | None = None,
        kv_unified: bool = False,
        flash_attn: bool | None = None,
        load_options: LoadOptions | None = None,
        verify_load: bool = True,
        content_id: str | None = None,
    ) -> None:
        super().__init__()
        self.content_id = content_id
        self._lib: Any = None  # close() before the library is loaded: nothing to free
        self._model: Any = None
        self._ctx: Any = None
        model_path = Path(model_path)
        if not model_path.is_file():
            raise EngineError(f"model file {model_path} does not exist.")
        if load_options is None:
            # Decided (and probed in a child, once per build and model) BEFORE this process
            # loads anything: a configuration that crashes must crash a child, not us.
            self.load_decision = choose_load_options(model_path, n_gpu_layers=n_gpu_layers, verify=verify_load)
            load_options = self.load_decision.options
        else:
            self.load_decision = LoadDecision(load_options, verified=False)
        self.load_options = load_options
        lib = import_llama_cpp()
        self.kv_unified = kv_unified
        self.flash_attn = flash_attn
        self._lib = lib
        self.model_path = Path(model_path)
        self.label = label or self.model_path.name
        self.verbose = verbose
        self.n_threads = n_threads or default_threads()
        self.n_batch = max(32, n_batch)
        self.max_ctx = n_ctx or DEFAULT_MAX_CTX
        self._fixed_ctx = n_ctx is not None
        self._ctx_cells = 0
        self._ctx_seqs = 0
        self._ctx_batch = 0
        self._pieces: dict[int, bytes] = {}
        self._lock = threading.Lock()  # one generate() at a time: the context is shared state
        _LLAMA_LOG.install(lib)  # silent unless verbose; see _LlamaLog
        if verbose:
            _LLAMA_LOG.verbose_engines.add(self)
        lib.llama_backend_init()

        mparams = lib.llama_model_default_params()
        load_options.apply(mparams)
        self.n_gpu_layers = load_options.n_gpu_layers
        self._model = lib.llama_model_load_from_file(str(self.model_path).encode(), mparams)
        if not self._model:
            tail = self._log_excerpt()
            self.close()
            raise EngineError(f"llama.cpp could not load {self.model_path}{tail}; is it a complete GGUF file?")
        self._vocab = lib.llama_model_get_vocab(self._model)
        self.n_ctx_train = int(lib.llama_model_n_ctx_train(self._model))
        self.chat_template = ChatTemplate(
            lib, self._meta_template(), self._token_text(lib.llama_vocab_bos(self._vocab)),
            self._token_text(lib.llama_vocab_eos(self._vocab)),
        )

    # -- public helpers -------------------------------------------------------------

    @property
    def identity(self) -> str:
        version = getattr(self._lib, "__version__", "?")
        if self.content_id:
            return f"llama.cpp {version}:{self.model_path.name}:sha256:{self.content_id}"
        # An unknown file: its size and mtime stand in for its content (hashing 1 GB per run would not pay).
        st = self.model_path.stat()
        return f"llama.cpp {version}:{self.model_path.name}:{st.st_size}:{st.st_mtime_ns}"

    def render(self, messages: Sequence[Message], params: SamplingParams | None = None) -> str:
        """The prompt text the model sees for these messages (template applied; with
        ``params.continue_reply`` the last assistant message is continued)."""
        return self.chat_template.render_request(messages, params or SamplingParams())

    def tokenize(self, text: str, *, special: bool = True) -> list[int]:
        """Token ids of ``text``; ``special``: parse special tokens such as <|im_start|>."""
        data = text.encode("utf-8")
        size = len(data) + 8
        buf = (self._lib.llama_token * size)()
        n = self._lib.llama_tokenize(self._vocab, data, len(data), buf, size, False, special)
        if n < 0:
            size = -n
            buf = (self._lib.llama_token * size)()
            n = self._lib.llama_tokenize(self._vocab, data, len(data), buf, size, False, special)
        return list(buf[:n])

    def detokenize(self, tokens: Sequence[int]) -> str:
        return b"".join(self._piece(t) for t in tokens).decode("utf-8", errors="replace")

    # -- Engine ---------------------------------------------------------------------

    def generate(self, requests: Sequence[Request]) -> Generation:
        with self._lock:
            return self._generate(requests)

    def _generate(self, requests: Sequence[Request]) -> Generation:
        if self._model is None:
            raise EngineError("this engine is closed.")
        start = time.perf_counter()
        prompts = [self.tokenize(self.render(r.messages, r.params)) for r in requests]
        for r, p in zip(requests, prompts):
            if len(p) >= self.n_ctx_train:
                raise EngineError(
                    f"a prompt of {len(p)} tokens does not fit the model's context of {self.n_ctx_train} tokens: shorten it."
                )
        # A constrained answer reads the logits after the prompt: it needs one cell, whatever max_tokens says.
        limits = [1 if r.params.choices else max(0, min(r.params.max_tokens, self.n_ctx_train - len(p))) for r, p in zip(requests, prompts)]
        results: list[list[Completion | None]] = [[None] * r.n for r in requests]
        evaluated = 0
        prompt_seconds = 0.0
        for wave in self._plan(requests, prompts, limits):
            done, n_eval, secs = self._run_wave(wave, requests, prompts, limits, start)
            evaluated += n_eval
            prompt_seconds += secs
            for seq in done:
                results[seq.request][seq.sample] = Completion(
                    seq.text, seq.prompt_tokens, seq.tokens, seq.finish or "length", seq.seconds, seq.choice_probs
                )
        out = [[c for c in row if c is not None] for row in results]
        completion_tokens = sum(c.completion_tokens for row in out for c in row)
        usage = self.stats.add(Usage(evaluated, completion_tokens, time.perf_counter() - start, prompt_seconds))
        return Generation(out, usage)

    def close(self) -> None:
        lib = getattr(self, "_lib", None)
        if lib is None:
            return
        if self._ctx is not None:
            lib.llama_free(self._ctx)
            self._ctx = None
        if self._model is not None:
            lib.llama_model_free(self._model)
            self._model = None
        _LLAMA_LOG.verbose_engines.discard(self)

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:
            pass

    # -- planning -------------------------------------------------------------------

    def _cells(self, units: list[_Unit], prompts: list[list[int]], limits: list[int]) -> int:
        """KV cells a wave needs. Unified: each prompt once plus max_tokens per sequence.
        Split: every sequence has its own stream as long as the longest sequence."""
        if not units:
            return 0
        if self.kv_unified:
            return sum(len(prompts[u.request]) + u.count * limits[u.request] for u in units)
        longest = max(len(prompts[u.request]) + limits[u.request] for u in units)
        return sum(u.count for u in units) * _round_up(longest, 256)  # llama.cpp pads streams to 256

    def _plan(self, requests: Sequence[Request], prompts: list[list[int]], limits: list[int]) -> list[list[_Unit]]:
        """Group the samples into waves that each fit one context (at most max_ctx cells,
        256 sequences); a request may be split over waves."""
        cap = self.max_ctx - (_SLACK_CELLS if self.kv_unified else 0)
        waves: list[list[_Unit]] = []
        wave: list[_Unit] = []
        for i, (r, p, m) in enumerate(zip(requests, prompts, limits)):
            if self._cells([_Unit(i, 0, 1)], prompts, limits) > cap:
                raise EngineError(
                    f"one sequence needs {len(p) + m} KV cells (prompt {len(p)} + max_tokens {m}) but n_ctx is "
                    f"{self.max_ctx}: raise n_ctx or lower max_tokens."
                )
            first = 0
            while first < r.n:
                seqs = sum(u.count for u in wave)
                take = 0
                # Largest count that still fits (cells grow monotonically with count).
                lo, hi = 1, min(r.n - first, MAX_SEQUENCES - seqs)
                while lo <= hi:
                    mid = (lo + hi) // 2
                    if self._cells(wave + [_Unit(i, first, mid)], prompts, limits) <= cap:
                        take, lo = mid, mid + 1
                    else:
                        hi = mid - 1
                if take == 0:
                    waves.append(wave)
                    wave = []
                    continue
                wave.append(_Unit(i, first, take))
                first += take
        if wave:
            waves.append(wave)
        return waves

    def _ensure_context(self, cells: int, seqs: int, batch: int) -> None:
        lib = self._lib
        fits = self._ctx is not None and cells <= self._ctx_cells and seqs <= self._ctx_seqs and batch <= self._ctx_batch
        # Split KV: each stream must also be long enough for the longest sequence.
        if fits and (self.kv_unified or self._ctx_cells // self._ctx_seqs >= cells // max(seqs, 1)):
            lib.llama_memory_clear(lib.llama_get_memory(self._ctx), True)
            return
        if self._ctx is not None:
            lib.llama_free(self._ctx)
            self._ctx = None
        n_seq = max(seqs, 1)
        if self.kv_unified:
            want = self.max_ctx if self._fixed_ctx else min(self.max_ctx, _round_up(cells + _SLACK_CELLS, 1024))
        else:
            want = cells  # n_seq streams of cells / n_seq each (a multiple of 256)
        params = lib.llama_context_default_params()
        params.n_ctx = want
        params.n_batch = batch
        params.n_ubatch = batch
        params.n_seq_max = n_seq
        params.kv_unified = self.kv_unified
        params.n_threads = self.n_threads
        params.n_threads_batch = self.n_threads
        params.no_perf = True
        if self.flash_attn is not None:  # default: llama.cpp decides (auto)
            params.flash_attn_type = 1 if self.flash_attn else 0
        ctx = lib.llama_init_from_model(self._model, params)
        if not ctx:
            raise EngineError(
                f"llama.cpp could not create a context of {want} cells for {seqs} sequences{self._log_excerpt()}: "
                "lower n or max_tokens, or set a smaller n_ctx."
            )
        self._ctx = ctx
        self._ctx_cells = int(lib.llama_n_ctx(ctx))
        self._ctx_seqs = n_seq
        self._ctx_batch = batch

    # -- one wave -------------------------------------------------------------------

    def _run_wave(
        self,
        wave: list[_Unit],
        requests: Sequence[Request],
        prompts: list[list[int]],
        limits: list[int],
        start: float,
    ) -> tuple[list[_Seq], int, float]:
        lib = self._lib
        n_seqs = sum(u.count for u in wave)
        batch_size = max(self.n_batch, n_seqs)
        self._ensure_context(self._cells(wave, prompts, limits), n_seqs, batch_size)
        ctx = self._ctx
        mem = lib.llama_get_memory(ctx)

        seqs: list[_Seq] = []
        by_unit: list[list[_Seq]] = []
        batch = lib.llama_batch_init(batch_size, 0, max(u.count for u in wave) if self.kv_unified else 1)
        try:
            for unit in wave:
                r = requests[unit.request]
                group = []
                for k in range(unit.count):
                    sample = unit.first + k
                    seq = _Seq(
                        request=unit.request,
                        sample=sample,
                        seq_id=len(seqs),
                        sampler=self._make_sampler(r.params, sample),
                        max_tokens=limits[unit.request],
                        stop=tuple(s for s in r.params.stop if s),
                        stop_on_repetition=r.params.stop_on_repetition,
                        stop_after_block=r.params.stop_after_block,
                        choices=r.params.choices,
                        choice_tokens=choice_token_sets(self.tokenize, r.params.choices) if r.params.choices else [],
                        pos=len(prompts[unit.request]),
                        prompt_tokens=len(prompts[unit.request]),
                    )
                    seqs.append(seq)
                    group.append(seq)
                by_unit.append(group)
            for seq in seqs:
                if seq.max_tokens <= 0 and not seq.choices:
                    seq.finish = "length"

            # 1. Every prompt once, in chunks of at most batch_size tokens. Unified KV: each
            #    prompt token carries the ids of all the request's sequences (they share the
            #    cells). Split KV: it goes into the first sequence's stream, copied to the
            #    others (llama_memory_seq_cp) once complete. Each unit's first tokens are
            #    sampled right after the chunk holding its last prompt token (logits live
            #    only until the next decode).
            t0 = time.perf_counter()
            # Different prompts of one wave often start alike (a debug round: the same system
            # message and statement before each candidate's own conversation). Split KV:
            # evaluate that common prefix once and copy it to every unit's first stream.
            shared = self._shared_prefix(wave, prompts)
            evaluated = 0
            if shared:
                leader = by_unit[0][0].seq_id
                for lo in range(0, shared, batch_size):
                    n = min(batch_size, shared - lo)
                    for i in range(n):
                        batch.token[i] = prompts[wave[0].request][lo + i]
                        batch.pos[i] = lo + i
                        batch.n_seq_id[i] = 1
                        batch.seq_id[i][0] = leader
                        batch.logits[i] = 0
                    batch.n_tokens = n
                    self._decode(batch)
                for group in by_unit[1:]:  # the whole stream is the prefix now: a full copy
                    lib.llama_memory_seq_cp(mem, leader, group[0].seq_id, -1, -1)
                evaluated += shared
            entries = [
                (tok, pos, ui, pos == len(prompts[u.request]) - 1)
                for ui, u in enumerate(wave)
                for pos, tok in enumerate(prompts[u.request])
                if pos >= shared
            ]
            evaluated += len(entries)
            for lo in range(0, len(entries), batch_size):
                chunk = entries[lo : lo + batch_size]
                finals: list[tuple[int, int]] = []
                for i, (tok, pos, ui, last) in enumerate(chunk):
                    group = by_unit[ui]
                    batch.token[i] = tok
                    batch.pos[i] = pos
                    if self.kv_unified:
                        batch.n_seq_id[i] = len(group)
                        for j, seq in enumerate(group):
                            batch.seq_id[i][j] = seq.seq_id
                    else:
                        batch.n_seq_id[i] = 1
                        batch.seq_id[i][0] = group[0].seq_id
                    batch.logits[i] = 1 if last else 0
                    if last:
                        finals.append((i, ui))
                batch.n_tokens = len(chunk)
                self._decode(batch)
                for i, ui in finals:
                    group = by_unit[ui]
                    if not self.kv_unified:
                        for seq in group[1:]:  # whole-stream copy, done at the next decode
                            lib.llama_memory_seq_cp(mem, group[0].seq_id, seq.seq_id, -1, -1)
                    for seq in group:
                        if seq.finish is None and seq.choices:
                            self._choose(seq, i, start)
                        elif seq.finish is None:
                            self._accept(seq, lib.llama_sampler_sample(seq.sampler, ctx, i), start)
            prompt_seconds = time.perf_counter() - t0

            # 2. One decode per step for every live sequence.
            while True:
                live = [s for s in seqs if s.finish is None and s.pending is not None]
                if not live:
                    break
                for i, seq in enumerate(live):
                    batch.token[i] = seq.pending
                    batch.pos[i] = seq.pos
                    batch.n_seq_id[i] = 1
                    batch.seq_id[i][0] = seq.seq_id
                    batch.logits[i] = 1
                    seq.pos += 1
                batch.n_tokens = len(live)
                self._decode(batch)
                for i, seq in enumerate(live):
                    self._accept(seq, lib.llama_sampler_sample(seq.sampler, ctx, i), start)
            return seqs, evaluated, prompt_seconds
        finally:
            lib.llama_batch_free(batch)
            for seq in seqs:
                lib.llama_sampler_free(seq.sampler)

    _MIN_SHARED_PREFIX = 32  # below this, a separate decode call costs more than it saves

    def _shared_prefix(self, wave: list[_Unit], prompts: list[list[int]]) -> int:
        """Tokens every prompt of the wave starts with (split KV, two units or more), keeping
        at least one token of each prompt to evaluate on its own (its logits start sampling)."""
        if self.kv_unified or len(wave) < 2:
            return 0
        seqs = [prompts[u.request] for u in wave]
        limit = min(len(p) for p in seqs) - 1
        n = 0
        while n < limit and all(p[n] == seqs[0][n] for p in seqs):
            n += 1
        return n if n >= self._MIN_SHARED_PREFIX else 0

    def _choose(self, seq: _Seq, index: int, start: float) -> None:
        """A constrained answer: the choices' probabilities at the position after the prompt."""
        logits = self._lib.llama_get_logits_ith(self._ctx, index)
        n_vocab = int(self._lib.llama_vocab_n_tokens(self._vocab))
        seq.choice_probs = choice_probabilities(logits, n_vocab, seq.choice_tokens, seq.choices)
        seq.text = best_choice(seq.choice_probs, seq.choices)
        seq.tokens = 1
        self._finish(seq, "stop", start)

    def _accept(self, seq: _Seq, token: int, start: float) -> None:
        """Take one sampled token: end the sequence or append its text."""
        if self._lib.llama_vocab_is_eog(self._vocab, token):
            self._finish(seq, "stop", start)
            return
        seq.tokens += 1
        chunk = seq.decoder.decode(self._piece(token))  # holds back an incomplete UTF-8 tail
        if chunk:
            before = len(seq.text)
            seq.text += chunk
            if seq.stop:
                # A stop string may straddle token boundaries: search the new text plus
                # enough of the old to contain it.
                window = max(map(len, seq.stop)) - 1
                lo = max(0, before - window)
                hits = [i for i in (seq.text.find(s, lo) for s in seq.stop) if i >= 0]
                if hits:
                    seq.text = seq.text[: min(hits)]
                    self._finish(seq, "stop", start)
                    return
            if seq.stop_after_block and "\n" in chunk:
                end = closed_block_end(seq.text, seq.stop_after_block)
                if end is not None:
                    seq.text = seq.text[:end]
                    self._finish(seq, "stop", start)
                    return
            if seq.stop_on_repetition and "\n" in chunk and is_degenerate(seq.text):
                self._finish(seq, "repetition", start)
                return
        if seq.tokens >= seq.max_tokens:
            self._finish(seq, "length", start)
            return
        seq.pending = token

    @staticmethod
    def _finish(seq: _Seq, reason: str, start: float) -> None:
        seq.finish = reason
        seq.pending = None
        seq.seconds = time.perf_counter() - start

    def _decode(self, batch: Any) -> None:
        rc = self._lib.llama_decode(self._ctx, batch)
        if rc != 0:
            raise EngineError(f"llama_decode failed with code {rc}{self._log_excerpt()}")

    def _make_sampler(self, params: SamplingParams, index: int) -> Any:
        lib = self._lib
        chain = lib.llama_sampler_chain_init(lib.llama_sampler_chain_default_params())
        if params.temperature <= 0:
            lib.llama_sampler_chain_add(chain, lib.llama_sampler_init_greedy())
            return chain
        if params.top_k > 0:
            lib.llama_sampler_chain_add(chain, lib.llama_sampler_init_top_k(params.top_k))
        if params.top_p < 1.0:
            lib.llama_sampler_chain_add(chain, lib.llama_sampler_init_top_p(params.top_p, 1))
        if params.min_p > 0:
            lib.llama_sampler_chain_add(chain, lib.llama_sampler_init_min_p(params.min_p, 1))
        lib.llama_sampler_chain_add(chain, lib.llama_sampler_init_temp(params.temperature))
        base = params.seed if params.seed is not None else secrets.randbits(31)
        # 0xFFFFFFFF means "random" to llama.cpp: keep clear of it.
        lib.llama_sampler_chain_add(chain, lib.llama_sampler_init_dist((base + index) % 0xFFFFFFFF))
        return chain

    # -- small helpers --------------------------------------------------------------

    def _piece(self, token: int) -> bytes:
        piece = self._pieces.get(token)
        if piece is None:
            buf = ctypes.create_string_buffer(64)
            n = self._lib.llama_token_to_piece(self._vocab, token, buf, 64, 0, False)
            if n < 0:
                buf = ctypes.create_string_buffer(-n)
                n = self._lib.llama_token_to_piece(self._vocab, token, buf, -n, 0, False)
            piece = buf.raw[:n]
            self._pieces[token] = piece
        return piece

    def _token_text(self, token: int) -> str:
        if token < 0:
            return ""
        raw = self._lib.llama_vocab_get_text(self._vocab, token)
        return raw.decode("utf-8", errors="replace") if raw else ""

    def _meta_template(self) -> str | None:
        raw = self._lib.llama_model_chat_template(self._model, None)
        return raw.decode("utf-8", errors="replace") if raw else None

    @staticmethod
    def _log_excerpt() -> str:
        lines = [ln for ln in _LLAMA_LOG.errors if ln.strip()][-3:]
        return f" (llama.cpp: {' | '.join(lines)})" if lines else ""


def choice_token_sets(tokenize: Any, choices: Sequence[str]) -> list[set[int]]:
    """For each choice, the tokens that start it: as written and after a space (BPE
    vocabularies spell "A" and " A" differently, and after "Answer:" either may come).
    A token that starts two choices tells them apart from nothing: it is left out."""
    sets: list[set[int]] = []
    for choice in choices:
        firsts = set()
        for text in (choice, " " + choice.lstrip()):
            tokens = tokenize(text, special=False)
            if tokens:
                firsts.add(tokens[0])
        sets.append(firsts)
    shared = {t for i, a in enumerate(sets) for b in sets[i + 1 :] for t in a & b}
    return [s - shared for s in sets]


def choice_probabilities(logits: Any, n_vocab: int, token_sets: Sequence[set[int]], choices: Sequence[str]) -> dict[str, float]:
    """Each choice's probability, renormalised over the choices, from one row of logits.

    Only the choices' own tokens enter (a softmax restricted to them), so the answer is
    graded even when the model would rather have written something else: that is the point.
    """
    import numpy as np

    row = np.ctypeslib.as_array(logits, shape=(n_vocab,)).astype(np.float64)
    wanted = sorted({t for s in token_sets for t in s})
    if not wanted:  # no token starts any choice on its own: nothing to tell them apart
        return {c: 1.0 / len(choices) for c in choices}
    top = max(row[t] for t in wanted)
    weights = {c: float(sum(np.exp(row[t] - top) for t in s)) for c, s in zip(choices, token_sets)}
    probs = normalise_choices(weights)
    return probs if probs is not None else {c: 1.0 / len(choices) for c in choices}


_PARAMS_PATCH_LOCK = threading.Lock()


@contextlib.contextmanager
def model_params_patched(lib: ModuleType, options: LoadOptions) -> Iterator[None]:
    """While the high-level ``Llama`` object is built, its model params get ``options``.

    ``Llama.__init__`` takes no argument for ``use_extra_bufts``; it calls
    ``llama_model_default_params()`` once, from its module's reference to the low-level
    module, and loads the model right after: that one function is wrapped for that time.
    """
    low = lib.llama_cpp
    original = low.llama_model_default_params

    def patched() -> Any:
        params = original()
        if hasattr(params, "use_extra_bufts"):
            params.use_extra_bufts = options.extra_bufts
        return params

    with _PARAMS_PATCH_LOCK:
        low.llama_model_default_params = patched
        try:
            yield
        finally:
            low.llama_model_default_params = original


class SequentialLlamaEngine(Engine):
    """One sequence at a time through the high-level ``Llama.create_chat_completion``.

    Only for comparison in ``sstar bench engine``: it is what a plain llama-cpp-python
    program does, and what the batched engine is measured against.
    """

    name = "llama-sequential"

    def __init__(
        self,
        model_path: str | Path,
        *,
        n_ctx: int = 4096,
        n_threads: int | None = None,
        n_gpu_layers: int | None = None,
        verbose: bool = False,
        load_options: LoadOptions | None = None,
        verify_load: bool = True,
    ) -> None:
        super().__init__()
        self._llm: Any = None
        if not Path(model_path).is_file():
            raise EngineError(f"model file {model_path} does not exist.")
        # The same safe choice as LlamaEngine (verified by a probe in a child, cached).
        options = load_options or choose_load_options(model_path, n_gpu_layers=n_gpu_layers, verify=verify_load).options
        lib = import_llama_cpp()
        threads = n_threads or default_threads()
        try:
            with model_params_patched(lib, options):
                self._llm = lib.Llama(
                    model_path=str(model_path), n_ctx=n_ctx, n_threads=threads, n_threads_batch=threads,
                    n_gpu_layers=options.n_gpu_layers, n_batch=512, verbose=verbose,
                )
        except (ValueError, RuntimeError) as err:
            raise EngineError(f"llama-cpp-python could not load {model_path}: {err}") from None
        self._lib = lib
        llm = self._llm
        self._template = ChatTemplate(
            lib, llm.metadata.get("tokenizer.chat_template"), llm.detokenize([llm.token_bos()], special=True).decode("utf-8", "replace"),
            llm.detokenize([llm.token_eos()], special=True).decode("utf-8", "replace"),
        )

    def _choose(self, request: Request) -> Completion:
        """A constrained answer, as LlamaEngine gives it: the choices' probabilities after the prompt."""
        llm = self._llm
        text = self._template.render_request(request.messages, request.params)
        tokens = llm.tokenize(text.encode("utf-8"), add_bos=False, special=True)
        llm.reset()
        llm.eval(tokens)
        sets = choice_token_sets(lambda t, special=False: llm.tokenize(t.encode("utf-8"), add_bos=False, special=special), request.params.choices)
        logits = self._lib.llama_get_logits_ith(llm.ctx, -1)
        probs = choice_probabilities(logits, llm.n_vocab(), sets, request.params.choices)
        llm.reset()  # the next chat completion must not reuse this prompt's cells as its own
        return Completion(best_choice(probs, request.params.choices), len(tokens), 1, "stop", 0.0, probs)

    def generate(self, requests: Sequence[Request]) -> Generation:
        start = time.perf_counter()
        out: list[list[Completion]] = []
        prompt_total = completion_total = 0
        for r in requests:
            row = []
            for i in range(r.n):
                p = r.params
                if p.choices:
                    c = self._choose(r)
                    c.seconds = time.perf_counter() - start
                    prompt_total += c.prompt_tokens
                    completion_total += 1
                    row.append(c)
                    continue
                seed = p.seed + i if p.seed is not None else secrets.randbits(31)
                reply = self._llm.create_chat_completion(
                    messages=[{"role": m.role, "content": m.content} for m in r.messages],
                    temperature=p.temperature, top_p=p.top_p, top_k=p.top_k, min_p=p.min_p, max_tokens=p.max_tokens,
                    stop=list(p.stop) or None, seed=seed,
                )
                usage = reply.get("usage") or {}
                choice = reply["choices"][0]
                c = Completion(
                    choice["message"]["content"] or "",
                    int(usage.get("prompt_tokens", 0)),
                    int(usage.get("completion_tokens", 0)),
                    "length" if choice.get("finish_reason") == "length" else "stop",
                    time.perf_counter() - start,
                )
                prompt_total += c.prompt_tokens
                completion_total += c.completion_tokens
                row.append(c)
            out.append(row)
        # Usage counts the whole prompt each time, though the Llama object reuses the
        # KV of a repeated prefix: so prompt_tokens here is "as reported", not "evaluated".
        usage = self.stats.add(Usage(prompt_total, completion_total, time.perf_counter() - start))
        return Generation(out, usage)

    def close(self) -> None:
        llm = getattr(self, "_llm", None)
        if llm is not None:
            llm.close()
            self._llm = None
