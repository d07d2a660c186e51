// shadowmap content script (document_start, all frames, catalogued AI tool pages only).
// Every paste is stopped in the capture phase before the page or the browser sees it, the
// text is checked by the local agent, and only then is an allowed paste put back.
'use strict';

(() => {
  const root = document.documentElement;
  root.dataset.shadowmapLoaded = '1';

  // entity types in plain words for the banner; values are never shown
  const PLAIN_WORDS = {
    AWS_ACCESS_KEY: 'AWS access key', AWS_SECRET_KEY: 'AWS secret key',
    EMAIL_ADDRESS: 'email address', PHONE_NUMBER: 'phone number', PERSON: 'person name',
    CREDIT_CARD: 'payment card number', IBAN_CODE: 'bank account number (IBAN)',
    US_SSN: 'US social security number', IP_ADDRESS: 'IP address', LOCATION: 'address or location',
    PRIVATE_KEY: 'private key', GITHUB_TOKEN: 'GitHub token', SLACK_TOKEN: 'Slack token',
    STRIPE_KEY: 'Stripe key', JWT: 'access token (JWT)', DATABASE_URL: 'database URL with credentials',
    GENERIC_SECRET: 'password or secret', INTERNAL_HOSTNAME: 'internal hostname',
  };
  const ourEvents = new WeakSet(); // synthetic pastes we dispatch ourselves

  function plainWords(entityType) {
    const key = String(entityType || '');
    return PLAIN_WORDS[key] || key.toLowerCase().replace(/_/g, ' ');
  }

  function describeFindings(findings) {
    const names = [];
    for (const f of Array.isArray(findings) ? findings : []) {
      const name = plainWords(f && f.entity_type);
      if (name && !names.includes(name)) names.push(name);
    }
    return names.join(', ');
  }

  function ask(message) {
    return new Promise((resolve) => {
      try {
        chrome.runtime.sendMessage(message, (reply) => {
          if (chrome.runtime.lastError || !reply) {
            const detail = chrome.runtime.lastError ? chrome.runtime.lastError.message : 'no reply';
            resolve({ type: 'error', error: 'agent_unavailable', detail });
          } else {
            resolve(reply);
          }
        });
      } catch (e) { // extension reloaded or context gone
        resolve({ type: 'error', error: 'agent_unavailable', detail: String((e && e.message) || e) });
      }
    });
  }

  // Put an allowed paste back: first as a paste event, for editors that handle paste
  // themselves (ProseMirror, as on chatgpt.com and claude.ai); if nobody took it, insert
  // the text as typing would (textarea, input, plain contenteditable; keeps undo).
  function insert(target, text) {
    const el = target instanceof Element ? target : document.activeElement;
    if (el && typeof el.focus === 'function' && document.activeElement !== el && !el.contains(document.activeElement)) {
      el.focus();
    }
    const data = new DataTransfer();
    data.setData('text/plain', text);
    const replay = new ClipboardEvent('paste', { clipboardData: data, bubbles: true, cancelable: true, composed: true });
    ourEvents.add(replay);
    (el || document).dispatchEvent(replay);
    if (replay.defaultPrevented) return 'editor';
    if (document.execCommand('insertText', false, text)) return 'insertText';
    if (el && typeof el.setRangeText === 'function') { // last resort for inputs
      el.setRangeText(text, el.selectionStart, el.selectionEnd, 'end');
      el.dispatchEvent(new InputEvent('input', { bubbles: true, inputType: 'insertFromPaste', data: text }));
      return 'setRangeText';
    }
    return 'none';
  }

  function decide(reply) {
    if (!reply || reply.type !== 'verdict') return 'error';
    if (reply.action === 'allow' || reply.action === 'warn') return reply.action;
    return 'block'; // block, and redact: the agent's reply carries no redacted text to insert
  }

  function explain(decision, reply) {
    const kinds = describeFindings(reply && reply.findings);
    const reason = reply && typeof reply.reason === 'string' ? reply.reason : '';
    if (decision === 'block') {
      return ['shadowmap blocked this paste',
        [kinds && `It contains: ${kinds}.`, reason].filter(Boolean).join(' ')];
    }
    if (decision === 'warn') {
      return ['shadowmap: check what you pasted',
        [kinds && `It contains: ${kinds}.`, reason].filter(Boolean).join(' ')];
    }
    return ['shadowmap could not check this paste',
      'The paste was stopped because the shadowmap agent did not answer. Try again in a moment.'];
  }

  async function onPaste(event) {
    if (ourEvents.has(event)) return; // our own replay of an allowed paste
    const text = event.clipboardData ? event.clipboardData.getData('text/plain') : '';
    if (!text) return; // nothing textual to check (e.g. an image): out of scope here
    event.preventDefault();
    event.stopImmediatePropagation();
    const target = event.target;
    globalThis.shadowmapBanner.clear();
    delete root.dataset.shadowmapDecision;
    const reply = await ask({ type: 'scan', channel: 'paste', url: location.href, text });
    const decision = decide(reply);
    if (decision === 'allow' || decision === 'warn') insert(target, text);
    if (decision !== 'allow') globalThis.shadowmapBanner.show(decision, ...explain(decision, reply));
    root.dataset.shadowmapDecision = decision;
  }

  window.addEventListener('paste', onPaste, true);
  if (window === window.top) ask({ type: 'visit', url: location.href });
})();
