// A real OpenID provider (the certified `oidc-provider` package) for the console's SSO
// tests. tests/security/test_oidc_login.py starts it on loopback:
//
//   node provider.js <setup.json>
//
// setup.json: {"issuer": "http://localhost:PORT", "port": PORT,
//              "jwks": {"keys": [<private JWK>...]},   // its signing keys (the test knows them)
//              "clients": [<client metadata>...],       // static clients
//              "accounts": {"<login>": {<claims>}}}    // who may sign in, with their claims
//
// Sign-in is the package's own development interactions (a login form, then a consent form):
// any password is accepted for a login listed in `accounts`; an unlisted login is unknown.
// It prints "listening <issuer>" once it serves.
import { readFileSync } from 'node:fs';

import Provider from 'oidc-provider';

const setup = JSON.parse(readFileSync(process.argv[2], 'utf8'));

const provider = new Provider(setup.issuer, {
  clients: setup.clients,
  jwks: setup.jwks,
  cookies: { keys: ['shadowmap-test-cookie-key'] },
  claims: {
    openid: ['sub'],
    email: ['email', 'email_verified'],
    profile: ['name', 'preferred_username'],
    groups: ['groups'],
  },
  // every client must send PKCE (S256 is the only method the package accepts)
  pkce: { required: () => true },
  features: { devInteractions: { enabled: true } },
  async findAccount(_ctx, sub) {
    const claims = setup.accounts[sub];
    if (!claims) return undefined;
    return { accountId: sub, claims: async () => ({ sub, ...claims }) };
  },
});
provider.on('server_error', (_ctx, err) => { console.error('server_error', err); });

provider.listen(setup.port, '127.0.0.1', () => {
  console.log(`listening ${setup.issuer}`);
});
