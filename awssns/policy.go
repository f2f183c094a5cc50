package awssns

import (
	"encoding/json"
	"fmt"
	"hash/fnv"
)

// policySid names the statement that lets a topic send to a queue: one per
// topic, so that subscribing the queue again replaces it rather than
// adding a copy.
func policySid(topicARN string) string {
	h := fnv.New64a()
	h.Write([]byte(topicARN))
	return fmt.Sprintf("postroom-sns-%016x", h.Sum64())
}

// mergePolicy returns the queue access policy existing (JSON, or empty)
// with a statement that allows the SNS topic topicARN to send to the queue
// queueARN. The other statements and fields are kept as they are; a
// statement of the same Sid is replaced.
func mergePolicy(existing, queueARN, topicARN string) (string, error) {
	doc := map[string]any{}
	if existing != "" {
		if err := json.Unmarshal([]byte(existing), &doc); err != nil {
			return "", fmt.Errorf("the queue's Policy is not JSON: %w", err)
		}
	}
	if _, ok := doc["Version"]; !ok {
		doc["Version"] = "2012-10-17"
	}
	var stmts []any
	switch s := doc["Statement"].(type) {
	case nil:
	case []any:
		stmts = s
	case map[string]any: // a single statement may be written without a list
		stmts = []any{s}
	default:
		return "", fmt.Errorf("the queue's Policy has a Statement of type %T", s)
	}
	sid := policySid(topicARN)
	kept := stmts[:0:0]
	for _, s := range stmts {
		if m, ok := s.(map[string]any); ok && m["Sid"] == sid {
			continue
		}
		kept = append(kept, s)
	}
	kept = append(kept, map[string]any{
		"Sid":       sid,
		"Effect":    "Allow",
		"Principal": map[string]any{"Service": "sns.amazonaws.com"},
		"Action":    "sqs:SendMessage",
		"Resource":  queueARN,
		"Condition": map[string]any{"ArnEquals": map[string]any{"aws:SourceArn": topicARN}},
	})
	doc["Statement"] = kept
	b, err := json.Marshal(doc)
	return string(b), err
}
