"""How bad a finding is, as data: critical / high / medium / low.

Secrets give whoever holds them access: critical. Production data (dumps, DB URLs) and
identity or payment numbers: high. Contact details and internal URLs: medium. A lone name
or IP address: low. Import-light: the CLI's ``--fail-on`` and the agent read it too.
"""
from __future__ import annotations

from shadowmap.contract.enums import FINDING_SEVERITIES

# the contract's finding severities (schema/enums.v1.json), least severe first: the order
# `shadowmap scan --fail-on` lists them in, and their rank (higher is worse)
SEVERITIES: tuple[str, ...] = tuple(reversed(FINDING_SEVERITIES))
RANK = {name: rank for rank, name in enumerate(SEVERITIES)}

# a severity for each of the contract's data classes (DATA_CLASSES)
BY_DATA_CLASS = {"secret": "critical", "production": "high", "payment": "high", "pii": "medium"}

BY_ENTITY_TYPE = {
    "DB_CONNECTION_URL": "critical",   # a password to a database is a secret too
    "BULK_RECORDS": "high",
    "INTERNAL_URL": "medium",
    "US_SSN": "high",
    "UK_NINO": "high",
    "CREDIT_CARD": "high",
    "IBAN_CODE": "high",
    "EMAIL_ADDRESS": "medium",
    "PHONE_NUMBER": "medium",
    "STREET_ADDRESS": "medium",
    "DATE_OF_BIRTH": "medium",
    "PERSON": "low",
    "IP_ADDRESS": "low",
}


def severity_of(entity_type: str, data_class: str) -> str:
    return BY_ENTITY_TYPE.get(entity_type) or BY_DATA_CLASS.get(data_class, "medium")


def at_least(severity: str, threshold: str) -> bool:
    return RANK.get(severity, 0) >= RANK[threshold]
