// presence.js: who else has a draft open (docs/live.md, Presence). Plain ES2020, no build step.
//
// Rides on live.js's socket: live.js asks for presence=1 when wanted() says so, calls
// opened(send) whenever the socket opens and hands over every JSON frame (frame()). This tab
// reports, on the wizard, the step it shows, the field it is editing (focus and blur, not
// keystrokes) and whether its operator has been idle; it shows the others:
// - the wizard's [data-testid=presence] lists each other person with the draft open: email
//   (with initials), the step their tab shows, "editing <field>", idle; an aria-live region,
//   so changes are announced politely;
// - beside a field's label, "<email> is editing" (data-testid=field-presence), advisory only,
//   on the label's own line (static/css/presence.css): it never moves a field;
// - each drafts-list row shows who has that draft open (data-testid=row-presence).
// Everything shown is text set with textContent. Presence never touches a form, a version or
// the conflict banner. document emits "presence:change" {draftId, people} after each change.
(() => {
  'use strict';
  if (window.livePresence) return;

  const opts = Object.assign({ presenceIdleMs: 3 * 60 * 1000, presenceThrottleMs: 250 },
    window.liveConsoleOptions || {});
  const FIELDS = new Set(['tenant_id', 'display_name', 'primary_domain', 'client_id', 'client_secret',
    'operations', 'override_reason']);

  let send = null;             // the open socket's sender, null while closed
  let me = 0;                  // this user's id (the socket's hello): left out of every list
  const people = new Map();    // draft id -> [{u, e, s, f, n, i}] as last received
  let field = '';              // the field this tab is editing
  let idle = false;
  let lastInput = Date.now();
  let lastSent = '';
  let sendTimer = 0;

  const wizard = () => document.querySelector('[data-testid="presence"][data-presence-draft]');
  const rowOf = (id) => document.querySelector(`tr[data-live="row"][data-draft-id="${CSS.escape(id)}"]`);

  // The step this tab shows: its page URL's step (each tab's own, CONTRACT §5).
  function step() {
    const pu = document.querySelector('[data-page-url]');
    const m = pu && /[?&]step=([1-5])\b/.exec(pu.dataset.pageUrl);
    if (m) return Number(m[1]);
    const cp = document.querySelector('[data-testid="checkpoint"][data-live]');
    const v = cp && /^checkpoint:([1-5])$/.exec(cp.dataset.live);
    return v ? Number(v[1]) : 1;
  }

  const initials = (email) => {
    const local = email.split('@')[0] || email;
    const parts = local.split(/[._-]+/).filter(Boolean);
    return ((parts[0] || '?')[0] + (parts.length > 1 ? parts[1][0] : (parts[0] || '').slice(1, 2))).toUpperCase();
  };
  const stepTitle = (n) => {
    const t = document.querySelector(`[data-testid="step-${n}"] .step-title`);
    return t ? `step ${n}, ${t.textContent.trim()}` : `step ${n}`;
  };
  const describe = (p) => [p.s ? `on ${stepTitle(p.s)}` : '', p.f ? `editing ${p.f}` : '', p.i ? 'idle' : '']
    .filter(Boolean).join(', ');

  // ---------- what this tab reports ----------
  function report() {
    const w = wizard();
    if (!w || !send) return;
    const msg = JSON.stringify({ t: 'presence', d: w.dataset.presenceDraft, s: step(), f: field, i: idle });
    if (msg === lastSent) return;
    // At most one frame per throttle period; the latest state wins.
    if (sendTimer) return;
    lastSent = msg;
    send(msg);
    sendTimer = setTimeout(() => { sendTimer = 0; report(); }, opts.presenceThrottleMs);
  }

  function fieldName(el) {
    return el && el.matches && el.matches('input, textarea, select') && FIELDS.has(el.name) &&
      el.closest('[data-testid="checkpoint"]') ? el.name : '';
  }
  document.addEventListener('focusin', (e) => {
    const n = fieldName(e.target);
    if (n || field) { field = n; active(); report(); }
  });
  document.addEventListener('focusout', (e) => {
    if (fieldName(e.target) && field) { field = ''; report(); }
  });
  function active() {
    lastInput = Date.now();
    if (idle) { idle = false; report(); }
  }
  for (const type of ['input', 'keydown', 'pointerdown']) document.addEventListener(type, active, { passive: true });
  setInterval(() => {
    if (!idle && Date.now() - lastInput >= opts.presenceIdleMs) { idle = true; report(); }
  }, Math.min(15000, opts.presenceIdleMs / 2));

  // ---------- what this tab shows ----------
  function render(id) {
    const list = (people.get(id) || []).filter((p) => p.u !== me);
    const w = wizard();
    if (w && w.dataset.presenceDraft === id) renderWizard(w, list);
    const row = rowOf(id);
    if (row) renderRow(row, list);
    renderFieldHints(id, list);
    document.dispatchEvent(new CustomEvent('presence:change', { detail: { draftId: id, people: list } }));
  }

  function avatar(email) {
    const a = document.createElement('span');
    a.className = 'presence-avatar';
    a.setAttribute('aria-hidden', 'true');
    a.textContent = initials(email);
    return a;
  }

  // Keyed by email, so an unchanged person's item stays and screen readers hear only changes.
  function renderWizard(w, list) {
    const ul = w.querySelector('[data-testid="presence-list"]');
    const empty = w.querySelector('[data-testid="presence-empty"]');
    const keep = new Set(list.map((p) => p.e));
    for (const li of Array.from(ul.children)) if (!keep.has(li.dataset.email)) li.remove();
    for (const p of list) {
      let li = ul.querySelector(`li[data-email="${CSS.escape(p.e)}"]`);
      if (!li) {
        li = document.createElement('li');
        li.className = 'presence-person';
        li.dataset.email = p.e;
        li.setAttribute('data-testid', 'presence-person');
        li.append(avatar(p.e), document.createElement('span'), document.createElement('span'));
        li.children[1].className = 'presence-name';
        li.children[1].textContent = p.e;
        li.children[2].className = 'presence-where hint';
        ul.append(li);
      }
      li.dataset.step = String(p.s || '');
      li.dataset.field = p.n || '';
      li.classList.toggle('is-idle', !!p.i);
      const where = describe(p);
      const text = where ? ` — ${where}` : '';
      if (li.children[2].textContent !== text) li.children[2].textContent = text;
    }
    if (empty) empty.hidden = list.length > 0;
    w.dataset.count = String(list.length);
  }

  function renderRow(row, list) {
    // The tenant's cell: the first but a selectable list's checkbox cell.
    const cell = Array.from(row.cells).find((c) => !c.classList.contains('select-cell'));
    if (!cell) return;
    let box = cell.querySelector('[data-testid="row-presence"]');
    if (!list.length) { if (box) box.remove(); return; }
    if (!box) {
      box = document.createElement('div');
      box.className = 'presence-row';
      box.setAttribute('data-testid', 'row-presence');
      cell.append(box);
    }
    box.replaceChildren(...list.map((p) => avatar(p.e)),
      Object.assign(document.createElement('span'), { className: 'hint', textContent: `Open by ${list.map((p) => p.e).join(', ')}` }));
  }

  // "<email> is editing" beside the label of every field someone else is editing.
  function renderFieldHints(id, list) {
    const cp = document.querySelector(`[data-testid="checkpoint"][data-draft-id="${CSS.escape(id)}"]`);
    if (!cp) return;
    const by = new Map();
    for (const p of list) if (p.n && !p.i) by.set(p.n, [...(by.get(p.n) || []), p.e]);
    for (const h of Array.from(cp.querySelectorAll('[data-testid="field-presence"]'))) {
      if (!by.has(h.dataset.field)) h.remove();
    }
    for (const [name, emails] of by) {
      const label = cp.querySelector(`label[for="${CSS.escape(name)}"]`) ||
        (cp.querySelector(`[name="${CSS.escape(name)}"]`) || {}).closest?.('fieldset')?.querySelector('legend');
      if (!label) continue;
      let h = cp.querySelector(`[data-testid="field-presence"][data-field="${CSS.escape(name)}"]`);
      if (!h) {
        h = document.createElement('span');
        h.className = 'presence-hint';
        h.setAttribute('data-testid', 'field-presence');
        h.dataset.field = name;
        // In a legend it would join the group's name; the presence list says it to readers.
        if (label.matches('legend')) { h.setAttribute('aria-hidden', 'true'); label.append(h); } else label.after(h);
      }
      const text = `${emails.join(', ')} ${emails.length > 1 ? 'are' : 'is'} editing`;
      // Cut with an ellipsis on a narrow line: the whole sentence is the hint's title.
      if (h.textContent !== text) { h.textContent = text; h.title = text; }
    }
  }

  // A morph of a fragment (live.js) drops what this script added inside it: put it back.
  document.addEventListener('live:applied', (e) => {
    const id = e.detail && e.detail.draftId;
    if (id && people.has(id)) render(id);
    report(); // the tab may now show another step
  });

  window.livePresence = {
    wanted: () => !!(wizard() || document.querySelector('tr[data-live="row"][data-draft-id]')),
    opened(sender) {
      send = sender;
      lastSent = '';
      clearTimeout(sendTimer); sendTimer = 0;
      report();
    },
    frame(data) {
      let f;
      try { f = JSON.parse(data); } catch { return; }
      if (!f || typeof f !== 'object') return;
      if (f.t === 'hello') {
        // A new socket: what the last one showed may be stale; current frames follow.
        me = Number(f.u) || 0;
        const ids = Array.from(people.keys());
        people.clear();
        for (const id of ids) render(id);
        return;
      }
      if (f.t !== 'presence' || typeof f.d !== 'string' || !Array.isArray(f.p)) return;
      people.set(f.d, f.p.filter((p) => p && typeof p.e === 'string'));
      render(f.d);
    },
    // For tests and other scripts: who else has draftId open, as last received.
    people: (draftId) => (people.get(draftId) || []).filter((p) => p.u !== me),
  };
})();
