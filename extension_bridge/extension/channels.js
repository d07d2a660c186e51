// shadowmap channels: every way content reaches an AI tool page is stopped in the capture
// phase on window (before the page or the browser sees it), checked, and only then put
// back: paste (text, HTML, files), drag-and-drop, file inputs (before the page reads the
// files) and typed prompts at submit (Enter, Ctrl/Cmd+Enter and the send button).
'use strict';

(() => {
  const guard = globalThis.shadowmapGuard;
  // text formats are read and scanned here; documents, archives and images the agent reads
  // (their bytes go in the scan request, base64); anything else is reported by name, type and size
  const TEXT_TYPE = /^(text\/|application\/(json|xml|x-yaml|yaml|javascript|sql|x-sh|csv|x-ndjson))/i;
  const TEXT_NAME = /\.(txt|md|csv|tsv|json|ndjson|ya?ml|xml|log|sql|env|ini|toml|conf|cfg|properties|sh|py|js|ts|java|go|rb|php|cs|html?)$/i;
  const MAX_FILE_READ = 4 * 1024 * 1024;
  const { textReadBytes: MAX_TEXT_READ, maxFiles: MAX_FILES } = globalThis.shadowmapContract.limits; // under the scan limit
  const { fileContentBytes: MAX_CONTENT, fileContentTotalBytes: MAX_CONTENT_TOTAL } = globalThis.shadowmapContract.limits;
  // what the agent reads, known by the file's first bytes (never by its name or type):
  // ZIP (also DOCX/XLSX/PPTX), PDF, PNG, JPEG, WebP ('RIFF'), BMP
  const MAGIC = [[0x50, 0x4b, 0x03, 0x04], [0x25, 0x50, 0x44, 0x46], [0x89, 0x50, 0x4e, 0x47], [0xff, 0xd8, 0xff],
    [0x52, 0x49, 0x46, 0x46], [0x42, 0x4d]];

  async function agentReads(file) {
    const head = new Uint8Array(await file.slice(0, 8).arrayBuffer());
    return MAGIC.some((magic) => magic.every((byte, i) => head[i] === byte));
  }

  // base64 of a file's bytes (the browser's own encoder: a data: URL, its prefix cut off)
  function base64Of(file) {
    return new Promise((resolve, reject) => {
      const reader = new FileReader();
      reader.onload = () => resolve(String(reader.result).slice(String(reader.result).indexOf(',') + 1));
      reader.onerror = () => reject(reader.error);
      reader.readAsDataURL(file);
    });
  }
  const SEND_LABEL = /\b(send|submit)\b/i;

  async function readFiles(files) {
    const facts = [];
    const texts = [];
    let budget = MAX_TEXT_READ;
    let contentBudget = MAX_CONTENT_TOTAL;
    for (const file of files.slice(0, MAX_FILES)) {
      const textual = TEXT_TYPE.test(file.type) || TEXT_NAME.test(file.name);
      const fact = { name: file.name, mime: file.type || '', size: file.size, read: false };
      try {
        if (file.size <= Math.min(MAX_CONTENT, contentBudget) && await agentReads(file)) {
          fact.content = await base64Of(file); // `read` is the agent's to say
          contentBudget -= file.size;
        } else if (textual && file.size <= Math.min(MAX_FILE_READ, budget)) {
          texts.push(await file.text());
          budget -= file.size;
          fact.read = true;
        }
      } catch (e) { // unreadable (moved, permission): reported unread
        console.warn('shadowmap: could not read a file, reported unread:', e && e.message);
      }
      facts.push(fact);
    }
    return { text: texts.join('\n'), facts, agentReads: facts.some((fact) => 'content' in fact) };
  }

  function htmlToText(html) {
    // DOMParser documents are inert: no script runs, nothing loads
    const doc = new DOMParser().parseFromString(html, 'text/html');
    doc.querySelectorAll('script, style, template').forEach((n) => n.remove());
    return (doc.body && doc.body.textContent) || '';
  }

  // What a clipboard or drop carries, and the text to scan from it.
  async function contentOf(data) {
    const plain = data.getData('text/plain');
    const html = data.getData('text/html');
    const files = [...data.files];
    if (!plain && !html && !files.length) return null;
    const fromHtml = html ? htmlToText(html) : '';
    const read = await readFiles(files);
    // HTML can carry text that its plain-text twin leaves out: scan both when they differ
    const parts = [plain, fromHtml.trim() && fromHtml.trim() !== plain.trim() ? fromHtml : '', read.text];
    return { plain, html, files, facts: read.facts, agentReads: read.agentReads, text: parts.filter(Boolean).join('\n') };
  }

  // the check, with "checking…" shown while the agent reads files or screenshots (seconds, not ms)
  async function checkShown(channel, text, facts, agentReads, startedAt) {
    if (!agentReads) return guard.check(channel, text, facts, startedAt);
    globalThis.shadowmapBanner.checking(channel);
    try {
      return await guard.check(channel, text, facts, startedAt);
    } finally {
      globalThis.shadowmapBanner.doneChecking();
    }
  }

  function landing(content, outcome) {
    return outcome.decision === 'redact' ? { plain: outcome.text } : content;
  }

  function stop(event) {
    event.preventDefault();
    event.stopImmediatePropagation();
  }

  async function onPaste(event) {
    if (guard.ourEvents.has(event) || !event.clipboardData) return;
    const data = event.clipboardData;
    if (!data.types.length) return;
    stop(event); // synchronously, before reading anything: the verdict comes later
    const content = await contentOf(data);
    if (!content) return;
    const outcome = await checkShown('paste', content.text, content.facts, content.agentReads, event.timeStamp);
    if (outcome.go) guard.insert(event.target, landing(content, outcome));
  }

  // A trusted drop's files also come as file-system handles (getAsFileSystemHandle), only
  // while the event is dispatched: ask for them now, give them to the page after the check.
  function dropHandles(event) {
    if (!event.isTrusted || !globalThis.shadowmapFsa) return [];
    return [...event.dataTransfer.items]
      .filter((item) => item.kind === 'file' && typeof item.getAsFileSystemHandle === 'function')
      .map((item) => Promise.resolve(item.getAsFileSystemHandle()).catch((e) => {
        console.warn('shadowmap: no file-system handle for a dropped file:', e && e.message);
        return null;
      }));
  }

  async function onDrop(event) {
    if (guard.ourEvents.has(event) || !event.dataTransfer || !event.dataTransfer.types.length) return;
    stop(event);
    const handles = dropHandles(event);
    const content = await contentOf(event.dataTransfer);
    if (!content) return;
    const outcome = await checkShown('drop', content.text, content.facts, content.agentReads, event.timeStamp);
    if (!outcome.go) return;
    const parts = landing(content, outcome);
    const replay = new DragEvent('drop', {
      dataTransfer: guard.clipboardData(parts), bubbles: true, cancelable: true, composed: true,
      clientX: event.clientX, clientY: event.clientY,
    });
    guard.ourEvents.add(replay);
    // the files were just allowed: the page's getAsFileSystemHandle() on the replay gets
    // the original handles (fsa_main.js), their first getFile() is not checked again
    const withdraw = parts.files && parts.files.length
      ? await globalThis.shadowmapFsa.offer(await Promise.all(handles)) : () => {};
    try {
      event.target.dispatchEvent(replay);
    } finally {
      withdraw();
    }
    // nobody handled the replay: drop the text where a native drop would have put it
    if (!replay.defaultPrevented && parts.plain) guard.insert(event.target, { plain: parts.plain });
  }

  // file inputs: Chromium fires `input` then `change`; the first starts the check, both
  // are kept from the page until the files are allowed, then fired again
  const checkingInputs = new WeakSet();
  async function onFileInput(event) {
    const input = event.target;
    if (!(input instanceof HTMLInputElement) || input.type !== 'file' || guard.ourEvents.has(event)) return;
    if (!input.files || !input.files.length) return;
    event.stopImmediatePropagation();
    if (checkingInputs.has(input)) return;
    checkingInputs.add(input);
    try {
      const files = [...input.files];
      const read = await readFiles(files);
      const outcome = await checkShown('upload', read.text, read.facts, read.agentReads);
      if (!outcome.go || outcome.decision === 'redact') {
        input.value = ''; // the page never sees the files
        return;
      }
      for (const type of ['input', 'change']) {
        const again = new Event(type, { bubbles: true, composed: type === 'input' });
        guard.ourEvents.add(again);
        input.dispatchEvent(again);
      }
    } finally {
      checkingInputs.delete(input);
    }
  }

  // ---- typed prompts at submit ------------------------------------------------------
  let lastEditor = null;
  let approved = null; // {el, text}: a prompt just checked, let through once
  // editors where the page took a checked plain Enter as a line break, not as "send":
  // there the prompt goes out with Ctrl/Cmd+Enter or the send button, which stay checked
  const enterIsNewline = new WeakSet();

  function editorOf(node) {
    if (!(node instanceof Element)) return null;
    if (node instanceof HTMLTextAreaElement) return node;
    if (node instanceof HTMLInputElement && /^(text|search)$/.test(node.type)) return node;
    const editable = node.closest('[contenteditable=""], [contenteditable="true"], [contenteditable="plaintext-only"]');
    if (!editable) return null;
    let top = editable; // the outermost editable: the editor itself, not a paragraph in it
    while (top.parentElement && top.parentElement.isContentEditable) top = top.parentElement;
    return top;
  }

  function textOf(el) {
    return 'value' in el && typeof el.value === 'string' ? el.value : el.innerText;
  }

  function isApproved(el, text) {
    if (approved && approved.el === el && approved.text === text) {
      approved = null;
      return true;
    }
    return false;
  }

  // check the prompt; on success (redacted if need be) run `resend` to submit it again
  async function checkPrompt(el, text, resend) {
    const outcome = await guard.check('submit', text);
    if (!outcome.go) return;
    if (outcome.decision === 'redact') await guard.replaceContent(el, outcome.text);
    approved = { el, text: textOf(el) };
    resend();
  }

  const squash = (text) => text.replace(/\s+/g, '');

  // the page handled the resent Enter and left the prompt in place, one line break
  // longer: Enter is not its send key
  function learnEnter(el, before) {
    const after = textOf(el);
    if (after.length > before.length && squash(after) === squash(before)) enterIsNewline.add(el);
  }

  // Enter, Ctrl+Enter and Cmd+Enter: whichever the page sends with, the prompt is
  // checked first; the key is then dispatched again for the page.
  function onKeydown(event) {
    if (event.key !== 'Enter' || event.shiftKey || event.altKey || event.isComposing) return;
    const el = editorOf(event.target);
    if (!el) return;
    const plainEnter = !event.ctrlKey && !event.metaKey;
    if (plainEnter && enterIsNewline.has(el)) return;
    const text = textOf(el);
    if (!text.trim() || isApproved(el, text)) return;
    stop(event);
    checkPrompt(el, text, () => {
      const again = new KeyboardEvent('keydown', {
        key: 'Enter', code: 'Enter', keyCode: 13, which: 13, bubbles: true, cancelable: true, composed: true,
        ctrlKey: event.ctrlKey, metaKey: event.metaKey,
      });
      const checked = textOf(el);
      el.dispatchEvent(again);
      if (!plainEnter) return;
      // learn only from the page's own handling: a page that ignores our (untrusted) Enter
      // could still send on the user's next, trusted one
      if (again.defaultPrevented) learnEnter(el, checked);
      // the page did not take Enter at all: give it the line break it would have had
      else document.execCommand(el instanceof HTMLTextAreaElement ? 'insertText' : 'insertLineBreak', false, '\n');
    });
  }

  function sendButtonOf(node) {
    const button = node instanceof Element ? node.closest('button, [role="button"], input[type="submit"]') : null;
    if (!button || button.disabled) return null;
    const label = [button.getAttribute('aria-label'), button.getAttribute('data-testid'), button.title,
      button.textContent, button.type === 'submit' && button.form ? 'submit' : ''].join(' ');
    return SEND_LABEL.test(label) ? button : null;
  }

  function promptFor(button) {
    const form = button.closest('form');
    const inForm = form && form.querySelector('textarea, [contenteditable=""], [contenteditable="true"]');
    const el = inForm ? editorOf(inForm) : lastEditor;
    return el && el.isConnected ? el : null;
  }

  function onClick(event) {
    const button = sendButtonOf(event.target);
    if (!button) return;
    const el = promptFor(button);
    if (!el) return;
    const text = textOf(el);
    if (!text.trim() || isApproved(el, text)) return;
    stop(event);
    checkPrompt(el, text, () => button.click());
  }

  guard.readFiles = readFiles; // the File System Access bridge checks files the same way

  window.addEventListener('focusin', (e) => { lastEditor = editorOf(e.target) || lastEditor; }, true);
  window.addEventListener('paste', onPaste, true);
  window.addEventListener('drop', onDrop, true);
  window.addEventListener('input', onFileInput, true);
  window.addEventListener('change', onFileInput, true);
  window.addEventListener('keydown', onKeydown, true);
  window.addEventListener('click', onClick, true);
})();
