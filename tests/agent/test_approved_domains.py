"""The agent hands the extension the hosts of the policy's approved tools (the collector's
catalog overlay) in its policy reply, over the real socket: the extension registers its
guard on them (extension/dynamic_guard.js). A policy without approved tools sends none, so
the extension removes what it registered."""
from __future__ import annotations

from shadowmap import contract
from shadowmap.agent.enroll import EnrollmentHolder
from shadowmap.agent.handlers import RequestHandlers
from shadowmap.agent.ipc import IPCServer
from shadowmap.agent.policy import MAX_APPROVED_DOMAINS, PolicyStore, approved_domains
from shadowmap.agent.spool import Spool

APPROVED = [{"id": "acme-ai", "vendor": "Acme AI", "domains": ["chat.acme-ai.example", "eu.acme-ai.example"],
             "process_names": []},
            {"id": "llm-playground", "domains": ["llm-playground.example.net", "chat.acme-ai.example"]}]


def policy_reply(tmp_path, engine, catalog, summarize, connect, policy_doc: dict) -> dict:
    state = tmp_path / "state"
    state.mkdir(exist_ok=True)
    spool, policy = Spool(state / "spool.db"), PolicyStore(state / "policy.json")
    assert policy.accept(policy_doc, '"p1"')
    server = IPCServer(tmp_path / "run" / "agent.sock",
                       RequestHandlers(engine, catalog, summarize, policy, spool, EnrollmentHolder(state)).handle,
                       mode="user")
    server.start()
    try:
        reply = connect(server.path).request({"type": "policy"})
    finally:
        server.stop()
        spool.close()
    contract.validate_ipc_reply(reply)
    return reply


def test_the_policy_reply_names_the_approved_hosts(tmp_path, engine, catalog, summarize, connect):
    reply = policy_reply(tmp_path, engine, catalog, summarize, connect,
                         {**contract.default_policy(), "approved_tools": APPROVED})
    assert reply["approved_domains"] == ["chat.acme-ai.example", "eu.acme-ai.example", "llm-playground.example.net"]


def test_without_approved_tools_the_reply_names_none(tmp_path, engine, catalog, summarize, connect):
    reply = policy_reply(tmp_path, engine, catalog, summarize, connect, contract.default_policy())
    assert "approved_domains" not in reply


def test_the_list_is_bounded_by_the_contract():
    many = [{"id": f"t{i}", "domains": [f"h{i}-{j}.example" for j in range(50)]} for i in range(30)]
    domains = approved_domains({"approved_tools": many})
    [policy_reply_schema] = [part["then"] for part in contract.ipc_schema()["$defs"]["reply"]["allOf"]
                             if part["if"]["properties"]["type"].get("const") == "policy"]
    assert len(domains) == MAX_APPROVED_DOMAINS == policy_reply_schema["properties"]["approved_domains"]["maxItems"]
