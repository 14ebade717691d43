// topics.js: what the live topics' fragments mean for the page (docs/live.md, Topics).
// live.js morphs every fragment, hidden digests included, and emits live:applied; this
// script then updates the drafts list's status counts, says when drafts or runs changed
// elsewhere are not on the page ("3 new or moved drafts — Refresh list": the list never
// reorders under the reader), toasts new notifications, and brings a run page's retry action
// once the pushed panel shows the run ended. Plain ES2020, no inline code.
(() => {
  'use strict';
  const rev = (el) => { try { return BigInt((el && el.dataset.rev) || '0'); } catch { return 0n; } };
  const big = (s) => { try { return BigInt(s || '0'); } catch { return 0n; } };
  const esc = (s) => CSS.escape(s);
  const digestOf = (list) => list && list.querySelector(':scope > [data-live="digest"]');

  // setNotice says that n changes are not on the page (n < 0: too many to tell).
  function setNotice(list, n, one, many) {
    const p = list.querySelector('[data-testid="list-notice"]');
    if (!p) return;
    p.dataset.count = String(n);
    if (n === 0) { p.replaceChildren(); return; }
    const a = document.createElement('a');
    a.href = location.href;
    a.textContent = 'Refresh list';
    a.dataset.testid = 'list-refresh';
    const words = n < 0 ? `Many ${many} changed` : `${n} ${n === 1 ? one : many}`;
    p.replaceChildren(document.createTextNode(`${words} — `), a);
  }

  // ---------- drafts list ----------
  const drafts = document.querySelector('[data-list="drafts"]');
  const draftsSince = rev(digestOf(drafts)); // the page's rows are at least this new
  function draftsChanged() {
    const digest = digestOf(drafts);
    if (!digest) return;
    // The tabs count the search's drafts when there is one: the digest counts the workspace's.
    let total = 0;
    if (!drafts.dataset.filterQ) for (const c of digest.querySelectorAll('data[data-count]')) {
      const n = Number(c.value) || 0, state = c.dataset.count;
      total += n;
      const chip = drafts.querySelector(`[data-chip="${esc(state)}"]`);
      if (!chip) continue;
      chip.querySelector('[data-chip-count]').textContent = String(n);
      chip.hidden = n === 0 && !chip.classList.contains('is-current');
    }
    const all = drafts.querySelector('[data-chip-count="all"]');
    if (all && !drafts.dataset.filterQ) all.textContent = String(total);
    if (big(digest.dataset.floor) > draftsSince) { setNotice(drafts, -1, 'draft', 'drafts'); return; }
    const state = drafts.dataset.filterLifecycle || '', q = (drafts.dataset.filterQ || '').toLowerCase();
    let n = 0;
    for (const c of digest.querySelectorAll('data[data-r]')) {
      if (big(c.dataset.r) <= draftsSince) continue;
      const row = document.querySelector(`[data-live="row"][data-draft-id="${esc(c.value)}"]`);
      const fits = (!state || c.dataset.state === state) && (!q || (c.dataset.search || '').includes(q));
      // Not listed but belongs here (new, or moved in), or listed but no longer belongs.
      if (row ? state && c.dataset.state !== state : fits) n++;
    }
    setNotice(drafts, n, 'new or moved draft', 'new or moved drafts');
  }

  // ---------- operations list ----------
  const runs = document.querySelector('[data-list="runs"]');
  function runsChanged() {
    const digest = digestOf(runs);
    if (!digest) return;
    const f = runs.dataset, since = Number(f.renderedMs) || 0;
    let n = 0;
    for (const r of digest.querySelectorAll('data[data-created]')) {
      if ((Number(r.dataset.created) || 0) <= since) continue;
      if (document.querySelector(`[data-testid="run-row"][data-run-id="${esc(r.value)}"]`)) continue;
      const d = r.dataset;
      if ((f.filterType && d.type !== f.filterType) || (f.filterStatus && d.status !== f.filterStatus) ||
        (f.filterOutcome && d.outcome !== f.filterOutcome) || (f.filterDraft && d.draft !== f.filterDraft)) continue;
      n++;
    }
    setNotice(runs, n, 'new run', 'new runs');
  }

  // ---------- notifications bell ----------
  const bell = () => document.querySelector('[data-live="bell"]');
  let newest = big(bell() && bell().dataset.newest);
  // bellChanged toasts every notification newer than the newest one shown so far.
  function bellChanged() {
    const b = bell();
    if (!b) return;
    const items = Array.from(b.querySelectorAll('[data-notification-id]'))
      .filter((li) => big(li.dataset.notificationId) > newest).reverse();
    for (const li of items) {
      const link = li.querySelector('a');
      if (!link) continue;
      const t = document.createElement('div');
      t.className = 'toast tone-info';
      t.dataset.testid = 'notification-toast';
      const a = document.createElement('a');
      a.href = link.getAttribute('href');
      a.textContent = link.textContent;
      t.append(a);
      window.liveConsole.showToast(t, 8000);
    }
    newest = [newest, big(b.dataset.newest)].reduce((x, y) => (y > x ? y : x));
  }
  // The bell closes with Escape (focus back on its summary) and on a click elsewhere.
  document.addEventListener('keydown', (e) => {
    const b = bell();
    if (e.key === 'Escape' && b && b.open) { b.open = false; b.querySelector('summary').focus(); }
  });
  document.addEventListener('click', (e) => {
    const b = bell();
    if (b && b.open && !b.contains(e.target)) b.open = false;
  });

  // ---------- run page: the retry action ----------
  // The run panel is one fragment for every cohort, and whether the reader may retry depends
  // on their capabilities, so the action sits outside the panel. When the pushed panel shows
  // the run ended, the action is read once from the page itself.
  async function runChanged(view) {
    const area = document.querySelector('[data-retry-area]');
    const panel = document.querySelector(`[data-live="${esc(view)}"]`);
    const status = panel && panel.querySelector('[data-testid="run-status"]')?.dataset.status;
    if (!area || status !== 'completed' || area.dataset.runStatus === 'completed') return;
    area.dataset.runStatus = 'completed'; // once
    try {
      const res = await fetch(location.href, { headers: { Accept: 'text/html' }, credentials: 'same-origin' });
      if (!res.ok) return;
      const doc = new DOMParser().parseFromString(await res.text(), 'text/html');
      const fresh = doc.querySelector('[data-retry-area]');
      if (fresh && area.isConnected) area.replaceWith(document.importNode(fresh, true));
    } catch { /* the next page load shows it */ }
  }

  document.addEventListener('live:applied', (e) => {
    const d = e.detail || {};
    if (d.view === 'bell') bellChanged();
    else if (d.view && d.view.startsWith('run:')) runChanged(d.view);
    else if (d.view === 'digest' && drafts && d.draftId.startsWith('drafts:')) draftsChanged();
    else if (d.view === 'digest' && runs && d.draftId.startsWith('runs:')) runsChanged();
  });
})();
