"""GitHub tokens: classic (ghp_/gho_/ghu_/ghs_/ghr_ + 36) and fine-grained (github_pat_)."""
from __future__ import annotations

from detectors.recognizers.base import SecretRecognizer, looks_like_placeholder


class GithubTokenRecognizer(SecretRecognizer):
    entity_type = "GITHUB_TOKEN"
    reason = "GitHub token"
    patterns = (
        (r"(?<![A-Za-z0-9_])gh[pousr]_[A-Za-z0-9]{36}(?![A-Za-z0-9_])", 0.95),
        (r"(?<![A-Za-z0-9_])github_pat_[A-Za-z0-9]{22}_[A-Za-z0-9]{59}(?![A-Za-z0-9_])", 0.95),
    )
    keywords = ("ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_")

    def is_valid(self, value: str) -> bool:
        # ghp_xxxxxxxx..., ghp_0000... and similar masks in docs are not tokens.
        body = value.split("_", 1)[1] if not value.startswith("github_pat_") else value[11:]
        return not looks_like_placeholder(body.replace("_", ""), min_distinct=12)
