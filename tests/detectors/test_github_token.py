"""GITHUB_TOKEN: classic ghp_/gho_/ghu_/ghs_/ghr_ tokens and fine-grained github_pat_."""
import pytest

BODY = "u8jzPde0IgxLd6GncfBAepfJBd0Kh8oOOL8d"  # 36 random characters
FINE = "github_pat_11ABCDEFG0aZ9kLmNoPqRs_" + "Xy7Vw6Ut5Sr4Qp3On2Ml1Kj0Ih9Gf8Ed7Cb6Az5Yx4Wv3Ut2Sr1Qp0On9Ml"


def test_fixture_shapes():
    assert len(BODY) == 36
    assert len(FINE) == len("github_pat_") + 22 + 1 + 59


@pytest.mark.parametrize("prefix", ["ghp", "gho", "ghu", "ghs", "ghr"])
def test_classic_token_kinds(spans, prefix):
    token = f"{prefix}_{BODY}"
    assert spans(f"GITHUB_TOKEN={token}", "GITHUB_TOKEN") == [token]


@pytest.mark.parametrize("text, expected", [
    (f"git clone https://x-access-token:ghp_{BODY}@github.com/acme/app", [f"ghp_{BODY}"]),
    (f"token: {FINE}\n", [FINE]),
    (f'"Authorization": "Bearer ghs_{BODY}"', [f"ghs_{BODY}"]),
    # near misses
    (f"ghx_{BODY}", []),                                  # wrong prefix
    (f"ghp_{BODY[:35]}", []),                             # too short
    (f"ghp_{BODY}A", []),                                 # too long
    ("ghp_" + "x" * 36, []),                              # placeholder
    ("ghp_" + "0123456789" * 3 + "012345", []),           # low-entropy placeholder
    ("GHP_" + BODY, []),                                  # prefixes are lower case
    ("github_pat_" + "A" * 82, []),                       # placeholder
    ("id 123e4567-e89b-12d3-a456-426614174000", []),      # UUID
    ("commit 9fceb02d0ae598e95dc970b74767f19372d61af8", []),  # git SHA
    ("pinned to v3.12.0-ghp", []),                        # version string
])
def test_github_token(spans, text, expected):
    assert spans(text, "GITHUB_TOKEN") == expected
