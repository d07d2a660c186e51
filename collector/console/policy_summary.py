"""The policy page's readable summary of the stored policy: its rules in the order the agents
apply them (tool x data class x account tier x minimum severity -> action, with the approved
alternative the block banner and warn dialog name) and the AI policy page they link to."""
from __future__ import annotations

from typing import Any

ANY = "any"


def summary(policy: dict[str, Any]) -> dict[str, Any]:
    rules = [{"tool": rule.get("tool", "*"), "data_class": rule["data_class"],
              "account_tier": rule.get("account_tier", ANY), "min_severity": rule.get("min_severity", ANY),
              "action": rule["action"], "alternative": rule.get("alternative", "")}
             for rule in policy.get("rules") or ()]
    return {"rules": rules, "ai_policy_url": policy.get("ai_policy_url", ""),
            "tiered": any(rule["account_tier"] != ANY for rule in rules)}
