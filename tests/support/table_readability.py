"""The console's readability check for any table of a page, run in the browser: no column
narrower than the longest word of its header (in the header's font), no header overflowing,
and no sideways scrolling of the page. At phone width every table of the console becomes cards,
each cell labelled by its data-label (a cell without one is a problem), so the room a cell gets is
what is left beside its label."""
from __future__ import annotations

from playwright.sync_api import Page

SCRIPT = """(selector) => {
  const problems = [];
  const probe = document.createElement('span');
  probe.style.cssText = 'position:absolute;visibility:hidden;white-space:nowrap';
  document.body.appendChild(probe);
  for (const table of document.querySelectorAll(selector)) {
    const heads = [...table.querySelectorAll('thead th')];
    heads.forEach((th, index) => {
      if (th.querySelector(':scope > .visually-hidden')) return;  // a header for screen readers only
      const label = th.innerText.replace(/[▲▼]/g, '').trim();
      if (!label) return;
      const word = label.split(/\\s+/).reduce((a, b) => (a.length >= b.length ? a : b));
      const style = getComputedStyle(th);
      probe.style.font = style.font;
      probe.style.textTransform = style.textTransform;
      probe.style.letterSpacing = style.letterSpacing;
      probe.textContent = word;
      const need = probe.getBoundingClientRect().width;
      for (const row of table.querySelectorAll('tbody tr')) {
        const td = row.children[index];
        if (!td || td.colSpan > 1) continue;
        if (getComputedStyle(td).display !== 'table-cell' && !td.dataset.label)  // a card's cell says what it is
          problems.push(`${table.id || selector} ${label}: a card's cell without its label (data-label)`);
        const padding = parseFloat(getComputedStyle(td).paddingLeft) + parseFloat(getComputedStyle(td).paddingRight);
        const room = td.getBoundingClientRect().width - padding;
        if (room + 0.5 < need) problems.push(`${table.id || selector} ${label}: ${room.toFixed(1)} < ${need.toFixed(1)}`);
      }
      if (style.display !== 'none' && th.scrollWidth > th.clientWidth + 1)
        problems.push(`${table.id || selector} ${label}: header overflows (${th.scrollWidth} > ${th.clientWidth})`);
    });
  }
  probe.remove();
  const sideways = document.documentElement.scrollWidth - window.innerWidth;
  if (sideways > 0) problems.push(`page scrolls sideways by ${sideways}px`);
  return problems;
}"""


def unreadable(page: Page, selector: str = "table") -> list[str]:
    """What is unreadable in the page's tables matched by ``selector`` (empty: all readable)."""
    problems: list[str] = page.evaluate(SCRIPT, selector)
    return problems
