// Package static holds the browser assets of the onboarding console: the
// stylesheet (css/app.css), our live-update glue (js/live.js) and vendored
// third-party scripts (vendor/, currently idiomorph; see vendor/VERSIONS and
// scripts/vendor-static.sh). Everything is embedded so the binary serves its
// own assets and builds without the network. Serve with
// http.FileServerFS(static.FS) under a prefix such as /static/.
// The class vocabulary and the live fragment protocol are documented in docs/ui.md.
package static

import "embed"

// FS contains css/, js/ and vendor/ with paths relative to this directory,
// e.g. "js/live.js" and "vendor/idiomorph.min.js".
//
//go:embed css js vendor img
var FS embed.FS
