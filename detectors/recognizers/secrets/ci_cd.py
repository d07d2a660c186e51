"""CI/CD and hosting: CircleCI, Travis CI, Buildkite, Vercel, Netlify, Heroku."""
from __future__ import annotations

from shadowmap.detectors.recognizers.secrets.rules import TokenRecognizer, assigned, cases


class CircleciTokenRecognizer(TokenRecognizer):
    entity_type = "CIRCLECI_TOKEN"
    reason = "CircleCI API token"
    patterns = (
        (r"(?<![A-Za-z0-9_])CCIPAT_[A-Za-z0-9]{22}_[a-f0-9]{40}(?![A-Za-z0-9_])", 0.95),
        (r"(?<![A-Za-z0-9_])CCIPRJ_[A-Za-z0-9]{22}_[a-f0-9]{40}(?![A-Za-z0-9_])", 0.95),
        # Older tokens are 40 hex characters: only beside a CircleCI name.
        (assigned(r"circle_?(?:ci)?_?(?:api_?)?token|circle_?token", r"[a-f0-9]{40}") + r"(?![A-Za-z0-9])", 0.85),
    )
    keywords = ("CCIPAT_", "CCIPRJ_", *cases("circle"))
    min_entropy = 3.2


class TravisCiTokenRecognizer(TokenRecognizer):
    entity_type = "TRAVIS_CI_TOKEN"
    reason = "Travis CI API token"
    patterns = ((assigned(r"travis[\w.\-]{0,20}?token", r"[A-Za-z0-9_\-]{22}") + r"(?![A-Za-z0-9_\-])", 0.85),)
    keywords = cases("travis")
    min_entropy = 3.5


class BuildkiteTokenRecognizer(TokenRecognizer):
    entity_type = "BUILDKITE_TOKEN"
    reason = "Buildkite API token"
    patterns = ((r"(?<![A-Za-z0-9_])bkua_[a-f0-9]{40}(?![A-Za-z0-9_])", 0.95),)
    keywords = ("bkua_",)
    prefix_chars = 5
    min_entropy = 3.2


class VercelTokenRecognizer(TokenRecognizer):
    entity_type = "VERCEL_TOKEN"
    reason = "Vercel access token"
    patterns = (
        # Prefixed tokens (personal, integration, app, refresh, API key).
        (r"(?<![A-Za-z0-9_])vc[pirak]_[A-Za-z0-9]{56}(?![A-Za-z0-9_])", 0.95),
        # Older 24-character tokens: only beside a Vercel name.
        (assigned(r"vercel[\w.\-]{0,20}?token", r"[A-Za-z0-9]{24}") + r"(?![A-Za-z0-9])", 0.85),
    )
    keywords = ("vcp_", "vci_", "vca_", "vcr_", "vck_", *cases("vercel"))
    min_entropy = 3.5


class NetlifyTokenRecognizer(TokenRecognizer):
    entity_type = "NETLIFY_TOKEN"
    reason = "Netlify access token"
    patterns = (
        (r"(?<![A-Za-z0-9_])nfp_[A-Za-z0-9]{36}(?![A-Za-z0-9_])", 0.95),
        (assigned(r"netlify[\w.\-]{0,20}?token", r"[A-Za-z0-9_\-]{43,45}") + r"(?![A-Za-z0-9_\-])", 0.85),
    )
    keywords = ("nfp_", *cases("netlify"))
    min_entropy = 3.5


class HerokuApiKeyRecognizer(TokenRecognizer):
    entity_type = "HEROKU_API_KEY"
    reason = "Heroku API key"
    patterns = (
        (r"(?<![A-Za-z0-9_\-])HRKU-[A-Za-z0-9_\-]{60}(?![A-Za-z0-9_\-])", 0.95),
        # Older keys are UUIDs: a UUID is a secret only when assigned to a Heroku key name.
        (assigned(r"heroku[\w.\-]{0,20}?(?:api_?key|token|key)",
                  r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}") + r"(?![A-Za-z0-9\-])", 0.85),
    )
    keywords = ("HRKU-", *cases("heroku"))
    min_entropy = 3.0
