package web

import (
	"encoding/csv"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// writeCSV answers with an attachment "<name>-<workspace>-<time>.csv": header, then rows,
// RFC 4180 (CRLF line ends, quoted where needed), every cell neutralised as a formula
// (csvSafe). The drafts, operations and audit exports all write through it.
func writeCSV(w http.ResponseWriter, name, workspace string, header []string, rows [][]string) {
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="%s-%s-%s.csv"`, name, workspace, time.Now().UTC().Format("20060102-150405")))
	w.Header().Set("Cache-Control", "no-store")
	cw := csv.NewWriter(w)
	cw.UseCRLF = true
	_ = cw.Write(header)
	cells := make([]string, len(header))
	for i, row := range rows {
		for j := range cells {
			cells[j] = ""
			if j < len(row) {
				cells[j] = csvSafe(row[j])
			}
		}
		_ = cw.Write(cells)
		if i%500 == 499 {
			cw.Flush() // stream: the rows leave as they are written
		}
	}
	cw.Flush()
}

// csvSafe keeps a spreadsheet from reading a cell as a formula: a cell that starts with
// = + - @, a tab or a carriage return gets a leading apostrophe.
func csvSafe(s string) string {
	if s != "" && strings.ContainsAny(s[:1], "=+-@\t\r") {
		return "'" + s
	}
	return s
}
