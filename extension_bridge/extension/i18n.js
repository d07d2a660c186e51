// shadowmap's user-visible words, from _locales/<language>/messages.json: a classic script
// the other content scripts use (loaded before them). A missing message is a bug: it is
// logged, and its name shows instead of nothing.
'use strict';

globalThis.shadowmapText = (name, ...substitutions) => {
  const text = chrome.i18n.getMessage(name, substitutions.map(String));
  if (!text) console.warn(`shadowmap: no message ${name} in _locales`);
  return text || name;
};
