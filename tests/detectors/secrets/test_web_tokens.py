"""JWT: base64url parts whose header decodes to JSON naming a signing algorithm (or, without
its signature part, at least its type)."""
import base64
import json
import random
import string

import pytest

ALNUM = string.ascii_letters + string.digits
_rng = random.Random("jwt")


def r(n: int, alphabet: str = ALNUM + "_-") -> str:
    return "".join(_rng.choice(alphabet) for _ in range(n))


def part(obj) -> str:
    raw = obj if isinstance(obj, bytes) else json.dumps(obj, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


CLAIMS = {"sub": "user_8412", "org": "acme", "iat": 1764000000, "exp": 1764003600}
HS256 = f"{part({'alg': 'HS256', 'typ': 'JWT'})}.{part(CLAIMS)}.{r(43)}"
RS256 = f"{part({'alg': 'RS256', 'kid': 'k1', 'typ': 'JWT'})}.{part(CLAIMS)}.{r(342)}"
UNSIGNED = f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(CLAIMS)}.{r(20)}"
NO_ALG = f"{part({'typ': 'JWT', 'kid': 'k1'})}.{part(CLAIMS)}.{r(43)}"
NOT_JSON = f"eyJ{r(30, ALNUM)}.eyJ{r(40, ALNUM)}.{r(43)}"

CASES = [
    ("JWT", f"Authorization: Bearer {HS256}", [HS256]),
    ("JWT", f'{{"id_token": "{RS256}"}}', [RS256]),
    ("JWT", f"curl -H 'Cookie: session={HS256}' https://app.acme.io", [HS256]),
    ("JWT", f"token {UNSIGNED}", []),                                        # alg none: nothing signed
    ("JWT", f"token {NO_ALG}", []),                                          # header has no alg
    ("JWT", f"token {NOT_JSON}", []),                                        # eyJ... that is not JSON
    ("JWT", f"token {HS256.rsplit('.', 1)[0]}", [HS256.rsplit('.', 1)[0]]),  # unsigned part: still the claims
    ("JWT", f"token {part({'kid': 'k1'})}.{part(CLAIMS)}", []),              # no signature, no alg or typ
    ("JWT", "Authorization: Bearer eyJhbGciOi...", []),                      # elided
    ("JWT", "version 1.22.3.eyJ", []),                                      # version string
]


@pytest.mark.parametrize("entity_type, text, expected",
                         [pytest.param(*c, id=f"{c[0]}-{i}-{'hit' if c[2] else 'miss'}") for i, c in enumerate(CASES)])
def test_jwt(spans, entity_type, text, expected):
    assert spans(text, entity_type) == expected
