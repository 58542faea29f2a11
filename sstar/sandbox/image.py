"""The Docker image the sandbox runs in: its name, and how to build it.

The tag is a hash of the runner and the Dockerfile, so a changed runner can never be run
from an old image: the backend asks for a rebuild instead. The files come from the
installed package (package data), so building works without the repository checkout.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from sstar.errors import SandboxUnavailable

if TYPE_CHECKING:  # pragma: no cover
    import docker

IMAGE_REPOSITORY = "sstar-sandbox"
RUNNER_IN_IMAGE = "/opt/sstar/runner.py"
PYTHON_IN_IMAGE = "/usr/bin/python3"
BUILD_COMMAND = "sstar sandbox build --offline"

Log = Callable[[str], None]


def package_file(name: str) -> Path:
    """A file shipped in the ``sstar.sandbox`` package (runner.py, Dockerfile, build-offline.sh)."""
    path = Path(str(resources.files("sstar.sandbox").joinpath(name)))
    if not path.is_file():
        raise SandboxUnavailable(
            f"the sstar installation lacks {name} (package data); reinstall sstar: pip install --force-reinstall sstar"
        )
    return path


def runner_path() -> Path:
    return package_file("runner.py")


def image_tag() -> str:
    """``sstar-sandbox:<12 hex>``: changes whenever runner.py or the Dockerfile changes."""
    digest = hashlib.sha256()
    for name in ("runner.py", "Dockerfile"):
        digest.update(name.encode() + b"\0" + package_file(name).read_bytes() + b"\0")
    return f"{IMAGE_REPOSITORY}:{digest.hexdigest()[:12]}"


def docker_client(timeout: float = 10.0) -> "docker.DockerClient":
    """A client for the local engine, or SandboxUnavailable saying how to get one."""
    try:
        import docker
        from docker.errors import DockerException
    except ImportError as err:  # pragma: no cover - docker is a dependency
        raise SandboxUnavailable("the Python package `docker` is missing: pip install 'docker>=7'") from err
    try:
        client = docker.from_env(timeout=int(timeout))
        client.ping()
    except DockerException as err:
        raise SandboxUnavailable(
            f"no Docker engine answers ({_short(err)}): install it (apt-get install docker.io) and start it "
            "(systemctl start docker, or `dockerd --iptables=false --bridge=none &`), "
            "or use the process backend (--sandbox process)"
        ) from err
    return client


def image_exists(client: "docker.DockerClient", tag: str | None = None) -> bool:
    from docker.errors import ImageNotFound

    try:
        client.images.get(tag or image_tag())
    except ImageNotFound:
        return False
    return True


def build_image(offline: bool = False, *, log: Log | None = None, client: "docker.DockerClient | None" = None) -> str:
    """Build the sandbox image and return its tag.

    ``offline=False``: ``docker build`` of the Dockerfile (needs a registry for the base
    image). ``offline=True``: build-offline.sh (debootstrap from the Debian mirror, then
    ``docker import``; needs root and debootstrap).
    """
    say = log or (lambda line: None)
    tag = image_tag()
    client = client or docker_client()
    if offline:
        _build_offline(tag, say)
    else:
        _build_online(client, tag, say)
    if not image_exists(client, tag):
        raise SandboxUnavailable(f"the build finished but {tag} is not in the engine; see the build output above")
    for old in remove_old_images(client, keep=tag):
        say(f"removed the outdated image {old}")
    return tag


def remove_old_images(client: "docker.DockerClient", keep: str) -> list[str]:
    """Remove other ``sstar-sandbox:*`` tags (older runners); ones still in use stay."""
    from docker.errors import APIError

    removed = []
    for image in client.images.list(name=IMAGE_REPOSITORY):
        for tag in image.tags:
            if tag.startswith(IMAGE_REPOSITORY + ":") and tag != keep:
                try:
                    client.images.remove(tag)
                    removed.append(tag)
                except APIError:  # a container still uses it
                    pass
    return removed


def _build_online(client: "docker.DockerClient", tag: str, say: Log) -> None:
    from docker.errors import APIError, BuildError

    with tempfile.TemporaryDirectory(prefix="sstar-build-") as context:
        for name in ("Dockerfile", "runner.py"):
            shutil.copyfile(package_file(name), os.path.join(context, name))
        try:
            # Host network for RUN apt-get: engines started with --bridge=none have no other.
            chunks = client.api.build(path=context, tag=tag, rm=True, forcerm=True, decode=True, network_mode="host")
            for chunk in chunks:
                _log_build_chunk(chunk, say)
        except (APIError, BuildError) as err:
            raise SandboxUnavailable(
                f"docker build failed ({_short(err)}); without access to a registry use `{BUILD_COMMAND}`"
            ) from err


def _log_build_chunk(chunk: dict[str, Any], say: Log) -> None:
    if "error" in chunk:
        raise SandboxUnavailable(
            f"docker build failed: {str(chunk['error']).strip()}; without access to a registry use `{BUILD_COMMAND}`"
        )
    text = str(chunk.get("stream") or chunk.get("status") or "").rstrip()
    if text:
        say(text)


def _build_offline(tag: str, say: Log) -> None:
    if os.geteuid() != 0:
        raise SandboxUnavailable(f"`{BUILD_COMMAND}` needs root (debootstrap): run it as root, e.g. with sudo")
    if shutil.which("debootstrap") is None:
        raise SandboxUnavailable("`sstar sandbox build --offline` needs debootstrap: apt-get install debootstrap")
    script = package_file("build-offline.sh")
    with subprocess.Popen(
        ["/bin/sh", str(script), tag, str(runner_path())],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        text=True,
        errors="replace",
    ) as proc:
        assert proc.stdout is not None
        tail: list[str] = []
        for line in proc.stdout:
            say(line.rstrip())
            tail = (tail + [line.rstrip()])[-5:]
    if proc.returncode != 0:
        raise SandboxUnavailable(f"the offline image build failed (exit {proc.returncode}): " + " / ".join(tail))


def _short(err: BaseException) -> str:
    text = str(err).strip().splitlines()
    return text[0][:200] if text else type(err).__name__
