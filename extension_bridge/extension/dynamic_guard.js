// shadowmap approved tools: hosts the organisation approved from the collector's
// unknown-tools queue reach the extension in the policy the agent hands over
// (approved_domains), not in the catalog the manifest was built from. The service worker
// registers the manifest's own guard scripts for them at run time
// (chrome.scripting.registerContentScripts), so they are guarded like catalogued tools
// without a rebuild, and unregisters them when the policy drops them. Registrations persist
// across browser restarts; a page already open is guarded from its next load.
// The extension may run scripts on these hosts because the unknown-AI script's manifest
// entry already matches every https page (docs/browser.md: permissions, Firefox).

export const GUARD_ID = 'shadowmap-approved-guard';
export const MAIN_WORLD_ID = 'shadowmap-approved-main-world';
const MAX_DOMAINS = 1000; // the agent sends at most this many (schema/ipc.v1.json)
// a lower-case host name with at least one dot: the shape the policy's domains have
const HOST = /^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9-]{2,63}$/;

// does a manifest match pattern (https://HOST/* or https://*.HOST/*) already cover `host`?
function covers(pattern, host) {
  const match = /^https:\/\/(\*\.)?([^/]+)\/\*$/.exec(pattern);
  if (!match) return false;
  return host === match[2] || (Boolean(match[1]) && host.endsWith(`.${match[2]}`));
}

// The match patterns for the approved domains the manifest's guard does not cover already
// (a page gets one guard), sorted, without repeats.
export function approvedPatterns(domains, staticMatches) {
  const patterns = new Set();
  for (const value of (Array.isArray(domains) ? domains : []).slice(0, MAX_DOMAINS)) {
    const host = typeof value === 'string' ? value.toLowerCase().replace(/\.$/, '') : '';
    if (!HOST.test(host) || staticMatches.some((pattern) => covers(pattern, host))) continue;
    patterns.add(`https://${host}/*`);
    patterns.add(`https://*.${host}/*`);
  }
  return [...patterns].sort();
}

// the manifest's guard and main-world entries, their files as paths in the extension
// (Firefox's getManifest() gives them as full moz-extension:// URLs, Chromium as written)
function manifestScripts() {
  const base = chrome.runtime.getURL('');
  const entries = (chrome.runtime.getManifest().content_scripts || []).map((entry) => ({
    ...entry, js: (entry.js || []).map((file) => (file.startsWith(base) ? file.slice(base.length) : file)),
  }));
  return {
    guard: entries.find((entry) => entry.js.includes('content.js')),
    mainWorld: entries.find((entry) => entry.world === 'MAIN'),
  };
}

function sameMatches(registered, matches) {
  const old = [...(registered.matches || [])].sort();
  return old.length === matches.length && old.every((pattern, i) => pattern === matches[i]);
}

// Register (or replace, or remove) the guard for the approved domains; returns the match
// patterns now guarded dynamically.
export async function applyApprovedDomains(domains) {
  const { guard, mainWorld } = manifestScripts();
  const matches = guard ? approvedPatterns(domains, guard.matches || []) : [];
  const existing = await chrome.scripting.getRegisteredContentScripts({ ids: [GUARD_ID, MAIN_WORLD_ID] });
  const current = existing.find((script) => script.id === GUARD_ID);
  if (current && matches.length && sameMatches(current, matches)) return matches; // unchanged
  if (existing.length) await chrome.scripting.unregisterContentScripts({ ids: existing.map((script) => script.id) });
  if (!matches.length) return [];
  const common = { matches, runAt: 'document_start', allFrames: true, persistAcrossSessions: true };
  await chrome.scripting.registerContentScripts([{ id: GUARD_ID, js: guard.js, ...common }]);
  if (mainWorld) { // the File System Access gate: without it, pickers are not gated here (the rest is)
    try {
      await chrome.scripting.registerContentScripts([{ id: MAIN_WORLD_ID, js: mainWorld.js, world: 'MAIN', ...common }]);
    } catch (e) {
      console.warn('shadowmap: the main-world script could not be registered for approved tools:', e && e.message);
    }
  }
  return matches;
}
