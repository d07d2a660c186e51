"""Self-hosted delivery of the extension: a CRX3 package signed with the organisation's key,
the update manifest Chromium-family browsers poll, and the Firefox XPI, published into a folder
the collector serves under /extension/ (``shadowmap bridge publish``).

CRX3, as Chromium's components/crx_file/crx3.proto describes it: "Cr24", the format version
(3), the header's length (little-endian uint32), the header (a protobuf CrxFileHeader), then
the ZIP archive. The header holds one RSA proof (public key + signature, field 2) and the signed
header data (field 10000: a SignedData whose crx_id, field 1, is the first 16 bytes of
sha256(public key)). The signature (RSASSA-PKCS1-v1_5, SHA-256) covers
"CRX3 SignedData\\x00", the signed header data's length (uint32 LE), the data, and the archive.
The extension's id follows from the key, so a browser accepts the package only from the
holder of that key: the key is kept like the record's signing key (0600, its own path).

The update manifest is the gupdate XML Chrome documents for self-hosted extensions
(developer.chrome.com/docs/extensions/how-to/distribute/host-on-linux)."""
from __future__ import annotations

import hashlib
import io
import json
import os
import struct
import zipfile
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import quoteattr

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from shadowmap import protowire
from shadowmap.contract.host import FIREFOX_ADDON_ID
from shadowmap.contract.host import chromium_id_from_public_key as id_from_public_key

MAGIC = b"Cr24"
VERSION = 3
SIGNATURE_CONTEXT = b"CRX3 SignedData\x00"
KEY_BITS = 2048
GUPDATE_NS = "http://www.google.com/update2/response"
# fixed timestamps in the archives: the same extension and key give the same bytes
ZIP_DATE = (2020, 1, 1, 0, 0, 0)


def load_or_create_key(path: Path) -> rsa.RSAPrivateKey:
    """The organisation's extension signing key (PEM, PKCS#8), created 0600 when missing."""
    if path.exists():
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        if not isinstance(key, rsa.RSAPrivateKey):
            raise ValueError(f"{path}: the extension signing key must be RSA")
        return key
    key = rsa.generate_private_key(public_exponent=65537, key_size=KEY_BITS)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with open(fd, "wb") as fh:
        fh.write(pem)
    return key


def public_der(key: rsa.RSAPrivateKey) -> bytes:
    return key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def extension_id_of(key: rsa.RSAPrivateKey) -> str:
    return id_from_public_key(public_der(key))


def zip_folder(folder: Path, drop_manifest_key: bool = True) -> bytes:
    """The extension folder as a ZIP, files in name order with fixed dates. The manifest's
    pinned `key` (which gives the unpacked extension its id) is left out: a packed extension's
    id is its package's key."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            name = path.relative_to(folder).as_posix()
            data = path.read_bytes()
            if name == "manifest.json" and drop_manifest_key:
                manifest = json.loads(data)
                manifest.pop("key", None)
                data = json.dumps(manifest, indent=2).encode()
            info = zipfile.ZipInfo(name, ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, data)
    return buffer.getvalue()


def pack_crx3(archive: bytes, key: rsa.RSAPrivateKey) -> bytes:
    der = public_der(key)
    field = protowire.length_delimited
    signed_header_data = field(1, hashlib.sha256(der).digest()[:16])
    message = SIGNATURE_CONTEXT + struct.pack("<I", len(signed_header_data)) + signed_header_data + archive
    signature = key.sign(message, padding.PKCS1v15(), hashes.SHA256())
    header = field(2, field(1, der) + field(2, signature)) + field(10000, signed_header_data)
    return MAGIC + struct.pack("<II", VERSION, len(header)) + header + archive


@dataclass(frozen=True)
class Crx3:
    """What verify_crx3 read from a package."""
    extension_id: str
    archive: bytes


def _fields(data: bytes) -> list[tuple[int, bytes]]:
    """The length-delimited fields of a protobuf message (CRX headers hold nothing else)."""
    out = []
    for number, wire, value, _, _ in protowire.fields(data):
        if wire != protowire.LENGTH_DELIMITED:
            raise ValueError("unexpected protobuf wire type in a CRX header")
        out.append((number, value))
    return out


def verify_crx3(package: bytes) -> Crx3:
    """Check a CRX3 package's signature and id as a browser would; ValueError when it fails."""
    from cryptography.exceptions import InvalidSignature

    if package[:4] != MAGIC or struct.unpack("<I", package[4:8])[0] != VERSION:
        raise ValueError("not a CRX3 package")
    (header_len,) = struct.unpack("<I", package[8:12])
    header, archive = package[12:12 + header_len], package[12 + header_len:]
    fields = _fields(header)
    signed = next(value for number, value in fields if number == 10000)
    crx_id = dict(_fields(signed))[1]
    message = SIGNATURE_CONTEXT + struct.pack("<I", len(signed)) + signed + archive
    for number, proof in fields:
        if number != 2:
            continue
        parts = dict(_fields(proof))
        der, signature = parts[1], parts[2]
        if hashlib.sha256(der).digest()[:16] != crx_id:
            continue
        key = serialization.load_der_public_key(der)
        if not isinstance(key, rsa.RSAPublicKey):
            continue
        try:
            key.verify(signature, message, padding.PKCS1v15(), hashes.SHA256())
        except InvalidSignature as exc:
            raise ValueError("the CRX signature does not verify") from exc
        return Crx3(id_from_public_key(der), archive)
    raise ValueError("no proof in the CRX matches its id")


def update_manifest(extension_id: str, version: str, codebase: str) -> str:
    """The gupdate XML a Chromium-family browser polls at the policy's update URL."""
    return ("<?xml version='1.0' encoding='UTF-8'?>\n"
            f"<gupdate xmlns={quoteattr(GUPDATE_NS)} protocol='2.0'>\n"
            f"  <app appid={quoteattr(extension_id)}>\n"
            f"    <updatecheck codebase={quoteattr(codebase)} version={quoteattr(version)} />\n"
            "  </app>\n</gupdate>\n")


def firefox_updates(addon_id: str, version: str, link: str, package: bytes | None = None) -> str:
    """The update manifest Firefox polls (extensionworkshop.com: "Updating your extension";
    MDN Add-ons/Updates): ``update_hash`` is the package's SHA-256, which Firefox checks
    (required when the link is not HTTPS)."""
    update = {"version": version, "update_link": link}
    if package is not None:
        update["update_hash"] = "sha256:" + hashlib.sha256(package).hexdigest()
    return json.dumps({"addons": {addon_id: {"updates": [update]}}}, indent=2)


def point_updates_at(manifest_path: Path, update_url: str) -> None:
    """Give a Firefox build's manifest the update manifest's URL: an add-on not hosted on AMO
    is updated only from the ``browser_specific_settings.gecko.update_url`` it declares."""
    manifest = json.loads(manifest_path.read_text("utf-8"))
    manifest["browser_specific_settings"]["gecko"]["update_url"] = update_url
    manifest_path.write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", "utf-8")


def publish(out_dir: Path, key_path: Path, base_url: str, source_dir: Path | None = None) -> dict:
    """Write the signed CRX, the XPI, both update manifests and info.json (what the MDM
    builder reads) into ``out_dir``, for a collector reached at ``base_url``. Returns info."""
    from tempfile import TemporaryDirectory

    from shadowmap.bridge.build_extension import build_firefox
    from shadowmap.bridge.extension_id import EXTENSION_DIR

    source = source_dir or EXTENSION_DIR
    version = json.loads((source / "manifest.json").read_text("utf-8"))["version"]
    key = load_or_create_key(key_path)
    ext_id = extension_id_of(key)
    base = base_url.rstrip("/") + "/extension"
    crx_name, xpi_name = f"shadowmap-{version}.crx", f"shadowmap-{version}.xpi"
    for sub in ("chromium", "firefox"):
        (out_dir / sub).mkdir(parents=True, exist_ok=True)
    package = pack_crx3(zip_folder(source), key)
    verify_crx3(package)                       # never publish what a browser would refuse
    (out_dir / "chromium" / crx_name).write_bytes(package)
    (out_dir / "chromium" / "updates.xml").write_text(
        update_manifest(ext_id, version, f"{base}/chromium/{crx_name}"), "utf-8")
    with TemporaryDirectory() as tmp:
        point_updates_at(build_firefox(Path(tmp) / "firefox", source), f"{base}/firefox/updates.json")
        xpi = zip_folder(Path(tmp) / "firefox", drop_manifest_key=False)
    (out_dir / "firefox" / xpi_name).write_bytes(xpi)
    (out_dir / "firefox" / "updates.json").write_text(
        firefox_updates(FIREFOX_ADDON_ID, version, f"{base}/firefox/{xpi_name}", xpi), "utf-8")
    info = {"version": version,
            "chromium": {"extension_id": ext_id, "update_url": f"{base}/chromium/updates.xml",
                         "crx": f"{base}/chromium/{crx_name}",
                         "public_key_sha256": hashlib.sha256(public_der(key)).hexdigest()},
            # Firefox release and ESR install only add-ons Mozilla signed (AMO); this XPI is not
            # signed by Mozilla: sign it on addons.mozilla.org (unlisted) before pointing policy at it.
            "firefox": {"addon_id": FIREFOX_ADDON_ID, "install_url": f"{base}/firefox/{xpi_name}",
                        "update_url": f"{base}/firefox/updates.json", "mozilla_signed": False}}
    (out_dir / "info.json").write_text(json.dumps(info, indent=2) + "\n", "utf-8")
    return info
