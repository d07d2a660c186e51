// shadowmap tenant restriction: the vendors' own tenant-restriction headers (ChatGPT
// workspaces, Anthropic organisations, Microsoft and Google tenants), set with
// declarativeNetRequest on the vendors' hosts from the policy the agent hands over. No TLS
// interception, and the browser keeps dynamic rules across restarts, so enforcement holds while
// the agent is down. Which header goes to which hosts is the contract's (schema/host.v1.json).
import './generated/contract.js';

const HEADERS = globalThis.shadowmapContract.tenantHeaders;
const FIRST_RULE_ID = 1000; // this module's rules: FIRST_RULE_ID .. FIRST_RULE_ID + HEADERS.length - 1
// every request type both Chromium and Firefox know, main frames included (sign-in pages)
const RESOURCE_TYPES = ['main_frame', 'sub_frame', 'stylesheet', 'script', 'image', 'font', 'object',
  'xmlhttprequest', 'ping', 'csp_report', 'media', 'websocket', 'other'];

// a policy value as the header carries it: ids, domains, Microsoft's <tenant id>:<policy id>;
// never a comma (the join), a space or a line break
const VALUE = /^[A-Za-z0-9._:-]+$/;

function escapeRegex(text) {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

// which requests an entry's rule matches: its hosts and their subdomains, or (subdomains false:
// Microsoft names exact sign-in hosts and keeps device.login.microsoftonline.com out) those
// hosts only, whatever the port
function conditionFor(entry) {
  const condition = { requestDomains: entry.hosts, resourceTypes: RESOURCE_TYPES };
  if (entry.subdomains === false) {
    condition.regexFilter = `^https?://(${entry.hosts.map(escapeRegex).join('|')})(:[0-9]+)?/`;
  }
  return condition;
}

// the header's value from the policy: a switch's fixed value when the key is true, else the
// listed values joined (none: no rule)
function valueFor(entry, restrictions) {
  const setting = restrictions ? restrictions[entry.policy_key] : undefined;
  if (entry.value !== undefined) return setting === true ? entry.value : null;
  const values = Array.isArray(setting) ? setting : [];
  const clean = values.filter((v) => typeof v === 'string' && VALUE.test(v));
  return clean.length ? clean.join(entry.join) : null;
}

export function tenantRules(restrictions) {
  const rules = [];
  HEADERS.forEach((entry, index) => {
    const value = valueFor(entry, restrictions);
    if (value === null) return;
    rules.push({
      id: FIRST_RULE_ID + index,
      priority: 1,
      action: { type: 'modifyHeaders', requestHeaders: [{ header: entry.header, operation: 'set', value }] },
      condition: conditionFor(entry),
    });
  });
  return rules;
}

// Replace this module's rules with the ones the policy asks for (none: the headers go).
export async function applyTenantRestrictions(restrictions) {
  const existing = await chrome.declarativeNetRequest.getDynamicRules();
  const removeRuleIds = existing.map((rule) => rule.id)
    .filter((id) => id >= FIRST_RULE_ID && id < FIRST_RULE_ID + HEADERS.length);
  await chrome.declarativeNetRequest.updateDynamicRules({ removeRuleIds, addRules: tenantRules(restrictions) });
}
