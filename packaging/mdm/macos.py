"""`shadowmap package macos`: the payload tree and scripts of a flat .pkg, the script that
builds it on a Mac (pkgbuild/productbuild), and the .mobileconfig an MDM pushes.

Written to <out>/macos/:
  payload/   the pkg root (LaunchDaemon, native-host manifests, launcher, enroll secret);
             build-pkg.sh adds the agent's Python environment under /Library/shadowmap
  scripts/   preinstall / postinstall (bootstrap with retries, logs in /var/log/shadowmap)
  build-pkg.sh
  uninstall.sh  what the MDM runs to remove the agent (a flat pkg has no uninstall step):
             `shadowmap agent retire` first, then the daemon and every file; also installed
             as /Library/shadowmap/bin/uninstall.sh
  shadowmap.mobileconfig
"""
from __future__ import annotations

import json
import plistlib
import shutil
import uuid
from pathlib import Path

from shadowmap.contract import host
from shadowmap.mdm import browsers
from shadowmap.mdm.spec import HOST_NAME, PackageSpec

TEMPLATES = Path(__file__).resolve().parent / "templates" / "macos"
LABEL = "com.shadowmap.agent"
# the agent reads its managed settings from this preference domain, keyed by setting name
# (agent/managed.py); a profile's custom-settings payload of this type lands there
MANAGED_DOMAIN = Path(host.AGENT_CONFIG_MACOS_PLIST).stem
# Not /usr/local: Homebrew makes folders there its user's, and whoever can rename a folder on
# the path can swap the code the root daemon runs. /Library is root's (as for other agents,
# e.g. /Library/Elastic); no space in the path, so venv shebangs work.
PREFIX = "/Library/shadowmap"
VENV = f"{PREFIX}/venv"
LAUNCHER = f"{PREFIX}/bin/{host.LAUNCHER_NAME}"
UNINSTALLER = f"{PREFIX}/bin/uninstall.sh"
DAEMON_PLIST = f"/Library/LaunchDaemons/{LABEL}.plist"
SUPPORT_DIR = "/Library/Application Support/shadowmap"
SECRET_FILE = f"{SUPPORT_DIR}/enroll_secret"
STATE_DIR = f"{SUPPORT_DIR}/state"
LOG_DIR = "/var/log/shadowmap"
SOCKET = host.system_socket("macos")
PROFILE_NAMESPACE = uuid.UUID("0b8f2a4e-52a1-4f0e-9d36-2f7c1e9a5b10")
# The agent runs under the python.org framework interpreter the venv links to; PPPC
# identifies it by path and by python.org's signing requirement (team DJ3H93M7VJ).
PYTHON_APP = "/Library/Frameworks/Python.framework/Versions/3.11/Resources/Python.app/Contents/MacOS/Python"
PYTHON_REQUIREMENT = ('identifier "org.python.python" and anchor apple generic and '
                      'certificate leaf[subject.OU] = "DJ3H93M7VJ"')


def launch_daemon(spec: PackageSpec) -> dict:
    return {
        "Label": LABEL,
        "ProgramArguments": [f"{VENV}/bin/shadowmap", "agent", "run"],
        "EnvironmentVariables": {
            "SHADOWMAP_AGENT_MODE": "system",
            "SHADOWMAP_COLLECTOR_URL": spec.collector_url,
            "SHADOWMAP_ENROLL_SECRET_FILE": SECRET_FILE,
            "SHADOWMAP_STATE_DIR": STATE_DIR,
            host.AGENT_SOCKET_ENV: SOCKET,
        },
        "RunAtLoad": True,
        "KeepAlive": True,              # launchd restarts it whenever it exits
        "ThrottleInterval": 10,         # at most one restart every 10 s
        "ProcessType": "Adaptive",      # background, but full speed while answering a paste
        "Nice": 5,
        "UserName": "root",
        "StandardOutPath": f"{LOG_DIR}/agent.log",
        "StandardErrorPath": f"{LOG_DIR}/agent.log",
    }


def launcher_script() -> str:
    return "\n".join(["#!/bin/sh", "# shadowmap native-messaging host: relays to the system agent",
                      f"{host.AGENT_SOCKET_ENV}={SOCKET}", f"export {host.AGENT_SOCKET_ENV}",
                      f'exec {VENV}/bin/python -I -m shadowmap.bridge.host "$@"', ""])


def _payload(kind: str, identifier: str, name: str, content: dict) -> dict:
    return {"PayloadType": kind, "PayloadVersion": 1, "PayloadIdentifier": identifier,
            "PayloadUUID": str(uuid.uuid5(PROFILE_NAMESPACE, identifier)).upper(),
            "PayloadDisplayName": name, **content}


def pppc_payload() -> dict:
    full_disk = {"Identifier": PYTHON_APP, "IdentifierType": "path", "CodeRequirement": PYTHON_REQUIREMENT,
                 "Allowed": True,
                 "Comment": "reads AI tool configs (MCP servers, agent settings) in users' folders"}
    return _payload("com.apple.TCC.configuration-profile-policy", f"{LABEL}.pppc",
                    "shadowmap agent privacy access", {"Services": {"SystemPolicyAllFiles": [full_disk]}})


def mobileconfig(spec: PackageSpec) -> dict:
    chromium = browsers.chromium_policy(spec)
    storage = browsers.managed_storage(spec)
    content = [
        _payload(MANAGED_DOMAIN, f"{LABEL}.settings", "shadowmap agent",
                 {"collector_url": spec.collector_url, "enroll_secret_file": SECRET_FILE}),
        _payload(browsers.MACOS_POLICY_DOMAINS["chrome"], f"{LABEL}.chrome", "Google Chrome: shadowmap", chromium),
        _payload(browsers.MACOS_POLICY_DOMAINS["edge"], f"{LABEL}.edge", "Microsoft Edge: shadowmap", chromium),
        _payload(browsers.MACOS_POLICY_DOMAINS["brave"], f"{LABEL}.brave", "Brave: shadowmap", chromium),
        _payload(browsers.MACOS_POLICY_DOMAINS["firefox"], f"{LABEL}.firefox", "Firefox: shadowmap",
                 {"EnterprisePoliciesEnabled": True, **browsers.firefox_policy(spec)}),
        # the extension's managed storage (chrome.storage.managed) lives in its own domain
        *(_payload(f"{browsers.MACOS_POLICY_DOMAINS[browser]}.extensions.{spec.extension_id}",
                   f"{LABEL}.{browser}.storage", f"shadowmap extension settings ({name})", storage)
          for browser, name in (("chrome", "Chrome"), ("edge", "Edge"), ("brave", "Brave"))),
        pppc_payload(),
    ]
    return {
        "PayloadType": "Configuration", "PayloadVersion": 1, "PayloadIdentifier": LABEL,
        "PayloadUUID": str(uuid.uuid5(PROFILE_NAMESPACE, f"{LABEL}.profile")).upper(),
        "PayloadDisplayName": "shadowmap", "PayloadOrganization": "shadowmap",
        "PayloadDescription": "Policies for the shadowmap agent and browser extension",
        "PayloadScope": "System", "PayloadRemovalDisallowed": True,
        "PayloadContent": content,
    }


def _put(root: Path, path: str, data: bytes, mode: int) -> None:
    target = root / path.lstrip("/")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data)
    target.chmod(mode)


def _with_prefix(template: Path) -> bytes:
    """A script template with the one install prefix filled in (@PREFIX@)."""
    return template.read_text("utf-8").replace("@PREFIX@", PREFIX).encode()


def uninstall_script() -> bytes:
    """The uninstall script: the template with the prefix and every host manifest filled in."""
    manifests = "\n".join(f'rm -f "{folder}/{HOST_NAME}.json"'
                           for folder in browsers.HOST_MANIFEST_DIRS["macos"].values())
    return _with_prefix(TEMPLATES / "uninstall").decode().replace("@REMOVE_HOST_MANIFESTS@", manifests).encode()


def build(spec: PackageSpec, out_dir: Path) -> list[Path]:
    work = out_dir / "macos"
    if work.exists():
        shutil.rmtree(work)
    root = work / "payload"
    _put(root, DAEMON_PLIST, plistlib.dumps(launch_daemon(spec)), 0o644)
    _put(root, LAUNCHER, launcher_script().encode(), 0o755)
    _put(root, UNINSTALLER, uninstall_script(), 0o755)
    _put(root, SECRET_FILE, (spec.enroll_secret + "\n").encode(), 0o600)
    for browser, folder in browsers.HOST_MANIFEST_DIRS["macos"].items():
        manifest = browsers.host_manifest(browser, spec, LAUNCHER)
        _put(root, f"{folder}/{HOST_NAME}.json", (json.dumps(manifest, indent=2) + "\n").encode(), 0o644)
    scripts = work / "scripts"
    for name in ("preinstall", "postinstall"):
        _put(scripts, name, _with_prefix(TEMPLATES / name), 0o755)
    _put(work, "build-pkg.sh", _with_prefix(TEMPLATES / "build-pkg.sh"), 0o755)
    _put(work, "uninstall.sh", uninstall_script(), 0o755)
    _put(work, "version", f"{spec.version}\n".encode(), 0o644)
    profile = work / "shadowmap.mobileconfig"
    _put(work, profile.name, plistlib.dumps(mobileconfig(spec)), 0o600)
    return [root, scripts, work / "build-pkg.sh", work / "uninstall.sh", profile]
