package tracing_test

import (
	"context"
	"crypto/rand"
	"errors"
	"strconv"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/embedded"

	"go.uber.org/goleak"

	"github.com/postroom/postroom/consumer"
	"github.com/postroom/postroom/memory"
	"github.com/postroom/postroom/queue"
	"github.com/postroom/postroom/tracing"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// newQueue returns a memory queue closed at cleanup; inside a synctest
// bubble, call it from the bubble.
func newQueue(t *testing.T, name string, opts memory.QueueOptions) *memory.Queue {
	t.Helper()
	q, err := memory.NewQueue(name, opts)
	require.NoError(t, err)
	t.Cleanup(func() { _ = q.Close() })
	return q
}

// start runs c until the returned stop is called; stop returns Run's
// error.
func start(t *testing.T, c *consumer.Consumer) (stop func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	var once sync.Once
	var err error
	stop = func() error {
		once.Do(func() {
			cancel()
			err = <-done
		})
		return err
	}
	t.Cleanup(func() { _ = stop() })
	return stop
}

// recorder is a TracerProvider that records spans, standing in for the
// OpenTelemetry SDK, which the library does not depend on.
type recorder struct {
	embedded.TracerProvider

	mu    sync.Mutex // guards spans
	spans []*span
}

func (r *recorder) Tracer(string, ...trace.TracerOption) trace.Tracer { return &tracer{r: r} }

func (r *recorder) ended() []*span {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []*span
	for _, s := range r.spans {
		if s.isEnded() {
			out = append(out, s)
		}
	}
	return out
}

type tracer struct {
	embedded.Tracer
	r *recorder
}

func (t *tracer) Start(ctx context.Context, name string, opts ...trace.SpanStartOption) (context.Context, trace.Span) {
	cfg := trace.NewSpanStartConfig(opts...)
	parent := trace.SpanContextFromContext(ctx)
	var tid trace.TraceID
	var sid trace.SpanID
	_, _ = rand.Read(tid[:])
	_, _ = rand.Read(sid[:])
	if parent.IsValid() && !cfg.NewRoot() {
		tid = parent.TraceID()
	}
	s := &span{
		name:   name,
		kind:   cfg.SpanKind(),
		parent: parent,
		links:  cfg.Links(),
		attrs:  cfg.Attributes(),
		sc:     trace.NewSpanContext(trace.SpanContextConfig{TraceID: tid, SpanID: sid, TraceFlags: trace.FlagsSampled}),
		tp:     t.r,
	}
	t.r.mu.Lock()
	t.r.spans = append(t.r.spans, s)
	t.r.mu.Unlock()
	return trace.ContextWithSpan(ctx, s), s
}

type span struct {
	embedded.Span
	name   string
	kind   trace.SpanKind
	parent trace.SpanContext
	links  []trace.Link
	sc     trace.SpanContext
	tp     *recorder

	mu     sync.Mutex // guards everything below
	attrs  []attribute.KeyValue
	status codes.Code
	errs   []error
	ended  bool
}

func (s *span) End(...trace.SpanEndOption)            { s.mu.Lock(); s.ended = true; s.mu.Unlock() }
func (s *span) isEnded() bool                         { s.mu.Lock(); defer s.mu.Unlock(); return s.ended }
func (s *span) AddEvent(string, ...trace.EventOption) {}
func (s *span) AddLink(l trace.Link)                  { s.mu.Lock(); s.links = append(s.links, l); s.mu.Unlock() }
func (s *span) IsRecording() bool                     { return true }
func (s *span) RecordError(err error, _ ...trace.EventOption) {
	s.mu.Lock()
	s.errs = append(s.errs, err)
	s.mu.Unlock()
}
func (s *span) SpanContext() trace.SpanContext { return s.sc }
func (s *span) SetStatus(c codes.Code, _ string) {
	s.mu.Lock()
	s.status = c
	s.mu.Unlock()
}
func (s *span) SetName(n string) { s.name = n }
func (s *span) SetAttributes(kv ...attribute.KeyValue) {
	s.mu.Lock()
	s.attrs = append(s.attrs, kv...)
	s.mu.Unlock()
}
func (s *span) TracerProvider() trace.TracerProvider { return s.tp }

func (s *span) attr(key string) string {
	for _, kv := range s.attrs {
		if string(kv.Key) == key {
			return kv.Value.String()
		}
	}
	return ""
}

func TestInjectTrace(t *testing.T) {
	rec := &recorder{}
	ctx, sp := rec.Tracer("test").Start(context.Background(), "producer")
	traced := sp.SpanContext()
	withState := trace.ContextWithSpanContext(context.Background(), traced.WithTraceState(mustTraceState(t, "vendor=value")))
	attrs := func(n int) queue.Attributes {
		a := queue.Attributes{}
		for i := range n {
			a.Set("a"+strconv.Itoa(i), "v")
		}
		return a
	}
	tests := []struct {
		name      string
		ctx       context.Context
		attrs     queue.Attributes
		want      bool
		wantState string
	}{
		{name: "no span", ctx: context.Background(), attrs: nil, want: false},
		{name: "no attributes yet", ctx: ctx, attrs: nil, want: true},
		{name: "room for traceparent", ctx: ctx, attrs: attrs(9), want: true},
		{name: "full", ctx: ctx, attrs: attrs(10), want: false},
		{name: "traceparent and tracestate", ctx: withState, attrs: attrs(8), want: true, wantState: "vendor=value"},
		{name: "no room for tracestate", ctx: withState, attrs: attrs(9), want: false},
		{name: "replaces an old traceparent", ctx: ctx, attrs: queue.Attributes{"traceparent": queue.String("old")}, want: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := &queue.Message{Body: []byte("x"), Attributes: tt.attrs}
			before := len(tt.attrs)
			got := tracing.Inject(tt.ctx, m)
			assert.Equal(t, tt.want, got)
			if !tt.want {
				assert.Len(t, m.Attributes, before, "attributes untouched")
				return
			}
			assert.LessOrEqual(t, len(m.Attributes), 10)
			assert.Equal(t, queue.TypeString, m.Attributes["traceparent"].Type)
			assert.Equal(t, "00-"+traced.TraceID().String()+"-"+traced.SpanID().String()+"-01", m.Attributes.Get("traceparent"))
			assert.Equal(t, tt.wantState, m.Attributes.Get("tracestate"))

			got2 := trace.SpanContextFromContext(tracing.Extract(context.Background(), &queue.Delivery{Message: *m}))
			assert.Equal(t, traced.TraceID(), got2.TraceID())
			assert.Equal(t, traced.SpanID(), got2.SpanID())
			assert.True(t, got2.IsRemote())
		})
	}
}

func mustTraceState(t *testing.T, s string) trace.TraceState {
	t.Helper()
	ts, err := trace.ParseTraceState(s)
	require.NoError(t, err)
	return ts
}

// A producer span's context travels in the message attributes to the
// consumer span: as its parent, or as a link.
func TestTraceSenderToMiddleware(t *testing.T) {
	tests := []struct {
		name string
		link bool
	}{
		{name: "child of the producer"},
		{name: "linked to the producer", link: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				rec := &recorder{}
				q := newQueue(t, "traced", memory.QueueOptions{})
				opts := tracing.Options{TracerProvider: rec, Destination: "traced", System: "aws_sqs", Link: tt.link}
				sender := tracing.WrapSender(q, opts)

				shared := queue.Attributes{"tenant": queue.String("acme")}
				msgs := []*queue.Message{
					{Body: []byte("ok"), Attributes: shared},
					{Body: []byte("fail"), Attributes: shared},
				}
				ctx, root := rec.Tracer("app").Start(context.Background(), "request")
				require.NoError(t, sender.Send(ctx, msgs...))
				root.End()
				assert.NotEmpty(t, msgs[0].ID, "ids set on the caller's messages")
				assert.Len(t, shared, 1, "the caller's attributes are not changed")

				var handlerSpans []trace.SpanContext
				var mu sync.Mutex
				h := func(ctx context.Context, d *queue.Delivery) error {
					mu.Lock()
					handlerSpans = append(handlerSpans, trace.SpanContextFromContext(ctx))
					mu.Unlock()
					if string(d.Body) == "fail" {
						return consumer.Permanent(errors.New("bad"))
					}
					return nil
				}
				c, err := consumer.New(q, consumer.Chain(h, tracing.Middleware(opts)), consumer.Options{
					Concurrency: 1,
					Retry:       consumer.Retry{Permanent: consumer.DropPermanent},
				})
				require.NoError(t, err)
				stop := start(t, c)
				time.Sleep(time.Second)
				require.NoError(t, stop())

				spans := rec.ended()
				require.Len(t, spans, 4) // request, send, 2 × process
				send, ok, fail := spans[1], spans[2], spans[3]
				assert.Equal(t, "send traced", send.name)
				assert.Equal(t, trace.SpanKindProducer, send.kind)
				assert.Equal(t, root.SpanContext().SpanID(), send.parent.SpanID())
				assert.Equal(t, "2", send.attr("messaging.batch.message_count"))

				for _, s := range []*span{ok, fail} {
					assert.Equal(t, "process traced", s.name)
					assert.Equal(t, trace.SpanKindConsumer, s.kind)
					assert.Equal(t, "aws_sqs", s.attr("messaging.system"))
					assert.Equal(t, "traced", s.attr("messaging.destination.name"))
					assert.Equal(t, "process", s.attr("messaging.operation.type"))
					assert.NotEmpty(t, s.attr("messaging.message.id"))
					if tt.link {
						assert.False(t, s.parent.IsValid(), "a new trace")
						require.Len(t, s.links, 1)
						assert.Equal(t, send.sc.SpanID(), s.links[0].SpanContext.SpanID())
					} else {
						assert.Equal(t, send.sc.TraceID(), s.sc.TraceID(), "same trace")
						assert.Equal(t, send.sc.SpanID(), s.parent.SpanID(), "child of the send span")
						assert.True(t, s.parent.IsRemote())
					}
				}
				assert.Equal(t, []trace.SpanContext{ok.sc, fail.sc}, handlerSpans, "handlers run in the span")
				assert.Equal(t, codes.Unset, ok.status)
				assert.Equal(t, codes.Error, fail.status)
				require.Len(t, fail.errs, 1)
				assert.ErrorIs(t, fail.errs[0], consumer.ErrPermanent)
			})
		})
	}
}

// A handler panic marks the span and still ends it.
func TestTraceMiddlewarePanic(t *testing.T) {
	rec := &recorder{}
	h := consumer.Chain(func(context.Context, *queue.Delivery) error { panic("boom") },
		tracing.Middleware(tracing.Options{TracerProvider: rec}))
	assert.Panics(t, func() { _ = h(context.Background(), &queue.Delivery{}) })
	spans := rec.ended()
	require.Len(t, spans, 1)
	assert.Equal(t, "process", spans[0].name)
	assert.Equal(t, codes.Error, spans[0].status)
}

// The message-attribute limit makes TraceSender skip injection, not fail.
func TestTraceSenderFullAttributes(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := &recorder{}
		q := newQueue(t, "full", memory.QueueOptions{})
		attrs := queue.Attributes{}
		for i := range 10 {
			attrs.Set("a"+strconv.Itoa(i), "v")
		}
		ctx, _ := rec.Tracer("app").Start(context.Background(), "request")
		s := tracing.WrapSender(q, tracing.Options{TracerProvider: rec})
		require.NoError(t, s.Send(ctx, &queue.Message{Body: []byte("x"), Attributes: attrs}))
		ds, err := q.Receive(context.Background(), queue.ReceiveOptions{NoWait: true})
		require.NoError(t, err)
		require.Len(t, ds, 1)
		assert.Len(t, ds[0].Attributes, 10)
		assert.Empty(t, ds[0].Attributes.Get("traceparent"))
	})
}
