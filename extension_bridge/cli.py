"""`shadowmap bridge`: set up the browser side (native host registration, extension build)."""
from __future__ import annotations

from pathlib import Path

import click

from shadowmap.bridge import install as installer


@click.group()
def bridge() -> None:
    """The browser extension's native host and its installation."""


@bridge.command("install")
@click.option("--browser", type=click.Choice(installer.BROWSERS), default="chromium", show_default=True)
@click.option("--user-data-dir", type=click.Path(file_okay=False, path_type=Path),
              help="Register for this browser profile only (<dir>/NativeMessagingHosts).")
@click.option("--scope", type=click.Choice(installer.SCOPES), default="user", show_default=True,
              help="Per-user or system-wide manifest folder (ignored with --user-data-dir).")
@click.option("--extension-id", help="Allowed extension id, or Firefox add-on id (default: the bundled extension's).")
@click.option("--socket", "socket_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Agent socket the host connects to (default: the internals.md lookup).")
@click.option("--launcher-dir", type=click.Path(file_okay=False, path_type=Path),
              help="Where to write the host launcher (default: <agent state dir>/bridge).")
def install_command(browser: str, user_data_dir: Path | None, scope: str, extension_id: str | None,
                    socket_path: Path | None, launcher_dir: Path | None) -> None:
    """Register the shadowmap native host with Chrome, Chromium, Edge, Brave or Firefox."""
    try:
        done = installer.install(browser=browser, scope=scope, user_data_dir=user_data_dir,
                                 extension_id=extension_id, socket_path=socket_path, launcher_dir=launcher_dir)
    except (ValueError, OSError) as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"wrote launcher {done.launcher}")
    click.echo(f"wrote host manifest {done.manifest} (allows {done.extension_id})")
    if done.registry_key:
        click.echo(f"set registry key {done.registry_key} (also in {done.reg_file})")


@bridge.command("build-extension")
@click.option("--firefox", "firefox_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Also write the Firefox build (gecko id, background scripts) to this folder.")
def build_extension_command(firefox_dir: Path | None) -> None:
    """Regenerate what the extension takes from elsewhere: its content-script matches from the
    AI-tool catalog, generated/contract.js from the contract, and the host's request
    validator (ipc_validate.py) from schema/ipc.v1.json."""
    from shadowmap.bridge.build_extension import MANIFEST_PATH, build, build_firefox

    patterns = build()
    click.echo(f"wrote {len(patterns)} match patterns to {MANIFEST_PATH}, generated/contract.js "
               "and ipc_validate.py")
    if firefox_dir is not None:
        click.echo(f"wrote the Firefox build {build_firefox(firefox_dir)}")


@bridge.command("publish")
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="The folder the collector serves under /extension/ (its `extension` folder next to the "
                   "database, unless `collector serve --extension-dir` names another).")
@click.option("--key", "key_path", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="The organisation's extension signing key (PEM, RSA); created 0600 when missing. The "
                   "extension's id follows from it: keep it like the record's signing key.")
@click.option("--base-url", required=True, help="The collector's URL as browsers reach it, e.g. https://shadowmap.corp")
def publish_command(out_dir: Path, key_path: Path, base_url: str) -> None:
    """Sign the extension as a CRX3 with the organisation's key and write it, the Firefox XPI
    and their update manifests for self-hosted force-install (ExtensionInstallForcelist /
    ExtensionSettings pointing at the collector)."""
    from shadowmap.bridge.crx import publish

    if not base_url.startswith(("https://", "http://")):
        raise click.BadParameter("give the collector's http(s) URL", param_hint="--base-url")
    info = publish(out_dir, key_path, base_url)
    chromium = info["chromium"]
    click.echo(f"extension id {chromium['extension_id']} (version {info['version']})")
    click.echo(f"Chromium/Edge/Brave update URL: {chromium['update_url']}")
    click.echo(f"ExtensionInstallForcelist entry: {chromium['extension_id']};{chromium['update_url']}")
    click.echo(f"Firefox install URL: {info['firefox']['install_url']} (not signed by Mozilla: sign it on AMO first)")
