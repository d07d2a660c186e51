// shadowmap service worker (an ES module): relays content-script requests to the native
// host, over one connectNative port (one host process, ~ms per verdict) reopened on the
// next request after it drops or after the worker restarts. Every request gets exactly one
// answer. When the agent is unreachable, scans are decided here by the cached policy's
// on_agent_unavailable modes, and each decision is queued in chrome.storage and uploaded
// once the agent answers again. Names and limits shared with the host and the agent come
// from the contract (generated/contract.js).
import './generated/contract.js';
import { shadowmapOfflineVerdict } from './offline.js';
import { applyTenantRestrictions } from './tenants.js';
import { applyApprovedDomains } from './dynamic_guard.js';

const CONTRACT = globalThis.shadowmapContract;
const HOST_NAME = CONTRACT.hostName;
const REPLY_TIMEOUT_MS = CONTRACT.limits.replyTimeoutMs;
const FORWARDED_TYPES = new Set(CONTRACT.ipc.contentRequestTypes);
const REQUEST_FIELDS = CONTRACT.ipc.requestFields; // type -> the fields ipc.v1.json declares for it
const OFFLINE_MODES = new Set(CONTRACT.enums.agentUnavailableMode);
const OFFLINE_DEFAULT = Object.freeze({ default: CONTRACT.agentUnavailableDefault });
const POLICY_MAX_AGE_MS = 10 * 60 * 1000;
const POLICY_ALARM = 'shadowmap-policy'; // wakes the worker to refresh the policy even when nothing is pasted
const POLICY_ALARM_MINUTES = 5;
const MAX_QUEUED = 500;

// every failure is said somewhere: in the reply it caused, or here in the worker's console
function report(what, error) {
  console.warn(`shadowmap: ${what}:`, (error && error.message) || error);
}

let port = null;
let nextId = 1;
const pending = new Map(); // id -> {resolve, timer}

function unavailable(detail, id) {
  return { type: 'error', error: 'agent_unavailable', detail, id };
}

function settle(id, reply) {
  const entry = pending.get(id);
  if (!entry) return;
  pending.delete(id);
  clearTimeout(entry.timer);
  entry.resolve(reply);
}

function failAll(detail) {
  for (const id of [...pending.keys()]) settle(id, unavailable(detail, id));
}

function openPort() {
  if (port) return port;
  const p = chrome.runtime.connectNative(HOST_NAME);
  p.onMessage.addListener((msg) => {
    if (msg && typeof msg === 'object' && pending.has(msg.id)) settle(msg.id, msg);
  });
  p.onDisconnect.addListener(() => {
    const why = chrome.runtime.lastError ? chrome.runtime.lastError.message : 'the native host exited';
    if (port === p) port = null;
    failAll(`shadowmap native host disconnected: ${why}`);
  });
  port = p;
  return p;
}

function relay(request) {
  return new Promise((resolve) => {
    const id = nextId++;
    const timer = setTimeout(() => settle(id, unavailable('no answer from shadowmap in time', id)), REPLY_TIMEOUT_MS);
    pending.set(id, { resolve, timer });
    try {
      openPort().postMessage({ ...request, id });
    } catch (e) {
      port = null;
      settle(id, unavailable(String((e && e.message) || e), id));
    }
  });
}

// ---- storage: the cached policy and the queue of offline decisions ------------------
let storageChain = Promise.resolve(); // serialises read-modify-write of the queue

function local(keys) {
  return new Promise((resolve) => chrome.storage.local.get(keys, (items) => resolve(items || {})));
}

function updateQueue(change) {
  storageChain = storageChain.then(async () => {
    const { offlineQueue = [] } = await local('offlineQueue');
    await chrome.storage.local.set({ offlineQueue: change(offlineQueue).slice(-MAX_QUEUED) });
  }).catch((e) => report('could not update the queue of offline decisions', e));
  return storageChain;
}

async function managedMode() {
  try { // the admin's managed default, if any
    const managed = await chrome.storage.managed.get('onAgentUnavailable');
    const mode = managed && managed.onAgentUnavailable;
    return OFFLINE_MODES.has(mode) ? mode : null;
  } catch (e) { // no managed storage (e.g. Firefox without enterprise policies): the default applies
    report('managed storage unavailable, using the default offline mode', e);
    return null;
  }
}

async function offlineModes() {
  const { policyModes } = await local('policyModes');
  if (policyModes && typeof policyModes === 'object') return policyModes;
  const mode = await managedMode(); // before the agent was ever reached
  return mode ? { default: mode } : OFFLINE_DEFAULT;
}

let policyFetchedAt = 0;
async function refreshPolicy() {
  if (Date.now() - policyFetchedAt < POLICY_MAX_AGE_MS) return;
  policyFetchedAt = Date.now();
  const reply = await relay({ type: 'policy' });
  if (reply.type === 'policy' && reply.on_agent_unavailable) {
    await chrome.storage.local.set({ policyModes: reply.on_agent_unavailable });
    await applyTenantRestrictions(reply.tenant_restrictions || {})
      .catch((e) => report('could not apply the tenant restrictions', e));
    await applyApprovedDomains(reply.approved_domains || [])
      .catch((e) => report('could not guard the approved tools', e));
  } else {
    policyFetchedAt = 0;
  }
}

let flushing = false;
let maybeQueued = true; // until a flush found the queue empty (kept in memory: no storage read per scan)
let queued = 0; // decisions queued by this worker, so a flush never hides one queued meanwhile
async function flushQueue() {
  if (flushing || !maybeQueued) return;
  flushing = true;
  try {
    const { offlineQueue = [] } = await local('offlineQueue');
    for (const decision of offlineQueue) {
      const reply = await relay(decision);
      if (reply.type === 'error' && reply.error === 'agent_unavailable') break; // down again: keep the rest
      if (reply.type === 'error') report(`an offline decision was refused (${reply.error})`, reply.detail);
      // acked, or refused for good (bad_request): either way it leaves the queue
      await updateQueue((queue) => queue.filter((d) => d.decision_id !== decision.decision_id));
    }
    const before = queued;
    await storageChain;
    const { offlineQueue: left = [] } = await local('offlineQueue');
    if (queued === before) maybeQueued = left.length > 0;
  } finally {
    flushing = false;
  }
}

async function decideOffline(request, files) {
  const verdict = shadowmapOfflineVerdict(request.text, await offlineModes());
  verdict.reason = chrome.i18n.getMessage(verdict.action === 'allow' ? 'offlineAllowed' : 'offlineBlocked');
  maybeQueued = true;
  queued += 1;
  await updateQueue((queue) => [...queue, {
    type: 'offline_decision', decision_id: crypto.randomUUID(), decided_at: new Date().toISOString(),
    channel: request.channel, url: request.url, action: verdict.action, data_classes: verdict.data_classes,
    text_length: request.text.length, reason: verdict.reason,
    // facts only: a file's bytes are never queued
    files: files.map((file) => ({ name: file.name, mime: file.mime, size: file.size, read: file.read })),
  }]);
  return verdict;
}

// after a reply from the agent: upload what waited, refresh the cached policy (in the background)
function afterReachingTheAgent() {
  flushQueue().catch((e) => report('could not upload the offline decisions', e));
  refreshPolicy().catch((e) => report('could not refresh the offline policy', e));
}

// a content script's request as the contract declares it: its own fields only, the page's URL
function requestOf(msg, url) {
  const request = { type: msg.type };
  for (const field of REQUEST_FIELDS[msg.type]) {
    if (field === 'url') request.url = url;
    else if (msg[field] !== undefined) request[field] = msg[field];
  }
  return request;
}

async function handle(msg, senderUrl) {
  const url = typeof msg.url === 'string' ? msg.url : senderUrl;
  if (msg.type !== 'scan') return relay(requestOf(msg, url));
  const files = Array.isArray(msg.files) ? msg.files : [];
  const request = { type: 'scan', channel: String(msg.channel || 'paste'), url, text: String(msg.text ?? ''), files };
  const reply = await relay(request);
  if (reply.type === 'error' && reply.error === 'agent_unavailable') return decideOffline(request, files);
  afterReachingTheAgent();
  return reply;
}

chrome.runtime.onMessage.addListener((msg, sender, sendResponse) => {
  // only our own content scripts can reach this listener (no externally_connectable)
  if (!msg || !FORWARDED_TYPES.has(msg.type)) return false;
  handle(msg, sender.url || '').then(sendResponse, (e) => {
    report(`the ${msg.type} request failed`, e);
    sendResponse({ type: 'error', error: 'internal', detail: String((e && e.message) || e) });
  });
  return true; // the answer is asynchronous
});

// approved tools and other policy changes reach the extension within POLICY_ALARM_MINUTES
chrome.alarms.onAlarm.addListener((alarm) => {
  if (alarm.name !== POLICY_ALARM) return;
  policyFetchedAt = 0;
  refreshPolicy().catch((e) => report('could not refresh the policy', e));
});
chrome.alarms.get(POLICY_ALARM).then((alarm) => alarm || chrome.alarms.create(POLICY_ALARM, { periodInMinutes: POLICY_ALARM_MINUTES }))
  .catch((e) => report('could not schedule policy refreshes', e));

// a (re)started worker reconnects at once: fresh policy, and whatever waited in the queue
refreshPolicy().then(flushQueue).catch((e) => report('could not reach shadowmap at start', e));
