"""The extension a collector serves itself (`shadowmap bridge publish` wrote it, the collector
serves it under /extension/): its id, update URL and Firefox XPI, read from the collector's
/extension/info.json so the profiles force-install exactly what it serves."""
from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import dataclass

from shadowmap.mdm.spec import SpecError

INFO_PATH = "/extension/info.json"
MAX_INFO_BYTES = 64 * 1024


@dataclass(frozen=True)
class PublishedExtension:
    extension_id: str
    version: str
    update_url: str
    firefox_install_url: str
    mozilla_signed: bool


def published_extension(collector_url: str, timeout: float = 10.0) -> PublishedExtension:
    url = collector_url.rstrip("/") + INFO_PATH
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            info = json.loads(response.read(MAX_INFO_BYTES))
    except urllib.error.HTTPError as exc:
        raise SpecError(f"{url}: HTTP {exc.code} (has `shadowmap bridge publish` written the collector's "
                        "extension folder?)") from None
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise SpecError(f"cannot read {url}: {exc}") from None
    try:
        chromium, firefox = info["chromium"], info["firefox"]
        return PublishedExtension(str(chromium["extension_id"]), str(info["version"]), str(chromium["update_url"]),
                                  str(firefox["install_url"]), bool(firefox.get("mozilla_signed")))
    except (KeyError, TypeError) as exc:
        raise SpecError(f"{url} is not a published extension's info ({exc})") from None
