//go:build !linux

package gateway

func readDefaultRoutes() ([]Route, error) { return nil, ErrUnsupported }
