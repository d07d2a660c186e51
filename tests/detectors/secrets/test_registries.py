"""Package registries: npm (CRC32 checksum), PyPI (macaroon), RubyGems, NuGet, Docker Hub."""
import base64
import random
import string
import zlib

import pytest

ALNUM = string.ascii_letters + string.digits
BASE62 = string.digits + string.ascii_uppercase + string.ascii_lowercase
HEX = "0123456789abcdef"
_rng = random.Random("registries")


def r(n: int, alphabet: str = ALNUM) -> str:
    return "".join(_rng.choice(alphabet) for _ in range(n))


def npm_token(random30: str) -> str:
    n, digits = zlib.crc32(random30.encode()), ""
    for _ in range(6):
        n, d = divmod(n, 62)
        digits = BASE62[d] + digits
    return f"npm_{random30}{digits}"


def pypi_token(location: bytes) -> str:
    # A macaroon (v2 binary): version, location and identifier fields, a caveat, then the
    # signature field (type 6, 32 bytes).
    identifier = _rng.randbytes(18).hex().encode()
    macaroon = (b"\x02\x01" + bytes([len(location)]) + location + b"\x02" + bytes([len(identifier)]) + identifier
                + b"\x00\x02\x2a" + _rng.randbytes(42) + b"\x00\x00\x06\x20" + _rng.randbytes(32))
    return "pypi-" + base64.urlsafe_b64encode(macaroon).decode().rstrip("=")


NPM = npm_token(r(30))
NPM_BAD = NPM[:-1] + ("0" if NPM[-1] != "0" else "1")
PYPI = pypi_token(b"pypi.org")
TEST_PYPI = pypi_token(b"test.pypi.org")
RUBYGEMS = "rubygems_" + r(48, HEX)
NUGET = "oy2" + r(43, string.ascii_lowercase + string.digits)
DOCKER = "dckr_pat_" + r(27, ALNUM + "_-")

CASES = [
    ("NPM_TOKEN", f"//registry.npmjs.org/:_authToken={NPM}", [NPM]),
    ("NPM_TOKEN", f"NPM_TOKEN={NPM_BAD}", []),                                # bad checksum
    ("NPM_TOKEN", "npm_" + "x" * 36, []),                                     # mask
    ("NPM_TOKEN", "npm_config_cache=/tmp/npm", []),                           # an env name
    ("PYPI_TOKEN", f"[pypi]\nusername = __token__\npassword = {PYPI}", [PYPI]),
    ("PYPI_TOKEN", f"TWINE_PASSWORD={TEST_PYPI}", [TEST_PYPI]),
    ("PYPI_TOKEN", "password = pypi-AgEIcHlwaS5vcmc" + "x" * 60, []),         # mask
    ("PYPI_TOKEN", f"TWINE_PASSWORD={PYPI[:100]}", []),                        # cut short: no signature
    ("PYPI_TOKEN", "password = pypi-" + r(120, ALNUM + "_-"), []),            # not a PyPI macaroon
    ("RUBYGEMS_API_KEY", f"GEM_HOST_API_KEY={RUBYGEMS}", [RUBYGEMS]),
    ("RUBYGEMS_API_KEY", "rubygems_" + "0" * 48, []),                         # zeroed
    ("RUBYGEMS_API_KEY", "rubygems_version=3.4.10", []),                      # a version
    ("NUGET_API_KEY", f"dotnet nuget push pkg.nupkg --api-key {NUGET}", [NUGET]),
    ("NUGET_API_KEY", "oy2" + "a" * 43, []),                                  # mask
    ("NUGET_API_KEY", "oy2abc", []),                                          # too short
    ("DOCKERHUB_TOKEN", f"echo {DOCKER} | docker login -u acme --password-stdin", [DOCKER]),
    ("DOCKERHUB_TOKEN", "DOCKERHUB_TOKEN=dckr_pat_xxxxxxxxxxxxxxxxxxxxxxxxxxx", []),  # mask
    ("DOCKERHUB_TOKEN", "dckr_pat_", []),                                     # prefix only
]


@pytest.mark.parametrize("entity_type, text, expected",
                         [pytest.param(*c, id=f"{c[0]}-{i}-{'hit' if c[2] else 'miss'}") for i, c in enumerate(CASES)])
def test_registry_token(spans, entity_type, text, expected):
    assert spans(text, entity_type) == expected
