"""Credentials in commands and tool configs: curl -u and auth headers, Kubernetes Secret
manifests and kubeconfigs, base64 private keys, .netrc, Docker config.json, Ansible vars.
Each with its near misses: variables, templates, placeholders and look-alikes."""
import base64

import pytest

PEM_B64 = base64.b64encode(b"-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEAu2vwZW7HJdqyEiUpNfC9Lm0XnOSGdkWQ\n").decode()
CERT_B64 = base64.b64encode(b"-----BEGIN CERTIFICATE-----\nMIIC8jCCAdqgAwIBAgIIYQ\n").decode()
DOCKER_AUTH = base64.b64encode(b"deploy:Gh7#kq2Lz9Vw").decode()
DOCKER_PLACEHOLDER = base64.b64encode(b"user:password").decode()
K8S_TOKEN = "eyJhbGciOiJSUzI1NiJ9.k2YKNZ0mEB3Vmb2XYzPKzFiH66hBQuTH1lu4gGqM7cNe9fNWJnrr"

SECRET_MANIFEST = """apiVersion: v1
kind: Secret
metadata:
  name: db-user-pass
type: Opaque
data:
  password: UyFCXCpkJHpEc2I9
  username: YWRtaW4=
"""
EXTERNAL_SECRET = """apiVersion: external-secrets.io/v1beta1
kind: ExternalSecret
spec:
  data:
    - secretKey: api-key
      remoteRef:
        key: my-secrets-manager-secret
"""

CASES = [
    ("CURL_USER_PASSWORD", "curl -s -u admin:Tr4ck!ng2024Qz https://grafana.acme.io/api", ["admin:Tr4ck!ng2024Qz"]),
    ("CURL_USER_PASSWORD", "curl --user 'api:d2LkV78zLx!t' https://api.mailgun.net/v3", ["'api:d2LkV78zLx!t'"]),
    ("CURL_USER_PASSWORD", "curl -X POST https://x.io \\\n  -d 'a=1' \\\n  -u developer:yqDVtkqPECriaLRi",
     ["developer:yqDVtkqPECriaLRi"]),
    ("CURL_USER_PASSWORD", 'curl -u "$USER:$PASS" https://api.acme.io/v1/status', []),        # variables
    ("CURL_USER_PASSWORD", "curl -u username:password https://api.acme.io", []),             # placeholder
    ("CURL_USER_PASSWORD", 'curl -u "{{ .Values.user }}:{{ .Values.pw }}" https://x', []),    # template
    ("CURL_USER_PASSWORD", "git push -u origin:Tr4ck!ng2024Qz", []),                          # not curl
    ("HTTP_AUTH_HEADER", 'curl -H "Authorization: Bearer zymMlopiWfqUyHRSIf8NFmAUNLnY5Yx0y3RnjDQl" https://x',
     ["zymMlopiWfqUyHRSIf8NFmAUNLnY5Yx0y3RnjDQl"]),
    ("HTTP_AUTH_HEADER", 'headers = {"X-Api-Key": "c4ed6c21-9dd5-4a05-8e3f-c56d1151cce8"}',
     ["c4ed6c21-9dd5-4a05-8e3f-c56d1151cce8"]),
    ("HTTP_AUTH_HEADER", 'curl -H "Authorization: Bearer $API_KEY" https://x', []),            # variable
    ("HTTP_AUTH_HEADER", 'curl -H "Authorization: Bearer XXXXXXXXXXXX" https://x', []),        # mask
    ("HTTP_AUTH_HEADER", "Authorization: Bearer <your token>", []),                          # placeholder
    ("KUBERNETES_SECRET_DATA", SECRET_MANIFEST, ["UyFCXCpkJHpEc2I9"]),
    ("KUBERNETES_SECRET_DATA", EXTERNAL_SECRET, []),                                         # a reference
    ("KUBERNETES_SECRET_DATA", SECRET_MANIFEST.replace("UyFCXCpkJHpEc2I9", "{{ .Values.pw }}"), []),
    ("KUBECONFIG_CREDENTIAL", f"users:\n- name: deployer\n  user:\n    token: {K8S_TOKEN}\n", [K8S_TOKEN]),
    ("KUBECONFIG_CREDENTIAL", "users:\n- name: deployer\n  user:\n    token: REPLACE_ME_WITH_TOKEN_xxxx\n", []),
    ("KUBECONFIG_CREDENTIAL", f"spec:\n  template:\n    token: {K8S_TOKEN}\n", []),           # not a kubeconfig
    ("BASE64_PRIVATE_KEY", f"    client-key-data: {PEM_B64}", [PEM_B64]),
    ("BASE64_PRIVATE_KEY", f"    client-certificate-data: {CERT_B64}", []),                 # a certificate is public
    ("NETRC_PASSWORD", "machine git.acme.io\n  login ci-bot\n  password Pm4tX9qLr2Wz8K\n", ["Pm4tX9qLr2Wz8K"]),
    ("NETRC_PASSWORD", "machine api.heroku.com login me password $HEROKU_PASSWORD", []),      # variable
    ("DOCKER_CONFIG_AUTH", f'{{"auths": {{"registry.gitlab.com": {{"auth": "{DOCKER_AUTH}"}}}}}}', [DOCKER_AUTH]),
    ("DOCKER_CONFIG_AUTH", f'{{"auths": {{"registry.gitlab.com": {{"auth": "{DOCKER_PLACEHOLDER}"}}}}}}', []),
    ("ANSIBLE_PASSWORD", "ansible_user: deploy\nansible_become_pass: Xq7!mR2p#Lw9\n", ["Xq7!mR2p#Lw9"]),
    ("ANSIBLE_PASSWORD", "ansible_password: 'Wz8#kLp2Qv'", ["Wz8#kLp2Qv"]),
    ("ANSIBLE_PASSWORD", 'ansible_password: "{{ vault_db_password }}"', []),                  # vault reference
    # .npmrc: a legacy token is a UUID, and it still logs in.
    ("NPMRC_AUTH", "registry=https://registry.npmjs.org/\n//registry.npmjs.org/:_authToken=5c1e2f9a-7d44-4b8e-9e1a-3f6b2d8c0a17\n",
     ["//registry.npmjs.org/:_authToken=5c1e2f9a-7d44-4b8e-9e1a-3f6b2d8c0a17"]),
    ("NPMRC_AUTH", "//npm.acme.io/repository/npm-private/:_auth=ZGVwbG95OkdoNyNrcTJMejlWdw==",
     ["//npm.acme.io/repository/npm-private/:_auth=ZGVwbG95OkdoNyNrcTJMejlWdw=="]),
    ("NPMRC_AUTH", "//registry.npmjs.org/:_authToken=${NPM_TOKEN}", []),                      # variable
    ("NPMRC_AUTH", "//registry.npmjs.org/:_authToken=<YOUR_TOKEN>", []),                      # placeholder
    ("NPMRC_AUTH", "always-auth=true\n_authToken=5c1e2f9a-7d44-4b8e-9e1a-3f6b2d8c0a17", []),  # no registry: not this shape
]


@pytest.mark.parametrize("entity_type, text, expected",
                         [pytest.param(*c, id=f"{c[0]}-{i}-{'hit' if c[2] else 'miss'}") for i, c in enumerate(CASES)])
def test_config_credential(spans, entity_type, text, expected):
    assert spans(text, entity_type) == expected


@pytest.mark.parametrize("entity_type, text", [
    # Without a colon curl prompts for the password: nothing to leak.
    ("CURL_USER_PASSWORD", 'curl -u "myusername" http://localhost:15130/api/check_user/'),
    # A YAML document separator ends the data block; what follows is another document.
    ("KUBERNETES_SECRET_DATA", "kind: Secret\ndata:\n  htpasswd: {{ htpasswd }}\n---\napiVersion: v1\n"
                               "    kind: ReplicationController"),
])
def test_boundaries_of_a_credential(spans, entity_type, text):
    assert spans(text, entity_type) == []
