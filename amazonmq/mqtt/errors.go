package mqtt

import (
	"errors"
	"fmt"

	"github.com/postroom/postroom/internal/errkit"

	paho "github.com/eclipse/paho.mqtt.golang"
	"github.com/eclipse/paho.mqtt.golang/packets"
	"github.com/postroom/postroom"
)

// errLost marks a publish whose PUBACK will never come because its
// connection went away: Publish sends it again on the next connection.
var errLost = errors.New("mqtt: connection lost")

// connackCodes maps the CONNACK return codes of MQTT 3.1.1 to the
// sentinels of package queue. It is the one table translating the
// broker's refusals.
var connackCodes = map[byte]error{
	packets.ErrRefusedBadProtocolVersion:    postroom.ErrUnsupported,
	packets.ErrRefusedIDRejected:            postroom.ErrInvalid,
	packets.ErrRefusedServerUnavailable:     nil,
	packets.ErrRefusedBadUsernameOrPassword: nil,
	packets.ErrRefusedNotAuthorised:         nil,
}

// connectError wraps the error of a failed CONNECT.
func connectError(tok *paho.ConnectToken) error {
	err := tok.Error()
	if s, ok := connackCodes[tok.ReturnCode()]; ok && s != nil {
		return fmt.Errorf("%w: %w", s, err)
	}
	return err
}

// ek builds this package's errors: ek.Closed(op), ek.Unsupported(op, why),
// ek.Errorf(postroom.ErrInvalid, op, …). Each one starts with "mqtt: ".
const ek errkit.Pkg = "mqtt"
