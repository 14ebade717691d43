// nav.js: filter forms that apply on change, a list's "select all" checkbox and its bulk
// action's count, the copy button of an invitation link, the "/" shortcut to the search
// field, and on narrow screens the sidebar as a drawer. The menu button opens and closes it;
// Escape, a click outside it, or following one of its links closes it. Plain ES2020.
(() => {
  'use strict';
  // Filter forms marked data-autosubmit apply as soon as a choice changes; their submit
  // button is only for pages without script.
  for (const form of document.querySelectorAll('form[data-autosubmit]')) {
    form.classList.add('is-autosubmit');
    form.addEventListener('change', () => form.requestSubmit());
  }
  // A button data-copy="ID" copies the value of input ID (an invitation link); the input
  // selects its whole value when focused, for copying by hand.
  for (const button of document.querySelectorAll('button[data-copy]')) {
    const input = document.getElementById(button.dataset.copy);
    if (!input) continue;
    const label = button.textContent;
    button.addEventListener('click', async () => {
      input.select();
      try {
        await navigator.clipboard.writeText(input.value);
        button.textContent = 'Copied';
      } catch {
        button.textContent = 'Press Ctrl+C to copy';
      }
      setTimeout(() => { button.textContent = label; }, 2000);
    });
  }
  for (const input of document.querySelectorAll('input[data-select-on-focus]')) {
    input.addEventListener('focus', () => input.select());
  }
  // A list's rows carry checkboxes data-select="<kind>" tied to a bulk form by their form
  // attribute; data-select-all="<kind>" checks or clears the page's, and the form says how
  // many are chosen (its submit waits for one). Live row updates keep a checked box checked.
  const bulk = document.getElementById('bulk-cancel');
  const boxes = () => Array.from(document.querySelectorAll('input[data-select="draft"]'));
  function counted() {
    const all = boxes(), n = all.filter((b) => b.checked).length;
    const head = document.querySelector('[data-select-all="draft"]');
    if (head) { head.checked = n > 0 && n === all.length; head.indeterminate = n > 0 && n < all.length; }
    if (!bulk) return;
    const label = bulk.querySelector('[data-bulk-count]'), submit = bulk.querySelector('[data-bulk-submit]');
    if (label) label.textContent = n === 0 ? 'Select drafts to cancel several at once.' : `${n} selected`;
    if (submit) submit.disabled = n === 0;
  }
  document.addEventListener('change', (e) => {
    const t = e.target;
    if (!(t instanceof HTMLInputElement)) return;
    if (t.matches('[data-select-all="draft"]')) for (const b of boxes()) b.checked = t.checked;
    if (t.matches('[data-select-all], [data-select]')) counted();
  });
  if (bulk) counted();

  // "/" focuses the top bar's search field, unless the reader is typing somewhere.
  const search = document.querySelector('[data-global-search]');
  if (search) {
    document.addEventListener('keydown', (e) => {
      if (e.key !== '/' || e.ctrlKey || e.metaKey || e.altKey || e.isComposing || e.defaultPrevented) return;
      const t = e.target;
      if (t instanceof Element && t.closest('input, textarea, select, [contenteditable]:not([contenteditable="false"])')) return;
      e.preventDefault();
      search.focus();
      search.select();
    });
  }
  const toggle = document.querySelector('[data-testid="nav-toggle"]');
  const shell = document.querySelector('.shell');
  if (!toggle || !shell) return;
  const sidebar = document.getElementById(toggle.getAttribute('aria-controls'));
  function set(open) {
    shell.classList.toggle('nav-open', open);
    toggle.setAttribute('aria-expanded', String(open));
    if (open && sidebar) {
      const first = sidebar.querySelector('a');
      if (first) first.focus();
    }
  }
  toggle.addEventListener('click', () => set(!shell.classList.contains('nav-open')));
  document.addEventListener('keydown', (e) => {
    if (e.key === 'Escape' && shell.classList.contains('nav-open')) { set(false); toggle.focus(); }
  });
  document.addEventListener('click', (e) => {
    if (!shell.classList.contains('nav-open') || toggle.contains(e.target)) return;
    if (sidebar && (!sidebar.contains(e.target) || e.target.closest('a'))) set(false);
  });
})();
