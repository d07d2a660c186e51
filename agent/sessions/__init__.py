"""AI coding sessions, read from the coding agents' own local stores (readers.py) into records
of counts, names and keyed line hashes (record.py); `collect` makes one pass for
`shadowmap agent sessions`, `tail` follows the stores as they are written for the daemon."""
