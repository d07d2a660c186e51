"""sub-processor register and teams"""

NAME = "sub-processor register and teams"

SQL = """
CREATE TABLE register (
    vendor TEXT PRIMARY KEY COLLATE NOCASE,
    dpa_signed INTEGER NOT NULL DEFAULT 0,
    dpa_date TEXT NOT NULL DEFAULT '',
    listed INTEGER NOT NULL DEFAULT 0,       -- publicly listed as a sub-processor
    data_classes TEXT NOT NULL DEFAULT '[]', -- JSON list of allowed data classes
    retention_days INTEGER,                  -- contractual retention; NULL: the vendor facts'
    notes TEXT NOT NULL DEFAULT '',
    updated_at TEXT NOT NULL,
    updated_by TEXT NOT NULL
);
CREATE TABLE team_members (
    kind TEXT NOT NULL,   -- user | device (device id or hostname)
    key TEXT NOT NULL,
    team TEXT NOT NULL,
    PRIMARY KEY (kind, key)
);
"""
