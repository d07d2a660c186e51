"""Business SaaS: Twilio, SendGrid, Mailgun, Shopify, Atlassian, Notion, Linear, Datadog,
New Relic, Sentry, PagerDuty, Okta, Terraform Cloud, Doppler, 1Password."""
import base64
import json
import random
import string

import pytest

ALNUM = string.ascii_letters + string.digits
HEX = "0123456789abcdef"
UPPER_NUM = string.ascii_uppercase + string.digits
_rng = random.Random("saas")


def r(n: int, alphabet: str = ALNUM) -> str:
    return "".join(_rng.choice(alphabet) for _ in range(n))


def b64json(obj: dict) -> str:
    return base64.b64encode(json.dumps(obj).encode()).decode()


TWILIO_SK = "SK" + r(32, HEX)
TWILIO_AUTH = r(32, HEX)
SENDGRID = "SG." + r(22, ALNUM + "_-") + "." + r(43, ALNUM + "_-")
MAILGUN_LEGACY = "key-" + r(32, HEX)
MAILGUN = f"{r(32, HEX)}-{r(8, HEX)}-{r(8, HEX)}"
SHPAT = "shpat_" + r(32, HEX)
ATATT = "ATATT3xFfGF0" + r(170, ALNUM + "_-") + "=" + r(8, "0123456789ABCDEF")
NTN = "ntn_" + r(11, string.digits) + r(35)
NOTION_LEGACY = "secret_" + r(43)
LINEAR = "lin_api_" + r(40)
DD_API = r(32, HEX)
NRAK = "NRAK-" + r(27, UPPER_NUM)
SNTRYS = ("sntrys_" + b64json({"iat": 1747812640.6, "url": "https://sentry.io", "region_url": "https://de.sentry.io",
                               "org": "acme"}) + "_" + r(43, ALNUM + "+/"))
SNTRYS_NO_CLAIMS = "sntrys_eyJ" + r(120, ALNUM) + "_" + r(43, ALNUM)
PAGERDUTY = "u+" + r(18, ALNUM + "_-")
OKTA = "00" + r(40, ALNUM + "_-")
TFC = r(14) + ".atlasv1." + r(67, ALNUM + "_-")
DOPPLER = "dp.pt." + r(43)
OPS = "ops_" + b64json({"signInAddress": "acme.1password.com", "userAuth": {"method": "SRPg-4096", "alg": "PBES2g-HS256",
                                                                           "iterations": 650000, "salt": r(22)},
                        "email": f"{r(12).lower()}@1passwordserviceaccounts.com", "srpX": r(64, HEX),
                        "muk": {"alg": "A256GCM", "ext": True, "k": r(43, ALNUM + "_-"), "kty": "oct"},
                        "secretKey": "A3-" + r(6, UPPER_NUM), "deviceUuid": r(26, string.ascii_lowercase)})
OPS_NOT_JSON = "ops_eyJ" + r(200, ALNUM)
A3 = "A3-" + "-".join(r(n, UPPER_NUM) for n in (6, 6, 5, 5, 5, 5))

CASES = [
    ("TWILIO_API_KEY", f"TWILIO_API_KEY={TWILIO_SK}", [TWILIO_SK]),
    ("TWILIO_API_KEY", f"TWILIO_AUTH_TOKEN={TWILIO_AUTH}", [TWILIO_AUTH]),
    ("TWILIO_API_KEY", f"md5 {TWILIO_AUTH}", []),                                # an md5 is not a key
    ("TWILIO_API_KEY", "SK" + "x" * 32, []),                                     # mask
    ("TWILIO_API_KEY", f"ASK{TWILIO_SK[2:]}", []),                               # inside a longer token
    ("SENDGRID_API_KEY", f"SENDGRID_API_KEY={SENDGRID}", [SENDGRID]),
    ("SENDGRID_API_KEY", "SG.xxxxxxxxxxxxxxxxxxxxxx.xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", []),  # mask
    ("SENDGRID_API_KEY", "SG.ABC.def", []),                                      # too short
    ("MAILGUN_API_KEY", f"MAILGUN_API_KEY={MAILGUN_LEGACY}", [MAILGUN_LEGACY]),
    ("MAILGUN_API_KEY", f"mailgun api_key: {MAILGUN}", [MAILGUN]),
    ("MAILGUN_API_KEY", f"trace {MAILGUN}", []),                                 # the bare form needs Mailgun named
    ("MAILGUN_API_KEY", "key-" + "0" * 32, []),                                  # zeroed
    ("SHOPIFY_TOKEN", f"X-Shopify-Access-Token: {SHPAT}", [SHPAT]),
    ("SHOPIFY_TOKEN", "shpat_" + "0" * 32, []),                                  # zeroed
    ("SHOPIFY_TOKEN", "shpat_abc123", []),                                       # too short
    ("ATLASSIAN_API_TOKEN", f"JIRA_API_TOKEN={ATATT}", [ATATT]),
    ("ATLASSIAN_API_TOKEN", "JIRA_API_TOKEN=ATATT3xFfGF0...", []),                # elided
    ("ATLASSIAN_API_TOKEN", "ATATT3" + "x" * 170 + "=ABCDEF12", []),              # mask
    ("NOTION_TOKEN", f"NOTION_TOKEN={NTN}", [NTN]),
    ("NOTION_TOKEN", f"notion_key: {NOTION_LEGACY}", [NOTION_LEGACY]),
    ("NOTION_TOKEN", "NOTION_TOKEN=secret_xxx", []),                              # placeholder
    ("NOTION_TOKEN", "secret_santa_list_2024", []),                              # a name
    ("LINEAR_API_KEY", f"LINEAR_API_KEY={LINEAR}", [LINEAR]),
    ("LINEAR_API_KEY", "LINEAR_API_KEY=lin_api_xxx", []),                         # placeholder
    ("DATADOG_API_KEY", f"DD_API_KEY={DD_API}", [DD_API]),
    ("DATADOG_API_KEY", f'datadog:\n  api_key: "{DD_API}"', []),                 # name split over lines
    ("DATADOG_API_KEY", f"commit_md5={DD_API}", []),                             # no Datadog name
    ("DATADOG_API_KEY", "DD_API_KEY=<DATADOG_API_KEY>", []),                      # placeholder
    ("NEW_RELIC_KEY", f"NEW_RELIC_API_KEY={NRAK}", [NRAK]),
    ("NEW_RELIC_KEY", "NRAK-XXXXXXXXXXXXXXXXXXXXXXXXXXX", []),                     # mask
    ("NEW_RELIC_KEY", "NRAK-123", []),                                           # too short
    ("SENTRY_TOKEN", f"SENTRY_AUTH_TOKEN={SNTRYS}", [SNTRYS]),
    ("SENTRY_TOKEN", f"SENTRY_AUTH_TOKEN={SNTRYS_NO_CLAIMS}", []),                # payload is not its claims
    ("SENTRY_TOKEN", "SENTRY_AUTH_TOKEN=sntrys_your-auth-token", []),            # placeholder
    ("PAGERDUTY_TOKEN", f"PAGERDUTY_TOKEN={PAGERDUTY}", [PAGERDUTY]),
    ("PAGERDUTY_TOKEN", f'const pagerDutyToken = "{PAGERDUTY}"', [PAGERDUTY]),
    ("PAGERDUTY_TOKEN", "PAGERDUTY_TOKEN=y_NbAkKc66ryYTWUXYEu", []),              # PagerDuty's docs example
    ("PAGERDUTY_TOKEN", f"build {PAGERDUTY}", []),                               # no PagerDuty name
    ("OKTA_API_TOKEN", f"OKTA_API_TOKEN={OKTA}", [OKTA]),
    ("OKTA_API_TOKEN", f"Authorization: SSWS {OKTA}", [OKTA]),
    ("OKTA_API_TOKEN", "OKTA_API_TOKEN={apiToken}", []),                          # template
    ("OKTA_API_TOKEN", f"trace_id={OKTA}", []),                                  # no Okta name
    ("TERRAFORM_CLOUD_TOKEN", f'credentials "app.terraform.io" {{\n  token = "{TFC}"\n}}', [TFC]),
    ("TERRAFORM_CLOUD_TOKEN", "token = \"xxxxxxxxxxxxxx.atlasv1.xxxxxxxx\"", []),  # mask
    ("DOPPLER_TOKEN", f"DOPPLER_TOKEN={DOPPLER}", [DOPPLER]),
    ("DOPPLER_TOKEN", "DOPPLER_TOKEN=dp.st.xxxx", []),                            # placeholder
    ("ONEPASSWORD_SERVICE_TOKEN", f"OP_SERVICE_ACCOUNT_TOKEN={OPS}", [OPS]),
    ("ONEPASSWORD_SERVICE_TOKEN", f"OP_SERVICE_ACCOUNT_TOKEN={OPS_NOT_JSON}", []),  # not a token payload
    ("ONEPASSWORD_SECRET_KEY", f"Secret Key: {A3}", [A3]),
    ("ONEPASSWORD_SECRET_KEY", "Secret Key: A3-ASWWYB-798JRY-LJVD4-23DC2-86TVM-H43EB", []),  # 1Password's example
    ("ONEPASSWORD_SECRET_KEY", "A3-XXXXXX-XXXXXX-XXXXX-XXXXX-XXXXX-XXXXX", []),  # mask
]


@pytest.mark.parametrize("entity_type, text, expected",
                         [pytest.param(*c, id=f"{c[0]}-{i}-{'hit' if c[2] else 'miss'}") for i, c in enumerate(CASES)])
def test_saas_secret(spans, entity_type, text, expected):
    assert spans(text, entity_type) == expected
