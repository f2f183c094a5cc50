package sqsmd5

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/postroom/postroom/queue"
)

// Vectors from AWS's developer guide algorithm, recorded responses and the
// npm package aws-md5-of-message-attributes.
func TestMD5OfAttributes(t *testing.T) {
	for _, tc := range []struct {
		name  string
		attrs queue.Attributes
		want  string
	}{
		{"none", nil, ""},
		{"one string", queue.Attributes{"k": queue.String("v")}, "0a77b0642718c3d9dd47090567d11e0d"},
		{"recorded", queue.Attributes{"trace": queue.String("abc-123"), "count": queue.Number("42"), "blob": queue.Binary([]byte{1, 2, 0xff})}, "8a8d7bd307da644820059f5979a058f0"},
		{"npm string", queue.Attributes{"attribName1": queue.String("attribValue 1")}, "19e27d4e946b072f3f58da80d94fd778"},
		{"npm number", queue.Attributes{"customNumberTypeAttrib": {Type: "Number.float", Value: "4563442423554324324264524243.32543234"}}, "9fe1b90bbd9965bdf77bac517c7d2495"},
		{"npm binary", queue.Attributes{"binaryAttribute": queue.Binary([]byte("Hello binary world!"))}, "31a92b15d92f8db860eda32aceb656c3"},
		{"npm all", queue.Attributes{
			"attribName1":            queue.String("attribValue 1"),
			"customNumberTypeAttrib": {Type: "Number.float", Value: "4563442423554324324264524243.32543234"},
			"binaryAttribute":        queue.Binary([]byte("Hello binary world!")),
		}, "c932db14a896c663f83c260297d594ff"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, Attributes(tc.attrs))
		})
	}
	assert.Equal(t, "5eb63bbbe01eeed093cb22bb8f5acdc3", Body([]byte("hello world")))
}
