package main

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/spf13/pflag"
	"github.com/taxi-hub/taxi/contract"
	"github.com/taxi-hub/taxi/loadtest"
)

// geoFlags are the flags of the geo scenario, kept as text where loadtest
// parses them (--center).
type geoFlags struct {
	opts   loadtest.GeoOptions
	center string
}

// addGeoFlags adds the geo scenario's flags to f.
func addGeoFlags(f *pflag.FlagSet, g *geoFlags) {
	o := &g.opts
	f.StringVar(&g.center, "center", "52.52,13.405", "geo: middle of the area drivers and pickups are spread over, lat,lng")
	f.Float64Var(&o.AreaKM, "area-km", loadtest.DefaultGeoAreaKM, "geo: side of the square area, in kilometres")
	f.DurationVar(&o.PositionEvery, "position-every", loadtest.DefaultGeoPositionEvery, "geo: how often each driver sends its position")
	f.Float64Var(&o.RadiusM, "radius", loadtest.DefaultGeoRadiusM, "geo: every order's radius_m, in metres")
	f.IntVar(&o.MaxDrivers, "max-drivers", 0, "geo: every order's max_drivers; 0 sends none")
	f.Float64Var(&o.RideShare, "ride-share", loadtest.DefaultGeoRideShare, "geo: share of orders the nearest driver accepts, drives and completes, tracked by the rider; negative for none")
	f.DurationVar(&o.RideLength, "ride-length", loadtest.DefaultGeoRideLength, "geo: how long each ride lasts")
	f.DurationVar(&o.RideStep, "ride-step", loadtest.DefaultGeoRideStep, "geo: period of a driver's positions during a ride")
	f.Uint64Var(&o.Seed, "seed", 0, "geo: seed of the positions and pickups, for a repeatable run (default random)")
}

// geoOptions returns the geo options the flags give.
func (g *geoFlags) geoOptions() (loadtest.GeoOptions, error) {
	o := g.opts
	lat, lng, ok := strings.Cut(g.center, ",")
	la, err1 := strconv.ParseFloat(strings.TrimSpace(lat), 64)
	ln, err2 := strconv.ParseFloat(strings.TrimSpace(lng), 64)
	if !ok || err1 != nil || err2 != nil {
		return o, fmt.Errorf("--center %q: want lat,lng in degrees", g.center)
	}
	o.Center = contract.Point{Lat: la, Lng: ln}
	return o, nil
}

// benchGeoRun runs the geo scenario: progress lines on stderr every
// --interval, the summary on stdout (or on stderr with --json -), and exit
// status 1 when the run did not hold.
func benchGeoRun(ctx context.Context, opts *benchOptions) error {
	switch {
	case opts.slo != "":
		return usageError(errors.New("--slo: the geo scenario checks its own figures (exit 1 when they do not hold)"))
	case opts.mdPath != "":
		return usageError(errors.New("--markdown: the geo scenario writes text and --json"))
	}
	g, err := opts.geo.geoOptions()
	if err != nil {
		return usageError(err)
	}
	opts.lib.Logger = benchLogger(opts.IO.ErrOut)
	b, err := loadtest.NewGeo(opts.lib, g)
	if err != nil {
		return usageError(err)
	}
	lib, _ := b.Options()
	stop := make(chan struct{})
	var progress sync.WaitGroup
	// The progress printer ends when the run does.
	progress.Go(func() {
		t := time.NewTicker(lib.Interval)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				p := b.Progress()
				fmt.Fprintf(opts.IO.ErrOut, "geo %-7s drivers %d, positions %d, orders %d, frames %d\n", p.Phase, p.Drivers, p.Positions, p.Orders, p.Frames)
			}
		}
	})
	r := b.Run(ctx)
	close(stop)
	progress.Wait()
	summary := opts.IO.Out
	if opts.jsonPath == stdoutPath {
		summary = opts.IO.ErrOut
	}
	if err := loadtest.GeoTextReporter(r)(summary); err != nil {
		return err
	}
	if err := writeReport(opts.IO.Out, opts.jsonPath, loadtest.GeoJSONReporter(r)); err != nil {
		return err
	}
	switch {
	case r.Interrupted:
		return withExitCode(1, errors.New("bench interrupted: the summary above is partial"))
	case !r.Held:
		return withExitCode(1, errors.New("the geo run did not hold: see the summary"))
	}
	return nil
}
