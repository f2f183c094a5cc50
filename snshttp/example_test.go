package snshttp_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/postroom/postroom/memory"
	"github.com/postroom/postroom/pubsub"
	"github.com/postroom/postroom/queue"
	"github.com/postroom/postroom/snshttp"
)

// An application's SNS endpoint, subscribed to a topic of a memory world
// whose SNS URLs (signing certificate, SubscribeURL) a local TLS server
// serves: the receiver confirms the subscription, then verifies each
// notification and hands it to the same handler a queue consumer runs.
func Example() {
	var world *memory.World
	snsHost := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		world.SNSHandler().ServeHTTP(w, r)
	}))
	defer snsHost.Close()
	posts := &http.Transport{}
	defer posts.CloseIdleConnections()
	world = memory.NewWorld(memory.WorldOptions{SNSURLBase: snsHost.URL, HTTPClient: &http.Client{Transport: posts}})
	defer world.Close()

	handled := make(chan string, 1)
	handleOrder := func(ctx context.Context, d *queue.Delivery) error {
		handled <- fmt.Sprintf("%s (subject %q)", d.Body, d.Attributes[pubsub.SubjectAttribute].Value)
		return nil
	}
	recv, err := snshttp.New(handleOrder, snshttp.Options{
		AllowedHosts: []string{"127.0.0.1"}, // the local SNS host; SNS's own hosts are always allowed
		HTTPClient:   snsHost.Client(),
	})
	if err != nil {
		panic(err)
	}
	app := httptest.NewServer(recv)
	defer app.Close()

	topic, _ := world.NewTopic("orders", memory.TopicOptions{})
	sub, _, _ := topic.SubscribeEndpoint("http", app.URL+"/sns", nil)
	for info, _ := topic.SubscriptionInfo(sub.ARN); info.Pending; info, _ = topic.SubscriptionInfo(sub.ARN) {
		time.Sleep(10 * time.Millisecond) // the receiver confirms by a GET of the SubscribeURL
	}
	fmt.Println("confirmed")

	_ = topic.Publish(context.Background(), &pubsub.Message{Body: []byte(`{"order":1}`), Subject: "new order"})
	fmt.Println(<-handled)
	// Output:
	// confirmed
	// {"order":1} (subject "new order")
}
