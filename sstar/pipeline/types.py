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
    BUDGET = "budget"  # S* under one token budget: waves, early stop, repairs where they pay


@dataclass(frozen=True)
class SolveConfig:
    strategy: Strategy | str = Strategy.SSTAR  # a Strategy, or any name in pipeline.strategies.STRATEGIES
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
    # selection (SEL)
    # Below this confidence (0..1, docs/selection.md) a result is marked unsure. It marks, it
    # does not change what is solved: batch --resume does not compare it (record.NOT_RESUME_KEYS).
    min_confidence: float = 0.0
    # budget (BUD)
    # Generated tokens the "budget" strategy may spend on one problem (samples, repairs,
    # selection inputs, judge); 0: DEFAULT_BUDGET_TOKENS of sstar.pipeline.budgeted.
    budget_tokens: int = 0
    budget_seconds: float = 0.0  # wall-clock cap on the same solve; 0: none
    wave_size: int = 0  # samples per wave; 0: the engine's batch_size
    # batch only: one pool of generated tokens for the whole set (sstar.setbudget); 0: none.
    # A SolveConfig field so that --resume refuses to mix pools.
    set_budget_tokens: int = 0
    # pool (POOL)
    # How the N candidates are asked for (sstar.pipeline.generate.SAMPLING_MODES): "plain" is
    # N samples of one prompt; "plans" writes short different approaches first and one program
    # per approach; "hints" asks with different approach framings (brute force, greedy, DP...);
    # "mixed" is half plain, half plans and hints. The greedy plain answer stays candidate 0.
    sampling: str = "plain"
    # Temperatures of the sampled candidates, cycled in order (a 0 stands for the greedy
    # candidate, which is always there): () samples every one at ``temperature``.
    temperatures: tuple[float, ...] = ()
    min_p: float = 0.0  # min-p sampling (llama.cpp): drop tokens under min_p x the top token's probability; 0 = off
    plan_temperature: float = 1.0  # the approach sketches of "plans": hotter than programs, for variety
    plan_max_tokens: int = 200  # an approach is a few lines of words
    # inputs and judge (INP)
    validate_inputs: bool = True  # a model-written validator gates every synthesized input
    hypothesis_examples: int = 60  # generator runs hypothesis may try to find a distinguishing input
    hypothesis_shrinks: int = 150  # further generator runs to shrink it to a minimal one
    judge_reason_tokens: int = 600  # the judge's room to reason before its answer is forced

    def __post_init__(self) -> None:
        # Accept what a user types (c++, py...) but keep one spelling: resume keys compare it.
        object.__setattr__(self, "language", normalize_language(self.language))
        # "sstar" and Strategy.SSTAR alike; a registered strategy without an enum member stays a str.
        if not isinstance(self.strategy, Strategy) and self.strategy in {s.value for s in Strategy}:
            object.__setattr__(self, "strategy", Strategy(self.strategy))

    @property
    def strategy_name(self) -> str:
        """The strategy's registry name ("sstar", "zero-shot", ...), enum member or not."""
        return self.strategy.value if isinstance(self.strategy, Strategy) else str(self.strategy)


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
    # selection (SEL)
    confidence: float = 0.0  # how settled the choice is, 0..1 (docs/selection.md)
    unsure: bool = False  # confidence below SolveConfig.min_confidence
    judge_no_verdict: int = 0  # judge calls spent on pairs that ended without a winner
    # The inputs selection ran that split behaviours, with the chosen program's outputs
    # (what `solve --export-tests` writes): a user's CI keeps what selection learned.
    tests: list["DistinguishingTest"] = field(default_factory=list)
    # budget (BUD)
    budget: dict[str, Any] = field(default_factory=dict)  # the budgeted strategy's account (tokens per stage, waves, stop)

    @property
    def tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


@dataclass
class DistinguishingTest:
    """An input selection ran, with the chosen program's output on it."""

    name: str  # the synthesized input's name (synth-2, random-5, large, ...)
    input: str
    output: str  # what the chosen program printed
    # The candidates (by index) that printed the same on it, one list per distinct outcome,
    # the chosen program's group first; one group when no input split the behaviours.
    groups: list[list[int]] = field(default_factory=list)

    @property
    def splits(self) -> bool:
        return len(self.groups) > 1
