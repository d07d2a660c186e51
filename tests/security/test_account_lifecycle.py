"""Issue 16 items 14 and 4: accounts can be disabled, deleted and have their password
changed (by themselves or reset by an admin); API tokens expire and can be revoked; every
admin action is an entry of the hash-chained record. Console and CLI."""
from __future__ import annotations

import os
import subprocess
import sys

from shadowmap.collector.state import STORE
from shadowmap.collector.store.sqlite import accounts, org

NEW_PASSWORD = "another long enough password"


async def admin_entries(client) -> list[dict]:
    return await client.app[STORE].read(lambda db: [dict(row) for row in db.query(
        "SELECT subject, actor, detail FROM record_entries_single WHERE kind = 'admin' ORDER BY seq")])


async def post(client, path: str, csrf: str, **fields):
    return await client.post(path, data={"csrf_token": csrf, **fields}, allow_redirects=False)


async def signed_in_as(client, console, username: str) -> bool:
    response = await client.get("/alerts", allow_redirects=False)
    return response.status == 200


async def test_disable_enable_delete_and_reset_an_account(client, console, aiohttp_client):
    admin_csrf = await console.sign_in(client, "admin", console.admin_password)
    created = await post(client, "/admin/accounts", admin_csrf, username="carol", password=console.password,
                         role="viewer")
    assert created.status == 303

    # carol signs in on a second client, then is disabled: her session ends, sign-in fails
    other = await aiohttp_client(client.server)
    await console.sign_in(other, "carol")
    assert await signed_in_as(other, console, "carol")
    assert (await post(client, "/admin/accounts/disable", admin_csrf, username="carol")).status == 303
    assert not await signed_in_as(other, console, "carol")
    other.session.cookie_jar.clear()
    page = await other.get("/login")
    token = console_csrf(await page.text())
    refused = await other.post("/login", data={"csrf_token": token, "username": "carol", "password": console.password},
                               allow_redirects=False)
    assert refused.status == 401
    assert (await post(client, "/admin/accounts/enable", admin_csrf, username="carol")).status == 303
    await console.sign_in(other, "carol")

    # an admin reset ends her sessions; the new password works, the old one does not
    assert (await post(client, "/admin/accounts/password", admin_csrf, username="carol",
                       password=NEW_PASSWORD)).status == 303
    assert not await signed_in_as(other, console, "carol")
    await console.sign_in(other, "carol", NEW_PASSWORD)

    assert (await post(client, "/admin/accounts/delete", admin_csrf, username="carol")).status == 303
    assert not await signed_in_as(other, console, "carol")
    assert "carol" not in await client.app[STORE].read(accounts.usernames)

    # no admin can lock themselves out
    assert (await post(client, "/admin/accounts/disable", admin_csrf, username="admin")).status == 409
    assert (await post(client, "/admin/accounts/delete", admin_csrf, username="admin")).status == 409

    subjects = [(entry["subject"], entry["detail"]) for entry in await admin_entries(client)]
    for action in ("create", "disable", "enable", "reset_password", "delete"):
        assert any(subject == "account:carol" and f'"action":"{action}"' in detail for subject, detail in subjects), action
    assert all(NEW_PASSWORD not in detail and console.password not in detail for _, detail in subjects)


def console_csrf(html: str) -> str:
    import re
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


async def test_change_own_password(client, console):
    await console.add_account(client, "dave", "viewer")
    await console.sign_in(client, "dave")
    csrf = await console.page_csrf(client, "/account/password")
    wrong = await post(client, "/account/password", csrf, current_password="not it at all",
                       new_password=NEW_PASSWORD)
    assert wrong.status == 403
    done = await post(client, "/account/password", csrf, current_password=console.password, new_password=NEW_PASSWORD)
    assert done.status == 303
    assert (await client.get("/alerts", allow_redirects=False)).status == 200  # this session goes on
    await console.sign_in(client, "dave", NEW_PASSWORD)
    entries = await admin_entries(client)
    assert any(e["subject"] == "account:dave" and '"action":"change_password"' in e["detail"] for e in entries)


async def test_tokens_expire_and_can_be_revoked(client, console):
    admin_csrf = await console.sign_in(client, "admin", console.admin_password)
    page = await post(client, "/admin/tokens", admin_csrf, name="siem", role="viewer", days="30")
    assert page.status == 200
    import re
    token = re.search(r'id="new-token">([^<]+)<', await page.text()).group(1)
    bearer = {"Authorization": f"Bearer {token}"}
    assert (await client.get("/api/v1/alerts", headers=bearer)).status == 200
    listed = await client.app[STORE].read(accounts.list_api_tokens)
    assert listed[-1]["expires_at"] and listed[-1]["revoked_at"] is None
    assert (await post(client, "/admin/tokens/revoke", admin_csrf, token_id=listed[-1]["id"])).status == 303
    assert (await client.get("/api/v1/alerts", headers=bearer)).status == 401

    expired = await client.app[STORE].write(
        lambda db: accounts.create_api_token(db, "old", "viewer", "tests", expires_at="2020-01-01T00:00:00.000000Z"))
    assert (await client.get("/api/v1/alerts", headers={"Authorization": f"Bearer {expired}"})).status == 401
    refused = await post(client, "/admin/tokens", admin_csrf, name="forever", role="viewer", days="0")
    assert refused.status == 400
    entries = await admin_entries(client)
    assert any(e["subject"].startswith("token:") and '"action":"create"' in e["detail"] for e in entries)
    assert any(e["subject"].startswith("token:") and '"action":"revoke"' in e["detail"] for e in entries)
    assert all(token not in e["detail"] for e in entries)


async def test_scm_secret_and_team_import_are_recorded(client, console):
    admin_csrf = await console.sign_in(client, "admin", console.admin_password)
    assert (await post(client, "/admin/scm-secret", admin_csrf, provider="github", confirm="yes")).status == 303
    assert (await post(client, "/admin/teams/import", admin_csrf, csv="team,user\nred,alice\n")).status == 303
    subjects = {e["subject"] for e in await admin_entries(client)}
    assert {"scm:github", "teams"} <= subjects


def test_account_and_token_commands(tmp_path):
    db = tmp_path / "collector.db"
    env = {**os.environ, "SHADOWMAP_ADMIN_PASSWORD": "correct horse battery staple"}

    def run(*args: str) -> str:
        done = subprocess.run([sys.executable, "-m", "shadowmap.cli", "collector", *args, "--db", str(db)], env=env,
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, (args, done.stderr)
        return done.stdout

    token = run("token", "create", "--name", "ci", "--days", "7").strip()
    assert len(token) > 30
    listed = run("token", "list")
    assert "ci" in listed and "expires" in listed
    token_id = listed.split()[0]
    run("token", "revoke", token_id)
    assert "revoked" in run("token", "list")
    for command in ("create", "set-password"):
        done = subprocess.run([sys.executable, "-m", "shadowmap.cli", "collector", "account", command, "erin",
                               "--db", str(db)], input="a long enough password\n", env=env, capture_output=True,
                              text=True, timeout=120)
        assert done.returncode == 0, done.stderr
    run("account", "disable", "erin")
    assert "erin role=viewer disabled" in run("account", "list")
    run("account", "enable", "erin")
    run("account", "delete", "erin")
    assert "erin" not in run("account", "list")
    record = run("record", "check")
    assert "OK" in record or "ok" in record


async def test_a_single_sign_on_account_gets_no_password_here(client, console, tmp_path):
    # its password is the identity provider's: an admin reset (console or CLI) would give it a second way in
    from shadowmap.collector.store.sqlite import sso_accounts

    await client.app[STORE].write(sso_accounts.provision, "https://idp.example", "sub-1", "sam@corp.example",
                                  "analyst", "unusable-hash")
    before = await client.app[STORE].read(accounts.password_hash_of, "sam@corp.example")
    admin_csrf = await console.sign_in(client, "admin", console.admin_password)
    refused = await post(client, "/admin/accounts/password", admin_csrf, username="sam@corp.example",
                         password=NEW_PASSWORD)
    assert refused.status == 409 and "single sign-on" in await refused.text()
    assert not await client.app[STORE].write(accounts.set_password, "sam@corp.example", "another-hash")
    assert await client.app[STORE].read(accounts.password_hash_of, "sam@corp.example") == before


async def test_admin_page_webhook_urls_secret_confirmation_and_one_token_per_form(client, console):
    """Issue 17's admin items: the webhook URLs to paste, 'generate new' confirmed before the
    secret changes, and a refreshed token form (the same POST sent again) makes no second token."""
    import re
    admin_csrf = await console.sign_in(client, "admin", console.admin_password)
    page = await (await client.get("/admin")).text()
    origin = str(client.make_url("/")).rstrip("/")
    assert f'id="github-webhook-url">{origin}/api/v1/scm/github<' in page
    assert f'id="gitlab-webhook-url">{origin}/api/v1/scm/gitlab<' in page

    before = await client.app[STORE].read(lambda db: org.scm_secret(db, "github"))
    unconfirmed = await post(client, "/admin/scm-secret", admin_csrf, provider="github")
    assert unconfirmed.status == 400 and "confirm" in await unconfirmed.text()
    assert await client.app[STORE].read(lambda db: org.scm_secret(db, "github")) == before
    assert (await post(client, "/admin/scm-secret", admin_csrf, provider="github", confirm="yes")).status == 303
    assert await client.app[STORE].read(lambda db: org.scm_secret(db, "github")) != before

    nonce = re.search(r'name="form_nonce" value="([^"]+)"', page).group(1)
    tokens_before = len(await client.app[STORE].read(accounts.list_api_tokens))
    first = await post(client, "/admin/tokens", admin_csrf, name="siem", role="viewer", days="30", form_nonce=nonce)
    assert first.status == 200 and 'id="new-token"' in await first.text()
    again = await post(client, "/admin/tokens", admin_csrf, name="siem", role="viewer", days="30", form_nonce=nonce)
    assert again.status == 303  # back to the admin page with a notice, no token shown
    assert len(await client.app[STORE].read(accounts.list_api_tokens)) == tokens_before + 1
    notice = await (await client.get(again.headers["Location"])).text()
    assert "sent already" in notice and 'id="new-token"' not in notice


async def test_admin_page_says_how_to_enroll_and_load_the_extension(client, console):
    """The first-run checklist's first two steps lead here: the commands with this
    collector's address and where its enroll secret lies, never the secret itself."""
    from shadowmap.collector.console.next_steps import STEPS
    from shadowmap.collector.state import CONFIG

    await console.sign_in(client, "admin", console.admin_password)
    page = await (await client.get("/admin")).text()
    origin = str(client.make_url("/")).rstrip("/")
    config = client.app[CONFIG]
    assert 'id="enroll"' in page and 'id="extension"' in page
    assert f'id="enroll-secret-path">{config.enroll_secret_path}<' in page
    assert f"--collector-url {origin} --enroll-secret-file enroll_secret" in page
    assert f"--base-url {origin}" in page and "Nothing published yet." in page
    assert config.enroll_secret_path.read_text().strip() not in page
    hrefs = {step.key: step.href for step in STEPS}
    assert hrefs["device"] == "/admin#enroll" and hrefs["extension"] == "/admin#extension"
