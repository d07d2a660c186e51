"""The organisation's detectors set in the console (identifier formats, internal domains)

org_detector_versions: every version an admin saved, newest = the one served with the policy
(schema/org_detectors.v1.json, as JSON), with its digest, who saved it and when. Kept whole,
so the record's admin entries can be matched to what the agents received."""

NAME = "Org detectors set in the console"

SQL = """
CREATE TABLE org_detector_versions (
    version INTEGER PRIMARY KEY,
    config TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    changed_by TEXT NOT NULL,
    changed_at TEXT NOT NULL
);
"""
