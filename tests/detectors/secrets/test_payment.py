"""Payment: Stripe live keys (test-mode keys are not secrets here), Square, Braintree, Adyen."""
import base64
import random
import string

import pytest

ALNUM = string.ascii_letters + string.digits
HEX = "0123456789abcdef"
_rng = random.Random("payment")


def r(n: int, alphabet: str = ALNUM) -> str:
    return "".join(_rng.choice(alphabet) for _ in range(n))


def b64(n_bytes: int) -> str:
    return base64.b64encode(_rng.randbytes(n_bytes)).decode()


SK_LIVE = "sk_live_51" + r(97)
RK_LIVE = "rk_live_" + r(24)
WHSEC = "whsec_" + r(32)
SQ_EAAA = "EAAA" + r(60, ALNUM + "_-")
SQ_ATP = "sq0atp-" + r(22, ALNUM + "_-")
SQ_CSP = "sq0csp-" + r(43, ALNUM + "_-")
BRAINTREE = f"access_token$production${r(16, string.ascii_lowercase + string.digits)}${r(32, HEX)}"
ADYEN = "AQE" + b64(60) + "-" + b64(32) + "-" + r(16, ALNUM + "%;}=+")

CASES = [
    ("STRIPE_SECRET_KEY", f"STRIPE_SECRET_KEY={SK_LIVE}", [SK_LIVE]),
    ("STRIPE_SECRET_KEY", f"stripe.api_key = \"{SK_LIVE}\"", [SK_LIVE]),
    ("STRIPE_SECRET_KEY", "sk_test_" + SK_LIVE[8:], []),                       # test mode
    ("STRIPE_SECRET_KEY", "pk_live_" + SK_LIVE[8:], []),                       # publishable key
    ("STRIPE_SECRET_KEY", "sk_live_xxxxxxxxxxxxxxxxxxxxxxxx", []),              # mask
    ("STRIPE_SECRET_KEY", "sk_live_" + r(10), []),                             # too short
    ("STRIPE_RESTRICTED_KEY", f"key: {RK_LIVE}", [RK_LIVE]),
    ("STRIPE_RESTRICTED_KEY", "rk_test_" + RK_LIVE[8:], []),                   # test mode
    ("STRIPE_RESTRICTED_KEY", "rk_live_...", []),                               # elided
    ("STRIPE_WEBHOOK_SECRET", f"STRIPE_WEBHOOK_SECRET={WHSEC}", [WHSEC]),
    ("STRIPE_WEBHOOK_SECRET", "whsec_" + "x" * 32, []),                        # mask
    ("STRIPE_WEBHOOK_SECRET", "whsec_123", []),                                # too short
    ("SQUARE_ACCESS_TOKEN", f"SQUARE_ACCESS_TOKEN={SQ_EAAA}", [SQ_EAAA]),
    ("SQUARE_ACCESS_TOKEN", f"token {SQ_ATP}", [SQ_ATP]),
    ("SQUARE_ACCESS_TOKEN", "EAAA" + "A" * 60, []),                            # mask
    ("SQUARE_ACCESS_TOKEN", "EAAAEOuLQPDbLd", []),                              # too short
    ("SQUARE_OAUTH_SECRET", f"application_secret={SQ_CSP}", [SQ_CSP]),
    ("SQUARE_OAUTH_SECRET", "sq0csp-" + "X" * 43, []),                          # mask
    ("BRAINTREE_ACCESS_TOKEN", f"gateway = braintree.BraintreeGateway(access_token=\"{BRAINTREE}\")", [BRAINTREE]),
    ("BRAINTREE_ACCESS_TOKEN", "access_token$sandbox$" + BRAINTREE.split("$", 2)[2], []),  # sandbox
    ("BRAINTREE_ACCESS_TOKEN", "access_token$production$<merchant id>$<token>", []),      # placeholder
    ("ADYEN_API_KEY", f"ADYEN_API_KEY={ADYEN}", [ADYEN]),
    ("ADYEN_API_KEY", "ADYEN_API_KEY=AQE" + "x" * 80 + "-" + "y" * 44 + "-" + "z" * 16, []),  # mask
    ("ADYEN_API_KEY", "AQEyhmfxK", []),                                          # truncated
]


@pytest.mark.parametrize("entity_type, text, expected",
                         [pytest.param(*c, id=f"{c[0]}-{i}-{'hit' if c[2] else 'miss'}") for i, c in enumerate(CASES)])
def test_payment_secret(spans, entity_type, text, expected):
    assert spans(text, entity_type) == expected
