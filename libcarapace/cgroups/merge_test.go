package cgroups

import (
	"encoding/json"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func js(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// TestMerge: what update writes and keeps, given the stored limits. The
// pairs the kernel reads together are written together, from the merged
// values, as runc's update writes them from its stored configuration.
func TestMerge(t *testing.T) {
	mem := func(limit, swap int64) *specs.LinuxResources {
		m := &specs.LinuxMemory{}
		if limit != 0 {
			m.Limit = p64(limit)
		}
		if swap != 0 {
			m.Swap = p64(swap)
		}
		return &specs.LinuxResources{Memory: m}
	}
	for _, tc := range []struct {
		name                string
		stored, upd         *specs.LinuxResources
		wantWrite, wantKept string
	}{
		{"nothing stored", nil, mem(64, 0), `{"memory":{"limit":64}}`, `{"memory":{"limit":64}}`},
		{"memory alone takes the stored swap", mem(32, 64), mem(48, 0),
			`{"memory":{"limit":48,"swap":64}}`, `{"memory":{"limit":48,"swap":64}}`},
		{"swap alone takes the stored memory", mem(32, 64), mem(0, 96),
			`{"memory":{"limit":32,"swap":96}}`, `{"memory":{"limit":32,"swap":96}}`},
		{"memory -1 alone lifts swap too", mem(32, 64), mem(-1, 0),
			`{"memory":{"limit":-1}}`, `{"memory":{"limit":-1}}`},
		{"memory -1 with swap", mem(32, 64), mem(-1, 128),
			`{"memory":{"limit":-1,"swap":128}}`, `{"memory":{"limit":-1,"swap":128}}`},
		{"checkBeforeUpdate is not kept",
			mem(32, 0),
			&specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: p64(48), CheckBeforeUpdate: pb(true)}},
			`{"memory":{"limit":48,"checkBeforeUpdate":true}}`, `{"memory":{"limit":48}}`},
		{"reservation alone writes no limit",
			mem(32, 64),
			&specs.LinuxResources{Memory: &specs.LinuxMemory{Reservation: p64(16)}},
			`{"memory":{"reservation":16}}`, `{"memory":{"limit":32,"reservation":16,"swap":64}}`},
		{"quota alone takes the stored period",
			&specs.LinuxResources{CPU: &specs.LinuxCPU{Quota: p64(10000), Period: pu64(50000), Shares: pu64(512)}},
			&specs.LinuxResources{CPU: &specs.LinuxCPU{Quota: p64(20000)}},
			`{"cpu":{"quota":20000,"period":50000}}`, `{"cpu":{"shares":512,"quota":20000,"period":50000}}`},
		{"rt period alone takes the stored runtime",
			&specs.LinuxResources{CPU: &specs.LinuxCPU{RealtimeRuntime: p64(5000), RealtimePeriod: pu64(10000)}},
			&specs.LinuxResources{CPU: &specs.LinuxCPU{RealtimePeriod: pu64(20000)}},
			`{"cpu":{"realtimeRuntime":5000,"realtimePeriod":20000}}`, `{"cpu":{"realtimeRuntime":5000,"realtimePeriod":20000}}`},
		{"zeros ask for nothing",
			&specs.LinuxResources{CPU: &specs.LinuxCPU{Quota: p64(10000), Period: pu64(50000)}, Pids: &specs.LinuxPids{Limit: p64(9)}},
			&specs.LinuxResources{CPU: &specs.LinuxCPU{Quota: p64(0), Shares: pu64(0)}, Pids: &specs.LinuxPids{}},
			`{"cpu":{"shares":0,"quota":0},"pids":{}}`, `{"cpu":{"quota":10000,"period":50000},"pids":{"limit":9}}`},
		{"devices are not kept",
			&specs.LinuxResources{Devices: []specs.LinuxDeviceCgroup{{Access: "rwm"}}},
			&specs.LinuxResources{Devices: []specs.LinuxDeviceCgroup{{Allow: true, Access: "r"}}},
			`{"devices":[{"allow":true,"access":"r"}]}`, `{}`},
		{"per-device limits replace the same device's",
			&specs.LinuxResources{BlockIO: &specs.LinuxBlockIO{ThrottleReadBpsDevice: []specs.LinuxThrottleDevice{
				{LinuxBlockIODevice: specs.LinuxBlockIODevice{Major: 8, Minor: 0}, Rate: 1},
				{LinuxBlockIODevice: specs.LinuxBlockIODevice{Major: 8, Minor: 16}, Rate: 2}}}},
			&specs.LinuxResources{BlockIO: &specs.LinuxBlockIO{ThrottleReadBpsDevice: []specs.LinuxThrottleDevice{
				{LinuxBlockIODevice: specs.LinuxBlockIODevice{Major: 8, Minor: 16}, Rate: 3}}}},
			`{"blockIO":{"throttleReadBpsDevice":[{"major":8,"minor":16,"rate":3}]}}`,
			`{"blockIO":{"throttleReadBpsDevice":[{"major":8,"minor":0,"rate":1},{"major":8,"minor":16,"rate":3}]}}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := js(tc.stored)
			w, kept := Merge(tc.stored, tc.upd)
			if got := js(w); got != tc.wantWrite {
				t.Errorf("written %s\n want %s", got, tc.wantWrite)
			}
			if got := js(kept); got != tc.wantKept {
				t.Errorf("kept %s\n want %s", got, tc.wantKept)
			}
			if js(tc.stored) != before {
				t.Errorf("the stored resources were changed: %s, was %s", js(tc.stored), before)
			}
		})
	}
}

// TestMergedSwapOnV2: with the stored memory+swap, `update --memory` alone
// recomputes memory.swap.max (runc: swap − memory).
func TestMergedSwapOnV2(t *testing.T) {
	stored := &specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: p64(32 << 20), Swap: p64(64 << 20)}}
	w, _ := Merge(stored, &specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: p64(48 << 20)}})
	ws, err := V2Writes(w)
	if err != nil {
		t.Fatal(err)
	}
	if len(ws) != 2 || ws[0].File != "memory.swap.max" || ws[0].Value != "16777216" || ws[1].File != "memory.max" {
		t.Errorf("writes %+v; want memory.swap.max 16777216 then memory.max", ws)
	}
}
