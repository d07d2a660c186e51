"""Detection for shadowmap: the scanning engine (``detectors.engine``, heavy: Presidio +
spaCy), keyed hashing (``detectors.hashing``), model verification (``detectors.model``)
and the AI-tool catalog (``detectors.catalog``).

Kept import-light: importing this package, the catalog or hashing never loads Presidio
or spaCy, so the native host and the collector can use them cheaply.
"""
