// shadowmap File System Access bridge (isolated world): the other end of fsa_main.js's
// private channel. It takes the port the main-world script hands over at start-up (the
// first hand-over only; see fsa_main.js for why a page cannot forge or read it), scans
// each file the page asks to read through a FileSystemFileHandle with the same check as
// file inputs, and lets the drop channel give an allowed drop's file handles back to the
// page (shadowmapFsa.offer) for the replayed drop.
'use strict';

(() => {
  const guard = globalThis.shadowmapGuard;
  const OFFER_TIMEOUT_MS = 1000;
  let port = null;
  let nextOffer = 1;
  const offerAcks = new Map(); // offer id -> resolve

  async function scanFile(id, file) {
    let go = false;
    try {
      if (file instanceof File) {
        const read = await guard.readFiles([file]);
        const outcome = await guard.check('upload', read.text, read.facts);
        go = outcome.go && outcome.decision !== 'redact'; // a file cannot be redacted
      }
    } finally {
      port.postMessage({ type: 'verdict', id, go });
    }
  }

  function onPortMessage(event) {
    const msg = event.data;
    if (!msg || typeof msg !== 'object') return;
    if (msg.type === 'scan-file') scanFile(msg.id, msg.file);
    else if (msg.type === 'offered' && offerAcks.has(msg.id)) {
      offerAcks.get(msg.id)();
      offerAcks.delete(msg.id);
    }
  }

  function onHandover(event) {
    if (event.source !== window || !event.data || event.data.shadowmapFsaPort !== true || event.ports.length !== 1) return;
    event.stopImmediatePropagation(); // no later (page) listener sees the port
    window.removeEventListener('message', onHandover, true); // one hand-over, the first
    port = event.ports[0];
    port.onmessage = onPortMessage;
    port.postMessage({ type: 'hello' });
  }
  window.addEventListener('message', onHandover, true);

  // Offer the handles of an allowed drop to the main world before its replay is
  // dispatched; resolves once the main world has them (or at once if there is no channel).
  function offer(handles) {
    const entries = handles.filter((h) => h && h.kind === 'file').map((h) => ({ handle: h, name: h.name }));
    if (!port || !entries.length) return Promise.resolve(() => {});
    return Promise.all(entries.map(async (entry) => {
      try {
        entry.size = (await h2file(entry.handle)).size;
      } catch (e) { // unreadable now: its size is unknown (-1); the check still runs
        console.warn('shadowmap: could not size a dropped file:', e && e.message);
        entry.size = -1;
      }
    })).then(() => new Promise((resolve) => {
      const id = nextOffer++;
      const withdraw = () => port.postMessage({ type: 'withdraw' });
      offerAcks.set(id, () => resolve(withdraw));
      setTimeout(() => { if (offerAcks.delete(id)) resolve(withdraw); }, OFFER_TIMEOUT_MS);
      port.postMessage({ type: 'offer', id, handles: entries });
    }));
  }

  function h2file(handle) {
    return handle.getFile(); // the isolated world's own, unwrapped method
  }

  globalThis.shadowmapFsa = { offer };
})();
