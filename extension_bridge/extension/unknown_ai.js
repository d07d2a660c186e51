// shadowmap unknown-AI signal, on pages OUTSIDE the catalog (manifest exclude_matches).
// It never stops or reads a paste's text: it notes only the size of a large paste into a
// chat-like input and reports the page's domain, once per page. Admins can switch it off
// with the managed setting detectUnknownAI = false (managed_schema.json).
'use strict';

(() => {
  if (window !== window.top) return;
  const DEFAULT_THRESHOLD = 1000; // characters: a prompt-sized paste, not a search term
  let reported = false;

  function inputKind(node) {
    if (node instanceof HTMLTextAreaElement) return 'textarea';
    if (node instanceof HTMLInputElement && /^(text|search)$/.test(node.type)) return 'input';
    if (node instanceof Element && node.closest('[contenteditable=""], [contenteditable="true"]')) return 'contenteditable';
    return null;
  }

  function settings() {
    return new Promise((resolve) => {
      try {
        chrome.storage.managed.get(['detectUnknownAI', 'unknownAIPasteThreshold'], (items) => {
          if (chrome.runtime.lastError) console.warn('shadowmap: managed settings unavailable:', chrome.runtime.lastError.message);
          resolve(chrome.runtime.lastError ? {} : items || {});
        });
      } catch (e) { // extension reloaded: the defaults apply
        console.warn('shadowmap: managed settings unavailable:', e && e.message);
        resolve({});
      }
    });
  }

  window.addEventListener('paste', async (event) => {
    // a page of an approved tool also runs the guard (dynamic_guard.js): it is not unknown
    if (globalThis.shadowmapGuard) return;
    if (reported || !event.isTrusted || !event.clipboardData) return;
    const kind = inputKind(event.target);
    const length = kind ? event.clipboardData.getData('text/plain').length : 0; // the size only
    if (!kind) return;
    const managed = await settings();
    if (managed.detectUnknownAI === false) return;
    const threshold = Number.isInteger(managed.unknownAIPasteThreshold) ? managed.unknownAIPasteThreshold : DEFAULT_THRESHOLD;
    if (length < threshold) return;
    reported = true;
    try {
      chrome.runtime.sendMessage({ type: 'unknown_signal', url: `${location.origin}/`, paste_length: length, input_kind: kind },
        () => {
          if (chrome.runtime.lastError) console.warn('shadowmap: signal not delivered:', chrome.runtime.lastError.message);
        });
    } catch (e) { // extension reloaded: nothing to report to
      console.warn('shadowmap: signal not delivered:', e && e.message);
    }
  }, true);
})();
