//go:build !linux

package netmon

import "errors"

func readStateNetlink() (State, error) {
	return State{}, errors.New("netmon: no netlink on this OS")
}
