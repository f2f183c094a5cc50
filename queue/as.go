package queue

import "reflect"

// As is the implementation of the As methods of drivers' types: it sets
// *target to raw when target is a non-nil pointer to a type raw is
// assignable to, and reports whether it did.
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
