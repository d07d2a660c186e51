"""`shadowmap package linux|macos|windows`: build what an IT admin uploads to an MDM."""
from __future__ import annotations

from pathlib import Path

import click

from shadowmap.mdm.spec import SpecError, make_spec, read_secret_file

TARGETS = ("linux", "macos", "windows")


@click.command()
@click.argument("target", type=click.Choice(TARGETS))
@click.option("--collector-url", required=True, help="collector base URL the agents enroll with")
@click.option("--enroll-secret-file", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="file holding the collector's enroll secret (it is built into the artifacts)")
@click.option("--extension-id", help="Chromium extension id to force-install (default: the bundled extension's)")
@click.option("--extension-update-url", help="update URL of the extension (default: Chrome Web Store)")
@click.option("--firefox-extension-id", help="Firefox add-on id allowed to use the native host")
@click.option("--firefox-install-url", help="URL of the signed .xpi; Firefox force-installs it when given")
@click.option("--self-hosted-extension", is_flag=True,
              help="force-install the extension the collector serves (`shadowmap bridge publish`): its id and "
                   "update URL, and the Firefox XPI, are read from <collector-url>/extension/info.json")
@click.option("--version", "version", help="package version, MAJOR.MINOR.PATCH (default: shadowmap's)")
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="folder for the artifacts")
@click.option("--compression", type=click.Choice(["xz", "gzip"]), default="xz", show_default=True,
              help="linux: .deb compression")
@click.option("--wheelhouse", type=click.Path(file_okay=False, path_type=Path),
              help="folder of cached wheels (default ~/.cache/shadowmap/wheelhouse, "
                   "for windows ~/.cache/shadowmap/wheelhouse-win_amd64)")
@click.option("--windows-payload", type=click.Path(file_okay=False, path_type=Path),
              help="windows: the payload folder built on Windows (layout: docs/deploy.md)")
@click.option("--windows-kit", is_flag=True,
              help="windows: write the kit to build the payload on Windows (wheels, locks, build-payload.ps1)")
@click.option("--ai-telemetry-token-file", type=click.Path(dir_okay=False, path_type=Path),
              help="file holding a collector API token (analyst role): also write Claude Code's managed settings "
                   "and Codex's [otel] table that send their OpenTelemetry to the collector (docs/sessions.md)")
def package(target: str, collector_url: str, enroll_secret_file: Path, extension_id: str | None,
            extension_update_url: str | None, firefox_extension_id: str | None,
            firefox_install_url: str | None, self_hosted_extension: bool, version: str | None, out_dir: Path,
            compression: str, wheelhouse: Path | None, windows_payload: Path | None,
            windows_kit: bool, ai_telemetry_token_file: Path | None = None) -> None:
    """Build the MDM artifacts for one OS into --out (see docs/deploy.md)."""
    try:
        if self_hosted_extension:
            from shadowmap.mdm.self_hosted import published_extension
            published = published_extension(collector_url)
            extension_id = extension_id or published.extension_id
            extension_update_url = extension_update_url or published.update_url
            firefox_install_url = firefox_install_url or published.firefox_install_url
            click.echo(f"self-hosted extension {published.extension_id} version {published.version} "
                       f"from {published.update_url}")
            if not published.mozilla_signed:
                click.echo("note: the Firefox XPI is not signed by Mozilla; Firefox release and ESR refuse it "
                           "until it is signed on addons.mozilla.org", err=True)
        spec = make_spec(collector_url, read_secret_file(enroll_secret_file), extension_id,
                         extension_update_url, firefox_extension_id, firefox_install_url, version)
    except SpecError as exc:
        raise click.ClickException(str(exc)) from None
    out_dir.mkdir(parents=True, exist_ok=True)
    # the artifacts hold the enroll secret: only the admin may read them
    out_dir.chmod(0o700)
    from shadowmap.mdm.payload import BuildError
    try:
        written = _build(target, spec, out_dir, compression, wheelhouse, windows_payload, windows_kit)
    except (BuildError, OSError) as exc:
        raise click.ClickException(str(exc)) from None
    if ai_telemetry_token_file is not None:
        from shadowmap.mdm import ai_telemetry
        try:
            written += ai_telemetry.write_artifacts(spec.collector_url, read_secret_file(ai_telemetry_token_file),
                                                    out_dir)
        except (SpecError, ValueError) as exc:
            raise click.ClickException(str(exc)) from None
    for path in written:
        click.echo(f"wrote {path}")


def _build(target: str, spec, out_dir: Path, compression: str, wheelhouse: Path | None,
           windows_payload: Path | None, windows_kit: bool = False) -> list[Path]:
    if target == "linux":
        from shadowmap.mdm import debian, payload
        built = debian.build_deb(spec, out_dir, compression=compression,
                                 wheelhouse=wheelhouse or payload.DEFAULT_WHEELHOUSE)
        return [built.deb]
    if target == "windows":
        from shadowmap.mdm import windows
        if windows_kit and windows_payload is None:
            return windows.build_kit(out_dir, wheelhouse)
        return windows.build(spec, out_dir, windows_payload)
    from shadowmap.mdm import macos
    return macos.build(spec, out_dir)
