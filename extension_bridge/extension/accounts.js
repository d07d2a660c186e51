// shadowmap accounts (catalogued AI tools' pages): which account the tool is signed in with,
// read the ways the catalog says the tool shows it (detectors/data/catalog `account`,
// generated into shadowmapContract.accounts): the email typed into its sign-in form (on
// blur, Enter and submit), an OAuth/OIDC login_hint / hd / domain_hint in the page's URL or
// in a link to one of its identity providers, the Entra tenant such a link names (its first
// path segment on Entra ID's sign-in hosts, or a domain_hint holding a directory id:
// shadowmapContract.entraTenantInPath), and the account its pages show. The email goes to the
// local agent only, which classifies it and keeps a keyed hash (agent/accounts.py).
'use strict';

(() => {
  const CONTRACT = globalThis.shadowmapContract;
  const ask = globalThis.shadowmapGuard && globalThis.shadowmapGuard.ask;
  if (!CONTRACT || !ask) return;
  const host = location.hostname.toLowerCase();
  const under = (name, parent) => name === parent || name.endsWith(`.${parent}`);
  const method = (CONTRACT.accounts || []).find((m) => m.domains.some((d) => under(host, d)));
  if (!method) return;

  const EMAIL = /^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@[A-Za-z0-9-]{1,63}(\.[A-Za-z0-9-]{1,63})+$/;
  const EMAIL_IN_TEXT = /[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9-]{1,63}(\.[A-Za-z0-9-]{1,63})+/;
  const DOMAIN = /^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;
  const TENANT_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
  const ENTRA = CONTRACT.entraTenantInPath || { hosts: [], reserved: [] };
  const inputs = (method.email_inputs || []).join(', ');
  const hintParams = method.hint_params || [];
  const oauthHosts = method.oauth_hosts || [];
  const sent = new Set(); // what this page already reported

  function parseURL(url) {
    try {
      return new URL(url, location.href);
    } catch (e) { // a malformed href: nothing to read
      console.debug('shadowmap: not a URL', e);
      return null;
    }
  }

  function report(source, fields) {
    const key = JSON.stringify(fields);
    if (sent.has(key)) return;
    sent.add(key);
    ask({ type: 'account', url: `${location.origin}/`, source, ...fields });
  }

  function validEmail(value) {
    const email = String(value || '').trim().toLowerCase();
    return email.length <= 254 && EMAIL.test(email) ? email : null;
  }

  function reportEmail(value, source) {
    const email = validEmail(value);
    if (email) report(source, { email });
  }

  // the Entra tenant a sign-in URL names: the first path segment on Entra ID's sign-in hosts
  // (login.microsoftonline.com/{tenant}/oauth2/...), a directory id or a domain, not
  // common/organizations/consumers
  function pathTenant(parsed) {
    if (!ENTRA.hosts.includes(parsed.hostname.toLowerCase())) return null;
    let segment;
    try {
      segment = decodeURIComponent(parsed.pathname.split('/')[1] || '').trim().toLowerCase();
    } catch (e) { // a malformed escape: no tenant to read
      console.debug('shadowmap: not a tenant', e);
      return null;
    }
    if (ENTRA.reserved.includes(segment)) return null;
    return TENANT_ID.test(segment) || DOMAIN.test(segment) ? segment : null;
  }

  // the account an OAuth/OIDC URL names: login_hint (an email; Microsoft's opaque hints are
  // skipped), or only a domain (Google's hd, Entra's domain_hint; not "organizations"/"consumers"),
  // each with the Entra tenant the URL names, if any; or that tenant alone
  function readHints(url) {
    const parsed = parseURL(url);
    if (!parsed) return;
    const params = parsed.searchParams;
    let tenant = pathTenant(parsed);
    const found = [];
    for (const name of hintParams) {
      const value = (params.get(name) || '').trim().toLowerCase();
      if (!value) continue;
      if (name === 'login_hint') {
        const email = validEmail(value);
        if (email) found.push({ email });
      } else if (name === 'domain_hint' && TENANT_ID.test(value)) {
        tenant = tenant || value; // a tid from an earlier sign-in
      } else if (DOMAIN.test(value)) {
        found.push({ hosted_domain: value });
      }
    }
    if (!found.length && tenant) found.push({});
    for (const fields of found) report('oauth_hint', tenant ? { ...fields, sso_tenant: tenant } : fields);
  }

  function emailInput(target) {
    return inputs && target instanceof HTMLInputElement && target.matches(inputs) ? target : null;
  }

  if (inputs) {
    document.addEventListener('focusout', (e) => {
      const input = emailInput(e.target);
      if (input) reportEmail(input.value, 'login_form');
    }, true);
    document.addEventListener('keydown', (e) => {
      const input = e.key === 'Enter' ? emailInput(e.target) : null;
      if (input) reportEmail(input.value, 'login_form');
    }, true);
    document.addEventListener('submit', (e) => {
      const form = e.target;
      if (form instanceof HTMLFormElement) form.querySelectorAll(inputs).forEach((i) => reportEmail(i.value, 'login_form'));
    }, true);
  }

  if (hintParams.length) {
    readHints(location.href);
    // a link or button to one of the tool's identity providers ("Continue as jane@…")
    document.addEventListener('click', (e) => {
      const link = e.target instanceof Element ? e.target.closest('a[href]') : null;
      if (!link) return;
      const target = parseURL(link.href);
      if (target && oauthHosts.some((h) => under(target.hostname.toLowerCase(), h))) readHints(link.href);
    }, true);
  }

  if (method.account_labels && method.account_labels.length && window === window.top) {
    const selector = method.account_labels.join(', ');
    const readLabels = () => {
      for (const el of document.querySelectorAll(selector)) {
        const text = `${el.getAttribute('aria-label') || ''} ${el.getAttribute('data-email') || ''} ${el.textContent || ''}`;
        const match = text.match(EMAIL_IN_TEXT);
        if (match) { reportEmail(match[0], 'page'); return; }
      }
    };
    // single-page apps draw the account menu late: look a few times, then stop
    for (const ms of [1000, 4000, 15000]) setTimeout(readLabels, ms);
  }
})();
