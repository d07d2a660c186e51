"""Firefox delivery of the self-hosted extension, end to end without Firefox: the real
`shadowmap bridge publish` writes the XPI and updates.json for a real collector, the collector
serves them under /extension/, and what it serves holds what Firefox needs to install and
update an add-on that is not on addons.mozilla.org (MDN "Add-ons/Updates", Extension
Workshop "Updating your extension"): the gecko id in the XPI's manifest and as the update
manifest's key, the XPI's version as the update's version, the update link to the very XPI
served, its SHA-256 as update_hash, and the manifest's gecko.update_url at the served
updates.json. The Firefox policy the MDM builder makes from the collector's info.json
force-installs that XPI. Mozilla's signature is not checked: signing needs AMO's API and
credentials (docs/deploy.md)."""
from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import io
import json
import subprocess
import sys
import zipfile

from shadowmap.contract.host import FIREFOX_ADDON_ID
from shadowmap.mdm import browsers
from shadowmap.mdm.self_hosted import published_extension
from shadowmap.mdm.spec import make_spec


async def test_the_served_xpi_and_update_manifest_are_what_firefox_needs(aiohttp_client, config, make, tmp_path):
    published = tmp_path / "extension"
    client = await make.start_client(aiohttp_client, dataclasses.replace(config, extension_dir=published))
    base = str(client.make_url("/")).rstrip("/")
    done = await asyncio.to_thread(subprocess.run, [
        sys.executable, "-m", "shadowmap.cli", "bridge", "publish", "--out", str(published),
        "--key", str(tmp_path / "signing_key.pem"), "--base-url", base], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr

    info = await (await client.get("/extension/info.json")).json()
    firefox = info["firefox"]
    assert firefox["addon_id"] == FIREFOX_ADDON_ID and firefox["mozilla_signed"] is False
    assert firefox["update_url"] == f"{base}/extension/firefox/updates.json"

    response = await client.get("/extension/firefox/updates.json")
    assert response.status == 200 and response.headers["Content-Type"] == "application/json"
    assert response.headers["Cache-Control"] == "no-cache"
    updates = json.loads(await response.text())
    assert list(updates["addons"]) == [FIREFOX_ADDON_ID]
    [update] = updates["addons"][FIREFOX_ADDON_ID]["updates"]
    assert update["version"] == info["version"]
    assert update["update_link"] == firefox["install_url"] == f"{base}/extension/firefox/shadowmap-{info['version']}.xpi"

    package = await client.get(update["update_link"].removeprefix(base))
    assert package.status == 200 and package.headers["Content-Type"] == "application/x-xpinstall"
    xpi = await package.read()
    assert update["update_hash"] == "sha256:" + hashlib.sha256(xpi).hexdigest()

    with zipfile.ZipFile(io.BytesIO(xpi)) as archive:
        assert archive.testzip() is None
        names = set(archive.namelist())
        manifest = json.loads(archive.read("manifest.json"))
    gecko = manifest["browser_specific_settings"]["gecko"]
    assert gecko["id"] == FIREFOX_ADDON_ID
    assert gecko["update_url"] == firefox["update_url"]          # where Firefox looks for updates
    assert gecko["strict_min_version"]
    assert manifest["version"] == info["version"] and manifest["manifest_version"] == 3
    assert "key" not in manifest and "service_worker" not in manifest["background"]
    assert set(manifest["background"]["scripts"]) <= names     # the background script is in the package

    # the MDM builder's Firefox policy, from what the collector serves, force-installs that XPI
    served = await asyncio.to_thread(published_extension, base)
    spec = make_spec(base, "enroll-Secret_123", firefox_install_url=served.firefox_install_url)
    policy = browsers.firefox_policy(spec)
    assert policy["ExtensionSettings"][FIREFOX_ADDON_ID] == {"installation_mode": "force_installed",
                                                             "install_url": update["update_link"]}
    assert browsers.validate_firefox_policy(policy) == []
