"""Production data: internal hosts and URLs, organisation identifiers from an org config."""
import pytest

from shadowmap.detectors.engine import DetectorSettings, ScanEngine
from shadowmap.detectors.org_config import OrgConfigError, load_org_config

ORG_YAML = """\
version: 1
internal_domains: [acme.internal, intra.acme.com]
identifiers:
  - entity_type: ORG_CUSTOMER_ID
    reason: Acme customer id
    pattern: '\\bCUS-\\d{7}\\b'
    context: [customer, account]
    score: 0.4
  - entity_type: ORG_TICKET_REF
    reason: Acme support reference
    pattern: '\\bSR\\d{8}\\b'
    require_context: true
    context: [ticket]
    severity: low
"""


@pytest.fixture(scope="module")
def org_engine(tmp_path_factory) -> ScanEngine:
    path = tmp_path_factory.mktemp("org") / "org.yaml"
    path.write_text(ORG_YAML)
    return ScanEngine(DetectorSettings(org_config=str(path)))


def found(engine, text, entity_type):
    return [text[f.start:f.end] for f in engine.scan(text) if f.entity_type == entity_type]


@pytest.mark.parametrize("text, expected", [
    ("dashboards at https://grafana.ops.corp/d/abc?orgId=1 today", ["https://grafana.ops.corp/d/abc?orgId=1"]),
    ("ssh to build-7.ci.internal and check", ["build-7.ci.internal"]),
    ("see http://10.20.3.4:8080/admin.", ["http://10.20.3.4:8080/admin"]),
    ("the queue is api-3.prod.example.local", ["api-3.prod.example.local"]),
    ("wiki: https://wiki.acme.intranet/Runbooks/DB", ["https://wiki.acme.intranet/Runbooks/DB"]),
    # near misses
    ("open http://localhost:8000/admin/ locally", []),
    ("bonjour from MacBook-Pro.local", []),                 # a device name, not a service
    ("https://github.com/psf/requests/issues/1", []),
    ("listen on http://127.0.0.1:9090/metrics", []),
    ("connect to 0.0.0.0:8080", []),
    ("the public site https://acme.com/about", []),
    # RFC 1918 hosts are internal ...
    ("grafana on http://172.20.14.3:3000/d/x", ["http://172.20.14.3:3000/d/x"]),
    ("router at http://192.168.50.1/admin", ["http://192.168.50.1/admin"]),
    # ... the documentation ranges are nobody's network (RFC 5737), nor benchmarking's (RFC 2544)
    ("the manual's example: http://192.0.2.10/status", []),
    ("e.g. https://198.51.100.23:8443/api and http://203.0.113.7/", []),
    ("bench target http://198.18.0.20/", []),
])
def test_internal_urls(engine, text, expected):
    assert found(engine, text, "INTERNAL_URL") == expected


def test_bare_private_ip_is_neither_production_nor_personal(engine):
    # Only a URL makes a private address an internal host (above); bare, it numbers a machine
    # in some network (a router's 192.168.1.1, a cluster's 10.96.0.1), nobody's connection.
    assert engine.scan("server at 10.20.3.44 is down") == []
    assert [f.entity_type for f in engine.scan("server at 81.2.69.142 is down")] == ["IP_ADDRESS"]


def test_org_domains_are_internal(org_engine, engine):
    text = "see https://hr.intra.acme.com/people and db1.acme.internal"
    assert found(org_engine, text, "INTERNAL_URL") == ["https://hr.intra.acme.com/people", "db1.acme.internal"]
    assert found(engine, text, "INTERNAL_URL") == ["db1.acme.internal"]   # .internal is internal anyway


def test_org_identifier_scores_with_context(org_engine):
    text = "customer CUS-1234567 wrote again. " + "Nothing else happened that day. " * 3 + "code CUS-7654321 in a log"
    findings = [f for f in org_engine.scan(text) if f.entity_type == "ORG_CUSTOMER_ID"]
    assert [text[f.start:f.end] for f in findings] == ["CUS-1234567"]   # 0.4 without context < 0.5
    assert findings[0].data_class == "production" and findings[0].reason == "Acme customer id"
    assert findings[0].severity == "high"


def test_org_identifier_requires_context(org_engine):
    assert found(org_engine, "ticket SR12345678 is open", "ORG_TICKET_REF") == ["SR12345678"]
    assert found(org_engine, "build SR12345678 passed", "ORG_TICKET_REF") == []
    [finding] = [f for f in org_engine.scan("ticket SR12345678") if f.entity_type == "ORG_TICKET_REF"]
    assert finding.severity == "low"


@pytest.mark.parametrize("body, message", [
    ("version: 2\n", "version"),
    ("version: 1\nidentifiers: [{entity_type: CUSTOMER, pattern: 'x{3}', reason: r}]\n", "entity_type"),
    ("version: 1\nidentifiers: [{entity_type: ORG_X, pattern: '(unclosed', reason: r}]\n", "bad pattern"),
    ("version: 1\ninternal_domains: ['Not A Domain']\n", "internal_domains"),
    ("version: [\n", "cannot read"),
    ("version: 1\nsurprise: true\n", "surprise"),
])
def test_bad_org_config_is_refused(tmp_path, body, message):
    path = tmp_path / "org.yaml"
    path.write_text(body)
    with pytest.raises(OrgConfigError, match=message):
        load_org_config(path)


def test_missing_org_config_is_refused(tmp_path):
    with pytest.raises(OrgConfigError, match="cannot read"):
        load_org_config(tmp_path / "nope.yaml")
