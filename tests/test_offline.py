"""The detection engine needs no network at run time: built and used under an audit hook
that turns any connection or DNS lookup into an error, in a fresh interpreter (so nothing
was fetched or cached earlier in the test session)."""
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

SCRIPT = textwrap.dedent("""
    import json, socket, sys

    BLOCKED = {"socket.connect", "socket.getaddrinfo", "socket.gethostbyname",
               "socket.gethostbyname_ex", "urllib.Request"}
    attempts = []

    def no_network(event, args):
        if event in BLOCKED:
            attempts.append(event)
            raise RuntimeError(f"network use at run time: {event} {args!r}"[:300])

    sys.addaudithook(no_network)

    # The hook really bites: a lookup fails.
    try:
        socket.getaddrinfo("publicsuffix.org", 443)
    except RuntimeError:
        pass
    else:
        raise SystemExit("audit hook not effective")
    attempts.clear()

    from shadowmap.detectors.engine import DetectorSettings, ScanEngine
    engine = ScanEngine(DetectorSettings())
    text = ("Hi, this is Maria Garcia. Mail me at maria.garcia@acme-corp.co.uk or see "
            "https://intranet.acme-corp.co.uk/wiki/page about host 81.2.69.160.")
    findings = engine.scan(text)
    print(json.dumps({"types": sorted({f.entity_type for f in findings}), "attempts": attempts}))
""")


def test_engine_builds_and_scans_without_network(tmp_path):
    # An empty tldextract cache: stock tldextract would now have to download the
    # public-suffix list (and the hook would fail the scan).
    env = {**os.environ, "TLDEXTRACT_CACHE": str(tmp_path / "tldextract"), "HOME": str(tmp_path)}
    result = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True,
                            cwd=ROOT, env=env, timeout=180)
    assert result.returncode == 0, result.stderr[-3000:]
    out = json.loads(result.stdout.strip().splitlines()[-1])
    assert out["attempts"] == []
    assert {"EMAIL_ADDRESS", "PERSON", "IP_ADDRESS"} <= set(out["types"])
