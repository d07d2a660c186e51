"""The agent's footprint: a real `shadowmap agent run` (NER model loaded, discovery on, a
home with AI tool configs and a workspace, browser profiles, AI-browser folders, and a
system with a browser policy force-installing the extension and the AI tools' managed
settings), measured from outside with psutil.

The system-wide files (/etc/chromium and /etc/opt/chrome policies, /etc/claude-code,
/etc/codex, /etc/vscode, /etc/github-copilot) are given to the agent alone: it runs in a
private mount namespace whose /etc is an overlay of the machine's (unshare + overlayfs, as
root); the machine's /etc is never written. Where that is not possible (not root, not
Linux) the agent runs without them, and the bench says so.

  idle   CPU % of one core and RSS over --seconds with nothing happening
  burst  the same while a workspace's .env and an MCP config are rewritten --changes times
Reference, measured in the same run: the same agent with discovery off (SHADOWMAP_DISCOVERY=0),
so the ratio shows what discovery costs. Budget (DESIGN.md): idle <= 0.5 % of one core,
RSS <= 200 MB with the model loaded.

    .venv/bin/python bench/agent_footprint.py [--seconds 60] [--changes 200]
    .venv/bin/python bench/agent_footprint.py --smoke    # 1 s windows, 10 changes, both agents started at once
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

from shadowmap.contract.host import CHROMIUM_EXTENSION_ID, HOST_NAME, LINUX_POLICY_DIRS, MANAGED_STORAGE_DEFAULTS

REPO = Path(__file__).resolve().parents[1]
IDLE_BUDGET_PERCENT = 0.5
RSS_BUDGET_MB = 200.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def make_home(root: Path) -> Path:
    home = root / "home" / "bench"
    (home / ".cursor").mkdir(parents=True)
    (home / ".cursor" / "mcp.json").write_text(json.dumps({"mcpServers": {
        "db": {"command": "npx", "args": ["-y", "@modelcontextprotocol/server-postgres"]}}}))
    project = home / "src" / "app"
    project.mkdir(parents=True)
    (project / "CLAUDE.md").write_text("notes\n")
    (project / ".env").write_text("DEBUG=1\n")
    (project / ".git").mkdir()                  # a repository (files only: git is never run)
    (project / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    (project / ".git" / "config").write_text('[remote "origin"]\n\turl = git@github.com:acme/app.git\n')
    window = home / ".config" / "Code" / "User" / "workspaceStorage" / "0123abcd"
    window.mkdir(parents=True)                  # VS Code remembers the project
    (window / "workspace.json").write_text(json.dumps({"folder": project.as_uri()}))
    (home / ".config" / "Code" / "User" / "settings.json").write_text('{\n  "chat.tools.global.autoApprove": true,\n}\n')
    # browser profiles: Chrome with the extension (the policy below force-installs it), a
    # second profile without it, Chromium with it disabled; each with an AI extension of its own
    for browser, profile, ours, state in ((".config/google-chrome", "Default", True, 1),
                                          (".config/google-chrome", "Profile 1", False, 1),
                                          (".config/chromium", "Default", True, 0)):
        folder = home / browser / profile
        settings = {}
        for ext_id, name in ((CHROMIUM_EXTENSION_ID, "shadowmap") if ours else (None, None),
                             ("ofpnmcalabcbjgholdjcjblkibolbppb", "Monica")):
            if ext_id is None:
                continue
            version_dir = folder / "Extensions" / ext_id / "1.0.0_0"
            version_dir.mkdir(parents=True)
            (version_dir / "manifest.json").write_text(json.dumps(
                {"manifest_version": 3, "name": name, "version": "1.0.0", "host_permissions": ["https://*/*"]}))
            settings[ext_id] = {"state": state, "location": 1, "path": f"{ext_id}/1.0.0_0"}
        (folder / "Preferences").write_text(json.dumps({"extensions": {"settings": settings}}))
    # AI browsers, where their facts (detectors/data/ai_browsers.yaml) put them: none ships for
    # Linux, so these are read when the bench runs on macOS (Library/...) or Windows (AppData/...)
    for rel in ("Library/Application Support/Comet/Default", "Library/Application Support/Dia/User Data/Default",
                "Library/Application Support/com.openai.atlas/browser-data/host/user-1/Default",
                "Library/Application Support/com.operasoftware.OperaNeon/Default",
                "AppData/Local/Perplexity/Comet/User Data/Default"):
        (home / rel).mkdir(parents=True)
        (home / rel / "Preferences").write_text(json.dumps({"extensions": {"settings": {}}}))
    return home


def make_system(root: Path) -> Path:
    """The upper layer of the agent's private /etc: a Chrome and a Chromium policy force-installing
    the extension (with its managed storage), and managed settings for Claude Code, Codex, VS
    Code and GitHub Copilot."""
    upper = root / "etc-upper"
    policy = {"ExtensionInstallForcelist": [f"{CHROMIUM_EXTENSION_ID};https://clients2.google.com/service/update2/crx"],
              "NativeMessagingAllowlist": [HOST_NAME],
              "3rdparty": {"extensions": {CHROMIUM_EXTENSION_ID: dict(MANAGED_STORAGE_DEFAULTS)}}}
    for browser in ("chrome", "chromium"):
        folder = upper / LINUX_POLICY_DIRS[browser].removeprefix("/etc/")
        folder.mkdir(parents=True)
        (folder / "shadowmap.json").write_text(json.dumps(policy))
    files = {
        "claude-code/managed-settings.json": json.dumps({
            "disableBypassPermissionsMode": "disable", "allowedMcpServers": [{"serverName": "github"}],
            "deniedMcpServers": [{"serverName": "filesystem"}]}),
        "codex/requirements.toml": 'allowed_approval_policies = ["untrusted", "on-request"]\n'
                                   'allowed_sandbox_modes = ["read-only", "workspace-write"]\n',
        "vscode/policy.json": json.dumps({"ChatToolsAutoApprove": False, "ChatMCP": "all"}),
        "github-copilot/managed-settings.json": json.dumps({"deniedMcpServers": [{"serverName": "db"}]}),
    }
    for rel, text in files.items():
        (upper / rel).parent.mkdir(parents=True, exist_ok=True)
        (upper / rel).write_text(text)
    return upper


def private_etc(root: Path, upper: Path) -> list[str] | None:
    """The argv prefix that runs a command with /etc overlaid by ``upper`` in a mount namespace
    of its own, or None where that cannot be done here."""
    if not sys.platform.startswith("linux") or os.geteuid() != 0 or not shutil.which("unshare"):
        return None
    # each mount its own copy of the upper layer and its own work dir: two agents run at once,
    # and overlays sharing them race (mount failed now and then with ENOENT, "special device
    # overlay does not exist"; the kernel logs both dirs "in-use … undefined behavior")
    mount = (f'u=$(mktemp -d -p "{root}") && w=$(mktemp -d -p "{root}") && cp -a "{upper}/." "$u" && '
             'mount -t overlay overlay -o "lowerdir=/etc,upperdir=$u,workdir=$w" /etc && exec "$@"')
    prefix = ["unshare", "--mount", "--propagation", "private", "sh", "-c", mount, "sh"]
    probe = subprocess.run([*prefix, "test", "-f", "/etc/claude-code/managed-settings.json"], timeout=30)
    return prefix if probe.returncode == 0 else None


def spawn_agent(root: Path, home: Path, discovery: bool, prefix: list[str] | None = None) -> subprocess.Popen:
    state = root / ("state-on" if discovery else "state-off")
    env = {**os.environ, "PYTHONPATH": str(REPO), "SHADOWMAP_AGENT_CONFIG": "",
           "SHADOWMAP_DISCOVERY": "1" if discovery else "0", "SHADOWMAP_DISCOVERY_HOMES": str(home),
           "SHADOWMAP_WORKSPACE_ROOTS": str(home / "src")}
    with open(agent_log(root, discovery), "w") as log:  # the child keeps its own copy of the descriptor
        return subprocess.Popen(
            [*(prefix or []), sys.executable, "-m", "shadowmap.cli", "agent", "run", "--state-dir", str(state),
             "--socket", str(root / f"agent-{discovery}.sock"),
             "--collector", f"http://127.0.0.1:{free_port()}"],      # collector down: uploads back off
            cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=log, text=True)


def agent_log(root: Path, discovery: bool) -> Path:
    """Where an agent's stderr goes (its tail is shown when it does not start)."""
    return root / f"agent-{discovery}.log"


def wait_ready(proc: subprocess.Popen, log: Path | None = None) -> subprocess.Popen:
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if line.startswith("agent ready on"):
            return proc
        if not line and proc.poll() is not None:
            break
    proc.kill()
    tail = log.read_text(errors="replace")[-2000:] if log is not None and log.exists() else ""
    raise SystemExit(f"the agent did not start (exit code {proc.poll()}); its log ends:\n{tail}")


def measure(proc: psutil.Process, seconds: float, during=None) -> tuple[float, float]:
    """CPU % of one core over the window, and the peak RSS (MB) sampled each second."""
    start_cpu = sum(proc.cpu_times()[:2])
    start = time.monotonic()
    peak = 0.0
    while time.monotonic() - start < seconds:
        if during:
            during()
        peak = max(peak, proc.memory_info().rss / 2**20)
        time.sleep(0.05 if during else 1.0)
    cpu = sum(proc.cpu_times()[:2]) - start_cpu
    return 100.0 * cpu / (time.monotonic() - start), peak


def run(agent: subprocess.Popen, home: Path, seconds: float, changes: int, warm_up: float = 10.0,
        burst_seconds: float | None = None, log: Path | None = None) -> dict:
    try:
        wait_ready(agent, log)
        proc = psutil.Process(agent.pid)
        time.sleep(warm_up)                                # first discovery pass, warm-up
        idle_cpu, idle_rss = measure(proc, seconds)
        env_file = home / "src" / "app" / ".env"
        written = [0]

        def burst() -> None:
            if written[0] < changes:
                env_file.write_text(f"DEBUG={written[0]}\n")
                written[0] += 1
        burst_cpu, burst_rss = measure(proc, burst_seconds or max(15.0, changes * 0.05 + 5), during=burst)
        return {"idle_cpu": idle_cpu, "idle_rss": idle_rss, "burst_cpu": burst_cpu, "burst_rss": burst_rss}
    finally:
        agent.terminate()
        try:
            agent.wait(timeout=30)
        except subprocess.TimeoutExpired:
            agent.kill()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--changes", type=int, default=200)
    parser.add_argument("--smoke", action="store_true", help="1 s windows and 10 changes, both agents loading at "
                        "once (checks the bench runs; the figures are not the budget's)")
    args = parser.parse_args()
    if args.smoke:
        args.seconds, args.changes = 1.0, 10
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        home = make_home(root)
        prefix = private_etc(root, make_system(root))
        print("system files (browser policy, managed settings): "
              + ("in the agent's private /etc" if prefix else "NOT given (needs root and unshare on Linux)"))
        if args.smoke:  # both load the model at once; then measured one after the other
            agents = {discovery: spawn_agent(root, home, discovery, prefix) for discovery in (True, False)}
            try:
                on, off = (run(agent, home, args.seconds, args.changes, warm_up=0.5, burst_seconds=1.0,
                               log=agent_log(root, discovery))
                           for discovery, agent in agents.items())
            finally:
                for agent in agents.values():
                    agent.kill()
        else:
            on = run(spawn_agent(root, home, True, prefix), home, args.seconds, args.changes, log=agent_log(root, True))
            off = run(spawn_agent(root, home, False, prefix), home, args.seconds, args.changes,
                      log=agent_log(root, False))
    print(f"agent footprint ({args.seconds:.0f} s idle, burst of {args.changes} file changes)")
    print(f"machine: {os.cpu_count()} cores, load average (1 min) {load_before[0]:.1f} before, "
          f"{os.getloadavg()[0]:.1f} after")
    print(f"{'':24}{'discovery on':>14}{'reference: off':>16}{'ratio':>8}")
    for key, label in (("idle_cpu", "idle CPU % of a core"), ("idle_rss", "idle RSS MB (peak)"),
                       ("burst_cpu", "burst CPU % of a core"), ("burst_rss", "burst RSS MB (peak)")):
        ratio = on[key] / off[key] if off[key] else float("inf")
        print(f"{label:<24}{on[key]:>14.2f}{off[key]:>16.2f}{ratio:>8.2f}")
    print(f"idle CPU vs budget {IDLE_BUDGET_PERCENT} %: {on['idle_cpu'] / IDLE_BUDGET_PERCENT:.2f}x; "
          f"RSS vs budget {RSS_BUDGET_MB:.0f} MB: {on['idle_rss'] / RSS_BUDGET_MB:.2f}x")
    if args.smoke:  # a broken bench must fail: both agents ran and were measured
        if not all(result["idle_rss"] > 0 for result in (on, off)):
            raise SystemExit("smoke: an agent was not measured")
        print("smoke: ok (too short for the budget to mean anything)")


if __name__ == "__main__":
    main()
