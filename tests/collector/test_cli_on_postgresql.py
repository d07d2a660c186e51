"""The collector's record and report commands take a PostgreSQL --db like serve does (they
crashed on it: `'PostgresUrl' object has no attribute 'exists'`). Real processes, a real
throwaway PostgreSQL."""
from __future__ import annotations

import json
import subprocess
from pathlib import Path

from support.processes import repo_env, shadowmap_argv

from shadowmap.collector import secret_box
from shadowmap.collector.record import keys


def run(pg_url: str, env: dict[str, str], *args: str) -> str:
    done = subprocess.run(shadowmap_argv("collector", *args, "--db", pg_url), env=repo_env(env),
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, (args, done.stderr[-2000:])
    return done.stdout


def test_record_and_report_commands_run_on_postgresql(pg_url: str, tmp_path: Path) -> None:
    env = {"SHADOWMAP_SECRETS_KEY_FILE": str(tmp_path / "secrets.key"),
           "SHADOWMAP_RECORD_KEY": str(tmp_path / "record.pem")}
    secret_box.load_or_create(tmp_path / "secrets.key")  # the nodes' shared key: a command never makes one here
    run(pg_url, env, "migrate")
    sinks = tmp_path / "sinks.json"
    sinks.write_text(json.dumps([{"name": "siem", "kind": "ocsf", "url": "https://siem.example/in", "topics": ["alerts"]}]))
    assert "siem: ocsf https://siem.example/in" in run(pg_url, env, "record", "sinks", "--set", str(sinks))
    assert "OK" in run(pg_url, env, "record", "check").upper()
    report = json.loads(run(pg_url, env, "report", "weekly", "--format", "json", "--week", "2026-W45"))
    assert report["week"] == "2026-W45" and report["coverage"]["devices_enrolled"] == 0
    bundle = tmp_path / "bundle.zip"
    run(pg_url, env, "record", "export", "--from", "2026-01-01", "--to", "2027-01-01", "--out", str(bundle))
    # signed with the key $SHADOWMAP_RECORD_KEY names, as the nodes sign (not one made up here)
    pin = keys.fingerprint(keys.load_or_create_key(tmp_path / "record.pem"))
    verified = subprocess.run(shadowmap_argv("collector", "record", "verify", str(bundle), "--key-sha256", pin),
                              env=repo_env(env), capture_output=True, text=True, timeout=120)
    assert verified.returncode == 0 and verified.stdout.startswith("OK"), verified.stdout + verified.stderr
