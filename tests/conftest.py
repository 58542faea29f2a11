"""Shared fixtures.

Sandboxes: ``docker_sandbox`` and ``process_sandbox`` are session-scoped (one container,
one cgroup for the whole run); ``sandbox`` runs a test once per backend. Docker tests skip
with the reason when there is no engine or image, unless SSTAR_REQUIRE_DOCKER=1 (CI sets
it after `sstar sandbox build --offline`), where they fail instead; likewise process tests
and SSTAR_REQUIRE_PROCESS=1 (CI, as root).
"""

from __future__ import annotations

import os
from typing import Callable, Iterator

import pytest

from sstar.errors import SandboxUnavailable
from sstar.sandbox import DockerSandbox, ProcessSandbox, Sandbox

REQUIRE_DOCKER = os.environ.get("SSTAR_REQUIRE_DOCKER") == "1"


def _docker_unavailable(reason: str) -> None:
    if REQUIRE_DOCKER:
        pytest.fail(f"SSTAR_REQUIRE_DOCKER=1 but {reason}")
    pytest.skip(reason)


def docker_or_skip() -> None:
    """Skip (or fail, where Docker is required) unless the engine and the image are here."""
    from sstar.sandbox.image import docker_client, image_exists, image_tag

    try:
        client = docker_client(timeout=5)
    except SandboxUnavailable as err:
        _docker_unavailable(f"no Docker engine: {err}")
        return
    try:
        if not image_exists(client, image_tag()):
            _docker_unavailable(f"the sandbox image {image_tag()} is not built: run `sstar sandbox build --offline`")
    finally:
        client.close()


def process_or_skip() -> None:
    from sstar.sandbox.process_backend import process_backend_problem

    problem = process_backend_problem()
    if problem is not None:
        if os.environ.get("SSTAR_REQUIRE_PROCESS") == "1":
            pytest.fail(f"SSTAR_REQUIRE_PROCESS=1 but {problem[0]}: {problem[1]}", pytrace=False)
        pytest.skip(f"{problem[0]}: {problem[1]}")


@pytest.fixture(scope="session")
def live_docker_sessions() -> set[str]:
    """Sessions of the DockerSandboxes the fixtures hold open: their containers are legit."""
    return set()


@pytest.fixture(scope="session")
def docker_sandbox(live_docker_sessions: set[str]) -> Iterator[DockerSandbox]:
    docker_or_skip()
    sandbox = DockerSandbox(parallel=2)
    live_docker_sessions.add(sandbox.session)
    yield sandbox
    sandbox.close()
    live_docker_sessions.discard(sandbox.session)


@pytest.fixture(scope="session")
def process_sandbox() -> Iterator[ProcessSandbox]:
    process_or_skip()
    sandbox = ProcessSandbox(parallel=2)
    yield sandbox
    sandbox.close()


SANDBOX_KINDS = [pytest.param("docker", marks=pytest.mark.docker), "process"]


@pytest.fixture(params=SANDBOX_KINDS)
def sandbox(request: pytest.FixtureRequest) -> Sandbox:
    """The test runs once against each backend (two parallel slots each)."""
    return request.getfixturevalue(f"{request.param}_sandbox")


@pytest.fixture(params=SANDBOX_KINDS)
def serial_sandbox(request: pytest.FixtureRequest, live_docker_sessions: set[str]) -> Iterator[Sandbox]:
    """A fresh one-slot sandbox of each backend: consecutive tests share a slot (and uid)."""
    sandbox: Sandbox
    if request.param == "docker":
        docker_or_skip()
        sandbox = docker = DockerSandbox(parallel=1)
        live_docker_sessions.add(docker.session)
    else:
        process_or_skip()
        sandbox = ProcessSandbox(parallel=1)
    yield sandbox
    sandbox.close()
    if isinstance(sandbox, DockerSandbox):
        live_docker_sessions.discard(sandbox.session)


# --------------------------------------------------------------------------- leftovers

# Run inside the container as root: every non-root process (tests run under slot uids)
# and every file left in the sandbox's writable places.
_INSIDE = r"""
import os
found = []
for pid in os.listdir("/proc"):
    if pid.isdigit() and pid != str(os.getpid()):
        try:
            status = open("/proc/%s/status" % pid).read()
        except OSError:
            continue
        uid = int(status.split("\nUid:")[1].split()[0])
        if uid != 0:
            found.append("process %s uid %d: %s" % (pid, uid, status.splitlines()[0]))
for top in ("/tmp", "/run/sstar", "/dev/mqueue"):
    for root, dirs, files in os.walk(top):
        found += ["file " + os.path.join(root, n) for n in dirs + files]
print("\n".join(found))
"""


def host_processes_of(uids: list[int]) -> list[str]:
    """Processes on this host (any pid namespace) running under one of ``uids``."""
    wanted = set(uids)
    found = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/status") as f:
                status = f.read()
        except OSError:
            continue
        uid = int(status.split("\nUid:")[1].split()[0])
        state = status.split("\nState:")[1].split()[0]
        if uid in wanted:
            found.append(f"host process {pid} uid {uid} state {state}: {status.splitlines()[0]}")
    return found


def find_leftovers(sandbox: Sandbox, live_sessions: set[str] = frozenset()) -> list[str]:  # type: ignore[assignment]
    """What a finished run left behind: [] when the sandbox is clean. ``live_sessions``:
    Docker sessions whose containers are expected to exist (open fixtures)."""
    found = host_processes_of(sandbox.slot_uids)  # type: ignore[attr-defined]
    for top in ("/tmp", "/var/tmp", "/dev/shm"):  # the host's shared writable places
        try:
            entries = list(os.scandir(top))
        except OSError:
            continue
        for entry in entries:
            try:
                if entry.stat(follow_symlinks=False).st_uid in sandbox.slot_uids:  # type: ignore[attr-defined]
                    found.append(f"host file {entry.path}")
            except OSError:
                pass
    if isinstance(sandbox, DockerSandbox):
        from sstar.sandbox.docker_backend import LABEL_PID, LABEL_SESSION

        mine = sandbox.client.api.containers(filters={"label": [LABEL_SESSION, f"{LABEL_PID}={os.getpid()}"]})
        expected = set(live_sessions) | {sandbox.session}
        found += [f"container {c['Id'][:12]}" for c in mine if c["Labels"].get(LABEL_SESSION) not in expected]
        if sandbox.container_id is not None:
            api = sandbox.client.api
            exec_id = api.exec_create(sandbox.container_id, ["/usr/bin/python3", "-I", "-c", _INSIDE], user="0")["Id"]
            output = api.exec_start(exec_id).decode(errors="replace")
            found += [line for line in output.splitlines() if line.strip()]
    if isinstance(sandbox, ProcessSandbox) and sandbox.cgroup is not None:
        # The runner's namespaces stay up between runs: look at its file system through
        # /proc/PID/root of a process in the session's cgroup.
        with open(sandbox.cgroup.procs_files()[0]) as f:
            members = f.read().split()
        if members:
            root = f"/proc/{members[-1]}/root"
            for top in ("/tmp", "/run/sstar"):
                for base, dirs, files in os.walk(root + top):
                    found += ["file " + os.path.join(base, n)[len(root) :] for n in dirs + files]
    return found


@pytest.fixture
def leftovers(live_docker_sessions: set[str]) -> Callable[[Sandbox], list[str]]:
    """``leftovers(sandbox)``: what the sandbox left behind after its runs ([] = clean)."""
    return lambda sandbox: find_leftovers(sandbox, live_docker_sessions)
