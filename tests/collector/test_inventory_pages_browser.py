"""The devices, MCP servers and browser extensions pages in the real browser (Debian's Chromium
through Playwright) against a real `shadowmap collector serve` process: first empty (each
page says what to do next), then seeded by `make demo`'s seeder and a few more agent events
through the public API. Each page: the current page marked in the navigation, 0 serious or
critical axe-core violations (WCAG 2.0-2.2 A/AA), its tables readable at 1440 px and at
390 px (no column narrower than its header word, no sideways scrolling), and a full-page
screenshot in tests/collector/artifacts/ (devices*, device-*, mcp-servers*, extensions*)."""
from __future__ import annotations

import json
import urllib.request
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Page, sync_playwright
from support.processes import start_collector
from support.table_readability import unreadable

from shadowmap.demo import seed

CHROMIUM = "/usr/lib/chromium/chromium"
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
AXE = Path(__file__).resolve().parents[1] / "tooling" / "axe" / "node_modules" / "axe-core" / "axe.min.js"
PASSWORD = "inventory pages browser password"
WCAG = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
PAGES = {"/devices": "Devices", "/mcp-servers": "MCP servers", "/extensions": "Extensions"}

pytestmark = pytest.mark.browser


def _post(url: str, body: dict, headers: dict | None = None) -> dict:
    request = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/json", **(headers or {})})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def _more_agent_events(url: str, enroll_secret: str) -> None:
    """A user-mode agent with AI browser extensions (one sideloaded) and an MCP server reached over HTTP."""
    enrolled = _post(url + "/api/v1/enroll", {"enroll_secret": enroll_secret, "host_identifier": "lab-1",
                                              "hostname": "eng-lab-thinkpad-x1-carbon", "os": "Linux",
                                              "mode": "user", "os_user": "quinn"})
    device_id = enrolled["device_id"]
    now = datetime.now(UTC)

    def event(type_: str, data: dict, ago: timedelta) -> dict:
        return {"schema": "shadowmap.event/1", "id": str(uuid.uuid4()), "type": type_, "device_id": device_id,
                "user": "quinn", "ts": (now - ago).isoformat(timespec="milliseconds").replace("+00:00", "Z"), "data": data}
    events = [
        event("agent.heartbeat", {"agent_version": "1.1.0-rc.2", "hostname": "eng-lab-thinkpad-x1-carbon", "os": "Linux",
                                  "os_version": "Ubuntu 24.04", "spool_depth": 240, "users": ["quinn"],
                                  "extensions": [{"browser": "brave", "profile": "Profile 3", "state": "missing"}]},
              timedelta(minutes=3)),
        event("browser_extension.observed", {
            "browser": "chrome", "profile": "Default", "profile_user": "quinn", "extension_id": "ghbmnnjooekpmoecnnnilnnbdlolhkhi",
            "name": "Sider: ChatGPT Sidebar + GPT-4o, Claude 3.5, Gemini", "version": "4.20.0", "enabled": True,
            "permissions": ["<all_urls>", "storage"], "all_sites": True,
            "risks": [{"flag": "sideloaded_extension", "evidence": "loaded unpacked from /home/quinn/Downloads/sider"}]},
              timedelta(hours=5)),
        event("browser_extension.observed", {
            "browser": "chrome", "profile": "Default", "profile_user": "quinn", "extension_id": "amfoljhgnpcgcpcmdbkihapbcmjcdpdn",
            "name": "Claude", "tool_id": "claude", "enabled": False, "permissions": ["https://claude.ai/*"],
            "ai_hosts": ["claude.ai"]}, timedelta(days=1)),
        event("mcp_server.observed", {
            "tool_id": "cursor", "config_path": "/home/quinn/.cursor/mcp.json", "name": "linear", "transport": "sse",
            "url_origin": "https://mcp.linear.app", "risks": [{"flag": "network_egress", "evidence": "reaches mcp.linear.app"}]},
              timedelta(hours=2)),
    ]
    reply = _post(url + "/api/v1/events", {"events": events}, {"Authorization": f"Bearer {enrolled['node_key']}"})
    assert reply["rejected"] == []


def _violations(page: Page) -> list[str]:
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", WCAG)
    assert any(rule["id"] == "color-contrast" for rule in result["passes"] + result["violations"])  # it looked
    return [f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
            for v in result["violations"] if v["impact"] in ("serious", "critical")]


def _check(page: Page, url: str, name: str, found: dict[str, list[str]], current: str) -> None:
    """Open a page: its nav marker, axe, readability at 1440 px, its screenshot."""
    page.set_viewport_size({"width": 1440, "height": 900})
    page.goto(url)
    assert page.locator("nav.main a[aria-current=page]").all_inner_texts() == [current], url
    found[name] = _violations(page) + unreadable(page, "table.queue")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def _check_phone(page: Page, url: str, name: str, found: dict[str, list[str]]) -> None:
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(url)
    found[name] = _violations(page) + unreadable(page, "table.queue")
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def test_devices_mcp_servers_and_extensions_in_a_real_browser(tmp_path: Path):
    assert AXE.exists(), "axe-core is missing: npm ci --prefix tests/tooling/axe (make test does it)"
    with start_collector(tmp_path, PASSWORD) as collector, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True,
                                     args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        try:
            # the console forbids scripts (CSP); only axe's own injection is let through
            page = browser.new_context(bypass_csp=True, viewport={"width": 1440, "height": 900}).new_page()
            page.set_default_timeout(20000)
            page.goto(collector.url + "/devices")  # asked for before signing in: back here after
            page.fill("input[name=username]", "admin")
            page.fill("input[name=password]", PASSWORD)
            page.click("button[type=submit]")
            page.wait_for_url("**/devices")
            found: dict[str, list[str]] = {}
            for path, label in PAGES.items():  # empty: each page says what to do next
                name = path.strip("/") + "-empty"
                _check(page, collector.url + path, name, found, label)
                assert page.locator("#next-steps a[href='/admin']").count() >= 1, path
                assert "make demo" in page.locator("#next-steps").inner_text()

            seed(collector.url, collector.enroll_secret, PASSWORD, tmp_path / "keys.json")
            _more_agent_events(collector.url, collector.enroll_secret)

            _check(page, collector.url + "/devices", "devices", found, "Devices")
            assert page.locator("table#devices tbody tr").count() == 14  # 12 laptops, the silent spare, the lab
            assert "1 protection off" not in page.locator("#protection-counts").inner_text()  # the demo has several
            off_row = page.locator("table#devices tbody tr:has(td.state-off)").first
            assert off_row.count() == 1
            host = page.locator("table#devices tbody tr:has-text('eng-lab-thinkpad-x1-carbon')")
            assert "brave Profile 3: missing" in host.inner_text() and "240" in host.inner_text()
            page.fill("input[name=q]", "ops-")
            page.click("form.filters button[type=submit]")
            hosts = page.locator("table#devices td[data-label=Host] a").all_inner_texts()
            assert hosts and all(h.startswith("ops-") for h in hosts)
            _check(page, collector.url + "/devices?protection=sometimes&q=ops", "devices-filter-error", found, "Devices")
            assert page.locator("#filter-errors").is_visible() and page.locator("input[name=q]").input_value() == "ops"

            page.goto(collector.url + "/devices?protection=off")
            page.locator("table#devices td[data-label=Host] a").first.click()
            page.wait_for_url("**/devices/*")
            device_url = page.url
            _check(page, device_url, "device-protection-off", found, "Devices")
            assert page.locator("#protection .state-off").inner_text() == "off"
            assert page.locator("table#device-alerts tbody a[href^='/alerts/']").count() >= 1
            page.locator("a:has-text('Open these in the alerts queue')").click()
            page.wait_for_url("**/alerts?*")
            assert page.locator("table.queue tbody tr").count() >= 1

            _check(page, collector.url + "/mcp-servers", "mcp-servers", found, "MCP servers")
            first = page.locator("table#mcp-servers tbody tr").first
            assert "deploy-tools" in first.inner_text() and "npx @acme/deploy-mcp" in first.inner_text()
            first.locator("td[data-label=Alerts] a").first.click()
            page.wait_for_url("**/alerts/*")
            assert "deploy-tools" in page.locator("main").inner_text()
            page.goto(collector.url + "/mcp-servers?transport=sse")
            assert page.locator("table#mcp-servers tbody tr").all_inner_texts()[0].count("linear") >= 1

            _check(page, collector.url + "/extensions", "extensions", found, "Extensions")
            first = page.locator("table#extensions tbody tr").first
            assert "Sider" in first.inner_text() and "sideloaded" in first.inner_text()
            assert first.locator("td[data-label=Alerts] a").count() == 1

            for path in (*PAGES, device_url.removeprefix(collector.url)):
                name = ("device" if path.startswith("/devices/") else path.strip("/")) + "-390"
                _check_phone(page, collector.url + path, name, found)
            bad = {name: v for name, v in found.items() if v}
            assert not bad, json.dumps(bad, indent=1)
        finally:
            browser.close()
