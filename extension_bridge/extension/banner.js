// shadowmap banner: the block/redact/error notice, drawn in a CLOSED shadow root on a
// <shadowmap-banner> host element so page CSS cannot restyle it and page scripts cannot
// read its text. Only the host's data-kind attribute is visible to the page. A block can
// coach: a link to the company's AI policy and the approved alternative (the verdict's coaching).
'use strict';

(() => {
  const STYLE = `
    :host { all: initial; position: fixed; z-index: 2147483647; top: 12px; left: 50%;
            transform: translateX(-50%); max-width: min(640px, 92vw); }
    .box { font: 14px/1.4 system-ui, sans-serif; color: #1a1a1a; background: #fff;
           border-left: 6px solid var(--accent); border-radius: 6px; padding: 12px 40px 12px 14px;
           box-shadow: 0 4px 18px rgba(0,0,0,.25); position: relative; }
    .title { font-weight: 600; margin: 0 0 4px; }
    .detail { margin: 0; white-space: pre-wrap; }
    .coaching { margin: 6px 0 0; }
    .coaching a { color: #0b57d0; }
    button { position: absolute; top: 6px; right: 8px; border: 0; background: none;
             font-size: 18px; cursor: pointer; color: #555; }
  `;
  const ACCENT = { block: '#c62828', error: '#c62828', warn: '#ef8f00', redact: '#1565c0', checking: '#607d8b' };
  const CHANNEL_MESSAGES = { paste: 'channelPaste', drop: 'channelDrop', upload: 'channelUpload', submit: 'channelSubmit' };
  const AUTO_HIDE_MS = { warn: 8000, redact: 8000 };
  let current = null;
  let hideTimer = null;

  function clear() {
    clearTimeout(hideTimer);
    if (current) current.remove();
    current = null;
  }

  function coachingLines(coaching) {
    const t = globalThis.shadowmapText;
    const lines = [];
    const url = coaching && typeof coaching.policy_url === 'string' ? coaching.policy_url : '';
    if (url.startsWith('https://')) { // a link a policy gave: https only, never script
      const line = document.createElement('p');
      line.className = 'coaching';
      const link = document.createElement('a');
      link.href = url;
      link.target = '_blank';
      link.rel = 'noopener noreferrer';
      link.textContent = t('coachingPolicyLink');
      link.dataset.role = 'policy-link';
      line.append(link);
      lines.push(line);
    }
    if (coaching && typeof coaching.alternative === 'string' && coaching.alternative) {
      const line = document.createElement('p');
      line.className = 'coaching';
      line.dataset.role = 'alternative';
      line.textContent = t('coachingAlternative', coaching.alternative);
      lines.push(line);
    }
    return lines;
  }

  function draw(kind, title, detail, coaching) {
    const host = document.createElement('shadowmap-banner');
    host.dataset.kind = kind;
    const root = host.attachShadow({ mode: 'closed' });
    const style = document.createElement('style');
    style.textContent = STYLE;
    const box = document.createElement('div');
    box.className = 'box';
    box.setAttribute('role', kind === 'warn' || kind === 'redact' ? 'status' : 'alert');
    box.style.setProperty('--accent', ACCENT[kind] || ACCENT.block);
    const heading = document.createElement('p');
    heading.className = 'title';
    heading.textContent = title;
    const text = document.createElement('p');
    text.className = 'detail';
    text.textContent = detail;
    const close = document.createElement('button');
    close.type = 'button';
    close.setAttribute('aria-label', globalThis.shadowmapText('bannerDismiss'));
    close.textContent = '\u00d7';
    close.addEventListener('click', clear);
    box.append(heading, text, ...coachingLines(coaching), close);
    root.append(style, box);
    (document.body || document.documentElement).appendChild(host);
    return host;
  }

  // kind: block | redact | warn | error; title and detail are set as text, never as HTML;
  // coaching: the verdict's {policy_url, alternative}, if any
  function show(kind, title, detail, coaching) {
    clear();
    current = draw(kind, title, detail, coaching);
    if (AUTO_HIDE_MS[kind]) hideTimer = setTimeout(clear, AUTO_HIDE_MS[kind]);
  }

  // "checking…" while the agent reads files or screenshots: its own element, which the
  // verdict's banner (shown when the check ends) does not replace
  let checkingHost = null;
  function doneChecking() {
    if (checkingHost) checkingHost.remove();
    checkingHost = null;
  }
  function checking(channel) {
    doneChecking();
    const t = globalThis.shadowmapText;
    const what = CHANNEL_MESSAGES[channel] ? t(CHANNEL_MESSAGES[channel]) : channel;
    checkingHost = draw('checking', t('checkingTitle', what), t('checkingDetail'));
  }

  globalThis.shadowmapBanner = { show, clear, checking, doneChecking };
})();
