"""Literal test cases gitleaks publishes with its rules (cmd/generate/config/rules/*.go):
true positives (a secret is there) and false positives (its rules must stay quiet).
Each is (source repo and path, rule id, text). Data only, as published; the go.sum lines
among generic's positives are left out (gitleaks allows them by file name, not by content).
"""
from __future__ import annotations

_RULES = "gitleaks/gitleaks cmd/generate/config/rules/"
CURL, K8S, GENERIC, DATABASE, AWS = (_RULES + f for f in ("curl.go", "kubernetes.go", "generic.go", "database.go",
                                                           "aws.go"))

TRUE_POSITIVES: list[tuple[str, str, str]] = [
    (CURL, "curl-auth-user", "curl --cacert ca.crt -u elastic:P@ssw0rd$1 https://localhost:9200"),
    (CURL, "curl-auth-user", "sh-5.0$ curl -k -X POST https://infinispan:11222/rest/v2/caches/default/hello \\\n"
     "  -H 'Content-type: text/plain' \\\n  -d 'world' \\\n  -u developer:yqDVtkqPECriaLRi"),
    (CURL, "curl-auth-user", 'curl -u ":d2LkV78zLx!t" https://localhost:9200'),
    (CURL, "curl-auth-user", 'curl -u "d2LkV78zLx!t:" https://localhost:9200'),
    (CURL, "curl-auth-user", "curl -sw '%{http_code}' -X POST --user  'johns:h0pk1ns~21s' $GItHUB_API_URL/$GIT_COMMIT --data"),
    (CURL, "curl-auth-user", "curl --user roger23@gmail.com:pQ9wTxu4Fg https://www.dropbox.com/cli_link?host_id=abcdefg -v"),
    (CURL, "curl-auth-user", "curl -s --user 'api:d2LkV78zLx!t' \\\n    "
     "https://api.mailgun.net/v2/sandbox91d3515882ecfaa1c65be642.mailgun.org/messages"),
    (CURL, "curl-auth-user", 'curl -s -v --user "j.smith:dB2yF6@qL9vZm1P#4J" "https://api.contoso.org/user/me"'),
    (CURL, "curl-auth-user", 'curl -X POST --user "{acd3c08b-74e8-4f44-a2d0-80694le24f46}":"{ZqL5kVrX1n8tA2}" --header '
     '"Accept: application/json" --data "{\\"text\\":\\"Hello, world\\",\\"source\\":\\"en\\",\\"target\\":\\"es\\"}" '
     "https://gateway.watsonplatform.net/language-translator/api"),
    (CURL, "curl-auth-user", "curl --user kevin:'pRf7vG2h1L8nQkW9' -iX PATCH -H \"Content-Type: application/json\" -d"),
    (CURL, "curl-auth-user", "$ curl https://api.dropbox.com/oauth2/token \\\n"
     "  --user c28wlsosanujy2z:qgsnai0xokrw4j1 --data grant_type=authorization_code"),
    (CURL, "curl-auth-header", "curl --header  'Authorization:  5eb4223e-5008-46e5-be67-c7b8f2732305'"),
    (CURL, "curl-auth-header", "curl -H 'Authorization: Basic YnJvd3Nlcjo=' \\"),
    (CURL, "curl-auth-header", 'curl -k -X POST --header "Authorization: Basic '
     'djJlNEpYa0NJUHZ5a2FWT0VRXzRqZmZUdDkwYTp2emNBZGFzZWpmlWZiUDc2VUJjNDNNVDExclVh" '
     '"https://api-qa.example.com:8243/token" -d "grant_type=client_credentials"'),
    (CURL, "curl-auth-header", 'curl -X POST -H "Content-Type: application/json" \\\n -H "Authorization: Basic '
     'MzUzYjMwMmM0NDU3NGY1NjUwNDU2ODdlNTM0ZTdkNmE6Mjg2OTI0Njk3ZTYxNWE2NzJhNjQ2YTQ5MzU0NTY0NmM=" \\\n'
     "  -d '{\"user\":{\"emailAddress\":\"test@example.com\"}, \"password\":\"password\"}' \\\n"
     "  'http://localhost:8080/oauth2-provider/v1.0/users'"),
    (CURL, "curl-auth-header", "#curl -X POST \\\n#  https://api.mailgun.net/v3/sandbox7dbcabccd4314c123e8b23599d35f5b6.mailgun.org/messages \\\n"
     "#  -H 'Authorization: Basic YXBpOmtleS1hN2MzNDJ3MzNhNWQxLTU2M2U3MjlwLTZhYjI3YzYzNzM0Ng==' \\\n"
     "#  -F from='Excited User <mailgun@sandbox7dbc123bccd4314c0aae8b23599d35f5b6.mailgun.org>' \\\n"
     "#  -F to='joe@example.com' \\\n#  -F subject='Hello' \\\n#  -F text='Testing some Mailgun awesomness!'"),
    (CURL, "curl-auth-header", '# curl -X GET "http://localhost:3000/api/cron/status" -H "Authorization: Bearer '
     'cfcabd11c7ed9a41b1a3e063c32d5114"'),
    (CURL, "curl-auth-header", "curl https://api.openai.com/v1/chat/completions \\\n  -H \"Content-Type: application/json\" \\\n"
     '  -H "Authorization: Bearer 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" \\'),
    (CURL, "curl-auth-header", 'curl -X GET "https://api.cloudflare.com/client/v4/user/tokens/verify" \\\n'
     '     -H "Authorization: Bearer _FXNljbSRYMWx3TWrd7lgKhLtVZX6iskC8Wcbb4b" \\\n     -H "Content-Type:application/json"'),
    (CURL, "curl-auth-header", 'curl -H "Authorization: Bearer sha256~bRLFnzd59Z3XpZH5_seJPHALOuvbWiKwbFKSsoALkgp"'),
    (CURL, "curl-auth-header", 'curl -H "Authorization: Api-Token 22cb987851bc5659l29114c62e60c79abd0d2c08" --request PUT '
     "https://appsecclass.report/api/use/635"),
    (CURL, "curl-auth-header", 'curl -H "Authorization: Token 22cb987851bc5659229114c62e60c79abd0d2c08" --request PUT '
     "https://appsecclass.report/api/use/635"),
    (CURL, "curl-auth-header", 'curl -L -H "Authorization:eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJjb25maWRlbmNlIjowLjh9.'
     'kvRPfjAhLhtRTczoRgctVGp7KY1QVH3UBZM-gM0x8ec" service1.local -> correct jwt '),
    (CURL, "curl-auth-header", 'curl -X GET \\\n     -H "apikey: c4ed6c21-9dd5-4a05-8e3f-c56d1151cce8" \\\n'
     '     -H "Accept: application/json" \\'),
    (CURL, "curl-auth-header", 'curl -XPOST http://localhost:8080/api/tasks -H "Content-Type: application/x-www-form-urlencoded; '
     'charset=UTF-8" -H "Token: 3fea6af1349166ea" -d "content=hello-curl"'),
    (CURL, "curl-auth-header", 'curl -X GET https://octopus.corp.net/\n     -H "X-Octopus-ApiKey: '
     '3a16750d-d363-41a4-8ebd-035408f7730f" \\'),
    (K8S, "kubernetes-secret-yaml", "apiVersion: v1\nkind: Secret\nmetadata:\n  name: heketi-secret\n  namespace: default\n"
     "data:\n  # base64 encoded password. E.g.: echo -n \"mypassword\" | base64\n  key: bXlwYXNzd29yZA=="),
    (K8S, "kubernetes-secret-yaml", "apiVersion: v1\ndata:\n\tpassword: UyFCXCpkJHpEc2I9\n\tusername: YWRtaW4=\nkind: Secret\n"
     "metadata:\n\tcreationTimestamp: '2022-06-28T17:44:13Z'\n\tname: db-user-pass\n\tnamespace: default\ntype: Opaque"),
    (K8S, "kubernetes-secret-yaml", "apiVersion: 'v1'\ndata:\n\textra: 'YWRtaW46cGFzc3dvcmQ='\nkind: 'Secret'\nmetadata:\n"
     "\tname: 'secret-sa-sample'\n\tannotations:\n\t\tkubernetes.io/service-account.name: 'sa-name'"),
    (K8S, "kubernetes-secret-yaml", "apiVersion: v1\ndata:\n  .dockercfg: |\n    "
     "eyJhdXRocyI6eyJodHRwczovL2V4YW1wbGUvdjEvIjp7ImF1dGgiOiJvcGVuc2VzYW1lIn19fQo=\nmetadata:\n  name: secret-dockercfg\n"
     "type: kubernetes.io/dockercfg\nkind: Secret\n"),
    (K8S, "kubernetes-secret-yaml", "apiVersion: v1\nkind: secret\ndata:\n\textra: YWRtaW46cGFzc3dvcmQ=\nmetadata:\n"
     "\tname: secret-sa-sample\n\tannotations:\n\t\tkubernetes.io/service-account.name: 'sa-name'"),
    (K8S, "kubernetes-secret-yaml", "apiVersion: v1\nkind: Secret\nmetadata:\n\tcreationTimestamp: '2022-06-28T17:44:13Z'\n"
     "\tname: db-user-pass\n\tnamespace: default\ntype: Opaque\ndata:\n\t# the data is abbreviated in this example\n"
     "\tpassword: UyFCXCpkJHpEc2I9\n\tusername: YWRtaW4=\n"),
    (K8S, "kubernetes-secret-yaml", 'apiVersion: "v1"\nkind: "Secret"\ndata:\n\tpassword: "UyFCXCpkJHpEc2I9"\n'
     '\tusername: "YWRtaW4="\nmetadata:\n\tname: "db-user-pass"\n\tnamespace: "default"\ntype: "Opaque"'),
    (K8S, "kubernetes-secret-yaml", "apiVersion: v1\nkind: Secret\nmetadata:\n  name: secret-dockercfg\n"
     "type: kubernetes.io/dockercfg\ndata:\n  .dockercfg: >\n    "
     "eyJhdXRocyI6eyJodHRwczovL2V4YW1wbGUvdjEvIjp7ImF1dGgiOiJvcGVuc2VzYW1lIn19fQo="),
    (GENERIC, "generic-api-key", 'generic_api_token = "CLOJARS_34bf0e88955ff5a1c328d6a7491acc4f48e865a7b8dd4d70a70749037443"'),
    (GENERIC, "generic-api-key", 'generic_api_token = "Zf3D0LXCM3EIMbgJpUNnkRtOfOueHznB"'),
    (GENERIC, "generic-api-key", '"client_id" : "0afae57f3ccfd9d7f5767067bc48b30f719e271ba470488056e37ab35d4b6506"'),
    (GENERIC, "generic-api-key", '"client_secret" : "6da89121079f83b2eb6acccf8219ea982c3d79bccc3e9c6a85856480661f8fde",'),
    (AWS, "aws-access-token", 'AWSToken = "AKIALALEMEL33243OLIB"'),
]

FALSE_POSITIVES: list[tuple[str, str, str]] = [
    (CURL, "curl-auth-user", "curl -i -u 'test:test'"),
    (CURL, "curl-auth-user", '   curl -sL --user "$1:$2" "$3" > "$4"'),
    (CURL, "curl-auth-user", "curl -u <user:password> https://test.com/endpoint"),
    (CURL, "curl-auth-user", "curl --user neo4j:[PASSWORD] http://[IP]:7474/db/data/"),
    (CURL, "curl-auth-user", 'curl -u "myusername" http://localhost:15130/api/check_user/'),
    (CURL, "curl-auth-user", "curl -u username:token"),
    (CURL, "curl-auth-user", 'curl -u "${_username}:${_password}"'),
    (CURL, "curl-auth-user", 'curl -u "${username}":"${password}"'),
    (CURL, "curl-auth-user", 'curl -k -X POST -I -u "SRVC_JENKINS:${APPID}"'),
    (CURL, "curl-auth-user", 'curl -u ":" https://localhost:9200'),
    (CURL, "curl-auth-user", "curl -sw '%{http_code}' -X POST --user '$USERNAME:$PASSWORD' $GItHUB_API_URL/$GIT_COMMIT --data"),
    (CURL, "curl-auth-user", 'curl --user "xxx:yyy"'),
    (CURL, "curl-auth-user", '           curl -sL --user "$GITHUB_USERNAME:$GITHUB_PASSWORD" "$GITHUB_URL" > "$TESTS_PATH"'),
    (CURL, "curl-auth-user", "curl --silent --fail {{- if and $.Values.username $.Values.password }} --user "
     '"{{ $.Values.username }}:{{ $.Values.password }}"'),
    (CURL, "curl-auth-user", 'curl -XGET -i -u "${{ env.ELK_ID }}:${{ build.env.ELK_PASS }}"'),
    (CURL, "curl-auth-user", 'curl -XGET -i -u "${{needs.vault.outputs.account_id}}:${{needs.vault.outputs.account_password}}"'),
    (CURL, "curl-auth-user", 'curl -XGET -i -u "${{ steps.vault.outputs.account_id }}:${{ steps.vault.outputs.account_password }}"'),
    (CURL, "curl-auth-user", 'curl -X POST --user "$(cat ./login.txt):$(cat ./password.txt)"'),
    (CURL, "curl-auth-user", "curl http://127.0.0.1:5000/file --user user:pass --digest        # digest auth"),
    (CURL, "curl-auth-user", '   curl -X GET --insecure --user "username:password" \\'),
    (CURL, "curl-auth-user", "curl --silent --insecure --user ${f5user}:${f5pass} \\"),
    (CURL, "curl-auth-user", 'curl --insecure --ssl-reqd "smtps://smtp.gmail.com" --mail-from "src@gmail.com" --mail-rcpt '
     '"dst@gmail.com" --user "src@gmail.com" --upload-file out.txt'),
    (CURL, "curl-auth-user", "#HTTP command line test\ncurl -X POST -H \"Content-Type: application/json\" -d "
     "'{\"id\":12345,\"geo\":{\"latitude\":28.50,\"longitude\":-81.14}}' http://<ip>:8080/serve\n\n#UDP command line test\n"
     "echo -n '{\"type\":\"serve\",\"channel\":\"/\",\"data\":{\"site_id\":8,\"post_id\":12345,\"geo\":{\"lat\":28.50,"
     "\"long\":-81.14}}}' >/dev/udp/127.0.0.1/41234\n\n#UDP Listener (for confirmation)\nnc -u -l 41234"),
    (CURL, "curl-auth-header", 'curl https://example.com/micropub -d h=entry -d "content=Hello World" -H '
     '"Authorization: Bearer XXXXXXXXXXXX"'),
    (CURL, "curl-auth-header", "curl -X POST https://accounts.spotify.com/api/token -d grant_type=client_credentials "
     '--header "Authorization: Basic ..."'),
    (CURL, "curl-auth-header", 'curl \\\n  -H "Authorization: Bearer <Openverse API token>" \\\n  '
     '"https://api.openverse.org/v1/audio/?q=test"'),
    (CURL, "curl-auth-header", "curl -v -v -v -X POST https://domain/api/v1/authentication/sso/login-url/ \\\n"
     "  -H 'Content-Type: application/json' \\\n  -H \"Authorization: Token **********\" \\\n"
     "  -d '{\"username\": \"test\", \"next\": \"/luna/\"}'"),
    (CURL, "curl-auth-header", 'curl -XPOST http://localhost:8080/api/token -H "Authorization: basic '
     '{base64(email:password[\\n])}" => token'),
    (CURL, "curl-auth-header", 'curl -X GET \\\n     -H "apikey: $API_KEY" \\\n     -H "Accept: $FORMAT" \\\n'
     '"$API_URL/rest/v1/stats_derniere_labellisation"'),
    (CURL, "curl-auth-header", '$ curl -X POST "http://localhost:8000/v1/chat/completions" \\\n'
     '    -H "Content-Type: application/json" \\\n    -H "Authorization: Bearer $API_KEY" \\\n    -d \'{\n'
     '        "model": "chatglm3-6b-32k",\n        "messages": [{"role": "system", "content": "You are a helpful '
     'assistant."}, {"role": "user", "content": "Hello!"}]\n    }\''),
    (CURL, "curl-auth-header", 'curl -X GET -H "Content-Type: application/json" -H "Authorization: Bearer '
     '$(gcloud auth print-access-token)" https://workflowexecutions.googleapis.com/v1/projects/244283331594/locations/'
     "us-central1/workflows/sample-workflow/executions/43c925aa-514a-44c1-a0a4-a9f8f26fd2cb/callbacks/"
     "1705791f-d446-4e92-a6d0-a13622422e80_31864a51-8c13-4b03-ad4d-945cdc8d0631"),
    (K8S, "kubernetes-secret-yaml", "apiVersion: v1\nkind: Secret\nmetadata:\n  name: registry-auth-data\ntype: Opaque\n"
     "data:\n  htpasswd: ''\n"),
    (K8S, "kubernetes-secret-yaml", 'apiVersion: v1\nkind: Secret\nmetadata:\n  name: registry-auth-data\ntype: Opaque\n'
     'data:\n  htpasswd: ""\n'),
    (K8S, "kubernetes-secret-yaml", "apiVersion: v1\nkind: Secret\nmetadata:\n  name: registry-auth-data\ntype: Opaque\n"
     "data:\n  htpasswd: {{ htpasswd }}\n---\napiVersion: v1\n                          kind: ReplicationController"),
    (K8S, "kubernetes-secret-yaml", "apiVersion: v1\ndata:\n\textra: YmFyCg==\nkind: secret\nmetadata:\n"
     "\tname: secret-sa-sample\n\tannotations:\n\t\tkubernetes.io/service-account.name: 'sa-name'"),
    (K8S, "kubernetes-secret-yaml", "apiVersion: v1\n data:\n \tpassword: {{ .Values.Password }}\n kind: secret\n metadata:\n"
     " \tname: secret-sa-sample\n \tannotations:\n \t\tkubernetes.io/service-account.name: 'sa-name'"),
    (K8S, "kubernetes-secret-yaml", "apiVersion: 'kubernetes-client.io/v1'\nmetadata:\n  name: actions-exporter\n"
     "  namespace: github-actions-exporter\nspec:\n  backendType: secretsManager\n  data:\n    - key: MySecretManagerKey\n"
     "      name: github_token\n      property: github_token\nkind: ExternalSecret\n"),
    (K8S, "kubernetes-secret-yaml", "apiVersion: external-secrets.io/v1beta1\nkind: ExternalSecret\nmetadata:\n  name: api-key\n"
     "  namespace: my-namespace\nspec:\n  secretStoreRef:\n    kind: ClusterSecretStore\n    name: aws-secretsmanager\n"
     "  refreshInterval: 1h\n  target:\n    creationPolicy: Owner\n  data:\n    - secretKey: api-key\n      remoteRef:\n"
     "        key: my-secrets-manager-secret"),
    (K8S, "kubernetes-secret-yaml", "apiVersion: v1\nkind: Secret\nmetadata:\n  labels:\n    k8s-app: kubernetes-dashboard\n"
     "    addonmanager.kubernetes.io/mode: EnsureExists\n  name: kubernetes-dashboard-csrf\n"
     "  namespace: kubernetes-dashboard\ntype: Opaque\ndata:\n  csrf: \"\"\n"),
    (GENERIC, "generic-api-key", "client_vpn_endpoint_id = aws_ec2_client_vpn_endpoint.client-vpn-endpoint.id"),
    (GENERIC, "generic-api-key", "password combination.\n\nR5: Regulatory--21"),
    (DATABASE, "database-password", "DB_PASSWORD=[value]"),
    (DATABASE, "database-password", "somepwd=XXXXXXXXXXXXXXX"),
    (AWS, "aws-access-token", "key = AKIAXXXXXXXXXXXXXXXX"),
    (AWS, "aws-access-token", "aws_access_key: AKIAIOSFODNN7EXAMPLE"),
    (AWS, "aws-access-token", 'msgstr "Näytä asiakirjamallikansio."'),
    (AWS, "aws-access-token", "TODAYINASIAASACKOFRICEFELLOVER"),
]
