"""Business SaaS APIs: messaging, e-commerce, work tracking, observability, identity,
infrastructure and secret managers."""
from __future__ import annotations

from shadowmap.detectors.recognizers.secrets.rules import TokenRecognizer, assigned, b64_json, cases


class TwilioApiKeyRecognizer(TokenRecognizer):
    entity_type = "TWILIO_API_KEY"
    reason = "Twilio API key or auth token"
    patterns = (
        (r"(?<![A-Za-z0-9_])SK[a-f0-9]{32}(?![A-Za-z0-9_])", 0.85),
        # The account auth token is 32 hex characters: only beside a Twilio name.
        (assigned(r"twilio[\w.\-]{0,20}?(?:auth_?token|token|secret)", r"[a-f0-9]{32}") + r"(?![A-Za-z0-9])", 0.9),
        # Written as a label in notes: "Twilio auth token - '…'", "twilio token: …".
        (r"(?i:twilio)[\w.\-]{0,20}?[ \t]{1,3}(?i:auth[ _]?token|token|secret)[ \t]{0,3}(?::|=|-(?=[ \t]))[ \t]{0,3}"
         r"[\"']?(?P<value>[a-f0-9]{32})(?![A-Za-z0-9])", 0.9),
    )
    keywords = ("SK", *cases("twilio"))
    prefix_chars = 2
    min_entropy = 3.2


class SendgridApiKeyRecognizer(TokenRecognizer):
    entity_type = "SENDGRID_API_KEY"
    reason = "SendGrid API key"
    patterns = ((r"(?<![A-Za-z0-9_\-.])SG\.[A-Za-z0-9_\-]{22}\.[A-Za-z0-9_\-]{43}(?![A-Za-z0-9_\-])", 0.95),)
    keywords = ("SG.",)
    prefix_chars = 3
    min_entropy = 4.0


class MailgunApiKeyRecognizer(TokenRecognizer):
    entity_type = "MAILGUN_API_KEY"
    reason = "Mailgun API key"
    patterns = (
        (r"(?<![A-Za-z0-9_\-])key-[a-f0-9]{32}(?![A-Za-z0-9_\-])", 0.9),
        # Current keys: 32 hex, then two 8-hex groups.
        (r"(?<![A-Za-z0-9_\-])[a-f0-9]{32}-[a-f0-9]{8}-[a-f0-9]{8}(?![A-Za-z0-9_\-])", 0.85),
    )
    keywords = ("key-", *cases("mailgun"))
    min_entropy = 3.2

    def windows(self, text: str, near: list[int] | None = None) -> list[tuple[int, int]]:
        # The unprefixed form contains no keyword: a text that names Mailgun is scanned whole.
        if "ailgun" in text or "AILGUN" in text:
            return [(0, len(text))]
        return super().windows(text, near)

    def find(self, text: str, near: list[int] | None = None) -> list[tuple[int, int, float]]:
        # The unprefixed form is only a Mailgun key in a text that names Mailgun.
        found = super().find(text, near)
        if "ailgun" in text or "AILGUN" in text:
            return found
        return [f for f in found if text.startswith("key-", f[0])]


class ShopifyTokenRecognizer(TokenRecognizer):
    entity_type = "SHOPIFY_TOKEN"
    reason = "Shopify access token or app secret"
    patterns = ((r"(?<![A-Za-z0-9_])shp(?:at|ca|pa|ss)_[a-fA-F0-9]{32}(?![A-Za-z0-9_])", 0.95),)
    keywords = ("shpat_", "shpca_", "shppa_", "shpss_")
    prefix_chars = 6
    min_entropy = 3.2


class AtlassianApiTokenRecognizer(TokenRecognizer):
    entity_type = "ATLASSIAN_API_TOKEN"
    reason = "Atlassian (Jira, Confluence) API token"
    # The token ends in "=" + 8 hex characters: a checksum segment.
    patterns = ((r"(?<![A-Za-z0-9_\-])ATATT3[A-Za-z0-9_\-=]{170,200}=[A-F0-9]{8}(?![A-Za-z0-9_\-=])", 0.95),)
    keywords = ("ATATT3",)
    prefix_chars = 6
    min_entropy = 4.5


class NotionTokenRecognizer(TokenRecognizer):
    entity_type = "NOTION_TOKEN"
    reason = "Notion integration token"
    patterns = (
        (r"(?<![A-Za-z0-9_])ntn_\d{11}[A-Za-z0-9]{35}(?![A-Za-z0-9_])", 0.95),
        # Older integration secrets; "secret_" alone is too common, so the length is exact.
        (r"(?<![A-Za-z0-9_])secret_[A-Za-z0-9]{43}(?![A-Za-z0-9_])", 0.85),
    )
    keywords = ("ntn_", "secret_")
    prefix_chars = 4
    min_entropy = 4.0


class LinearApiKeyRecognizer(TokenRecognizer):
    entity_type = "LINEAR_API_KEY"
    reason = "Linear API key"
    patterns = ((r"(?<![A-Za-z0-9_])lin_(?:api|oauth)_[A-Za-z0-9]{40}(?![A-Za-z0-9_])", 0.95),)
    keywords = ("lin_api_", "lin_oauth_")
    prefix_chars = 8
    min_entropy = 4.0


class DatadogApiKeyRecognizer(TokenRecognizer):
    entity_type = "DATADOG_API_KEY"
    reason = "Datadog API or application key"
    # Plain hex: only where assigned to a Datadog name (DD_API_KEY, datadog_app_key ...).
    patterns = (
        (assigned(r"(?:datadog|dd)_?(?:api_?key|app_?key|application_?key)", r"[a-f0-9]{32}(?:[a-f0-9]{8})?")
         + r"(?![A-Za-z0-9])", 0.9),
    )
    keywords = (*cases("datadog"), "DataDog", "DD_API", "dd_api", "DD_APP", "dd_app", "ddApi", "ddApp")
    min_entropy = 3.2


class NewRelicKeyRecognizer(TokenRecognizer):
    entity_type = "NEW_RELIC_KEY"
    reason = "New Relic API key"
    patterns = (
        (r"(?<![A-Za-z0-9_\-])NRAK-[A-Z0-9]{27}(?![A-Za-z0-9_\-])", 0.95),
        (r"(?<![A-Za-z0-9_\-])NRII-[A-Za-z0-9_\-]{32}(?![A-Za-z0-9_\-])", 0.95),
        (r"(?<![A-Za-z0-9_\-])NRJS-[a-f0-9]{19}(?![A-Za-z0-9_\-])", 0.9),
    )
    keywords = ("NRAK-", "NRII-", "NRJS-")
    prefix_chars = 5
    # The prefix says what it is; 19 random hex characters (a browser key) often score
    # below 3 bits per character.
    min_entropy = 2.5


class SentryTokenRecognizer(TokenRecognizer):
    entity_type = "SENTRY_TOKEN"
    reason = "Sentry auth token"
    patterns = (
        # Organization tokens: base64 JSON claims (iat, url, org) + "_" + secret.
        (r"(?<![A-Za-z0-9_])sntrys_eyJ[A-Za-z0-9+/]{20,400}={0,2}_[A-Za-z0-9+/]{43}(?![A-Za-z0-9+/_])", 0.95),
        (r"(?<![A-Za-z0-9_])sntryu_[a-f0-9]{64}(?![A-Za-z0-9_])", 0.95),
    )
    keywords = ("sntrys_", "sntryu_")
    prefix_chars = 7
    min_entropy = 3.5

    def check(self, value: str) -> bool:
        if value.startswith("sntryu_"):
            return True
        claims = b64_json(value[7:].rsplit("_", 1)[0])
        return claims is not None and "iat" in claims


class PagerdutyTokenRecognizer(TokenRecognizer):
    entity_type = "PAGERDUTY_TOKEN"
    reason = "PagerDuty API token"
    patterns = (
        (assigned(r"pagerduty[\w.\-]{0,20}?(?:token|key)|pd_?(?:api_?)?token", r"(?:u\+)?[A-Za-z0-9_+\-]{20}")
         + r"(?![A-Za-z0-9_+\-])", 0.85),
    )
    keywords = ("agerduty", "AGERDUTY", "agerDuty", "PD_TOKEN", "PD_API_TOKEN", "pd_token", "pd_api_token")
    min_entropy = 3.4
    # The token printed throughout PagerDuty's API reference.
    denylist = frozenset({"y_NbAkKc66ryYTWUXYEu"})


class OktaApiTokenRecognizer(TokenRecognizer):
    entity_type = "OKTA_API_TOKEN"
    reason = "Okta API token"
    patterns = (
        (assigned(r"okta[\w.\-]{0,20}?(?:token|key)", r"00[A-Za-z0-9_\-]{40}") + r"(?![A-Za-z0-9_\-])", 0.9),
        # Okta's own authorization scheme: "Authorization: SSWS <token>".
        (r"SSWS\s+(?P<value>00[A-Za-z0-9_\-]{40})(?![A-Za-z0-9_\-])", 0.95),
    )
    keywords = (*cases("okta"), "SSWS")
    prefix_chars = 2
    min_entropy = 4.0


class TerraformCloudTokenRecognizer(TokenRecognizer):
    entity_type = "TERRAFORM_CLOUD_TOKEN"
    reason = "Terraform Cloud / HCP API token"
    patterns = ((r"(?<![A-Za-z0-9_\-.])[A-Za-z0-9]{14}\.atlasv1\.[A-Za-z0-9_=\-]{60,70}(?![A-Za-z0-9_=\-])", 0.95),)
    keywords = (".atlasv1.",)
    min_entropy = 4.0


class DopplerTokenRecognizer(TokenRecognizer):
    entity_type = "DOPPLER_TOKEN"
    reason = "Doppler token"
    patterns = ((r"(?<![A-Za-z0-9_.])dp\.(?:pt|st|sa|ct|scim|audit)\.[A-Za-z0-9_\-]{40,44}(?![A-Za-z0-9_\-])", 0.95),)
    keywords = ("dp.pt.", "dp.st.", "dp.sa.", "dp.ct.", "dp.scim.", "dp.audit.")
    prefix_chars = 6
    min_entropy = 4.0


class OnePasswordServiceTokenRecognizer(TokenRecognizer):
    entity_type = "ONEPASSWORD_SERVICE_TOKEN"
    reason = "1Password service-account token"
    patterns = ((r"(?<![A-Za-z0-9_])ops_eyJ[A-Za-z0-9+/_\-]{100,}={0,2}(?![A-Za-z0-9+/_\-=])", 0.95),)
    keywords = ("ops_eyJ",)
    reach_after = 4096
    prefix_chars = 4
    min_entropy = 4.0

    def check(self, value: str) -> bool:
        # The payload is JSON; a 1Password service token carries a sign-in address.
        claims = b64_json(value[4:])
        return claims is not None and ("signInAddress" in claims or "email" in claims)


class OnePasswordSecretKeyRecognizer(TokenRecognizer):
    entity_type = "ONEPASSWORD_SECRET_KEY"
    reason = "1Password account secret key"
    patterns = ((r"(?<![A-Za-z0-9\-])A3-[A-Z0-9]{6}-[A-Z0-9]{6}-[A-Z0-9]{5}-[A-Z0-9]{5}-[A-Z0-9]{5}-[A-Z0-9]{5}(?![A-Za-z0-9\-])", 0.95),)
    keywords = ("A3-",)
    prefix_chars = 3
    min_entropy = 3.5
    # The example printed in 1Password's own help pages.
    denylist = frozenset({"A3-ASWWYB-798JRY-LJVD4-23DC2-86TVM-H43EB"})
