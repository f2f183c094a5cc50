//go:build race

package pattern

// raceEnabled reports a -race build, where sync.Pool drops objects at random
// and allocation counts mean nothing.
const raceEnabled = true
