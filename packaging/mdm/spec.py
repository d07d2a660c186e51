"""The admin's choices for one package, checked once so every builder can trust them."""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from shadowmap import __version__
from shadowmap.contract.host import CHROMIUM_EXTENSION_ID, FIREFOX_ADDON_ID, HOST_NAME

# Chrome Web Store's update service: the default source of a force-installed extension
CHROME_WEB_STORE_UPDATE_URL = "https://clients2.google.com/service/update2/crx"

__all__ = ["HOST_NAME", "PACKAGE_NAME", "PackageSpec", "SpecError"]

# the add-on id in the extension's Firefox build (the contract's, schema/host.v1.json)
DEFAULT_FIREFOX_EXTENSION_ID = FIREFOX_ADDON_ID
PACKAGE_NAME = "shadowmap-agent"

_CHROMIUM_ID = re.compile(r"^[a-p]{32}$")
# Firefox add-on ids are an e-mail-like string or a {GUID}
_FIREFOX_ID = re.compile(r"^(\{[0-9a-fA-F-]{36}\}|[A-Za-z0-9._+-]+@[A-Za-z0-9.-]+)$")
_VERSION = re.compile(r"^\d+\.\d+\.\d+$")
# the secret lands in shell, cmd.exe, XML and plist files: a token alphabet keeps it inert
_SECRET = re.compile(r"^[A-Za-z0-9._~+/=-]{8,512}$")


class SpecError(ValueError):
    """A package option is unusable; the message says which and why."""


@dataclass(frozen=True)
class PackageSpec:
    collector_url: str
    enroll_secret: str
    extension_id: str
    extension_update_url: str = CHROME_WEB_STORE_UPDATE_URL
    firefox_extension_id: str = DEFAULT_FIREFOX_EXTENSION_ID
    firefox_install_url: str | None = None
    version: str = __version__

    @property
    def chrome_origin(self) -> str:
        return f"chrome-extension://{self.extension_id}/"


def read_secret_file(path: Path) -> str:
    try:
        secret = Path(path).read_text("utf-8").strip()
    except OSError as exc:
        raise SpecError(f"cannot read the enroll secret file {path}: {exc.strerror}") from None
    return secret


def check_url(url: str, what: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise SpecError(f"{what} must be an http(s) URL with a host, not {url!r}")
    if any(ch.isspace() or ch in "\"'`$\\<>&;" for ch in url):
        # the URL lands in shell, XML, plist and systemd files: keep it free of their metacharacters
        raise SpecError(f"{what} contains characters not allowed in a URL here: {url!r}")
    return url.rstrip("/")


def make_spec(collector_url: str, enroll_secret: str, extension_id: str | None = None,
              extension_update_url: str | None = None, firefox_extension_id: str | None = None,
              firefox_install_url: str | None = None, version: str | None = None) -> PackageSpec:
    if not _SECRET.match(enroll_secret):
        raise SpecError("the enroll secret must be 8-512 characters of A-Z a-z 0-9 . _ ~ + / = -")
    ext_id = extension_id or CHROMIUM_EXTENSION_ID
    if not _CHROMIUM_ID.match(ext_id):
        raise SpecError(f"{ext_id!r} is not a Chromium extension id (32 letters a-p)")
    fx_id = firefox_extension_id or DEFAULT_FIREFOX_EXTENSION_ID
    if not _FIREFOX_ID.match(fx_id):
        raise SpecError(f"{fx_id!r} is not a Firefox add-on id (name@domain or {{GUID}})")
    version = version or __version__
    if not _VERSION.match(version):
        raise SpecError(f"version must be MAJOR.MINOR.PATCH (MSI and pkg need numbers), not {version!r}")
    return PackageSpec(
        collector_url=check_url(collector_url, "the collector URL"),
        enroll_secret=enroll_secret,
        extension_id=ext_id,
        extension_update_url=check_url(extension_update_url or CHROME_WEB_STORE_UPDATE_URL,
                                       "the extension update URL"),
        firefox_extension_id=fx_id,
        firefox_install_url=check_url(firefox_install_url, "the Firefox install URL") if firefox_install_url else None,
        version=version,
    )
