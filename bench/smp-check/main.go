// smp-check parses each part of a bench/results/smp.json file into the official Service Mesh
// Performance v0.6.1 protobuf messages (github.com/layer5io/service-mesh-performance/spec) with
// protojson, refusing unknown fields. It prints one line per problem and exits 1 if there is any.
// The file's top-level wrapper is the project's own (SMP defines no document), so only its parts
// are SMP messages: environment, mesh_configs[], tests[].config and tests[].results[].
package main

import (
	"encoding/json"
	"fmt"
	"os"

	smp "github.com/layer5io/service-mesh-performance/spec"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
)

type document struct {
	Environment json.RawMessage   `json:"environment"`
	MeshConfigs []json.RawMessage `json:"mesh_configs"`
	Tests       []struct {
		Config  json.RawMessage   `json:"config"`
		Results []json.RawMessage `json:"results"`
	} `json:"tests"`
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: smp-check <smp.json>")
		os.Exit(2)
	}
	text, err := os.ReadFile(os.Args[1])
	if err != nil {
		fmt.Println(err)
		os.Exit(1)
	}
	var doc document
	if err := json.Unmarshal(text, &doc); err != nil {
		fmt.Println("not the project's SMP wrapper:", err)
		os.Exit(1)
	}
	problems, parts := 0, 0
	check := func(where string, raw json.RawMessage, message proto.Message) {
		parts++
		if len(raw) == 0 || string(raw) == "null" {
			fmt.Printf("%s: missing\n", where)
			problems++
			return
		}
		if err := (protojson.UnmarshalOptions{DiscardUnknown: false}).Unmarshal(raw, message); err != nil {
			fmt.Printf("%s: %v\n", where, err)
			problems++
		}
	}
	check("environment", doc.Environment, &smp.EnvironmentConfig{})
	for i, m := range doc.MeshConfigs {
		check(fmt.Sprintf("mesh_configs[%d]", i), m, &smp.ServiceMeshConfig{})
	}
	for i, t := range doc.Tests {
		check(fmt.Sprintf("tests[%d].config", i), t.Config, &smp.PerformanceTestConfig{})
		for j, r := range t.Results {
			check(fmt.Sprintf("tests[%d].results[%d]", i, j), r, &smp.PerformanceTestResult{})
		}
	}
	fmt.Printf("smp-check: %d parts, %d problems\n", parts, problems)
	if problems > 0 {
		os.Exit(1)
	}
}
