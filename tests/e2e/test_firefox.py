"""The Firefox build in Debian's real Firefox ESR: installed as a temporary add-on over
WebDriver BiDi, its native host registered for Firefox by the real `shadowmap bridge
install --browser firefox` (allowed_extensions, under the test's own HOME), a catalogued AI
hostname (chatgpt.com, resolved to the local test server), and trusted typing
(input.performActions): a prompt with a planted AWS key is blocked at Enter, a harmless
one is sent, Ctrl+Enter in the real ProseMirror editor is checked too, and every prompt
reached the agent through the native host."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from extension_bridge.build_extension import FIREFOX_ADDON_ID, build_firefox

from e2e.firefox_bidi import FIREFOX, BiDi, launch_firefox

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(not Path(FIREFOX).exists(),
                                 reason="Debian's firefox-esr is not installed (apt-get install firefox-esr)")]

REPO = Path(__file__).resolve().parents[2]
SECRET_VALUE = "AKIAQ7ZXW3RT5YUP2MNB"   # the scripted agent blocks on "AKIA"
ENTER, CONTROL = "\ue007", "\ue009"


def install_firefox_bridge(home: Path, socket_path: Path, launcher_dir: Path) -> Path:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHADOWMAP_")}
    subprocess.run([sys.executable, "-m", "shadowmap.cli", "bridge", "install", "--browser", "firefox",
                    "--scope", "user", "--socket", str(socket_path), "--launcher-dir", str(launcher_dir)],
                   check=True, capture_output=True, env={**env, "HOME": str(home)}, cwd=REPO, timeout=60)
    return home / ".mozilla" / "native-messaging-hosts" / "com.shadowmap.bridge.json"


@pytest.fixture
def firefox(tmp_path, scripted_agent):
    home = tmp_path / "home"
    manifest = install_firefox_bridge(home, scripted_agent.path, tmp_path / "bin")
    assert FIREFOX_ADDON_ID in manifest.read_text()
    proc, port = launch_firefox(tmp_path / "profile", home, tmp_path / "firefox.log")
    bidi = None
    try:
        bidi = BiDi(port)
        bidi.command("session.new", capabilities={"alwaysMatch": {"acceptInsecureCerts": True}})
        yield bidi, build_firefox(tmp_path / "addon").parent
    finally:
        if bidi is not None:
            bidi.close()
        proc.stop(timeout=20)


def test_firefox_blocks_a_typed_secret_at_enter(firefox, https_port, scripted_agent):
    bidi, addon_dir = firefox
    installed = bidi.command("webExtension.install", extensionData={"type": "path", "path": str(addon_dir)})
    assert installed["extension"] == FIREFOX_ADDON_ID
    context = bidi.command("browsingContext.getTree")["contexts"][0]["context"]
    bidi.command("browsingContext.navigate", context=context, url=f"https://chatgpt.com:{https_port}/", wait="complete")
    bidi.wait_for(context, "document.documentElement.dataset.shadowmapLoaded === '1' && window.pageReady === true")

    bidi.evaluate(context, "document.getElementById('ta').focus()")
    bidi.type_keys(context, f"key {SECRET_VALUE}{ENTER}")
    assert bidi.wait_for(context, "document.documentElement.dataset.shadowmapDecision") == "block"
    assert bidi.evaluate(context, "window.sent") == []
    assert bidi.evaluate(context, "document.getElementById('ta').value") == f"key {SECRET_VALUE}"

    bidi.evaluate(context, "(() => { const ta = document.getElementById('ta'); ta.value = ''; ta.focus();"
                           " delete document.documentElement.dataset.shadowmapDecision; })()")
    bidi.type_keys(context, f"plan the offsite{ENTER}")
    assert bidi.wait_for(context, "document.documentElement.dataset.shadowmapDecision") == "allow"
    assert bidi.wait_for(context, "window.sent.length === 1 && window.sent") == [{"from": "ta", "text": "plan the offsite"}]

    # the real ProseMirror editor where Enter makes a new line: Ctrl+Enter sends, checked first
    bidi.evaluate(context, "delete document.documentElement.dataset.shadowmapDecision")
    bidi.click(context, "#pm2 .ProseMirror")
    bidi.type_keys(context, f"deploy with {SECRET_VALUE}")
    bidi.chord(context, CONTROL, ENTER)
    assert bidi.wait_for(context, "document.documentElement.dataset.shadowmapDecision") == "block"
    assert bidi.evaluate(context, "window.pm2Text()") == f"deploy with {SECRET_VALUE}"
    assert bidi.evaluate(context, "window.sent.length") == 1

    scans = scripted_agent.requests("scan")
    assert [(s["channel"], s["text"]) for s in scans] == [
        ("submit", f"key {SECRET_VALUE}"), ("submit", "plan the offsite"), ("submit", f"deploy with {SECRET_VALUE}")]
