// nav.js: filter forms that apply on change, the "/" shortcut to the search field, and on narrow screens the sidebar as a drawer. The menu button opens and closes it;
// Escape, a click outside it, or following one of its links closes it. Plain ES2020.
(() => {
  'use strict';
  // Filter forms marked data-autosubmit apply as soon as a choice changes; their submit
  // button is only for pages without script.
  for (const form of document.querySelectorAll('form[data-autosubmit]')) {
    form.classList.add('is-autosubmit');
    form.addEventListener('change', () => form.requestSubmit());
  }
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
