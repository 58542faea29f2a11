"""C++ programs in both sandbox backends: compiled once per request inside the sandbox,
verdicts like Python's, and hostile C++ binaries contained like hostile Python programs
(each leaves nothing behind: the ``leftovers`` fixture)."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from conftest import process_or_skip
from sstar.sandbox import Limits, Program, ProcessSandbox, RunOutcome, RunSpec, RunStatus, Sandbox
from sstar.sandbox.image import runner_path
from sstar.sandbox.base import EXTENSIONS, LANGUAGES, language_of, normalize_language
from sstar.sandbox.protocol import encode_request

pytestmark = pytest.mark.timeout(300)

LIMITS = Limits(time_s=1.0, memory_mb=128, output_bytes=1 << 20, processes=16, tmp_mb=16)
Leftovers = Callable[[Sandbox], list[str]]

A_PLUS_B = """
#include <bits/stdc++.h>
int main() { long long a, b; std::cin >> a >> b; std::cout << a + b << "\\n"; }
"""


def cpp(sandbox: Sandbox, source: str, *stdins: bytes, limits: Limits = LIMITS, args: tuple[str, ...] = ()) -> list[RunOutcome]:
    specs = [RunSpec(f"t{i}", data, args) for i, data in enumerate(stdins or (b"",))]
    return sandbox.run(Program(textwrap.dedent(source), "cpp"), specs, limits)


def still_works(sandbox: Sandbox) -> None:
    [outcome] = cpp(sandbox, A_PLUS_B, b"20 22\n")
    assert (outcome.status, outcome.stdout) == (RunStatus.OK, b"42\n"), outcome
    [outcome] = sandbox.run(Program("print(6 * 7)"), [RunSpec("py", b"")], LIMITS)
    assert (outcome.status, outcome.stdout) == (RunStatus.OK, b"42\n"), outcome


# ----------------------------------------------------------------------------- no sandbox


@given(st.sampled_from([s for suffixes in EXTENSIONS.values() for s in suffixes]), st.text("abc_-", min_size=1, max_size=8))
def test_language_from_the_extension(suffix: str, stem: str) -> None:
    expected = next(lang for lang, suffixes in EXTENSIONS.items() if suffix in suffixes)
    assert language_of(f"dir/{stem}{suffix}") == expected
    assert language_of(f"dir/{stem}{suffix.upper()}") == expected  # Windows habits
    assert language_of(f"dir/{stem}.java") is None


def test_language_names() -> None:
    assert [normalize_language(n) for n in ("py", "Python", "c++", "CPP", "cxx")] == ["python", "python", "cpp", "cpp", "cpp"]
    with pytest.raises(ValueError, match="expected one of python, cpp"):
        normalize_language("rust")
    assert LANGUAGES == ("python", "cpp")


def test_the_request_names_the_language_and_compile_limits() -> None:
    import json

    request = json.loads(encode_request(Program("int main(){}", "cpp"), [RunSpec("a", b"")], LIMITS, 2, 5000))
    assert request["language"] == "cpp"
    assert request["compile"]["time_s"] >= 10 and request["compile"]["memory_mb"] >= 512
    with pytest.raises(ValueError, match="not 'java'"):
        encode_request(Program("class A {}", "java"), [RunSpec("a", b"")], LIMITS, 2, 5000)


# ----------------------------------------------------------------------------- verdicts


def test_compiled_once_and_run_per_test(sandbox: Sandbox) -> None:
    outcomes = cpp(sandbox, A_PLUS_B, b"1 2\n", b"3 4\n", b"-5 5\n", b"1000000000000 1\n")
    assert [(o.status, o.stdout) for o in outcomes] == [
        (RunStatus.OK, b"3\n"), (RunStatus.OK, b"7\n"), (RunStatus.OK, b"0\n"), (RunStatus.OK, b"1000000000001\n")
    ]  # fmt: skip


def test_compile_error_is_ce_with_the_compilers_message(sandbox: Sandbox) -> None:
    outcomes = cpp(sandbox, "int main() { return undeclared_name; }\n", b"1\n", b"2\n")
    assert [o.status for o in outcomes] == [RunStatus.CE, RunStatus.CE]
    first = outcomes[0]
    assert "undeclared_name" in first.reason and "error" in first.reason
    assert first.stderr_tail.startswith("solution.cpp:"), first.stderr_tail  # the file as a judge names it
    assert "/run/sstar" not in first.stderr_tail


def test_a_huge_compiler_message_is_truncated(sandbox: Sandbox) -> None:
    source = "int main() {\n" + "".join(f"  int v{i} = undeclared{i};\n" for i in range(400)) + "}\n"
    [outcome] = cpp(sandbox, source)
    assert outcome.status is RunStatus.CE
    assert len(outcome.stderr_tail) < 4200 and outcome.stderr_tail.endswith("[compiler output truncated]")


def test_runtime_verdicts(sandbox: Sandbox) -> None:
    [re_exit] = cpp(sandbox, "int main() { return 3; }")
    assert (re_exit.status, re_exit.exit_code) == (RunStatus.RE, 3)
    [segv] = cpp(sandbox, "int main() { volatile int *p = nullptr; return *p; }")
    assert (segv.status, segv.signal) == (RunStatus.RE, 11)
    [tle] = cpp(sandbox, "int main() { volatile unsigned long x = 0; for (;;) x++; }")
    assert tle.status is RunStatus.TLE
    [argv] = cpp(sandbox, '#include <cstdio>\nint main(int c, char **v) { for (int i = 1; i < c; i++) std::puts(v[i]); }', args=("x", "y"))
    assert argv.stdout == b"x\ny\n"


def test_memory_limit_is_the_programs_own(sandbox: Sandbox) -> None:
    # 100 MB of a 128 MB limit is fine (a C++ binary does not pay for an interpreter) ...
    fits = """
    #include <bits/stdc++.h>
    int main() { std::vector<char> v(100 << 20, 1); long s = 0; for (size_t i = 0; i < v.size(); i += 4096) s += v[i]; std::printf("%ld\\n", s); }
    """
    [ok] = cpp(sandbox, fits)
    assert (ok.status, ok.stdout) == (RunStatus.OK, b"25600\n"), ok
    assert 90 <= ok.memory_mb <= 128 + 16, ok.memory_mb
    # ... 200 MB is not: std::bad_alloc is MLE
    [mle] = cpp(sandbox, fits.replace("100 << 20", "200 << 20"))
    assert mle.status is RunStatus.MLE and "bad_alloc" in mle.reason, mle


def test_deep_recursion_gets_the_memory_as_stack(sandbox: Sandbox) -> None:
    source = """
    #include <cstdio>
    int depth(int n) { volatile char pad[64]; pad[0] = (char)n; return n == 0 ? 0 : 1 + depth(n - 1) + pad[0] * 0; }
    int main() { std::printf("%d\\n", depth(500000)); }
    """
    [outcome] = cpp(sandbox, source)
    assert (outcome.status, outcome.stdout) == (RunStatus.OK, b"500000\n"), outcome


# ----------------------------------------------------------------------------- hostile C++


def test_fork_bomb(sandbox: Sandbox, leftovers: Leftovers) -> None:
    [outcome] = cpp(sandbox, "#include <unistd.h>\nint main() { for (;;) fork(); }")
    assert outcome.status is RunStatus.TLE, outcome
    assert leftovers(sandbox) == []
    still_works(sandbox)


def test_memory_bomb(sandbox: Sandbox, leftovers: Leftovers) -> None:
    source = """
    #include <cstdlib>
    #include <cstring>
    int main() { for (;;) { char *p = (char *)std::malloc(1 << 20); if (!p) continue; std::memset(p, 1, 1 << 20); } }
    """
    [outcome] = cpp(sandbox, source)
    # malloc returns NULL at the address-space limit and the loop spins on: TLE at a full heap
    assert outcome.status in (RunStatus.MLE, RunStatus.TLE), outcome
    assert outcome.memory_mb < LIMITS.memory_mb + 64
    assert leftovers(sandbox) == []
    [thrown] = cpp(sandbox, "#include <vector>\nint main() { std::vector<std::vector<char>> v; for (;;) v.emplace_back(1 << 20, 1); }")
    assert thrown.status is RunStatus.MLE, thrown
    assert leftovers(sandbox) == []
    still_works(sandbox)


SHM_LEAK = r"""
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <unistd.h>
int main() {
    int id = shmget(IPC_PRIVATE, 1 << 20, IPC_CREAT | 0666);
    if (id >= 0) { char *p = (char *)shmat(id, nullptr, 0); if (p != (char *)-1) std::memset(p, 7, 1 << 20); }
    int fd = shm_open("/sstar-cpp-leak", O_CREAT | O_RDWR, 0666);
    if (fd >= 0 && ftruncate(fd, 1 << 20) == 0) {
        char *q = (char *)mmap(nullptr, 1 << 20, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        if (q != MAP_FAILED) std::memset(q, 7, 1 << 20);
    }
    std::printf("%d %d\n", id >= 0, fd >= 0);
}
"""

SHM_SNOOP = r"""
#include <cstdio>
#include <dirent.h>
int main() {
    int lines = 0;
    if (FILE *f = std::fopen("/proc/sysvipc/shm", "r")) { for (int c; (c = std::fgetc(f)) != EOF;) lines += c == '\n'; std::fclose(f); }
    int entries = 0;
    if (DIR *d = opendir("/dev/shm")) { while (dirent *e = readdir(d)) entries += e->d_name[0] != '.'; closedir(d); }
    std::printf("%d %d\n", lines - 1, entries);
}
"""


def test_shared_memory_leak_is_removed(sandbox: Sandbox, leftovers: Leftovers) -> None:
    [outcome] = cpp(sandbox, SHM_LEAK)
    assert (outcome.status, outcome.stdout) == (RunStatus.OK, b"1 1\n"), outcome
    [snoop] = cpp(sandbox, SHM_SNOOP)
    assert (snoop.status, snoop.stdout) == (RunStatus.OK, b"0 0\n"), snoop  # no segment, no /dev/shm entry
    assert leftovers(sandbox) == []


def test_infinite_output(sandbox: Sandbox, leftovers: Leftovers) -> None:
    [outcome] = cpp(sandbox, '#include <cstdio>\nint main() { for (;;) std::fputs("xxxxxxxxxxxxxxxx", stdout); }')
    assert outcome.status is RunStatus.OLE, outcome
    assert outcome.stdout == b"x" * LIMITS.output_bytes
    assert leftovers(sandbox) == []


def test_loop_ignoring_sigterm(sandbox: Sandbox, leftovers: Leftovers) -> None:
    source = """
    #include <csignal>
    #include <unistd.h>
    int main() {
        const int ignored[] = {SIGTERM, SIGINT, SIGHUP, SIGXCPU};
        for (int s : ignored) std::signal(s, SIG_IGN);
        if (fork() == 0) setsid();  // a daemon in its own session too
        for (;;) {}
    }
    """
    [outcome] = cpp(sandbox, source)
    assert outcome.status is RunStatus.TLE, outcome
    assert leftovers(sandbox) == []
    still_works(sandbox)


def test_the_binary_cannot_be_changed_by_a_test(sandbox: Sandbox) -> None:
    # Every test runs the same program: it lives in a sealed memfd of the runner, which no
    # test can open for writing (nor reach in a directory: it is in none).
    source = r"""
    #include <cstdio>
    #include <fcntl.h>
    int main() {
        int w = open("/proc/self/exe", O_WRONLY), rw = open("/proc/self/exe", O_RDWR);
        std::printf("%d %d\n", w >= 0, rw >= 0);
    }
    """
    outcomes = cpp(sandbox, source, b"", b"", b"")
    assert [(o.status, o.stdout) for o in outcomes] == [(RunStatus.OK, b"0 0\n")] * 3, outcomes


def test_compiler_bombs_are_ce_and_contained(sandbox: Sandbox, leftovers: Leftovers) -> None:
    # The compiler runs as a test's uid under its own limits: reading /dev/zero as a header
    # hits its memory limit, a runaway template its depth limit; neither harms the sandbox.
    [zero] = cpp(sandbox, '#include "/dev/zero"\nint main() {}\n')
    assert zero.status is RunStatus.CE and "out of memory" in zero.reason, zero
    [secret] = cpp(sandbox, '#include "/proc/1/environ"\nint main() {}\n')
    assert secret.status is RunStatus.CE, secret
    assert leftovers(sandbox) == []
    still_works(sandbox)


def test_a_missing_compiler_says_how_to_install_it(tmp_path: Path) -> None:
    # The process backend runs the host's g++: where it is missing, CE says what to do.
    process_or_skip()
    runner = tmp_path / "runner.py"
    runner.write_text(Path(runner_path()).read_text().replace('CPP_COMMAND = ("/usr/bin/g++"', 'CPP_COMMAND = ("/usr/bin/g++-absent"'))
    runner.chmod(0o755)
    tmp_path.chmod(0o755)
    box = ProcessSandbox(parallel=1)
    box.runner = str(runner)
    try:
        [outcome] = cpp(box, A_PLUS_B, b"1 2\n")
    finally:
        box.close()
    assert outcome.status is RunStatus.CE
    assert outcome.reason.startswith("g++ is missing in the sandbox: apt-get install g++"), outcome.reason


def test_a_compile_fits_a_sandbox_sized_for_tiny_limits(serial_sandbox: Sandbox) -> None:
    # The sandbox's memory is sized from the tests' limits; g++ (about 200 MB resident on
    # <bits/stdc++.h> at -O2) must fit even when those are tiny.
    tiny = Limits(time_s=1.0, memory_mb=16, output_bytes=1 << 16, processes=4, tmp_mb=1)
    [outcome] = cpp(serial_sandbox, A_PLUS_B, b"2 3\n", limits=tiny)
    assert (outcome.status, outcome.stdout) == (RunStatus.OK, b"5\n"), outcome
