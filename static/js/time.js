// time.js: every <time datetime> shows its instant in the viewer's own timezone and locale,
// with the absolute time (and zone) on hover and, for recent instants, a relative phrase.
// The server renders UTC, so pages read the same without script. Plain ES2020, no build step.
(() => {
  'use strict';
  if (window.localTimes) return;
  const abs = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
  const full = new Intl.DateTimeFormat(undefined, { dateStyle: 'full', timeStyle: 'long' });
  const rtf = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' });

  function relative(t) {
    const s = Math.round((t - Date.now()) / 1000), a = Math.abs(s);
    if (a < 60) return rtf.format(s, 'second');
    if (a < 3600) return rtf.format(Math.round(s / 60), 'minute');
    if (a < 86400) return rtf.format(Math.round(s / 3600), 'hour');
    return '';
  }

  // localize formats one <time>; data-format="relative" asks for the relative phrase.
  function localize(el) {
    const t = new Date(el.getAttribute('datetime'));
    if (isNaN(t)) return;
    const text = el.dataset.format === 'relative' ? (relative(t) || abs.format(t)) : abs.format(t);
    if (el.textContent !== text) el.textContent = text;
    el.title = full.format(t);
    el.dataset.localized = 'true';
  }
  function localizeAll(root) {
    const scope = root && root.querySelectorAll ? root : document;
    for (const el of scope.querySelectorAll('time[datetime]')) localize(el);
  }

  // Fragments morphed in by live.js, and anything else added later, are localized too.
  new MutationObserver((records) => {
    for (const r of records) {
      for (const n of r.addedNodes) {
        if (n.nodeType !== 1) continue;
        if (n.matches('time[datetime]')) localize(n); else localizeAll(n);
      }
      if (r.type === 'attributes' && r.target.matches('time[datetime]')) localize(r.target);
    }
  }).observe(document.documentElement, { childList: true, subtree: true, attributes: true, attributeFilter: ['datetime'] });
  document.addEventListener('live:applied', () => localizeAll(document));
  // Relative phrases age: refresh them every half minute.
  setInterval(() => { for (const el of document.querySelectorAll('time[data-format="relative"]')) localize(el); }, 30000);

  window.localTimes = { localize: localizeAll };
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', () => localizeAll(document), { once: true });
  else localizeAll(document);
})();
