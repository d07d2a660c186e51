"""Issue 16, item 3: the record's signing key can live apart from the database. With an
external signing command the collector never holds the private key (none is created beside
the database), and what it signs verifies under the signer's pinned key."""
from __future__ import annotations

import shlex
import sys

import pytest

from shadowmap.collector.app import create_app
from shadowmap.collector.record import bundle, keys
from shadowmap.collector.record.service import RECORD_KEY
from shadowmap.collector.state import STORE

EVERYTHING = ("2000-01-01T00:00:00Z", "2100-01-01T00:00:00Z")


@pytest.fixture
def signer(tmp_path, monkeypatch):
    """A signing key in a folder of its own, served by `shadowmap collector record sign`."""
    folder = tmp_path / "signer"
    folder.mkdir(mode=0o700)
    key = keys.load_or_create_key(folder / "record.pem")
    public = tmp_path / "record.pub.pem"
    public.write_text(keys.public_pem(key))
    command = [sys.executable, "-m", "shadowmap.cli", "collector", "record", "sign", "--key", str(folder / "record.pem")]
    monkeypatch.setenv(keys.SIGN_COMMAND_ENV, shlex.join(command))
    monkeypatch.setenv(keys.PUBLIC_KEY_ENV, str(public))
    return keys.fingerprint(key)


async def test_the_collector_signs_through_the_external_command(aiohttp_client, config, make, signer, tmp_path):
    client = await make.start_client(aiohttp_client, config, create_app(config))
    assert isinstance(client.app[RECORD_KEY], keys.CommandSigner)
    device = await make.enroll(client, config)
    events = [make.paste(device["device_id"]) for _ in range(2)]
    response = await client.post("/api/v1/events", json={"events": events},
                                 headers={"Authorization": f"Bearer {device['node_key']}"})
    assert response.status == 200
    out = tmp_path / "bundle.zip"
    await client.app[STORE].read(lambda db: bundle.export(db, *EVERYTHING, out, client.app[RECORD_KEY]))
    verdict = bundle.verify(out, signer)
    assert verdict.ok and verdict.checked == 2
    # no key was made or read beside the database
    assert not keys.default_key_path(config.db_path).exists()
    with pytest.raises(TypeError):
        client.app[RECORD_KEY].private_bytes_raw()


def test_a_signer_whose_signature_does_not_verify_is_refused(tmp_path, signer):
    wrong = keys.CommandSigner([sys.executable, "-c", "print('A' * 88)"],
                               keys.signer_from_env().public_key())
    with pytest.raises(keys.SignerError, match="does not verify"):
        wrong.sign(b"a checkpoint")
