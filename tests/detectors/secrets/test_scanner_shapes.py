"""Shapes the secret scanners document that the family tables do not hold: Discord tokens
whose first part is not a decodable id, Vault tokens glued to a word, Slack's shorter
forms, unsigned JWTs, a private key header over a mangled body, Cosmos DB keys in a
MongoDB URL, truncated PyPI tokens, and assignments whose value holds brackets or is a
password of run-together words. Each with the near misses that must stay quiet. (Not a
family table: the corpus does not read this file.)"""
import base64
import json

import pytest


def _b64url(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


JWT_HEADER = _b64url({"alg": "HS256", "typ": "JWT"})
JWT_PAYLOAD = _b64url({"sub": "4821", "name": "Ada", "iat": 1733580000})
UNSIGNED_JWT = f"{JWT_HEADER}.{JWT_PAYLOAD}"
COSMOS_KEY = "q7Rk2LmW9vXpT4nB8cZs1YfHd3JgK6uE0oPaQiV5wNtMxCb2RlSjGy7eUh4DkF9rAzL1sTq8PmWn3VcXo6YbIg=="
OAUTH_HEX = "0d67c8b334048135a93615610445e4aa90c6af6222392b49eea9419e1d6717d0"
AIVEN_TOKEN = ("Zq4Lx9Wm2Rv7Tb1Nc6Ys3Hd5Jf0Ga8Kp/+" * 12)[:372]
PYPI_SHORT = "pypi-AgEIcHlwaS5vcmc" + "k3Fq9Zr2Lw8Xn5Tb7Vy4Pc1Hs6Dm0Jg-Qa_Ue3Ri8Ko2Nf5Wz9Yt4Bx7Cv1Gl6Mp"

CASES_BY_TYPE = [
    # Discord: the first part need not decode to an id when the three parts have the shape.
    ("DISCORD_BOT_TOKEN", "bot.run('MZ1yGvKTjE0rY0cV8i47CjAa.uRHQPq.Xb1Mk2nEhe-4iUcrGOuegj57zMC')",
     ["MZ1yGvKTjE0rY0cV8i47CjAa.uRHQPq.Xb1Mk2nEhe-4iUcrGOuegj57zMC"]),
    ("DISCORD_BOT_TOKEN", "MTAyOTQ4MTN5OTU5MTDwMEcxNg0.GSwJyi.sbaw8msOR3Wi6vPUzeIWy_P0vJbB0UuRVjH8l8", []),  # 27 chars, no id
    ("DISCORD_BOT_TOKEN", "Mozilla.firefox.ExtensionsManagerComponent", []),   # dotted names
    ("DISCORD_BOT_TOKEN", "MZ1yGvKTjE0rY0cV8i47CjAa.uRHQPq.xxxxxxxxxxxxxxxxxxxxxxxxxxx", []),  # mask
    ("DISCORD_BOT_TOKEN", "NodeVersionManagerScripts.Update.InstallAllPackagesNow", []),  # no digits
    # Vault: a prefixed token glued to a word; the legacy "s." only as a word of its own.
    ("VAULT_TOKEN", "tokenhvs.wWPw5k4aXcaT4fNP0UcnZwJUVFk6LO0pINUx", ["hvs.wWPw5k4aXcaT4fNP0UcnZwJUVFk6LO0pINUx"]),
    ("VAULT_TOKEN", "MyClass.atLeast24CharactersField", []),
    ("VAULT_TOKEN", "call s.getElementsByTagName2Xyz(el)", []),
    # Slack: xox?-<team>-<user><letters>.
    ("SLACK_TOKEN", "slack token - 'xoxp-24232636415-0285024315463c'", ["xoxp-24232636415-0285024315463c"]),
    ("SLACK_TOKEN", "slack token - 'xoxb-65677559833-9613778673399u'", ["xoxb-65677559833-9613778673399u"]),
    ("SLACK_TOKEN", "slack token - 'xoxp-24232636415?0285024315463c'", []),
    ("SLACK_TOKEN", "xoxb-11111111111-2222222222222a", []),
    ("SLACK_TOKEN", "xoxb-1234567890-1234567890123x", []),                    # counting digits
    # JWT: header.payload with no signature.
    ("JWT", f"Authorization: Bearer {UNSIGNED_JWT}", [UNSIGNED_JWT]),
    ("JWT", "eyJBB.eyJCC.eyJDDDD", []),
    ("JWT", f"{_b64url({'name': 'x', 'id': 3})}.{JWT_PAYLOAD}", []),         # no alg or typ
    ("JWT", f"{JWT_HEADER}.{JWT_PAYLOAD}.abc", []),                           # a cut signature
    # PEM header on its own line over a body that is not base64.
    ("PRIVATE_KEY", "some text here\n-----BEGIN PRIVATE KEY-----\nyabba dabba doo",
     ["-----BEGIN PRIVATE KEY-----\nyabba dabba doo"]),
    ("PRIVATE_KEY", "-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA...\n-----END RSA PRIVATE KEY-----", []),
    ("PRIVATE_KEY", "-----BEGIN PRIVATE KEY-----\n<paste your key here>\n", []),
    ("PRIVATE_KEY", "-----BEGIN PRIVATE KEY-----\nxxxxxxxxxxxxxxxx\n", []),
    ("PRIVATE_KEY", "-----BEGIN PRIVATE KEY-----\n-----END PRIVATE KEY-----", []),
    # Cosmos DB: the account key is the password of its MongoDB URL.
    ("AZURE_STORAGE_KEY", f"mongodb://acme-db:{COSMOS_KEY}@acme-db.mongo.cosmos.azure.com:10255/?ssl=true",
     [COSMOS_KEY]),
    ("AZURE_STORAGE_KEY", "mongodb://app:S3cr3t-pass@db.internal:27017/orders", []),   # a password, not a key
    ("AZURE_STORAGE_KEY", "mongodb://acme-db:<primary-key>@acme-db.mongo.cosmos.azure.com:10255/", []),
    # New Relic browser key: 19 hex characters after NRJS-.
    ("NEW_RELIC_KEY", "newToken = 'NRJS-7b5075f050398788709'", ["NRJS-7b5075f050398788709"]),
    ("NEW_RELIC_KEY", "NRJS-0000000000000000000", []),
    # PyPI: the prefix and 50+ characters, after a comma; a macaroon cut before its
    # signature is not a usable token.
    ("PYPI_TOKEN", f"pypiToken,{PYPI_SHORT},", [PYPI_SHORT]),
    ("PYPI_TOKEN", "pypi-AgEIcHlwaS5vcmcCJDU3OTM1MjliLWIyYTYtNDEwOC05NzRkLTM0MjNiNmEwNWIzYgACF1sxLFsibWluaW1h", []),
    # Assignments: brackets inside a value that is no template; aligned operators;
    # run-together words under a name that can only mean a password.
    ("PASSWORD_ASSIGNMENT", "my_password =m{{h}o)p${e]nob(ody[finds>-_$#thisone}}",
     ["m{{h}o)p${e]nob(ody[finds>-_$#thisone}}"]),
    ("PASSWORD_ASSIGNMENT", '<sometag value="m{{h}o)p${e]nob(ody[finds" name="the_password_attribute">x</sometag>',
     ["m{{h}o)p${e]nob(ody[finds"]),
    ("PASSWORD_ASSIGNMENT", 'password =    "ilikespaces"', ["ilikespaces"]),
    ("PASSWORD_ASSIGNMENT", "login_somewhere --http-password hopenobodyfindsthisone\n", ["hopenobodyfindsthisone"]),
    ("PASSWORD_ASSIGNMENT", "db.connect(password=abc123xy)", ["abc123xy"]),
    ("PASSWORD_ASSIGNMENT", "password: {type: String, required: true}", []),
    ("PASSWORD_ASSIGNMENT", "DB_PASSWORD=${DB_PASS}", []),
    ("PASSWORD_ASSIGNMENT", "password: {{ .Values.db.password }}", []),
    ("PASSWORD_ASSIGNMENT", "password = newpassword", []),                   # names the field
    ("PASSWORD_ASSIGNMENT", "password: Passwort", []),                       # a translation
    ("PASSWORD_ASSIGNMENT", "pass = somethingelse", []),                     # "pass" is not only a password
    ("PASSWORD_ASSIGNMENT", '<sometag name="password" value="somefakesecret" />', []),
    ("PASSWORD_ASSIGNMENT", "password = shortword", []),                     # one word
    ("PASSWORD_ASSIGNMENT", "PWD=/home/alice/projects\nOLDPWD=/usr/local/bin", []),  # an env dump's paths
    ("PASSWORD_ASSIGNMENT", "pwd: C:\\Users\\alice\\source", []),
    ("PASSWORD_ASSIGNMENT", "DB_PASSWORD=/8fG$k2!xQ", ["/8fG$k2!xQ"]),      # not a path
    ("SECRET_ASSIGNMENT", "apikey := m{{h}o)p${e]nob(ody[finds>-_$#thisone}}", ["m{{h}o)p${e]nob(ody[finds>-_$#thisone}}"]),
    ("PASSWORD_ASSIGNMENT", 'if password == "Adm1n@2024!x":', ["Adm1n@2024!x"]),     # checked in code
    ("PASSWORD_ASSIGNMENT", "if (user.password === 'Adm1n@2024!x')", ["Adm1n@2024!x"]),
    ("PASSWORD_ASSIGNMENT", "if password == confirm_password:", []),       # no literal
    ("PASSWORD_ASSIGNMENT", 'if password == "":', []),
    ("SECRET_ASSIGNMENT", 'if token_type == "bearer_token_v2":', []),      # a setting about tokens
    ("SECRET_ASSIGNMENT", "theapikeyforfoo := hopenobodyfindsthisone", []),  # words are a password's, not a key's
    ("SECRET_ASSIGNMENT", "api_token = {{ secrets.API_TOKEN }}", []),
    # Vendor words as TruffleHog keys them: a label of up to two words, " - " before a
    # quoted value, a key/id pair split by a slash.
    ("TWILIO_API_KEY", "twilio token - 'daf7b3d34b9787f1212316eea62ba186'", ["daf7b3d34b9787f1212316eea62ba186"]),
    ("TWILIO_API_KEY", "twilio token - 'daf7b3d34b9787f1?12316eea62ba186'", []),
    ("AIRBRAKE_API_KEY", "airbrake = 'qwmnerBv56zxpocvkjqr78afvYUx90Op/451298'", ["qwmnerBv56zxpocvkjqr78afvYUx90Op"]),
    ("APIMETRICS_API_KEY", "apimetrics api key = 'w8Xk2Pq9Lm4Rt7Vb1Nc6Zs3Hd5Jf0Ga1'", ["w8Xk2Pq9Lm4Rt7Vb1Nc6Zs3Hd5Jf0Ga1"]),
    ("APIMETRICS_API_KEY", "apimetrics - w8Xk2Pq9Lm4Rt7Vb1Nc6Zs3Hd5Jf0Ga1", []),   # " - " only before a quote
    ("APIMETRICS_API_KEY", "apimetrics were sent to the dashboard w8Xk2Pq9Lm4Rt7Vb1Nc6Zs3Hd5Jf0Ga1", []),
    # A keyboard run in the vendor's own format is reported (a fixture and a weak key look
    # alike); a value that says it stands in for one is not.
    ("APIMETRICS_API_KEY", "apimetricskey: abcdef1234567890abcdef1234567890", ["abcdef1234567890abcdef1234567890"]),
    ("APIMETRICS_API_KEY", "apimetricskey: EXAMPLEabcdef1234567890EXAMPLE12", []),
    ("AMPLITUDE_API_KEY", "amplitude = 0.75", []),
    # Where the source's key pattern has one case, a letter of the other case is not the key.
    ("ALETHEIA_API_KEY", "aletheiaapi: 'Q7ZK2M9XW4RT8VB1NC6ZS3HD5JF0GA1P'", ["Q7ZK2M9XW4RT8VB1NC6ZS3HD5JF0GA1P"]),
    ("ALETHEIA_API_KEY", "aletheiaapi: 'Q7ZK2M9XW4RT8Vb1NC6ZS3HD5JF0GA1P'", []),
    ("APPSYNERGY_API_KEY", f"appsynergy credential: {'k3jd9slq2xv8tn4bz7wc1rm5py6hg0fa' * 2}",
     ['k3jd9slq2xv8tn4bz7wc1rm5py6hg0fa' * 2]),
    ("APPSYNERGY_API_KEY", f"appsynergy credential: {'k3jd9slq2xv8tn4bZ7wc1rm5py6hg0fa' * 2}", []),
    # Airtable's OAuth access token: <17>.v1.<base64url claims>.<64 hex>.
    ("AIRTABLE_OAUTH_TOKEN", f"Authorization: Bearer oaajtCy2lVMUN1Cm5.v1.{JWT_PAYLOAD}.{OAUTH_HEX}",
     [f"oaajtCy2lVMUN1Cm5.v1.{JWT_PAYLOAD}.{OAUTH_HEX}"]),
    ("AIRTABLE_OAUTH_TOKEN", f"oaajtCy2lVMUN1Cm5.v2.{JWT_PAYLOAD}.{OAUTH_HEX}", []),      # not v1
    ("AIRTABLE_OAUTH_TOKEN", "release-2024.v1.build-notes-for-the-ios-client.deadbeef", []),  # a dotted name
    # detect-secrets' IBM and GitHub Enterprise plugins: the vendor's name and format, in
    # any syntax, keyboard runs included; and what only looks like them.
    ("SOFTLAYER_API_KEY", f"--softlayer-api-key {'abcd1234' * 8}", ["abcd1234" * 8]),      # a CLI option
    ("SOFTLAYER_API_KEY", f'sl_api_key: "{"abcd1234" * 8}"', ["abcd1234" * 8]),
    ("SOFTLAYER_API_KEY", f"--softlayer-api-key {'x' * 64}", []),                          # a mask
    ("SOFTLAYER_API_KEY", f"ssl_certificate_path: /etc/ssl/{'abcd1234' * 8}", []),        # a path, not sl_
    ("SOFTLAYER_API_URL_KEY", f"http://api.softlayer.com/soap/v3.1/{'k3jd9slq' * 8}",
     [f"api.softlayer.com/soap/v3.1/{'k3jd9slq' * 8}"]),
    ("IBM_COS_HMAC_SECRET_KEY", f'cos_hmac_secret_key = "{"1234567890abcdef" * 3}"', ["1234567890abcdef" * 3]),
    ("IBM_COS_HMAC_SECRET_KEY", f'cos_hmac_secret_key = "{"1234567890abcdef" * 3}ab"', []),  # 50 hex
    ("IBM_CLOUD_IAM_KEY", 'ibm_cloud_iam-key : "Lm4Rt7Vb1Nc6Zs3Hd5Jf0Ga1w8Xk2Pq9Q7ZK2M9XW4RT"',
     ["Lm4Rt7Vb1Nc6Zs3Hd5Jf0Ga1w8Xk2Pq9Q7ZK2M9XW4RT"]),
    ("CLOUDANT_CREDENTIAL", 'cloudant_key = "abcdefghijabcdefghijabcd"', ["abcdefghijabcdefghijabcd"]),
    ("GITHUB_ENTERPRISE_TOKEN", 'ghe_pat = "2764d47e6bf540911b7da8fe55caa9451e783549"',
     ["2764d47e6bf540911b7da8fe55caa9451e783549"]),
    ("GITHUB_ENTERPRISE_TOKEN", "sonar.github.oauth=2764d47e6bf540911b7da8fe55caa9451e783549",
     ["2764d47e6bf540911b7da8fe55caa9451e783549"]),
    ("GITHUB_ENTERPRISE_TOKEN", "GITHUB_SHA=2764d47e6bf540911b7da8fe55caa9451e783549", []),   # a commit id
    ("GITHUB_ENTERPRISE_TOKEN", "git_commit: 2764d47e6bf540911b7da8fe55caa9451e783549", []),
    ("GIT_HOST_URL_TOKEN", "git+https://2764d47e6bf540911b7da8fe55caa9451e783549@github.acme-corp.com/org/repo",
     ["git+https://2764d47e6bf540911b7da8fe55caa9451e783549@github.acme-corp.com"]),
    ("GIT_HOST_URL_TOKEN", "https://2764d47e6bf540911b7da8fe55caa9451e783549@cdn.example.org/a.js", []),  # not git
    ("OAUTH_CLIENT_SECRET", '"clientSecret": "12345678abcdefgh12345678ABCDEFGH"', ["12345678abcdefgh12345678ABCDEFGH"]),
    ("OAUTH_CLIENT_SECRET", '"clientId": "Q7ZK2M9XW4RT8Vb1NC6ZS3HD5JF0GA1P"', []),
    ("NPM_LEGACY_TOKEN", "npmtoken token = '3aacac6c-9847-23d9-ce65-917590b81cf0'", ["3aacac6c-9847-23d9-ce65-917590b81cf0"]),
    # Without a vendor's format, a keyboard run is a test value: the generic rule stays quiet.
    ("SECRET_ASSIGNMENT", 'api_token = "abcdef0123456789abcdef0123456789"', []),
    # ... except 40 hex under a credential name, GitHub's classic and Enterprise token format
    # (detect-secrets' GheDetector), in an assignment or an authorization header.
    ("SECRET_ASSIGNMENT", "auth_token := '0123456789abcdef0123456789abcdef01234567'",
     ["0123456789abcdef0123456789abcdef01234567"]),
    ("HTTP_AUTH_HEADER", "Authorization: token 0123456789abcdef0123456789abcdef01234567",
     ["0123456789abcdef0123456789abcdef01234567"]),
    ("HTTP_AUTH_HEADER", "Authorization: token 0123456789abcdef0123456789abcdef", []),   # 32: no format
    ("SECRET_ASSIGNMENT", 'api_token = "abcdef0123456789abcdef0123456789abcdef0"', []),  # 39
    ("SECRET_ASSIGNMENT", 'commit_token_sha = "fedcba9876543210fedcba9876543210fedcba98"', []),  # a digest's name
    ("SECRET_ASSIGNMENT", "auth_token := 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx'", []),
    # A value that says it is none.
    ("SECRET_ASSIGNMENT", "gh-token=9f2c41notakeyat7e0b85d1c36a94e2f07b5d8c", []),
    ("SECRET_ASSIGNMENT", "api_token = 'not_a_real_token_9f8e7d6c5b4a3210'", []),
    # The plugin's prefixed names, and a blank where the operator would be.
    ("GITHUB_ENTERPRISE_TOKEN", "github-key 53d49d5081266d939bac57a3d86c517ded974b19",
     ["53d49d5081266d939bac57a3d86c517ded974b19"]),
    ("GITHUB_ENTERPRISE_TOKEN", "gh_api_pwd: 53d49d5081266d939bac57a3d86c517ded974b19",
     ["53d49d5081266d939bac57a3d86c517ded974b19"]),
    ("GITHUB_ENTERPRISE_TOKEN", "github-sha 53d49d5081266d939bac57a3d86c517ded974b19", []),
    # TruffleHog finds a value near its vendor word without an operator: notes and prose.
    ("AHA_API_KEY", f"aha.io {'7d0f3e9a1c5b82e4' * 4}", ['7d0f3e9a1c5b82e4' * 4]),
    ("AHA_API_KEY", f"aha.io {'7d0f3e9a1c5b82e4' * 3}7d0f3E9A1c5b82e4", []),           # upper case: not its hex
    ("API2CART_API_KEY", "Your api2cart key is 8c2f0a7e5d19b346c8e1f4a27b09d356, keep it safe",
     ["8c2f0a7e5d19b346c8e1f4a27b09d356"]),
    ("API2CART_API_KEY", "api2cart sync ran for the store 8c2f0a7e5d19b346c8e1f4a27b09d356", []),  # three words away
    ("APPCUES_API_KEY", "appcues 3f9a1c7e-52d8-4b06-9e13-a7c2d58f04b1", ["3f9a1c7e-52d8-4b06-9e13-a7c2d58f04b1"]),
    ("APPCUES_API_KEY", "appcues\n3f9a1c7e-52d8-4b06-9e13-a7c2d58f04b1", []),           # not on the word's line
    ("APPCUES_API_KEY", "appcuesintegration 3f9a1c7e-52d8-4b06-9e13-a7c2d58f04b1", []),     # the word goes on
    ("APPCUES_API_KEY", "appcuesKey 3f9a1c7e-52d8-4b06-9e13-a7c2d58f04b1", []),
    ("APPCUES_API_KEY", "appcues_key 3f9a1c7e-52d8-4b06-9e13-a7c2d58f04b1", ["3f9a1c7e-52d8-4b06-9e13-a7c2d58f04b1"]),
    # TruffleHog's formats: Adobe I/O's key, Aeroworkflow's wider alphabet, Aiven's 372-character token.
    ("ADOBEIO_API_KEY", "adobe = 'q8w2e5r7t1y9u3i6o4p0a2s8d5f7g1h3/Kx7Mw2Qp9Rt4z'", ["q8w2e5r7t1y9u3i6o4p0a2s8d5f7g1h3"]),
    ("ADOBEIO_API_KEY", "adobe = 'q8w2e5r7t1y9u3i6o4p0a2s8d5f7g1H3'", []),                 # upper case
    ("AEROWORKFLOW_API_KEY", "aeroworkflow = 'Lp7#kQ;2mX!v9^Rz:b4*'", ["Lp7#kQ;2mX!v9^Rz:b4*"]),
    ("AEROWORKFLOW_API_KEY", "aeroworkflow = 'Lp7#kQ&2mX!v9^Rz:b4*'", []),                  # & is not in it
    ("AIVEN_API_TOKEN", f"aiven = '{AIVEN_TOKEN}'", [AIVEN_TOKEN]),
    ("AIVEN_API_TOKEN", f"aiven = '{AIVEN_TOKEN[:-1]}'", []),
    # A vendor word in any case: camelCase names and brand spellings ("launchDarklyKey",
    # "LaunchDarkly key:", "API2Cart"); offsets hold after non-ASCII text.
    ("LAUNCHDARKLY_ACCESS_TOKEN", 'const launchDarklyKey = "api-3f9a1c7e52d84b069e13a7c2d58f04b1abcd"',
     ["api-3f9a1c7e52d84b069e13a7c2d58f04b1abcd"]),
    ("LAUNCHDARKLY_ACCESS_TOKEN", "LaunchDarkly key: api-3f9a1c7e52d84b069e13a7c2d58f04b1abcd",
     ["api-3f9a1c7e52d84b069e13a7c2d58f04b1abcd"]),
    ("LAUNCHDARKLY_ACCESS_TOKEN", 'Grüße, Ærøskøbing: launchDarklyKey = "api-3f9a1c7e52d84b069e13a7c2d58f04b1abcd"',
     ["api-3f9a1c7e52d84b069e13a7c2d58f04b1abcd"]),
    ("LAUNCHDARKLY_ACCESS_TOKEN", 'const launchDarklyKey = "api-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"', []),
    ("API2CART_API_KEY", "Your API2Cart key is 8c2f0a7e5d19b346c8e1f4a27b09d356, keep it safe",
     ["8c2f0a7e5d19b346c8e1f4a27b09d356"]),
    ("GITHUB_ENTERPRISE_TOKEN", 'ghApiToken := "53d49d5081266d939bac57a3d86c517ded974b19"',
     ["53d49d5081266d939bac57a3d86c517ded974b19"]),
    ("GITHUB_ENTERPRISE_TOKEN", 'myGhApiToken := "53d49d5081266d939bac57a3d86c517ded974b19"',
     ["53d49d5081266d939bac57a3d86c517ded974b19"]),                                      # at a camelCase hump
    # Slack: detect-secrets' wider shape, numeric ids then a random part.
    ("SLACK_TOKEN", "xoxb-73520846-9c4e1f7a20b35d86e1", ["xoxb-73520846-9c4e1f7a20b35d86e1"]),
    ("SLACK_TOKEN", "xoxb-73520846-9c4e1f7a20", []),                                         # too short
]


@pytest.mark.parametrize("entity_type, text, expected",
                         [pytest.param(*c, id=f"{c[0]}-{i}-{'hit' if c[2] else 'miss'}")
                          for i, c in enumerate(CASES_BY_TYPE)])
def test_scanner_shape(spans, entity_type, text, expected):
    assert spans(text, entity_type) == expected
