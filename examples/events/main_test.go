package main

import (
	"context"
	"strings"
	"testing"
)

func TestEvents(t *testing.T) {
	var out strings.Builder
	err := run(context.Background(), &out, config{
		bus:       "mem://events-example-test",
		notify:    "mem://events-example-notify",
		highValue: "mem://events-example-high",
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`notification:     {"message":"Order o-1001 placed by Ada","orderId":"o-1001","total":25.5,"rule":"order-placed"}`,
		`notification:     {"message":"Order o-1002 placed by Grace","orderId":"o-1002","total":1499,"rule":"order-placed"}`,
		`notification:     {"message":"Order o-1003 placed by Edsger","orderId":"o-1003","total":999.99,"rule":"order-placed"}`,
		`high-value order: {"customer":{"name":"Grace"},"order":{"id":"o-1002","total":1499}}`,
		`queue drained: 0 visible, 0 in flight`,
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	if n := strings.Count(out.String(), "high-value order:"); n != 1 {
		t.Errorf("%d high-value orders, want 1:\n%s", n, out.String())
	}
}
