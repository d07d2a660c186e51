// shadowmap warn dialog: says what was found in plain words and lets the user cancel or
// "Send anyway" with a short justification. Drawn in a CLOSED shadow root on a
// <shadowmap-dialog> host so page CSS cannot restyle it and page scripts cannot read or
// click it; only the host's data-state attribute is visible to the page.
'use strict';

(() => {
  const STYLE = `
    :host { all: initial; position: fixed; inset: 0; z-index: 2147483647; display: flex;
            align-items: center; justify-content: center; background: rgba(0,0,0,.35); }
    .box { font: 14px/1.45 system-ui, sans-serif; color: #1a1a1a; background: #fff; width: min(520px, 92vw);
           border-top: 6px solid #ef8f00; border-radius: 8px; padding: 18px 20px; box-shadow: 0 8px 30px rgba(0,0,0,.3); }
    h2 { font-size: 17px; margin: 0 0 8px; }
    p { margin: 0 0 10px; white-space: pre-wrap; }
    label { display: block; font-weight: 600; margin: 8px 0 4px; }
    textarea { box-sizing: border-box; width: 100%; min-height: 64px; font: inherit; padding: 6px; }
    .hint { color: #a33; min-height: 1.2em; margin: 4px 0 0; font-size: 13px; }
    .buttons { display: flex; gap: 10px; justify-content: flex-end; margin-top: 14px; }
    button { font: inherit; padding: 7px 16px; border-radius: 6px; cursor: pointer; border: 1px solid #888; background: #f4f4f4; }
    button.primary { background: #ef8f00; border-color: #c77700; color: #fff; }
    [hidden] { display: none !important; }
  `;
  const MAX_JUSTIFICATION = globalThis.shadowmapContract.limits.maxJustification;
  const t = globalThis.shadowmapText;
  let open = null;

  function element(tag, props, children = []) {
    const el = document.createElement(tag);
    Object.assign(el, props);
    el.append(...children);
    return el;
  }

  // Resolves {decision: 'send_anyway', justification} or {decision: 'cancel'}.
  // All text is set as text, never as HTML.
  function ask(title, detail) {
    if (open) open.finish({ decision: 'cancel' });
    return new Promise((resolve) => {
      const host = document.createElement('shadowmap-dialog');
      host.dataset.state = 'asking';
      const root = host.attachShadow({ mode: 'closed' });
      const why = element('textarea', { maxLength: MAX_JUSTIFICATION, placeholder: t('dialogPlaceholder') });
      why.dataset.role = 'justification';
      const justification = element('div', { hidden: true }, [
        element('label', { textContent: t('dialogWhy') }), why]);
      const hint = element('p', { className: 'hint' });
      const send = element('button', { type: 'button', className: 'primary', textContent: t('dialogSendAnyway') });
      send.dataset.role = 'send';
      const cancel = element('button', { type: 'button', textContent: t('dialogCancel') });
      cancel.dataset.role = 'cancel';
      const box = element('div', { className: 'box' }, [
        element('h2', { textContent: title }), element('p', { textContent: detail }), justification, hint,
        element('div', { className: 'buttons' }, [cancel, send])]);
      box.setAttribute('role', 'alertdialog');
      box.setAttribute('aria-modal', 'true');
      root.append(element('style', { textContent: STYLE }), box);

      const finish = (answer) => {
        if (open !== state) return;
        open = null;
        host.remove();
        resolve(answer);
      };
      const state = { finish };
      send.addEventListener('click', () => {
        if (justification.hidden) { // first click: ask why
          justification.hidden = false;
          host.dataset.state = 'justifying';
          why.focus();
          return;
        }
        const text = why.value.trim();
        if (!text) { hint.textContent = t('dialogNeedReason'); why.focus(); return; }
        finish({ decision: 'send_anyway', justification: text.slice(0, MAX_JUSTIFICATION) });
      });
      cancel.addEventListener('click', () => finish({ decision: 'cancel' }));
      // keys typed in the dialog must not reach the page's own shortcuts
      root.addEventListener('keydown', (e) => {
        e.stopPropagation();
        if (e.key === 'Escape') finish({ decision: 'cancel' });
      });
      open = state;
      (document.body || document.documentElement).appendChild(host);
      cancel.focus();
    });
  }

  globalThis.shadowmapDialog = { ask, isOpen: () => open !== null };
})();
