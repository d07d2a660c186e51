"""Enterprise policy snippets for force-installing the extension and allowing its native
host, per browser, rendered on demand from the contract's facts (schema/host.v1.json), so
they always name the right ids and places.

`python -m shadowmap.bridge.policies [--update-url URL] OUT_DIR` writes them; the MDM
packages (shadowmap.mdm) build their own from the same facts. Chrome, Edge and Brave read
the same policy names from different places; Firefox has its own policies.json. Managed
settings for the extension (managed_schema.json) go under "3rdparty".
"""
from __future__ import annotations

import argparse
import json
import plistlib
import sys
from pathlib import Path

from shadowmap.bridge.extension_id import committed_extension_id
from shadowmap.contract.host import (
    CHROMIUM_FAMILY,
    FIREFOX_ADDON_ID,
    HOST_NAME,
    MANAGED_STORAGE_DEFAULTS,
    WINDOWS_POLICY_KEYS,
)

# where the company serves the packed extension (CRX + update manifest / signed XPI)
DEFAULT_UPDATE_URL = "https://shadowmap.example.com/extension/updates.xml"
DEFAULT_XPI_URL = "https://shadowmap.example.com/extension/shadowmap.xpi"
# the managed settings an admin is most likely to want (managed_schema.json)
MANAGED_SETTINGS = MANAGED_STORAGE_DEFAULTS


def chromium_policy(extension_id: str, update_url: str) -> dict:
    return {
        "ExtensionInstallForcelist": [f"{extension_id};{update_url}"],
        "ExtensionSettings": {extension_id: {"installation_mode": "force_installed", "update_url": update_url,
                                             "toolbar_pin": "force_pinned"}},
        "NativeMessagingAllowlist": [HOST_NAME],
        "3rdparty": {"extensions": {extension_id: dict(MANAGED_SETTINGS)}},
    }


def _reg_string(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def chromium_reg(policy_key: str, extension_id: str, update_url: str) -> str:
    root = f"HKEY_LOCAL_MACHINE\\{policy_key}"
    settings = json.dumps(chromium_policy(extension_id, update_url)["ExtensionSettings"], separators=(",", ":"))
    lines = ["Windows Registry Editor Version 5.00", "",
             f"[{root}]", f'"ExtensionSettings"={_reg_string(settings)}', "",
             f"[{root}\\ExtensionInstallForcelist]", f'"1"={_reg_string(f"{extension_id};{update_url}")}', "",
             f"[{root}\\NativeMessagingAllowlist]", f'"1"={_reg_string(HOST_NAME)}', "",
             f"[{root}\\3rdparty\\extensions\\{extension_id}\\policy]",
             f'"onAgentUnavailable"={_reg_string(MANAGED_SETTINGS["onAgentUnavailable"])}',
             f'"detectUnknownAI"=dword:{int(MANAGED_SETTINGS["detectUnknownAI"]):08x}', ""]
    return "\r\n".join(lines)


def chromium_plist(extension_id: str, update_url: str) -> bytes:
    policy = chromium_policy(extension_id, update_url)
    del policy["3rdparty"]  # macOS: extension settings go in a profile for the extension id itself
    return plistlib.dumps(policy, sort_keys=True)


def firefox_policies(addon_id: str, xpi_url: str) -> dict:
    return {"policies": {
        "ExtensionSettings": {addon_id: {"installation_mode": "force_installed", "install_url": xpi_url}},
        "3rdparty": {"Extensions": {addon_id: dict(MANAGED_SETTINGS)}},
    }}


def render(update_url: str = DEFAULT_UPDATE_URL, xpi_url: str = DEFAULT_XPI_URL) -> dict[str, bytes]:
    """Relative file name -> content of every snippet."""
    ext_id = committed_extension_id()
    files: dict[str, bytes] = {}
    for browser in CHROMIUM_FAMILY:
        files[f"{browser}/linux-managed-policy.json"] = (
            json.dumps(chromium_policy(ext_id, update_url), indent=2) + "\n").encode()
        files[f"{browser}/windows-policy.reg"] = chromium_reg(WINDOWS_POLICY_KEYS[browser], ext_id,
                                                             update_url).encode("utf-8")
        files[f"{browser}/macos-policy.plist"] = chromium_plist(ext_id, update_url)  # a profile payload for its domain
    files["firefox/policies.json"] = (json.dumps(firefox_policies(FIREFOX_ADDON_ID, xpi_url), indent=2) + "\n").encode()
    return files


def write(out_dir: Path, **urls: str) -> list[Path]:
    written = []
    for name, data in render(**urls).items():
        path = out_dir / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        written.append(path)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Write the browser policy snippets.")
    parser.add_argument("out_dir", type=Path, help="the folder to write the snippets to")
    parser.add_argument("--update-url", default=DEFAULT_UPDATE_URL)
    parser.add_argument("--xpi-url", default=DEFAULT_XPI_URL)
    args = parser.parse_args(argv)
    for path in write(args.out_dir, update_url=args.update_url, xpi_url=args.xpi_url):
        print(path, file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
