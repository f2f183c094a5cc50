package pattern

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func str(v string) Attribute { return Attribute{Type: "String", Value: v} }
func num(v string) Attribute { return Attribute{Type: "Number", Value: v} }
func arr(v string) Attribute { return Attribute{Type: "String.Array", Value: v} }
func bin(v string) Attribute { return Attribute{Type: "Binary", Value: v} }
func attrs(kv ...any) map[string]Attribute {
	m := map[string]Attribute{}
	for i := 0; i < len(kv); i += 2 {
		m[kv[i].(string)] = kv[i+1].(Attribute)
	}
	return m
}

// TestFilterPolicyAttributes covers each operator on the MessageAttributes
// scope, with String, String.Array, Number and Binary attributes.
func TestFilterPolicyAttributes(t *testing.T) {
	tests := []struct {
		name   string
		policy string
		attrs  map[string]Attribute
		want   bool
	}{
		{"exact string", `{"store": ["example_corp"]}`, attrs("store", str("example_corp")), true},
		{"exact string no match", `{"store": ["example_corp"]}`, attrs("store", str("other")), false},
		{"missing attribute", `{"store": ["example_corp"]}`, attrs("other", str("example_corp")), false},
		{"or within a key", `{"store": ["a", "b"]}`, attrs("store", str("b")), true},
		{"and across keys", `{"store": ["a"], "event": ["order_placed"]}`, attrs("store", str("a"), "event", str("order_placed")), true},
		{"and across keys fails", `{"store": ["a"], "event": ["order_placed"]}`, attrs("store", str("a"), "event", str("order_cancelled")), false},
		{"unlisted attributes ignored", `{"store": ["a"]}`, attrs("store", str("a"), "x", str("y")), true},
		{"String.Array element", `{"customer_interests": ["rugby"]}`, attrs("customer_interests", arr(`["soccer", "rugby", "hockey"]`)), true},
		{"String.Array no element", `{"customer_interests": ["golf"]}`, attrs("customer_interests", arr(`["soccer", "rugby"]`)), false},
		{"String.Array numbers", `{"sizes": [{"numeric": [">", 10]}]}`, attrs("sizes", arr(`[5, 12]`)), true},
		{"String.Array anything-but any element", `{"x": [{"anything-but": "a"}]}`, attrs("x", arr(`["a", "b"]`)), true},
		{"String.Array anything-but all listed", `{"x": [{"anything-but": ["a", "b"]}]}`, attrs("x", arr(`["a", "b"]`)), false},
		{"String.Array malformed is ignored", `{"x": [{"exists": true}]}`, attrs("x", arr(`["a", `)), false},
		{"Number exact", `{"price": [100]}`, attrs("price", num("100.0")), true},
		{"Number vs string value", `{"price": ["100"]}`, attrs("price", num("100")), false},
		{"String vs number value", `{"price": [100]}`, attrs("price", str("100")), false},
		{"Number with label", `{"price": [{"numeric": ["<", 5]}]}`, attrs("price", Attribute{"Number.float", "4.5"}), true},
		{"String with label", `{"name": ["x"]}`, attrs("name", Attribute{"String.custom", "x"}), true},
		{"numeric range", `{"price": [{"numeric": [">", 0, "<=", 100]}]}`, attrs("price", num("99")), true},
		{"numeric range outside", `{"price": [{"numeric": [">", 0, "<=", 100]}]}`, attrs("price", num("111")), false},
		{"numeric on string attribute", `{"price": [{"numeric": [">", 0]}]}`, attrs("price", str("5")), false},
		{"Binary ignored exists", `{"img": [{"exists": true}]}`, attrs("img", bin("aGk=")), false},
		{"Binary ignored exists false", `{"img": [{"exists": false}]}`, attrs("img", bin("aGk=")), true},
		{"Binary ignored value", `{"img": ["aGk="]}`, attrs("img", bin("aGk=")), false},
		{"prefix", `{"event": [{"prefix": "order-"}]}`, attrs("event", str("order-1")), true},
		{"prefix on number", `{"event": [{"prefix": "1"}]}`, attrs("event", num("12")), false},
		{"suffix", `{"file": [{"suffix": ".png"}]}`, attrs("file", str("a.png")), true},
		{"equals-ignore-case", `{"state": [{"equals-ignore-case": "ON"}]}`, attrs("state", str("oN")), true},
		{"anything-but value", `{"store": [{"anything-but": "x"}]}`, attrs("store", str("y")), true},
		{"anything-but value excluded", `{"store": [{"anything-but": "x"}]}`, attrs("store", str("x")), false},
		{"anything-but list", `{"store": [{"anything-but": ["x", "y"]}]}`, attrs("store", str("z")), true},
		{"anything-but numbers", `{"price": [{"anything-but": [100, 200]}]}`, attrs("price", num("100")), false},
		{"anything-but missing", `{"store": [{"anything-but": "x"}]}`, attrs(), false},
		{"anything-but prefix", `{"event": [{"anything-but": {"prefix": "order-"}}]}`, attrs("event", str("refund-1")), true},
		{"anything-but prefix excluded", `{"event": [{"anything-but": {"prefix": "order-"}}]}`, attrs("event", str("order-1")), false},
		{"exists true", `{"store": [{"exists": true}]}`, attrs("store", str("fans")), true},
		{"exists true empty string", `{"store": [{"exists": true}]}`, attrs("store", str("")), false},
		{"exists true String.Array with a value", `{"store": [{"exists": true}]}`, attrs("store", arr(`["", "fans"]`)), true},
		{"exists true String.Array of empties", `{"store": [{"exists": true}]}`, attrs("store", arr(`["", null]`)), false},
		{"exists true String.Array empty", `{"store": [{"exists": true}]}`, attrs("store", arr(`[]`)), false},
		{"exists false empty string", `{"store": [{"exists": false}]}`, attrs("store", str("")), false},
		{"exists false", `{"store": [{"exists": false}]}`, attrs("def", num("99")), true},
		{"exists false present", `{"store": [{"exists": false}]}`, attrs("store", num("99")), false},
		{"exists false no attributes", `{"store": [{"exists": false}]}`, attrs(), false},
		{"exists false nil attributes", `{"store": [{"exists": false}]}`, nil, false},
		{"$or of exists false no attributes", `{"$or": [{"a": [{"exists": false}]}, {"b": [{"exists": false}]}]}`, attrs(), false},
		{"exists false only a Binary attribute", `{"store": [{"exists": false}]}`, attrs("img", bin("aGk=")), true},
		{"cidr", `{"ip": [{"cidr": "10.0.0.0/24"}]}`, attrs("ip", str("10.0.0.255")), true},
		{"cidr outside", `{"ip": [{"cidr": "10.0.0.0/24"}]}`, attrs("ip", str("10.0.1.0")), false},
		{"null never matches an attribute", `{"store": [null]}`, attrs(), false},
		{"$or", `{"source": ["aws.cloudwatch"], "$or": [{"metricName": ["CPUUtilization"]}, {"namespace": ["AWS/EC2"]}]}`, attrs("source", str("aws.cloudwatch"), "namespace", str("AWS/EC2")), true},
		{"$or none", `{"source": ["aws.cloudwatch"], "$or": [{"metricName": ["CPUUtilization"]}, {"namespace": ["AWS/EC2"]}]}`, attrs("source", str("aws.cloudwatch")), false},
		{"dotted attribute name", `{"a.b": ["x"]}`, attrs("a.b", str("x")), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := CompileFilterPolicy([]byte(tt.policy), ScopeMessageAttributes)
			require.NoError(t, err)
			assert.Equal(t, tt.want, p.MatchAttributes(tt.attrs))

			m := NewMatcher()
			require.NoError(t, m.Add("sub", p))
			assert.Equal(t, tt.want, len(m.MatchAttributes(tt.attrs)) == 1, "Matcher.MatchAttributes")
		})
	}
}

// TestFilterPolicyBody covers the MessageBody scope.
func TestFilterPolicyBody(t *testing.T) {
	tests := []struct {
		name   string
		policy string
		body   string
		want   bool
	}{
		{"nested exact", `{"object": {"key": [{"prefix": "auto-"}]}}`, `{"object": {"key": "auto-test"}}`, true},
		{"nested exact no match", `{"object": {"key": [{"prefix": "auto-"}]}}`, `{"object": {"key": "home-test"}}`, false},
		{"dotted policy key", `{"object.nested": ["string.value"]}`, `{"object": {"nested": "string.value"}}`, true},
		{"dotted body key", `{"object": {"nested": ["string.value"]}}`, `{"object.nested": "string.value"}`, true},
		{"array of values", `{"headers": {"route-to": ["queue1"]}}`, `{"headers": {"route-to": ["queue1", "queue2"]}}`, true},
		{"array of objects", `{"Records": {"s3": {"object": {"key": [{"prefix": "auto-"}]}}}}`, `{"Records": [{"s3": {"object": [[{"key": "auto-insurance-2314.xml"}]]}}, {"s3": {"object": {"key": "home"}}}]}`, true},
		{"numbers", `{"price": [{"numeric": [">=", 10]}]}`, `{"price": 10.0}`, true},
		{"null", `{"v": [null]}`, `{"v": null}`, true},
		{"anything-but null", `{"v": [{"anything-but": "x"}]}`, `{"v": null}`, true},
		{"anything-but missing", `{"v": [{"anything-but": "x"}]}`, `{}`, false},
		{"exists false nested", `{"a": {"b": [{"exists": false}]}}`, `{"a": {"c": 1}}`, true},
		{"$or nested", `{"$or": [{"a": {"b": ["x"]}}, {"c": ["y"]}]}`, `{"c": "y"}`, true},
		{"$or object is a field", `{"$or": {"a": ["x"]}}`, `{"$or": {"a": "x"}}`, true},
		// exists: true needs a non-null, non-empty value.
		{"exists true", `{"v": [{"exists": true}]}`, `{"v": "x"}`, true},
		{"exists true null", `{"v": [{"exists": true}]}`, `{"v": null}`, false},
		{"exists true empty string", `{"v": [{"exists": true}]}`, `{"v": ""}`, false},
		{"exists true zero", `{"v": [{"exists": true}]}`, `{"v": 0}`, true},
		{"exists true false", `{"v": [{"exists": true}]}`, `{"v": false}`, true},
		{"exists true array with a value", `{"v": [{"exists": true}]}`, `{"v": ["", null, "x"]}`, true},
		{"exists true array of empties", `{"v": [{"exists": true}]}`, `{"v": ["", null]}`, false},
		{"exists true nested null", `{"a": {"v": [{"exists": true}]}}`, `{"a": {"v": null}}`, false},
		{"exists true or null value", `{"v": [{"exists": true}, null]}`, `{"v": null}`, true},
		{"exists true element of array of objects", `{"r": {"v": [{"exists": true}]}}`, `{"r": [{"v": ""}, {"v": "x"}]}`, true},
		{"exists true elements all empty", `{"r": {"v": [{"exists": true}]}}`, `{"r": [{"v": ""}, {"v": null}]}`, false},
		// exists: false still means the key is absent: a key holding null
		// or "" satisfies neither exists: true nor exists: false.
		{"exists false null", `{"v": [{"exists": false}]}`, `{"v": null}`, false},
		{"exists false empty string", `{"v": [{"exists": false}]}`, `{"v": ""}`, false},
		// An empty body, like an empty set of attributes, matches nothing.
		{"exists false empty body", `{"v": [{"exists": false}]}`, `{}`, false},
		{"exists false empty body with spaces", `{"v": [{"exists": false}]}`, " {\n\t} ", false},
		{"exists false other key", `{"v": [{"exists": false}]}`, `{"w": 1}`, true},
		{"exists false only an empty object", `{"v": [{"exists": false}]}`, `{"w": {}}`, true},
		{"$or of exists false empty body", `{"$or": [{"a": [{"exists": false}]}, {"b": [{"exists": false}]}]}`, `{}`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := CompileFilterPolicy([]byte(tt.policy), ScopeMessageBody)
			require.NoError(t, err)
			got, err := p.Match([]byte(tt.body))
			require.NoError(t, err)
			assert.Equal(t, tt.want, got, "Pattern.Match")

			m := NewMatcher()
			require.NoError(t, m.Add("sub", p))
			require.NoError(t, m.Add("eb", mustCompile(t, `{"zz": [{"exists": false}]}`)))
			names, err := m.Match([]byte(tt.body))
			require.NoError(t, err)
			assert.Equal(t, tt.want, slices.Contains(names, "sub"), "Matcher.Match")
			assert.Contains(t, names, "eb", "an EventBridge pattern in the same Matcher keeps its own rules")
		})
	}
}

// wideMember is a $or member of 31 two-valued fields: 2^31 combinations,
// more than a 32-bit int holds.
var wideMember = func() string {
	var fields []string
	for i := range 31 {
		fields = append(fields, fmt.Sprintf(`"k%d": ["a", "b"]`, i))
	}
	return "{" + strings.Join(fields, ", ") + "}"
}()

// TestFilterPolicyErrors checks SNS's validation and its exact messages
// (AWS-recorded where LocalStack's snapshot has them).
func TestFilterPolicyErrors(t *testing.T) {
	tests := []struct {
		name   string
		policy string
		scope  Scope
		want   string
	}{
		{"too many keys", `{"a": ["1"], "b": ["1"], "c": ["1"], "d": ["1"], "e": ["1"], "f": ["1"]}`, ScopeMessageAttributes,
			"Invalid parameter: FilterPolicy: Filter policy can not have more than 5 keys"},
		{"five keys are fine", `{"a": ["1"], "b": ["1"], "c": ["1"], "d": ["1"], "e": ["1"]}`, ScopeMessageAttributes, ""},
		{"too complex in one condition", `{"key_a": [` + strings.Repeat(`"v",`, 150) + `"w"]}`, ScopeMessageAttributes,
			"Invalid parameter: FilterPolicy: Filter policy is too complex"},
		{"150 combinations are fine", `{"key_a": [` + strings.Repeat(`"v",`, 149) + `"w"]}`, ScopeMessageAttributes, ""},
		{"too complex in two conditions", `{"a": [` + strings.Repeat(`"v",`, 12) + `"w"], "b": [` + strings.Repeat(`"v",`, 11) + `"w"]}`, ScopeMessageAttributes,
			"Invalid parameter: FilterPolicy: Filter policy is too complex"},
		{"nested combinations", `{"key_a": {"key_b": {"key_c": ["1", "2", "3", "4"]}}, "key_d": {"key_e": ["1", "2", "3"]}}`, ScopeMessageBody, ""},
		{"nested too complex", `{"key_a": {"key_b": {"key_c": ["1", "2", "3", "4", "5", "6", "7"]}}, "key_d": {"key_e": ["1", "2", "3", "4"]}}`, ScopeMessageBody,
			"Invalid parameter: FilterPolicy: Filter policy is too complex"},
		{"$or too complex", `{"$or": [{"a": [` + strings.Repeat(`"v",`, 80) + `"w"]}, {"b": [` + strings.Repeat(`"v",`, 80) + `"w"]}]}`, ScopeMessageAttributes,
			"Invalid parameter: FilterPolicy: Filter policy is too complex"},
		{"$or counts saturate", `{"$or": [` + wideMember + `, ` + wideMember + `, ` + wideMember + `]}`, ScopeMessageAttributes,
			"Invalid parameter: FilterPolicy: Filter policy is too complex"},
		{"$or object is a nested field", `{"$or": {"a": ["x"]}}`, ScopeMessageAttributes,
			"Invalid parameter: Filter policy scope MessageAttributes does not support nested filter policy"},
		{"$or object is a field in the body", `{"$or": {"a": ["x"]}}`, ScopeMessageBody, ""},
		{"nested in attributes scope", `{"object": {"key": ["x"]}}`, ScopeMessageAttributes,
			"Invalid parameter: Filter policy scope MessageAttributes does not support nested filter policy"},
		{"no wildcard", `{"a": [{"wildcard": "x*"}]}`, ScopeMessageBody,
			"Invalid parameter: FilterPolicy: Unrecognized match type wildcard"},
		{"anything-but suffix", `{"key": [{"anything-but": {"suffix": "test"}}]}`, ScopeMessageAttributes,
			"Invalid parameter: FilterPolicy: Unsupported anything-but pattern: suffix"},
		{"anything-but exists", `{"key": [{"anything-but": {"exists": false}}]}`, ScopeMessageAttributes,
			"Invalid parameter: FilterPolicy: Unsupported anything-but pattern: exists"},
		{"anything-but wrong operator", `{"key": [{"anything-but": {"wrong-operator": null}}]}`, ScopeMessageAttributes,
			"Invalid parameter: FilterPolicy: Unsupported anything-but pattern: wrong-operator"},
		{"anything-but prefix type", `{"key": [{"anything-but": {"prefix": false}}]}`, ScopeMessageAttributes,
			"Invalid parameter: FilterPolicy: prefix match pattern must be a string"},
		{"list of lists", `{"key": [["value"]]}`, ScopeMessageAttributes,
			"Invalid parameter: FilterPolicy: Match value must be String, number, true, false, or null"},
		{"unknown operator", `{"key": [{"wrong-operator": true}]}`, ScopeMessageAttributes,
			"Invalid parameter: FilterPolicy: Unrecognized match type wrong-operator"},
		{"two operators", `{"key": [{"suffix": "value", "prefix": "value2"}]}`, ScopeMessageAttributes,
			"Invalid parameter: FilterPolicy: Only one key allowed in match expression"},
		{"suffix number", `{"key": [{"suffix": 100}]}`, ScopeMessageAttributes,
			"Invalid parameter: FilterPolicy: suffix match pattern must be a string"},
		{"not a list", `{"key_a": "value_one"}`, ScopeMessageBody,
			`Invalid parameter: FilterPolicy: "key_a" must be an object or an array`},
		{"numeric empty", `{"key": [{"numeric": []}]}`, ScopeMessageAttributes,
			"Invalid parameter: FilterPolicy: Invalid member in numeric match: ]"},
		{"numeric operator", `{"key": [{"numeric": ["operator"]}]}`, ScopeMessageAttributes,
			"Invalid parameter: FilterPolicy: Unrecognized numeric range operator: operator"},
		{"numeric order", `{"key": [{"numeric": [1, "<="]}]}`, ScopeMessageAttributes,
			"Invalid parameter: FilterPolicy: Invalid member in numeric match: 1"},
		{"numeric type", `{"key": [{"numeric": ["=", "000"]}]}`, ScopeMessageAttributes,
			"Invalid parameter: FilterPolicy: Value of equals must be numeric"},
		{"numeric missing value", `{"key": [{"numeric": [">="]}]}`, ScopeMessageAttributes,
			"Invalid parameter: FilterPolicy: Value of >= must be numeric"},
		{"numeric range order", `{"key": [{"numeric": ["<", 100, ">", 10]}]}`, ScopeMessageAttributes,
			"Invalid parameter: FilterPolicy: Too many elements in numeric expression"},
		{"numeric range operators", `{"key": [{"numeric": [">=", 1, ">", 2]}]}`, ScopeMessageAttributes,
			"Invalid parameter: FilterPolicy: Bad numeric range operator: >"},
		{"numeric bottom top", `{"key": [{"numeric": [">", 3, "<", 1]}]}`, ScopeMessageAttributes,
			"Invalid parameter: FilterPolicy: Bottom must be less than top"},
		{"numeric missing range value", `{"key": [{"numeric": [">", 20, "<="]}]}`, ScopeMessageAttributes,
			"Invalid parameter: FilterPolicy: Value of <= must be numeric"},
		{"numeric missing range operator", `{"key": [{"numeric": [">", 20, 30]}]}`, ScopeMessageAttributes,
			"Invalid parameter: FilterPolicy: Bad value in numeric range: 30"},
		{"numeric too many terms", `{"key": [{"numeric": [">", 20, "<", 30, "<", 50]}]}`, ScopeMessageAttributes,
			"Invalid parameter: FilterPolicy: Too many terms in numeric range expression"},
		{"exists null", `{"key": [{"exists": null}]}`, ScopeMessageAttributes,
			"Invalid parameter: FilterPolicy: exists match pattern must be either true or false."},
		{"empty array", `{"key": []}`, ScopeMessageAttributes,
			"Invalid parameter: FilterPolicy: Empty arrays are not allowed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := CompileFilterPolicy([]byte(tt.policy), tt.scope)
			if tt.want == "" {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.True(t, errors.Is(err, ErrInvalid))
			assert.Equal(t, tt.want, err.Error())
			var perr *Error
			require.ErrorAs(t, err, &perr)
			assert.Equal(t, SNS, perr.Dialect)
			if perr.Param != "" {
				assert.Equal(t, strings.Replace(tt.want, "Invalid parameter: ", "Invalid parameter: Attributes Reason: ", 1), perr.SubscribeMessage())
			}
		})
	}
}
