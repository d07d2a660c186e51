"""Real Chromium, real extension, real native host, and NO agent: a paste must be stopped
with the "could not check" banner rather than slip through unchecked."""
from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser


def test_paste_is_blocked_with_a_clear_banner_when_the_agent_is_down(launch_chromium, short_dir, tmp_path, ui):
    udd = tmp_path / "profile"
    ui.install_bridge(udd, short_dir / "no-agent.sock", tmp_path / "bin")
    context = launch_chromium(udd)
    page = ui.open(context, "https://chatgpt.com/")
    for selector in ("#ta", "#pm"):
        assert ui.paste(page, selector, "hello from a harmless paste") == "error"
        assert ui.banner_kind(page) == "error"
        assert "could not check this paste" in ui.banner_text(page)
        assert ui.text(page, selector) == ""
    # the page cannot read the banner: its shadow root is closed
    assert page.evaluate("document.querySelector('shadowmap-banner').shadowRoot") is None
