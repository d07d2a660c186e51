// shadowmap banner: the block/redact/error notice, drawn in a CLOSED shadow root on a
// <shadowmap-banner> host element so page CSS cannot restyle it and page scripts cannot
// read its text. Only the host's data-kind attribute is visible to the page.
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
    button { position: absolute; top: 6px; right: 8px; border: 0; background: none;
             font-size: 18px; cursor: pointer; color: #555; }
  `;
  const ACCENT = { block: '#c62828', error: '#c62828', warn: '#ef8f00', redact: '#1565c0' };
  const AUTO_HIDE_MS = { warn: 8000, redact: 8000 };
  let current = null;
  let hideTimer = null;

  function clear() {
    clearTimeout(hideTimer);
    if (current) current.remove();
    current = null;
  }

  // kind: block | redact | warn | error; title and detail are set as text, never as HTML
  function show(kind, title, detail) {
    clear();
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
    box.append(heading, text, close);
    root.append(style, box);
    (document.body || document.documentElement).appendChild(host);
    current = host;
    if (AUTO_HIDE_MS[kind]) hideTimer = setTimeout(clear, AUTO_HIDE_MS[kind]);
  }

  globalThis.shadowmapBanner = { show, clear };
})();
