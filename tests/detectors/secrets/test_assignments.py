"""Secrets known by their name: password / secret / api_key assignments in config and code,
passwords in connection strings and URLs. Most rows here are what must NOT match."""
import random
import string

import pytest

ALNUM = string.ascii_letters + string.digits
_rng = random.Random("assignments")


def r(n: int, alphabet: str = ALNUM) -> str:
    return "".join(_rng.choice(alphabet) for _ in range(n))


PW = "Tr0ub4dor&3x"
PW2 = "Summer2024!pdx"
API = r(32)
CLIENT_SECRET = r(40, ALNUM + "~._-")
SQLSERVER_PW = "N0t$oS3cret!"
DOTTED = f"pat{r(14)}.{r(64, '0123456789abcdef')}"     # a token with a dot (Airtable's PAT shape)
BRACED_PW = "p@ss{W0rd}(2024)!"                        # braces and parentheses in a chosen password

CASES = [
    ("PASSWORD_ASSIGNMENT", f"DB_PASSWORD={PW}", [PW]),
    ("PASSWORD_ASSIGNMENT", f'spring.datasource.password: "{PW2}"', [PW2]),
    ("PASSWORD_ASSIGNMENT", f'{{"username": "svc_etl", "password": "{PW}"}}', [PW]),
    ("PASSWORD_ASSIGNMENT", f"conn = connect(host='db1', user='etl', passwd='{PW2}')", [PW2]),
    ("PASSWORD_ASSIGNMENT", f"the admin password: {PW}", [PW]),
    ("PASSWORD_ASSIGNMENT", f'psycopg2.connect(password="{PW2}", host="db")', [PW2]),
    ("PASSWORD_ASSIGNMENT", f"  dbPassWord: '{PW}'", [PW]),
    ("PASSWORD_ASSIGNMENT", "password = changeme", []),                       # placeholder
    ("PASSWORD_ASSIGNMENT", "DB_PASSWORD=${DB_PASSWORD}", []),                # variable reference
    ("PASSWORD_ASSIGNMENT", "POSTGRES_PASSWORD: ${POSTGRES_PASSWORD:-pg_2024x}", []),  # reference with a default
    ("PASSWORD_ASSIGNMENT", 'password: "{{ .Values.db.password }}"', []),     # template
    ("PASSWORD_ASSIGNMENT", "password: '<your-password>'", []),               # placeholder
    ("PASSWORD_ASSIGNMENT", "password=********", []),                         # mask
    ("PASSWORD_ASSIGNMENT", "PASSWORD=xxxxxxxxxx", []),                       # mask
    ("PASSWORD_ASSIGNMENT", "password = os.environ['DB_PASSWORD']", []),      # code
    ("PASSWORD_ASSIGNMENT", "password = self.password", []),                  # code
    ("PASSWORD_ASSIGNMENT", "password = get_password(user)", []),             # code
    ("PASSWORD_ASSIGNMENT", "if password == stored_password:", []),           # comparison
    ("PASSWORD_ASSIGNMENT", "password_hash = $2b$12$KIXQJ8c1Yq5E3z5tTQe0Ou5Yb7wUQ1aLr0m9pYl3fQk2Hn1xVJ6uW", []),
    ("PASSWORD_ASSIGNMENT", 'password: "$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHQ$"', []),  # stored hash
    ("PASSWORD_ASSIGNMENT", "password_min_length: 12345678", []),             # a setting about passwords
    ("PASSWORD_ASSIGNMENT", "password: required", []),                        # a word
    ("PASSWORD_ASSIGNMENT", "PASSWORD_RESET_URL=https://acme.io/reset", []),  # a URL setting
    ("PASSWORD_ASSIGNMENT", '"password": "Passwort",', []),                   # a translation
    ("PASSWORD_ASSIGNMENT", 'password: "Must be 12+ characters long!"', []),  # a UI message
    # Any naming style and syntax: XML elements and attributes, name/value pairs either way
    # round, command-line flags, whole-part words (DB_PASS, sl_pw, dbPass).
    ("PASSWORD_ASSIGNMENT", f"<the_password>{PW}</the_password>", [PW]),
    ("PASSWORD_ASSIGNMENT", f'<add key="Smtp" name="smtp_password" value="{PW}" />', [PW]),
    ("PASSWORD_ASSIGNMENT", f'<add value="{PW}" name="smtp_password" />', [PW]),
    ("PASSWORD_ASSIGNMENT", f'<db_password value="{PW}"/>', [PW]),
    ("PASSWORD_ASSIGNMENT", f'<property name="db.password">{PW}</property>', [PW]),
    ("PASSWORD_ASSIGNMENT", f"mysqldump --host db1 --password {PW2} crm > crm.sql", [PW2]),
    ("PASSWORD_ASSIGNMENT", f"DB_PASS={PW}", [PW]),
    ("PASSWORD_ASSIGNMENT", f'sl_pw = "{PW2}"', [PW2]),
    ("PASSWORD_ASSIGNMENT", f"  dbPass: {PW}", [PW]),
    ("PASSWORD_ASSIGNMENT", f'"password": "{BRACED_PW}"', [BRACED_PW]),
    ("PASSWORD_ASSIGNMENT", "passport_number = AB1234567X", []),            # pass inside another word
    ("PASSWORD_ASSIGNMENT", f"bypass = {PW}", []),                           # pass inside another word
    ("PASSWORD_ASSIGNMENT", "if password > 12345678:", []),                  # a comparison, not a tag
    ("PASSWORD_ASSIGNMENT", "ibm-cloud-pwd = shorter-version", []),          # words joined: a label
    ("PASSWORD_ASSIGNMENT", 'cloudant_password = "a-fake-tooshort-key"', []),  # says it is fake
    ("PASSWORD_ASSIGNMENT", "my_password = request.json_body['hey']", []),   # code
    ("PASSWORD_ASSIGNMENT", "login(username=username, password=password)", []),  # code
    ("PASSWORD_ASSIGNMENT", "mysqldump --password $DB_PASSWORD crm", []),    # variable after a flag
    ("PASSWORD_ASSIGNMENT", "<the_password>{{ db_password }}</the_password>", []),  # template
    ("SECRET_ASSIGNMENT", f'apikey "{API}";', [API]),                        # nginx / C-style config
    ("SECRET_ASSIGNMENT", f'some_dict["secret"] = "{API}"', [API]),
    ("SECRET_ASSIGNMENT", f'$config["api_key"] = "{API}";', [API]),
    ("SECRET_ASSIGNMENT", f'apikey[]= "{API}"', [API]),
    ("SECRET_ASSIGNMENT", f'NSString *apiKey = @"{API}";', [API]),
    # An Airtable token is named by its own format (pat<14>.<64 hex>), not by the name it is given.
    ("AIRTABLE_PERSONAL_ACCESS_TOKEN", f"base = new Airtable({{ apiKey: '{DOTTED}' }})", [DOTTED]),
    ("SECRET_ASSIGNMENT", f"terraform apply -var --api-token {API}", [API]),
    ("SECRET_ASSIGNMENT", f'System.setProperty("COHERE_TOKEN", "{API}");', [API]),   # Java
    ("PASSWORD_ASSIGNMENT", f'os.Setenv("DB_PASSWORD", "{PW}")', [PW]),                # Go
    ("SECRET_ASSIGNMENT", f'putenv("STRIPE_SECRET", "{API}")', [API]),
    ("SECRET_ASSIGNMENT", f'greet("hello", "{API}")', []),                   # a call, no secret word
    ("SECRET_ASSIGNMENT", f'System.setProperty("TOKEN_TTL", "{API}")', []),  # a setting about tokens
    # "key" names a secret only as a whole part of the name, with a long random value.
    ("SECRET_ASSIGNMENT", f"MAPBOX_KEY={API}", [API]),
    ("SECRET_ASSIGNMENT", f"  acme_key: '{API}'", [API]),
    ("SECRET_ASSIGNMENT", f"primary_key: {API}", []),                        # a database key
    ("SECRET_ASSIGNMENT", f"sortKey: {API}", []),
    ("SECRET_ASSIGNMENT", 'cache_key = "user:12345:profile:v2:en-US"', []),
    ("SECRET_ASSIGNMENT", '"key": "welcome_message_title_2024"', []),        # an i18n key
    ("SECRET_ASSIGNMENT", f"monkey = {API}", []),                            # key inside another word
    ("SECRET_ASSIGNMENT", f"key = {API[:16]}", []),                          # too short for a bare "key"
    ("SECRET_ASSIGNMENT", f"api_signing_key: {API[:10]}$%{API[10:]}", [f"{API[:10]}$%{API[10:]}"]),  # a secret word: any symbols
    ("SECRET_ASSIGNMENT", f"acme_key: {API[:10]}$%{API[10:]}", []),         # a bare "key": URL-safe alphabets only
    ("SECRET_ASSIGNMENT", "apiKey: this.apiKey,", []),                      # attribute access
    ("SECRET_ASSIGNMENT", "apiKey: fs.readFileSync('key.txt', 'utf8'),", []),  # a call
    ("SECRET_ASSIGNMENT", 'api_key = "sk-{}".format(os.environ["OPENAI_KEY"])', []),  # a format string
    ("SECRET_ASSIGNMENT", 'token: "Bearer ${GITHUB_TOKEN_FOR_RELEASES}"', []),  # a reference in a value
    ("SECRET_ASSIGNMENT", 'CLOUD_APIKEY: "insert_key_here"', []),            # a stand-in
    ("SECRET_ASSIGNMENT", f"api_key = \"{API}\"", [API]),
    ("SECRET_ASSIGNMENT", f"CLIENT_SECRET={CLIENT_SECRET}", [CLIENT_SECRET]),
    ("SECRET_ASSIGNMENT", f"  apiKey: '{API}',", [API]),
    ("SECRET_ASSIGNMENT", f"--auth-token={API}", [API]),
    ("SECRET_ASSIGNMENT", "api_key = \"<your-api-key>\"", []),                 # placeholder
    ("SECRET_ASSIGNMENT", "SECRET_KEY=${SECRET_KEY}", []),                     # reference
    ("SECRET_ASSIGNMENT", "api_key: ${{ secrets.OPENAI_API_KEY }}", []),       # CI reference
    ("SECRET_ASSIGNMENT", "token = 123e4567-e89b-12d3-a456-426614174000", []),  # UUID
    ("SECRET_ASSIGNMENT", "max_tokens = 4096000000000000", []),                # a limit
    ("SECRET_ASSIGNMENT", "token_type: bearer_access_token", []),             # a kind
    ("SECRET_ASSIGNMENT", "secret_name: prod/payments/stripe-webhook", []),   # a name
    ("SECRET_ASSIGNMENT", "sha256 digest: secret=" + "a" * 64, []),            # mask
    ("SECRET_ASSIGNMENT", "api_key = 'sk-proj-xxxxxxxxxxxxxxxxxxxxxxxx'", []),  # placeholder
    ("SECRET_ASSIGNMENT", "access_token = getAccessToken(session)", []),       # code
    ("SECRET_ASSIGNMENT", "secret = 'version-2.14.3'", []),                    # low entropy, too short
    ("CONNECTION_STRING_PASSWORD",
     f"Server=tcp:acme-sql.database.windows.net,1433;Initial Catalog=crm;User ID=app;Password={SQLSERVER_PW};Encrypt=True;",
     [SQLSERVER_PW]),
    ("CONNECTION_STRING_PASSWORD", f"Data Source=db01;Initial Catalog=Sales;User Id=sa;Pwd={PW};", [PW]),
    ("CONNECTION_STRING_PASSWORD", "Server=db01;Database=crm;User Id=sa;Password=<password>;", []),
    ("CONNECTION_STRING_PASSWORD", "Server=db01;Database=crm;Integrated Security=SSPI;", []),  # no password
    ("CONNECTION_STRING_PASSWORD", "Server=db01;Database=crm;User Id=sa;Password=%DB_PASS%;", []),  # variable
    ("URL_PASSWORD", f"pip install --index-url https://deploy:{PW2}@pypi.acme.io/simple pkg",
     [f"https://deploy:{PW2}@pypi.acme.io"]),
    ("URL_PASSWORD", f"ftp://backup:{PW}@files.acme.io:2121", [f"ftp://backup:{PW}@files.acme.io:2121"]),
    ("URL_PASSWORD", "https://user:password@example.com/", []),                # documented placeholder
    ("URL_PASSWORD", "https://user:${TOKEN}@git.acme.io/app.git", []),         # reference
    ("URL_PASSWORD", "https://jane@acme.io:8443/path", []),                    # user, no password
    ("URL_PASSWORD", "see http://host:8080/path and mail me@acme.io", []),     # a port, not a password
    # a database URL's password, printed in a stack trace (the URL is also DB_CONNECTION_URL)
    ("DB_PASSWORD", f"PSQLException: Connection to postgresql://app:{PW}@db-prod-01.internal:5432/orders refused",
     [PW]),
    ("DB_PASSWORD", f"url=mysql+pymysql://reporting:{PW2}@10.20.4.17:3306/analytics", [PW2]),
    ("DB_PASSWORD", "postgres://myusername:mypassword@myserver.postgres.database.azure.com/db", []),  # stand-in word
    ("DB_PASSWORD", "postgres://app:${DB_PASS}@db.acme.io/app", []),          # reference
    ("DB_PASSWORD", "redis://:abc@cache.acme.io:6379", []),                     # too short to be chosen
    ("DB_PASSWORD", "postgres://app@db.acme.io:5432/app", []),                  # no password
]


@pytest.mark.parametrize("entity_type, text, expected",
                         [pytest.param(*c, id=f"{c[0]}-{i}-{'hit' if c[2] else 'miss'}") for i, c in enumerate(CASES)])
def test_assignment(spans, entity_type, text, expected):
    assert spans(text, entity_type) == expected


@pytest.mark.parametrize("text", [
    f"OPENAI_API_KEY=sk-proj-{r(74)}T3BlbkFJ{r(74)}",
    f"STRIPE_SECRET_KEY=sk_live_{r(40)}",
])
def test_a_known_format_is_named_not_generic(engine, text):
    # Where a vendor recognizer knows the value, the finding says which vendor it is.
    [finding] = engine.scan(text)
    assert finding.entity_type not in ("SECRET_ASSIGNMENT", "PASSWORD_ASSIGNMENT")


# A vendor the formats file does not know ("zylor"), its token assigned in the syntaxes of
# config files and code: the name's secret word is what finds it. Each with near misses in
# the same syntax: a reference, code, a setting about the secret, a template.
ZYLOR = r(24)
UNKNOWN_NAME_SYNTAXES = [
    # TOML
    (f'[zylor]\nregion = "eu-west-1"\napi_token = "{ZYLOR}"', [ZYLOR]),
    (f"zylor_secret = '{ZYLOR}'", [ZYLOR]),
    ('[zylor]\napi_token = "${ZYLOR_TOKEN}"', []),
    ("[zylor]\ntoken_ttl = 3600\ntoken_url = \"https://auth.zylor.io/oauth/token\"", []),
    # XML attributes
    (f'<zylor apiToken="{ZYLOR}" region="eu" />', [ZYLOR]),
    (f'<add key="ZylorApiToken" value="{ZYLOR}" />', [ZYLOR]),
    ('<zylor apiToken="${ZYLOR_TOKEN}" />', []),
    ('<add key="ZylorApiTokenUrl" value="https://auth.zylor.io/oauth/token" />', []),
    # PHP
    (f"$zylorToken = '{ZYLOR}';", [ZYLOR]),
    (f'$alibabaToken .= "{ZYLOR}";', [ZYLOR]),
    (f"define('ZYLOR_SECRET', '{ZYLOR}');", [ZYLOR]),
    (f"'zylor_token' => '{ZYLOR}',", [ZYLOR]),
    ("define('ZYLOR_SECRET', getenv('ZYLOR_SECRET'));", []),
    ("$zylorToken = $request->header('X-Zylor-Token');", []),
    # Java
    (f'System.setProperty("zylor.api.token", "{ZYLOR}");', [ZYLOR]),
    (f'private static final String ZYLOR_TOKEN = "{ZYLOR}";', [ZYLOR]),
    ('System.setProperty("zylor.token.ttl", "3600");', []),
    ('System.setProperty("zylor.api.token", System.getenv("ZYLOR_TOKEN"));', []),
    # Go
    (f'zylorToken := "{ZYLOR}"', [ZYLOR]),
    (f'os.Setenv("ZYLOR_TOKEN", "{ZYLOR}")', [ZYLOR]),
    (f'var zylorSecret = []byte("{ZYLOR}")', [ZYLOR]),
    ('zylorToken := os.Getenv("ZYLOR_TOKEN")', []),
    ('zylorToken := cfg.Zylor.Token', []),
]


@pytest.mark.parametrize("text, expected", UNKNOWN_NAME_SYNTAXES,
                         ids=[f"{i}-{'hit' if e else 'miss'}" for i, (_t, e) in enumerate(UNKNOWN_NAME_SYNTAXES)])
def test_unknown_names_in_every_syntax(engine, text, expected):
    found = [text[f.start:f.end] for f in engine.scan(text) if f.data_class == "secret"]
    assert found == expected
    assert all(f.entity_type == "SECRET_ASSIGNMENT" for f in engine.scan(text) if f.data_class == "secret")


@pytest.mark.parametrize("length", [16, 20, 24])
def test_random_hex_secrets_under_a_secret_name_are_found(spans, length):
    # Hex carries at most 4 bits per character (rules.entropy_floor): at the mixed-alphabet gate (3.5) most random
    # hex secrets of these lengths went unreported (90 % at 16 characters, 54 % at 24).
    rng = random.Random(f"hex {length}")
    values = ["".join(rng.choice("0123456789abcdef") for _ in range(length)) for _ in range(200)]
    found = sum(spans(f'api_token = "{value}"', "SECRET_ASSIGNMENT") == [value] for value in values)
    assert found >= 0.8 * len(values)      # 84 % at 16 characters, 98 % at 20, 100 % at 24


@pytest.mark.parametrize("text", [
    '{"key": "d41d8cd98f00b204e9800998ecf8427e", "size": 0}',   # an object store's digest: "key" keeps its gate
    'api_token = "0000000011111111"',                          # too few distinct characters
    'api_token = "abababababababab"',
])
def test_low_entropy_hex_and_digests_stay_quiet(spans, text):
    assert spans(text, "SECRET_ASSIGNMENT") == []
