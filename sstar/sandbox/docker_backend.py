"""DockerSandbox: one warm container per session, in which one ``docker exec``'d runner
serves the session's ``run()`` calls one after the other, forking a child per test.

The container has no network, a read-only root, a bounded tmpfs /tmp (mode 755: tests
can write only in their own directory), memory and pids limits, every capability dropped
but CAP_SETUID/CAP_SETGID (the runner's uid switching), no-new-privileges and a private
IPC namespace whose shared memory is capped (sysctls, /dev/shm size) inside the memory
limit. When the runner dies or stops answering, the tests without a result come back as
SE outcomes and the next run starts a fresh container. Its PID 1 (tini, then ``cat``) reads the container's stdin,
which this process holds through an attach socket: when this process dies, even by
SIGKILL, the socket closes, ``cat`` sees EOF, the container stops and auto-removes.
Containers of dead sessions that slipped through are reaped when a session starts.
"""

from __future__ import annotations

import os
import socket
import struct
import threading
import time
import uuid
from typing import TYPE_CHECKING, Any, Iterator

from sstar.errors import SandboxUnavailable
from sstar.sandbox.base import Limits
from sstar.sandbox.image import BUILD_COMMAND, PYTHON_IN_IMAGE, RUNNER_IN_IMAGE, docker_client, image_exists, image_tag
from sstar.sandbox.protocol import (
    default_parallel,
    IO_MOUNT,
    ipc_sysctls,
    RunnerSandbox,
    SandboxCrashed,
    Sizing,
    sizing,
    split_lines,
    TMP_MOUNT,
    uid_base,
)

if TYPE_CHECKING:  # pragma: no cover
    import docker

LABEL_SESSION = "sstar.session"
LABEL_PID = "sstar.owner-pid"
LABEL_START = "sstar.owner-start"
LABEL_HOST = "sstar.owner-host"
CAPABILITIES = ["SETUID", "SETGID"]  # all the runner needs: it never touches another uid's files
ENV = {"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8"}
STDOUT, STDERR = 1, 2


def process_start_time(pid: int) -> str:
    """The kernel's start time of ``pid`` (tells a live owner from a reused pid); '' if gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read()
    except OSError:
        return ""
    return stat.rsplit(b")", 1)[1].split()[19].decode()


def owner_alive(labels: dict[str, str]) -> bool:
    try:
        pid = int(labels.get(LABEL_PID, ""))
    except ValueError:
        return False
    return process_start_time(pid) == labels.get(LABEL_START, "")


def session_containers(client: "docker.DockerClient") -> list[dict[str, Any]]:
    """Every sstar sandbox container the engine knows, running or not, as the engine lists
    them ("Id", "Labels", "State"; no per-container inspect that auto-removal could race)."""
    return list(client.api.containers(all=True, filters={"label": LABEL_SESSION}))


def reap_stale_containers(client: "docker.DockerClient") -> list[str]:
    """Kill and remove sstar containers whose owner process on this host is gone (or that
    already stopped); returns their short ids."""
    from docker.errors import APIError

    here = socket.gethostname()
    reaped = []
    for container in session_containers(client):
        labels = container.get("Labels") or {}
        stopped = container.get("State") not in ("running", "created", "restarting")
        if not stopped and (labels.get(LABEL_HOST) != here or owner_alive(labels)):
            continue  # a live session, or another machine's (the engine may be shared)
        try:
            client.api.remove_container(container["Id"], force=True)
        except APIError:  # gone already, or its removal is in progress (auto_remove)
            continue
        reaped.append(container["Id"][:12])
    return reaped


class DockerSandbox(RunnerSandbox):
    """Runs programs in a warm container of the ``sstar-sandbox`` image."""

    name = "docker"
    thread_safe = True  # run() may be called from several threads; runs are served in turn

    def __init__(
        self,
        *,
        parallel: int | None = None,
        image: str | None = None,
        limits: Limits | None = None,
        client: "docker.DockerClient | None" = None,
    ) -> None:
        self.client = client or docker_client()
        self.image = image or image_tag()
        if not image_exists(self.client, self.image):
            raise SandboxUnavailable(f"the sandbox image {self.image} is not built: run `{BUILD_COMMAND}` (about a minute)")
        self.parallel = parallel or default_parallel()
        self.session = uuid.uuid4().hex
        self.uid_base = uid_base()
        self._lock = threading.Lock()
        self._closed = False
        self._container_id: str | None = None
        self._stdin_sock: Any = None  # the attach socket whose EOF stops the container
        self._size: Sizing | None = None
        self._runner: tuple[socket.socket, Iterator[bytes]] | None = None  # the exec'd runner
        self._runner_errors = bytearray()  # the tail of its stderr
        reap_stale_containers(self.client)
        self._image_id = str(self.client.images.get(self.image).id)
        with self._lock:
            self._start(sizing(limits or Limits(), self.parallel))

    # -- container lifecycle

    @property
    def container_id(self) -> str | None:
        return self._container_id

    @property
    def slot_uids(self) -> list[int]:
        """The uids tests run under inside the container (one per parallel slot)."""
        return [self.uid_base + i for i in range(self.parallel)]

    @property
    def identity(self) -> str:
        return f"docker:{self._image_id.split(':')[-1][:12]}"

    def _start(self, size: Sizing) -> None:
        from docker.types import Ulimit

        api = self.client.api
        host_config = api.create_host_config(
            network_mode="none",
            read_only=True,
            tmpfs={
                TMP_MOUNT: f"rw,nosuid,nodev,noexec,size={size.tmp_mb}m,mode=755",
                IO_MOUNT: f"rw,nosuid,nodev,noexec,size={size.io_mb}m,mode=711",
            },
            mem_limit=f"{size.memory_mb}m",
            memswap_limit=f"{size.memory_mb}m",  # no swap: MLE stays MLE
            pids_limit=size.pids,
            cap_drop=["ALL"],
            cap_add=CAPABILITIES,
            security_opt=["no-new-privileges"],
            # Its own IPC namespace with a bounded /dev/shm (multiprocessing's semaphores
            # live there) and SysV caps: the runner empties both between programs, and the
            # caps keep shared memory (which outlives processes) inside the memory limit.
            ipc_mode="private",
            shm_size=f"{size.shm_mb}m",
            sysctls=ipc_sysctls(size),
            init=True,  # tini as PID 1: reaps, and forwards the end of `cat`
            auto_remove=True,
            ulimits=[Ulimit(name="nofile", soft=1024, hard=4096), Ulimit(name="core", soft=0, hard=0)],
        )
        labels = {
            LABEL_SESSION: self.session,
            LABEL_PID: str(os.getpid()),
            LABEL_START: process_start_time(os.getpid()),
            LABEL_HOST: socket.gethostname(),
        }
        try:
            created = api.create_container(
                self.image,
                command=["cat"],
                stdin_open=True,
                detach=False,  # with stdin_open: StdinOnce, PID 1's stdin closes when our socket goes
                labels=labels,
                host_config=host_config,
                network_disabled=True,
                environment=ENV,
                working_dir="/tmp",
                user="0",
            )
            cid = created["Id"]
            self._container_id = cid
            self._stdin_sock = api.attach_socket(cid, params={"stdin": 1, "stream": 1})
            api.start(cid)
        except Exception as err:
            self._stop_container()
            raise SandboxUnavailable(f"could not start a sandbox container from {self.image}: {err}") from err
        self._size = size

    def _stop_container(self) -> None:
        """Kill and remove the container (idempotent; auto_remove may race us)."""
        from docker.errors import APIError, NotFound

        cid, self._container_id = self._container_id, None
        sock, self._stdin_sock = self._stdin_sock, None
        runner, self._runner = self._runner, None
        self._size = None
        if runner is not None:
            _close_quietly(runner[0])
        if cid is not None:
            try:
                self.client.api.remove_container(cid, force=True)
            except NotFound:
                pass
            except APIError:  # "removal already in progress"
                try:
                    self.client.api.kill(cid)
                except APIError:
                    pass
        if sock is not None:
            _close_quietly(sock)

    # -- running

    where = "docker sandbox"

    def _fit(self, need: Sizing) -> Sizing:
        if self._size is None or not self._size.covers(need):
            old = self._size
            self._stop_container()
            self._start(need if old is None else need.union(old))  # grow, never shrink
        return need

    def _send(self, request: bytes, need: Sizing, limits: Limits) -> Iterator[bytes]:
        if self._runner is None:
            self._runner = self._start_runner()
        sock, lines = self._runner
        sock.settimeout(max(30.0, 3 * limits.time_s + 10))
        sock.sendall(request)
        return lines

    def _stop(self) -> None:
        # The runner's socket closes (it sees EOF and kills its tests) and the container goes too.
        self._stop_container()

    def _retire_runner(self) -> None:
        # Between requests the runner has nothing running: at EOF it exits, and its memory
        # with it. The container stays; the next run exec's a fresh runner (~70 ms).
        runner, self._runner = self._runner, None
        if runner is not None:
            _close_quietly(runner[0])

    def _runner_detail(self) -> str:
        return self._runner_errors[-1000:].decode(errors="replace").strip()

    def _start_runner(self) -> tuple[socket.socket, Iterator[bytes]]:
        """``docker exec`` the runner; it serves this session's runs one after the other."""
        from docker.errors import APIError

        api = self.client.api
        assert self._container_id is not None
        try:
            exec_id = api.exec_create(
                self._container_id,
                [PYTHON_IN_IMAGE, "-I", RUNNER_IN_IMAGE],
                stdin=True,
                stdout=True,
                stderr=True,
                user="0",
                environment=ENV,
                workdir="/tmp",
            )["Id"]
            sock = _raw(api.exec_start(exec_id, socket=True))
        except APIError as err:
            raise SandboxCrashed(f"could not start the runner in the sandbox container ({err}); run `sstar sandbox doctor`") from err
        self._runner_errors = bytearray()
        return sock, split_lines(_demux(_frames(sock), self._runner_errors))

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        runner = self._runner
        if runner is not None and self._lock.locked():  # close() from another thread mid-run
            _close_quietly(runner[0])
        with self._lock:
            self._stop_container()
        try:
            self.client.close()
        except Exception:
            pass

    def __del__(self) -> None:  # pragma: no cover - the stdin socket's EOF does it anyway
        try:
            if not self._closed:
                self._stop_container()
        except Exception:
            pass


def _raw(sock: Any) -> socket.socket:
    """The plain socket under what docker-py returns for a hijacked connection."""
    return getattr(sock, "_sock", sock)


def _close_quietly(sock: Any) -> None:
    try:
        _raw(sock).shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    try:
        sock.close()
    except OSError:
        pass


def _read_exact(sock: socket.socket, size: int) -> bytes:
    parts = []
    while size:
        chunk = sock.recv(min(size, 1 << 20))
        if not chunk:
            raise EOFError
        parts.append(chunk)
        size -= len(chunk)
    return b"".join(parts)


def _frames(sock: socket.socket) -> Iterator[tuple[int, bytes]]:
    """Docker's multiplexed stream: 8-byte headers (stream id, big-endian length) + payload.
    The socket's timeout (set per run) bounds the wait for the runner."""
    while True:
        try:
            header = _read_exact(sock, 8)
            stream, size = header[0], struct.unpack(">I", header[4:])[0]
            yield stream, _read_exact(sock, size)
        except EOFError:
            return
        except socket.timeout:
            raise SandboxCrashed(
                f"the docker sandbox runner sent nothing for {sock.gettimeout():.0f} s; run `sstar sandbox doctor`"
            ) from None


def _demux(frames: Iterator[tuple[int, bytes]], errors: bytearray) -> Iterator[bytes]:
    for stream, data in frames:
        if stream == STDERR:
            errors += data
            del errors[:-4096]
        else:
            yield data


def wait_gone(client: "docker.DockerClient", container_id: str, timeout: float = 10.0) -> bool:
    """Whether the container disappeared within ``timeout`` seconds (tests, doctor)."""
    from docker.errors import NotFound

    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            client.api.inspect_container(container_id)
        except NotFound:
            return True
        time.sleep(0.1)
    return False
