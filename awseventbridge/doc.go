// Package awseventbridge is the Amazon EventBridge driver of postroom,
// built on aws-sdk-go-v2: a [Bus] implements eventbus.Bus,
// eventbus.RuleManager, eventbus.Archiver and eventbus.Replayer.
//
//	cfg, err := config.LoadDefaultConfig(ctx)
//	b, err := awseventbridge.NewFromConfig(ctx, cfg, "orders", awseventbridge.Options{})
//	q, err := awssqs.NewFromConfig(ctx, cfg, "billing", awssqs.Options{})
//	err = b.PutRule(ctx, eventbus.Rule{Name: "placed", EventPattern: `{"detail-type":["Order Placed"]}`})
//	err = b.PutTargets(ctx, "placed", eventbus.Target{ID: "billing", Queue: q})
//	err = b.Put(ctx, &eventbus.Event{Source: "com.example.orders", DetailType: "Order Placed", Detail: detail})
//
// Targets name their destination by ARN, or by a Queue or Topic that
// knows its ARN ([ARNer]: *awssqs.Queue, *awssns.Topic); a DeadLetter
// must be an *awssqs.Queue. Function targets are refused with
// postroom.ErrUnsupported (EventBridge invokes Lambda functions by ARN).
// Rule and archive patterns are compiled with package eventbus/pattern
// before any call, so an invalid one fails with eventbus.ErrInvalidPattern
// and EventBridge's message. [MatchOffline] answers what
// [Bus.TestEventPattern] asks the service.
//
// # URLs
//
// Importing the package registers the scheme "awseventbridge" with
// [eventbus.Open]:
//
//	awseventbridge://default?region=eu-west-1
//	awseventbridge://orders
//	awseventbridge:///arn:aws:events:eu-west-1:123456789012:event-bus/orders
//
// The configuration comes from the SDK's default chain. The query
// parameters are region, profile and endpoint (a base endpoint URL, for
// example a local endpoint); others are errors matching
// [postroom.ErrInvalid]. Without region, a bus given by ARN is opened in
// the ARN's region. [New] and [NewFromConfig] open a bus from a client or
// a configuration.
//
// # Message delivery semantics
//
// Put returns once EventBridge has accepted the events; EventBridge
// delivers to each matching rule's targets at least once, retrying a
// failing target by its retry policy and then sending the event to its
// dead-letter queue. Put takes 1 to 10 events whose sizes, by
// EventBridge's formula ([EntrySize]: 14 bytes for a Time, plus Source,
// DetailType, Detail and each resource), add up to at most
// Options.MaxEntrySize (1 MiB; 256 KiB on services that keep the earlier
// limit). A Put of one event made while other Puts are under way waits up
// to Options.BatchWait (5 ms) to share a PutEvents call with them; one made
// alone is put at once. Entries EventBridge would refuse
// (no Source or DetailType, a Detail that is not a JSON object) are
// reported in an index-aligned *postroom.BatchError with EventBridge's
// codes (InvalidArgument, MalformedDetail), and the others are put;
// entries that fail with a retryable code are put again, alone.
//
// Replays run asynchronously on EventBridge (archives record events with
// a delay of minutes): DescribeReplay reports progress.
//
// # As
//
// Events reach targets as EventBridge writes them; deliveries received
// from an SQS target are those of package awssqs.
//
// # Limits
//
//   - 10 events a Put, Options.MaxEntrySize bytes a Put by the entry-size
//     formula; 5 targets a rule (more fail with eventbus.ErrLimitExceeded).
//   - Rule, target, archive and replay names: 1 to 64 characters from
//     [.\-_A-Za-z0-9]. Archive retention in whole days, rounded up.
//
// # Credentials
//
// As in package awssqs: aws-sdk-go-v2's own chain, and BaseEndpoint,
// AWS_ENDPOINT_URL and AWS_ENDPOINT_URL_EVENTBRIDGE.
//
// # Differences from the memory driver
//
// Both follow EventBridge and pass the same conformance suite. What
// differs:
//
//	                      memory                         awseventbridge
//	delivery to targets   queues and topics during Put;  asynchronous: shortly after
//	                      functions asynchronously       Put returns
//	function targets      called (Target.Func)           refused: Lambda by ARN
//	targets               queues, topics, functions of   ARNs, or an ARNer
//	                      any driver
//	archives, replays     archived as put; a replay      archived with a delay of
//	                      runs synchronously             minutes; replays run later
//	single Put            one call each                  coalesced into PutEvents
//	                                                     calls under load
//	testing/synctest      runs in a bubble               no (network calls)
//
// # Tested against
//
// The package's tests run eventbustest through the SDK against the local
// AWS endpoint of package localaws, in-process, with every capability
// declared (Func aside: EventBridge has no function targets), and against
// moto_server (moto 5.2), an independent implementation, which differs
// from EventBridge; the moto run declares it: moto writes events
// with its own field order and no account (Envelope off), fails with an
// internal error on InputTransformer targets (Transform off), replays
// events outside the requested window (Archive off), re-serializes the
// detail (DetailReformatted), routes events to disabled rules
// (RuleStateIgnored), and does not implement TestEventPattern.
package awseventbridge
