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
window.pageReady = true;
