package mqtt

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/postroom/postroom"
	"github.com/postroom/postroom/broker"
	"github.com/postroom/postroom/internal/testsupport/drivertest"
	"github.com/postroom/postroom/internal/testsupport/testproxy"
	"github.com/postroom/postroom/pubsub"
	"github.com/postroom/postroom/queue"
)

func TestPublishSubscribe(t *testing.T) {
	eachBroker(t, func(t *testing.T, url string) {
		ctx := ctxT(t, time.Minute)
		b := dial(t, url, Options{})
		topic, err := b.Topic(ctx, "postroom/test/"+uniqueName("pubsub"))
		require.NoError(t, err)
		s, err := topic.Subscribe(ctx, pubsub.SubscribeOptions{})
		require.NoError(t, err)
		defer s.Close()
		attrs := queue.Attributes{
			"s":    queue.String("v"),
			"n":    queue.Number("12.50"),
			"b":    queue.Binary([]byte{0, 1, 255}),
			"tags": queue.StringArray("a", "b"),
		}
		m := &pubsub.Message{Body: []byte{0, 'p', 'r', 1}, Subject: "greeting", GroupID: "g", Attributes: attrs}
		require.NoError(t, topic.Publish(ctx, m, &pubsub.Message{Body: []byte("second")}))
		assert.NotEmpty(t, m.ID)
		ds := drivertest.ReceiveN(t, s, 2)
		assert.Equal(t, []string{"\x00pr\x01", "second"}, drivertest.Bodies(ds), "in order; a body that looks like an envelope survives")
		d := ds[0]
		assert.Equal(t, m.ID, d.ID)
		assert.Equal(t, "g", d.GroupID)
		assert.Equal(t, 1, d.ReceiveCount)
		assert.WithinDuration(t, time.Now(), d.SentAt, time.Minute)
		want := attrs.Clone()
		want[pubsub.SubjectAttribute] = queue.String("greeting")
		assert.Equal(t, want, d.Attributes)
		var raw paho.Message
		require.True(t, d.As(&raw), "As gives the paho message")
		tp, ok := TopicOf(d)
		assert.True(t, ok)
		assert.Equal(t, topic.(*Topic).Name(), tp)
		require.NoError(t, s.Ack(ctx, ds...))
		require.ErrorIs(t, s.Ack(ctx, d), postroom.ErrReceiptInvalid, "acked already")
		require.ErrorIs(t, s.Nack(ctx, 0, ds...), postroom.ErrUnsupported, "MQTT has no nack")
		_, err = b.Queue(ctx, "q")
		require.ErrorIs(t, err, postroom.ErrUnsupported, "MQTT has no queues")
		drivertest.ReceiveNone(t, s, 300*time.Millisecond)
	})
}

func TestWildcards(t *testing.T) {
	eachBroker(t, func(t *testing.T, url string) {
		ctx := ctxT(t, time.Minute)
		b := dial(t, url, Options{})
		base := "postroom/test/" + uniqueName("wild")
		plus, err := b.Topic(ctx, base+"/+/temp")
		require.NoError(t, err)
		hash, err := b.Topic(ctx, base+"/#")
		require.NoError(t, err)
		sp, err := plus.Subscribe(ctx, pubsub.SubscribeOptions{})
		require.NoError(t, err)
		defer sp.Close()
		sh, err := hash.Subscribe(ctx, pubsub.SubscribeOptions{})
		require.NoError(t, err)
		defer sh.Close()
		for _, leaf := range []string{"/kitchen/temp", "/hall/temp", "/kitchen/humidity"} {
			tp, err := b.Topic(ctx, base+leaf)
			require.NoError(t, err)
			require.NoError(t, tp.Publish(ctx, &pubsub.Message{Body: []byte(leaf)}))
		}
		ds := drivertest.ReceiveN(t, sp, 2)
		assert.ElementsMatch(t, []string{"/kitchen/temp", "/hall/temp"}, drivertest.Bodies(ds))
		for _, d := range ds {
			tp, _ := TopicOf(d)
			assert.Equal(t, base+string(d.Body), tp)
		}
		require.NoError(t, sp.Ack(ctx, ds...))
		ds = drivertest.ReceiveN(t, sh, 3)
		require.NoError(t, sh.Ack(ctx, ds...))
		require.ErrorIs(t, plus.Publish(ctx, &pubsub.Message{Body: []byte("x")}), postroom.ErrInvalid, "no publishing to a filter")
		_, err = b.Topic(ctx, base+"/#/x")
		require.ErrorIs(t, err, postroom.ErrInvalid)
	})
}

func TestDurableSubscription(t *testing.T) {
	eachBroker(t, func(t *testing.T, url string) {
		ctx := ctxT(t, time.Minute)
		b := dial(t, url, Options{})
		topic, err := b.Topic(ctx, "postroom/test/"+uniqueName("durable"))
		require.NoError(t, err)
		name := uniqueName("sub")

		s, err := topic.Subscribe(ctx, pubsub.SubscribeOptions{Name: name})
		require.NoError(t, err)
		require.NoError(t, topic.Publish(ctx, &pubsub.Message{Body: []byte("unacked")}))
		held := drivertest.ReceiveN(t, s, 1)
		require.NoError(t, s.Close(), "closing with a message unacked")
		require.ErrorIs(t, s.Ack(ctx, held...), postroom.ErrClosed)
		require.NoError(t, topic.Publish(ctx, &pubsub.Message{Body: []byte("while away")}))

		s, err = topic.Subscribe(ctx, pubsub.SubscribeOptions{Name: name})
		require.NoError(t, err)
		ds := drivertest.ReceiveN(t, s, 2)
		assert.Equal(t, []string{"unacked", "while away"}, drivertest.Bodies(ds),
			"the persistent session delivers the unacked message again and keeps what came meanwhile")
		assert.Equal(t, 2, ds[0].ReceiveCount, "a redelivery (DUP) counts")
		require.NoError(t, s.Ack(ctx, ds...))

		require.NoError(t, s.(pubsub.Unsubscriber).Unsubscribe(ctx))
		require.NoError(t, topic.Publish(ctx, &pubsub.Message{Body: []byte("after unsubscribe")}))
		s, err = topic.Subscribe(ctx, pubsub.SubscribeOptions{Name: name})
		require.NoError(t, err)
		drivertest.ReceiveNone(t, s, time.Second)
		require.NoError(t, s.(pubsub.Unsubscriber).Unsubscribe(ctx))
	})
}

func TestFailover(t *testing.T) {
	eachBroker(t, func(t *testing.T, url string) {
		real := hostPort(t, url)
		tests := []struct {
			name string
			url  string
			opts Options
		}{
			{"query parameter", "mqtt://127.0.0.1:1?failover=" + real, Options{}},
			{"Options.Endpoints", "mqtt://127.0.0.1:1", Options{Endpoints: []string{"tcp://" + real}}},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				ctx := ctxT(t, 30*time.Second)
				b, err := Dial(ctx, tc.url, tc.opts)
				require.NoError(t, err)
				defer b.Close()
				b.main.mu.Lock()
				ep := b.main.cur.ep.Addr
				b.main.mu.Unlock()
				assert.Equal(t, real, ep, "connected to the second endpoint")
				topic, err := b.Topic(ctx, "postroom/test/"+uniqueName("failover"))
				require.NoError(t, err)
				s, err := topic.Subscribe(ctx, pubsub.SubscribeOptions{Name: uniqueName("failover")})
				require.NoError(t, err, "a durable subscription's own connection fails over too")
				require.NoError(t, topic.Publish(ctx, &pubsub.Message{Body: []byte("via standby")}))
				ds := drivertest.ReceiveN(t, s, 1)
				require.NoError(t, s.Ack(ctx, ds...))
				require.NoError(t, s.(pubsub.Unsubscriber).Unsubscribe(ctx))
			})
		}
	})
}

// TestOutage cuts the connections through a proxy: publishes during the
// outage succeed after the reconnection (or fail when their context ends
// first), and subscriptions are made again.
func TestOutage(t *testing.T) {
	eachBroker(t, func(t *testing.T, url string) {
		p := testproxy.New(t, hostPort(t, url))
		ctx := context.Background()
		b, err := Dial(ctxT(t, 10*time.Second), "mqtt://"+p.Addr(), Options{Backoff: fastBackoff, KeepAlive: 2 * time.Second})
		require.NoError(t, err)
		defer b.Close()
		st := drivertest.Watch(t, b)
		topic, err := b.OpenTopic(ctx, "postroom/test/"+uniqueName("outage"), TopicOptions{})
		require.NoError(t, err)
		sub, err := topic.Subscribe(ctx, pubsub.SubscribeOptions{})
		require.NoError(t, err)
		durable, err := topic.Subscribe(ctx, pubsub.SubscribeOptions{Name: uniqueName("outage")})
		require.NoError(t, err)
		defer func() { assert.NoError(t, durable.(pubsub.Unsubscriber).Unsubscribe(context.Background())) }()

		p.Cut()
		ch := st.Await(t, broker.Reconnecting)
		assert.Error(t, ch.Err)
		assert.Equal(t, "mqtt://"+p.Addr(), ch.Endpoint)

		short, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
		err = topic.Publish(short, &pubsub.Message{Body: []byte("given up")})
		cancel()
		require.ErrorIs(t, err, context.DeadlineExceeded, "a publish during an outage fails when its context ends")

		sent := make(chan error, 1)
		go func() { sent <- topic.Publish(ctx, &pubsub.Message{Body: []byte("during")}) }()
		select {
		case err := <-sent:
			t.Fatalf("a publish returned during the outage: %v", err)
		case <-time.After(500 * time.Millisecond):
		}
		p.Restore()
		st.Await(t, broker.Connected)
		require.NoError(t, <-sent)
		// The durable subscription's session kept what was published while
		// it was away; the other one gets what is published once all the
		// connections are back.
		got := drivertest.Bodies(drivertest.ReceiveN(t, durable, 1))
		if got[0] == "given up" { // it may have been published after all
			got = drivertest.Bodies(drivertest.ReceiveN(t, durable, 1))
		}
		assert.Equal(t, []string{"during"}, got)
		require.NoError(t, topic.Publish(ctx, &pubsub.Message{Body: []byte("after")}))
		seen := map[string]bool{}
		for !seen["after"] {
			ds := drivertest.ReceiveN(t, sub, 1)
			seen[string(ds[0].Body)] = true
			require.NoError(t, sub.Ack(ctx, ds...))
		}
	})
}

// TestTLS runs the driver over mqtts through a proxy that terminates TLS.
func TestTLS(t *testing.T) {
	eachBroker(t, func(t *testing.T, url string) {
		cert, pool := testproxy.SelfSigned(t)
		p := testproxy.NewTLS(t, hostPort(t, url), &tls.Config{Certificates: []tls.Certificate{cert}})
		ctx := ctxT(t, 30*time.Second)
		_, err := Dial(ctx, "mqtts://"+p.Addr(), Options{})
		var uerr x509.UnknownAuthorityError
		require.ErrorAs(t, err, &uerr, "the system roots refuse a self-signed certificate")

		b, err := Dial(ctx, "mqtts://"+p.Addr(), Options{TLSConfig: &tls.Config{RootCAs: pool}})
		require.NoError(t, err)
		defer b.Close()
		topic, err := b.Topic(ctx, "postroom/test/"+uniqueName("tls"))
		require.NoError(t, err)
		s, err := topic.Subscribe(ctx, pubsub.SubscribeOptions{})
		require.NoError(t, err)
		require.NoError(t, topic.Publish(ctx, &pubsub.Message{Body: []byte("over tls")}))
		ds := drivertest.ReceiveN(t, s, 1)
		require.NoError(t, s.Ack(ctx, ds...))
	})
}

func TestClose(t *testing.T) {
	eachBroker(t, func(t *testing.T, url string) {
		ctx := context.Background()
		b := dial(t, url, Options{})
		st := drivertest.Watch(t, b)
		topic, err := b.Topic(ctx, "postroom/test/"+uniqueName("close"))
		require.NoError(t, err)
		s, err := topic.Subscribe(ctx, pubsub.SubscribeOptions{})
		require.NoError(t, err)
		durable, err := topic.Subscribe(ctx, pubsub.SubscribeOptions{Name: uniqueName("close")})
		require.NoError(t, err)
		waiting := make(chan error, 1)
		go func() {
			_, err := s.Receive(ctx, queue.ReceiveOptions{WaitTime: 20 * time.Second})
			waiting <- err
		}()
		time.Sleep(100 * time.Millisecond)
		require.NoError(t, b.Close())
		require.ErrorIs(t, <-waiting, postroom.ErrClosed)
		st.Await(t, broker.Closed)
		assert.ErrorIs(t, topic.Publish(ctx, &pubsub.Message{Body: []byte("x")}), postroom.ErrClosed)
		_, err = durable.Receive(ctx, queue.ReceiveOptions{})
		assert.ErrorIs(t, err, postroom.ErrClosed)
		_, err = b.Topic(ctx, "x")
		assert.ErrorIs(t, err, postroom.ErrClosed)
		// Delete the durable session left on the broker.
		b2 := dial(t, url, Options{})
		t2, err := b2.Topic(ctx, topic.(*Topic).Name())
		require.NoError(t, err)
		d2, err := t2.Subscribe(ctx, pubsub.SubscribeOptions{Name: durable.(*Subscription).name})
		require.NoError(t, err)
		require.NoError(t, d2.(pubsub.Unsubscriber).Unsubscribe(ctx))
	})
}

func TestOpenURL(t *testing.T) {
	eachBroker(t, func(t *testing.T, raw string) {
		ctx := ctxT(t, 30*time.Second)
		base := "mqtt://" + hostPort(t, raw)
		b, err := broker.Open(ctx, base)
		require.NoError(t, err)
		defer b.Close()
		assert.IsType(t, &Broker{}, b)
		name := "postroom/test/" + uniqueName("url")
		topic, err := pubsub.Open(ctx, base+"/"+name)
		require.NoError(t, err)
		s, err := topic.Subscribe(ctx, pubsub.SubscribeOptions{})
		require.NoError(t, err)
		require.NoError(t, topic.Close(), "the subscription keeps the connection")
		bt, err := b.Topic(ctx, name)
		require.NoError(t, err)
		require.NoError(t, bt.Publish(ctx, &pubsub.Message{Body: []byte("to the url topic")}))
		ds := drivertest.ReceiveN(t, s, 1)
		require.NoError(t, s.Ack(ctx, ds...))
		require.NoError(t, s.Close())
		_, err = queue.Open(ctx, base+"/q")
		require.Error(t, err, "no queue opener for mqtt")
	})
}

func TestRawPayload(t *testing.T) {
	eachBroker(t, func(t *testing.T, url string) {
		ctx := ctxT(t, 30*time.Second)
		b := dial(t, url, Options{RawPayload: true})
		topic, err := b.Topic(ctx, "postroom/test/"+uniqueName("raw"))
		require.NoError(t, err)
		s, err := topic.Subscribe(ctx, pubsub.SubscribeOptions{})
		require.NoError(t, err)
		defer s.Close()
		err = topic.Publish(ctx, &pubsub.Message{Body: []byte("x"), Attributes: queue.Attributes{"a": queue.String("b")}})
		require.ErrorIs(t, err, postroom.ErrUnsupported)
		require.NoError(t, topic.Publish(ctx, &pubsub.Message{Body: []byte(`{"plain":"json"}`)}))
		d := drivertest.ReceiveN(t, s, 1)[0]
		assert.Equal(t, `{"plain":"json"}`, string(d.Body))
		assert.Empty(t, d.ID, "no envelope, no id")
		var m paho.Message
		require.True(t, d.As(&m))
		assert.Equal(t, d.Body, m.Payload(), "the payload is the body")
		require.NoError(t, s.Ack(ctx, d))
	})
}

func TestGiveUp(t *testing.T) {
	eachBroker(t, func(t *testing.T, url string) {
		p := testproxy.New(t, hostPort(t, url))
		b, err := Dial(ctxT(t, 10*time.Second), "mqtt://"+p.Addr(), Options{Backoff: fastBackoff, MaxReconnectAttempts: 2})
		require.NoError(t, err)
		defer b.Close()
		st := drivertest.Watch(t, b)
		topic, err := b.Topic(context.Background(), "postroom/test/"+uniqueName("giveup"))
		require.NoError(t, err)
		p.Cut()
		ch := st.Await(t, broker.Closed)
		require.Error(t, ch.Err, "why the broker gave up")
		assert.Contains(t, ch.Err.Error(), "gave up reconnecting after 2 attempts")
		err = topic.Publish(context.Background(), &pubsub.Message{Body: []byte("x")})
		require.ErrorIs(t, err, postroom.ErrClosed)
		require.NoError(t, b.Close())
	})
}
