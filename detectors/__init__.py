"""Detection for shadowmap: the scanning engine (``shadowmap.detectors.engine``, heavy: Presidio +
spaCy), keyed hashing (``shadowmap.detectors.hashing``), model verification (``shadowmap.detectors.model``)
and the AI-tool catalog (``shadowmap.detectors.catalog``).

Kept import-light: importing this package, the catalog or hashing never loads Presidio
or spaCy, so the native host and the collector can use them cheaply.
"""
