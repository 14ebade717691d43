package web

import (
	"encoding/csv"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestWriteCSV: RFC 4180 quoting (commas, quotes, line breaks), CRLF line ends, and every
// cell that a spreadsheet would read as a formula (= + - @ tab CR first) neutralised.
func TestWriteCSV(t *testing.T) {
	t.Parallel()
	rec := httptest.NewRecorder()
	cells := []string{`=HYPERLINK("http://x")`, "+1", "-1", "@SUM(A1)", "\tTab", "\rCR", `a, "b"`, "line\nbreak", "plain"}
	writeCSV(rec, "drafts", "acme", []string{"cell"}, func() [][]string {
		var rows [][]string
		for _, c := range cells {
			rows = append(rows, []string{c})
		}
		return rows
	}())
	if ct := rec.Header().Get("Content-Type"); ct != "text/csv; charset=utf-8" {
		t.Errorf("Content-Type = %q", ct)
	}
	if cd := rec.Header().Get("Content-Disposition"); !strings.HasPrefix(cd, `attachment; filename="drafts-acme-`) {
		t.Errorf("Content-Disposition = %q", cd)
	}
	body := rec.Body.String()
	if !strings.HasPrefix(body, "cell\r\n") || !strings.Contains(body, `"a, ""b"""`) {
		t.Errorf("not RFC 4180: %q", body)
	}
	got, err := csv.NewReader(strings.NewReader(body)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	want := []string{`'=HYPERLINK("http://x")`, "'+1", "'-1", "'@SUM(A1)", "'\tTab", "'\rCR", `a, "b"`, "line\nbreak", "plain"}
	for i, w := range want {
		// encoding/csv drops a quoted lone \r when reading.
		if g := got[i+1][0]; g != w && !(w == "'\rCR" && g == "'CR") {
			t.Errorf("cell %d = %q, want %q", i, g, w)
		}
	}
}
