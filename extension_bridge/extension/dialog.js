// shadowmap warn dialog: says what was found in plain words and lets the user cancel,
// "Send anyway" with a short justification, or ask the security team for an exception (a
// reason, sent through the agent; the content stays here). It links the company's AI policy
// and names the approved alternative when the verdict carries them (coaching). Drawn in a CLOSED shadow root on a
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
    .coaching { margin: 0 0 10px; }
    .coaching a { color: #0b57d0; }
    button.ask { margin-right: auto; }
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

  // the AI policy link (https only) and the approved alternative, as text and a plain link
  function coachingLines(coaching) {
    const lines = [];
    const url = coaching && typeof coaching.policy_url === 'string' ? coaching.policy_url : '';
    if (url.startsWith('https://')) {
      const link = element('a', { href: url, target: '_blank', rel: 'noopener noreferrer',
        textContent: t('coachingPolicyLink') });
      link.dataset.role = 'policy-link';
      lines.push(element('p', { className: 'coaching' }, [link]));
    }
    if (coaching && typeof coaching.alternative === 'string' && coaching.alternative) {
      const alternative = element('p', { className: 'coaching', textContent: t('coachingAlternative', coaching.alternative) });
      alternative.dataset.role = 'alternative';
      lines.push(alternative);
    }
    return lines;
  }

  // Resolves {decision: 'send_anyway', justification}, {decision: 'cancel'}, or
  // {decision: 'cancel', exception: true} once an exception request was sent (options.requestException
  // (reason) sends it and resolves to the agent's reply). All text is set as text, never as HTML.
  function ask(title, detail, options = {}) {
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
      const canRequest = typeof options.requestException === 'function';
      const exceptionWhy = element('textarea', { maxLength: MAX_JUSTIFICATION, placeholder: t('dialogExceptionPlaceholder') });
      exceptionWhy.dataset.role = 'exception-reason';
      const exceptionReason = element('div', { hidden: true }, [
        element('label', { textContent: t('dialogExceptionWhy') }), exceptionWhy]);
      const requestButton = element('button', { type: 'button', className: 'ask', textContent: t('dialogAskException') });
      requestButton.dataset.role = 'exception';
      const buttons = canRequest ? [requestButton, cancel, send] : [cancel, send];
      const box = element('div', { className: 'box' }, [
        element('h2', { textContent: title }), element('p', { textContent: detail }), ...coachingLines(options.coaching),
        justification, exceptionReason, hint, element('div', { className: 'buttons' }, buttons)]);
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
          exceptionReason.hidden = true;
          host.dataset.state = 'justifying';
          why.focus();
          return;
        }
        const text = why.value.trim();
        if (!text) { hint.textContent = t('dialogNeedReason'); why.focus(); return; }
        finish({ decision: 'send_anyway', justification: text.slice(0, MAX_JUSTIFICATION) });
      });
      cancel.addEventListener('click', () => finish({ decision: 'cancel' }));
      requestButton.addEventListener('click', async () => {
        if (exceptionReason.hidden) { // first click: ask for the reason
          exceptionReason.hidden = false;
          justification.hidden = true;
          host.dataset.state = 'requesting';
          requestButton.textContent = t('dialogSendRequest');
          exceptionWhy.focus();
          return;
        }
        const reason = exceptionWhy.value.trim();
        if (!reason) { hint.textContent = t('dialogNeedReason'); exceptionWhy.focus(); return; }
        requestButton.disabled = true;
        const reply = await options.requestException(reason.slice(0, MAX_JUSTIFICATION));
        requestButton.disabled = false;
        if (!reply || reply.type !== 'ack') { hint.textContent = t('dialogExceptionFailed'); return; }
        finish({ decision: 'cancel', exception: true });
        globalThis.shadowmapBanner.show('warn', t('exceptionRequestedTitle'), t('exceptionRequestedDetail'));
      });
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
