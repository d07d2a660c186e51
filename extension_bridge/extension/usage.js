// shadowmap usage telemetry (top frame of catalogued AI tool pages): the visit, and the
// seconds the page was visible and focused. Only the origin is sent (the agent keeps the
// host): never the path, the title or anything on the page.
'use strict';

(() => {
  if (window !== window.top) return;
  const REPORT_EVERY_MS = 5 * 60 * 1000;
  const ask = globalThis.shadowmapGuard.ask;
  const origin = `${location.origin}/`;
  let activeSince = null;
  let activeMs = 0;
  let visits = 1;

  const isActive = () => document.visibilityState === 'visible' && document.hasFocus();

  function update() {
    const now = Date.now();
    if (activeSince !== null) activeMs += now - activeSince;
    activeSince = isActive() ? now : null;
  }

  function report() {
    update();
    const seconds = Math.floor(activeMs / 1000);
    if (seconds < 1 && visits === 0) return;
    activeMs -= seconds * 1000;
    ask({ type: 'usage', url: origin, active_seconds: seconds, visits });
    visits = 0;
  }

  ask({ type: 'visit', url: origin });
  for (const name of ['focus', 'blur']) window.addEventListener(name, update, true);
  document.addEventListener('visibilitychange', () => (document.visibilityState === 'hidden' ? report() : update()));
  window.addEventListener('pagehide', report);
  setInterval(report, REPORT_EVERY_MS);
  update();
})();
