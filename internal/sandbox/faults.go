package sandbox

import (
	"net/http"
	"strings"
	"time"
)

// Fault is an injected misbehaviour for requests matching Method (empty:
// any) and a path starting with PathPrefix.
type Fault struct {
	Method     string
	PathPrefix string
	// Times is how many matching requests it affects; 0 means every one.
	Times int

	Latency    time.Duration // wait before answering (or before the fault)
	Status     int           // answer with this status and an error envelope
	RetryAfter string        // Retry-After header to send with Status
	Body       string        // answer 200 with this raw body (malformed JSON, say)
	Reset      bool          // drop the connection without an answer
	SlowBody   time.Duration // send half the answer, wait, then the rest

	// The request takes effect (the simulator handles it), then:
	DropAnswer   bool // the connection is dropped instead of answering
	AnswerStatus int  // the answer has this status instead of the handler's
	EmptyBody    bool // with AnswerStatus: the answer has no body

	used int
}

// AddFault injects f until it has been used Times times.
func (s *Server) AddFault(f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fault = append(s.fault, &f)
}

// Aborted counts requests whose client went away while a fault delayed them.
func (s *Server) Aborted() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.aborted
}

// ClearFaults removes every injected fault.
func (s *Server) ClearFaults() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fault = nil
}

func (s *Server) takeFault(r *http.Request) *Fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, f := range s.fault {
		if (f.Method == "" || f.Method == r.Method) && strings.HasPrefix(r.URL.Path, f.PathPrefix) && (f.Times == 0 || f.used < f.Times) {
			f.used++
			c := *f
			return &c
		}
	}
	return nil
}

func (s *Server) withFaults(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f := s.takeFault(r)
		if f == nil {
			next.ServeHTTP(w, r)
			return
		}
		if f.Latency > 0 {
			t := time.NewTimer(f.Latency)
			select {
			case <-r.Context().Done():
				t.Stop()
				s.mu.Lock()
				s.aborted++
				s.mu.Unlock()
				return
			case <-t.C:
			}
		}
		switch {
		case f.Reset:
			if hj, ok := w.(http.Hijacker); ok {
				if conn, _, err := hj.Hijack(); err == nil {
					_ = conn.Close()
					return
				}
			}
			panic(http.ErrAbortHandler)
		case f.Status != 0:
			if f.RetryAfter != "" {
				w.Header().Set("Retry-After", f.RetryAfter)
			}
			writeError(w, f.Status, http.StatusText(f.Status)+" (injected)", nil)
		case f.Body != "":
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusOK)
			_, _ = w.Write([]byte(f.Body))
		case f.DropAnswer:
			next.ServeHTTP(&bufferedWriter{header: http.Header{}}, r)
			if hj, ok := w.(http.Hijacker); ok {
				if conn, _, err := hj.Hijack(); err == nil {
					_ = conn.Close()
					return
				}
			}
			panic(http.ErrAbortHandler)
		case f.AnswerStatus != 0:
			rec := &bufferedWriter{header: http.Header{}}
			next.ServeHTTP(rec, r)
			for k, v := range rec.header {
				w.Header()[k] = v
			}
			if f.EmptyBody {
				w.Header().Del("Content-Type")
				w.WriteHeader(f.AnswerStatus)
				return
			}
			w.WriteHeader(f.AnswerStatus)
			_, _ = w.Write(rec.body)
		case f.SlowBody > 0:
			rec := &bufferedWriter{header: http.Header{}}
			next.ServeHTTP(rec, r)
			for k, v := range rec.header {
				w.Header()[k] = v
			}
			w.WriteHeader(rec.status)
			half := len(rec.body) / 2
			_, _ = w.Write(rec.body[:half])
			if fl, ok := w.(http.Flusher); ok {
				fl.Flush()
			}
			t := time.NewTimer(f.SlowBody)
			select {
			case <-r.Context().Done():
				t.Stop()
				return
			case <-t.C:
			}
			_, _ = w.Write(rec.body[half:])
		default:
			next.ServeHTTP(w, r)
		}
	})
}

type bufferedWriter struct {
	header http.Header
	status int
	body   []byte
}

func (b *bufferedWriter) Header() http.Header { return b.header }
func (b *bufferedWriter) WriteHeader(code int) {
	if b.status == 0 {
		b.status = code
	}
}
func (b *bufferedWriter) Write(p []byte) (int, error) {
	if b.status == 0 {
		b.status = http.StatusOK
	}
	b.body = append(b.body, p...)
	return len(p), nil
}
