"""Cloud provider credentials: AWS, Google Cloud, Azure, DigitalOcean, Alibaba, IBM."""
from __future__ import annotations

from shadowmap.detectors.recognizers.secrets.rules import TokenRecognizer, assigned, cases


class AwsAccessKeyRecognizer(TokenRecognizer):
    entity_type = "AWS_ACCESS_KEY"
    reason = "AWS access key"
    # Key ids are a 4-letter kind prefix + 16 base32 characters (A-Z, 2-7).
    patterns = ((r"(?<![A-Za-z0-9])(?:AKIA|ASIA|ABIA|ACCA|A3T[A-Z0-9])[A-Z2-7]{16}(?![A-Za-z0-9])", 0.95),)
    keywords = ("AKIA", "ASIA", "ABIA", "ACCA", "A3T")
    prefix_chars = 4
    min_distinct = 6
    min_entropy = 2.5
    # Examples printed in AWS documentation and SDK READMEs.
    denylist = frozenset({"AKIAIOSFODNN7EXAMPLE", "AKIAI44QH8DHBEXAMPLE", "ASIAIOSFODNN7EXAMPLE"})


class AwsSecretKeyRecognizer(TokenRecognizer):
    entity_type = "AWS_SECRET_KEY"
    reason = "AWS secret access key"
    # 40 base64 characters, recognisable only by the name it is assigned to.
    patterns = ((assigned(r"aws_?secret_?(?:access_?)?key|secretaccesskey|secret_access_key",
                          r"[A-Za-z0-9/+]{40}") + r"(?![A-Za-z0-9/+=])", 0.9),)
    keywords = cases("secret_access_key", "secretaccesskey", "aws_secret_key", "awssecretkey",
                     "SecretAccessKey", "AWS_SECRET")
    min_entropy = 4.0
    denylist = frozenset({"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY"})


class GcpServiceAccountKeyRecognizer(TokenRecognizer):
    entity_type = "GCP_SERVICE_ACCOUNT_KEY"
    reason = "Google Cloud service-account key file"
    # The key file's private_key is also caught as a private key; its id marks the file.
    patterns = ((r"\"private_key_id\"\s*:\s*\"(?P<value>[a-f0-9]{40})\"", 0.95),)
    keywords = ("private_key_id",)
    min_entropy = 3.2


class GoogleApiKeyRecognizer(TokenRecognizer):
    entity_type = "GOOGLE_API_KEY"
    reason = "Google API key (Cloud, Maps, Gemini)"
    patterns = ((r"(?<![A-Za-z0-9_\-])AIza[A-Za-z0-9_\-]{35}(?![A-Za-z0-9_\-])", 0.95),)
    keywords = ("AIza",)
    prefix_chars = 4
    min_entropy = 3.8


class GoogleOauthClientSecretRecognizer(TokenRecognizer):
    entity_type = "GOOGLE_OAUTH_CLIENT_SECRET"
    reason = "Google OAuth client secret"
    patterns = ((r"(?<![A-Za-z0-9_\-])GOCSPX-[A-Za-z0-9_\-]{28}(?![A-Za-z0-9_\-])", 0.95),)
    keywords = ("GOCSPX-",)
    prefix_chars = 7
    min_entropy = 3.6


class AzureStorageKeyRecognizer(TokenRecognizer):
    entity_type = "AZURE_STORAGE_KEY"
    reason = "Azure storage or Cosmos DB account key"
    # 64 random bytes in base64 (88 characters), in a connection string or beside its name.
    patterns = (
        (r"(?i:AccountKey|storage_?account_?key|azure_?storage_?key|access_?key)[\w.\-]{0,20}[\"']?"
         r"\s{0,3}[=:]\s{0,3}[\"']?(?P<value>[A-Za-z0-9+/]{86}==)", 0.95),
        # Cosmos DB's MongoDB API takes the account key as the password of its URL.
        (r"(?<![A-Za-z0-9+.\-])(?i:mongodb)(?:\+srv)?://[^\s:/@'\"<>]{1,64}:(?P<value>[A-Za-z0-9+/]{86}(?:==|%3[Dd]%3[Dd]))@",
         0.95),
    )
    # Fragments without the first letter match every casing of the name (accountKey, AccountKey).
    keywords = ("ccountKey", "ccountkey", "CCOUNTKEY", "ccount_key", "CCOUNT_KEY", "torage_key", "TORAGE_KEY",
                "torageKey", "ccess_key", "CCESS_KEY", "ccessKey", "ccesskey", "CCESSKEY", "ongodb://", "ONGODB://",
                "ongodb+srv://")
    min_entropy = 4.5
    # Azurite's (the local emulator's) published development key.
    denylist = frozenset({
        "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==",
    })


class AzureSasTokenRecognizer(TokenRecognizer):
    entity_type = "AZURE_SAS_TOKEN"
    reason = "Azure shared access signature (SAS)"
    # A SAS query: version, permissions and expiry, then its signature (URL-encoded base64).
    patterns = ((r"(?<![\w])sv=\d{4}-\d{2}-\d{2}&[^\s\"'<>]{0,300}?sig=(?P<value>[A-Za-z0-9%+/]{40,120}(?:%3D|=){0,2})", 0.95),)
    keywords = ("sig=",)
    reach_before = 400   # the signature comes last in the query
    min_entropy = 4.0


class AzureAdClientSecretRecognizer(TokenRecognizer):
    entity_type = "AZURE_AD_CLIENT_SECRET"
    reason = "Azure AD (Entra ID) application client secret"
    # 3 characters, a digit, "Q~", then 31-34: the shape Entra ID issues since 2021.
    patterns = ((r"(?<![A-Za-z0-9_~.\-])[A-Za-z0-9_~.]{3}\dQ~[A-Za-z0-9_~.\-]{31,34}(?![A-Za-z0-9_~.\-])", 0.9),)
    keywords = ("Q~",)
    min_entropy = 3.8


class DigitalOceanTokenRecognizer(TokenRecognizer):
    entity_type = "DIGITALOCEAN_TOKEN"
    reason = "DigitalOcean API token"
    patterns = ((r"(?<![A-Za-z0-9_])do[opr]_v1_[a-f0-9]{64}(?![A-Za-z0-9_])", 0.95),)
    keywords = ("dop_v1_", "doo_v1_", "dor_v1_")
    prefix_chars = 7
    min_entropy = 3.5


class AlibabaAccessKeyRecognizer(TokenRecognizer):
    entity_type = "ALIBABA_ACCESS_KEY"
    reason = "Alibaba Cloud access key id"
    patterns = ((r"(?<![A-Za-z0-9])LTAI[A-Za-z0-9]{12,20}(?![A-Za-z0-9])", 0.9),)
    keywords = ("LTAI",)
    prefix_chars = 4
    min_entropy = 3.2


class IbmCloudApiKeyRecognizer(TokenRecognizer):
    entity_type = "IBM_CLOUD_API_KEY"
    reason = "IBM Cloud API key"
    # 44 characters with no prefix: only where it is assigned to an IBM / IAM api key name.
    patterns = ((assigned(r"ibm[\w.\-]{0,20}?(?:api_?key|apikey)|iam_?api_?key|ibmcloud_?api_?key",
                          r"[A-Za-z0-9_\-]{44}") + r"(?![A-Za-z0-9_\-])", 0.9),)
    keywords = (*cases("ibm", "iam_api", "iamapikey", "iam_apikey"), "iamApiKey", "IamApiKey")
    min_entropy = 4.0


class VaultTokenRecognizer(TokenRecognizer):
    entity_type = "VAULT_TOKEN"
    reason = "HashiCorp Vault token"
    # Vault's token formats: "hvs." (service), "hvb." (batch) and "hvr." (recovery) since
    # 1.10, and the legacy service token "s." with 24 base62 characters. Long service and
    # batch tokens are VAULT_SERVICE_TOKEN / VAULT_BATCH_TOKEN (secret_formats.yaml).
    patterns = (
        # A prefixed token may follow a word it was pasted onto ("tokenhvs.…").
        (r"hv[sbr]\.[A-Za-z0-9_\-]{24,89}(?![A-Za-z0-9_\-])", 0.9),
        # The legacy form only as a word of its own, never ``obj.attribute`` or a call.
        (r"(?<![A-Za-z0-9_\-.])s\.[A-Za-z0-9]{24,40}(?![A-Za-z0-9_\-.(])", 0.8),
    )
    keywords = ("hvs.", "hvb.", "hvr.", "s.")
    prefix_chars = 2
    min_entropy = 3.5

    def check(self, value: str) -> bool:
        random_part = value.split(".", 1)[1]
        # Random base62 mixes upper case, lower case and digits.
        return (any(c.isupper() for c in random_part) and any(c.islower() for c in random_part)
                and any(c.isdigit() for c in random_part))
