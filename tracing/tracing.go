// Package tracing carries OpenTelemetry trace context through messages: it
// writes the W3C traceparent and tracestate of a producer's span into the
// message attributes ([Inject], [WrapSender]) and continues the trace when the
// message is handled ([Extract], and [Middleware] for a [consumer.Consumer]).
//
// It is the only package of the module that imports the OpenTelemetry API:
// programs that do not trace do not link it.
package tracing

import (
	"context"
	"maps"

	"github.com/postroom/postroom/consumer"
	"github.com/postroom/postroom/queue"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

// tracerName is the instrumentation scope of the spans this package starts.
const tracerName = "github.com/postroom/postroom/tracing"

// maxAttributes is the most message attributes SQS and SNS take: trace
// context is not injected into a message that would go over it.
const maxAttributes = 10

// Options configure [WrapSender] and [Middleware]. The zero value uses
// the global tracer provider and the W3C trace-context propagator.
type Options struct {
	// TracerProvider starts the spans; nil means otel.GetTracerProvider().
	TracerProvider trace.TracerProvider

	// Propagator writes and reads the trace context in message
	// attributes; nil means propagation.TraceContext{} (the W3C
	// traceparent and tracestate attributes). Pass
	// otel.GetTextMapPropagator() to follow the global one.
	Propagator propagation.TextMapPropagator

	// Destination names the queue or topic in span names and in the
	// messaging.destination.name attribute.
	Destination string

	// System is the messaging.system attribute, such as "aws_sqs".
	System string

	// Link makes the consumer span a child of the handler's context with
	// a link to the producer's span, instead of a child of the producer's
	// span. Use it when handling is a trace of its own.
	Link bool
}

type tracer struct {
	tracer trace.Tracer
	prop   propagation.TextMapPropagator
	attrs  []attribute.KeyValue
	opts   Options
}

func (o Options) tracer(op string) *tracer {
	t := &tracer{prop: o.Propagator, opts: o}
	tp := o.TracerProvider
	if tp == nil {
		tp = otel.GetTracerProvider()
	}
	t.tracer = tp.Tracer(tracerName)
	if t.prop == nil {
		t.prop = propagation.TraceContext{}
	}
	t.attrs = []attribute.KeyValue{
		attribute.String("messaging.operation.type", op),
		attribute.String("messaging.operation.name", op),
	}
	if o.System != "" {
		t.attrs = append(t.attrs, attribute.String("messaging.system", o.System))
	}
	if o.Destination != "" {
		t.attrs = append(t.attrs, attribute.String("messaging.destination.name", o.Destination))
	}
	return t
}

func (t *tracer) spanName(op string) string {
	if t.opts.Destination == "" {
		return op
	}
	return op + " " + t.opts.Destination
}

// Carrier adapts message attributes to the OpenTelemetry
// propagation API: Set writes String attributes, and Get reads String
// ones.
type Carrier queue.Attributes

var _ propagation.TextMapCarrier = Carrier(nil)

// Get returns the value of the String attribute key, or "".
func (c Carrier) Get(key string) string {
	a, ok := c[key]
	if !ok || a.BaseType() != queue.TypeString {
		return ""
	}
	return a.Value
}

// Set sets the String attribute key. The carrier must not be nil.
func (c Carrier) Set(key, value string) { c[key] = queue.String(value) }

// Keys returns the attributes' names.
func (c Carrier) Keys() []string {
	keys := make([]string, 0, len(c))
	for k := range c {
		keys = append(keys, k)
	}
	return keys
}

// Inject writes the W3C trace context of ctx's span (the traceparent
// and tracestate attributes) into m's attributes, so that the consumer's
// span can continue the trace. It reports whether it did: it does nothing
// when ctx has no valid span, or when the attributes would exceed the 10
// that SQS and SNS allow, so that tracing never makes a send fail.
func Inject(ctx context.Context, m *queue.Message) bool {
	return inject(ctx, propagation.TraceContext{}, m)
}

// Extract returns ctx with the remote span context that
// [Inject] (or another W3C producer) wrote into d's attributes, if
// any.
func Extract(ctx context.Context, d *queue.Delivery) context.Context {
	return propagation.TraceContext{}.Extract(ctx, Carrier(d.Attributes))
}

func inject(ctx context.Context, p propagation.TextMapPropagator, m *queue.Message) bool {
	fields := make(propagation.MapCarrier, 2)
	p.Inject(ctx, fields)
	if len(fields) == 0 {
		return false
	}
	n := len(m.Attributes)
	for k := range fields {
		if _, ok := m.Attributes[k]; !ok {
			n++
		}
	}
	if n > maxAttributes {
		return false
	}
	if m.Attributes == nil {
		m.Attributes = make(queue.Attributes, len(fields))
	}
	for k, v := range fields {
		m.Attributes[k] = queue.String(v)
	}
	return true
}

// WrapSender returns a Sender that starts a producer span around each
// Send to s and injects its trace context into every message, skipping
// (not failing) the messages that have no room left for the attributes.
// The caller's messages are not changed, except that their ID is set.
func WrapSender(s queue.Sender, opts Options) queue.Sender {
	return &traceSender{s: s, t: opts.tracer("send")}
}

type traceSender struct {
	s queue.Sender
	t *tracer
}

func (ts *traceSender) Send(ctx context.Context, msgs ...*queue.Message) error {
	attrs := ts.t.attrs
	if len(msgs) > 1 {
		attrs = append(attrs[:len(attrs):len(attrs)], attribute.Int("messaging.batch.message_count", len(msgs)))
	}
	ctx, span := ts.t.tracer.Start(ctx, ts.t.spanName("send"),
		trace.WithSpanKind(trace.SpanKindProducer), trace.WithAttributes(attrs...))
	defer span.End()

	out := make([]*queue.Message, len(msgs))
	copies := make([]queue.Message, len(msgs))
	for i, m := range msgs {
		if m == nil {
			continue // the driver reports it
		}
		copies[i] = *m
		copies[i].Attributes = maps.Clone(m.Attributes)
		inject(ctx, ts.t.prop, &copies[i])
		out[i] = &copies[i]
	}
	err := ts.s.Send(ctx, out...)
	for i, m := range msgs {
		if m != nil {
			m.ID = copies[i].ID
		}
	}
	if err != nil {
		span.RecordError(err)
		span.SetStatus(codes.Error, err.Error())
	}
	return err
}

// Middleware returns consumer middleware that runs each handler call in a
// consumer span, a child of the producer's span whose context the
// message carries in its attributes (or linked to it, with opts.Link).
// The span records the handler's error, and a panic.
func Middleware(opts Options) consumer.Middleware {
	t := opts.tracer("process")
	name := t.spanName("process")
	return func(next consumer.Handler) consumer.Handler {
		return func(ctx context.Context, d *queue.Delivery) error {
			start := []trace.SpanStartOption{
				trace.WithSpanKind(trace.SpanKindConsumer),
				trace.WithAttributes(t.attrs...),
				trace.WithAttributes(attribute.String("messaging.message.id", d.ID)),
			}
			parent := t.prop.Extract(ctx, Carrier(d.Attributes))
			if opts.Link {
				if sc := trace.SpanContextFromContext(parent); sc.IsValid() {
					start = append(start, trace.WithLinks(trace.Link{SpanContext: sc}))
				}
				parent = ctx
			}
			ctx, span := t.tracer.Start(parent, name, start...)
			returned := false
			defer func() {
				if !returned {
					span.SetStatus(codes.Error, "handler panicked")
				}
				span.End()
			}()
			err := next(ctx, d)
			returned = true
			if err != nil {
				span.RecordError(err)
				span.SetStatus(codes.Error, err.Error())
			}
			return err
		}
	}
}
