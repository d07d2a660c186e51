"""The DNS cap of network discovery: resolving the catalog's API hosts never stalls a pass
beyond the cap (10 s) when the resolver hangs, and the addresses resolved before are kept."""
from __future__ import annotations

import threading
import time

from shadowmap.agent.config import load_config
from shadowmap.agent.discovery import network
from shadowmap.agent.discovery.service import Discovery


def api_hosts(catalog) -> list[str]:
    return [host for tool in catalog.tools for host in tool.api_domains][:network.MAX_API_DOMAINS]


def numbered(hosts: list[str], second_octet: int) -> dict[str, list[str]]:
    return {host: [f"10.{second_octet}.{i // 250}.{i % 250 + 1}"] for i, host in enumerate(hosts)}


def test_a_hanging_lookup_is_abandoned_and_the_previous_addresses_kept(catalog):
    hosts = api_hosts(catalog)
    assert len(hosts) > 10
    before = numbered(hosts, 1)
    book = network.AddressBook(catalog, before.get, refresh_seconds=3600, budget=1.0)
    book.refresh()
    assert len(book.by_address) == len(hosts) and book.limitation is None
    table = dict(book.by_address)

    release = threading.Event()
    stuck_on = hosts[5]
    after = numbered(hosts, 2)

    def hangs_on_one(host: str) -> list[str]:
        if host == stuck_on:
            release.wait(60)             # a DNS server that never answers
        return after[host]
    book.resolver = hangs_on_one
    try:
        started = time.monotonic()
        book.refresh(force=True)
        elapsed = time.monotonic() - started
        assert elapsed < 1.0 + 0.5, f"refresh took {elapsed:.2f} s with a 1 s cap"
        # the 5 hosts before the hung one were resolved again; the rest keep their old addresses
        for i, host in enumerate(hosts):
            expected = (after if i < 5 else before)[host][0]
            assert book.by_address.get(expected, (None, None))[1] == host, host
        assert len(book.by_address) == len(table)
        assert book.limitation and "5 of" in book.limitation and "previous addresses are kept" in book.limitation

        started = time.monotonic()
        book.refresh(force=True)           # goes on after the host that hung
        assert time.monotonic() - started < 1.5
        assert book.by_address.get(after[hosts[6]][0], (None, None))[1] == hosts[6]
        assert book.by_address.get(before[stuck_on][0], (None, None))[1] == stuck_on
    finally:
        release.set()


def test_discovery_pass_with_a_dead_resolver_stops_at_the_10_s_cap(tmp_path, catalog):
    """Through Discovery.network(), with the real default cap."""
    assert network.RESOLVE_BUDGET == 10.0
    hosts = api_hosts(catalog)
    good = numbered(hosts, 3)
    release = threading.Event()
    resolver = {"now": good.get}
    config = load_config(state_dir=tmp_path / "state", socket_path=tmp_path / "agent.sock", mode="user",
                         env={"SHADOWMAP_AGENT_CONFIG": ""}, dns_refresh_interval=0.001)
    discovery = Discovery(config, catalog, user="agent", org_key=lambda: b"k" * 32,
                          resolver=lambda host: resolver["now"](host), homes=[], ports={})
    try:
        discovery.network()
        assert len(discovery.book.by_address) == len(hosts) and "dns" not in discovery.limitations

        def dead(host: str) -> list[str]:
            release.wait(60)
            return []
        resolver["now"] = dead
        started = time.monotonic()
        discovery.network()
        elapsed = time.monotonic() - started
        assert 9.5 <= elapsed < 12.0, f"a pass with a dead resolver took {elapsed:.1f} s"
        assert len(discovery.book.by_address) == len(hosts)             # nothing forgotten
        assert "0 of" in discovery.limitations["dns"]
    finally:
        release.set()
