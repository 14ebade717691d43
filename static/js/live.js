// live.js: glue between server-rendered fragments, the /live WebSocket and idiomorph.
// Plain ES2020, no build step. Protocol and hooks are documented in docs/ui.md.
//
// A live fragment is any element with data-live="{view}", data-draft-id, data-version,
// data-rev and data-lifecycle (optional: data-updated-by, data-updated-at).
// Frames (pushed or polled) are one fragment's HTML, or a batch of fragments each inside a
// <template data-live-batch> (a catch-up, docs/live.md); a fragment replaces the shown
// fragment with the same draft id and view only when its rev is greater. The socket asks for
// deltas (delta=1): a pushed fragment whose root carries data-base-rev holds only the keyed
// regions (data-region) that changed since that rev, and is rebuilt into the whole fragment
// from the newest one received for that draft and view (docs/live.md, Deltas).
(() => {
  'use strict';
  if (window.liveConsole) return; // loaded twice: keep the first instance

  const opts = Object.assign({
    path: '/live', pollPath: '/live/poll', pollMs: 5000, backoffMinMs: 500, backoffMaxMs: 60000, toastMs: 6000,
    loginUrl: '/admin/login',
  }, window.liveConsoleOptions || {});
  // Permanent refusals: no retry, no polling; the page says why (docs/ui.md, Socket).
  // 1000 ends quietly; the others name a notice below.
  const REFUSALS = new Map([[1000, ''], [1008, 'revoked'], [4400, 'invalid'], [4401, 'signedOut'],
    [4403, 'revoked'], [4404, 'gone']]);
  // What a refused handshake's HTTP status means (the WebSocket API hides it; a probe reads
  // it): 400 and 401 are permanent, anything else is retried.
  const PROBE_REFUSALS = new Map([[400, 'invalid'], [401, 'signedOut']]);
  // What a poll's HTTP status means: the same refusals as the socket's close codes.
  const POLL_REFUSALS = new Map([[400, 'invalid'], [401, 'signedOut'], [403, 'revoked'], [404, 'gone']]);
  const NOTICES = {
    signedOut: { testid: 'session-expired', text: 'Signed out — sign in again. ', signIn: true, status: 'Signed out' },
    gone: { testid: 'live-unavailable', text: 'No longer available: this was removed or moved, so the page no longer updates. ', status: 'Not updating' },
    revoked: { testid: 'live-unavailable', text: 'No longer available: you no longer have access, so the page no longer updates. ', status: 'Not updating' },
    invalid: { testid: 'live-unavailable', text: 'Live updates are not available for this page. Reload it to try again. ', status: 'Not updating' },
  };
  const RUNNING_LIFECYCLES = new Set(['verifying', 'bootstrapping']); // a run is in progress
  const STATE_TEXT = { live: 'Live', reconnecting: 'Reconnecting…', polling: 'Polling for updates', offline: 'Offline' };

  let ws = null;          // current socket (null when none)
  let state = '';         // live | reconnecting | polling | offline
  let attempt = 0;        // reconnect attempts since the last stable connection
  let openedAt = 0;
  let final = false;      // a final close code was received: no reconnect, no polling
  let finalReason = '';   // its NOTICES key ('' = ended quietly)
  let probing = false;    // a refused handshake's status is being asked
  let everOpen = false;   // first connection still pending: say "Connecting…", not "Reconnecting…"
  let unloading = false;
  let reconnectTimer = 0, pollTimer = 0, rescanTimer = 0;
  let connectedKeys = ''; // the (draft, view) set the current socket subscribed to
  const held = new WeakMap();       // fragment element -> newest frame held back by a conflict
  // "draft id\nview" -> the newest whole fragment received (pushed, rebuilt or polled), kept
  // detached and untouched: the base a delta is rebuilt from.
  const received = new Map();
  const submitting = new Set();     // draft ids with an own form submission in flight

  // ---------- helpers ----------
  const emit = (name, detail) => document.dispatchEvent(new CustomEvent(name, { detail }));
  const rev = (el) => { try { return BigInt(el.dataset.rev || '0'); } catch { return -1n; } };
  const ver = (v) => Number(v) || 0;
  const sel = (id, view) => `[data-live="${CSS.escape(view)}"][data-draft-id="${CSS.escape(id)}"]`;
  const findFragments = (id, view) => Array.from(document.querySelectorAll(sel(id, view)));

  // Distinct (draft, view) pairs shown, each with the lowest rev shown for it, so the
  // server resends whenever any copy is stale.
  function shownPairs() {
    const pairs = new Map();
    for (const el of document.querySelectorAll('[data-live][data-draft-id]')) {
      const key = el.dataset.draftId + '\n' + el.dataset.live;
      const p = pairs.get(key);
      if (!p) pairs.set(key, { id: el.dataset.draftId, view: el.dataset.live, rev: rev(el) });
      else if (rev(el) < p.rev) p.rev = rev(el);
    }
    return Array.from(pairs.values());
  }
  const pairsKey = (pairs) => pairs.map((p) => p.id + '|' + p.view).sort().join(',');

  // ---------- dirty-input detection ----------
  // A field is dirty when its current value differs from what the server rendered
  // (defaultValue / defaultChecked / defaultSelected). Hidden inputs never are.
  function fieldDirty(f) {
    if (f instanceof HTMLInputElement) {
      if (f.type === 'checkbox' || f.type === 'radio') return f.checked !== f.defaultChecked;
      if (f.type === 'file') return f.files.length > 0;
      if (['hidden', 'submit', 'button', 'reset', 'image'].includes(f.type)) return false;
      return f.value !== f.defaultValue;
    }
    if (f instanceof HTMLTextAreaElement) return f.value !== f.defaultValue;
    if (f instanceof HTMLSelectElement) {
      const o = Array.from(f.options);
      // Without any `selected` attribute a single-line select shows its first option.
      const anyDefault = o.some((x) => x.defaultSelected);
      const implicit = (x, i) => !f.multiple && f.size <= 1 && i === 0;
      return o.some((x, i) => x.selected !== (anyDefault ? x.defaultSelected : implicit(x, i)));
    }
    return false;
  }
  const formsIn = (el) => (el.matches('form') ? [el] : Array.from(el.querySelectorAll('form')));
  const formDirty = (form) => Array.from(form.querySelectorAll('input, textarea, select')).some(fieldDirty);
  // The version a form was rendered with: its version input, which may sit outside the form
  // (the checkpoint's versions region ties it to the form with the form attribute).
  function renderedVersion(form, el) {
    const v = form.elements.namedItem('version');
    return ver(v && 'value' in v ? v.value : el.dataset.version);
  }

  // ---------- applying frames ----------
  function parse(html) {
    const tpl = document.createElement('template');
    tpl.innerHTML = String(html).trim();
    const root = tpl.content.firstElementChild;
    return root && root.hasAttribute('data-live') && root.dataset.draftId ? root : null;
  }

  // applyFrame applies every fragment of a frame: a batch's templates one by one, else the
  // frame itself. It returns how many were applied.
  function applyFrame(html, source) {
    const tpl = document.createElement('template');
    tpl.innerHTML = String(html).trim();
    const batch = Array.from(tpl.content.children).filter((t) => t.matches('template[data-live-batch]'));
    if (!batch.length) return applyFragment(html, source) === 'applied' ? 1 : 0;
    return batch.filter((t) => applyFragment(t.innerHTML, source) === 'applied').length;
  }

  // applyFragment returns 'applied', 'conflict', 'dropped' (not newer) or 'ignored'
  // (not a fragment, or nothing in the page shows that draft and view).
  function applyFragment(html, source = 'push') {
    const next = whole(parse(html));
    if (!next) return 'ignored';
    const targets = findFragments(next.dataset.draftId, next.dataset.live);
    if (!targets.length) return 'ignored';
    let result = 'dropped';
    targets.forEach((el, i) => {
      const r = applyTo(el, i === targets.length - 1 ? next : next.cloneNode(true), source);
      if (r !== 'dropped') result = r;
    });
    return result;
  }

  // whole returns a full fragment: node itself, or the fragment a delta rebuilds from the
  // newest one received for its draft and view, which it then becomes. A delta that does not
  // fit (its base is not what was received last) is not applied: the socket is opened
  // again, and a new subscription's first frame is always whole.
  function whole(node) {
    if (!node) return null;
    const key = node.dataset.draftId + '\n' + node.dataset.live;
    const last = received.get(key);
    if (node.hasAttribute('data-base-rev')) {
      const full = rebuild(last, node);
      if (!full) {
        if (!last || rev(node) > rev(last)) resubscribe(node);
        return null;
      }
      node = full;
    }
    // Only fragments cut into regions can be a delta's base (rows and topics are not kept).
    if ((!last || rev(node) > rev(last)) && node.querySelector(':scope > [data-region]')) received.set(key, node.cloneNode(true));
    return node;
  }

  // rebuild applies delta to base (a whole fragment of the delta's base rev): the delta's
  // root attributes over the base's (a delta carries only those that changed, and those that
  // route it) and each of its regions in place of the base's region of the same key.
  function rebuild(base, delta) {
    let baseRev;
    try { baseRev = BigInt(delta.dataset.baseRev); } catch { return null; }
    if (!base || rev(base) !== baseRev) return null;
    const full = base.cloneNode(true);
    for (const a of Array.from(delta.attributes)) {
      if (a.name === 'data-base-rev') continue;
      if (!full.hasAttribute(a.name)) return null; // not a delta of this base
      full.setAttribute(a.name, a.value);
    }
    const regions = new Map(Array.from(full.children).map((c) => [c.dataset.region, c]));
    for (const r of Array.from(delta.children)) {
      const old = r.dataset.region && regions.get(r.dataset.region);
      if (!old) return null;
      old.replaceWith(r);
    }
    return full;
  }

  function resubscribe(node) {
    emit('live:resync', { draftId: node.dataset.draftId, view: node.dataset.live, baseRev: node.dataset.baseRev });
    if (!socketOpen()) return;
    detach(); attempt = 0; connect();
  }

  // applyTo applies next to el. A tab with unsaved input keeps following (docs/ui.md,
  // Conflicts): every change that touches no field its operator edited is applied, the typed
  // input stays and the forms move to the new version. Only when someone else saved a field
  // the operator edited are that form's version and base values held (so no save can
  // overwrite theirs unseen) and the conflict banner names the field; the rest still follows.
  function applyTo(el, next, source) {
    const pending = held.get(el);
    if (rev(next) <= rev(el) || (pending && rev(next) <= rev(pending))) return 'dropped';
    const id = el.dataset.draftId;
    const newVersion = ver(next.dataset.version);
    const changed = newVersion > ver(el.dataset.version) ? changedFields(el, next) : [];
    // Forms with unsaved input rendered from an older version. Same version (e.g. run
    // progress) never matters, and neither does the echo of our own submission.
    const stale = submitting.has(id) ? []
      : formsIn(el).filter((f) => formDirty(f) && newVersion > renderedVersion(f, el));
    const collisions = [];
    for (const f of stale) {
      const nf = matchForm(next, el, f);
      if (!nf) return holdWhole(el, next, source); // the form being edited is gone
      for (const name of editedNames(f)) {
        const was = storedValue(f, name), theirs = storedValue(nf, name), mine = yourValue(f, name);
        if (was !== theirs && theirs !== mine) collisions.push({ name, label: fieldLabel(f, name), was, theirs, mine });
      }
    }
    if (!collisions.length) {
      clearConflict(el);
      morph(el, next, { keepDirty: true, source, changed });
      return 'applied';
    }
    const names = new Set(collisions.map((c) => c.name));
    morph(el, next, { keepDirty: true, holdBase: true, hold: names, source, changed: changed.filter((c) => !names.has(c.name)) });
    held.set(el, next);
    showCollision(el, next, collisions);
    emit('live:conflict', Object.assign(detailOf(next, source), { fields: [...names] }));
    return 'conflict';
  }

  function detailOf(node, source) {
    const d = node.dataset;
    return { draftId: d.draftId, view: d.live, rev: d.rev, version: d.version,
      lifecycle: d.lifecycle, updatedBy: d.updatedBy || '', updatedAt: d.updatedAt || '', source };
  }

  // morph replaces el by next with idiomorph. o.keepDirty leaves fields the operator edited
  // untouched (typed input survives every update); o.holdBase also leaves the forms' version
  // and base_* inputs as they are (a collision: the form stays at the version it was
  // rendered from), and o.hold (a Set of field names) every field of those names, so a
  // group of checkboxes keeps what it was rendered with as a whole; o.changed lists the
  // fields someone else changed, for the notice.
  function morph(el, next, o) {
    const prevVersion = ver(el.dataset.version);
    const active = document.activeElement;
    held.delete(el);
    // idiomorph leaves the children of the focused element as they were (seen with the bell's
    // focused <summary>: its count did not change): a focused control that is not a field
    // is blurred for the morph and focused again below. Fields keep focus (typing).
    if (active && active !== document.body && el.contains(active) && !active.matches('input, textarea, select')) active.blur();
    Idiomorph.morph(el, next, {
      morphStyle: 'outerHTML',
      // "Use their version" on a whole held frame replaces what the operator typed, even in
      // the focused field.
      ignoreActiveValue: o.keepDirty,
      callbacks: {
        beforeNodeMorphed: (oldNode) => oldNode.nodeType !== 1 ||
          !((o.keepDirty && oldNode.matches('input, textarea, select') && fieldDirty(oldNode)) ||
            (o.holdBase && isBaseInput(oldNode)) ||
            (o.hold && oldNode.matches('input, textarea, select') && o.hold.has(oldNode.name))),
        // An open disclosure (the notifications bell) stays open: whether it is open is
        // the reader's, not the server's.
        beforeAttributeUpdated: (name, node) => !(name === 'open' && node.tagName === 'DETAILS'),
      },
    });
    // idiomorph keeps focus on elements it reuses; put it back if the node survived anyway.
    if (active && active !== document.body && active.isConnected && document.activeElement !== active) {
      active.focus({ preventScroll: true });
    }
    const d = detailOf(next, o.source);
    // Someone else's save is news, named by field when the tab shows it ("operator2 changed
    // Primary domain"); a run finishing (the system) shows itself in the fragment, and the
    // run's initiator is notified separately.
    if (d.updatedBy && d.updatedBy !== 'system' && ver(d.version) > prevVersion && !submitting.has(d.draftId)) {
      const labels = (o.changed || []).map((c) => c.label);
      // With a collision the banner already says who saved what.
      const news = labels.length ? `${d.updatedBy} changed ${labels.join(', ')}` : o.holdBase ? '' : `Updated by ${d.updatedBy}`;
      // A tab that saved a field someone now replaced says so by name instead.
      checkReplaced(el, prevVersion).then((told) => { if (!told && news) toast(news); });
    }
    // A "queued" toast is stale once a draft's fragment shows no run in progress (topics'
    // fragments have no lifecycle and say nothing about it).
    if (d.lifecycle && !RUNNING_LIFECYCLES.has(d.lifecycle)) {
      for (const t of document.querySelectorAll('.toasts [data-toast-kind="queued"]')) t.remove();
    }
    emit('live:applied', d);
  }

  // ---------- form fields: stored, typed, changed ----------
  const fieldsOf = (form) => Array.from(form.querySelectorAll('input, textarea, select'));
  const fieldsNamed = (form, name) => fieldsOf(form).filter((f) => f.name === name);
  const isBaseInput = (n) => n.matches('input[type="hidden"]') && (n.name === 'version' || n.name.startsWith('base_'));
  const baseInput = (form, name) => form.querySelector(`input[type="hidden"][name="${CSS.escape('base_' + name)}"]`);
  // A label's own words: its text nodes, not what other scripts may add inside it (a
  // presence hint such as "operator2 is editing").
  const ownText = (n) => Array.from(n.childNodes).filter((c) => c.nodeType === 3).map((c) => c.textContent).join('').trim() || n.textContent.trim();
  const labelFor = (root, f) => {
    const l = f.id && root.querySelector(`label[for="${CSS.escape(f.id)}"]`);
    return l ? ownText(l) : f.name;
  };
  // valueOf reads fields (one name) as operators do: text as typed, a choice by its label.
  // current: what the field holds now; else what the server rendered into it.
  function valueOf(form, fields, current) {
    const out = [];
    for (const f of fields) {
      if (f instanceof HTMLInputElement && (f.type === 'checkbox' || f.type === 'radio')) {
        if (current ? f.checked : f.defaultChecked) out.push(labelFor(form, f));
      } else if (f instanceof HTMLSelectElement) {
        for (const x of f.options) if (current ? x.selected : x.defaultSelected) out.push(x.textContent.trim());
      } else out.push(current ? f.value : f.defaultValue);
    }
    return out.join(', ');
  }
  // storedValue is what the server held for field name when form was rendered: its base_
  // input (what a save is compared against) when the form has one, else the rendered value.
  function storedValue(form, name) {
    const b = baseInput(form, name);
    return b ? b.value : valueOf(form, fieldsNamed(form, name), false);
  }
  const yourValue = (form, name) => valueOf(form, fieldsNamed(form, name), true);
  function fieldLabel(form, name) {
    const f = fieldsNamed(form, name)[0];
    if (!f) return name;
    const legend = (f.type === 'checkbox' || f.type === 'radio') && f.closest('fieldset') && f.closest('fieldset').querySelector('legend');
    return legend ? ownText(legend) : labelFor(form, f);
  }
  // Names of the fields of form that an operator fills in (not hidden, not buttons).
  const namesOf = (form) => [...new Set(fieldsOf(form)
    .filter((f) => f.name && !['hidden', 'submit', 'button', 'reset', 'image'].includes(f.type)).map((f) => f.name))];
  const editedNames = (form) => [...new Set(fieldsOf(form).filter(fieldDirty).map((f) => f.name).filter(Boolean))];
  // matchForm finds form's counterpart in next: by id, else by position.
  function matchForm(next, el, form) {
    if (form.id) return next.querySelector(`form#${CSS.escape(form.id)}`);
    return formsIn(next)[formsIn(el).indexOf(form)] || null;
  }
  // changedFields lists the fields of el's forms whose stored value differs in next.
  function changedFields(el, next) {
    const out = [];
    for (const f of formsIn(el)) {
      const nf = matchForm(next, el, f);
      if (!nf) continue;
      for (const name of namesOf(f)) {
        if (storedValue(f, name) !== storedValue(nf, name)) out.push({ name, label: fieldLabel(f, name) });
      }
    }
    return out;
  }
  function resetField(f) {
    if (f instanceof HTMLInputElement && (f.type === 'checkbox' || f.type === 'radio')) f.checked = f.defaultChecked;
    else if (f instanceof HTMLSelectElement) for (const x of f.options) x.selected = x.defaultSelected;
    else if (f.type !== 'file') f.value = f.defaultValue;
  }

  // ---------- conflict banner ----------
  // The banner sits just before its fragment (a morph of the fragment never removes it) and
  // sticks to the top of the viewport, so it is in sight wherever the operator is.
  const banners = new WeakMap(); // fragment element -> its banner
  const collided = new WeakMap(); // fragment element -> the colliding field names

  function when(iso) {
    const t = new Date(iso);
    if (!iso || isNaN(t)) return '';
    const s = Math.round((t - Date.now()) / 1000), a = Math.abs(s);
    const rtf = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' });
    const rel = a < 60 ? rtf.format(s, 'second') : a < 3600 ? rtf.format(Math.round(s / 60), 'minute')
      : a < 86400 ? rtf.format(Math.round(s / 3600), 'hour') : rtf.format(Math.round(s / 86400), 'day');
    return `${rel} (${t.toLocaleTimeString()})`;
  }

  function button(text, cls, testid, onClick) {
    const b = document.createElement('button');
    b.type = 'button'; b.className = cls; b.textContent = text; b.dataset.testid = testid;
    b.addEventListener('click', onClick);
    return b;
  }
  const node = (tag, text, attrs = {}) => {
    const n = document.createElement(tag);
    if (text) n.textContent = text; // textContent only: values and names are user data
    for (const [k, v] of Object.entries(attrs)) n.setAttribute(k, v);
    return n;
  };

  // banner returns el's banner, created empty (before el, focusable, role=alert) if needed,
  // and whether it is new.
  let bannerSeq = 0;
  function bannerFor(el) {
    let b = banners.get(el);
    if (b && b.isConnected) return [b, false];
    b = node('section', '', { class: 'banner banner-warning stack conflict-banner', role: 'alert', tabindex: '-1',
      'data-testid': 'conflict-banner', 'data-for-draft': el.dataset.draftId, 'aria-labelledby': `conflict-title-${++bannerSeq}` });
    b.dataset.titleId = `conflict-title-${bannerSeq}`;
    el.before(b);
    banners.set(el, b);
    return [b, true];
  }
  function clearConflict(el) {
    const b = banners.get(el);
    if (b) b.remove();
    banners.delete(el); collided.delete(el);
  }
  // reveal moves focus to a new or changed banner: role=alert announces it, focus puts the
  // keyboard there (Tab reaches the safe button first), and sticking keeps it in sight.
  function reveal(b) { b.focus({ preventScroll: true }); if (b.getBoundingClientRect().top < 0) b.scrollIntoView({ block: 'nearest' }); }

  // showCollision names the fields someone else saved while the operator edited them: the
  // value before, theirs (the current, saved one) and the operator's own.
  function showCollision(el, next, collisions) {
    const [b, fresh] = bannerFor(el);
    const key = collisions.map((c) => c.name + '\u0000' + c.theirs + '\u0000' + c.mine).join('\u0001');
    collided.set(el, collisions.map((c) => c.name));
    if (!fresh && b.dataset.key === key) return;
    b.dataset.key = key;
    const who = next.dataset.updatedBy || 'Someone else', at = when(next.dataset.updatedAt);
    const labels = collisions.map((c) => c.label).join(', ');
    const head = node('div');
    head.append(node('h2', `${who} saved ${labels} while you were editing it`, { id: b.dataset.titleId }),
      node('p', `${at ? 'Saved ' + at + '. ' : ''}Nothing of yours is saved yet. Use their version to take ` +
        'their value and keep your other edits, or overwrite with yours: saving then replaces theirs.'));
    const table = node('table', '', { class: 'table', 'data-testid': 'conflict-fields' });
    const thead = node('thead'), tr = node('tr');
    for (const h of ['Field', 'Before', `Current (${who})`, 'Yours, not saved']) tr.append(node('th', h, { scope: 'col' }));
    thead.append(tr);
    const tbody = node('tbody');
    for (const c of collisions) {
      const row = node('tr', '', { 'data-field': c.name, 'data-collides': 'true' });
      // data-label names each cell's column where tables stack (phones, docs/ui.md).
      row.append(node('th', c.label, { scope: 'row', 'data-label': 'Field' }),
        node('td', c.was || '—', { 'data-col': 'before', 'data-label': 'Before' }),
        node('td', c.theirs || '—', { 'data-col': 'theirs', 'data-label': `Current (${who})` }),
        node('td', c.mine || '—', { 'data-col': 'mine', 'data-label': 'Yours, not saved' }));
      tbody.append(row);
    }
    table.append(thead, tbody);
    const actions = node('div', '', { class: 'banner-actions' });
    // The safe choice (it overwrites nobody) is first and primary.
    actions.append(button('Use their version', 'btn btn-primary', 'conflict-use-theirs', () => useTheirs(el)),
      button('Overwrite with mine', 'btn btn-ghost', 'conflict-overwrite', () => overwriteWithMine(el)));
    b.replaceChildren(head, table, actions);
    reveal(b);
  }

  // holdWhole is for a form with unsaved input that the newer fragment no longer has (the
  // draft moved on, e.g. cancelled): the whole frame is held so the input stays readable.
  function holdWhole(el, next, source) {
    held.set(el, next);
    const [b, fresh] = bannerFor(el);
    collided.delete(el);
    const who = next.dataset.updatedBy || 'Someone else', at = when(next.dataset.updatedAt);
    b.dataset.key = '';
    const head = node('div');
    head.append(node('h2', `${who} changed this draft${at ? ' ' + at : ''} (version ${next.dataset.version})`, { id: b.dataset.titleId }),
      node('p', 'The form you were editing is no longer offered, so your unsaved input cannot be saved. ' +
        'Copy what you need, then use their version.'));
    const actions = node('div', '', { class: 'banner-actions' });
    actions.append(button('Use their version', 'btn btn-primary', 'conflict-use-theirs', () => useTheirs(el)));
    b.replaceChildren(head, actions);
    if (fresh) reveal(b);
    emit('live:conflict', detailOf(next, source));
    return 'conflict';
  }

  // Use their version: the fields that collided take the saved value; every other edit is
  // kept and the forms move to the new version. With a whole frame held, all input goes.
  function useTheirs(el) {
    const next = held.get(el), names = collided.get(el);
    clearConflict(el);
    if (!next) return;
    if (!names) { morph(el, next, { keepDirty: false, source: 'theirs' }); return; }
    for (const f of formsIn(el)) for (const n of names) fieldsNamed(f, n).forEach(resetField);
    morph(el, next, { keepDirty: true, source: 'theirs' });
    focusField(el, names);
  }
  // Overwrite with mine: the forms move to the new version and keep every edited field, so
  // the next save writes the operator's value over theirs (the banner named them first).
  function overwriteWithMine(el) {
    const next = held.get(el), names = collided.get(el) || [];
    clearConflict(el);
    // What the operator has in those fields, as a whole (a checkbox left as rendered is
    // part of the choice too): restored after the morph, where it is then edited input.
    const mine = formsIn(el).map((f) => names.map((n) => fieldsNamed(f, n).map(stateOf)));
    if (next) morph(el, next, { keepDirty: true, source: 'mine' });
    formsIn(el).forEach((f, i) => names.forEach((n, j) => fieldsNamed(f, n).forEach((x, k) => {
      const st = mine[i] && mine[i][j] && mine[i][j][k];
      if (st) restoreState(x, st);
    })));
    focusField(el, names);
  }
  const stateOf = (f) => ({ checked: f.checked, value: f.value,
    selected: f instanceof HTMLSelectElement ? Array.from(f.options, (x) => x.selected) : null });
  function restoreState(f, st) {
    if (f instanceof HTMLInputElement && (f.type === 'checkbox' || f.type === 'radio')) f.checked = st.checked;
    else if (f instanceof HTMLSelectElement) Array.from(f.options).forEach((x, i) => { x.selected = !!(st.selected && st.selected[i]); });
    else if (f.type !== 'file') f.value = st.value;
  }
  function focusField(el, names) {
    const f = formsIn(el).flatMap((x) => names.flatMap((n) => fieldsNamed(x, n)))[0];
    if (f) f.focus();
  }

  // ---------- "operator@acme.test replaced your Display name" ----------
  // A tab remembers, per draft (sessionStorage, this tab only), the fields its operator
  // saved and their values. When a later change by someone else replaces one, the tab says
  // so by name and field, read from the draft's audit trail (GET …/changes?since=).
  const savedKey = (id) => 'live.saved.' + id, pendingKey = (id) => 'live.saving.' + id;
  function readStore(key) { try { return JSON.parse(sessionStorage.getItem(key) || '{}') || {}; } catch { return {}; } }
  function writeStore(key, m) {
    try { if (Object.keys(m).length) sessionStorage.setItem(key, JSON.stringify(m)); else sessionStorage.removeItem(key); } catch { /* storage off */ }
  }
  // rememberSubmit notes the fields a submit writes (value differs from its base, or from
  // what was rendered); start() keeps them once the next page says the save succeeded.
  function rememberSubmit(form, id) {
    const m = {};
    for (const name of namesOf(form)) {
      const b = baseInput(form, name);
      const edited = b ? yourValue(form, name) !== b.value : fieldsNamed(form, name).some(fieldDirty);
      if (edited && !fieldsNamed(form, name).some((f) => f.type === 'password')) m[name] = { label: fieldLabel(form, name), value: yourValue(form, name) };
    }
    writeStore(pendingKey(id), m);
  }
  function confirmSubmits() {
    const ok = !!document.querySelector('.toasts [data-toast].tone-success');
    for (const el of document.querySelectorAll('[data-live][data-draft-id]')) {
      const id = el.dataset.draftId, pending = readStore(pendingKey(id));
      if (ok && Object.keys(pending).length) writeStore(savedKey(id), Object.assign(readStore(savedKey(id)), pending));
      writeStore(pendingKey(id), {});
    }
  }
  // checkReplaced resolves to whether it told the operator that someone replaced a value
  // they saved, among the changes made after version since.
  async function checkReplaced(el, since) {
    const id = el.dataset.draftId, mine = readStore(savedKey(id)), url = el.dataset.changesUrl;
    if (!url || !Object.keys(mine).length) return false;
    const me = (document.querySelector('[data-testid="user-email"]') || {}).textContent || '';
    let html;
    try {
      const res = await fetch(`${url}?since=${since}`, { credentials: 'same-origin', headers: { Accept: 'text/html' }, cache: 'no-store' });
      if (!res.ok) return false;
      html = await res.text();
    } catch { return false; }
    const tpl = document.createElement('template');
    tpl.innerHTML = html;
    let told = false;
    for (const row of tpl.content.querySelectorAll('tr[data-field]')) {
      const saved = mine[row.dataset.field], by = row.cells[1] ? row.cells[1].textContent.trim() : '';
      if (!saved || !by || by === '—' || by === me.trim()) continue;
      toast(`${by} replaced your ${saved.label}`, 'warning', 3 * opts.toastMs);
      delete mine[row.dataset.field];
      told = true;
    }
    writeStore(savedKey(id), mine);
    return told;
  }

  // ---------- toasts and banners ----------
  function toastRegion() {
    let r = document.querySelector('.toasts');
    if (!r) {
      r = document.createElement('div');
      r.className = 'toasts'; r.setAttribute('role', 'status'); r.setAttribute('aria-live', 'polite');
      document.body.append(r);
    }
    return r;
  }
  function dismissLater(t) {
    if (t.dataset.toast !== 'sticky') setTimeout(() => t.remove(), opts.toastMs);
  }
  function toast(text, tone = 'info', ms = opts.toastMs) {
    const t = document.createElement('div');
    t.className = `toast tone-${tone}`; t.dataset.toast = ''; t.textContent = text;
    toastRegion().append(t);
    setTimeout(() => t.remove(), ms);
  }
  // notice shows why live updates stopped for good (NOTICES), once per reason.
  function notice(reason) {
    const n = NOTICES[reason];
    if (!n || document.querySelector(`[data-testid="${n.testid}"][data-reason="${reason}"]`)) return;
    const b = document.createElement('div');
    b.className = 'banner banner-danger'; b.dataset.testid = n.testid; b.dataset.reason = reason;
    b.setAttribute('role', 'alert');
    const p = document.createElement('p'); p.textContent = n.text;
    const a = document.createElement('a');
    if (n.signIn) {
      a.href = `${opts.loginUrl}?next=${encodeURIComponent(location.pathname + location.search)}`;
      a.textContent = 'Sign in';
    } else {
      a.href = location.href;
      a.textContent = 'Reload';
    }
    p.append(a); b.append(p);
    (document.querySelector('.content') || document.body).prepend(b);
  }

  // ---------- connection state ----------
  function setState(next) {
    if (next === state) return;
    const previous = state;
    state = next;
    for (const el of document.querySelectorAll('[data-live-status]')) {
      el.dataset.state = next;
      el.setAttribute('aria-live', 'polite');
      el.textContent = next === 'reconnecting' && !everOpen ? 'Connecting…'
        : next === 'offline' && NOTICES[finalReason] ? NOTICES[finalReason].status : STATE_TEXT[next];
    }
    emit('live:state', { state: next, previous });
  }
  const socketOpen = () => ws && ws.readyState === WebSocket.OPEN;
  // Polling covers every live fragment on the page, whatever its state.
  const pollable = () => shownPairs();
  function refreshState() {
    if (socketOpen()) setState('live');
    else if (final) setState('offline');
    else if (pollTimer && pollable().length && document.visibilityState === 'visible') setState('polling');
    else setState('reconnecting');
  }

  // ---------- WebSocket ----------
  // liveQuery is /live's query (and /live/poll's): every (draft, view) shown, with its rev.
  function liveQuery(pairs) {
    const q = new URLSearchParams();
    for (const p of pairs) { q.append('draft', p.id); q.append('rev', String(p.rev)); q.append('view', p.view); }
    return q;
  }

  function connect() {
    clearTimeout(reconnectTimer); reconnectTimer = 0;
    if (final || unloading) return;
    const pairs = shownPairs();
    connectedKeys = pairsKey(pairs);
    if (!pairs.length) { stopPolling(); return; }
    const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
    // Presence (static/js/presence.js, docs/live.md): presence=1 makes the socket carry it
    // both ways; its frames are JSON objects, fragments are HTML.
    const pres = window.livePresence && window.livePresence.wanted() ? window.livePresence : null;
    const path = `${opts.path}?delta=1${pres ? '&presence=1' : ''}&${liveQuery(pairs)}`;
    const sock = new WebSocket(`${scheme}//${location.host}${path}`);
    let opened = false;
    ws = sock;
    sock.onopen = () => {
      opened = true; openedAt = Date.now(); everOpen = true; stopPolling(); refreshState();
      if (pres) pres.opened((m) => { if (ws === sock && sock.readyState === WebSocket.OPEN) sock.send(m); });
    };
    sock.onmessage = (e) => {
      if (typeof e.data !== 'string') return;
      if (e.data.charCodeAt(0) === 123) { if (pres) pres.frame(e.data); return; } // '{': presence
      applyFrame(e.data, 'push');
    };
    sock.onclose = (e) => { if (ws === sock) { ws = null; closed(e.code, opened ? '' : path); } };
    refreshState();
  }

  function detach() {
    if (!ws) return;
    const s = ws; ws = null;
    s.onopen = s.onmessage = s.onclose = null;
    try { s.close(1000); } catch { /* already closing */ }
  }

  // closed handles the end of a socket. refusedPath is the socket's URL when the handshake
  // itself failed (it never opened): a browser hides the HTTP status, so a plain GET of the
  // same URL asks for it, and a 400 or 401 is as final as a refusing close code.
  function closed(code, refusedPath) {
    // Only a connection that stayed up resets the backoff: a server that accepts and
    // immediately closes (1013) must not make us hammer it every 0.5 s.
    if (openedAt && Date.now() - openedAt > 5000) attempt = 0;
    openedAt = 0;
    if (unloading) { stopPolling(); return; }
    if (REFUSALS.has(code)) return refuse(REFUSALS.get(code));
    startPolling();
    if (refusedPath && code === 1006) {
      probing = true;
      refreshState();
      probe(refusedPath).then((reason) => {
        probing = false;
        if (unloading) return;
        if (reason) refuse(reason); else retry(code);
      });
      return;
    }
    retry(code);
  }

  async function probe(path) {
    try {
      const res = await fetch(path, { credentials: 'same-origin', cache: 'no-store',
        signal: AbortSignal.timeout ? AbortSignal.timeout(10000) : undefined });
      return PROBE_REFUSALS.get(res.status) || '';
    } catch { return ''; } // network down: transient
  }

  // refuse stops for good and says why.
  function refuse(reason) {
    final = true;
    finalReason = reason;
    clearTimeout(reconnectTimer); reconnectTimer = 0;
    stopPolling();
    notice(reason);
    emit('live:refused', { reason });
    refreshState();
  }

  // backoffCap is the longest wait before reconnect attempt n (0-based).
  const backoffCap = (n) => Math.min(opts.backoffMaxMs, opts.backoffMinMs * 2 ** n);

  // retry reconnects after a full-jitter wait: uniform in [0, backoffCap(attempt)].
  function retry(code) {
    if (final) return;
    const cap = backoffCap(attempt);
    const delay = Math.random() * cap;
    emit('live:retry', { attempt: attempt++, code, capMs: cap, delayMs: delay });
    clearTimeout(reconnectTimer);
    reconnectTimer = setTimeout(connect, delay);
    refreshState();
  }

  // ---------- poll fallback ----------
  function startPolling() {
    if (!pollTimer && !final) pollTimer = setInterval(pollOnce, opts.pollMs);
  }
  function stopPolling() { clearInterval(pollTimer); pollTimer = 0; }

  let polling = false; // a poll round is in flight: never overlap rounds
  async function pollOnce() {
    refreshState();
    if (socketOpen() || final) { stopPolling(); return refreshState(); }
    if (document.visibilityState !== 'visible' || polling) return;
    polling = true;
    try { await pollRound(); } finally { polling = false; }
  }
  // pollRound asks once for everything the page shows: GET /live/poll with the socket's
  // query (the revs shown are the condition). 304: nothing newer. 200: one frame of every
  // newer fragment. A refusal is as final as the socket's (docs/ui.md, Poll fallback).
  async function pollRound() {
    const pairs = pollable();
    if (!pairs.length) return;
    let res;
    try {
      // A hung request must not stall polling: give up after a while (timeout → catch).
      const signal = AbortSignal.timeout ? AbortSignal.timeout(Math.max(2 * opts.pollMs, 10000)) : undefined;
      res = await fetch(`${opts.pollPath}?${liveQuery(pairs)}`, { credentials: 'same-origin',
        headers: { Accept: 'text/html' }, cache: 'no-store', signal });
    } catch { return; } // network down or timed out: try again next tick
    emit('live:poll', { status: res.status });
    const refusal = POLL_REFUSALS.get(res.status);
    if (refusal) { refuse(refusal); return; }
    if (res.status !== 200) return; // 304 (nothing newer) and transient errors
    const body = await res.text();
    if (!socketOpen()) applyFrame(body, 'poll'); // a reopened socket is authoritative
  }

  // ---------- forms: confirmations and own submissions ----------
  // A form with data-confirm asks first, in a dialog: data-confirm-title (the question),
  // data-confirm (the consequence), data-confirm-ok / data-confirm-cancel (explicit button
  // words; default Confirm / Cancel), data-confirm-tone="danger". Focus starts on the safe
  // button. data-confirm-field names a textarea of the form that the dialog asks for itself
  // (e.g. the override reason): blank or whitespace is refused inside the dialog, and the
  // value is copied into the form before it is submitted.
  const confirmed = new WeakSet();
  let dialog = null;
  let settle = null; // resolver of the confirmation being asked
  const finish = (yes) => { const s = settle; settle = null; if (s) s(yes); };
  function buildDialog() {
    dialog = document.createElement('dialog');
    dialog.className = 'confirm-dialog';
    dialog.setAttribute('aria-labelledby', 'confirm-dialog-title');
    dialog.innerHTML = '<form method="dialog" class="stack"><h2 id="confirm-dialog-title" class="dialog-title"></h2>' +
      '<p class="dialog-body"></p><div class="field dialog-field" hidden><label for="confirm-dialog-input"></label>' +
      '<textarea id="confirm-dialog-input" rows="3" aria-describedby="confirm-dialog-error"></textarea>' +
      '<p class="field-error" id="confirm-dialog-error" hidden></p></div><div class="dialog-actions">' +
      '<button class="btn btn-ghost" value="cancel"></button>' +
      '<button class="btn" value="ok"></button></div></form>';
    // Answer from the button's submit (synchronous with the click), not from the
    // 'close' event: that one is queued and can arrive after the next showModal().
    dialog.firstElementChild.addEventListener('submit', (e) => {
      const yes = !!e.submitter && e.submitter.value === 'ok';
      const field = dialog.querySelector('.dialog-field');
      if (yes && !field.hidden) {
        const input = field.querySelector('textarea'), err = field.querySelector('.field-error');
        if (!input.value.trim()) {
          e.preventDefault();
          err.hidden = false;
          err.textContent = `${field.querySelector('label').textContent} must not be blank.`;
          input.setAttribute('aria-invalid', 'true');
          input.focus();
          return;
        }
      }
      finish(yes);
    });
    dialog.addEventListener('cancel', () => finish(false)); // Escape
    dialog.addEventListener('close', () => { if (!dialog.open) finish(false); });
    document.body.append(dialog);
  }
  // askConfirm shows the dialog for form and resolves to the answer: false, or true (with
  // the asked field's value copied into the form).
  function askConfirm(form, danger) {
    const ds = form.dataset;
    const target = ds.confirmField ? form.querySelector(`[name="${CSS.escape(ds.confirmField)}"]`) : null;
    if (typeof HTMLDialogElement !== 'function') {
      return Promise.resolve(window.confirm([ds.confirmTitle, ds.confirm].filter(Boolean).join('\n\n')));
    }
    if (!dialog) buildDialog();
    finish(false); // never leave an earlier question hanging
    dialog.querySelector('.dialog-title').textContent = ds.confirmTitle || 'Are you sure?';
    dialog.querySelector('.dialog-body').textContent = ds.confirm;
    const field = dialog.querySelector('.dialog-field'), input = field.querySelector('textarea');
    const err = field.querySelector('.field-error');
    field.hidden = !target;
    err.hidden = true; input.removeAttribute('aria-invalid');
    if (target) {
      const label = form.querySelector(`label[for="${CSS.escape(target.id)}"]`);
      field.querySelector('label').textContent = label ? label.textContent : target.name;
      input.value = target.value;
    }
    const ok = dialog.querySelector('button[value="ok"]'), no = dialog.querySelector('button[value="cancel"]');
    ok.textContent = ds.confirmOk || 'Confirm';
    no.textContent = ds.confirmCancel || 'Cancel';
    ok.className = danger ? 'btn btn-danger' : 'btn btn-primary';
    return new Promise((resolve) => {
      settle = (yes) => {
        if (yes && target) target.value = input.value.trim();
        resolve(yes);
      };
      dialog.showModal();
      (target ? input : no).focus(); // the safe choice, or the question asked
    });
  }

  // A form whose dialog asks for a field itself validates that field there, so the browser's
  // own check (which would stop the submit before the dialog opens) is skipped for it.
  document.addEventListener('click', (e) => {
    const b = e.target instanceof Element && e.target.closest('button[type="submit"], button:not([type])');
    if (b && b.form && b.form.dataset.confirmField) b.form.noValidate = true;
  }, true);

  document.addEventListener('submit', (e) => {
    const form = e.target;
    if (!(form instanceof HTMLFormElement) || form.method === 'dialog') return;
    if (form.dataset.confirm && !confirmed.has(form)) {
      e.preventDefault();
      const submitter = e.submitter;
      const danger = form.dataset.confirmTone === 'danger' || !!(submitter && submitter.classList.contains('btn-danger'));
      askConfirm(form, danger).then((yes) => {
        if (!yes) return;
        confirmed.add(form);
        form.requestSubmit(submitter || undefined);
        confirmed.delete(form);
      });
      return;
    }
    if (e.defaultPrevented) return;
    // Our own submission: the frame it causes must not raise a conflict banner. The page
    // navigates on submit, so the mark lasts until unload.
    const host = form.closest('[data-live]');
    if (host) { submitting.add(host.dataset.draftId); rememberSubmit(form, host.dataset.draftId); }
  });

  // ---------- lifecycle ----------
  // Fragments added or removed (e.g. a list re-rendered) change what we subscribe to.
  const observer = new MutationObserver(() => {
    clearTimeout(rescanTimer);
    rescanTimer = setTimeout(() => {
      if (pairsKey(shownPairs()) === connectedKeys) return;
      detach(); attempt = 0; connect(); // no-op after a final close
    }, 50);
  });

  function start() {
    // The page's own address (e.g. the wizard at its step after a refused POST), so a
    // refresh is a GET of what is shown.
    const pu = document.querySelector('[data-page-url]');
    if (pu && pu.dataset.pageUrl !== location.pathname + location.search && window.history.replaceState) {
      history.replaceState(history.state, '', pu.dataset.pageUrl);
    }
    for (const t of document.querySelectorAll('.toasts [data-toast]')) dismissLater(t);
    confirmSubmits();
    // After a refused submit, focus the first invalid field; else the page's autofocus.
    // After a completed action (the page carries its toast), focus the page's heading, so a
    // keyboard or screen-reader user starts on the new page, not on <body>.
    const af = document.querySelector('[aria-invalid="true"]') || document.querySelector('[data-autofocus]') ||
      (document.querySelector('.toasts [data-toast]') && document.querySelector('.page-title'));
    if (af) af.focus();
    observer.observe(document.body, { childList: true, subtree: true });
    connect();
  }

  window.addEventListener('pagehide', () => { unloading = true; detach(); stopPolling(); });
  window.addEventListener('pageshow', (e) => {
    if (e.persisted) { unloading = false; submitting.clear(); connect(); } // back/forward cache
  });
  window.addEventListener('online', () => { if (reconnectTimer) connect(); });
  document.addEventListener('visibilitychange', refreshState);

  window.liveConsole = {
    state: () => state,
    // Shows a toast element built by another script (topics.js) in the page's toast region,
    // removed after ms.
    showToast: (t, ms = opts.toastMs) => { toastRegion().append(t); setTimeout(() => t.remove(), ms); },
    shownRev: (draftId, view) => {
      const el = document.querySelector(sel(draftId, view));
      return el ? el.dataset.rev : null;
    },
    applyFragment: (html) => applyFragment(html, 'api'),
    applyFrame: (html) => applyFrame(html, 'api'),
    // Closes the socket as a network drop would (code 3000 → reconnect path).
    forceClose: (code = 3000) => { if (ws) ws.close(code, 'forced'); },
    // Whether a reconnect, a poll or a handshake probe is still scheduled or running.
    retryPending: () => !!reconnectTimer || !!pollTimer || probing,
    backoffCap,
  };

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start, { once: true });
  else start();
})();
