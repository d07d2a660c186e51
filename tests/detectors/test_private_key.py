"""PRIVATE_KEY: PEM, OpenSSH and PGP private key blocks; public keys and certificates are not."""
import base64
import random

import pytest


def base64_lines(seed: int, n_bytes: int = 600) -> str:
    """Deterministic random key material (not a real key)."""
    b64 = base64.b64encode(random.Random(seed).randbytes(n_bytes)).decode()
    return "\n".join(b64[i:i + 64] for i in range(0, len(b64), 64))


def pem(label: str, seed: int = 1, headers: str = "") -> str:
    return f"-----BEGIN {label}-----\n{headers}{base64_lines(seed)}\n-----END {label}-----"


RSA = pem("RSA PRIVATE KEY")
PKCS8 = pem("PRIVATE KEY", 2)
EC = pem("EC PRIVATE KEY", 3)
OPENSSH = pem("OPENSSH PRIVATE KEY", 4)
ENCRYPTED = pem("ENCRYPTED PRIVATE KEY", 5)
LEGACY_ENCRYPTED = pem("RSA PRIVATE KEY", 6, "Proc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,3F17F5316E2BAC89\n\n")
PGP = pem("PGP PRIVATE KEY BLOCK", 7)
TRUNCATED = "-----BEGIN RSA PRIVATE KEY-----\n" + base64_lines(8)  # pasted without its END line


@pytest.mark.parametrize("block", [RSA, PKCS8, EC, OPENSSH, ENCRYPTED, LEGACY_ENCRYPTED, PGP],
                         ids=["rsa", "pkcs8", "ec", "openssh", "encrypted", "legacy-encrypted", "pgp"])
def test_whole_block_is_one_finding(spans, block):
    assert spans(f"here is the key:\n{block}\nthanks", "PRIVATE_KEY") == [block]


def test_indented_block_in_yaml(spans):
    block = "\n".join("  " + line for line in RSA.splitlines())
    assert spans(f"tls:\n  key: |\n{block}\n", "PRIVATE_KEY") == [block.lstrip()]


def test_truncated_block_still_found(spans):
    assert spans(f"{TRUNCATED}\n", "PRIVATE_KEY") == [TRUNCATED]


@pytest.mark.parametrize("text", [
    pem("PUBLIC KEY", 9),
    pem("RSA PUBLIC KEY", 10),
    pem("CERTIFICATE", 11),
    pem("CERTIFICATE REQUEST", 12),
    "ssh-rsa " + base64_lines(13).replace("\n", "") + " alice@laptop",
    "-----BEGIN RSA PRIVATE KEY-----\n...\n-----END RSA PRIVATE KEY-----",   # elided example
    "-----BEGIN PRIVATE KEY-----\n<your key here>\n-----END PRIVATE KEY-----",
    "paste your -----BEGIN PRIVATE KEY----- block into the vault, never into chat",
    "id 123e4567-e89b-12d3-a456-426614174000",
    "commit 9fceb02d0ae598e95dc970b74767f19372d61af8",
], ids=["public", "rsa-public", "certificate", "csr", "ssh-public", "elided", "placeholder",
        "prose", "uuid", "git-sha"])
def test_not_a_private_key(spans, text):
    assert spans(text, "PRIVATE_KEY") == []


def test_two_blocks_are_two_findings(spans):
    assert spans(f"{RSA}\n\n{EC}", "PRIVATE_KEY") == [RSA, EC]
