"""shadowmap's secret recognizers, one module per family: clouds, code_hosts, ci_cd, chat,
payment, ai_vendors, registries, saas, web_tokens, private_keys, assignments.

Adding a secret type is adding a small class of data to its family module::

    class AcmeTokenRecognizer(TokenRecognizer):
        entity_type = "ACME_TOKEN"              # unique; the finding's entity type
        reason = "Acme API token"               # what the user reads
        patterns = ((r"(?<![A-Za-z0-9_])acme_[A-Za-z0-9]{40}(?![A-Za-z0-9_])", 0.95),)
        keywords = ("acme_",)                   # a substring every match contains
        prefix_chars = 5                        # the fixed part; the rest must look random
        denylist = frozenset({"acme_<the vendor's documented example>"})

plus, only where the format has one, a ``check(value)`` (a checksum, a decodable
payload), and a true case and a near miss in ``tests/detectors/secrets/test_<family>.py``
(a meta-test refuses a type without both). Keys recognisable only by the name they are
assigned to use ``rules.assigned(name, value)``; their keywords are the name's spellings.

Importing this package imports every family module, so the registry in
``shadowmap.detectors.recognizers`` finds their classes as it finds its own modules' classes.
"""
from __future__ import annotations

import importlib
import pkgutil

for _module in pkgutil.iter_modules(__path__):
    importlib.import_module(f"{__name__}.{_module.name}")
