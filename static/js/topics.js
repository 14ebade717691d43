// topics.js: what the live topics' fragments mean for the page (docs/live.md, Topics).
// live.js morphs every fragment, hidden digests included, and emits live:applied; this
// script then updates the drafts list's status counts, says when drafts or runs changed
// elsewhere are not on the page ("3 new or moved drafts — Refresh list": the list never
// reorders under the reader), puts new audit entries on the audit log's first page (a notice on
// later ones), toasts new notifications, and brings a run page's retry action
// once the pushed panel shows the run ended. Plain ES2020, no inline code.
(() => {
  'use strict';
  const rev = (el) => { try { return BigInt((el && el.dataset.rev) || '0'); } catch { return 0n; } };
  const big = (s) => { try { return BigInt(s || '0'); } catch { return 0n; } };
  const esc = (s) => CSS.escape(s);
  const digestOf = (list) => list && list.querySelector(':scope > [data-live="digest"]');

  // setNotice says that n changes are not on the page (n < 0: too many to tell), with a link
  // to see them: this page again unless link ({href, text, testid}) says where.
  function setNotice(list, n, one, many, link = { href: location.href, text: 'Refresh list', testid: 'list-refresh' }) {
    const p = list.querySelector('[data-testid="list-notice"]');
    if (!p) return;
    p.dataset.count = String(n);
    if (n === 0) { p.replaceChildren(); return; }
    const a = document.createElement('a');
    a.href = link.href;
    a.textContent = link.text;
    a.dataset.testid = link.testid;
    const words = n < 0 ? `Many ${many} changed` : `${n} ${n === 1 ? one : many}`;
    p.replaceChildren(document.createTextNode(`${words} — `), a);
  }

  // ---------- drafts list ----------
  const drafts = document.querySelector('[data-list="drafts"]');
  const draftsSince = rev(digestOf(drafts)); // the page's rows are at least this new
  function draftsChanged() {
    const digest = digestOf(drafts);
    if (!digest) return;
    // The tabs count the drafts a search or a checkpoint selects when there is one (the
    // server's counts): the digest counts the workspace's.
    const narrowed = !!(drafts.dataset.filterQ || drafts.dataset.filterCheckpoint);
    let total = 0;
    if (!narrowed) for (const c of digest.querySelectorAll('data[data-count]')) {
      const n = Number(c.value) || 0, state = c.dataset.count;
      total += n;
      const chip = drafts.querySelector(`[data-chip="${esc(state)}"]`);
      if (!chip) continue;
      chip.querySelector('[data-chip-count]').textContent = String(n);
      chip.hidden = n === 0 && !chip.classList.contains('is-current');
    }
    const all = drafts.querySelector('[data-chip-count="all"]');
    if (all && !narrowed) all.textContent = String(total);
    if (big(digest.dataset.floor) > draftsSince) { setNotice(drafts, -1, 'draft', 'drafts'); return; }
    const state = drafts.dataset.filterLifecycle || '', q = (drafts.dataset.filterQ || '').toLowerCase();
    const cp = drafts.dataset.filterCheckpoint || '';
    let n = 0;
    for (const c of digest.querySelectorAll('data[data-r]')) {
      if (big(c.dataset.r) <= draftsSince) continue;
      const row = document.querySelector(`[data-live="row"][data-draft-id="${esc(c.value)}"]`);
      const fits = (!state || c.dataset.state === state) && (!q || (c.dataset.search || '').includes(q)) &&
        (!cp || c.dataset.checkpoint === cp);
      // Not listed but belongs here (new, or moved in), or listed but no longer belongs.
      if (row ? (state && c.dataset.state !== state) || (cp && c.dataset.checkpoint !== cp) : fits) n++;
    }
    setNotice(drafts, n, 'new or moved draft', 'new or moved drafts');
  }

  // ---------- operations list ----------
  const runs = document.querySelector('[data-list="runs"]');
  function runsChanged() {
    const digest = digestOf(runs);
    if (!digest) return;
    const f = runs.dataset, since = Number(f.renderedMs) || 0, q = (f.filterQ || '').toLowerCase();
    let n = 0;
    for (const r of digest.querySelectorAll('data[data-created]')) {
      if ((Number(r.dataset.created) || 0) <= since) continue;
      if (document.querySelector(`[data-testid="run-row"][data-run-id="${esc(r.value)}"]`)) continue;
      const d = r.dataset;
      if ((f.filterType && d.type !== f.filterType) || (f.filterStatus && d.status !== f.filterStatus) ||
        (f.filterOutcome && d.outcome !== f.filterOutcome) || (f.filterDraft && d.draft !== f.filterDraft) ||
        (q && !(d.search || '').includes(q))) continue;
      n++;
    }
    setNotice(runs, n, 'new run', 'new runs');
  }

  // ---------- audit log ----------
  // The topic's rev is the workspace's newest entry id. When it passes the newest entry the
  // page knows, the first page of the page's own filters is read (the server applies every
  // filter, the search included): on that first page its new rows are put on top; on a
  // later page they are counted in the notice, which links to the newest entries.
  const audit = document.querySelector('[data-list="audit"]');
  const auditRows = (root) => Array.from(root.querySelectorAll('[data-testid="audit-row"]'));
  let auditKnown = rev(digestOf(audit)); // every entry up to this id existed when the page was read
  if (audit) for (const r of auditRows(audit)) if (big(r.dataset.id) > auditKnown) auditKnown = big(r.dataset.id);
  const auditSeen = new Set(); // new entries counted on a later page
  let auditBusy = null, auditAgain = false;
  function auditChanged() {
    if (auditBusy) { auditAgain = true; return; }
    auditBusy = auditFetch().catch(() => {}).finally(() => {
      auditBusy = null;
      if (auditAgain) { auditAgain = false; auditChanged(); }
    });
  }
  async function auditFetch() {
    const digest = digestOf(audit);
    if (!digest || rev(digest) <= auditKnown) return;
    const target = rev(digest);
    const res = await fetch(audit.dataset.newestUrl, { headers: { Accept: 'text/html' }, credentials: 'same-origin' });
    if (!res.ok) return;
    const doc = new DOMParser().parseFromString(await res.text(), 'text/html');
    const fresh = auditRows(doc).filter((r) => big(r.dataset.id) > auditKnown);
    if (audit.dataset.page === 'first') {
      let tbody = audit.querySelector('[data-testid="audit-table"] tbody');
      if (!tbody) { // the page was empty: the whole table comes
        const table = doc.querySelector('[data-testid="audit-table"]');
        const empty = audit.querySelector('[data-testid="audit-empty"]');
        if (!table || !empty) return;
        for (const r of table.querySelectorAll('tbody > tr')) if (big(r.dataset.id) <= auditKnown) r.remove();
        empty.replaceWith(document.importNode(table, true));
        for (const r of auditRows(audit)) r.classList.add('is-new');
      } else {
        const have = new Set(auditRows(audit).map((r) => r.dataset.id));
        const add = fresh.filter((r) => !have.has(r.dataset.id)).map((r) => {
          const row = document.importNode(r, true);
          row.classList.add('is-new');
          return row;
        });
        tbody.prepend(...add);
      }
    } else {
      for (const r of fresh) auditSeen.add(r.dataset.id);
      if (auditSeen.size > 0) {
        setNotice(audit, auditSeen.size, 'new entry', 'new entries',
          { href: audit.dataset.newestUrl, text: 'Show newest entries', testid: 'audit-newest' });
      }
    }
    if (target > auditKnown) auditKnown = target;
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
    else if (d.view === 'digest' && audit && d.draftId.startsWith('audit:')) auditChanged();
  });
})();
