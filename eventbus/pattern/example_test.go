package pattern_test

import (
	"errors"
	"fmt"

	"github.com/postroom/postroom/eventbus/pattern"
)

func ExampleCompile() {
	p, err := pattern.Compile([]byte(`{
	  "source": ["aws.ec2"],
	  "detail": {
	    "state": [{"anything-but": ["pending", "running"]}],
	    "count": [{"numeric": [">", 0, "<=", 5]}]
	  }
	}`))
	if err != nil {
		fmt.Println(err)
		return
	}
	ok, err := p.Match([]byte(`{"source": "aws.ec2", "detail": {"state": "terminated", "count": 3}}`))
	fmt.Println(ok, err)

	_, err = pattern.Compile([]byte(`{"source": "aws.ec2"}`))
	fmt.Println(err)
	fmt.Println(errors.Is(err, pattern.ErrInvalid))
	// Output:
	// true <nil>
	// Event pattern is not valid. Reason: "source" must be an object or an array
	// true
}

func ExampleMatcher() {
	m := pattern.NewMatcher()
	for name, src := range map[string]string{
		"ec2":        `{"source": ["aws.ec2"]}`,
		"terminated": `{"detail": {"state": ["terminated"]}}`,
		"prod":       `{"detail": {"tags": {"key": ["env"], "value": ["prod"]}}}`,
		"s3":         `{"source": ["aws.s3"]}`,
	} {
		p, err := pattern.Compile([]byte(src))
		if err != nil {
			panic(err)
		}
		if err := m.Add(name, p); err != nil {
			panic(err)
		}
	}
	names, err := m.Match([]byte(`{
	  "source": "aws.ec2",
	  "detail": {
	    "state": "terminated",
	    "tags": [{"key": "env", "value": "prod"}, {"key": "team", "value": "web"}]
	  }
	}`))
	fmt.Println(names, err)
	// Output:
	// [ec2 prod terminated] <nil>
}

func ExampleCompileFilterPolicy() {
	p, err := pattern.CompileFilterPolicy([]byte(`{
	  "store": ["example_corp"],
	  "price_usd": [{"numeric": [">=", 100]}],
	  "interests": ["rugby", "football"]
	}`), pattern.ScopeMessageAttributes)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(p.MatchAttributes(map[string]pattern.Attribute{
		"store":     {Type: "String", Value: "example_corp"},
		"price_usd": {Type: "Number", Value: "210.75"},
		"interests": {Type: "String.Array", Value: `["soccer", "rugby"]`},
	}))

	_, err = pattern.CompileFilterPolicy([]byte(`{"a": [{"wildcard": "x*"}]}`), pattern.ScopeMessageBody)
	fmt.Println(err)
	// Output:
	// true
	// Invalid parameter: FilterPolicy: Unrecognized match type wildcard
}
