"""Every prompt the pipeline sends, in one place, so they can be read and tuned together.

Small models follow short, concrete instructions best: say exactly what to read, what
to print, and where the code goes. Prompts never contain hidden tests (the pipeline
only ever holds ``problem.without_hidden()``).
"""

from __future__ import annotations

from typing import Sequence

from sstar.engine.base import Message
from sstar.problem import Problem, ProblemKind, TestCase
from sstar.sandbox.base import RunOutcome, RunStatus
from sstar.verdict import TestResult, Verdict

SYSTEM = (
    "You are an expert competitive programmer. You write correct, efficient Python 3 code "
    "and you follow the output format exactly."
)
SYSTEM_CPP = (
    "You are an expert competitive programmer. You write correct, efficient C++17 code "
    "and you follow the output format exactly."
)

# Per candidate language: the name used in prompts (the fence tag is the language itself).
LANGUAGE_NAME = {"python": "Python", "cpp": "C++"}


def system_prompt(language: str = "python") -> str:
    return SYSTEM_CPP if language == "cpp" else SYSTEM

# Feedback is truncated so that a huge input or output cannot blow the context window.
MAX_FEEDBACK_CHARS = 600


def clip(text: str, limit: int = MAX_FEEDBACK_CHARS) -> str:
    text = text.rstrip("\n")
    if len(text) <= limit:
        return text
    head = text[: limit * 2 // 3]
    tail = text[-limit // 4 :]
    return f"{head}\n... ({len(text) - len(head) - len(tail)} characters cut) ...\n{tail}"


def _limits_line(problem: Problem) -> str:
    parts = []
    if problem.time_limit_s:
        parts.append(f"time limit {problem.time_limit_s:g} s per test")
    if problem.memory_limit_mb:
        parts.append(f"memory limit {problem.memory_limit_mb} MB")
    return ("Limits: " + ", ".join(parts) + ".\n") if parts else ""


def _entry_point(problem: Problem) -> str:
    spec = problem.function
    assert spec is not None
    return f"{spec.class_name}().{spec.name}" if spec.class_name else spec.name


# Asking for a plan in words before the code: on 16 Kattis problems (not those of the strategy
# comparison) 6 of 61 candidates of Qwen2.5-Coder-1.5B passed every public test with it
# against 2 of 64 with "reasoning in comments inside the code", at 1.5x the tokens (crashes
# on misread input stayed as common). See docs/benchmarks.md, "Generation prompt".
# Measured on stdin programs only, so function-call problems keep the comments form.
PLAN_FIRST = (
    "First write a short plan in plain words (no code, at most 6 lines): what the input holds, "
    "what must be printed, and the algorithm; check the algorithm by hand on the first sample."
)


def generation_messages(problem: Problem, language: str = "python", *, approach: str = "") -> list[Message]:
    """The first prompt: the statement and what kind of code to write (a plan, then the code).

    ``approach``: a paragraph put between the statement and the task (an approach to follow,
    from ``plan_code_messages`` or ``hint_messages``); empty, the prompt is exactly today's.
    """
    guide = f"{approach.strip()}\n\n" if approach.strip() else ""
    if language == "cpp":
        if problem.kind is ProblemKind.FUNCTION:  # the harness calls Python functions (judge.as_program)
            raise ValueError("C++ candidates need a stdin/stdout problem; function-call problems take Python")
        # The same plan-first form as for Python; fast I/O because C++ is chosen for speed and
        # cin without sync_with_stdio(false) is what makes C++ solutions time out.
        task = (
            "Write a complete C++17 program that reads the input from standard input and "
            "prints the answer to standard output, exactly in the format described.\n"
            "- Start with `#include <bits/stdc++.h>` and `using namespace std;`, and in main call "
            "`ios::sync_with_stdio(false); cin.tie(nullptr);` before reading with cin.\n"
            "- Use `long long` wherever values or sums can exceed 2^31.\n"
            "- The program must be fast enough for the largest inputs the constraints allow: "
            "pick an algorithm whose complexity fits them.\n"
            "- Print nothing else (no prompts, no debug output); end lines with '\\n', not endl.\n\n"
            f"{PLAN_FIRST} Then reply with the whole program in one ```cpp block."
        )
        user = f"# Problem: {problem.title}\n\n{problem.statement.strip()}\n\n{_limits_line(problem)}\n{guide}{task}"
        return [Message("system", system_prompt("cpp")), Message("user", user)]
    if problem.kind is ProblemKind.FUNCTION and problem.function is not None:
        task = (
            f"Complete the starter code below. The judge imports your code and calls "
            f"`{_entry_point(problem)}(...)` with the arguments of each test; do not read input "
            f"and do not print the answer, return it.\n\n"
            f"```python\n{problem.function.starter_code.strip()}\n```\n\n"
            "Reply with the complete code (with the imports it needs) in one ```python block; "
            "put your reasoning in short comments inside the code."
        )
    else:
        task = (
            "Write a complete Python 3 program that reads the input from standard input and "
            "prints the answer to standard output, exactly in the format described.\n"
            "- Read all of the input with `data = sys.stdin.read().split()` and walk through the "
            "tokens, unless lines matter (then use sys.stdin.read().split('\\n')).\n"
            "- The program must be fast enough for the largest inputs the constraints allow: "
            "pick an algorithm whose complexity fits them.\n"
            "- Print nothing else (no prompts, no debug output).\n\n"
            f"{PLAN_FIRST} Then reply with the whole program in one ```python block."
        )
    user = f"# Problem: {problem.title}\n\n{problem.statement.strip()}\n\n{_limits_line(problem)}\n{guide}{task}"
    return [Message("system", SYSTEM), Message("user", user)]


# -- wider pools (issue 19): approaches written before code, and approach hints -----------

# One approach per sample, not K in one reply (chosen without a measurement: the 1.5B model
# could not be run when this was written): a reply that is one approach needs no list parsing
# that a small model's numbering or formatting can break, and one whose list stops early or
# repeats itself loses nothing but that sample; the K samples share the prompt in one batch,
# their variety comes from the temperature, and duplicates are merged afterwards (measured by
# the `plans` event of each trace: approaches asked, parsed, kept).
APPROACH_TASK = (
    "Describe ONE way to solve this problem, in at most 5 short lines of plain words, no code: "
    "first the key observation, then the algorithm step by step, then its running time on the "
    "largest inputs. Reply with the description only."
)
MAX_PLAN_LINES = 8
MAX_PLAN_CHARS = 700


def plan_messages(problem: Problem) -> list[Message]:
    """Ask for one short approach (words, no code) to the problem (sampling "plans")."""
    user = f"# Problem: {problem.title}\n\n{problem.statement.strip()}\n\n{_limits_line(problem)}\n{APPROACH_TASK}"
    return [Message("system", SYSTEM), Message("user", user)]


def parse_plan(reply: str) -> str | None:
    """The approach in a reply to ``plan_messages``: its text before any code block, at most
    ``MAX_PLAN_LINES`` non-blank lines; None when fewer than 4 words are left (no approach)."""
    text = reply.split("```", 1)[0]
    lines = [ln.rstrip() for ln in text.replace("\r", "").split("\n") if ln.strip()]
    plan = "\n".join(lines[:MAX_PLAN_LINES]).strip()[:MAX_PLAN_CHARS].strip()
    return plan if len(plan.split()) >= 4 else None


def plan_code_messages(problem: Problem, plan: str, language: str = "python") -> list[Message]:
    """The generation prompt with an approach to follow (sampling "plans")."""
    return generation_messages(problem, language, approach=f"Use this approach:\n{plan.strip()}")


# Framings for sampling "hints": each candidate is asked with one of them, in this order, so
# that N samples do not all take the first idea. "brute-force" candidates may be slow but are
# a reference on small inputs (their tag says so: sstar.pipeline.generate.BRUTE_FORCE_TAG).
HINTS: dict[str, str] = {
    "simulation": "Approach hint: simulate exactly what the statement describes, step by step, with direct loops, if the constraints allow it.",
    "brute-force": (
        "Approach hint: write a brute force that tries every possibility (every subset, order or value) "
        "and keeps the best one or counts them. It only has to be correct on small inputs: this time "
        "ignore the speed requirement below, and keep the program simple."
    ),
    "math": "Approach hint: look for a formula or a mathematical property (parity, divisibility, sums, counting) that gives the answer directly.",
    "greedy": "Approach hint: look for a greedy rule: make the locally best choice at each step; check on the samples that it is optimal.",
    "sorting": "Approach hint: sort the values first, then use two pointers, binary search or prefix sums.",
    "dynamic-programming": (
        "Approach hint: use dynamic programming: say what one table entry means, how it follows from "
        "smaller entries, and where the answer is."
    ),
}


def hint_messages(problem: Problem, hint: str, language: str = "python") -> list[Message]:
    """The generation prompt with one approach framing of ``HINTS`` (sampling "hints")."""
    return generation_messages(problem, language, approach=HINTS[hint])


_VERDICT_WORDS = {
    Verdict.WA: "wrong answer",
    Verdict.TLE: "time limit exceeded",
    Verdict.MLE: "memory limit exceeded",
    Verdict.RE: "runtime error",
    Verdict.OLE: "printed far too much output",
    Verdict.CE: "compilation error",
}

# A compiler's output is long (notes, candidates, instantiation stacks): the first errors are
# what the model can act on.
MAX_COMPILER_LINES = 12


def compiler_errors(message: str, max_lines: int = MAX_COMPILER_LINES) -> str:
    """The first error lines of a g++ message (with the lines that follow each), clipped."""
    lines = [ln for ln in message.replace("\r", "").split("\n") if ln.strip()]
    first = next((i for i, ln in enumerate(lines) if "error" in ln), 0)
    picked = lines[first : first + max_lines]
    more = len(lines) - first - len(picked)
    text = "\n".join(picked) + (f"\n... ({more} more lines)" if more > 0 else "")
    return clip(text, 1200)


def _test_feedback(i: int, test: TestCase, result: TestResult, problem: Problem) -> str:
    if result.passed:
        return f"Test {i}: passed."
    if result.verdict is Verdict.CE:  # no test ran: the input and expected output say nothing
        return f"Your program does not compile. The compiler said:\n```\n{compiler_errors(result.stderr_tail or result.message)}\n```"
    lines = [f"Test {i}: FAILED ({_VERDICT_WORDS.get(result.verdict, result.verdict.value)})."]
    arg_word = "Arguments (JSON)" if problem.kind is ProblemKind.FUNCTION else "Input"
    lines.append(f"{arg_word}:\n```\n{clip(test.input)}\n```")
    if test.expected is not None:
        lines.append(f"Expected output:\n```\n{clip(test.expected)}\n```")
    if result.verdict is Verdict.RE:
        lines.append(f"Your program crashed with:\n```\n{clip(result.stderr_tail or result.message, 900)}\n```")
        if result.output.strip():
            lines.append(f"It printed before crashing:\n```\n{clip(result.output)}\n```")
    elif result.verdict is Verdict.TLE:
        limit = f" of {problem.time_limit_s:g} s" if problem.time_limit_s else ""
        lines.append(
            f"Your program did not finish within the time limit{limit}: it may loop forever, "
            "wait for input that is not there, or use a too slow algorithm."
        )
    elif result.verdict is Verdict.MLE:
        lines.append("Your program used too much memory.")
    else:
        lines.append(f"Your program printed:\n```\n{clip(result.output) if result.output.strip() else '(nothing)'}\n```")
        if result.message:
            lines.append(f"Checker: {clip(result.message, 200)}")
    return "\n".join(lines)


REPEATED_NOTE = (
    "Your last reply fixed nothing: the program behaves exactly as before on the public tests. "
    "Do not repeat it: work out what the right answer to a failing test is and why, and change "
    "the approach if needed.\n\n"
)


def debug_feedback(
    problem: Problem, tests: Sequence[TestCase], results: Sequence[TestResult], *, repeated: bool = False, language: str = "python"
) -> str:
    """What the model sees after a failed run: every public test, failures in full.

    The model is asked for a short diagnosis before the code: a small model that names the
    bug first repairs it more often than one that rewrites at once (which mostly reproduces
    the same program). ``repeated`` says the last repair changed nothing the tests can see.
    """
    passed = sum(r.passed for r in results)
    head = (REPEATED_NOTE if repeated else "") + f"Your code passed {passed} of {len(results)} public tests.\n\n"
    if results and all(r.verdict is Verdict.CE for r in results):
        # One compile failed every test: say it once, and ask for a fix of the error.
        tail = (
            "\n\nFirst say in one sentence what the compiler objects to and how to fix it. Then reply "
            f"with the whole corrected program in one ```{language} block."
        )
        return head + _test_feedback(1, tests[0], results[0], problem) + tail
    parts = [_test_feedback(i, t, r, problem) for i, (t, r) in enumerate(zip(tests, results), 1)]
    tail = (
        "\n\nFirst say in one or two sentences what goes wrong: what your program does on the failing "
        "test, and what it should do instead (re-read the statement and the input format). Then reply "
        f"with the whole corrected program in one ```{language} block."
    )
    return head + "\n\n".join(parts) + tail


def fresh_repair_messages(problem: Problem, code: str, feedback: str, language: str = "python") -> list[Message]:
    """A new conversation about a program whose repairs went nowhere.

    Given its own earlier replies, a small model copies them, whatever the feedback says;
    without them it has nothing to copy and rethinks the program from the statement.
    """
    system, first = generation_messages(problem, language)
    user = (
        f"{first.content}\n\nThis attempt is wrong:\n```{language}\n{code.strip()}\n```\n\n{feedback}"
    )
    return [system, Message("user", user)]


NO_CODE_FEEDBACK = (
    "Your reply did not contain a complete Python program. Write the whole program in one "
    "```python block."
)


def no_code_feedback(language: str = "python") -> str:
    if language == "python":
        return NO_CODE_FEEDBACK
    return (
        f"Your reply did not contain a complete {LANGUAGE_NAME.get(language, language)} program. "
        f"Write the whole program in one ```{language} block."
    )


def input_synthesis_messages(problem: Problem, k: int) -> list[Message]:
    """Ask for small, tricky, valid inputs (selection stage)."""
    what = "argument lists (each a JSON array of the arguments)" if problem.kind is ProblemKind.FUNCTION else "inputs"
    examples = "\n".join(f"```\n{clip(t.input, 300)}\n```" for t in problem.public_tests[:2])
    user = (
        f"# Problem: {problem.title}\n\n{problem.statement.strip()}\n\n"
        f"Write {k} new test {what} for this problem. Each must follow the input format and the "
        "constraints exactly. Make them small but tricky: minimum sizes, equal values, "
        "extreme values, answers that are zero or impossible, cases a wrong solution would miss.\n"
        f"The sample inputs look like this:\n{examples}\n\n"
        f"Reply with the {k} inputs only, each in its own ``` block, with no expected outputs."
    )
    return [Message("system", SYSTEM), Message("user", user)]


def generator_messages(problem: Problem) -> list[Message]:
    """Ask for a program that prints one maximum-size input (catches too-slow candidates)."""
    user = (
        f"# Problem: {problem.title}\n\n{problem.statement.strip()}\n\n"
        "Write a Python 3 program that prints ONE valid input for this problem whose size is the "
        "largest the constraints allow (for testing the speed of solutions). Use the random module "
        "with a fixed seed (random.seed(1)) for the values. Build the output with '\\n'.join and "
        "print it at once. Follow the input format exactly. Give only the program in one ```python block."
    )
    if problem.kind is ProblemKind.FUNCTION:
        user += " Print the arguments as one JSON array (import json; print(json.dumps([...])))."
    return [Message("system", SYSTEM), Message("user", user)]


def random_input_messages(problem: Problem) -> list[Message]:
    """Ask for a program that prints one small random input; run with many seeds (selection).

    Small random inputs reach the cases a hand-written few miss (a quotient that is not a
    power of 2 and 3, an odd count), and each costs one sandbox run, not a generation. The
    1.5B model ignores a bare "small" and copies the constraints' full ranges; naming the
    ranges and showing the sample inputs got it to write small, well-formed ones.
    """
    examples = "\n".join(f"```\n{clip(t.input, 300)}\n```" for t in problem.public_tests[:2])
    user = (
        f"# Problem: {problem.title}\n\n{problem.statement.strip()}\n\n"
        "Write a Python 3 program that prints ONE random valid input for this problem, SMALL, so "
        "that a slow brute force could solve it by hand. Keep every number tiny: draw each value "
        "with random.randint over a small range (such as 1 to 20, or the smallest range the "
        "constraints allow), and each count or length with random.randint(1, 6). Values that must "
        "relate to each other (one divides another, one is at most another, sorted, distinct) "
        "must be generated so that they do: build them from each other. Do not call random.seed: "
        "the caller seeds it."
    )
    if problem.kind is ProblemKind.FUNCTION:
        user += " Print the arguments as one JSON array (import json; print(json.dumps([...])))."
    else:
        user += f" Print it in exactly the format of the sample inputs, which look like this:\n{examples}\n\n"
    user += ("" if user.endswith("\n") else " ") + "Give only the program in one ```python block."
    return [Message("system", SYSTEM), Message("user", user)]


def _show_outcome(outcome: RunOutcome) -> str:
    if outcome.status is RunStatus.OK:
        return clip(outcome.stdout.decode("utf-8", "replace"), 400) or "(nothing)"
    return f"(the program failed: {outcome.status.value})"


# --- validated inputs and the judge that always answers (INP) -------------------------


def validator_messages(problem: Problem) -> list[Message]:
    """Ask for an input validator: a program that says whether one input obeys the statement.

    Every synthesized input must pass it before it may split the candidates: an input in the
    wrong format (all values on one line where the statement gives one per line, an answer
    printed instead of an input) crashes the careful programs and crowns the sloppy one.
    """
    examples = "\n".join(f"```\n{clip(t.input, 300)}\n```" for t in problem.public_tests[:2])
    if problem.kind is ProblemKind.FUNCTION:
        what = (
            "The input is ONE line: a JSON array holding the arguments of one call, in order. Parse it with "
            "json.loads and check the number of arguments, their types and the constraints."
        )
    else:
        what = (
            "Check the input LINE BY LINE exactly as the input section lays it out: the number of lines, "
            "the number of values on each line, that each value is an integer (or whatever type is stated), "
            "every constraint on the values and counts (a count must match the number of items that follow), "
            "and that nothing extra follows."
        )
    user = (
        f"# Problem: {problem.title}\n\n{problem.statement.strip()}\n\n"
        "Write a Python 3 program that VALIDATES one input for this problem: it reads the whole input from "
        "standard input, exits with code 0 when the input is valid, and otherwise prints the reason to "
        "standard error and exits with code 1 (sys.exit(1)). It must not print anything to standard output. "
        f"{what} The sample inputs below are valid:\n{examples}\n\n"
        "Give only the program in one ```python block."
    )
    return [Message("system", SYSTEM), Message("user", user)]


# The judge sees the input itself only when it is small enough to reason about.
JUDGE_INPUT_CHARS = 600
JUDGE_INPUT_HEAD = 300


def show_judge_input(test_input: str) -> str:
    """The input for the judge: whole when small; otherwise its head and what it holds."""
    if len(test_input) <= JUDGE_INPUT_CHARS:
        return f"```\n{test_input.rstrip()}\n```"
    lines = test_input.rstrip("\n").split("\n")
    head = test_input[:JUDGE_INPUT_HEAD].rsplit("\n", 1)[0] if "\n" in test_input[:JUDGE_INPUT_HEAD] else test_input[:JUDGE_INPUT_HEAD]
    return (
        f"This input is large ({len(lines)} lines, {len(test_input)} characters); its beginning:\n```\n{head}\n```\n"
        "Do not try to compute the answer for it by hand: compare how the two programs read and treat it."
    )


def judge_pair_messages(
    problem: Problem, test_input: str, code_a: str, out_a: RunOutcome, code_b: str, out_b: RunOutcome, language: str = "python"
) -> list[Message]:
    """Pairwise judgement, first step: reason briefly. The answer is then forced (see JUDGE_ANSWER)."""
    user = (
        f"# Problem: {problem.title}\n\n{problem.statement.strip()}\n\n"
        f"Two programs were written for this problem{' in C++' if language == 'cpp' else ''}. They disagree on this input:\n"
        f"{show_judge_input(test_input)}\n\n"
        f"Program A:\n```{language}\n{clip(code_a, 2500)}\n```\nProgram A printed:\n```\n{_show_outcome(out_a)}\n```\n\n"
        f"Program B:\n```{language}\n{clip(code_b, 2500)}\n```\nProgram B printed:\n```\n{_show_outcome(out_b)}\n```\n\n"
        "Which program is correct on this input? Do not restate the samples. Work out the correct output for "
        "this input from the statement (or, for a large input, find where the programs differ and which one "
        "follows the statement), step by step and briefly. Then finish with exactly one line: `Answer: A` or `Answer: B`."
    )
    return [Message("system", system_prompt(language)), Message("user", user)]


# Appended to the judge's reasoning (cut before any answer it wrote) to force the answer.
JUDGE_ANSWER = "\n\nAnswer:"
