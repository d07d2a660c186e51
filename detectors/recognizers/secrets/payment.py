"""Payment APIs: Stripe, Square, PayPal/Braintree, Adyen. Test-mode keys are not matched:
they move no money and reach no customer data."""
from __future__ import annotations

from shadowmap.detectors.recognizers.secrets.rules import TokenRecognizer


class StripeSecretKeyRecognizer(TokenRecognizer):
    entity_type = "STRIPE_SECRET_KEY"
    reason = "Stripe live secret key"
    patterns = ((r"(?<![A-Za-z0-9_])sk_live_[A-Za-z0-9]{24,247}(?![A-Za-z0-9_])", 0.95),)
    keywords = ("sk_live_",)
    prefix_chars = 8


class StripeRestrictedKeyRecognizer(TokenRecognizer):
    entity_type = "STRIPE_RESTRICTED_KEY"
    reason = "Stripe live restricted key"
    patterns = ((r"(?<![A-Za-z0-9_])rk_live_[A-Za-z0-9]{24,247}(?![A-Za-z0-9_])", 0.95),)
    keywords = ("rk_live_",)
    prefix_chars = 8


class StripeWebhookSecretRecognizer(TokenRecognizer):
    entity_type = "STRIPE_WEBHOOK_SECRET"
    reason = "Stripe webhook signing secret"
    patterns = ((r"(?<![A-Za-z0-9_])whsec_[A-Za-z0-9]{32,64}(?![A-Za-z0-9_])", 0.9),)
    keywords = ("whsec_",)
    prefix_chars = 6


class SquareAccessTokenRecognizer(TokenRecognizer):
    entity_type = "SQUARE_ACCESS_TOKEN"
    reason = "Square production access token"
    patterns = (
        # Lengths as gitleaks' square-access-token rule has them (22 to 60 after the prefix).
        (r"(?<![A-Za-z0-9_\-])EAAA[A-Za-z0-9_\-]{22,60}(?![A-Za-z0-9_\-])", 0.9),
        (r"(?<![A-Za-z0-9_\-])sq0atp-[A-Za-z0-9_\-]{22,60}(?![A-Za-z0-9_\-])", 0.95),
    )
    keywords = ("EAAA", "sq0atp-")
    prefix_chars = 4
    min_entropy = 3.6


class SquareOauthSecretRecognizer(TokenRecognizer):
    entity_type = "SQUARE_OAUTH_SECRET"
    reason = "Square application secret"
    patterns = ((r"(?<![A-Za-z0-9_\-])sq0csp-[A-Za-z0-9_\-]{43}(?![A-Za-z0-9_\-])", 0.95),)
    keywords = ("sq0csp-",)
    prefix_chars = 7


class BraintreeAccessTokenRecognizer(TokenRecognizer):
    entity_type = "BRAINTREE_ACCESS_TOKEN"
    reason = "PayPal / Braintree production access token"
    patterns = ((r"access_token\$production\$[a-z0-9]{16}\$[a-f0-9]{32}(?![A-Za-z0-9])", 0.95),)
    keywords = ("access_token$production$",)
    prefix_chars = 24


class AdyenApiKeyRecognizer(TokenRecognizer):
    entity_type = "ADYEN_API_KEY"
    reason = "Adyen API key"
    # "AQE" + base64 segments joined by "-": an encrypted merchant credential.
    patterns = ((r"(?<![A-Za-z0-9+/\-])AQE[A-Za-z0-9+/]{20,}={0,2}-[A-Za-z0-9+/]{40,}={0,2}-[^\s\"'`]{16}"
                 r"(?![^\s\"'`,])", 0.9),)
    keywords = ("AQE",)
    reach_after = 2048
    prefix_chars = 3
    min_entropy = 4.2
    min_distinct = 20

    def is_valid(self, value: str) -> bool:
        # The trailing segment holds punctuation by design; judge randomness on the rest.
        head = value.rsplit("-", 1)[0]
        return super().is_valid(head)
