"""Code hosts: GitHub, GitLab, Bitbucket."""
from __future__ import annotations

from shadowmap.detectors.recognizers.secrets.rules import TokenRecognizer, has_github_checksum


class GithubTokenRecognizer(TokenRecognizer):
    entity_type = "GITHUB_TOKEN"
    reason = "GitHub token"
    patterns = (
        # Classic PAT, OAuth, user-to-server, server-to-server, refresh: 30 random + CRC32.
        (r"(?<![A-Za-z0-9_])gh[pousr]_[A-Za-z0-9]{36}(?![A-Za-z0-9_])", 0.95),
        # Fine-grained PAT.
        (r"(?<![A-Za-z0-9_])github_pat_[A-Za-z0-9]{22}_[A-Za-z0-9]{59}(?![A-Za-z0-9_])", 0.95),
    )
    keywords = ("ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_")
    prefix_chars = 4
    min_distinct = 12

    def check(self, value: str) -> bool:
        return value.startswith("github_pat_") or has_github_checksum(value)


class GitlabPersonalTokenRecognizer(TokenRecognizer):
    entity_type = "GITLAB_PERSONAL_TOKEN"
    reason = "GitLab personal, project or group access token"
    # 20 characters (GitLab < 17.x), or the longer routable form with a ".xx.yyyyyyyyy" tail.
    patterns = ((r"(?<![A-Za-z0-9_\-])glpat-[A-Za-z0-9_\-]{20,}(?:\.[0-9a-z]{2}\.[0-9a-z]{7,9})?(?![A-Za-z0-9_\-.])", 0.95),)
    keywords = ("glpat-",)
    prefix_chars = 6


class GitlabDeployTokenRecognizer(TokenRecognizer):
    entity_type = "GITLAB_DEPLOY_TOKEN"
    reason = "GitLab deploy token"
    patterns = ((r"(?<![A-Za-z0-9_\-])gldt-[A-Za-z0-9_\-]{20,}(?![A-Za-z0-9_\-])", 0.95),)
    keywords = ("gldt-",)
    prefix_chars = 5


class GitlabRunnerTokenRecognizer(TokenRecognizer):
    entity_type = "GITLAB_RUNNER_TOKEN"
    reason = "GitLab runner token"
    patterns = (
        (r"(?<![A-Za-z0-9_\-])glrt-(?:t\d_)?[A-Za-z0-9_\-]{20,}(?![A-Za-z0-9_\-])", 0.95),
        # Legacy runner registration tokens: 20 characters, up to 50 as GitLab's generators allow.
        (r"(?<![A-Za-z0-9_\-])GR1348941[A-Za-z0-9_\-]{20,50}(?![A-Za-z0-9_\-])", 0.95),
    )
    keywords = ("glrt-", "GR1348941")
    prefix_chars = 5


class BitbucketAppPasswordRecognizer(TokenRecognizer):
    entity_type = "BITBUCKET_APP_PASSWORD"
    reason = "Bitbucket app password or access token"
    patterns = (
        (r"(?<![A-Za-z0-9_\-])ATBB[A-Za-z0-9_=.\-]{32}(?![A-Za-z0-9_=.\-])", 0.95),
        # Repository / project / workspace access tokens.
        (r"(?<![A-Za-z0-9_\-])ATCTT3xFfGN0[A-Za-z0-9_=\-]{100,200}(?![A-Za-z0-9_=\-])", 0.95),
    )
    keywords = ("ATBB", "ATCTT3xFfGN0")
    prefix_chars = 4
