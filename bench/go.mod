module pgofetch/bench

go 1.25.0

require (
	github.com/google/pprof v0.0.0-20260906184651-6331bc6350fe
	github.com/klauspost/compress v1.20.3
	pgofetch/tests v0.0.0
)

replace pgofetch/tests => ../tests
