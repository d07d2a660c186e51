// shadowmap tenant restriction: the vendors' own tenant-restriction headers (ChatGPT
// workspaces, Anthropic organisations, Microsoft and Google tenants), set with
// declarativeNetRequest on the vendors' hosts from the policy the agent hands over. No TLS
// interception, and Chrome keeps dynamic rules across restarts, so enforcement holds while
// the agent is down. Which header goes to which hosts is the contract's (schema/host.v1.json).
import './generated/contract.js';

const HEADERS = globalThis.shadowmapContract.tenantHeaders;
const FIRST_RULE_ID = 1000; // this module's rules: FIRST_RULE_ID .. FIRST_RULE_ID + HEADERS.length - 1
// every request type both Chromium and Firefox know, main frames included (sign-in pages)
const RESOURCE_TYPES = ['main_frame', 'sub_frame', 'stylesheet', 'script', 'image', 'font', 'object',
  'xmlhttprequest', 'ping', 'csp_report', 'media', 'websocket', 'other'];

export function tenantRules(restrictions) {
  const rules = [];
  HEADERS.forEach((entry, index) => {
    const values = restrictions && Array.isArray(restrictions[entry.policy_key]) ? restrictions[entry.policy_key] : [];
    const clean = values.filter((v) => typeof v === 'string' && /^[A-Za-z0-9._-]+$/.test(v));
    if (!clean.length) return;
    rules.push({
      id: FIRST_RULE_ID + index,
      priority: 1,
      action: { type: 'modifyHeaders',
        requestHeaders: [{ header: entry.header, operation: 'set', value: clean.join(entry.join) }] },
      condition: { requestDomains: entry.hosts, resourceTypes: RESOURCE_TYPES },
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
