"""The collector's PostgreSQL backend: the store (engine.py), the adapter the query functions
of shadowmap.collector.store.sqlite run on (adapter.py, dialect.py), its migrations, and the
few statements only PostgreSQL has (events partitioned by month, advisory locks)."""
