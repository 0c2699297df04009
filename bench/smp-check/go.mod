module imagehub/bench/smp-check

go 1.18

require (
	github.com/layer5io/service-mesh-performance v0.6.1
	google.golang.org/protobuf v1.24.0
)
