package main

import (
	"fmt"

	"github.com/taxi-hub/taxi/server"
)

// minSecretLen is the shortest auth secret taxi serve accepts (server's
// Config.validate); every command that signs tokens refuses a shorter one,
// so that it never mints what no hub accepts. TestSecretFloorMatchesServe
// keeps the two equal.
const minSecretLen = 16

// checkSecret refuses an auth secret taxi serve would refuse.
func checkSecret(secret string) error {
	if len(secret) < minSecretLen {
		return fmt.Errorf("auth secret is %d bytes; taxi serve needs at least %d", len(secret), minSecretLen)
	}
	return nil
}

// roleWords lists the words for each role that every command accepts. The
// product calls the passengers riders; the wire protocol and tokens call
// them users (/ws/user/{id}, "role":"user"). Both words mean the same. A
// dispatcher has no feed; its token reads GET /drivers/nearby.
const roleWords = "driver, rider (also: user), or dispatcher"

// parseRole turns a role word into the role tokens and URLs use.
func parseRole(word string) (server.Role, error) {
	switch word {
	case "driver":
		return server.RoleDriver, nil
	case "rider", "user":
		return server.RoleUser, nil
	case "dispatcher":
		return server.RoleDispatcher, nil
	}
	return "", fmt.Errorf("role %q: want %s", word, roleWords)
}
