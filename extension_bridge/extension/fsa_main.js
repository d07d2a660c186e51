// shadowmap File System Access gate — runs in the PAGE's main world (manifest
// `"world": "MAIN"`, document_start), because pages read picked or dropped files through
// FileSystemFileHandle.getFile(), which no event announces. Every getFile() on a file
// that came from the user (showOpenFilePicker, showDirectoryPicker, a drop's
// getAsFileSystemHandle, a handle restored from IndexedDB) is held until the isolated
// content script (fsa_bridge.js) has scanned the file and the verdict allows it; files
// in the page's own private storage (OPFS) pass unchecked: the page wrote them itself.
//
// Why the verdict cannot be forged or read by page scripts:
// - This world is shared with page scripts, so nothing here may be reachable from
//   globals, and nothing the page can patch may be used after start-up. The script runs
//   before any page script (document_start), keeps every native function it needs in
//   this closure, and calls them through a captured Reflect.apply.
// - The isolated world is reached over a private MessageChannel. Its far end is
//   transferred once, at start-up, with window.postMessage; the isolated script accepts
//   only the first such hand-over (ours: it is queued before any page script can run),
//   from this very window, and stops the event before later listeners (all page ones,
//   registered after ours) see it. Transfer detaches the port here, so afterwards only
//   the two content scripts hold an end: a page script can neither post a verdict on
//   the channel nor read one. Page-made postMessage/CustomEvents are never trusted.
// - Verdicts only say go/stop for a request id this script made; the text itself is
//   read and scanned in the isolated world from the File we pass (an immutable
//   snapshot), and the page gets that same File back: what was scanned is what it reads.
// Not covered (docs/browser.md): handles sent to a Worker (no content script runs
// there), and a page that sets out to defeat the extension in its own main world.
'use strict';

(() => {
  if (typeof FileSystemFileHandle === 'undefined' || typeof MessageChannel === 'undefined') return;
  const apply = Reflect.apply;
  const nativeGetFile = FileSystemFileHandle.prototype.getFile;
  const ItemProto = typeof DataTransferItem !== 'undefined' ? DataTransferItem.prototype : null;
  const nativeGetHandle = ItemProto && ItemProto.getAsFileSystemHandle;
  const nativeGetAsFile = ItemProto && ItemProto.getAsFile;
  const kindOf = Object.getOwnPropertyDescriptor(ItemProto || {}, 'kind');
  const portPost = MessagePort.prototype.postMessage;
  const storage = navigator.storage;
  const getDirectory = storage && StorageManager.prototype.getDirectory;
  const setTimer = setTimeout;
  const resolveIn = FileSystemDirectoryHandle.prototype.resolve;
  const fileName = Object.getOwnPropertyDescriptor(File.prototype, 'name').get;
  const blobSize = Object.getOwnPropertyDescriptor(Blob.prototype, 'size').get;
  const eventData = Object.getOwnPropertyDescriptor(MessageEvent.prototype, 'data').get;
  const mapGet = Map.prototype.get;
  const mapSet = Map.prototype.set;
  const mapDelete = Map.prototype.delete;
  const setAdd = WeakSet.prototype.add;
  const setHas = WeakSet.prototype.has;
  const setDelete = WeakSet.prototype.delete;
  const isArray = Array.isArray;
  const PromiseCtor = Promise;
  const resolved = (value) => new PromiseCtor((resolve) => resolve(value)); // Promise.resolve is patchable
  const DOMExceptionCtor = DOMException;
  const HANDSHAKE_TIMEOUT_MS = 5000;

  const channel = new MessageChannel();
  const port = channel.port1;
  const pending = new Map();          // request id -> resolve(go)
  let offered = [];                   // handles of an allowed drop, for its replay only
  const checkedOnce = new WeakSet();  // handles whose file the drop check already passed
  let nextId = 1;
  let ready = false;
  let whenReady = null;
  let wakeReady = null;

  port.onmessage = (event) => {
    const msg = apply(eventData, event, []);
    if (!msg || typeof msg !== 'object') return;
    if (msg.type === 'hello') {
      ready = true;
      if (wakeReady) wakeReady(true);
    } else if (msg.type === 'verdict') {
      const resolve = apply(mapGet, pending, [msg.id]);
      if (resolve) {
        apply(mapDelete, pending, [msg.id]);
        resolve(msg.go === true);
      }
    } else if (msg.type === 'offer') {
      // an allowed drop is about to be replayed: its items get these handles back
      offered = isArray(msg.handles) ? msg.handles : [];
      apply(portPost, port, [{ type: 'offered', id: msg.id }]);
    } else if (msg.type === 'withdraw') {
      offered = [];
    }
  };
  window.postMessage({ shadowmapFsaPort: true }, location.origin === 'null' ? '*' : location.origin, [channel.port2]);

  function waitReady() {
    if (ready) return resolved(true);
    if (!whenReady) {
      whenReady = new PromiseCtor((resolve) => {
        wakeReady = resolve;
        setTimer(() => resolve(ready), HANDSHAKE_TIMEOUT_MS);
      });
    }
    return whenReady;
  }

  // OPFS files are the page's own data; anything else came from the user's disk
  async function isPrivateStorage(handle) {
    if (!getDirectory) return false;
    try {
      const root = await apply(getDirectory, storage, []);
      return (await apply(resolveIn, root, [handle])) !== null;
    } catch (e) { // not resolvable in the origin's private storage: treated as a user file
      console.debug('shadowmap: not in private storage:', e && e.message);
      return false;
    }
  }

  async function allowed(file) {
    if (!(await waitReady())) return false; // the isolated world never answered: fail closed
    const id = nextId++;
    const verdict = new PromiseCtor((resolve) => apply(mapSet, pending, [id, resolve]));
    apply(portPost, port, [{ type: 'scan-file', id, file }]);
    return verdict;
  }

  async function getFile() {
    const file = await apply(nativeGetFile, this, []);
    if (apply(setHas, checkedOnce, [this])) { // just checked as part of the drop
      apply(setDelete, checkedOnce, [this]);
      return file;
    }
    if (await isPrivateStorage(this)) return file;
    if (await allowed(file)) return file;
    throw new DOMExceptionCtor('shadowmap did not allow this file to be read', 'NotAllowedError');
  }

  // The drop channel replays an allowed drop with a fresh DataTransfer, whose items have
  // no file-system handle: hand the page the original handles, matched by name and size.
  function getAsFileSystemHandle() {
    const native = apply(nativeGetHandle, this, []);
    if (!offered || !offered.length || apply(kindOf.get, this, []) !== 'file') return native;
    const file = apply(nativeGetAsFile, this, []);
    if (!file) return native;
    const name = apply(fileName, file, []);
    const size = apply(blobSize, file, []);
    // plain loops: the page may have patched Array.prototype
    for (let i = 0; i < offered.length; i++) {
      const entry = offered[i];
      if (entry && entry.name === name && entry.size === size) {
        offered[i] = null; // each handle is handed out once
        apply(setAdd, checkedOnce, [entry.handle]);
        return resolved(entry.handle);
      }
    }
    return native;
  }

  // replace the methods in place, keeping their names and property shape
  Object.defineProperty(getFile, 'name', { value: 'getFile' });
  Object.defineProperty(FileSystemFileHandle.prototype, 'getFile', { value: getFile, writable: true, configurable: true });
  if (nativeGetHandle) {
    Object.defineProperty(getAsFileSystemHandle, 'name', { value: 'getAsFileSystemHandle' });
    Object.defineProperty(ItemProto, 'getAsFileSystemHandle', { value: getAsFileSystemHandle, writable: true, configurable: true });
  }
})();
