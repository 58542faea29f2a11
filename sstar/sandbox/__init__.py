"""Running untrusted programs: the Docker backend, the process backend, and how to pick one.

    from sstar.sandbox import open_sandbox, Program, RunSpec, Limits
    with open_sandbox("auto") as sandbox:
        outcomes = sandbox.run(Program("print(input())"), [RunSpec("t1", b"hi\\n")], Limits())

Both backends start the same runner (``runner.py``, shipped in this package and in the
image) that forks one child per test; see docs in runner.py and the backends' modules.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable

from sstar.errors import SandboxUnavailable
from sstar.registry import SANDBOX_GROUP, Registry
from sstar.sandbox.base import Limits, OnResult, Program, RunOutcome, RunSpec, RunStatus, Sandbox
from sstar.sandbox.docker_backend import DockerSandbox, reap_stale_containers
from sstar.sandbox.image import BUILD_COMMAND, build_image, docker_client, image_exists, image_tag
from sstar.sandbox.process_backend import ProcessSandbox, process_backend_problem, reap_stale_cgroups
from sstar.sandbox.protocol import SandboxCrashed

__all__ = [
    "DockerSandbox",
    "Limits",
    "OnResult",
    "Program",
    "ProcessSandbox",
    "RunOutcome",
    "RunSpec",
    "RunStatus",
    "Sandbox",
    "SandboxCrashed",
    "SandboxUnavailable",
    "SANDBOXES",
    "DoctorCheck",
    "DoctorReport",
    "build_image",
    "doctor",
    "image_tag",
    "open_sandbox",
]

# A sandbox factory: (parallel=..., warn=...) -> Sandbox. Another package adds one with an
# ``sstar.sandboxes`` entry point (see sstar.registry); "auto" only ever picks sstar's own.
SandboxFactory = Callable[..., Sandbox]
SANDBOXES: Registry[SandboxFactory] = Registry(SANDBOX_GROUP)
SANDBOXES.register("docker", lambda *, parallel=None, **_: DockerSandbox(parallel=parallel))
SANDBOXES.register("process", lambda *, parallel=None, **_: ProcessSandbox(parallel=parallel))
KINDS = ("auto", "docker", "process")  # sstar's own; SANDBOXES.names() adds the plugins
Warn = Callable[[str], None]


def open_sandbox(kind: str = "auto", *, parallel: int | None = None, warn: Warn | None = None) -> Sandbox:
    """Open a sandbox backend; use it as a context manager.

    ``docker`` and ``process`` (or a backend another package registered) open that backend
    or raise SandboxUnavailable saying how to make it work. ``auto`` prefers Docker (engine
    answering and image built) and otherwise falls back to the process backend, telling
    ``warn`` why.
    """
    if kind != "auto":
        factory = SANDBOXES.get(kind)
        if factory is None:
            known = ", ".join(["auto", *SANDBOXES.names()])
            broken = SANDBOXES.plugin_errors.get(kind)
            why = f" (the plugin {kind!r} failed to load: {broken})" if broken else ""
            raise SandboxUnavailable(f"unknown sandbox kind {kind!r}{why}: use one of {known}")
        return factory(parallel=parallel, warn=warn)
    try:
        return DockerSandbox(parallel=parallel)
    except SandboxUnavailable as docker_err:
        docker_reason = str(docker_err)
    try:
        sandbox = ProcessSandbox(parallel=parallel)
    except SandboxUnavailable as process_err:
        raise SandboxUnavailable(f"no sandbox works here. Docker: {docker_reason} Process: {process_err}") from None
    if warn is not None:
        warn(f"using the process sandbox (weaker than Docker): {docker_reason}")
    return sandbox


@dataclass
class DoctorCheck:
    backend: str  # "docker" or "process"
    name: str
    ok: bool
    detail: str = ""
    fix: str = ""  # what to do when not ok
    required: bool = True  # False: nice to have, the backend works without it


@dataclass
class DoctorReport:
    checks: list[DoctorCheck] = field(default_factory=list)

    def works(self, backend: str) -> bool:
        mine = [c for c in self.checks if c.backend == backend and c.required]
        return bool(mine) and all(c.ok for c in mine)

    @property
    def any_works(self) -> bool:
        return self.works("docker") or self.works("process")


SMOKE = Program("import sys\nprint(sum(map(int, sys.stdin.read().split())))\n")


def _smoke(sandbox: Sandbox) -> str:
    start = time.perf_counter()
    outcomes = sandbox.run(SMOKE, [RunSpec("smoke", b"1 2 3\n")], Limits(time_s=10))
    took = time.perf_counter() - start
    got = outcomes[0]
    if got.status is not RunStatus.OK or got.stdout != b"6\n":
        raise SandboxCrashed(f"a test program gave {got.status.value} {got.stdout!r} {got.stderr_tail[-300:]!r}")
    return f"a test program ran correctly ({took * 1000:.0f} ms for the first run)"


def doctor(*, smoke: bool = True) -> DoctorReport:
    """Check which backends work here and say exactly what to do about the others."""
    report = DoctorReport()
    add = report.checks.append

    # Docker
    try:
        client = docker_client(timeout=5)
    except SandboxUnavailable as err:
        add(DoctorCheck("docker", "engine", False, str(err).split("):")[0] + ")", DOCKER_ENGINE_FIX))
    else:
        version = client.version().get("Version", "?")
        add(DoctorCheck("docker", "engine", True, f"Docker engine {version} answers"))
        stale = reap_stale_containers(client)
        if stale:
            add(DoctorCheck("docker", "stale containers", True, f"removed {len(stale)} left by dead sessions", required=False))
        tag = image_tag()
        if image_exists(client, tag):
            add(DoctorCheck("docker", "image", True, f"{tag} is built"))
            if smoke:
                try:
                    with DockerSandbox(parallel=1, client=client) as sandbox:
                        add(DoctorCheck("docker", "run", True, _smoke(sandbox)))
                except SandboxUnavailable as err:
                    add(DoctorCheck("docker", "run", False, str(err), "see the message; rebuild the image with " + BUILD_COMMAND))
        else:
            fix = f"run `{BUILD_COMMAND}` (about a minute, needs root and debootstrap)"
            add(DoctorCheck("docker", "image", False, f"{tag} is not built", fix))

    # Process
    problem = process_backend_problem()
    if problem is not None:
        add(DoctorCheck("process", "requirements", False, problem[0], problem[1]))
    else:
        add(DoctorCheck("process", "requirements", True, "root, namespaces (unshare), setpriv, mount and /usr/bin/python3 work here"))
        from sstar.sandbox.process_backend import CGROUP_ROOT

        stale_groups = reap_stale_cgroups()
        cgroups = all((CGROUP_ROOT / ctl / "cgroup.procs").exists() for ctl in ("pids", "memory"))
        detail = "cgroup v1 pids and memory controllers: runs are fenced" if cgroups else "no cgroup v1 pids/memory controllers"
        if stale_groups:
            detail += f"; removed {len(stale_groups)} stale cgroups"
        fix = "mount cgroup v1 pids and memory controllers for an extra fork-bomb/memory fence"
        add(DoctorCheck("process", "cgroups", cgroups, detail, fix, required=False))
        if smoke:
            try:
                with ProcessSandbox(parallel=1) as sandbox:
                    add(DoctorCheck("process", "run", True, _smoke(sandbox)))
            except SandboxUnavailable as err:
                add(DoctorCheck("process", "run", False, str(err), "see the message (the runner's stderr says which confinement step failed)"))
    return report


DOCKER_ENGINE_FIX = (
    "install Docker (apt-get install docker.io), start it (systemctl start docker, or "
    f"`dockerd --iptables=false --bridge=none &`), then run `{BUILD_COMMAND}`"
)
