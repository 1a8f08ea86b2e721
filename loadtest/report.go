package loadtest

import (
	"time"
)

// Report is every figure of a run. It is what --json writes; docs/bench.md
// documents each field. Latencies are in milliseconds, CPU in seconds,
// memory in bytes, rates per second.
type Report struct {
	Scenario    Scenario  `json:"scenario"`
	RunID       string    `json:"run_id"`
	StartedAt   time.Time `json:"started_at"`
	FinishedAt  time.Time `json:"finished_at"`
	Seconds     float64   `json:"seconds"`     // wall time of the whole run
	Interrupted bool      `json:"interrupted"` // stopped early (Ctrl-C): figures are partial
	Machine     Machine   `json:"machine"`
	Options     Options   `json:"options"`

	Connections ConnectionReport `json:"connections"`
	Orders      OrderReport      `json:"orders"`
	Deliveries  DeliveryReport   `json:"deliveries"`
	Events      EventReport      `json:"events"`
	Reconnects  ReconnectReport  `json:"reconnects"`
	Accepts     *AcceptReport    `json:"accepts,omitempty"` // accept and soak only
	Storm       *StormReport     `json:"storm,omitempty"`   // storm only
	Errors      map[string]int64 `json:"errors"`            // count by kind
	BenchCPU    CPUReport        `json:"bench_cpu"`
	Server      ServerReport     `json:"server"`
	Limits      []FileLimit      `json:"file_limits"` // one per process
	Intervals   []Interval       `json:"intervals,omitempty"`
	Claims      []Claim          `json:"claims"`
	SLO         []SLOResult      `json:"slo,omitempty"`
	Notes       []string         `json:"notes,omitempty"`
}

// Machine describes where bench ran.
type Machine struct {
	Hostname string `json:"hostname"`
	OS       string `json:"os"`
	Arch     string `json:"arch"`
	CPUs     int    `json:"cpus"`
	Procs    int    `json:"procs"` // bench processes
}

// ConnectionReport counts the simulated clients' feeds.
type ConnectionReport struct {
	Planned        int64            `json:"planned"`          // drivers + riders
	Connected      int64            `json:"connected"`        // open at the end of the ramp
	Failed         int64            `json:"failed"`           // dials that failed
	Dropped        int64            `json:"dropped"`          // closed by the hub during the run
	DriversAtStart int64            `json:"drivers_at_start"` // drivers each measured order should reach
	Latency        Latency          `json:"latency"`          // dial to connected frame
	FailuresBy     map[string]int64 `json:"failures_by_cause,omitempty"`
}

// OrderReport counts the orders bench created.
type OrderReport struct {
	Planned int64 `json:"planned"` // warm-up included
	Sent    int64 `json:"sent"`
	Created int64 `json:"created"` // answered 201
	Warm    int64 `json:"warm"`    // created during the warm-up
	Failed  int64 `json:"failed"`
	Skipped int64 `json:"skipped"` // due while MaxInFlight requests were pending
	// Cancelled and LeftOpen count the clean-up at the end: orders nobody
	// won are cancelled; those left open expire with the hub's retention.
	Cancelled int64   `json:"cancelled"`
	LeftOpen  int64   `json:"left_open"`
	Rate      float64 `json:"rate"`     // created per second over the schedule
	Latency   Latency `json:"latency"`  // due instant to 201 answer
	SendLag   Latency `json:"send_lag"` // due instant to request start: bench's own delay
}

// DeliveryReport is the fan-out of measured (not warm-up) orders.
type DeliveryReport struct {
	Expected   int64   `json:"expected"`    // measured orders × drivers at start
	Received   int64   `json:"received"`    // new_order frames of measured orders
	Lost       int64   `json:"lost"`        // expected, neither received nor in a snapshot
	Duplicated int64   `json:"duplicated"`  // received more than once
	InSnapshot int64   `json:"in_snapshot"` // expected, and listed in a snapshot instead of sent as a frame
	LossRate   float64 `json:"loss_rate"`   // lost / expected
	PerSecond  float64 `json:"per_second"`  // received / measured duration
	Warm       int64   `json:"warm"`        // new_order frames of warm-up orders
	Foreign    int64   `json:"foreign"`     // new_order frames of orders bench did not register
	Frames     int64   `json:"frames"`      // every frame received, all types
	Latency    Latency `json:"latency"`     // due instant to arrival
}

// EventReport checks, client by client, the hub's promise: every event a
// client is owed reaches it once, in id order, over all its connections. A
// driver is owed the new_order of every order bench created after the
// driver was first greeted; a rider, the order_accepted of each of its
// orders that was won. An owed event listed in a snapshot (a reconnect that
// could not recover, open_orders or rider_orders after a node's gap) counts
// as received.
type EventReport struct {
	Received   int64 `json:"received"`     // event frames with an id, every client
	Missed     int64 `json:"missed"`       // owed, neither received nor in a snapshot
	Repeated   int64 `json:"repeated"`     // the same event received again by one client
	OutOfOrder int64 `json:"out_of_order"` // ids not greater than the client's previous one
	InSnapshot int64 `json:"in_snapshot"`  // owed events a snapshot stood in for
	WithoutID  int64 `json:"without_id"`   // event frames without a readable id
	// FaultyClients counts clients with a missed, repeated or out-of-order
	// event; Faults lists the first maxFaults of them, worst first.
	FaultyClients int64         `json:"faulty_clients"`
	Faults        []ClientFault `json:"faults"`
}

// ReconnectReport counts the clients' reconnects (Options.Reconnect).
type ReconnectReport struct {
	Enabled     bool    `json:"enabled"`
	Attempts    int64   `json:"attempts"`    // dials after a connection ended
	Reconnected int64   `json:"reconnected"` // greeted again
	Recovered   int64   `json:"recovered"`   // connected said recovered: the missed events followed
	Snapshot    int64   `json:"snapshot"`    // connected carried a snapshot instead
	GaveUp      int64   `json:"gave_up"`     // clients left disconnected after every attempt failed
	Latency     Latency `json:"latency"`     // connection ended to greeted again
}

// AcceptReport is the outcome of the accept races.
type AcceptReport struct {
	Orders    int64  `json:"orders"`     // orders raced
	Racers    int    `json:"racers"`     // drivers per order
	Via       string `json:"via"`        // http, ws or both
	Attempts  int64  `json:"attempts"`   // accepts answered
	Wins      int64  `json:"wins"`       // answered accepted
	Losses    int64  `json:"losses"`     // answered order_taken
	OneWinner int64  `json:"one_winner"` // orders with exactly one winner, every racer answered
	// Unfinished counts orders with one winner so far whose race the run
	// ended before every racer was answered: a second winner could still
	// have come, so they are judged neither good nor bad.
	Unfinished int64      `json:"unfinished"`
	BadOrders  []BadOrder `json:"bad_orders"` // orders with no or several winners (first 1000)
	BadCount   int64      `json:"bad_count"`
	Contention float64    `json:"contention"` // losses per raced order
	Latency    Latency    `json:"latency"`    // accept sent to answer
}

// BadOrder is an order that did not end with exactly one winner.
type BadOrder struct {
	OrderID string `json:"order_id"`
	Wins    int32  `json:"wins"`
	Losses  int32  `json:"losses"`
}

// CPUReport is bench's own CPU use, to tell a saturated load generator.
type CPUReport struct {
	Seconds       float64 `json:"seconds"`         // user + system, every process
	Cores         float64 `json:"cores"`           // seconds / wall seconds
	PerDeliveryUS float64 `json:"per_delivery_us"` // microseconds per received delivery
	Saturated     bool    `json:"saturated"`       // above 80% of the machine's cores
}

// ServerReport reads the targets' /ws/stats before and after.
type ServerReport struct {
	Targets []TargetReport `json:"targets"`
	// CPUSeconds is the targets' CPU between the end of the ramp and the end
	// of the run; CPUPerDeliveryUS divides it by every delivery of the run.
	CPUSeconds       float64 `json:"cpu_seconds"`
	CPUPerDeliveryUS float64 `json:"cpu_per_delivery_us"`
	// RSSDeltaBytes is the targets' RSS growth over the ramp;
	// MemoryPerConnection divides it by the connections they gained.
	RSSDeltaBytes       int64   `json:"rss_delta_bytes"`
	HeapDeltaBytes      int64   `json:"heap_delta_bytes"`
	ConnectionsGained   int64   `json:"connections_gained"`
	MemoryPerConnection float64 `json:"memory_per_connection_bytes"`
	PeakConnections     int64   `json:"peak_connections"` // sum over targets after the ramp
	FramesDropped       int64   `json:"frames_dropped"`
	SlowDisconnected    int64   `json:"slow_clients_disconnected"`
	// Outages is the growth of the targets' redis.outages over the run:
	// times a node decided Redis was down and served from memory.
	Outages int64 `json:"outages"`
}

// TargetReport is one target's stats at three instants: before the ramp,
// after it, and at the end of the run (before bench disconnects).
type TargetReport struct {
	URL    string    `json:"url"`
	NodeID string    `json:"node_id"`
	Mode   string    `json:"mode"`
	Before *HubStats `json:"before,omitempty"`
	Ramped *HubStats `json:"ramped,omitempty"`
	After  *HubStats `json:"after,omitempty"`
	Error  string    `json:"error,omitempty"`
}

// Interval is one soak report line.
type Interval struct {
	Seconds   float64 `json:"seconds"`    // since the schedule started
	Orders    int64   `json:"orders"`     // created in the interval
	Delivered int64   `json:"delivered"`  // received in the interval
	PerSecond float64 `json:"per_second"` // deliveries per second in the interval
	P99       float64 `json:"p99_ms"`     // delivery p99 so far (worst process)
	Open      int64   `json:"open"`       // feeds open
	Errors    int64   `json:"errors"`     // errors so far
}
