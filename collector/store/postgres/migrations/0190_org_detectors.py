"""The organisation's detectors set in the console (twin of SQLite's 0190)"""

NAME = "Org detectors set in the console"

SQL = """
CREATE TABLE org_detector_versions (
    version BIGINT PRIMARY KEY,
    config TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    changed_by TEXT NOT NULL,
    changed_at TEXT COLLATE "C" NOT NULL
);
"""
