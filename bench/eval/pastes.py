"""Hand-written realistic pastes: what people paste into an AI chat when they ask for help.

Each is (name, text with «TYPE|value» marks). TYPE is SECRET, PRODUCTION, or a personal /
payment type (PERSON, EMAIL_ADDRESS, PHONE_NUMBER, ADDRESS, IP_ADDRESS, US_SSN,
DATE_OF_BIRTH, CREDIT_CARD, IBAN, ACH). A paste without marks is a negative: nothing in it
may be reported. An empty mark («PRODUCTION|») labels the whole paste (a dump, an event). Written for the evaluation only; no value here is live. Labels follow the
project's classes, as the issue counts them: a database URL with its password and an Azure
connection string with its key are each both production data (they name a production
resource: «PRODUCTION|» on the paste) and a secret (the password or key, marked). The
issue lists "passwords inside database URLs printed in stack traces" among the secrets.

The second block (added with the detectors' second round) is written from documented
formats: tool output as the tools print it (kubectl, docker, git, terraform, psql, pip,
nginx, cron), file formats (vCard, iCalendar, RFC 5322 mail headers, Stripe's customer
object) and letters in the postal formats of the countries the detectors claim.
"""
from __future__ import annotations

PASTES: list[tuple[str, str]] = [
    # --- secrets in configs, shells and stack traces ---
    ("kubeconfig", """Why does kubectl say Unauthorized? my ~/.kube/config:

apiVersion: v1
clusters:
- cluster:
    server: https://k8s-prod.eu-west-1.elb.amazonaws.com
  name: prod
users:
- name: deployer
  user:
    token: «SECRET|eyJhbGciOiJSUzI1NiIsImtpZCI6IjRkN2YifQ.eyJpc3MiOiJrdWJlcm5ldGVzL3NlcnZpY2VhY2NvdW50Iiwic3ViIjoic3lzdGVtOnNlcnZpY2VhY2NvdW50OmRlZmF1bHQ6ZGVwbG95ZXIifQ.k2YKNZ0mEB3Vmb2XYzPKzFiH66hBQuTH1lu4gGqM7cNe9fNWJnrr»
"""),
    ("kubeconfig-client-key", """users:
- name: admin@cluster.local
  user:
    client-certificate-data: LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCk1JSUM4akNDQWRxZ0F3SUJBZ0lJYQ==
    client-key-data: «SECRET|LS0tLS1CRUdJTiBSU0EgUFJJVkFURSBLRVktLS0tLQpNSUlFcEFJQkFBS0NBUUVBdTJ2d1pXN0hKZHF5RWlVcE5mQzlMbTBYbk9TR2RrV1E=»
"""),
    ("netrc", """my ~/.netrc so the deploy script can fetch from our registry, is the format right?

machine git.acme-internal.io
  login ci-bot
  password «SECRET|Pm4tX9qLr2Wz8K»
machine api.heroku.com login ops@acme.io password «SECRET|2Kvf8THRXfEuzcrJaBnx7IfDH5mMDdwin86T»
"""),
    ("docker-config", """docker login keeps failing in CI. ~/.docker/config.json:
{
  "auths": {
    "registry.gitlab.com": {
      "auth": "«SECRET|ZGVwbG95OkdoNyNrcTJMejlWdw==»"
    },
    "https://index.docker.io/v1/": {"auth": "«SECRET|Y2ktYm90OlBtNHRYOXFMcjJXejhL»"}
  },
  "credsStore": "desktop"
}"""),
    ("ansible-vars", """group_vars/db.yml - ansible says permission denied on the become step:

ansible_user: deploy
ansible_password: «SECRET|Xq7!mR2p#Lw9»
ansible_become: true
ansible_become_pass: «SECRET|Xq7!mR2p#Lw9-root»
postgres_port: 5432
"""),
    ("curl-basic", """this works from my laptop but not from the pod:

curl -s -u admin:«SECRET|Tr4ck!ng2024Qz» https://grafana.acme.io/api/dashboards/uid/abc123 | jq .
"""),
    ("curl-bearer", """curl -X POST https://api.acme-billing.com/v2/invoices \\
  -H "Authorization: Bearer «SECRET|zymMlopiWfqUyHRSIf8NFmAUNLnY5Yx0y3RnjDQl»" \\
  -H "Content-Type: application/json" -d @invoice.json
returns 403, any idea?"""),
    ("stacktrace-jdbc", """«PRODUCTION|»Getting this on startup:

org.springframework.beans.factory.BeanCreationException: Error creating bean with name 'dataSource'
Caused by: org.postgresql.util.PSQLException: Connection to postgresql://app_user:«SECRET|Wz8#kLp2Qv»@db-prod-01.internal:5432/orders refused.
	at org.postgresql.core.v3.ConnectionFactoryImpl.openConnectionImpl(ConnectionFactoryImpl.java:319)
	at org.postgresql.core.ConnectionFactory.openConnection(ConnectionFactory.java:49)
"""),
    ("stacktrace-python", """«PRODUCTION|»Traceback (most recent call last):
  File "/app/worker.py", line 42, in <module>
    engine = create_engine(settings.DATABASE_URL)
  File "/usr/lib/python3.11/site-packages/sqlalchemy/engine/create.py", line 560, in create_engine
sqlalchemy.exc.OperationalError: (pymysql.err.OperationalError) (2003, "Can't connect to MySQL server")
[SQL: SELECT 1] url=mysql+pymysql://reporting:«SECRET|qIz0Wiw8SE7diV3T»@10.20.4.17:3306/analytics
"""),
    ("azure-storage-conn", """«PRODUCTION|»Blob upload fails with 403 AuthorizationFailure. appsettings.json:
{
  "Storage": {
    "ConnectionString": "DefaultEndpointsProtocol=https;AccountName=acmeprodfiles;AccountKey=«SECRET|k2YKNZ0mEB3Vmb2XYzPKzFiH66hBQuTH1lu4gGqM7cNe9fNWJnrrBzqo/CSrAowGo9OFVEUYyxIYr3WVUeAd1Q==»;EndpointSuffix=core.windows.net"
  }
}"""),
    ("azure-servicebus-conn", """«PRODUCTION|»var client = new ServiceBusClient("Endpoint=sb://acme-orders.servicebus.windows.net/;SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey=«SECRET|dWA7+FeLjbokZVi1KTpARkwsEMJVtXZSrhuv32CdWzh=»");
why does it throw UnauthorizedAccessException?"""),
    ("age-key", """is this how sops expects the key file?
# created: 2025-03-02T10:11:12Z
# public key: age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p
«SECRET|AGE-SECRET-KEY-1EPN2GQJJJ8LMYZK2545ZC3WFPJE6WT6RD0S2XMQPVGTNRSTMFQZEUY2W4M»
"""),
    ("dotenv", """.env for local dev, the app can't reach stripe:

NODE_ENV=development
PORT=3000
STRIPE_SECRET=«SECRET|sk_live_51Hx9QkLmN2pR7sT4vW8yZ0aB3cD5eF7gH9jK1mN»
SESSION_SECRET=«SECRET|v0ZzyA0xIfl4c7xU2zXCot2PoPUtg3SU»
LOG_LEVEL=debug
"""),
    ("php-config", """<?php
$config['db_host'] = 'localhost';
$config['mailer'] = [
    'driver' => 'smtp',
    'password' => '«SECRET|Zt9#vL2qW7xK»',
];
$apiKey .= "«SECRET|GQlchbkER0Af7BOfjtNayviHzm5YdOnC»";
"""),
    ("java-props", """System.setProperty("CLOUDFLARE_TOKEN", "«SECRET|ghjsllAj7n4JuXFZo2qhX9wKt3mPz8RvLq2Yb5Nc»");
System.setProperty("http.proxyHost", "proxy.acme.io");"""),
    ("go-const", """package config

const (
	region    = "eu-west-1"
	algoliaAPIKey = "«SECRET|4f2b57f63d654f75852777dc278aaf63»"
)
"""),
    ("xml-attr", """<appSettings>
  <add key="Environment" value="Production" />
  <add key="SendGridApiKey" value="«SECRET|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»" />
</appSettings>"""),
    ("toml-secrets", """[database]
host = "db.acme.internal"
user = "svc_reports"
password = "«SECRET|Lp9!vQz2#Rk8»"

[sentry]
auth_token = "«SECRET|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»"
"""),
    ("yaml-camel", """spring:
  mail:
    host: smtp.office365.com
    username: noreply@acme.io
    password: «SECRET|Wq3$zT8mLx1!»
app:
  twilioAuthToken: «SECRET|20xlReGsaL1dvnyz5Qp8Wm3KtYb7Rc2N»
"""),
    ("github-actions-log", """Run git push origin main
remote: Invalid username or password.
fatal: Authentication failed for 'https://x-access-token:«SECRET|ghs_2Kvf8THRXfEuzcrJaBnx7IfDH5mMDdwin86T»@github.com/acme/api.git/'
"""),
    ("python-client", """import openai
client = openai.OpenAI(api_key="«SECRET|sk-proj-Tq8Lm2Vx9Rk4Wz7Yb1Nc5De3Fg6Hj8Kl0Mn2Pq4Rs6Tu8Vw0Xy2Za4Bc6De8Fg0Hi»")
resp = client.chat.completions.create(model="gpt-4o", messages=msgs)
"""),
    # --- production data ---
    ("json-customers", """«PRODUCTION|»The API returns this, how do I sort by signup date in pandas?

[
  {"id": 1041, "name": "«PERSON|Margaret Okafor»", "email": "«EMAIL_ADDRESS|m.okafor@gmail.com»", "phone": "«PHONE_NUMBER|+1 415-555-0173»", "signup": "2024-02-11"},
  {"id": 1042, "name": "«PERSON|Tomasz Wiśniewski»", "email": "«EMAIL_ADDRESS|tomasz.w@outlook.com»", "phone": "«PHONE_NUMBER|+48 601 234 567»", "signup": "2024-02-12"},
  {"id": 1043, "name": "«PERSON|Aisha Rahman»", "email": "«EMAIL_ADDRESS|aisha.rahman@yahoo.co.uk»", "phone": "«PHONE_NUMBER|+44 7700 900123»", "signup": "2024-02-14"},
  {"id": 1044, "name": "«PERSON|Luca Bianchi»", "email": "«EMAIL_ADDRESS|luca.bianchi@libero.it»", "phone": "«PHONE_NUMBER|+39 347 123 4567»", "signup": "2024-02-15"},
  {"id": 1045, "name": "«PERSON|Sofia Hernández»", "email": "«EMAIL_ADDRESS|sofia.hdz@hotmail.es»", "phone": "«PHONE_NUMBER|+34 612 34 56 78»", "signup": "2024-02-17"},
  {"id": 1046, "name": "«PERSON|Jonas Becker»", "email": "«EMAIL_ADDRESS|j.becker@web.de»", "phone": "«PHONE_NUMBER|+49 1512 3456789»", "signup": "2024-02-18"}
]"""),
    ("mongo-shell", """«PRODUCTION|»rs0:PRIMARY> db.customers.find({country: "FR"}).limit(5)
{ "_id" : ObjectId("65c1f0a2e4b0a1b2c3d4e5f6"), "fullName" : "«PERSON|Camille Durand»", "email" : "«EMAIL_ADDRESS|camille.durand@orange.fr»", "phone" : "«PHONE_NUMBER|+33 6 12 34 56 78»" }
{ "_id" : ObjectId("65c1f0a2e4b0a1b2c3d4e5f7"), "fullName" : "«PERSON|Hugo Lefèvre»", "email" : "«EMAIL_ADDRESS|hugo.lefevre@free.fr»", "phone" : "«PHONE_NUMBER|+33 7 81 22 33 44»" }
{ "_id" : ObjectId("65c1f0a2e4b0a1b2c3d4e5f8"), "fullName" : "«PERSON|Léa Moreau»", "email" : "«EMAIL_ADDRESS|lea.moreau@gmail.com»", "phone" : "«PHONE_NUMBER|+33 6 45 67 89 01»" }
{ "_id" : ObjectId("65c1f0a2e4b0a1b2c3d4e5f9"), "fullName" : "«PERSON|Nathan Girard»", "email" : "«EMAIL_ADDRESS|n.girard@laposte.net»", "phone" : "«PHONE_NUMBER|+33 6 98 76 54 32»" }
{ "_id" : ObjectId("65c1f0a2e4b0a1b2c3d4e5fa"), "fullName" : "«PERSON|Chloé Bernard»", "email" : "«EMAIL_ADDRESS|chloe.bernard@sfr.fr»", "phone" : "«PHONE_NUMBER|+33 6 11 22 33 44»" }
"""),
    ("pandas-head", """«PRODUCTION|»>>> df.head()
   customer_id         name                      email            phone         dob
0        88121   «PERSON|Emily Carter»   «EMAIL_ADDRESS|emily.carter@gmail.com»   «PHONE_NUMBER|(312) 555-0148»  «DATE_OF_BIRTH|1987-04-12»
1        88122   «PERSON|Daniel Kim»     «EMAIL_ADDRESS|dkim@protonmail.com»      «PHONE_NUMBER|(646) 555-0192»  «DATE_OF_BIRTH|1990-11-03»
2        88123   «PERSON|Priya Nair»     «EMAIL_ADDRESS|priya.nair@yahoo.com»     «PHONE_NUMBER|(415) 555-0137»  «DATE_OF_BIRTH|1979-06-28»
3        88124   «PERSON|Owen Walsh»     «EMAIL_ADDRESS|owalsh@icloud.com»        «PHONE_NUMBER|(617) 555-0110»  «DATE_OF_BIRTH|1995-01-19»
4        88125   «PERSON|Grace Liu»      «EMAIL_ADDRESS|grace.liu@gmail.com»      «PHONE_NUMBER|(206) 555-0175»  «DATE_OF_BIRTH|1983-09-07»
why is dob an object dtype?"""),
    ("sentry-event", """«PRODUCTION|»Sentry keeps grouping these separately:
{
  "event_id": "9fa3b1c2d4e5f60718293a4b5c6d7e8f",
  "level": "error",
  "exception": {"values": [{"type": "PaymentDeclined", "value": "card declined for order 55120"}]},
  "user": {"id": "u_48213", "email": "«EMAIL_ADDRESS|rachel.green@gmail.com»", "ip_address": "«IP_ADDRESS|81.2.69.142»", "username": "rgreen"},
  "request": {"url": "https://shop.acme.io/checkout", "method": "POST"}
}"""),
    ("csv-export", """«PRODUCTION|»here's the export, can you dedupe by email?
first_name,last_name,email,phone,city
«PERSON|Olivia»,«PERSON|Brown»,«EMAIL_ADDRESS|olivia.brown@gmail.com»,«PHONE_NUMBER|+1-202-555-0101»,Washington
«PERSON|Liam»,«PERSON|Smith»,«EMAIL_ADDRESS|liam.smith@yahoo.com»,«PHONE_NUMBER|+1-202-555-0102»,Boston
«PERSON|Olivia»,«PERSON|Brown»,«EMAIL_ADDRESS|olivia.brown@gmail.com»,«PHONE_NUMBER|+1-202-555-0101»,Washington
«PERSON|Noah»,«PERSON|Jones»,«EMAIL_ADDRESS|noah.jones@outlook.com»,«PHONE_NUMBER|+1-202-555-0104»,Chicago
«PERSON|Ava»,«PERSON|Garcia»,«EMAIL_ADDRESS|ava.garcia@gmail.com»,«PHONE_NUMBER|+1-202-555-0105»,Austin
«PERSON|Mia»,«PERSON|Miller»,«EMAIL_ADDRESS|mia.miller@icloud.com»,«PHONE_NUMBER|+1-202-555-0106»,Denver
"""),
    # --- personal data in conversation ---
    ("chat-name-alone", """«PERSON|Lucrezia», can I please speak to your boss? The refund still hasn't arrived."""),
    ("chat-name-greeting", """Hi «PERSON|Siobhan», thanks for the quick reply yesterday. Could you resend the contract?"""),
    ("chat-name-signoff", """Thanks so much for your help with the migration!

Cheers,
«PERSON|Bartholomew»"""),
    ("dob-context", """Customer says her date of birth is «DATE_OF_BIRTH|14/03/1982» but the form shows something else, how do I fix the record?"""),
    ("dob-born", """He was born on «DATE_OF_BIRTH|July 4, 1990» in Ohio, which is why the age check fails."""),
    ("dob-geburtsdatum", """Bitte prüfen: Name «PERSON|Klaus Schneider», Geburtsdatum «DATE_OF_BIRTH|03.11.1975»."""),
    ("phone-extension", """Call me on «PHONE_NUMBER|337-843-6481x8029» after 3pm, or on my mobile."""),
    ("phone-bare", """my cell got cut off, call me on «PHONE_NUMBER|4158675309» when you can"""),
    ("phone-ext-word", """Support line: «PHONE_NUMBER|+1 (800) 555-0199 ext. 42»."""),
    ("phone-uk", """Ring the office on «PHONE_NUMBER|020 7946 0958» and ask for accounts."""),
    ("phone-de", """Rufen Sie mich bitte unter «PHONE_NUMBER|030 12345678» an."""),
    ("phone-fr", """Vous pouvez me joindre au «PHONE_NUMBER|01 23 45 67 89» demain."""),
    ("phone-nl", """Bel me op «PHONE_NUMBER|06 12345678», groet."""),
    ("phone-au", """Call «PHONE_NUMBER|(02) 9876 5432» for the Sydney office."""),
    ("address-multiline", """Please ship the replacement to:
«ADDRESS|Flat 4, 27 Kensington Gardens Square
London W2 4BH»
Thanks!"""),
    ("address-po-box", """Send the invoice to «ADDRESS|PO Box 1142, Portland, OR 97207» please."""),
    ("address-apo", """Our soldier's mailing address is SGT «PERSON|John Miller», «ADDRESS|Unit 2050 Box 4190, APO AP 96278»."""),
    ("address-de", """Lieferadresse: «ADDRESS|Hauptstraße 12, 10115 Berlin»"""),
    ("address-fr", """Adresse de livraison : «ADDRESS|12 rue de la Paix, 75002 Paris»"""),
    ("address-es", """La dirección es «ADDRESS|Calle Mayor 15, 28013 Madrid»."""),
    ("address-it", """Indirizzo: «ADDRESS|Via Roma 21, 00184 Roma RM»"""),
    ("address-nl", """Mijn adres is «ADDRESS|Keizersgracht 123, 1015 CJ Amsterdam»."""),
    ("address-ca", """Mail it to «ADDRESS|350 Bay Street, Toronto, ON M5H 2S6»."""),
    ("address-au", """Deliver to «ADDRESS|42 Wallaby Way, Sydney NSW 2000»."""),
    ("address-se", """Skicka till «ADDRESS|Drottninggatan 53, 111 21 Stockholm»."""),
    # --- payment ---
    ("card-maestro", """The customer's Maestro card «CREDIT_CARD|6759 9458 0730 2159» keeps getting declined at checkout."""),
    ("card-jcb", """JCB card number «CREDIT_CARD|3528236405622413», expiry 09/27 - why does Stripe reject it?"""),
    ("card-visa19", """test with card number «CREDIT_CARD|4752772040560865697» fails the length check in our form"""),
    ("card-12", """Maestro card no. «CREDIT_CARD|501826212992» was rejected by the terminal."""),
    ("ach", """Set up the direct deposit: routing number «ACH|021000021», account number «ACH|483920175621»."""),
    ("ach-ledger", """ACH details for the vendor - ABA «ACH|011000015», acct # «ACH|7712093348»"""),
    ("iban", """Please wire the deposit to «IBAN|DE89 3704 0044 0532 0130 00», reference INV-2291."""),
    # --- negatives: near misses that are not leaks ---
    ("neg-placeholder-env", """Copy .env.example to .env and fill in:

API_KEY=your-api-key-here
DATABASE_URL=postgres://user:password@localhost:5432/app
STRIPE_SECRET=sk_test_xxxxxxxxxxxxxxxxxxxxxxxx
"""),
    ("neg-template-refs", """env:
  - name: DB_PASSWORD
    valueFrom:
      secretKeyRef:
        name: db-credentials
        key: password
  - name: API_TOKEN
    value: ${{ secrets.API_TOKEN }}
"""),
    ("neg-code", """def get_token(self):
    token = self.session.get("token")
    password = os.environ["DB_PASSWORD"]
    return authenticate(token, password)
"""),
    ("neg-luhn-invalid", """Order 4111 1111 1111 1112 shipped; tracking 1Z999AA10123456784."""),
    ("neg-bad-routing", """Reference numbers: routing 123456789, batch 000123, account lookup pending."""),
    ("neg-uuid-build", """Build 3f2b9c1e-8a7d-4e6f-9b0a-1c2d3e4f5a6b finished in 4m12s; artifact sha256: 9c1e8a7d4e6f9b0a1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b"""),
    ("neg-log", """2025-03-02T10:11:12Z INFO request_id=8f3a2b1c status=200 latency_ms=42 path=/api/v1/health
2025-03-02T10:11:13Z INFO request_id=8f3a2b1d status=200 latency_ms=38 path=/api/v1/health"""),
    ("neg-prose", """The quarterly review went well. Revenue grew 12% and churn fell below 3%. Next steps: finalise the roadmap and schedule the offsite for March."""),
    ("neg-version-numbers", """Upgrade from 2.14.3 to 3.0.1 broke the build: numpy 1.26.4, pandas 2.2.1, python 3.11.8."""),
    ("neg-docs-example-key", """From the AWS docs: aws configure set aws_access_key_id AKIAIOSFODNN7EXAMPLE"""),
    ("neg-date", """The release is planned for 12/03/2025 and the retro for 2025-03-19."""),
    ("neg-curl-vars", """curl -u "$USER:$PASS" https://api.acme.io/v1/status"""),
    # --- second block: negatives written from documented tool output and file formats ---
    ("neg-kubectl-svc", """kubectl get svc -n shop
NAME            TYPE           CLUSTER-IP      EXTERNAL-IP   PORT(S)          AGE
cart            ClusterIP      10.96.112.40    <none>        8080/TCP         41d
checkout        ClusterIP      10.96.87.201    <none>        8080/TCP         41d
frontend        LoadBalancer   10.96.3.17      <pending>     80:31380/TCP     41d
redis-cart      ClusterIP      10.96.201.9     <none>        6379/TCP         41d
why is the external IP still pending?"""),
    ("neg-docker-ps", """$ docker ps
CONTAINER ID   IMAGE                 COMMAND                  CREATED       STATUS                 PORTS                    NAMES
4c01db0b339c   postgres:16.2         "docker-entrypoint.s…"   2 hours ago   Up 2 hours (healthy)   0.0.0.0:5432->5432/tcp   shop-db-1
a9f3e21c7b8d   redis:7.2-alpine      "docker-entrypoint.s…"   2 hours ago   Up 2 hours             6379/tcp                 shop-cache-1
d81c0e6fa2b4   shop-api:1.14.0       "gunicorn app:app"       2 hours ago   Restarting (1) 3s ago                           shop-api-1"""),
    ("neg-git-log-oneline", """git log --oneline -8
9fceb02 Bump pydantic from 2.9.1 to 2.9.2 (#1184)
4a1e3bd Fix flaky checkout test on slow runners
c72d6e0 Merge pull request #1181 from acme/feature/bulk-export
1f0b9a8 Add retries to the webhook sender
e3d45c2 Revert "Cache product images for 24h"
7b19f60 Release 3.2.0
0a6c811 Rename OrderService.get to OrderService.fetch
5d2e9c4 Update CHANGELOG for 3.2.0"""),
    ("neg-pip-freeze", """pip freeze | head
aiohttp==3.9.5
certifi==2024.2.2
cryptography==42.0.7
numpy==1.26.4
pandas==2.2.2
python-dateutil==2.9.0.post0
pytz==2024.1
requests==2.32.3
urllib3==2.2.1
why does pip say cryptography needs Rust?"""),
    ("neg-terraform-plan", """Terraform will perform the following actions:

  # aws_iam_role_policy_attachment.lambda_logs will be created
  + resource "aws_iam_role_policy_attachment" "lambda_logs" {
      + id         = (known after apply)
      + policy_arn = "arn:aws:iam::123456789012:policy/lambda-logging"
      + role       = "orders-export-lambda"
    }

Plan: 1 to add, 0 to change, 0 to destroy."""),
    ("neg-http-response", """HTTP/1.1 304 Not Modified
Date: Tue, 04 Mar 2025 09:12:44 GMT
ETag: W/"5e-1a2b3c4d5e6f"
Cache-Control: public, max-age=3600
Vary: Accept-Encoding
X-Request-Id: 7f3c2a91-52de-4a0e-8a8e-0e1b6f4d2c11
why does the browser still download the file?"""),
    ("neg-python-keyerror", """Traceback (most recent call last):
  File "/home/runner/work/shop/shop/etl/load.py", line 88, in transform
    row["unit_price"] = Decimal(raw["price"]) / 100
KeyError: 'price'
During handling of the above exception, another exception occurred:
  File "/home/runner/work/shop/shop/etl/load.py", line 91, in transform
    raise TransformError(f"row {index}: missing field") from exc
etl.errors.TransformError: row 2281: missing field"""),
    ("neg-sql-ddl", """CREATE TABLE customers (
    id          BIGSERIAL PRIMARY KEY,
    full_name   TEXT NOT NULL,
    email       CITEXT UNIQUE NOT NULL,
    phone       VARCHAR(32),
    birth_date  DATE,
    created_at  TIMESTAMPTZ DEFAULT now()
);
CREATE INDEX customers_created_at_idx ON customers (created_at);
is CITEXT the right type for case-insensitive emails?"""),
    ("neg-explain-analyze", """EXPLAIN ANALYZE SELECT * FROM orders WHERE customer_id = 88121;
 Index Scan using orders_customer_id_idx on orders  (cost=0.43..8.45 rows=1 width=96) (actual time=0.021..0.022 rows=3 loops=1)
   Index Cond: (customer_id = 88121)
 Planning Time: 0.112 ms
 Execution Time: 0.041 ms"""),
    ("neg-cron", """crontab -l
# m h  dom mon dow   command
*/5 * * * * /usr/local/bin/healthcheck.sh >/dev/null 2>&1
30 2 * * * /opt/backup/run.sh --target s3://acme-backups/db --keep 14 >> /var/log/backup.log 2>&1
0 6 * * 1 /usr/bin/certbot renew --quiet"""),
    ("neg-package-json", """{
  "name": "storefront",
  "version": "2.7.1",
  "scripts": {"build": "vite build", "test": "vitest run"},
  "dependencies": {"react": "^18.3.1", "react-dom": "^18.3.1", "zod": "^3.23.8"},
  "devDependencies": {"vite": "^5.2.11", "vitest": "^1.6.0", "typescript": "~5.4.5"}
}"""),
    ("neg-actions-yaml", """jobs:
  deploy:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - uses: aws-actions/configure-aws-credentials@v4
        with:
          role-to-assume: arn:aws:iam::123456789012:role/deploy
          aws-region: eu-west-1
      - run: ./deploy.sh
        env:
          SENTRY_AUTH_TOKEN: ${{ secrets.SENTRY_AUTH_TOKEN }}
          NPM_TOKEN: ${{ secrets.NPM_TOKEN }}"""),
    ("neg-nginx-conf", """server {
    listen 443 ssl http2;
    server_name shop.acme.io;
    ssl_certificate     /etc/letsencrypt/live/shop.acme.io/fullchain.pem;
    ssl_certificate_key /etc/letsencrypt/live/shop.acme.io/privkey.pem;
    location /api/ {
        proxy_pass http://127.0.0.1:8000;
        proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
    }
}"""),
    ("neg-dockerfile", """FROM python:3.12-slim AS base
ENV PYTHONDONTWRITEBYTECODE=1 PIP_NO_CACHE_DIR=1
WORKDIR /app
COPY requirements.txt .
RUN pip install -r requirements.txt
COPY . .
USER 10001
CMD ["gunicorn", "-w", "4", "-b", "0.0.0.0:8000", "app:app"]"""),
    ("neg-product-csv", """sku,product,price_eur,stock
LMP-0042,Ashford Desk Lamp,49.90,120
CHR-1187,Marlowe Office Chair,219.00,14
SHF-0310,Brandon Wall Shelf,35.50,67
RUG-2204,Harper Wool Rug,189.00,8
MUG-0099,Sterling Coffee Mug,9.90,540
BTL-0450,Everett Water Bottle,14.50,210
can you find the items under 20 in stock?"""),
    ("neg-german-request", """Bitte prüfen Sie die Konfiguration des Servers und starten Sie den Dienst danach neu. Wenn die Verbindung dann immer noch abbricht, schicken Sie mir bitte das vollständige Protokoll."""),
    ("neg-french-request", """Pouvez-vous vérifier la facture du mois dernier ? Le montant ne correspond pas au devis que nous avons reçu, et la date d'échéance est déjà passée."""),
    ("neg-spanish-request", """¿Podrías revisar el informe trimestral antes del viernes? Faltan las cifras de marzo y el gráfico de ventas no se actualiza."""),
    ("neg-invoice-refs", """Invoice INV-2024-00831 for PO 4500012345, total EUR 1,234.56, payment terms 30 days net. Delivery note 8000456123, customer no. 100234."""),
    ("neg-tracking-numbers", """Shipments this week: UPS 1Z999AA10123456784, FedEx 449044304137821, DHL 1234567890, USPS 9400110200881234567890."""),
    ("neg-isbn-list", """Reading list: ISBN 978-0-13-468599-1, ISBN 978-1-4919-5017-3, ISBN 978-0-596-51774-8."""),
    ("neg-ean-barcodes", """EAN codes for the new batch: 4006381333931, 5901234123457, 4012345678901 - the scanner rejects the last one."""),
    ("neg-coordinates", """The depot is at lat 52.520008, lon 13.404954; the second site at 48.137154, 11.576124."""),
    ("neg-mac-serials", """Switch port 14: MAC 3c:22:fb:7a:10:e4, serial FDO2213X0QJ, firmware 17.9.4a."""),
    ("neg-schedule", """Standup moves to 09:30 CET from Monday, the design review is 14:00-15:30 on 2025-04-08, and the release freeze starts 22.04."""),
    ("neg-changelog", """## 3.2.0 - 2025-02-27
### Added
- Bulk export of orders as CSV (#1181)
### Fixed
- Checkout no longer double-charges on retry (#1177)
- Timezone of scheduled reports (#1169)"""),
    # --- second block: personal data in documented formats ---
    ("vcard", """can you turn this into a CSV row?
BEGIN:VCARD
VERSION:3.0
N:«PERSON|Lindqvist»;«PERSON|Maja»;;;
FN:«PERSON|Maja Lindqvist»
TEL;TYPE=CELL:«PHONE_NUMBER|+46 70 123 45 67»
EMAIL;TYPE=INTERNET:«EMAIL_ADDRESS|maja.lindqvist@telia.com»
END:VCARD"""),
    ("ics-attendee", """why does Outlook drop the second attendee?
BEGIN:VEVENT
DTSTART:20250312T090000Z
SUMMARY:Contract review
ATTENDEE;CN="«PERSON|Henrik Madsen»";ROLE=REQ-PARTICIPANT:mailto:«EMAIL_ADDRESS|henrik.madsen@gmail.com»
ATTENDEE;CN="«PERSON|Aino Virtanen»";ROLE=OPT-PARTICIPANT:mailto:«EMAIL_ADDRESS|aino.virtanen@outlook.com»
END:VEVENT"""),
    ("mail-headers", """This bounced, what does the header mean?
From: "«PERSON|Declan Murphy»" <«EMAIL_ADDRESS|declan.murphy@eircom.net»>
To: support@acme.io
Subject: Re: refund for order 55120
Date: Tue, 4 Mar 2025 10:02:11 +0000"""),
    ("stripe-customer", """Stripe returns this customer, how do I update the address?
{
  "id": "cus_PfH2kQ7xLmR9",
  "object": "customer",
  "name": "«PERSON|Rosa Delgado»",
  "email": "«EMAIL_ADDRESS|rosa.delgado@gmail.com»",
  "phone": "«PHONE_NUMBER|+1 303 555 0188»",
  "address": {"line1": "«ADDRESS|1550 Larimer St", "city": "Denver", "state": "CO", "postal_code": "80202»", "country": "US"}
}"""),
    ("letter-no", """Send the signed copy to «ADDRESS|Storgata 12, 0155 Oslo», attention «PERSON|Ingrid Solberg»."""),
    ("letter-dk", """Our Copenhagen office moved: «ADDRESS|Vesterbrogade 24, 1620 København V»."""),
    ("letter-fi", """Toimitusosoite: «ADDRESS|Mannerheimintie 14 B, 00100 Helsinki»"""),
    ("letter-jp", """Please ship to «ADDRESS|2-11-3 Meguro, Meguro-ku, Tokyo 153-0063», Japan."""),
    ("support-ticket", """Ticket #48211 from «PERSON|Patrick O'Connell» («EMAIL_ADDRESS|pat.oconnell@yahoo.ie»): please call me back on «PHONE_NUMBER|087 123 4567», the order never arrived."""),
    ("hr-note", """Onboarding for «PERSON|Samuel Adeyemi»: date of birth «DATE_OF_BIRTH|1991-08-23», start date 2025-04-01, desk 3B."""),
    ("payroll-iban", """Gehalt bitte ab April auf das neue Konto: «IBAN|DE75 5121 0800 1245 1261 99», Kontoinhaber «PERSON|Jana Novak»."""),
]
