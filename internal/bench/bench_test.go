package bench

import (
	"testing"
	"time"
)

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	ok := Config{Mode: "live", Serve: true, Clients: 10, Drafts: 2, Rate: 5, Duration: time.Second}
	for _, tc := range []struct {
		name  string
		edit  func(*Config)
		valid bool
	}{
		{"OK", func(*Config) {}, true},
		{"Raw needs no server", func(c *Config) { c.Mode, c.Serve = "raw", false }, true},
		{"UnknownMode", func(c *Config) { c.Mode = "sse" }, false},
		{"NoRate", func(c *Config) { c.Rate = 0 }, false},
		{"MoreDraftsThanClients", func(c *Config) { c.Drafts = 11 }, false},
		{"ServeAndURL", func(c *Config) { c.URL = "http://127.0.0.1:8080" }, false},
		{"NeitherServeNorURL", func(c *Config) { c.Serve = false }, false},
		{"RawTooManyClients", func(c *Config) { c.Mode, c.Clients = "raw", 9001 }, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := ok
			tc.edit(&c)
			if err := c.Validate(); (err == nil) != tc.valid {
				t.Errorf("Validate() = %v; want valid %v", err, tc.valid)
			}
		})
	}
}

func TestLatencySummary(t *testing.T) {
	t.Parallel()
	var l latencies
	if got := l.summary(); got["p50"] != 0 || got["max"] != 0 {
		t.Errorf("empty summary = %v; want zeros", got)
	}
	for i := 100; i >= 1; i-- {
		l.add(time.Duration(i) * time.Millisecond)
	}
	got := l.summary()
	want := map[string]float64{"p50": 50, "p90": 90, "p99": 99, "max": 100}
	for k, w := range want {
		if got[k] != w {
			t.Errorf("%s = %v; want %v", k, got[k], w)
		}
	}
}
