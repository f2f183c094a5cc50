// Package rawvalue gives the drivers of this module access to the raw
// value behind queue.Delivery.As, which has no exported field.
package rawvalue

import "reflect"

// Set by package queue in its init (this package cannot import queue,
// which imports it).
var (
	SetDelivery func(d, v any)
	GetDelivery func(d any) any
)

// Set sets the raw value of d, a *queue.Delivery.
func Set(d, v any) { SetDelivery(d, v) }

// Get returns the raw value of d, a *queue.Delivery, or nil.
func Get(d any) any { return GetDelivery(d) }

// As sets target, a non-nil pointer, to raw when raw's type is assignable
// to what target points to, and reports whether it did: the implementation
// of every As method of the module's types.
func As(raw, target any) bool {
	if raw == nil || target == nil {
		return false
	}
	tv := reflect.ValueOf(target)
	if tv.Kind() != reflect.Pointer || tv.IsNil() {
		return false
	}
	rv := reflect.ValueOf(raw)
	if !rv.Type().AssignableTo(tv.Elem().Type()) {
		return false
	}
	tv.Elem().Set(rv)
	return true
}
