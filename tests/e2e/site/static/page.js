// The stand-in AI page: a real ProseMirror editor, a textarea chat form, a drop zone and a
// file input, each recording what reached the page in window.sent / dropped / uploaded.
import { EditorState } from 'prosemirror-state';
import { EditorView } from 'prosemirror-view';
import { schema } from 'prosemirror-schema-basic';
import { keymap } from 'prosemirror-keymap';
import { baseKeymap } from 'prosemirror-commands';
import { history, undo, redo } from 'prosemirror-history';

window.sent = [];
window.dropped = [];
window.uploaded = [];

const docText = (doc) => doc.textBetween(0, doc.content.size, '\n');

function sendFromEditor(state, dispatch) {
  const text = docText(state.doc);
  if (!text.trim()) return true;
  window.sent.push({ from: 'pm', text });
  if (dispatch) dispatch(state.tr.delete(0, state.doc.content.size));
  return true;
}

const view = new EditorView(document.getElementById('pm'), {
  state: EditorState.create({
    schema,
    plugins: [history(), keymap({ Enter: sendFromEditor, 'Mod-z': undo, 'Shift-Mod-z': redo }), keymap(baseKeymap)],
  }),
});
window.pmView = view;
window.pmText = () => docText(view.state.doc);
document.getElementById('pm-send').addEventListener('click', () => sendFromEditor(view.state, view.dispatch));

// a second ProseMirror editor as on sites where Enter makes a new line and Ctrl/Cmd+Enter
// (or the send button) sends
function sendFromEditor2(state, dispatch) {
  const text = docText(state.doc);
  if (!text.trim()) return true;
  window.sent.push({ from: 'pm2', text });
  if (dispatch) dispatch(state.tr.delete(0, state.doc.content.size));
  return true;
}
const view2 = new EditorView(document.getElementById('pm2'), {
  state: EditorState.create({
    schema,
    plugins: [history(), keymap({ 'Mod-Enter': sendFromEditor2 }), keymap(baseKeymap)],
  }),
});
window.pm2View = view2;
window.pm2Text = () => docText(view2.state.doc);
document.getElementById('pm2-send').addEventListener('click', () => sendFromEditor2(view2.state, view2.dispatch));

const ta = document.getElementById('ta');
function sendTextarea() {
  if (!ta.value.trim()) return;
  window.sent.push({ from: 'ta', text: ta.value });
  ta.value = '';
}
ta.addEventListener('keydown', (e) => {
  if (e.key === 'Enter' && !e.shiftKey) { e.preventDefault(); sendTextarea(); }
});
document.getElementById('chat').addEventListener('submit', (e) => { e.preventDefault(); sendTextarea(); });

const drop = document.getElementById('drop');
drop.addEventListener('dragover', (e) => e.preventDefault());
drop.addEventListener('drop', async (e) => {
  e.preventDefault();
  const files = await Promise.all([...e.dataTransfer.files].map(async (f) => ({ name: f.name, text: await f.text() })));
  window.dropped.push({ text: e.dataTransfer.getData('text/plain'), files });
});

document.getElementById('file').addEventListener('change', async (e) => {
  const files = await Promise.all([...e.target.files].map(async (f) => ({ name: f.name, size: f.size })));
  window.uploaded.push(files);
});
// a drop zone that reads files through the File System Access API, as editors that save
// back to disk do: getAsFileSystemHandle() on the drop, then handle.getFile()
window.fsaRead = [];
window.fsaHandles = [];
const fsaDrop = document.getElementById('fsa-drop');
fsaDrop.addEventListener('dragover', (e) => e.preventDefault());
fsaDrop.addEventListener('drop', (e) => {
  e.preventDefault();
  const pending = [...e.dataTransfer.items].filter((i) => i.kind === 'file').map((i) => i.getAsFileSystemHandle());
  Promise.all(pending).then((handles) => {
    window.fsaHandles.push(...handles.filter(Boolean));
    return window.fsaReadAll(handles.filter(Boolean));
  });
});
// read (again) through the handles: each getFile() is checked by the extension
window.fsaReadAll = (handles = window.fsaHandles) => Promise.all(handles.map(async (h) => {
  try {
    const file = await h.getFile();
    window.fsaRead.push({ name: h.name, text: await file.text() });
  } catch (err) {
    window.fsaRead.push({ name: h.name, error: err.name });
  }
}));

window.pageReady = true;
