"""Config precedence: CLI options over environment over enrollment.json over defaults; the
settings table and the CLI options, managed keys and docs made from it."""
from __future__ import annotations

import json
import os
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from shadowmap.agent import settings
from shadowmap.agent.cli import agent as agent_group
from shadowmap.agent.config import AgentConfig, load_config


def test_defaults_per_mode():
    user = load_config(mode="user", env={"XDG_RUNTIME_DIR": "/run/user/1000"})
    assert user.socket_path == Path("/run/user/1000/shadowmap/agent.sock")
    assert user.state_dir == Path.home() / ".local" / "state" / "shadowmap"
    assert user.spool_max_bytes == 50 * 1024 * 1024
    system = load_config(mode="system", env={})
    assert system.socket_path == Path("/run/shadowmap/agent.sock")
    assert system.state_dir == Path("/var/lib/shadowmap")
    assert load_config(mode="user", env={}).socket_path == Path("/run/shadowmap/agent.sock")


def test_env_then_options_then_enrollment(tmp_path):
    state = tmp_path / "state"
    state.mkdir()
    (state / "enrollment.json").write_text(json.dumps({"collector_url": "http://enrolled:1/"}))
    env = {"SHADOWMAP_STATE_DIR": str(state), "SHADOWMAP_AGENT_SOCKET": str(tmp_path / "s.sock"),
           "SHADOWMAP_UPLOAD_INTERVAL": "0.25"}
    cfg = load_config(env=env, mode="user")
    assert (cfg.state_dir, cfg.socket_path) == (state, tmp_path / "s.sock")
    assert cfg.collector_url == "http://enrolled:1"
    assert cfg.upload_interval == 0.25
    env["SHADOWMAP_COLLECTOR_URL"] = "http://env:2"
    assert load_config(env=env, mode="user").collector_url == "http://env:2"
    cfg = load_config(collector_url="http://cli:3", env=env, mode="user", upload_interval=1.5)
    assert (cfg.collector_url, cfg.upload_interval) == ("http://cli:3", 1.5)
    assert isinstance(cfg, AgentConfig) and cfg.spool_path == state / "spool.db"


def test_bad_values_are_clear_errors():
    with pytest.raises(ValueError, match="SHADOWMAP_UPLOAD_INTERVAL"):
        load_config(mode="user", env={"SHADOWMAP_UPLOAD_INTERVAL": "soon"})
    with pytest.raises(ValueError, match="mode"):
        load_config(mode="laptop", env={})


# ---- the settings table (agent/settings.py) and what is made from it ----

# what a value of each kind looks like in the environment / on the command line, and in the config
SAMPLES = {float: ("2.5", 2.5), int: ("7", 7), bool: ("false", False), tuple: (f"a{os.pathsep}b", ("a", "b"))}


def test_every_field_of_agent_config_is_a_row_of_the_table():
    assert [s.name for s in settings.SETTINGS] == [f for f in AgentConfig.__dataclass_fields__]
    assert set(settings.MANAGED_KEYS) == set(AgentConfig.__dataclass_fields__)
    assert len({s.env for s in settings.SETTINGS}) == len({s.flag for s in settings.SETTINGS}) == len(settings.SETTINGS)
    assert all(s.env.startswith("SHADOWMAP_") and s.help for s in settings.SETTINGS)
    defaults = load_config(mode="user", env={})
    for s in settings.SETTINGS:
        if s.default is not None and not s.default_doc:
            assert getattr(defaults, s.name) == s.default, s.name


def test_the_settings_table_in_markdown():
    table = settings.settings_markdown()
    lines = table.splitlines()
    assert len(lines) == 2 + len(settings.SETTINGS) and table.endswith("\n")
    for row, line in zip(settings.SETTINGS, lines[2:], strict=True):
        assert line.startswith(f"| `{row.name}` | `{row.env}` | `{row.flag}`"), line
        assert line.count(" | ") == 4, line       # five cells: no "|" inside one


@pytest.mark.parametrize("row", [s for s in settings.SETTINGS if not s.text], ids=lambda s: s.name)
def test_each_tunable_from_the_environment_the_option_and_the_managed_file(tmp_path, row):
    text, value = SAMPLES[row.kind]
    base = {"SHADOWMAP_AGENT_CONFIG": ""}
    assert getattr(load_config(mode="user", env={**base, row.env: text}, state_dir=tmp_path), row.name) == value
    managed = tmp_path / "agent.toml"
    managed.write_text(f"{row.name} = {text!r}\n")
    from_file = load_config(mode="user", env={"SHADOWMAP_AGENT_CONFIG": str(managed)}, state_dir=tmp_path)
    assert getattr(from_file, row.name) == value

    @click.command()
    @settings.cli_options()
    def probe(**given):
        click.echo(repr(getattr(load_config(env=base, **{**given, "mode": "user", "state_dir": tmp_path}), row.name)))

    if row.kind is bool:
        args = [f"--no-{row.flag[2:]}"]
    elif row.kind is tuple:
        args = [row.flag, "a", row.flag, "b"]
    else:
        args = [row.flag, text]
    result = CliRunner().invoke(probe, args)
    assert result.exit_code == 0, result.output
    assert result.output.strip() == repr(value)
    assert CliRunner().invoke(probe, []).output.strip() == repr(row.default)   # not given: the default


def test_the_agent_commands_keep_their_options():
    def options(command: str) -> set[str]:
        return {opt for p in agent_group.commands[command].params for opt in (*p.opts, *p.secondary_opts)}

    assert {"--state-dir", "--socket", "--collector", "--mode", "--enroll-secret-file", "--upload-interval",
            "--backoff-max", "--heartbeat-interval", "--policy-refresh-interval"} <= options("run")
    assert {s.flag for s in settings.SETTINGS} <= options("run")
    assert options("status") >= {"--state-dir", "--socket"}
    assert options("enroll") >= {"--collector", "--secret-file", "--state-dir"}
    assert "--state-dir" in options("inventory")
    collector = next(p for p in agent_group.commands["enroll"].params if p.name == "collector_url")
    assert collector.required


def test_text_settings_from_the_command_line(tmp_path):
    @click.command()
    @settings.cli_options("state_dir", "socket_path", "collector_url", "mode", "enroll_secret_file")
    def probe(**given):
        cfg = load_config(env={"SHADOWMAP_AGENT_CONFIG": ""}, **given)
        click.echo(f"{cfg.state_dir}|{cfg.socket_path}|{cfg.collector_url}|{cfg.mode}|{cfg.enroll_secret_file}")

    result = CliRunner().invoke(probe, ["--state-dir", str(tmp_path / "s"), "--socket", str(tmp_path / "a.sock"),
                                        "--collector", "http://c:1/", "--mode", "system",
                                        "--enroll-secret-file", str(tmp_path / "secret")])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == f"{tmp_path / 's'}|{tmp_path / 'a.sock'}|http://c:1|system|{tmp_path / 'secret'}"
    assert CliRunner().invoke(probe, ["--mode", "laptop"]).exit_code == 2
