// theme.js: the light / dark / system theme, remembered per browser (localStorage "theme").
// Loaded in <head> without defer, so the chosen theme is on <html data-theme> before the first
// paint (no flash of the other palette); "system" removes it and the CSS follows
// prefers-color-scheme. It then wires the theme control of the sidebar ([data-theme-select])
// and follows a choice made in another tab. Plain ES2020.
(() => {
  'use strict';
  const key = 'theme';
  const themes = ['light', 'dark'];
  function stored() {
    try {
      const v = localStorage.getItem(key);
      return themes.includes(v) ? v : 'system';
    } catch (e) {
      return 'system'; // storage disabled: follow the system
    }
  }
  function apply(theme) {
    if (themes.includes(theme)) document.documentElement.dataset.theme = theme;
    else delete document.documentElement.dataset.theme;
    for (const s of document.querySelectorAll('[data-theme-select]')) s.value = theme;
  }
  apply(stored());
  document.addEventListener('DOMContentLoaded', () => {
    apply(stored());
    for (const s of document.querySelectorAll('[data-theme-select]')) {
      s.addEventListener('change', () => {
        try {
          if (themes.includes(s.value)) localStorage.setItem(key, s.value);
          else localStorage.removeItem(key);
        } catch (e) { /* not remembered; still applied to this page */ }
        apply(s.value);
      });
    }
  });
  window.addEventListener('storage', (e) => { if (e.key === key || e.key === null) apply(stored()); });
})();
