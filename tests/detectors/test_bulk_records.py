"""Bulk records: a dump of personal data is one BULK_RECORDS finding with its row count."""
import json

import pytest

PEOPLE = [("Maria Garcia", "maria.garcia@gmail.com", "(415) 555-2671"),
          ("Tom O'Brien", "tobrien@outlook.com", "212-736-5001"),
          ("Aisha Khan", "aisha.khan@yahoo.co.uk", "+44 20 7946 0958"),
          ("Li Wei", "li.wei@hotmail.com", "646-281-7733"),
          ("Sven Berg", "sberg@proton.me", "(312) 555-0199"),
          ("Nora Quinn", "nquinn@gmail.com", "617-495-1000"),
          ("Raj Patel", "raj.patel@icloud.com", "+1 206 684 4000")]


def csv_dump(sep=",", rows=PEOPLE):
    lines = [sep.join(["customer_id", "name", "email", "phone"])]
    lines += [sep.join([str(100 + i), *row]) for i, row in enumerate(rows)]
    return "Dedupe this:\n" + "\n".join(lines) + "\n"


def jsonl_dump():
    return "\n".join(json.dumps({"id": i, "name": n, "email": e, "tel": p}) for i, (n, e, p) in enumerate(PEOPLE))


def sql_dump():
    rows = ",\n".join(f"  ({i}, '{n.replace(chr(39), chr(39) * 2)}', '{e}', '{p}')" for i, (n, e, p) in enumerate(PEOPLE))
    return f"INSERT INTO customers (id, full_name, email, phone) VALUES\n{rows};\n"


def bulk(engine, text):
    return [f for f in engine.scan(text) if f.entity_type == "BULK_RECORDS"]


@pytest.mark.parametrize("make", [csv_dump, lambda: csv_dump("\t"), lambda: csv_dump("|"), jsonl_dump, sql_dump])
def test_dump_is_one_bulk_finding_with_row_count(engine, make):
    text = make()
    [finding] = bulk(engine, text)
    assert finding.data_class == "production" and finding.severity == "high"
    assert finding.reason.startswith(f"{len(PEOPLE)} ")
    assert "emails" in finding.reason and "phones" in finding.reason
    covered = text[finding.start:finding.end]
    assert all(email in covered for _n, email, _p in PEOPLE)


def test_customer_header_names_customer_rows(engine):
    [finding] = bulk(engine, csv_dump())
    assert finding.reason.startswith("7 customer rows with ")


def test_rows_inside_the_dump_are_still_reported(engine):
    findings = engine.scan(csv_dump())
    assert sum(f.entity_type == "EMAIL_ADDRESS" for f in findings) == len(PEOPLE)
    names = [csv_dump()[f.start:f.end] for f in findings if f.entity_type == "PERSON"]
    assert names == [n for n, _e, _p in PEOPLE]   # from the name column, whatever NER thinks


@pytest.mark.parametrize("text", [
    csv_dump(rows=PEOPLE[:3]),                                                    # a few rows: no dump
    "date,region,requests,errors\n" + "\n".join(f"2024-05-{d:02d},eu-west-1,{d * 1000},{d}" for d in range(1, 20)),
    "\n".join(f"{i},{'%032x' % (i * 7919)},{i * 13}" for i in range(30)),        # hashes, no people
    "\n".join(json.dumps({"level": "info", "msg": "tick", "n": i}) for i in range(20)),
])
def test_no_bulk_finding_without_enough_personal_rows(engine, text):
    assert bulk(engine, text) == []


def aligned_dump(index: bool = True):
    """A data frame as pandas prints it: columns aligned with spaces, and (by default) the
    index column the header line leaves blank."""
    width = (6, 14, 24, 18)
    header = "  ".join(h.rjust(w) for h, w in zip(("id", "full_name", "email", "phone"), width, strict=True))
    rows = ["  ".join(c.rjust(w) for c, w in zip((str(100 + i), *person), width, strict=True))
            for i, person in enumerate(PEOPLE)]
    if index:
        header = "   " + header
        rows = [f"{i:<3}" + row for i, row in enumerate(rows)]
    return ">>> df.head(7)\n" + header + "\n" + "\n".join(rows) + "\n"


@pytest.mark.parametrize("index", [True, False], ids=["with index", "to_string(index=False)"])
def test_a_space_aligned_table_is_a_dump_and_its_name_column_gives_names(engine, spans, index):
    text = aligned_dump(index)
    [finding] = bulk(engine, text)
    assert finding.reason.startswith(f"{len(PEOPLE)} ") and "emails" in finding.reason
    assert set(spans(text, "PERSON")) >= {name for name, _, _ in PEOPLE}


def test_an_aligned_listing_without_personal_data_is_no_dump(engine):
    listing = "\n".join(f"{i:012x}   app-{i}:latest   \"python -m app\"   2 hours ago   Up 2 hours   80{i}/tcp   svc{i}"
                        for i in range(8))
    assert bulk(engine, "$ docker ps\n" + listing + "\n") == []


# Tables of machines: each row holds an IP address (pod, service, node, peer), nobody's
# personal data. Formats as kubectl, ss and structured logs print them.
def pods_wide(rows: int = 8) -> str:
    header = f"{'NAME':<28}{'READY':<8}{'STATUS':<10}{'RESTARTS':<10}{'AGE':<6}{'IP':<14}NODE"
    lines = [f"{f'api-5f7c9d8b6-{i:05d}':<28}{'1/1':<8}{'Running':<10}{'0':<10}{'3d':<6}{f'10.244.{i % 3}.{20 + i}':<14}"
             f"worker-{i % 3}" for i in range(rows)]
    return "$ kubectl get pods -o wide\n" + header + "\n" + "\n".join(lines) + "\n"


def socket_table(rows: int = 6) -> str:
    header = f"{'State':<7}{'Recv-Q':<7}{'Send-Q':<8}{'Local Address:Port':<22}Peer Address:Port"
    lines = [f"{'ESTAB':<7}{'0':<7}{'0':<8}{'172.20.0.5:5432':<22}172.20.0.{10 + i}:{40000 + i}" for i in range(rows)]
    return "$ ss -tn\n" + header + "\n" + "\n".join(lines) + "\n"


def probe_log(rows: int = 6) -> str:
    return "\n".join(json.dumps({"ts": f"2025-01-0{1 + i % 9}T00:00:00Z", "level": "info", "path": "/healthz",
                                 "remote_addr": f"10.244.{i % 3}.1", "status": 200}) for i in range(rows))


@pytest.mark.parametrize("make", [pods_wide, socket_table, probe_log])
def test_rows_holding_only_ip_addresses_are_no_dump(engine, make):
    text = make()
    assert bulk(engine, text) == []
    # Private-network addresses number machines, not people's connections: not reported either.
    assert not any(f.entity_type == "IP_ADDRESS" for f in engine.scan(text))


def test_rows_with_a_person_and_an_ip_address_are_a_dump_listing_both(engine):
    text = "\n".join(json.dumps({"email": email, "ip": f"81.2.69.{10 + i}", "event": "login"})
                     for i, (_n, email, _p) in enumerate(PEOPLE))
    [finding] = bulk(engine, text)
    assert finding.reason.startswith(f"{len(PEOPLE)} ") and "emails" in finding.reason and "IP addresses" in finding.reason


def test_a_name_column_of_services_gives_no_names(engine):
    # kubectl's NAME column holds resources ("redis-cart"), written in lower case: a person's
    # name in a table starts and ends with a capital.
    text = ("NAME            TYPE           CLUSTER-IP      PORT(S)\n"
            "cart            ClusterIP      10.96.112.40    8080/TCP\n"
            "redis-cart      ClusterIP      10.96.201.9     6379/TCP\n"
            "shipping-api    ClusterIP      10.96.44.7      8080/TCP\n"
            "Anna de Vries   ClusterIP      10.96.3.17      80/TCP\n")
    assert [text[f.start:f.end] for f in engine.scan(text) if f.entity_type == "PERSON"] == ["Anna de Vries"]
