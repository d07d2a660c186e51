// shadowmap content script, core (document_start, all frames, catalogued AI tool pages
// only): asks the local agent about a paste, drop, upload or prompt, and applies its
// verdict: allow, redact (insert the agent's placeholder text), warn (dialog, "send
// anyway" with a justification) or block (banner). channels.js wires the page events to
// it; usage.js reports active time. Raw text goes to the extension's own background only.
'use strict';

(() => {
  const root = document.documentElement;
  root.dataset.shadowmapLoaded = '1';

  const t = globalThis.shadowmapText;
  // the detectors' entity types in plain words (generated/contract.js); values are never shown
  const ENTITY_WORDS = globalThis.shadowmapContract.entityWords;
  const CHANNEL_MESSAGES = { paste: 'channelPaste', drop: 'channelDrop', upload: 'channelUpload', submit: 'channelSubmit' };
  const ourEvents = new WeakSet(); // synthetic events we dispatch ourselves

  // an entity type the extension does not know (an organisation's own, or one decided
  // offline) is named by the finding's reason, else by its type
  function plainWords(finding) {
    const key = String((finding && finding.entity_type) || '');
    if (Object.hasOwn(ENTITY_WORDS, key)) return ENTITY_WORDS[key];
    const reason = finding && typeof finding.reason === 'string' ? finding.reason : '';
    return reason || key.toLowerCase().replace(/_/g, ' ');
  }

  function describeFindings(findings) {
    const names = [];
    for (const f of Array.isArray(findings) ? findings : []) {
      const name = plainWords(f);
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

  // Firefox hides data a content script writes into a DataTransfer from page scripts, so
  // a replayed drop or paste would reach the page empty: there, write it as the page
  // (through wrappedJSObject; Chromium has no such thing and needs none)
  function pageDataTransfer() {
    const page = window.wrappedJSObject;
    return page ? new page.DataTransfer() : new DataTransfer();
  }

  function clipboardData(parts, data = pageDataTransfer()) {
    if (parts.plain) data.setData('text/plain', parts.plain);
    if (parts.html) data.setData('text/html', parts.html);
    for (const file of parts.files || []) data.items.add(file);
    return data;
  }

  function focusOn(el) {
    if (el && typeof el.focus === 'function' && document.activeElement !== el && !el.contains(document.activeElement)) {
      el.focus();
    }
  }

  // Put allowed content back: first as a paste event, for editors that handle paste
  // themselves (ProseMirror, as on chatgpt.com and claude.ai); if nobody took it, insert
  // the text as typing would (textarea, input, plain contenteditable; keeps undo).
  function insert(target, parts) {
    const el = target instanceof Element ? target : document.activeElement;
    focusOn(el);
    const data = clipboardData(parts);
    const replay = new ClipboardEvent('paste', { clipboardData: data, bubbles: true, cancelable: true, composed: true });
    // Firefox ignores the constructor's clipboardData (the event gets an empty, writable
    // one): fill that one, as the page too; else rich editors would get nothing and only
    // plain text would land
    if (replay.clipboardData && !replay.clipboardData.types.length && data.types.length) {
      clipboardData(parts, replay.clipboardData.wrappedJSObject || replay.clipboardData);
    }
    ourEvents.add(replay);
    (el || document).dispatchEvent(replay);
    if (replay.defaultPrevented) return 'editor';
    const text = parts.plain || '';
    if (!text) return 'none';
    if (document.execCommand('insertText', false, text)) return 'insertText';
    if (el && typeof el.setRangeText === 'function') { // last resort for inputs
      el.setRangeText(text, el.selectionStart, el.selectionEnd, 'end');
      el.dispatchEvent(new InputEvent('input', { bubbles: true, inputType: 'insertFromPaste', data: text }));
      return 'setRangeText';
    }
    return 'none';
  }

  // Replace everything in a prompt editor (the redacted prompt before it is sent). Rich
  // editors (ProseMirror) pick up a DOM selection on `selectionchange`, a task later:
  // wait for it before pasting over the selection.
  async function replaceContent(el, text) {
    focusOn(el);
    if (typeof el.select === 'function') {
      el.select();
    } else {
      const seen = new Promise((resolve) => {
        document.addEventListener('selectionchange', resolve, { once: true });
        setTimeout(resolve, 100);
      });
      const range = document.createRange();
      range.selectNodeContents(el);
      const selection = getSelection();
      selection.removeAllRanges();
      selection.addRange(range);
      await seen;
    }
    insert(el, { plain: text });
  }

  function finish(decision, channel, text) {
    root.dataset.shadowmapChannel = channel;
    root.dataset.shadowmapDecision = decision;
    return { decision, go: text !== null, text };
  }

  // The whole verdict flow for one piece of content. Resolves {decision, go, text}: `go`
  // says whether the content may reach the page, `text` is what to insert (the redacted
  // text for redact). decision: allow | redact | warn-sent | warn-cancelled | block | error
  // startedAt: the triggering event's timeStamp, for the round-trip figure the benchmark reads
  async function check(channel, text, files = [], startedAt = performance.now()) {
    globalThis.shadowmapBanner.clear();
    delete root.dataset.shadowmapDecision;
    root.dataset.shadowmapPending = channel;
    try {
      return await decide(channel, text, files, startedAt);
    } finally {
      delete root.dataset.shadowmapPending;
    }
  }

  async function decide(channel, text, files, startedAt) {
    const reply = await ask({ type: 'scan', channel, url: location.href, text, files });
    root.dataset.shadowmapRoundtripMs = (performance.now() - startedAt).toFixed(2);
    const what = CHANNEL_MESSAGES[channel] ? t(CHANNEL_MESSAGES[channel]) : channel;
    if (!reply || reply.type !== 'verdict') {
      if (reply && reply.type === 'error') console.warn(`shadowmap: ${reply.error}: ${reply.detail}`);
      globalThis.shadowmapBanner.show('error', t('errorTitle', what), t('errorDetail'));
      return finish('error', channel, null);
    }
    const kinds = describeFindings(reply.findings);
    const reason = typeof reply.reason === 'string' ? reply.reason : '';
    const detail = [kinds && t('containsKinds', kinds), reason].filter(Boolean).join(' ');
    if (reply.action === 'allow') return finish('allow', channel, text);
    if (reply.action === 'redact' && typeof reply.redacted_text === 'string') {
      const replaced = kinds ? t(kinds.includes(',') ? 'redactedMany' : 'redactedOne', kinds) : '';
      globalThis.shadowmapBanner.show('redact', t('redactTitle', what), [replaced, reason].filter(Boolean).join(' '));
      return finish('redact', channel, reply.redacted_text);
    }
    if (reply.action === 'warn') {
      const answer = await globalThis.shadowmapDialog.ask(t('warnTitle', what), `${detail}\n${t('warnDetail')}`, {
        coaching: reply.coaching,
        requestException: reply.event_id ? (reason) => ask({ type: 'exception', event_id: reply.event_id, reason }) : null,
      });
      ask({ type: 'override', event_id: reply.event_id, decision: answer.decision, justification: answer.justification });
      if (answer.exception) return finish('exception-requested', channel, null);
      return answer.decision === 'send_anyway'
        ? finish('warn-sent', channel, text) : finish('warn-cancelled', channel, null);
    }
    globalThis.shadowmapBanner.show('block', t(reply.offline ? 'blockTitleOffline' : 'blockTitle', what), detail,
      reply.coaching);
    return finish('block', channel, null);
  }

  globalThis.shadowmapGuard = { check, insert, replaceContent, ask, ourEvents, clipboardData };
})();
