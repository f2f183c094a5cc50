// Package pattern implements the Amazon EventBridge event-pattern language
// and Amazon SNS subscription filter policies: compiling a pattern with
// AWS's validation and error messages ([Compile], [CompileFilterPolicy]),
// matching one pattern ([Pattern.Match], [Pattern.MatchAttributes]), and
// matching many named patterns at once ([Matcher]).
//
// # The language
//
// A pattern mirrors the event's structure; its leaves are arrays of values,
// which match when one of them matches (OR), while the fields of an object
// must all match (AND). Supported:
//
//   - Exact values: strings (character for character), numbers (compared
//     numerically, so 300 matches 300.0 and 3e2, never "300"), true, false
//     and null (which is not ""). A string that is an IP address literal
//     matches the same address however it is written.
//   - "prefix" and "suffix", alone or with {"equals-ignore-case": …};
//     "equals-ignore-case"; "wildcard" with '*', and \* and \\ escapes;
//     "exactly". All of them match strings only.
//   - "anything-but" with a value, a list of strings or of numbers, or
//     {"prefix"|"suffix"|"equals-ignore-case"|"wildcard": value or list}.
//     It matches any value of the field, null and values of other types
//     included, except the listed ones; it never matches a missing field.
//   - "numeric" with "=", "<", "<=", ">", ">=" and one lower and one upper
//     bound, over the float64 range; it matches numbers only.
//   - "cidr" with IPv4 and IPv6 blocks.
//   - "exists": true matches when the field has a value (null and ""
//     included; not so in SNS, below); false when it has none. An empty
//     array, an empty object or a nested object are not values.
//   - "$or": an array of at least two objects, each an alternative. As in
//     event-ruler, "$or" is an ordinary field name when its value is
//     anything else (an object, an array of values or of match
//     expressions), so {"$or": {"a": ["x"]}} matches {"$or": {"a": "x"}}.
//
// Keys are case-sensitive. Dotted keys are paths: {"a.b": […]} is
// {"a": {"b": […]}}, in patterns and in events alike. A JSON string in an
// event is never parsed. When a pattern repeats a key, the last one wins.
//
// # Arrays
//
// When the event holds an array, a field matches when any element matches.
// Matching is array-consistent: the values satisfying the fields of a
// pattern must not come from different elements of the same array, so
// {"r": {"k": ["a"], "v": ["2"]}} does not match
// {"r": [{"k": "a", "v": "1"}, {"k": "b", "v": "2"}]}. An {"exists": false}
// field is satisfied when no value at its path is consistent with the values
// chosen for the other fields.
//
// # Errors
//
// Compile errors are [*Error] values wrapping [ErrInvalid]; their text is
// exactly what AWS returns, e.g. "Event pattern is not valid. Reason: Empty
// arrays are not allowed" or "Invalid parameter: FilterPolicy: Filter policy
// can not have more than 5 keys". Matching a malformed event, or one that
// is not a JSON object, returns an error wrapping [ErrInvalidEvent].
//
// # SNS filter policies
//
// [CompileFilterPolicy] uses the same engine with SNS's rules: no wildcard
// ("Unrecognized match type wildcard"), no prefix/suffix with
// equals-ignore-case, anything-but only with a value, a list or a prefix,
// at most 5 top-level keys and 150 combinations (SNS's count: the product of
// the value-array lengths, each multiplied by its nesting depth, summed
// over $or alternatives), and no nesting in the [ScopeMessageAttributes]
// scope. [Pattern.MatchAttributes] matches message attributes: String
// values are strings, Number values numbers, each element of a
// String.Array is matched separately, and Binary attributes are ignored.
// For the [ScopeMessageBody] scope, match the body with [Pattern.Match].
//
// Two SNS rules differ from EventBridge's. {"exists": true} needs a value
// other than null and "" ("The key must have a non-null and non-empty
// value"). And an empty set of message attributes matches no policy ("An
// empty set of attributes results in the filter not matching"), not even
// {"k": [{"exists": false}]}; likewise an empty body, {}, matches no
// body-scope policy.
//
// # Matching many patterns
//
// A [Matcher] compiles all its patterns into one index. Every $or
// alternative of every pattern is filed under one "anchor" field, chosen
// as the most selective across all patterns (an exact value shared by few
// patterns before a prefix, a numeric range or a field's mere presence).
// For each event the Matcher reads the JSON once with its own
// allocation-free scanner, keeping only values at paths some pattern uses
// and skipping (but validating) the rest; looks each value up in the
// anchor index of its path (hash maps for exact, case-folded and IP
// values, prefix and suffix maps by length, CIDR networks by prefix
// length, an interval tree for numeric ranges); and verifies only the
// candidates found, exactly. On amd64 the scanner first marks, with
// vector instructions, where the strings and tokens of the event are, so
// that it never looks at the bytes of strings and whitespace it skips;
// the whole event is still validated. The cost per
// event therefore grows with the size of the event and the number of
// candidates, not with the number of patterns. Matching takes no lock: it
// reads an immutable snapshot, which the first match after an Add or
// Remove rebuilds in time linear in the size of the patterns. With a
// large enough destination, [Matcher.MatchAppend] does not allocate.
//
// # Differences from AWS
//
//   - The wildcard complexity limit ("Rule is too complex …") follows
//     EventBridge's documented measure, the largest number of wildcard
//     prefixes one value can match at once, calibrated on AWS's recorded
//     decisions; patterns near the limit may be judged differently.
//   - {"exists": false} inside arrays is order-independent here; AWS's
//     matcher checks it against the fields it has matched so far in key
//     order, which can differ when several arrays are involved.
//   - Case folding follows Unicode simple folding (as strings.EqualFold).
//   - JSON syntax errors in patterns use parser messages close to, but not
//     always identical with, AWS's, without the "at [Source: …]" location.
//   - Unverified reasons: an $or expanding to more than 1,000 combinations,
//     and numbers outside the float64 range in numeric and anything-but
//     operands.
//   - "$or" is read as event-ruler's Machine.addRule reads it: first as the
//     $or operator, then, if that fails, as a field name. When both fail,
//     the error is the field reading's if a "$or" is followed by something
//     other than an array, and the $or reading's otherwise (addRule always
//     reports the field reading's, e.g. "Unrecognized match type a" for
//     {"$or": [{"a": [1]}]}, where this package says "There must have at
//     least 2 Objects in $or relationship."). Whether SNS reads "$or" the
//     same way is unverified; this package does.
//   - SNS {"exists": true} follows the SNS documentation, unverified
//     against SNS itself: null and "" are not values, in the body, in
//     String attributes and in String.Array elements. {"exists": false}
//     still means that the key is absent, so a key holding null or ""
//     satisfies neither. event-ruler, and so EventBridge, counts null and
//     "" as values.
//   - The SNS documentation states the empty-set rule for message
//     attributes only; this package applies it to a body with no members,
//     {}, and to nothing else: {"a": {}} has a member, and a message
//     whose only attributes are Binary has attributes.
//   - Size limits are the caller's: Compile does not enforce EventBridge's
//     4,096-character EventPattern limit or SNS's 256 KB policy limit.
//     Events may nest up to 10,000 levels, as with encoding/json;
//     patterns up to 1,000, as with AWS's parser.
package pattern
