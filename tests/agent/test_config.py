"""Config precedence: CLI options over environment over enrollment.json over defaults."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

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
