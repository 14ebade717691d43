package provider

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tenantops/onboard/internal/operation"
)

var operations = []string{"inventory_sync", "policy_sync", "baseline_snapshot"}

// setup returns a simulated provider whose slow scenario takes 200ms in 10 progress steps.
func setup(t *testing.T) *Simulated {
	t.Helper()
	return NewSimulated(Options{SlowDuration: 200 * time.Millisecond, ProgressInterval: 20 * time.Millisecond})
}

func conn(domain string) Connection {
	return Connection{TenantID: "tenant-" + domain, PrimaryDomain: domain, ClientID: "11111111-2222-3333-4444-555555555555", Secret: "x"}
}

func TestScenarioFor(t *testing.T) {
	t.Parallel()
	tests := []struct {
		domain string
		want   Scenario
	}{
		{"contoso.healthy.test", ScenarioHealthy},
		{"contoso.missing-perms.test", ScenarioMissingPerms},
		{"Contoso.SLOW.test.", ScenarioSlow},
		{"a.b.flaky.test", ScenarioFlaky},
		{"contoso.partial.test", ScenarioPartial},
		{"partial.test", ScenarioPartial},
		{"contosopartial.test", ScenarioHealthy},
		{"contoso.com", ScenarioHealthy},
		{"", ScenarioHealthy},
	}
	for _, tt := range tests {
		t.Run(tt.domain, func(t *testing.T) {
			t.Parallel()
			if got := ScenarioFor(tt.domain); got != tt.want {
				t.Errorf("ScenarioFor(%q) = %q, want %q", tt.domain, got, tt.want)
			}
		})
	}
}

func TestVerifyAccess(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		domain     string
		wantPassed bool
		wantReason string
		wantFailed []string // permissions
	}{
		{"Healthy", "contoso.healthy.test", true, "", nil},
		{"MissingPerms", "contoso.missing-perms.test", false, operation.ReasonMissingPermissions,
			[]string{"DeviceManagementConfiguration.ReadWrite.All", "Directory.Read.All"}},
		{"Slow", "contoso.slow.test", true, "", nil},
		{"Partial", "contoso.partial.test", true, "", nil},
		{"Other", "example.com", true, "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r, err := setup(t).VerifyAccess(t.Context(), conn(tt.domain), nil)
			if err != nil {
				t.Fatalf("VerifyAccess: %v", err)
			}
			if len(r.Checks) < 5 {
				t.Errorf("got %d checks, want at least 5", len(r.Checks))
			}
			if got := r.Passed(); got != tt.wantPassed {
				t.Errorf("Passed() = %v, want %v", got, tt.wantPassed)
			}
			if r.ReasonCode != tt.wantReason {
				t.Errorf("ReasonCode = %q, want %q", r.ReasonCode, tt.wantReason)
			}
			var failed []string
			names := map[string]bool{}
			for _, c := range r.Checks {
				if c.Name == "" || c.Title == "" || c.Message == "" || names[c.Name] {
					t.Errorf("check %+v: want unique name, a title and a message", c)
				}
				names[c.Name] = true
				if c.Status != CheckFailed {
					continue
				}
				failed = append(failed, c.Permission)
				if !strings.HasPrefix(c.RemediationURL, "https://learn.microsoft.com/") {
					t.Errorf("failed check %q: RemediationURL = %q, want a learn.microsoft.com link", c.Name, c.RemediationURL)
				}
			}
			if !reflect.DeepEqual(failed, tt.wantFailed) {
				t.Errorf("failed permissions = %q, want %q", failed, tt.wantFailed)
			}
			counts := r.Counts()
			if counts.Total != len(r.Checks) || counts.Failed != len(tt.wantFailed) || counts.Succeeded+counts.Failed+counts.Skipped != counts.Total {
				t.Errorf("Counts() = %+v, want total %d with %d failed", counts, len(r.Checks), len(tt.wantFailed))
			}
		})
	}
}

func TestBootstrap(t *testing.T) {
	t.Parallel()
	for _, domain := range []string{"contoso.healthy.test", "contoso.missing-perms.test", "contoso.slow.test", "contoso.partial.test", "example.com"} {
		for _, op := range operations {
			t.Run(domain+"/"+op, func(t *testing.T) {
				t.Parallel()
				res, err := setup(t).Bootstrap(t.Context(), conn(domain), op, nil)
				if err != nil {
					t.Fatalf("Bootstrap: %v", err)
				}
				if res.Total != len(res.Items) || res.Total < 5 {
					t.Errorf("Total = %d with %d items, want equal and at least 5", res.Total, len(res.Items))
				}
				var want Counts
				want.Total = len(res.Items)
				for _, it := range res.Items {
					switch it.Status {
					case ItemSucceeded:
						want.Succeeded++
					case ItemFailed:
						want.Failed++
					case ItemSkipped:
						want.Skipped++
					default:
						t.Errorf("item %q: status %q", it.Name, it.Status)
					}
				}
				if res.Counts != want {
					t.Errorf("Counts = %+v, want %+v (from items)", res.Counts, want)
				}
				partial := ScenarioFor(domain) == ScenarioPartial
				if got := res.Failed > 0 && res.Succeeded > 0; got != partial {
					t.Errorf("partially succeeded = %v (counts %+v), want %v", got, res.Counts, partial)
				}
				if !partial && res.Failed != 0 {
					t.Errorf("Failed = %d, want 0", res.Failed)
				}
			})
		}
	}
}

func TestBootstrapUnknownOperation(t *testing.T) {
	t.Parallel()
	p := setup(t)
	for _, domain := range []string{"contoso.healthy.test", "contoso.flaky.test"} {
		t.Run(domain, func(t *testing.T) {
			t.Parallel()
			_, err := p.Bootstrap(t.Context(), conn(domain), "defragment", nil)
			if !errors.Is(err, ErrUnknownOperation) || errors.Is(err, ErrTransient) {
				t.Errorf("Bootstrap(defragment) = %v, want ErrUnknownOperation and not ErrTransient", err)
			}
		})
	}
}

func TestDeterministic(t *testing.T) {
	t.Parallel()
	for _, domain := range []string{"contoso.missing-perms.test", "contoso.partial.test"} {
		t.Run(domain, func(t *testing.T) {
			t.Parallel()
			r1, _ := setup(t).VerifyAccess(t.Context(), conn(domain), nil)
			r2, _ := setup(t).VerifyAccess(t.Context(), conn(domain), nil)
			if !reflect.DeepEqual(r1, r2) {
				t.Errorf("VerifyAccess differs between calls:\n%+v\n%+v", r1, r2)
			}
			b1, _ := setup(t).Bootstrap(t.Context(), conn(domain), "policy_sync", nil)
			b2, _ := setup(t).Bootstrap(t.Context(), conn(domain), "policy_sync", nil)
			if !reflect.DeepEqual(b1, b2) {
				t.Errorf("Bootstrap differs between calls:\n%+v\n%+v", b1, b2)
			}
		})
	}
}

// call runs one run kind ("verify_access" or an operation) and returns its error.
func call(ctx context.Context, p *Simulated, c Connection, kind string) error {
	if kind == "verify_access" {
		_, err := p.VerifyAccess(ctx, c, nil)
		return err
	}
	_, err := p.Bootstrap(ctx, c, kind, nil)
	return err
}

func TestFlaky(t *testing.T) {
	t.Parallel()
	for _, kind := range append([]string{"verify_access"}, operations...) {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			p := setup(t)
			c := conn("contoso.flaky.test")
			if err := call(t.Context(), p, c, kind); !errors.Is(err, ErrTransient) {
				t.Fatalf("first call = %v, want ErrTransient", err)
			}
			for i := range 3 {
				if err := call(t.Context(), p, c, kind); err != nil {
					t.Fatalf("retry %d = %v, want success", i+1, err)
				}
			}
			other := conn("fabrikam.flaky.test")
			if err := call(t.Context(), p, other, kind); !errors.Is(err, ErrTransient) {
				t.Errorf("first call for another tenant = %v, want ErrTransient", err)
			}
		})
	}
	t.Run("KindsAreIndependent", func(t *testing.T) {
		t.Parallel()
		p := setup(t)
		c := conn("contoso.flaky.test")
		if err := call(t.Context(), p, c, "verify_access"); !errors.Is(err, ErrTransient) {
			t.Fatalf("verify_access = %v, want ErrTransient", err)
		}
		if err := call(t.Context(), p, c, "policy_sync"); !errors.Is(err, ErrTransient) {
			t.Errorf("policy_sync after a failed verify_access = %v, want its own ErrTransient", err)
		}
	})
}

func TestFlakyConcurrent(t *testing.T) {
	t.Parallel()
	p := setup(t)
	c := conn("contoso.flaky.test")
	const n = 32
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for range n {
		wg.Go(func() { errs <- call(t.Context(), p, c, "verify_access") })
	}
	wg.Wait()
	close(errs)
	transient := 0
	for err := range errs {
		switch {
		case errors.Is(err, ErrTransient):
			transient++
		case err != nil:
			t.Errorf("unexpected error %v", err)
		}
	}
	if transient != 1 {
		t.Errorf("%d of %d concurrent first calls failed transiently, want exactly 1", transient, n)
	}
}

func TestFlakyWithAttempt(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		attempt int
		wantErr bool
	}{
		{"Attempt1", 1, true},
		{"Attempt2", 2, false},
		{"Attempt5", 5, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := setup(t)
			ctx := WithAttempt(t.Context(), "run-1", tt.attempt)
			// Twice: with an attempt given, the answer depends on it alone, not on history.
			for i := range 2 {
				err := call(ctx, p, conn("contoso.flaky.test"), "inventory_sync")
				if got := errors.Is(err, ErrTransient); got != tt.wantErr {
					t.Errorf("call %d: err = %v, want transient=%v", i+1, err, tt.wantErr)
				}
			}
		})
	}
}

type progressCall struct{ done, total int }

func TestSlowProgress(t *testing.T) {
	t.Parallel()
	for _, kind := range append([]string{"verify_access"}, operations...) {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			p := setup(t)
			var calls []progressCall
			record := func(done, total int) { calls = append(calls, progressCall{done, total}) }
			c := conn("contoso.slow.test")
			start := time.Now()
			var err error
			if kind == "verify_access" {
				_, err = p.VerifyAccess(t.Context(), c, record)
			} else {
				_, err = p.Bootstrap(t.Context(), c, kind, record)
			}
			if err != nil {
				t.Fatalf("run: %v", err)
			}
			if elapsed := time.Since(start); elapsed < p.opts.SlowDuration {
				t.Errorf("run took %v, want at least %v", elapsed, p.opts.SlowDuration)
			}
			if got, want := len(calls), 11; got != want {
				t.Fatalf("got %d progress calls %v, want %d (start + one per interval)", got, calls, want)
			}
			total := calls[0].total
			if calls[0].done != 0 || calls[len(calls)-1].done != total || total == 0 {
				t.Errorf("progress %v: want to start at 0 and end at total", calls)
			}
			for i := 1; i < len(calls); i++ {
				if calls[i].total != total || calls[i].done < calls[i-1].done {
					t.Errorf("progress %v: call %d out of order", calls, i)
				}
			}
		})
	}
}

func TestCancellation(t *testing.T) {
	t.Parallel()
	t.Run("DuringSlowRun", func(t *testing.T) {
		t.Parallel()
		p := NewSimulated(Options{SlowDuration: time.Hour, ProgressInterval: time.Minute})
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		// Cancel as soon as the run reports it started: an explicit signal, no sleep.
		_, err := p.Bootstrap(ctx, conn("contoso.slow.test"), "inventory_sync", func(int, int) { cancel() })
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Bootstrap = %v, want context.Canceled", err)
		}
	})
	for _, domain := range []string{"contoso.healthy.test", "contoso.missing-perms.test", "contoso.slow.test", "contoso.flaky.test", "contoso.partial.test"} {
		t.Run("Before/"+domain, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithCancel(t.Context())
			cancel()
			for _, kind := range append([]string{"verify_access"}, operations...) {
				if err := call(ctx, setup(t), conn(domain), kind); !errors.Is(err, context.Canceled) {
					t.Errorf("%s = %v, want context.Canceled", kind, err)
				}
			}
		})
	}
	t.Run("Deadline", func(t *testing.T) {
		t.Parallel()
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Millisecond)
		defer cancel()
		p := NewSimulated(Options{SlowDuration: time.Hour})
		if _, err := p.VerifyAccess(ctx, conn("x.slow.test"), nil); !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("VerifyAccess = %v, want context.DeadlineExceeded", err)
		}
	})
}

// strings collects every string reachable from v.
func collectStrings(v reflect.Value, out *[]string) {
	switch v.Kind() {
	case reflect.String:
		*out = append(*out, v.String())
	case reflect.Struct:
		for i := range v.NumField() {
			collectStrings(v.Field(i), out)
		}
	case reflect.Slice, reflect.Array:
		for i := range v.Len() {
			collectStrings(v.Index(i), out)
		}
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			collectStrings(v.Elem(), out)
		}
	case reflect.Map:
		for _, k := range v.MapKeys() {
			collectStrings(k, out)
			collectStrings(v.MapIndex(k), out)
		}
	}
}

func TestSecretNeverReturned(t *testing.T) {
	t.Parallel()
	const secret = "Zq8Q~SENTINEL-secret-do-not-leak_4711"
	for _, domain := range []string{"contoso.healthy.test", "contoso.missing-perms.test", "contoso.slow.test", "contoso.flaky.test", "contoso.partial.test", "example.com"} {
		t.Run(domain, func(t *testing.T) {
			t.Parallel()
			p := setup(t)
			c := Connection{TenantID: "0f9c2d6e-3b1a-4c5d-8e7f-a1b2c3d4e5f6", PrimaryDomain: domain, ClientID: "11111111-2222-3333-4444-555555555555", Secret: secret}
			var got []string
			for range 2 { // the flaky scenario fails, then succeeds: check both
				r, err := p.VerifyAccess(t.Context(), c, nil)
				collectStrings(reflect.ValueOf(r), &got)
				if err != nil {
					got = append(got, err.Error())
				}
				for _, op := range append(operations, "unknown_op") {
					res, err := p.Bootstrap(t.Context(), c, op, nil)
					collectStrings(reflect.ValueOf(res), &got)
					if err != nil {
						got = append(got, err.Error())
					}
				}
			}
			var logged bytes.Buffer
			slog.New(slog.NewJSONHandler(&logged, nil)).Info("connection", "conn", c)
			got = append(got, fmt.Sprint(c), fmt.Sprintf("%v %+v %#v %s", c, c, c, c), logged.String())
			for _, s := range got {
				if strings.Contains(s, secret) {
					t.Errorf("secret found in %q", s)
				}
			}
			if len(got) < 10 {
				t.Fatalf("collected only %d strings; the test is not looking", len(got))
			}
		})
	}
}
