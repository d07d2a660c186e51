"""Production data by its shape: error-tracker events with their user, Mongo shell documents
with personal fields, Azure connection strings; and their near misses."""
from __future__ import annotations

import pytest

SENTRY_EVENT = """why does this event not group?
{
  "event_id": "0c5a2f9e4b7d4e1f8a3c6b9d2e5f8a1b",
  "platform": "python",
  "exception": {"values": [{"type": "KeyError", "value": "'sku'"}]},
  "user": {"id": "8812", "email": "olga.petrova@mail.ru", "ip_address": "92.63.1.17"}
}"""

MONGO_DOCUMENTS = """> db.users.find({plan: "pro"}).limit(2)
[
  {
    _id: ObjectId("65a1f0c2e4b0a1b2c3d4e5f6"),
    email: 'kenji.sato@example.jp',
    plan: 'pro'
  },
  {
    _id: ObjectId("65a1f0c2e4b0a1b2c3d4e5f7"),
    email: 'amara.obi@example.ng',
    plan: 'pro'
  }
]"""

STORAGE = ("STORAGE=DefaultEndpointsProtocol=https;AccountName=acmeprodinvoices;"
           "AccountKey=q3Zk9Vt7XcQm2Lr8Yw5Hn1Bf6Gj4Sd0Ae9Kp3Tu7Wx2Rz5Mc8Nv1Lb4Hq6Fy0Dg3Js9==;EndpointSuffix=core.windows.net")
SERVICE_BUS = ('SB="Endpoint=sb://acme-orders.servicebus.windows.net/;SharedAccessKeyName=RootManageSharedAccessKey;'
               'SharedAccessKey=Zx81kQ2mW9vB4nL7pR3tY6uE0iO5aS8dF1gH4jK7lM0="')


def _found(engine, text: str) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for f in engine.scan(text):
        out.setdefault(f.entity_type, []).append(text[f.start:f.end])
    return out


def test_an_error_tracker_event_with_its_user_is_production_data_and_its_pii_stays(engine):
    found = _found(engine, SENTRY_EVENT)
    assert found["ERROR_EVENT_USER"] == ["0c5a2f9e4b7d4e1f8a3c6b9d2e5f8a1b"]
    assert found["EMAIL_ADDRESS"] == ["olga.petrova@mail.ru"]
    assert engine.data_class_of("ERROR_EVENT_USER") == "production"


def test_an_event_without_a_user_is_not():
    from shadowmap.detectors.recognizers.production_records import ErrorTrackerEventRecognizer
    without_user = SENTRY_EVENT.replace('"user": {"id": "8812", "email": "olga.petrova@mail.ru", '
                                        '"ip_address": "92.63.1.17"}', '"tags": {"release": "1.4.2"}')
    assert ErrorTrackerEventRecognizer().find(without_user) == []


def test_mongo_shell_documents_with_personal_fields_are_a_query_result(engine):
    found = _found(engine, MONGO_DOCUMENTS)
    assert len(found["DB_QUERY_RESULT"]) == 2 and found["DB_QUERY_RESULT"][0].startswith("ObjectId(")
    assert found["EMAIL_ADDRESS"] == ["kenji.sato@example.jp", "amara.obi@example.ng"]


@pytest.mark.parametrize("document", [
    '{ _id: ObjectId("65a1f0c2e4b0a1b2c3d4e5f6"), sku: "A-100", qty: 4, warehouse: "north" }',
    'const id = new ObjectId("65a1f0c2e4b0a1b2c3d4e5f6");  // in code: no document',
    # a bare "name" or "address" is a product's, a job's, a network's
    '{ "_id" : ObjectId("65a1f0c2e4b0a1b2c3d4e5f6"), "name" : "Standing desk", "price" : 499, "stock" : 12 }',
    "{ _id: ObjectId('65a1f0c2e4b0a1b2c3d4e5f6'), name: 'purge-sessions', cron: '*/15 * * * *', enabled: true }",
    '{ _id: ObjectId("65a1f0c2e4b0a1b2c3d4e5f6"), name: "vpc-eu", address: "10.20.0.0/16", zone: "eu-west-1a" }',
])
def test_documents_without_personal_fields_are_not(engine, document):
    assert "DB_QUERY_RESULT" not in _found(engine, document)


@pytest.mark.parametrize("fields", [
    'firstName: "Ines", lastName: "Moreau", plan: "pro"',
    '"shipping_address" : "4 Rue Oberkampf, 75011 Paris", "orders" : 3',
    'displayName: "ines.m", mobile: "+33 6 12 00 00 00"',
])
def test_documents_with_a_personal_field_still_are(engine, fields):
    document = '{ _id: ObjectId("65a1f0c2e4b0a1b2c3d4e5f6"), ' + fields + " }"
    assert len(_found(engine, document).get("DB_QUERY_RESULT", [])) == 1


@pytest.mark.parametrize(("text", "resource"), [
    (STORAGE, "DefaultEndpointsProtocol=https;AccountName=acmeprodinvoices"),
    (SERVICE_BUS, "Endpoint=sb://acme-orders.servicebus.windows.net/;SharedAccessKeyName=RootManageSharedAccessKey"),
    # a real account whose name starts like a placeholder's
    ("DefaultEndpointsProtocol=https;AccountName=mytaxiprod;AccountKey=" + "Q2xv" * 22 + "==",
     "DefaultEndpointsProtocol=https;AccountName=mytaxiprod"),
])
def test_an_azure_connection_string_with_its_key_is_production_data(engine, text, resource):
    assert _found(engine, text)["AZURE_CONNECTION_STRING"] == [resource]


@pytest.mark.parametrize("text", [
    # the Storage emulator's published account and key
    "UseDevelopmentStorage=true; DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey="
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;",
    "DefaultEndpointsProtocol=https;AccountName=myaccount;AccountKey=<your-key>;EndpointSuffix=core.windows.net",
    "Endpoint=sb://acme-orders.servicebus.windows.net/;SharedAccessKeyName=Root;SharedAccessKey=${SB_KEY}",
    # documentation's resource names, with a key of the right shape
    "DefaultEndpointsProtocol=https;AccountName=myaccount;AccountKey=" + "Q2xv" * 22 + "==",
    "Endpoint=sb://myserver.servicebus.windows.net/;SharedAccessKeyName=Root;SharedAccessKey=" + "Q2xv" * 11 + "=",
    "HostName=myiothub.azure-devices.net;DeviceId=mydevice;SharedAccessKey=" + "Q2xv" * 11 + "=",
    "Endpoint=sb://<namespace>.servicebus.windows.net/;SharedAccessKeyName=Root;SharedAccessKey=" + "Q2xv" * 11 + "=",
    "DefaultEndpointsProtocol=https;AccountName=contoso;AccountKey=" + "Q2xv" * 22 + "==",
])
def test_emulator_and_placeholder_connection_strings_are_not(engine, text):
    assert "AZURE_CONNECTION_STRING" not in _found(engine, text)
