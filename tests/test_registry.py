"""Engines and sandboxes from other packages: a Python entry point is all it takes."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest

from sstar.engine import ENGINES, ScriptedEngine, open_engine
from sstar.errors import EngineError, SandboxUnavailable
from sstar.sandbox import SANDBOXES, open_sandbox


@pytest.fixture
def plugin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An installed distribution (a dist-info on sys.path) with an engine, a sandbox and a broken engine."""
    (tmp_path / "sstar_plugin_demo.py").write_text(textwrap.dedent(
        """
        from sstar.engine.scripted import ScriptedEngine
        from sstar.sandbox.base import RunOutcome, RunStatus, Sandbox

        def open_echo(arg, **options):
            engine = ScriptedEngine(default=f"echo {arg}")
            engine.options = options
            return engine

        class Always(Sandbox):
            name = "always"
            def __init__(self, parallel=None):
                self.parallel = parallel
            def run(self, program, specs, limits, on_result=None):
                return [RunOutcome(s.name, RunStatus.OK, s.stdin) for s in specs]

        def open_always(*, parallel=None, warn=None):
            return Always(parallel)
        """
    ))  # fmt: skip
    info = tmp_path / "sstar_plugin_demo-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: sstar-plugin-demo\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(
        "[sstar.engines]\necho = sstar_plugin_demo:open_echo\nbroken = sstar_plugin_demo:does_not_exist\n\n"
        "[sstar.sandboxes]\nalways = sstar_plugin_demo:open_always\ndocker = sstar_plugin_demo:open_always\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    for registry in (ENGINES, SANDBOXES):
        registry.refresh()
    yield tmp_path
    sys.modules.pop("sstar_plugin_demo", None)
    for registry in (ENGINES, SANDBOXES):
        for name in ("echo", "broken", "always"):
            registry._factories.pop(name, None)
        registry.plugin_errors.clear()
        registry.refresh()


def test_an_entry_point_adds_an_engine(plugin: Path) -> None:
    engine = open_engine("echo:hello there", n_threads=3)
    assert isinstance(engine, ScriptedEngine) and engine.options["n_threads"] == 3
    assert engine.complete([])[0].text == "echo hello there"
    assert "echo" in ENGINES.names() and isinstance(open_engine("scripted"), ScriptedEngine)


def test_an_entry_point_adds_a_sandbox_but_cannot_replace_sstars_own(plugin: Path) -> None:
    from sstar.sandbox import Limits, Program, RunSpec

    with open_sandbox("always", parallel=2) as box:
        assert box.name == "always" and box.parallel == 2
        assert box.run(Program("x"), [RunSpec("t", b"in")], Limits())[0].stdout == b"in"
    assert SANDBOXES.get("docker").__module__ == "sstar.sandbox"  # still sstar's Docker backend
    assert set(SANDBOXES.names()) >= {"docker", "process", "always"}


def test_a_broken_plugin_is_named_in_one_line(plugin: Path) -> None:
    with pytest.raises(EngineError, match="broken.*failed to load"):
        open_engine("broken:x")
    with pytest.raises(SandboxUnavailable, match="unknown sandbox kind 'nope': use one of auto, docker, process, always"):
        open_sandbox("nope")


def test_a_spec_naming_no_engine_is_a_model() -> None:
    from sstar.errors import ModelNotFound

    with pytest.raises(ModelNotFound, match="unknown model 'no-such-model'"):
        open_engine("no-such-model")
    with pytest.raises(EngineError, match="openai:<model>@<base_url>"):
        open_engine("openai:qwen")
