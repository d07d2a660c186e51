"""CI/CD and hosting: CircleCI, Travis CI, Buildkite, Vercel, Netlify, Heroku."""
import random
import string

import pytest

ALNUM = string.ascii_letters + string.digits
HEX = "0123456789abcdef"
_rng = random.Random("ci cd")


def r(n: int, alphabet: str = ALNUM) -> str:
    return "".join(_rng.choice(alphabet) for _ in range(n))


CCIPAT = "CCIPAT_" + r(22) + "_" + r(40, HEX)
CIRCLE_LEGACY = r(40, HEX)
TRAVIS = r(22, ALNUM + "_-")
BKUA = "bkua_" + r(40, HEX)
VCP = "vcp_" + r(56)
VERCEL_LEGACY = r(24)
NFP = "nfp_" + r(36)
HRKU = "HRKU-" + r(60, ALNUM + "_-")
HEROKU_UUID = "8f0e2c3a-6b1d-4f7e-9a2b-" + r(12, HEX)

CASES = [
    ("CIRCLECI_TOKEN", f"CIRCLECI_TOKEN={CCIPAT}", [CCIPAT]),
    ("CIRCLECI_TOKEN", f"export CIRCLE_TOKEN={CIRCLE_LEGACY}", [CIRCLE_LEGACY]),
    ("CIRCLECI_TOKEN", f"commit {CIRCLE_LEGACY}", []),                          # a bare SHA-1
    ("CIRCLECI_TOKEN", "CCIPAT_" + "x" * 22 + "_" + "0" * 40, []),              # mask
    ("CIRCLECI_TOKEN", CCIPAT[:30], []),                                        # truncated
    ("TRAVIS_CI_TOKEN", f"TRAVIS_API_TOKEN={TRAVIS}", [TRAVIS]),
    ("TRAVIS_CI_TOKEN", "travis_token: <your travis token>", []),               # placeholder
    ("TRAVIS_CI_TOKEN", f"build_token={TRAVIS}", []),                           # no Travis name
    ("BUILDKITE_TOKEN", f"BUILDKITE_API_TOKEN={BKUA}", [BKUA]),
    ("BUILDKITE_TOKEN", "bkua_" + "0" * 40, []),                                # zeroed
    ("BUILDKITE_TOKEN", BKUA[:-5], []),                                         # too short
    ("VERCEL_TOKEN", f"VERCEL_TOKEN={VCP}", [VCP]),
    ("VERCEL_TOKEN", f"vercel --token {VERCEL_LEGACY}\nVERCEL_TOKEN={VERCEL_LEGACY}", [VERCEL_LEGACY]),
    ("VERCEL_TOKEN", "VERCEL_TOKEN=your_vercel_token_here1234", []),            # placeholder
    ("VERCEL_TOKEN", f"deploy id {VERCEL_LEGACY}", []),                         # no Vercel name
    ("NETLIFY_TOKEN", f"NETLIFY_AUTH_TOKEN={NFP}", [NFP]),
    ("NETLIFY_TOKEN", "nfp_" + "X" * 36, []),                                   # mask
    ("NETLIFY_TOKEN", NFP[:-6], []),                                            # too short
    ("HEROKU_API_KEY", f"HEROKU_API_KEY={HRKU}", [HRKU]),
    ("HEROKU_API_KEY", f"HEROKU_API_KEY={HEROKU_UUID}", [HEROKU_UUID]),
    ("HEROKU_API_KEY", f"request_id={HEROKU_UUID}", []),                        # a UUID is just a UUID
    ("HEROKU_API_KEY", "HEROKU_API_KEY=00000000-0000-0000-0000-000000000000", []),  # zeroed
]


@pytest.mark.parametrize("entity_type, text, expected",
                         [pytest.param(*c, id=f"{c[0]}-{i}-{'hit' if c[2] else 'miss'}") for i, c in enumerate(CASES)])
def test_ci_cd_secret(spans, entity_type, text, expected):
    assert spans(text, entity_type) == expected
