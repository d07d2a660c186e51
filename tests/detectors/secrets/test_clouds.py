"""Cloud credentials: AWS, Google Cloud, Azure, DigitalOcean, Alibaba, IBM."""
import random
import string

import pytest

ALNUM = string.ascii_letters + string.digits
B32 = string.ascii_uppercase + "234567"
HEX = "0123456789abcdef"
_rng = random.Random("clouds")


def r(n: int, alphabet: str = ALNUM) -> str:
    return "".join(_rng.choice(alphabet) for _ in range(n))


AKIA = "AKIA" + r(16, B32)
ASIA = "ASIA" + r(16, B32)
AWS_SECRET = r(40, ALNUM + "+/")
GCP_KEY_ID = r(40, HEX)
AIZA = "AIza" + r(35, ALNUM + "_-")
GOCSPX = "GOCSPX-" + r(28, ALNUM + "_-")
AZURE_KEY = r(86, ALNUM + "+/") + "=="
SAS_SIG = r(43, ALNUM) + "%3D"
AAD = r(3) + "8Q~" + r(34, ALNUM + "_~.")
DO = "dop_v1_" + r(64, HEX)
LTAI = "LTAI" + r(20)
IBM = r(44, ALNUM + "_-")
FUNCTION_KEY = r(54, ALNUM + "_-") + "=="
VAULT_HVS = "hvs." + r(24)
VAULT_LEGACY = "s." + r(24)

CASES = [
    ("AWS_ACCESS_KEY", f"aws_access_key_id = {AKIA}", [AKIA]),
    ("AWS_ACCESS_KEY", f"AWS_ACCESS_KEY_ID={ASIA}\nAWS_REGION=eu-west-1", [ASIA]),
    ("AWS_ACCESS_KEY", f'{{"AccessKeyId": "{AKIA}"}} and {ASIA}.', [AKIA, ASIA]),
    ("AWS_ACCESS_KEY", "aws_access_key_id = AKIAIOSFODNN7EXAMPLE", []),      # AWS documentation example
    ("AWS_ACCESS_KEY", "key AKIB" + AKIA[4:], []),                          # wrong prefix
    ("AWS_ACCESS_KEY", AKIA[:-1], []),                                       # too short
    ("AWS_ACCESS_KEY", AKIA + "Q", []),                                      # part of a longer token
    ("AWS_ACCESS_KEY", AKIA.lower(), []),                                    # key ids are upper case
    ("AWS_ACCESS_KEY", "key AKIAXXXXXXXXXXXXXXXX", []),                      # mask
    ("AWS_ACCESS_KEY", "key AKIA" + AKIA[4:-1] + "0", []),                   # 0 is not base32
    ("AWS_ACCESS_KEY", "release v2.14.3-AKIA.1", []),                        # version string
    ("AWS_SECRET_KEY", f"aws_secret_access_key = {AWS_SECRET}", [AWS_SECRET]),
    ("AWS_SECRET_KEY", f'"SecretAccessKey": "{AWS_SECRET}",', [AWS_SECRET]),
    ("AWS_SECRET_KEY", f"export AWS_SECRET_ACCESS_KEY='{AWS_SECRET}'", [AWS_SECRET]),
    ("AWS_SECRET_KEY", "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", []),  # documented
    ("AWS_SECRET_KEY", f"checksum {AWS_SECRET}", []),                        # no name: just base64
    ("AWS_SECRET_KEY", f"aws_secret_access_key = {r(40, HEX)}", []),        # a hex hash, not base64 key material
    ("AWS_SECRET_KEY", f"aws_secret_access_key = {AWS_SECRET[:-2]}", []),   # too short
    ("GCP_SERVICE_ACCOUNT_KEY",
     f'{{"type": "service_account", "project_id": "acme-prod", "private_key_id": "{GCP_KEY_ID}",', [GCP_KEY_ID]),
    ("GCP_SERVICE_ACCOUNT_KEY", '"private_key_id": "' + "0" * 40 + '"', []),  # zeroed template
    ("GCP_SERVICE_ACCOUNT_KEY", '"private_key_id": "' + GCP_KEY_ID[:30] + '"', []),  # too short
    ("GCP_SERVICE_ACCOUNT_KEY", f'"client_id": "{GCP_KEY_ID}"', []),         # another field
    ("GOOGLE_API_KEY", f"GEMINI_API_KEY={AIZA}", [AIZA]),
    ("GOOGLE_API_KEY", f"https://maps.googleapis.com/maps/api/js?key={AIZA}&callback=init", [AIZA]),
    ("GOOGLE_API_KEY", "key=AIzaSyXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX", []),   # mask
    ("GOOGLE_API_KEY", f"key={AIZA[:-1]}", []),                              # too short
    ("GOOGLE_API_KEY", "key=Aiza" + AIZA[4:], []),                           # wrong prefix
    ("GOOGLE_OAUTH_CLIENT_SECRET", f'"client_secret": "{GOCSPX}"', [GOCSPX]),
    ("GOOGLE_OAUTH_CLIENT_SECRET", '"client_secret": "GOCSPX-<your-client-secret>"', []),
    ("GOOGLE_OAUTH_CLIENT_SECRET", f"{GOCSPX[:-3]}", []),                   # too short
    ("AZURE_STORAGE_KEY",
     f"DefaultEndpointsProtocol=https;AccountName=acmeprod;AccountKey={AZURE_KEY};EndpointSuffix=core.windows.net",
     [AZURE_KEY]),
    ("AZURE_STORAGE_KEY", f"AZURE_STORAGE_KEY: {AZURE_KEY}", [AZURE_KEY]),
    ("AZURE_STORAGE_KEY", f"const storageAccountKey = '{AZURE_KEY}';", [AZURE_KEY]),
    ("AZURE_STORAGE_KEY",  # Azurite, the local emulator: a published development key
     "AccountName=devstoreaccount1;AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;", []),
    ("AZURE_STORAGE_KEY", f"sha512 digest {AZURE_KEY}", []),               # no name: any base64 blob
    ("AZURE_SAS_TOKEN",
     f"https://acme.blob.core.windows.net/exports/q3.csv?sv=2022-11-02&ss=b&srt=o&sp=r&se=2026-12-01T00:00:00Z&st=2026-11-01T00:00:00Z&spr=https&sig={SAS_SIG}",
     [SAS_SIG]),
    ("AZURE_SAS_TOKEN", "?sv=2022-11-02&ss=b&srt=o&sp=r&sig=<signature>", []),  # placeholder
    ("AZURE_SAS_TOKEN", f"https://example.com/download?sig={SAS_SIG}", []),     # a sig without a SAS
    ("AZURE_FUNCTION_KEY", f"curl https://acme-orders.azurewebsites.net/api/ExportOrders?code={FUNCTION_KEY}",
     [f"acme-orders.azurewebsites.net/api/ExportOrders?code={FUNCTION_KEY}"]),
    ("AZURE_FUNCTION_KEY", f"GET https://acme-orders.azurewebsites.net/api/Export?format=csv&code={FUNCTION_KEY} HTTP/1.1",
     [f"acme-orders.azurewebsites.net/api/Export?format=csv&code={FUNCTION_KEY}"]),
    ("AZURE_FUNCTION_KEY", "https://acme-orders.azurewebsites.net/api/ExportOrders?code=<your-function-key>", []),
    ("AZURE_FUNCTION_KEY", f"https://acme-orders.azurewebsites.net/api/ExportOrders?name={FUNCTION_KEY}", []),  # not the key
    ("AZURE_FUNCTION_KEY", f"https://acme.example.com/api/ExportOrders?code={FUNCTION_KEY}", []),  # not Azure Functions
    ("AZURE_AD_CLIENT_SECRET", f"AZURE_CLIENT_SECRET={AAD}", [AAD]),
    ("AZURE_AD_CLIENT_SECRET", "client_secret: abc8Q~" + "x" * 34, []),        # mask
    ("AZURE_AD_CLIENT_SECRET", f"{AAD[:20]}", []),                             # too short
    ("DIGITALOCEAN_TOKEN", f"DIGITALOCEAN_TOKEN={DO}", [DO]),
    ("DIGITALOCEAN_TOKEN", "dop_v1_" + "0" * 64, []),                          # zeroed
    ("DIGITALOCEAN_TOKEN", f"dop_v2_{DO[7:]}", []),                            # wrong version
    ("DIGITALOCEAN_TOKEN", f"{DO[:-4]}", []),                                  # too short
    ("ALIBABA_ACCESS_KEY", f"ALIBABA_CLOUD_ACCESS_KEY_ID={LTAI}", [LTAI]),
    ("ALIBABA_ACCESS_KEY", "LTAI" + "x" * 20, []),                             # mask
    ("ALIBABA_ACCESS_KEY", "LTAI5t", []),                                      # too short
    ("IBM_CLOUD_API_KEY", f"IBMCLOUD_API_KEY={IBM}", [IBM]),
    ("IBM_CLOUD_API_KEY", f'"ibm_api_key": "{IBM}"', [IBM]),
    ("IBM_CLOUD_API_KEY", f"build_id={IBM}", []),                              # no IBM name
    ("IBM_CLOUD_API_KEY", "IBMCLOUD_API_KEY=<your-ibm-cloud-api-key-goes-here-0000000000>", []),
    ("VAULT_TOKEN", f"export VAULT_TOKEN={VAULT_HVS}", [VAULT_HVS]),
    ("VAULT_TOKEN", f"vault login {VAULT_LEGACY}", [VAULT_LEGACY]),
    ("VAULT_TOKEN", "VAULT_TOKEN=hvs.xxxxxxxxxxxxxxxxxxxxxxxx", []),            # mask
    ("VAULT_TOKEN", "value = settings.defaultConnectionTimeout2Ms", []),      # attribute access
    ("VAULT_TOKEN", f"VAULT_TOKEN={VAULT_HVS[:-6]}", []),                      # too short
]


@pytest.mark.parametrize("entity_type, text, expected",
                         [pytest.param(*c, id=f"{c[0]}-{i}-{'hit' if c[2] else 'miss'}") for i, c in enumerate(CASES)])
def test_cloud_secret(spans, entity_type, text, expected):
    assert spans(text, entity_type) == expected


def test_findings_say_what_they_are(engine):
    [finding] = engine.scan(f"key={AKIA}")
    assert (finding.entity_type, finding.data_class, finding.reason) == ("AWS_ACCESS_KEY", "secret", "AWS access key")
    assert (finding.start, finding.end) == (4, 24)
    assert finding.score >= 0.9


def test_service_account_key_file_gives_its_id_and_its_private_key(engine):
    import base64
    import json
    material = base64.b64encode(random.Random("sa").randbytes(1200)).decode()
    pem = ("-----BEGIN PRIVATE KEY-----\n" + "\n".join(material[i:i + 64] for i in range(0, len(material), 64))
           + "\n-----END PRIVATE KEY-----\n")
    key_file = json.dumps({"type": "service_account", "project_id": "acme-prod", "private_key_id": GCP_KEY_ID,
                           "private_key": pem, "client_email": "etl@acme-prod.iam.gserviceaccount.com"}, indent=2)
    secrets = [(f.entity_type, key_file[f.start:f.end]) for f in engine.scan(key_file) if f.data_class == "secret"]
    escaped_pem = json.dumps(pem)[1:-1].removesuffix("\\n")   # as it sits in the JSON string
    assert secrets == [("GCP_SERVICE_ACCOUNT_KEY", GCP_KEY_ID), ("PRIVATE_KEY", escaped_pem)]
