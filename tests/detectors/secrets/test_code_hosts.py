"""Code hosts: GitHub (classic tokens carry a CRC32 checksum), GitLab, Bitbucket."""
import random
import string
import zlib

import pytest

ALNUM = string.ascii_letters + string.digits
BASE62 = string.digits + string.ascii_uppercase + string.ascii_lowercase
_rng = random.Random("code hosts")


def r(n: int, alphabet: str = ALNUM) -> str:
    return "".join(_rng.choice(alphabet) for _ in range(n))


def with_crc(prefix: str, random30: str) -> str:
    """GitHub's published format: prefix, 30 random characters, 6 base62 digits of their CRC32."""
    n, digits = zlib.crc32(random30.encode()), ""
    for _ in range(6):
        n, d = divmod(n, 62)
        digits = BASE62[d] + digits
    return f"{prefix}_{random30}{digits}"


BODY = r(30)
GHP = with_crc("ghp", BODY)
GHS = with_crc("ghs", r(30))
GHO = with_crc("gho", r(30))
BAD_CRC = GHP[:-1] + ("A" if GHP[-1] != "A" else "B")
FINE = "github_pat_" + r(22) + "_" + r(59)
GLPAT = "glpat-" + r(20, ALNUM + "_-")
GLPAT_ROUTABLE = "glpat-" + r(27, ALNUM + "_-") + ".01.1" + r(8, string.ascii_lowercase + string.digits)
GLDT = "gldt-" + r(20, ALNUM + "_-")
GLRT = "glrt-" + r(20, ALNUM + "_-")
ATBB = "ATBB" + r(32)

CASES = [
    ("GITHUB_TOKEN", f"GITHUB_TOKEN={GHP}", [GHP]),
    ("GITHUB_TOKEN", f"git clone https://x-access-token:{GHS}@github.com/acme/app", [GHS]),
    ("GITHUB_TOKEN", f'"Authorization": "Bearer {GHO}"', [GHO]),
    ("GITHUB_TOKEN", f"token: {FINE}\n", [FINE]),
    ("GITHUB_TOKEN", f"GITHUB_TOKEN={BAD_CRC}", []),                          # bad checksum
    ("GITHUB_TOKEN", f"ghx_{GHP[4:]}", []),                                   # wrong prefix
    ("GITHUB_TOKEN", GHP[:-1], []),                                           # too short
    ("GITHUB_TOKEN", GHP + "A", []),                                          # too long
    ("GITHUB_TOKEN", "ghp_" + "x" * 36, []),                                  # placeholder
    ("GITHUB_TOKEN", "GHP_" + GHP[4:], []),                                   # prefixes are lower case
    ("GITHUB_TOKEN", "github_pat_" + "A" * 22 + "_" + "B" * 59, []),          # placeholder
    ("GITHUB_TOKEN", "commit 9fceb02d0ae598e95dc970b74767f19372d61af8", []),  # git SHA
    ("GITLAB_PERSONAL_TOKEN", f"PRIVATE-TOKEN: {GLPAT}", [GLPAT]),
    ("GITLAB_PERSONAL_TOKEN", f"GITLAB_TOKEN={GLPAT_ROUTABLE}", [GLPAT_ROUTABLE]),
    ("GITLAB_PERSONAL_TOKEN", '"privateToken": "glpat_xxx"', []),             # placeholder, wrong separator
    ("GITLAB_PERSONAL_TOKEN", "glpat-xxxxxxxxxxxxxxxxxxxx", []),              # mask
    ("GITLAB_PERSONAL_TOKEN", GLPAT[:-3], []),                                # too short
    ("GITLAB_DEPLOY_TOKEN", f"password: {GLDT}", [GLDT]),
    ("GITLAB_DEPLOY_TOKEN", "gldt-" + "0" * 20, []),                          # zeroed
    ("GITLAB_RUNNER_TOKEN", f"token = \"{GLRT}\"", [GLRT]),
    ("GITLAB_RUNNER_TOKEN", "--registration-token GR1348941" + "X" * 20, []),  # mask
    ("GITLAB_RUNNER_TOKEN", "glrt-token", []),                                # too short
    ("BITBUCKET_APP_PASSWORD", f"BITBUCKET_APP_PASSWORD={ATBB}", [ATBB]),
    ("BITBUCKET_APP_PASSWORD", "ATBB" + "x" * 32, []),                        # mask
    ("BITBUCKET_APP_PASSWORD", ATBB[:20], []),                                # too short
]


@pytest.mark.parametrize("entity_type, text, expected",
                         [pytest.param(*c, id=f"{c[0]}-{i}-{'hit' if c[2] else 'miss'}") for i, c in enumerate(CASES)])
def test_code_host_secret(spans, entity_type, text, expected):
    assert spans(text, entity_type) == expected


@pytest.mark.parametrize("prefix", ["ghp", "gho", "ghu", "ghs", "ghr"])
def test_every_classic_kind(spans, prefix):
    token = with_crc(prefix, BODY)
    assert spans(f"token {token}", "GITHUB_TOKEN") == [token]


def test_checksum_is_checked_on_every_character(spans):
    # Changing any one of the 30 random characters breaks the CRC (a real CRC, not a length check).
    for i in range(0, 30, 7):
        swapped = BODY[:i] + ("a" if BODY[i] != "a" else "b") + BODY[i + 1:]
        forged = f"ghp_{swapped}{GHP[-6:]}"
        assert spans(forged, "GITHUB_TOKEN") == []
