"""``sstar batch --ray [ADDRESS]``: the problems of a batch as Ray tasks over a cluster.

Each problem is one Ray task, solved with the sandbox of the node it runs on and the engine
named by ``--model`` (usually a served endpoint shared by all nodes). The driver appends each
returned record to the run file through sstar.batch's appender, so ``--resume``, ``report``
and the caches behave as on one machine. A task whose worker or node dies is run again by
Ray (``max_retries``); its ObjectRef resolves once, so the driver records it once.

A worker process keeps its Session (the engine and the warm sandbox) for every task it runs.
A local GGUF model loads once per node: one ModelHolder actor pinned to each node holds it and
the node's workers send it their generate() calls (one at a time, as LockedEngine does for
threads); a served endpoint or the scripted engine needs no actor. Imported only with --ray.
"""

from __future__ import annotations

import dataclasses
import os
import socket
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sstar.batch import BatchError, BatchProgressFn, BatchSummary, run_batch
from sstar.pipeline.types import SolveConfig
from sstar.record import RunRecord
from sstar.errors import SstarError

# Small enough for CI's 2 cores and 24 GiB: records are a few kB each.
OBJECT_STORE_BYTES = 200 * 1024**2


@dataclass(frozen=True)
class RemoteSpec:
    """What a worker needs to open its Session: plain values, pickled into every task."""

    model: str
    sandbox: str
    config: SolveConfig
    exec_cache: bool | str = True
    completion_cache: str | None = None
    trace_dir: str | None = None
    engine_options: dict[str, Any] = field(default_factory=dict)
    # node id -> the actor that holds this node's local model (a GGUF loads once per node)
    model_actors: dict[str, Any] = field(default_factory=dict)


# One Session per worker process and spec: the model and the warm sandbox outlive a task.
_sessions: dict[str, Any] = {}  # by repr(spec): the spec holds a dict
_sessions_lock = threading.Lock()


def is_local_model(model: str) -> bool:
    """A model name or .gguf path (loaded in-process by llama.cpp), not a registered engine."""
    from sstar.engine import ENGINES, LOCAL

    name = model.strip().partition(":")[0]
    return name == LOCAL or "/" in name or ENGINES.get(name) is None


class ModelHolder:
    """A Ray actor body: the node's one copy of a local model. One call at a time (the llama.cpp
    engine is not thread-safe), as LockedEngine does for threads on one machine."""

    def __init__(self, model: str, engine_options: dict[str, Any]) -> None:
        from sstar.engine import open_engine

        self.engine = open_engine(model, **engine_options)

    def generate(self, requests: list[Any]) -> Any:
        return self.engine.generate(requests)

    def ready(self) -> bool:
        return True


def _actor_engine(spec: RemoteSpec) -> Any:
    """This node's model actor as an Engine, or None where the node has none (joined later)."""
    import ray

    from sstar.engine.base import Engine

    actor = spec.model_actors.get(ray.get_runtime_context().get_node_id())
    if actor is None:
        return None

    class ActorEngine(Engine):
        name = spec.model

        def generate(self, requests: Any) -> Any:
            generation = ray.get(actor.generate.remote(list(requests)))
            self.stats.add(generation.usage)
            return generation

    return ActorEngine()


def _session_for(spec: RemoteSpec) -> Any:
    from sstar.session import Session

    with _sessions_lock:
        session = _sessions.get(repr(spec))
        if session is None:
            engine = _actor_engine(spec) if spec.model_actors else None
            session = Session(
                engine if engine is not None else spec.model, spec.sandbox, config=spec.config, exec_cache=spec.exec_cache,
                completion_cache=spec.completion_cache, engine_options=spec.engine_options,
            )  # fmt: skip
            session.open()
            _sessions[repr(spec)] = session
        return session


def solve_remote(path: str, spec: RemoteSpec) -> dict[str, Any]:
    """The body of a Ray task: solve one problem on this node; the record as JSON."""
    from sstar.batch import solve_one

    session = _session_for(spec)
    rec = solve_one(
        Path(path), session.engine, session.sandbox, spec.config, model_name=spec.model,
        trace_dir=Path(spec.trace_dir) if spec.trace_dir else None,
    )  # fmt: skip
    doc = rec.to_json()
    doc["_node"] = os.uname().nodename  # for the driver's progress; dropped before recording
    return doc


def import_ray() -> Any:
    try:
        import ray
    except ImportError:
        raise BatchError("--ray needs Ray: pip install 'sstar[ray]'") from None
    return ray


def _check_reachable(address: str) -> None:
    """Ray waits long for a cluster that is not there: say so in one line at once."""
    if address in ("auto", "local") or address.startswith("ray://"):
        host_port = address[len("ray://"):] if address.startswith("ray://") else ""
        if not host_port:
            return
    else:
        host_port = address
    host, sep, port = host_port.rpartition(":")
    if not sep or not port.isdigit():
        raise BatchError(f"bad Ray address {address!r}: give HOST:PORT of the head (e.g. 10.0.0.1:6379), or ray://HOST:10001")
    try:
        with socket.create_connection((host, int(port)), timeout=5):
            pass
    except OSError as err:
        raise BatchError(
            f"cannot reach the Ray cluster at {address} ({err.strerror or err}): start the head with "
            f"`ray start --head --port {port}` there, or check the address"
        ) from None


@dataclass
class RayOptions:
    address: str | None = None  # None: a local Ray instance on this machine
    num_cpus: int | None = None  # for the local instance only
    max_retries: int = 3  # per problem, when its worker or node dies
    cpus_per_task: float = 1.0
    object_store_memory: int = OBJECT_STORE_BYTES


def ray_solver(spec: RemoteSpec, options: RayOptions, on_status: Callable[[str], None] | None = None) -> Callable[[list[Path], Callable[[RunRecord], None]], None]:
    """A ``run_batch(remote=...)`` solver: submits every problem, records them as they finish."""
    ray = import_ray()

    def solve(todo: list[Path], finish: Callable[[RunRecord], None]) -> None:
        if not todo:
            return
        task = ray.remote(max_retries=options.max_retries, num_cpus=options.cpus_per_task)(solve_remote)
        actors = _model_actors(ray, spec, options) if is_local_model(spec.model) else {}
        if actors and on_status is not None:
            on_status(f"the model loads once on each of {len(actors)} nodes")
        spec_ref = ray.put(dataclasses.replace(spec, model_actors=actors))
        pending = {task.remote(os.fspath(p), spec_ref): p for p in todo}
        nodes: set[str] = set()
        while pending:
            ready, _ = ray.wait(list(pending), num_returns=1, timeout=1.0)
            for ref in ready:
                path = pending.pop(ref)
                try:
                    doc = ray.get(ref)
                except ray.exceptions.RayTaskError as err:
                    cause = err.as_instanceof_cause()
                    if isinstance(cause, SstarError):  # e.g. no sandbox on that node: as fatal as on one machine
                        raise cause from None
                    raise BatchError(f"{path}: the Ray task failed: {str(err).splitlines()[0]}") from None
                except (ray.exceptions.WorkerCrashedError, ray.exceptions.NodeDiedError, ray.exceptions.ObjectLostError) as err:
                    # Retries spent: leave it unrecorded, so --resume solves it again.
                    raise BatchError(
                        f"{path}: its Ray worker died {options.max_retries + 1} times ({type(err).__name__}); "
                        "the finished problems are recorded: run again with --resume"
                    ) from None
                nodes.add(doc.pop("_node", "?"))
                finish(RunRecord.from_json(doc))
            if on_status is not None:
                alive = sum(1 for n in ray.nodes() if n.get("Alive"))
                on_status(f"{alive} nodes alive, {len(pending)} in flight or queued")

    return solve


def _model_actors(ray: Any, spec: RemoteSpec, options: RayOptions) -> dict[str, Any]:
    """One ModelHolder per alive node, pinned there; restarted (and its calls retried) if it dies."""
    from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

    holder = ray.remote(num_cpus=0, max_restarts=options.max_retries, max_task_retries=options.max_retries)(ModelHolder)
    actors = {}
    for node in ray.nodes():
        if node.get("Alive"):
            node_id = node["NodeID"]
            actors[node_id] = holder.options(
                scheduling_strategy=NodeAffinitySchedulingStrategy(node_id, soft=False)
            ).remote(spec.model, spec.engine_options)
    for actor in actors.values():  # a model that cannot load fails here, once, not in every problem
        try:
            ray.get(actor.ready.remote())
        except ray.exceptions.RayActorError as err:
            cause = getattr(err, "cause", None) or err
            if isinstance(cause, ray.exceptions.RayTaskError):
                cause = cause.as_instanceof_cause()
            if isinstance(cause, SstarError):
                raise cause from None
            raise BatchError(f"the model {spec.model} did not load on a Ray node: {str(cause).splitlines()[0]}") from None
    return actors


def run_batch_ray(
    paths: Sequence[Path | str],
    out: Path | str,
    spec: RemoteSpec,
    options: RayOptions = RayOptions(),
    *,
    resume: bool = False,
    limit: int | None = None,
    progress: BatchProgressFn | None = None,
) -> BatchSummary:
    """``run_batch`` with the problems solved as Ray tasks; connects to (or starts) Ray and
    shuts the connection down at the end."""
    ray = import_ray()
    if options.address is not None:
        _check_reachable(options.address)
    if spec.trace_dir is not None:
        Path(spec.trace_dir).mkdir(parents=True, exist_ok=True)
    started_here = not ray.is_initialized()
    if started_here:
        kwargs: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False, "configure_logging": False}
        if options.address is None:
            kwargs.update(num_cpus=options.num_cpus, object_store_memory=options.object_store_memory)
        else:
            kwargs["address"] = options.address
        # Workers import sstar from the driver's tree when it is not installed there.
        kwargs["runtime_env"] = {"env_vars": {k: v for k, v in os.environ.items() if k in ("PYTHONPATH", "SSTAR_CACHE_DIR", "OPENAI_API_KEY")}}
        try:
            ray.init(**kwargs)
        except (ConnectionError, RuntimeError, TimeoutError) as err:
            why = str(err).splitlines()[0] if str(err) else type(err).__name__
            hint = (
                "; a cluster started with `ray start` wants its token: export RAY_AUTH_MODE=token and copy the "
                "head's ~/.ray/auth_token to this machine" if options.address else ""
            )
            raise BatchError(f"cannot start or join Ray ({why}){hint}") from None
    last: list[Any] = []  # the newest event from run_batch: status lines carry its counts

    def relay(event: Any) -> None:
        if event.kind != "warning":  # warnings carry no counts
            last[:] = [event]
        if progress is not None:
            progress(event)

    def status(message: str) -> None:
        if progress is not None and last:
            progress(dataclasses.replace(last[0], kind="stage", problem="ray", message=message, record=None))

    try:
        return run_batch(
            paths, out, None, None, spec.config, resume=resume, limit=limit, model_name=spec.model,
            progress=relay, trace_dir=spec.trace_dir, remote=ray_solver(spec, options, status),
        )  # fmt: skip
    finally:
        if started_here:
            ray.shutdown()

