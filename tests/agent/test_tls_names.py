"""TLS server names (agent/discovery/tls_names.py): parsed from real ClientHellos that
OpenSSL writes, and read off the wire by the kernel-filtered packet sockets on loopback,
with the process that sent each hello (Linux, root: the agent's system mode)."""
from __future__ import annotations

import os
import socket
import ssl
import threading
import time

import pytest

from shadowmap.agent.discovery import network, tls_names


def client_hello(server_hostname: str | None) -> bytes:
    """The first flight OpenSSL sends for this name (no network: memory BIOs)."""
    context = ssl.create_default_context()
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    tls = context.wrap_bio(incoming, outgoing, server_hostname=server_hostname)
    with pytest.raises(ssl.SSLWantReadError):
        tls.do_handshake()
    return outgoing.read()


def test_the_server_name_is_read_from_real_hellos_and_nothing_else():
    assert tls_names.server_name(client_hello("api.acme-llm.ai")) == "api.acme-llm.ai"
    assert tls_names.server_name(client_hello("Chat.Example-GPT.COM")) == "chat.example-gpt.com"
    long_name = ".".join(["a" * 60] * 4) + ".ai"
    assert tls_names.server_name(client_hello(long_name)) == long_name
    hello = client_hello("api.acme-llm.ai")
    assert tls_names.server_name(hello[:60]) is None             # cut before its extensions
    assert tls_names.server_name(b"GET / HTTP/1.1\r\nHost: x\r\n") is None
    assert tls_names.server_name(bytes([0x16, 3, 1, 0, 5, 2]) + hello[6:]) is None  # a ServerHello's type
    context = ssl.create_default_context()
    context.check_hostname = False
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    no_name = context.wrap_bio(incoming, outgoing, server_hostname=None)
    with pytest.raises(ssl.SSLWantReadError):
        no_name.do_handshake()
    assert tls_names.server_name(outgoing.read()) is None       # no server_name extension


def test_the_filters_jumps_stay_inside_their_programs():
    for program in (tls_names._filter(None), tls_names._filter(40)):
        assert program[-2] == (0x06, 0, 0, 0xFFFF) and program[-1] == (0x06, 0, 0, 0)
        for index, (code, jt, jf, _) in enumerate(program):
            if code in (0x15, 0x45):
                assert index + 1 + max(jt, jf) <= len(program) - 1
                assert index + 1 + (jt if code == 0x45 else jf) == len(program) - 1  # their other way: drop


def test_hellos_on_the_wire_name_ai_hosts_outside_the_catalog_and_their_process():
    # packet sockets need Linux and root (CAP_NET_RAW), as the system agent has; make test runs as root
    watch = tls_names.HelloWatch(lambda host: host == "chat.openai.com" or host.endswith(".openai.com"))
    assert watch.start(), watch.limitation
    servers = []
    try:
        for family, address in ((socket.AF_INET, "127.0.0.1"), (socket.AF_INET6, "::1")):
            server = socket.socket(family)
            server.bind((address, 0))
            server.listen()
            servers.append(server)
            threading.Thread(target=_swallow, args=(server,), daemon=True).start()
        clients = {}
        for server, host in ((servers[0], "api.acme-llm.ai"), (servers[0], "static.example.com"),
                             (servers[0], "chat.openai.com"), (servers[1], "v6.gpt-helper.dev")):
            client = socket.create_connection(server.getsockname()[:2])
            clients[host] = client
            client.sendall(client_hello(host))  # a real hello, sent as a TLS client's first flight
        deadline = time.monotonic() + 5
        seen: dict[str, tls_names.Hello] = {}
        while time.monotonic() < deadline and len(seen) < 2:
            seen.update({hello.host: hello for hello in watch.take()})
            time.sleep(0.1)
        assert set(seen) == {"api.acme-llm.ai", "v6.gpt-helper.dev"}  # not the catalog's, not a plain name
        assert seen["api.acme-llm.ai"].source_port == clients["api.acme-llm.ai"].getsockname()[1]
        matches = network.tls_matches(seen.values())           # while the connections stand
        assert {(m.domain, m.pid, m.via) for m in matches} == {
            ("api.acme-llm.ai", os.getpid(), "tls_server_name"), ("v6.gpt-helper.dev", os.getpid(), "tls_server_name")}
        observed = network.observations(matches, "alice")
        assert {(o.data["domain"], o.data["matched_by"], o.data["tool_id"], o.data["source"]) for o in observed} == {
            ("api.acme-llm.ai", "tls_server_name", None, "network"), ("v6.gpt-helper.dev", "tls_server_name", None, "network")}
        for client in clients.values():
            client.close()
    finally:
        watch.close()
        for server in servers:
            server.close()


def _swallow(server: socket.socket) -> None:
    while True:
        try:
            connection, _ = server.accept()
        except OSError:
            return
        threading.Thread(target=lambda c=connection: (c.recv(65536), time.sleep(3), c.close()), daemon=True).start()
