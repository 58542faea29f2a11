"""Records of a solve run: its settings, its result, progress events."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any, Callable

from sstar.sandbox.base import normalize_language
from sstar.verdict import JudgeReport


class Strategy(str, enum.Enum):
    SSTAR = "sstar"  # generate N, debug R rounds, select by adaptive input synthesis
    ZERO_SHOT = "zero-shot"  # one greedy sample
    MAJORITY = "majority"  # N samples, most common behaviour on synthesized inputs
    SELF_DEBUG = "self-debug"  # one sample, R debug rounds


@dataclass(frozen=True)
class SolveConfig:
    strategy: Strategy = Strategy.SSTAR
    n: int = 8
    rounds: int = 2
    temperature: float = 0.7
    top_p: float = 0.95
    max_tokens: int = 1024
    seed: int = 0
    num_inputs: int = 6  # synthesized distinguishing inputs (selection)
    num_random_inputs: int = 8  # runs, with as many seeds, of a model-written small random input generator
    max_judge_pairs: int = 6  # cap on cluster pairs compared by the model
    # A behaviour goes before the judge only with at least this fraction of the members of
    # the most common one; a clearly larger cluster wins without judging. 0 judges every
    # behaviour (the paper's rule, made with a much stronger judge model). Measured: the
    # 1.5B judge picked a wrong lone sample over 10 agreeing right ones (docs/benchmarks.md).
    judge_min_support: float = 0.5
    # The candidates' language: "python" or "cpp" (compiled in the sandbox). Model-written
    # input generators stay Python whatever this says: they only print inputs.
    language: str = "python"
    # inputs and judge (INP)
    validate_inputs: bool = True  # a model-written validator gates every synthesized input
    hypothesis_examples: int = 60  # generator runs hypothesis may try to find a distinguishing input
    hypothesis_shrinks: int = 150  # further generator runs to shrink it to a minimal one
    judge_reason_tokens: int = 600  # the judge's room to reason before its answer is forced

    def __post_init__(self) -> None:
        # Accept what a user types (c++, py...) but keep one spelling: resume keys compare it.
        object.__setattr__(self, "language", normalize_language(self.language))


@dataclass(frozen=True)
class Progress:
    """A progress event, for the CLI's live display (the library never prints)."""

    stage: str  # generate | debug | select | done
    message: str
    alive: int = 0  # candidates still in the running
    passing: int = 0  # candidates passing every public test
    tokens: int = 0
    tok_s: float = 0.0
    elapsed_s: float = 0.0


ProgressFn = Callable[[Progress], None]


@dataclass
class SolveResult:
    problem_id: str
    strategy: str
    program: str  # the chosen program ("" when nothing could be produced)
    public: JudgeReport  # the chosen program on the public tests
    candidates: int = 0
    candidates_passing_public: int = 0
    clusters: int = 0
    judge_calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    completion_cache_hits: int = 0  # requests a completion cache answered (no model time spent)
    wall_s: float = 0.0
    interrupted: bool = False
    settings: dict[str, Any] = field(default_factory=dict)
    language: str = "python"  # the language of ``program``

    @property
    def tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens
