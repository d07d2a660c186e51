"""Private keys: PEM, OpenSSH and PGP blocks and PuTTY key files; public keys and certificates are not."""
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


def putty(algorithm: str, public_seed: int, private: str, mac: bool = True) -> str:
    public = base64_lines(public_seed, 51)
    lines = [f"PuTTY-User-Key-File-3: {algorithm}", "Encryption: none", "Comment: deploy@build-01",
             f"Public-Lines: {len(public.splitlines())}", public,
             f"Private-Lines: {len(private.splitlines())}", private]
    if mac:
        lines.append("Private-MAC: " + random.Random(public_seed).randbytes(32).hex())
    return "\n".join(lines)


PUTTY_ED25519 = putty("ssh-ed25519", 20, base64_lines(21, 36))
PUTTY_RSA = putty("ssh-rsa", 22, base64_lines(23, 1200))
PUTTY_NO_MAC = putty("ssh-rsa", 24, base64_lines(25, 600), mac=False)

CASES = [
    ("PRIVATE_KEY", f"here is the key:\n{RSA}\nthanks", [RSA]),
    ("PRIVATE_KEY", f"{TRUNCATED}\n", [TRUNCATED]),
    ("PRIVATE_KEY", pem("PUBLIC KEY", 9), []),
    ("PRIVATE_KEY", "-----BEGIN RSA PRIVATE KEY-----\n...\n-----END RSA PRIVATE KEY-----", []),
    ("PUTTY_PRIVATE_KEY", f"my key file:\n{PUTTY_ED25519}\n", [PUTTY_ED25519]),
    ("PUTTY_PRIVATE_KEY", PUTTY_RSA, [PUTTY_RSA]),
    ("PUTTY_PRIVATE_KEY", PUTTY_NO_MAC, [PUTTY_NO_MAC]),
    ("PUTTY_PRIVATE_KEY",  # the public half alone, as PuTTYgen shows it
     "PuTTY-User-Key-File-3: ssh-ed25519\nEncryption: none\nComment: x\nPublic-Lines: 2\n" + base64_lines(26, 51), []),
    ("PUTTY_PRIVATE_KEY",  # elided example in a how-to
     "PuTTY-User-Key-File-3: ssh-rsa\nEncryption: none\nComment: x\nPublic-Lines: 6\n...\nPrivate-Lines: 14\n...", []),
]


@pytest.mark.parametrize("entity_type, text, expected",
                         [pytest.param(*c, id=f"{c[0]}-{i}-{'hit' if c[2] else 'miss'}") for i, c in enumerate(CASES)])
def test_private_key_table(spans, entity_type, text, expected):
    assert spans(text, entity_type) == expected
