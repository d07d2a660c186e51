"""`make demo`: a realistic week of data in a running collector, sent the way real agents and
GitHub send it — enrollment with the enroll secret, signed-in event batches with each
device's node key, GitHub webhooks signed with the shared secret — so every page, the
weekly report and every finding have something to show without a desktop browser.

    python -m shadowmap.demo                      # the collector `make run` started (var/)
    python -m shadowmap.demo --url http://127.0.0.1:9000 --var-dir /path/to/var

With the admin password (var/admin_password or $SHADOWMAP_ADMIN_PASSWORD) it also signs in
to the console to import teams and a register, set the retention policy and generate the
GitHub webhook secret. On a collector on 127.0.0.1 someone then guesses a console password
from another loopback address (127.0.0.2) until that name is locked out, so the lockout never
locks out the address the console is used from. Last, one pass of the device watch, which no
API starts (the collector runs one every 5 minutes), is run as an admin would:
`shadowmap collector devices watch` on the collector's database (make run's var/collector.db,
or --db), so "Protection disabled" is there at once. Nothing else here touches the database."""
from __future__ import annotations

import argparse
import hashlib
import hmac
import http.client
import http.cookiejar
import http.cookies
import json
import os
import random
import re
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from shadowmap.contract import validate_event

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_PORT = 8765  # make run's (SHADOWMAP_PORT overrides it)
TIMEOUT_S = 30
KEYS_FILE = "demo_node_keys.json"  # in the var folder, 0600
TEAMS = {  # team -> (hostname prefix, OS, the tools its people use)
    "engineering": ("eng", "Darwin", ["chatgpt", "claude", "cursor", "claude-code", "ollama"]),
    "marketing": ("mkt", "Darwin", ["chatgpt", "lovable", "gemini", "jasper"]),
    "operations": ("ops", "Linux", ["chatgpt", "bolt", "perplexity", "deepseek"]),
    "sales": ("sales", "Windows", ["chatgpt", "gemini", "deepl"]),
    "finance": ("fin", "Windows", ["chatgpt", "claude"]),
    "support": ("sup", "Darwin", ["claude", "deepl", "quillbot"]),
}
PEOPLE = ["dave", "erin", "farah", "gus", "hana", "ivan", "jo", "kai", "lena", "milo", "nora", "omar"]
DOMAINS = {"chatgpt": "chatgpt.com", "claude": "claude.ai", "gemini": "gemini.google.com", "lovable": "lovable.dev",
           "bolt": "bolt.new", "perplexity": "perplexity.ai", "deepseek": "chat.deepseek.com", "deepl": "deepl.com",
           "quillbot": "quillbot.com", "jasper": "app.jasper.ai"}
REGISTER_CSV = ("vendor,dpa_signed,dpa_date,listed,data_classes,retention_days,notes,dpa_url,dpa_expires,owner\n"
                "OpenAI,yes,2025-11-03,yes,pii,30,Enterprise workspace,https://legal.example/openai-dpa.pdf,"
                "2027-11-02,legal@acme.example\n"
                "Anthropic,no,,yes,,,DPA under negotiation,,,legal@acme.example\n"
                "Google,yes,2025-06-01,yes,pii;production,,Workspace terms,,,it@acme.example\n")
SILENT_HOSTNAME = "fin-spare-xps"
SHARED_SECRET = "demo-aws-key-shared-by-ops"  # one leaked key on several laptops: the correlation to show
GUESSED_USERNAME = "contractor-2024"  # no such account: someone guessing a former contractor's sign-in
GUESSING_ADDRESS = "127.0.0.2"  # loopback, but not the address the console is used from
MAX_GUESSES = 50  # the collector locks a name out after 10 failures by default


class DemoError(RuntimeError):
    pass


@dataclass
class Device:
    hostname: str
    user: str
    team: str
    os: str
    tools: list[str]
    device_id: str = ""
    node_key: str = ""


def _hash(value: str) -> str:
    # stands in for the laptop's keyed hash of a matched value (the collector never sees the value)
    return hashlib.sha256(f"demo:{value}".encode()).hexdigest()


def _finding(entity: str, data_class: str, value: str, count: int = 1) -> dict:
    return {"entity_type": entity, "data_class": data_class, "count": count, "score": 0.93,
            "hashes": [_hash(f"{value}-{n}") for n in range(count)], "reason": "demo"}


class Collector:
    """The collector's public API and its console forms, over plain HTTP on loopback."""

    def __init__(self, url: str) -> None:
        self.url = url.rstrip("/")
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))

    def request(self, path: str, body: bytes | None = None, headers: dict[str, str] | None = None) -> tuple[int, str]:
        req = urllib.request.Request(self.url + path, data=body, headers=headers or {})
        try:
            with self.opener.open(req, timeout=TIMEOUT_S) as response:
                return response.status, response.read().decode("utf-8", "replace")
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode("utf-8", "replace")
        except OSError as exc:
            raise DemoError(f"cannot reach the collector at {self.url}: {exc}") from None

    def post_json(self, path: str, payload: dict, headers: dict[str, str] | None = None) -> dict:
        status, text = self.request(path, json.dumps(payload).encode(), {"Content-Type": "application/json",
                                                                         **(headers or {})})
        if status != 200:
            raise DemoError(f"POST {path}: {status} {text[:300]}")
        return json.loads(text)

    def post_form(self, path: str, fields: dict[str, str]) -> int:
        status, _ = self.request(path, urllib.parse.urlencode(fields).encode(),
                                 {"Content-Type": "application/x-www-form-urlencoded"})
        return status

    def csrf(self, path: str) -> str:
        _, page = self.request(path)
        found = re.search(r'name="csrf_token" value="([^"]+)"', page)
        if not found:
            raise DemoError(f"no form on {path}: is the password right?")
        return found.group(1)


def plan() -> list[Device]:
    """Twelve laptops in six teams, with a week of what their people did."""
    devices = []
    for n, person in enumerate(PEOPLE):
        team = list(TEAMS)[n % len(TEAMS)]
        prefix, os_name, tools = TEAMS[team]
        devices.append(Device(f"{prefix}-{person}-{'mbp' if os_name == 'Darwin' else 'xps'}", f"{person}@acme.example",
                              team, os_name, tools))
    return devices


class Week:
    """One laptop's events, each checked against the contract as it is made."""

    def __init__(self, device: Device, rng: random.Random, now: datetime) -> None:
        self.device, self.rng, self.now = device, rng, now
        self.events: list[dict] = []

    def at(self, days_ago: float) -> str:
        return (self.now - timedelta(days=days_ago)).isoformat(timespec="milliseconds").replace("+00:00", "Z")

    def event(self, kind: str, days_ago: float, data: dict) -> dict:
        item = {"schema": "shadowmap.event/1", "id": str(uuid.uuid4()), "type": kind,
                "device_id": self.device.device_id, "user": self.device.user, "ts": self.at(days_ago), "data": data}
        validate_event(item)
        self.events.append(item)
        return item

    def paste(self, days_ago: float, tool: str, findings: list[dict], action: str) -> dict:
        return self.event("paste.scanned", days_ago, {
            "channel": "paste", "tool_id": tool, "domain": DOMAINS.get(tool, f"{tool}.example"), "browser": "chrome",
            "data_classes": sorted({f["data_class"] for f in findings}), "findings": findings, "action": action,
            "reason": "policy", "text_length": self.rng.randint(80, 4000),
            "elapsed_ms": round(self.rng.uniform(2, 9), 1)})

    def override(self, scan: dict, days_ago: float, decision: str, justification: str = "") -> None:
        data = {"scan_id": scan["id"], "decision": decision, "tool_id": scan["data"]["tool_id"],
                "domain": scan["data"]["domain"], "channel": "paste"}
        if justification:
            data["justification"] = justification
        self.event("paste.override", days_ago, data)


def routine(week: Week, index: int) -> None:
    """Heartbeats and tool sightings each day; the last laptop goes quiet after two days, and
    one (fin-hana-xps) has the extension switched off in its browser: "Protection disabled" on
    the device watch's pass."""
    device = week.device
    extensions = [{"browser": "chrome", "profile": "Default", "state": "disabled" if index == 4 else "enabled"}]
    for day in range(2 if index == len(PEOPLE) - 1 else 7):
        days_ago = 6.8 - day
        week.event("agent.heartbeat", days_ago, {
            "agent_version": "0.9.0" if index % 5 == 3 else "1.0.0", "hostname": device.hostname, "os": device.os,
            "spool_depth": 0, "users": [device.user.split("@")[0]], "extensions": extensions})
        for tool in week.rng.sample(device.tools, min(2, len(device.tools))):
            if tool in DOMAINS:
                data = {"tool_id": tool, "source": "extension", "domain": DOMAINS[tool], "browser": "chrome"}
            else:
                data = {"tool_id": tool, "source": "process", "process": tool}
            week.event("ai_tool.observed", days_ago - week.rng.uniform(0.05, 0.5), data)


def incidents(week: Week, index: int) -> None:
    """Each team's part in the findings: secrets, customer and production data, a risky MCP
    server and a secret in an AI project's .env."""
    device = week.device
    chat = next((t for t in device.tools if t in DOMAINS), "chatgpt")
    key = [_finding("AWS_SECRET_KEY", "secret", SHARED_SECRET)]
    if device.team == "operations":  # a cloud key pasted, sent anyway after the warning
        week.override(week.paste(3.2, chat, key, "warn"), 3.199, "send_anyway", "debugging the deploy, key rotated")
    if device.team in ("operations", "engineering"):  # the same key, stopped by policy elsewhere
        week.paste(2.5, "deepseek" if "deepseek" in device.tools else chat, key, "block")
    if device.team in ("sales", "support", "finance"):  # customer records into a chat, after a warning
        scan = week.paste(1.5 + index / 10, chat, [_finding("EMAIL_ADDRESS", "pii", f"{device.user}-customers", 12),
                                                   _finding("PERSON", "pii", f"{device.user}-names", 8)], "warn")
        if index % 2:
            week.override(scan, 1.49 + index / 10, "cancel")
        else:
            week.override(scan, 1.49 + index / 10, "send_anyway", "customer asked for a summary")
    if device.team == "marketing":  # production data into an app builder, allowed by policy
        week.paste(4.0, "lovable" if "lovable" in device.tools else chat,
                   [_finding("DB_URL", "production", "prod-db"), _finding("EMAIL_ADDRESS", "pii", "leads", 40)],
                   "allow")
    if device.team == "engineering":  # an MCP server with credentials in its config that runs shell commands
        week.event("mcp_server.observed", 5.0, {
            "tool_id": "claude-code", "config_path": "~/.claude.json", "name": "deploy-tools", "transport": "stdio",
            "command": "npx", "package": "@acme/deploy-mcp", "env_keys": ["AWS_SECRET_ACCESS_KEY"],
            "workspace": "~/src/payments",
            "risks": [{"flag": "plaintext_secret", "evidence": "env AWS_SECRET_ACCESS_KEY set in the config"},
                      {"flag": "shell_exec", "evidence": "tool run_shell executes commands"}]})
        week.event("ai_config.finding", 4.5, {
            "finding": "AI tool with production read access via copied secrets", "severity": "critical",
            "tool_id": "cursor", "path": "~/src/landing/.env", "workspace": "~/src/landing",
            "findings": [_finding("AWS_ACCESS_KEY", "secret", f"{device.user}-env")]})


def sign_ins(week: Week, index: int) -> None:
    """Which accounts people sign in to their AI tools with: the company's, and in marketing
    and sales a personal one (a consumer mail domain) on a chat tool."""
    device = week.device
    chat = next((t for t in device.tools if t in DOMAINS), "chatgpt")
    week.event("ai_account.observed", 6.0, {
        "tool_id": chat, "domain": DOMAINS[chat], "tier": "corporate", "domain_class": "org",
        "source": "oauth_hint", "account_hash": _hash(device.user), "browser": "chrome"})
    if device.team in ("marketing", "sales"):
        personal = device.tools[-1] if device.tools[-1] in DOMAINS else chat
        week.event("ai_account.observed", 2.0 + index / 10, {
            "tool_id": personal, "domain": DOMAINS[personal], "tier": "personal", "domain_class": "consumer",
            "source": "login_form", "account_hash": _hash(f"{device.user.split('@')[0]}@gmail.example"),
            "browser": "chrome"})


# Monica's Chrome Web Store id (detectors/data/catalog/assistants.yaml cites the listing)
MONICA = "ofpnmcalabcbjgholdjcjblkibolbppb"


def browser_and_sessions(week: Week, index: int) -> None:
    """What the inventory pages show: an AI extension in some browsers (one sideloaded
    copy), and the AI coding sessions of the engineers (line hashes, never code)."""
    device = week.device
    if index % 3 == 0:
        week.event("browser_extension.observed", 6.5, {
            "tool_id": "monica", "browser": "chrome", "profile": "Default", "extension_id": MONICA,
            "name": "Monica - ChatGPT AI Assistant", "version": "7.4.2", "enabled": True,
            "permissions": ["storage", "tabs", "<all_urls>"], "ai_hosts": [], "all_sites": True, "change": "new",
            "risks": [{"flag": "sideloaded_extension", "evidence": "Preferences location 4 (unpacked)"}]
            if index == 0 else []})
    if device.team != "engineering":
        return
    for number, days_ago in enumerate((5.5, 2.2)):
        started = week.at(days_ago)
        week.event("ai_session.recorded", days_ago - 0.05, {
            "tool_id": "claude-code", "tool_version": "2.0.14", "session_id": f"{device.hostname}-{number}",
            "os_user": device.user.split("@")[0], "models": ["claude-sonnet-4-5"], "repo": "github.com/acme/payments",
            "branch": f"feature/retry-{number}", "started": started, "ended": week.at(days_ago - 0.05),
            "prompts": 14 + number, "turns": 40 + number, "permission_mode": "acceptEdits",
            "tools": {"shell": {"pytest": 6, "git": 3}, "edits": {"payments/retry.py": 5}, "mcp": {"deploy-tools": 1}},
            "lines": [{"path": "payments/retry.py",
                       "hashes": [_hash(f"{device.hostname}-{number}-line-{n}")[:32] for n in range(30)]}],
            "lines_written": 30, "findings": [], "change": "new"})


def week_of_events(device: Device, index: int, rng: random.Random, now: datetime) -> list[dict]:
    """A week of one laptop: its routine, its part in the findings, its AI extensions and sessions."""
    week = Week(device, rng, now)
    routine(week, index)
    incidents(week, index)
    sign_ins(week, index)
    browser_and_sessions(week, index)
    return week.events


def github_deliveries(now: datetime) -> list[tuple[str, dict]]:
    """A push with AI co-authored commits, its pull request merged without an approving review,
    and the merge deployed to production."""
    repo = {"full_name": "acme/payments", "html_url": "https://github.com/acme/payments"}
    sha, merge_sha = "a1" * 20, "b2" * 20
    merged_at = (now - timedelta(days=1)).isoformat(timespec="seconds").replace("+00:00", "Z")
    return [
        ("push", {"ref": "refs/heads/ai-refunds", "repository": repo, "commits": [
            {"id": sha, "message": "Add refund endpoint\n\nCo-authored-by: Claude <noreply@anthropic.com>",
             "author": {"name": "dave", "email": "dave@acme.example"}}]}),
        ("pull_request", {"action": "closed", "repository": repo, "pull_request": {
            "number": 42, "title": "Refund endpoint (generated with Claude Code)", "merged": True,
            "user": {"login": "dave"}, "merged_by": {"login": "dave"}, "merged_at": merged_at,
            "merge_commit_sha": merge_sha, "head": {"sha": sha, "ref": "ai-refunds"},
            "body": "Generated with Claude Code", "html_url": "https://github.com/acme/payments/pull/42"}}),
        ("deployment_status", {"repository": repo, "deployment_status": {"state": "success"},
                               "deployment": {"sha": merge_sha, "environment": "production"}}),
    ]


def console_setup(collector: Collector, password: str, devices: list[Device]) -> str | None:
    """Teams, register and retention policy through the console; returns the GitHub secret."""
    token = collector.csrf("/login")
    status, _ = collector.request("/login", urllib.parse.urlencode(
        {"csrf_token": token, "username": "admin", "password": password}).encode(),
        {"Content-Type": "application/x-www-form-urlencoded"})
    if status not in (200, 303):
        raise DemoError(f"console sign-in refused ({status}): check the admin password")
    csrf = collector.csrf("/admin")
    teams_csv = "user,device,team\n" + "".join(f"{d.user},{d.hostname},{d.team}\n" for d in devices)
    steps = [("/admin/teams/import", {"csv": teams_csv}), ("/register/import", {"csv": REGISTER_CSV}),
             ("/register/retention-policy", {"days": "30"})]
    for path, fields in steps:
        if collector.post_form(path, {"csrf_token": csrf, **fields}) not in (200, 303):
            raise DemoError(f"console step {path} was refused")
    _, admin = collector.request("/admin")
    found = re.search(r"github secret</dt>.*?<code>([^<]+)</code>", admin, re.S)
    if not found:
        collector.post_form("/admin/scm-secret", {"csrf_token": csrf, "provider": "github", "confirm": "yes"})
        _, admin = collector.request("/admin")
        found = re.search(r"github secret</dt>.*?<code>([^<]+)</code>", admin, re.S)
    return found.group(1) if found else None


def guess_passwords(url: str) -> bool:
    """Failed console sign-ins for a name that is no account, sent from GUESSING_ADDRESS until
    the collector locks the name out (attempts refused while throttled count as failures, so
    this takes no waiting). False when the collector is not on 127.0.0.1 or that address
    cannot be used here (it is on Linux; macOS has only 127.0.0.1 unless aliased)."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme != "http" or parts.hostname not in ("127.0.0.1", "localhost"):
        return False

    def send(method: str, body: str = "", cookie: str = "") -> tuple[int, str, list[str]]:
        conn = http.client.HTTPConnection("127.0.0.1", parts.port or 80, timeout=TIMEOUT_S,
                                          source_address=(GUESSING_ADDRESS, 0))
        try:
            conn.request(method, "/login", body=body or None, headers={
                "Content-Type": "application/x-www-form-urlencoded", **({"Cookie": cookie} if cookie else {})})
            response = conn.getresponse()
            return response.status, response.read().decode("utf-8", "replace"), response.headers.get_all(
                "Set-Cookie") or []
        finally:
            conn.close()

    try:
        _, page, cookies = send("GET")
    except OSError:
        return False
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    jar = http.cookies.SimpleCookie()
    for header in cookies:
        jar.load(header)
    cookie = "; ".join(f"{name}={morsel.value}" for name, morsel in jar.items())
    if token is None or not cookie:
        raise DemoError("the console's sign-in page has no form")
    form = urllib.parse.urlencode({"csrf_token": token.group(1), "username": GUESSED_USERNAME,
                                   "password": "Winter2024!"})
    for _ in range(MAX_GUESSES):
        status, page, _ = send("POST", form, cookie)
        if status == 429 and "locked for" in page:
            return True
        if status not in (401, 429):
            raise DemoError(f"a failed console sign-in was answered {status}")
    raise DemoError(f"{MAX_GUESSES} failed console sign-ins did not lock {GUESSED_USERNAME!r} out")


class NodeKeys:
    """The demo laptops' node keys, kept 0600 beside the collector's secrets so a second run
    re-enrolls the same devices (a known device re-enrolls only with its key)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            loaded = json.loads(path.read_text())
        except (OSError, ValueError):
            loaded = {}
        self.keys: dict[str, str] = loaded if isinstance(loaded, dict) else {}

    def get(self, hostname: str) -> str | None:
        value = self.keys.get(hostname)
        return value if isinstance(value, str) else None

    def put(self, hostname: str, key: str) -> None:
        self.keys[hostname] = key
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
        with os.fdopen(fd, "w") as handle:
            json.dump(self.keys, handle)


def watch_devices(db: str) -> int:
    """One pass of the device watch on the collector's database, through the collector's own
    command (it opens the store as `collector serve` does); the "Protection disabled" alerts it
    opened."""
    done = subprocess.run([sys.executable, "-m", "shadowmap.cli", "collector", "devices", "watch", "--db", db],
                          capture_output=True, text=True, timeout=TIMEOUT_S)
    found = re.match(r"device watch: (\d+) opened", done.stdout)
    if done.returncode != 0 or not found:
        raise DemoError(f"shadowmap collector devices watch --db {db}: {(done.stderr or done.stdout)[-300:]}")
    return int(found.group(1))


def seed(url: str, enroll_secret: str, admin_password: str | None, keys_file: Path, seed_value: int = 17,
         github_secret: str | None = None, now: datetime | None = None, db: str | None = None) -> dict[str, int]:
    """Send the week, then (given the collector's database) run the device watch's pass;
    returns what was sent (devices, events, webhooks, lockouts) and the protection alerts opened."""
    now = now or datetime.now(UTC)
    rng = random.Random(seed_value)
    collector = Collector(url)
    devices = plan()
    # a laptop enrolled and never heard from again: the report's coverage warning ("Protection
    # disabled" once it has been silent past the collector's limit, 3 days by default)
    silent = Device(SILENT_HOSTNAME, "pat@acme.example", "finance", "Windows", [])
    keys = NodeKeys(keys_file)
    for device in (*devices, silent):
        body = {"enroll_secret": enroll_secret, "host_identifier": f"demo-{device.hostname}",
                "hostname": device.hostname, "os": device.os}
        known = keys.get(device.hostname)
        if known:  # a known device re-enrolls with its key, as a real agent does
            body["node_key"] = known
        enrolled = collector.post_json("/api/v1/enroll", body)
        if "node_key" not in enrolled:
            raise DemoError(f"{device.hostname} was not enrolled: {enrolled}")
        device.device_id, device.node_key = enrolled["device_id"], enrolled["node_key"]
        keys.put(device.hostname, device.node_key)
    if admin_password:
        github_secret = console_setup(collector, admin_password, devices) or github_secret
    sent = 0
    for index, device in enumerate(devices):
        events = week_of_events(device, index, rng, now)
        body = collector.post_json("/api/v1/events", {"events": events},
                                   {"Authorization": f"Bearer {device.node_key}"})
        if body.get("rejected"):
            raise DemoError(f"{device.hostname}: events refused: {body['rejected'][:3]}")
        sent += len(events)
    webhooks = 0
    if github_secret:
        for kind, payload in github_deliveries(now):
            raw = json.dumps(payload).encode()
            signature = "sha256=" + hmac.new(github_secret.encode(), raw, hashlib.sha256).hexdigest()
            status, text = collector.request("/api/v1/scm/github", raw, {
                "Content-Type": "application/json", "X-GitHub-Event": kind, "X-Hub-Signature-256": signature,
                "X-GitHub-Delivery": str(uuid.uuid4())})
            if status != 200:
                raise DemoError(f"GitHub {kind} delivery refused: {status} {text[:200]}")
            webhooks += 1
    locked_out = guess_passwords(url)
    protection = watch_devices(db) if db else 0
    return {"devices": len(devices) + 1, "events": sent, "webhooks": webhooks, "lockouts": int(locked_out),
            "protection": protection}



def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="make demo", description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--var-dir", default=str(ROOT / "var"), help="make run's folder (enroll secret, admin password)")
    ap.add_argument("--url", default=None, help="collector URL (default: http://127.0.0.1:$SHADOWMAP_PORT)")
    ap.add_argument("--github-secret", default=os.environ.get("SHADOWMAP_DEMO_GITHUB_SECRET"),
                    help="the GitHub webhook secret, when the console cannot be signed in to")
    ap.add_argument("--db", default=None,
                    help="the collector's database, for the device watch's pass (default: collector.db in --var-dir, "
                         "make run's; skipped when there is none)")
    ap.add_argument("--seed", type=int, default=17)
    args = ap.parse_args(argv)
    var = Path(args.var_dir)
    db = args.db or (str(var / "collector.db") if (var / "collector.db").exists() else None)
    url = args.url or f"http://127.0.0.1:{os.environ.get('SHADOWMAP_PORT', DEFAULT_PORT)}"
    try:
        secret = (var / "enroll_secret").read_text().strip()
    except OSError as exc:
        print(f"make demo: no enroll secret ({exc}); start the collector with `make run` first", file=sys.stderr)
        return 2
    password = os.environ.get("SHADOWMAP_ADMIN_PASSWORD")
    if not password and (var / "admin_password").exists():
        password = (var / "admin_password").read_text().strip()
    try:
        sent = seed(url, secret, password, var / KEYS_FILE, args.seed, args.github_secret, db=db)
    except DemoError as exc:
        print(f"make demo: {exc}", file=sys.stderr)
        return 1
    print(f"seeded {url}: {sent['devices']} devices, {sent['events']} events, {sent['webhooks']} GitHub deliveries, "
          f"{sent['lockouts']} console lockout{'' if sent['lockouts'] == 1 else 's'} (from {GUESSING_ADDRESS}), "
          + (f"{sent['protection']} \"Protection disabled\" alert{'' if sent['protection'] == 1 else 's'} opened by "
             "the device watch." if db else "no device watch pass (no database: --db); \"Protection disabled\" "
             "follows on the collector's next pass.")
          + f"\nOpen {url}/ (user admin).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
