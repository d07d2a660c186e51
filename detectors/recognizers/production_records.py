"""Production data by its shape: records and events that come out of a running system, and
the connection strings that reach its resources.

- An error tracker's event (Sentry's JSON) with the user it happened to: the event's id is
  the finding, the user's email or IP stay PII findings of their own.
- Documents printed by the Mongo shell (``_id: ObjectId("…")``) that hold personal fields:
  a query's result, straight from a database.
- Azure connection strings (Storage, Service Bus, Event Hubs, IoT Hub) with their key: the
  account or endpoint part is the production finding, the key itself stays a secret one; a
  documentation example's ("AccountName=myaccount", "sb://<namespace>.servicebus…") is none.

Each finding is placed on a part that no PII or secret finding covers (the overlap
resolution keeps one finding per span, the stronger class first).
"""
from __future__ import annotations

import regex as re

from shadowmap.detectors.recognizers.base import SecretRecognizer

# A user object in an event: "user": {… "email" | "ip_address" | "username" | "id" …}
_USER_OBJECT = re.compile(
    r"""["']user["']\s*:\s*\{[^{}]{0,800}?["'](?:email|ip_address|username|name|id)["']\s*:\s*["']?[^\s"',}]""")
EVENT_REACH = 4000      # how far from the event id its user object may be (events are short)


class ErrorTrackerEventRecognizer(SecretRecognizer):
    entity_type = "ERROR_EVENT_USER"
    data_class = "production"
    reason = "Error-tracker event (Sentry) with the user it happened to"
    patterns = (
        (r"""["']event_id["']\s*:\s*["'](?P<value>[0-9a-f]{32}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}"""
         r"""-[0-9a-f]{12})["']""", 0.85),
    )
    keywords = ("event_id",)
    reach_before = 4
    reach_after = 96

    def find(self, text: str, near: list[int] | None = None) -> list[tuple[int, int, float]]:
        found = []
        for match, score in self.matches(text, near):
            if _USER_OBJECT.search(text, max(0, match.start() - EVENT_REACH), match.end() + EVENT_REACH):
                found.append((match.start("value"), match.end("value"), score))
        return found


# Field names that make a document personal data. A bare "name" or "address" does not: a
# product, a job, a region, a replica-set member has a name, a network an address.
_PERSONAL_FIELD = re.compile(
    r"""(?<![\w])["']?(?:e-?mail(?:_?address)?|phone(?:_?number)?|mobile"""
    r"""|(?:first|last|full|display|customer|contact|given|family)_?name|surname"""
    r"""|(?:postal|street|home|billing|shipping|mailing)_?address|street|dob|date_?of_?birth|birth_?date|ssn|iban)"""
    r"""["']?\s*:""", re.IGNORECASE)
DOCUMENT_REACH = 600    # a document's fields after its _id


class MongoShellDocumentRecognizer(SecretRecognizer):
    entity_type = "DB_QUERY_RESULT"
    data_class = "production"
    reason = "Database query result with personal fields (Mongo shell)"
    patterns = ((r"""(?<![\w])["']?_id["']?\s*:\s*(?P<value>ObjectId\(\s*["'][0-9a-fA-F]{24}["']\s*\))""", 0.85),)
    keywords = ("ObjectId(",)
    reach_before = 32
    reach_after = 64

    def find(self, text: str, near: list[int] | None = None) -> list[tuple[int, int, float]]:
        found = []
        for match, score in self.matches(text, near):
            # the document's own fields: up to the next document's _id
            following = text.find("ObjectId(", match.end(), match.end() + DOCUMENT_REACH)
            end = following if following >= 0 else match.end() + DOCUMENT_REACH
            if _PERSONAL_FIELD.search(text, match.end(), end):
                found.append((match.start("value"), match.end("value"), score))
        return found


# The Storage emulator's documented account (Azurite): its key is published.
_EMULATOR_ACCOUNT = "AccountName=devstoreaccount1;"
# The resource a connection string names: the storage account, or the first label of its
# endpoint's or hub's host name.
_RESOURCE_NAME = re.compile(r"(?:AccountName=|Endpoint=[a-z]+://|HostName=)(?P<name>[^;./\s\"']+)", re.IGNORECASE)
# The names documentation gives such resources ("myaccount", "myserver", "contoso",
# "<namespace>", "{your-hub}"): an example, not a production system.
_PLACEHOLDER_RESOURCE = re.compile(
    r"(?i:[<{$\[].*|your.*|(?:my|sample|example|test|demo)[\-_]?(?:account|server|namespace|hub|iothub|storage"
    r"(?:account)?|eventhubs?|servicebus|service|app|vault|db|database|cosmos|instance|resource|name)s?\d*"
    r"|contoso|fabrikam|example|sample|foo|bar|accountname|storageaccount|namespace|hubname|servername)")


class AzureConnectionStringRecognizer(SecretRecognizer):
    entity_type = "AZURE_CONNECTION_STRING"
    data_class = "production"
    reason = "Azure connection string (storage account or service endpoint with its key)"
    patterns = (
        (r"(?<![\w])(?P<value>(?:(?:DefaultEndpointsProtocol|AccountName|EndpointSuffix|BlobEndpoint|QueueEndpoint"
         r"|TableEndpoint|FileEndpoint|Endpoint|HostName|SharedAccessKeyName|EntityPath|DeviceId)=[^;\s\"']+;)+)"
         r"(?:AccountKey|SharedAccessKey)=[A-Za-z0-9+/]{20,}={0,2}", 0.85),
    )
    keywords = ("AccountKey=", "SharedAccessKey=")
    reach_before = 400
    reach_after = 128

    def find(self, text: str, near: list[int] | None = None) -> list[tuple[int, int, float]]:
        found = []
        for match, score in self.matches(text, near):
            resource = match.group("value")
            if _EMULATOR_ACCOUNT in resource or not any(
                    part in resource for part in ("AccountName=", "Endpoint=", "HostName=")):
                continue
            names = [m.group("name") for m in _RESOURCE_NAME.finditer(resource)]
            if names and all(_PLACEHOLDER_RESOURCE.fullmatch(name) for name in names):
                continue
            found.append((match.start("value"), match.end("value") - 1, score))    # the last ";" is not part of it
        return found
