// shadowmap service worker: relays content-script requests to the native host.
// One connectNative port (one host process, ~ms per verdict); reopened on the next request
// after it drops. Every request gets exactly one answer: the host's reply, or an error when
// the port drops or the host does not answer in time.
'use strict';

const HOST_NAME = 'com.shadowmap.bridge';
const REPLY_TIMEOUT_MS = 20000;
const FORWARDED_TYPES = new Set(['scan', 'visit']);

let port = null;
let nextId = 1;
const pending = new Map(); // id -> {respond, timer}

function settle(id, reply) {
  const entry = pending.get(id);
  if (!entry) return;
  pending.delete(id);
  clearTimeout(entry.timer);
  entry.respond(reply);
}

function failAll(detail) {
  for (const id of [...pending.keys()]) {
    settle(id, { type: 'error', error: 'agent_unavailable', detail, id });
  }
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

function relay(request, respond) {
  const id = nextId++;
  const timer = setTimeout(
    () => settle(id, { type: 'error', error: 'agent_unavailable', detail: 'no answer from shadowmap in time', id }),
    REPLY_TIMEOUT_MS);
  pending.set(id, { respond, timer });
  try {
    openPort().postMessage({ ...request, id });
  } catch (e) {
    port = null;
    settle(id, { type: 'error', error: 'agent_unavailable', detail: String((e && e.message) || e), id });
  }
}

chrome.runtime.onMessage.addListener((msg, sender, sendResponse) => {
  // only our own content scripts can reach this listener (no externally_connectable)
  if (!msg || !FORWARDED_TYPES.has(msg.type)) return false;
  const url = typeof msg.url === 'string' ? msg.url : (sender.url || '');
  const request = msg.type === 'scan'
    ? { type: 'scan', channel: String(msg.channel || 'paste'), url, text: String(msg.text ?? '') }
    : { type: 'visit', url };
  relay(request, sendResponse);
  return true; // the answer is asynchronous
});
