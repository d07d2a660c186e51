// shadowmap offline check, used by the background only while the agent is unreachable:
// a few unmistakable patterns per data class (no NER, no context), so the policy's
// on_agent_unavailable mode can still be applied per class. An ES module (the service
// worker imports it).

const SHADOWMAP_OFFLINE_PATTERNS = {
  secret: [
    /\b(AKIA|ASIA)[A-Z2-7]{16}\b/,                      // AWS access key id
    /-----BEGIN [A-Z ]*PRIVATE KEY-----/,               // PEM private key
    /\bgh[pousr]_[A-Za-z0-9]{36,}\b/,                   // GitHub token
    /\bgithub_pat_[A-Za-z0-9_]{22,}\b/,
    /\bxox[abposr]-[A-Za-z0-9-]{10,}/,                  // Slack token
    /\b[sr]k_live_[A-Za-z0-9]{16,}\b/,                  // Stripe live key
    /\b[a-z][a-z0-9+.-]*:\/\/[^\s:/@]+:[^\s:/@]+@[^\s/]+/i, // URL with a password (DB URLs)
  ],
  pii: [
    /(?<![\w.%+:/-])[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}\b/, // email address (not a URL's user:password@)
  ],
};
const SHADOWMAP_CARD_CANDIDATE = /\b(?:\d[ -]?){13,19}\b/g;

function luhn(digits) {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = Number(digits[digits.length - 1 - i]);
    if (i % 2 === 1) { d *= 2; if (d > 9) d -= 9; }
    sum += d;
  }
  return sum % 10 === 0;
}

// The data classes this text surely holds (a subset of secret, pii, payment).
export function shadowmapOfflineClasses(text) {
  const found = [];
  for (const [dataClass, patterns] of Object.entries(SHADOWMAP_OFFLINE_PATTERNS)) {
    if (patterns.some((p) => p.test(text))) found.push(dataClass);
  }
  for (const match of text.matchAll(SHADOWMAP_CARD_CANDIDATE)) {
    const digits = match[0].replace(/\D/g, '');
    if (digits.length >= 13 && digits.length <= 19 && luhn(digits)) { found.push('payment'); break; }
  }
  return found;
}

// how a class found offline is named to the user (there is no detector's entity type)
const CLASS_WORDS = { secret: 'secret (key, token or password)', pii: 'personal data', payment: 'payment card data' };

// modes: {default, <data class>...} -> fail_open | fail_closed (the policy's on_agent_unavailable)
export function shadowmapOfflineVerdict(text, modes) {
  const classes = shadowmapOfflineClasses(text);
  const closed = classes.filter((c) => (modes[c] || modes.default) === 'fail_closed');
  const blockAll = !classes.length && modes.default === 'fail_closed';
  const action = closed.length || blockAll ? 'block' : 'allow';
  const findings = classes.map((c) => ({ entity_type: c.toUpperCase(), data_class: c, count: 1, reason: CLASS_WORDS[c] }));
  const reason = action === 'allow'
    ? 'shadowmap is unavailable; company policy lets this through and it was recorded'
    : 'shadowmap is unavailable and company policy blocks this until it can be checked';
  return { type: 'verdict', action, reason, findings, offline: true, data_classes: classes };
}
