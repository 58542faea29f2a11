"""The scripted engine (for pipeline tests) and open_engine's spec parsing."""

from __future__ import annotations

import pytest

from sstar.engine import Message, Request, SamplingParams, ScriptedEngine, open_engine
from sstar.errors import EngineError
from sstar.extract import extract_code


def _req(text: str, n: int = 1, **params: object) -> Request:
    return Request((Message("system", "sys"), Message("user", text)), n, SamplingParams(**params))  # type: ignore[arg-type]


def test_function_script_gets_messages_index_and_params() -> None:
    seen = []

    def script(messages, index, params):  # type: ignore[no-untyped-def]
        seen.append((messages[-1].content, index, params.temperature))
        return f"reply {index} to {messages[-1].content}"

    engine = ScriptedEngine(script)
    out = engine.generate([_req("a", n=2, temperature=0.5), _req("b")])
    assert [[c.text for c in row] for row in out] == [["reply 0 to a", "reply 1 to a"], ["reply 0 to b"]]
    assert seen == [("a", 0, 0.5), ("a", 1, 0.5), ("b", 0, 0.7)]


def test_canned_replies_match_substrings_and_cycle_per_sample() -> None:
    engine = ScriptedEngine([("debug", "fixed"), ("solve", ["one", "two"])], default="other")
    out = engine.generate([_req("please solve this", n=3), _req("please debug"), _req("hello")])
    assert [[c.text for c in row] for row in out] == [["one", "two", "one"], ["fixed"], ["other"]]


def test_unmatched_request_without_default_is_an_error() -> None:
    engine = ScriptedEngine({"x": "y"})
    with pytest.raises(EngineError, match="no reply"):
        engine.complete([Message("user", "zzz")])


def test_records_requests_and_batches() -> None:
    engine = ScriptedEngine(default="ok")
    r1, r2 = _req("a"), _req("b", n=4)
    engine.generate([r1, r2])
    engine.generate([r1])
    assert engine.requests == [r1, r2, r1]
    assert engine.batches == [[r1, r2], [r1]]


def test_tokens_are_words_and_limits_apply() -> None:
    engine = ScriptedEngine(default="one two  three four five")
    [c] = engine.generate([_req("x", max_tokens=3)])[0]
    assert (c.text, c.completion_tokens, c.finish_reason) == ("one two  three", 3, "length")
    [c] = engine.generate([_req("x", stop=("four",))])[0]
    assert (c.text, c.finish_reason) == ("one two  three ", "stop")
    assert c.prompt_tokens == 2  # "sys" + "x"
    quoted = "Input:\n```\n3\n```\n\nCode:\n```python\nprint(3)\n```\n\nThis prints three."
    [c] = ScriptedEngine(default=quoted).generate([_req("x", stop_after_block="python")])[0]
    assert (c.text, c.finish_reason) == ("Input:\n```\n3\n```\n\nCode:\n```python\nprint(3)\n```", "stop")
    assert engine.stats.calls == 2 and engine.stats.completion_tokens == 6


def test_open_engine_specs() -> None:
    demo = open_engine("scripted")
    reply = demo.complete([Message("user", "anything")])[0].text
    assert extract_code(reply) == "import sys\n\nsys.stdout.write(sys.stdin.read())\n"
    with pytest.raises(EngineError, match="openai:<model>@<base_url>"):
        open_engine("openai:no-url")
    engine = open_engine("openai:m@http://127.0.0.1:9/v1")
    assert engine.name == "openai"
    engine.close()
