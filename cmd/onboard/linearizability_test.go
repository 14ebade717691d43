package main

import (
	"encoding/json"
	"fmt"
	"hash/maphash"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"

	"github.com/tenantops/onboard/internal/onboarding"
	"github.com/tenantops/onboard/internal/postgres/pgtest"
)

// linInput is one operation on a draft: a read (GET) or a PATCH of display_name with
// If-Match: Expected.
type linInput struct {
	Draft    int
	Write    bool
	Expected int64
	Value    string
}

// linOutput is what the server answered: for a read the version and display_name; for a
// write 200 and the new version, or 412 and current_version, or linUnknown when the request
// failed (an outage: it may or may not have been applied).
type linOutput struct {
	Status  int
	Version int64
	Name    string
}

// linState is one draft as the model sees it.
type linState struct {
	Version int64
	Name    string
}

const linInitialName = "linearizability initial"

var linHashSeed = maphash.MakeSeed()

// linUnknown is the Status of a write that failed without an answer that tells whether it was
// applied (a 5xx or a transport error during a database outage).
const linUnknown = -1

// draftModel is the sequential specification of a draft under versioned writes, partitioned
// by draft: a read returns (version, display_name); a write expecting version v succeeds only
// when the version is v and makes it (v+1, value); a 412 happens only when the version is not
// v and reports the version there is.
//
// A write of unknown outcome (linUnknown: it failed during an outage) may have been applied
// or not: the model is nondeterministic there, and the caller gives it a Return no earlier
// than the latest moment its effect could have landed.
var draftModel = (&porcupine.NondeterministicModel{
	Partition: func(history []porcupine.Operation) [][]porcupine.Operation {
		by := map[int][]porcupine.Operation{}
		for _, op := range history {
			d := op.Input.(linInput).Draft
			by[d] = append(by[d], op)
		}
		out := make([][]porcupine.Operation, 0, len(by))
		for _, ops := range by {
			out = append(out, ops)
		}
		return out
	},
	Init: func() []any { return []any{linState{Version: 1, Name: linInitialName}} },
	// Spares the checker most Equal calls on sets of states.
	Hash: func(state any) uint64 { return maphash.Comparable(linHashSeed, state.(linState)) },
	Step: func(state, input, output any) []any {
		s, in, out := state.(linState), input.(linInput), output.(linOutput)
		applied := linState{Version: in.Expected + 1, Name: in.Value}
		switch {
		case !in.Write && out.Status == http.StatusOK && out.Version == s.Version && out.Name == s.Name:
			return []any{s}
		case !in.Write:
		case out.Status == http.StatusOK && s.Version == in.Expected && out.Version == in.Expected+1:
			return []any{applied}
		case out.Status == http.StatusPreconditionFailed && s.Version != in.Expected && out.Version == s.Version:
			return []any{s}
		case out.Status == linUnknown && s.Version == in.Expected:
			return []any{applied, s} // reached the database and committed, or not
		case out.Status == linUnknown:
			return []any{s} // stale: refused or never sent, the same
		}
		return nil
	},
	DescribeOperation: func(input, output any) string {
		in, out := input.(linInput), output.(linOutput)
		if !in.Write {
			return fmt.Sprintf("get() → v%d %q", out.Version, out.Name)
		}
		if out.Status == http.StatusOK {
			return fmt.Sprintf("patch(if v%d, %q) → 200 v%d", in.Expected, in.Value, out.Version)
		}
		if out.Status == linUnknown {
			return fmt.Sprintf("patch(if v%d, %q) → failed, outcome unknown", in.Expected, in.Value)
		}
		return fmt.Sprintf("patch(if v%d, %q) → %d current v%d", in.Expected, in.Value, out.Status, out.Version)
	},
	DescribeState: func(state any) string {
		s := state.(linState)
		return fmt.Sprintf("v%d %q", s.Version, s.Name)
	},
}).ToModel()

// TestLinearizability drives concurrent clients over the HTTP API against a few drafts, most
// writes carrying a stale If-Match, records each call's invocation and response on one
// monotonic clock, and checks the history with porcupine. With -tags brokenversion the
// service skips the version check and the checker must find the history illegal.
func TestLinearizability(t *testing.T) {
	t.Parallel()
	const (
		clients = 16
		drafts  = 4
	)
	opsEach := linOpsEach
	if n, err := strconv.Atoi(os.Getenv("LIN_OPS_EACH")); err == nil && n > 0 { // make soak
		opsEach = n
	}
	// Commits need not wait for the WAL flush: that changes durability after a crash, which
	// this test is not about, and nothing of visibility or locking; it keeps row locks short
	// so the run stays well within a minute under -race on two cores.
	dbURL, err := url.Parse(pgtest.NewURL(t))
	if err != nil {
		t.Fatal(err)
	}
	q := dbURL.Query()
	q.Set("synchronous_commit", "off")
	dbURL.RawQuery = q.Encode()
	base := startApp(t, map[string]string{"DATABASE_URL": dbURL.String()})
	tr := &http.Transport{MaxIdleConns: 2 * clients, MaxIdleConnsPerHost: 2 * clients}
	t.Cleanup(tr.CloseIdleConnections)
	owner, operator := client(t, base, "owner@acme.test"), client(t, base, "operator@acme.test")
	owner.Transport, operator.Transport = tr, tr

	ids := linDrafts(t, owner, base, drafts)

	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	start := time.Now() // every timestamp is time.Since(start): one monotonic clock
	draftURL := func(d int) string { return base + "/api/v1/workspaces/acme/onboarding/drafts/" + ids[d] }
	var (
		mu      sync.Mutex
		history = make([]porcupine.Operation, 0, clients*opsEach)
		wg      sync.WaitGroup
	)
	for c := range clients {
		hc := owner
		if c%2 == 1 {
			hc = operator
		}
		wg.Go(func() {
			w := linWorker{c: c, hc: hc, url: draftURL, drafts: drafts, seed: seed, start: start}
			ops := w.run(func(j int) bool { return j < opsEach }, func(in linInput, j int, err error) bool {
				t.Errorf("client %d op %d %+v: %v", c, j, in, err)
				return false
			})
			mu.Lock()
			history = append(history, ops...)
			mu.Unlock()
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	if t.Failed() {
		t.FailNow()
	}

	var reads, oks, stale, staleWon int
	var readT, okT, staleT time.Duration
	for _, op := range history {
		d := time.Duration(op.Return - op.Call)
		switch in, out := op.Input.(linInput), op.Output.(linOutput); {
		case !in.Write:
			reads++
			readT += d
		case out.Status == http.StatusOK:
			oks++
			okT += d
			if out.Version != in.Expected+1 {
				staleWon++ // only without the version check
			}
		default:
			stale++
			staleT += d
		}
	}
	mean := func(d time.Duration, n int) time.Duration {
		return (d / time.Duration(max(n, 1))).Round(time.Microsecond)
	}
	t.Logf("%d operations by %d clients on %d drafts in %v: %d reads (mean %v), %d writes applied (mean %v), %d refused with 412 (mean %v)",
		len(history), clients, drafts, elapsed.Round(time.Millisecond), reads, mean(readT, reads), oks, mean(okT, oks), stale, mean(staleT, stale))
	if staleWon > 0 {
		t.Logf("%d writes with a stale If-Match were applied", staleWon)
	}
	if stale+staleWon < len(history)/4 {
		t.Errorf("only %d writes carried a stale If-Match; the test needs mostly stale writes", stale+staleWon)
	}

	linCheck(t, history, wantLinearizability, time.Minute)
}

// linDrafts creates n drafts in acme named linInitialName, each at version 1.
func linDrafts(t *testing.T, owner *http.Client, base string, n int) []string {
	t.Helper()
	ids := make([]string, n)
	for i := range ids {
		body := fmt.Sprintf(`{"tenant_id":%q,"display_name":%q,"primary_domain":"lin%d.example.com"}`, onboarding.NewGUID(), linInitialName, i)
		resp, err := owner.Post(base+"/api/v1/workspaces/acme/onboarding/drafts", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		var d struct {
			ID      string `json:"id"`
			Version int64  `json:"version"`
		}
		err = json.NewDecoder(resp.Body).Decode(&d)
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusCreated || d.Version != 1 {
			t.Fatalf("create draft %d: status %d, version %d, err %v", i, resp.StatusCode, d.Version, err)
		}
		ids[i] = d.ID
	}
	return ids
}

// linCheck checks history with porcupine, for at most checkTime, and fails unless the result
// is want; a history that is not Ok is drawn into the test's artifact directory.
func linCheck(t *testing.T, history []porcupine.Operation, want porcupine.CheckResult, checkTime time.Duration) {
	t.Helper()
	checkStart := time.Now()
	res, info := porcupine.CheckOperationsVerbose(draftModel, history, checkTime)
	t.Logf("porcupine: %s in %v (want %s)", res, time.Since(checkStart).Round(time.Millisecond), want)
	if res != porcupine.Ok {
		path := filepath.Join(t.ArtifactDir(), "linearizability.html")
		if err := porcupine.VisualizePath(draftModel, info, path); err != nil {
			t.Errorf("visualize: %v", err)
		} else {
			t.Logf("visualization: %s (keep it with go test -artifacts -outputdir DIR)", path)
		}
	}
	if res != want {
		t.Fatalf("linearizability check = %s, want %s", res, want)
	}
}

// linWorker is one client of a linearizability history: it reads and writes the drafts
// through url(draft), most writes with a stale If-Match.
type linWorker struct {
	c      int // client id
	hc     *http.Client
	url    func(draft int) string
	drafts int
	seed   uint64
	start  time.Time // Call and Return are nanoseconds since start
	// applied, if set, is told of every write the server applied (200), as it returns.
	applied func(op porcupine.Operation)
}

// run performs operations while more(j) holds and returns them. When an operation fails
// (no 200 or 412), failed decides: false ends the run; true goes on, and a failed write is
// kept with linUnknown as its output (it may or may not have been applied; the caller sets
// its Return once the history is complete), a failed read dropped (it changed nothing).
func (w linWorker) run(more func(j int) bool, failed func(in linInput, j int, err error) bool) []porcupine.Operation {
	rng := rand.New(rand.NewPCG(w.seed, uint64(w.c)))
	seen := make([][]int64, w.drafts) // versions this client saw, per draft, oldest first
	for i := range seen {
		seen[i] = []int64{1}
	}
	var ops []porcupine.Operation
	for j := 0; more(j); j++ {
		in := linInput{Draft: rng.IntN(w.drafts)}
		vs := seen[in.Draft]
		last := vs[len(vs)-1]
		if p := rng.IntN(100); p >= 40 {
			in.Write = true
			in.Value = fmt.Sprintf("client %02d op %03d", w.c, j)
			switch {
			case p < 60: // the latest version this client saw (may be stale already)
				in.Expected = last
			case p < 80: // one behind
				in.Expected = max(1, last-1)
			default: // remembered from a while ago
				in.Expected = vs[rng.IntN(len(vs))]
			}
		}
		call := time.Since(w.start).Nanoseconds()
		out, err := linDo(w.hc, w.url(in.Draft), in)
		ret := time.Since(w.start).Nanoseconds()
		if err != nil {
			if !failed(in, j, err) {
				return ops
			}
			if in.Write {
				ops = append(ops, porcupine.Operation{ClientId: w.c, Input: in, Output: linOutput{Status: linUnknown}, Call: call, Return: ret})
			}
			continue
		}
		if out.Version > last {
			seen[in.Draft] = append(vs, out.Version)
		}
		op := porcupine.Operation{ClientId: w.c, Input: in, Output: out, Call: call, Return: ret}
		if w.applied != nil && in.Write && out.Status == http.StatusOK {
			w.applied(op)
		}
		ops = append(ops, op)
	}
	return ops
}

// linDo performs one operation and returns what the server answered.
func linDo(c *http.Client, url string, in linInput) (linOutput, error) {
	var req *http.Request
	if in.Write {
		body, _ := json.Marshal(map[string]string{"display_name": in.Value})
		req, _ = http.NewRequest(http.MethodPatch, url, strings.NewReader(string(body)))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("If-Match", `"`+strconv.FormatInt(in.Expected, 10)+`"`)
	} else {
		req, _ = http.NewRequest(http.MethodGet, url, nil)
	}
	resp, err := c.Do(req)
	if err != nil {
		return linOutput{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return linOutput{}, err
	}
	var body struct {
		Version        int64  `json:"version"`
		DisplayName    string `json:"display_name"`
		CurrentVersion int64  `json:"current_version"`
	}
	if err := json.Unmarshal(b, &body); err != nil {
		return linOutput{}, fmt.Errorf("status %d, body %s: %w", resp.StatusCode, b, err)
	}
	switch {
	case resp.StatusCode == http.StatusOK && !in.Write:
		return linOutput{Status: http.StatusOK, Version: body.Version, Name: body.DisplayName}, nil
	case resp.StatusCode == http.StatusOK:
		if body.DisplayName != in.Value {
			return linOutput{}, fmt.Errorf("200 with display_name %q, want %q", body.DisplayName, in.Value)
		}
		return linOutput{Status: http.StatusOK, Version: body.Version}, nil
	case resp.StatusCode == http.StatusPreconditionFailed && in.Write:
		return linOutput{Status: http.StatusPreconditionFailed, Version: body.CurrentVersion}, nil
	}
	return linOutput{}, fmt.Errorf("unexpected status %d: %s", resp.StatusCode, b)
}
