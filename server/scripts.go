package server

import (
	_ "embed"

	"github.com/redis/go-redis/v9"
)

// Lua scripts, run with EVALSHA and loaded on first use. Each touches only
// keys of one Cluster slot.
var (
	//go:embed lua/accept.lua
	acceptSrc    string
	acceptScript = redis.NewScript(acceptSrc)

	//go:embed lua/complete.lua
	completeSrc    string
	completeScript = redis.NewScript(completeSrc)

	//go:embed lua/cancel.lua
	cancelSrc    string
	cancelScript = redis.NewScript(cancelSrc)

	//go:embed lua/release.lua
	releaseSrc    string
	releaseScript = redis.NewScript(releaseSrc)

	//go:embed lua/leave.lua
	leaveSrc    string
	leaveScript = redis.NewScript(leaveSrc)

	//go:embed lua/restore.lua
	restoreSrc    string
	restoreScript = redis.NewScript(restoreSrc)

	//go:embed lua/reap.lua
	reapSrc    string
	reapScript = redis.NewScript(reapSrc)
)

var (
	//go:embed lua/locate.lua
	locateSrc    string
	locateScript = redis.NewScript(locateSrc)

	//go:embed lua/nearby.lua
	nearbySrc    string
	nearbyScript = redis.NewScript(nearbySrc)

	//go:embed lua/trim_locations.lua
	trimLocationsSrc    string
	trimLocationsScript = redis.NewScript(trimLocationsSrc)
)

var (
	//go:embed lua/publish.lua
	publishSrc    string
	publishScript = redis.NewScript(publishSrc)
)
