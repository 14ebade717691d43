package main

import (
	"fmt"
	"io"
	"net/http"
	"regexp"
	"slices"
	"testing"
)

// metricSeries returns the label sets of the HTTP request histogram on the metrics endpoint.
func metricSeries(t *testing.T, metrics string) (series []string, size int) {
	t.Helper()
	resp, err := http.Get(metrics)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	for _, m := range regexp.MustCompile(`(?m)^onboard_http_request_duration_seconds_count(\{[^}]*\})`).FindAllSubmatch(body, -1) {
		series = append(series, string(m[1]))
	}
	slices.Sort(series)
	return series, len(body)
}

// TestMetricsCardinality: made-up methods and raw paths never grow /metrics; every label value
// is bounded (known method or "other", route pattern, "unmatched").
func TestMetricsCardinality(t *testing.T) {
	t.Parallel()
	base, metrics := startAppMetrics(t, nil)
	paths := func(i int) []string {
		return []string{
			fmt.Sprintf("/nowhere-%d", i),
			fmt.Sprintf("/static/missing-%d.js", i),
			fmt.Sprintf("/admin/workspaces/ws%d/onboarding", i),
			fmt.Sprintf("/api/v1/workspaces/ws%d/onboarding/drafts/%d", i, i),
			fmt.Sprintf("/admin/workspaces/ws%d/nowhere/%d", i, i),
		}
	}
	send := func(method, path string) {
		req, err := http.NewRequest(method, base+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	// Every label set the loop below can produce exists once warmed up.
	for _, p := range paths(0) {
		send("WARMUP", p)
		send(http.MethodGet, p)
	}
	before, sizeBefore := metricSeries(t, metrics)
	for i := range 300 {
		p := paths(i + 1)
		send(fmt.Sprintf("MADEUP%d", i), p[i%len(p)])
	}
	after, sizeAfter := metricSeries(t, metrics)
	if !slices.Equal(before, after) {
		t.Errorf("request histogram series grew from %d to %d:\nbefore %q\nafter  %q", len(before), len(after), before, after)
	}
	for _, s := range after {
		if regexp.MustCompile(`MADEUP|WARMUP|nowhere-|missing-|ws[0-9]`).MatchString(s) {
			t.Errorf("unbounded label value in %s", s)
		}
	}
	t.Logf("/metrics %d → %d bytes, %d series", sizeBefore, sizeAfter, len(after))
}
