"""go build -pgo=PROFILE of the example, with the host's Go toolchain.

Bazel 4 cannot run rules_go's pgoprofile, so a genrule runs `go build`
itself; the profile is a declared input, so a new profile rebuilds the
binary and an unchanged one does not. GOCACHE, GOPATH and HOME come from
--action_env.
"""

def host_go_pgo_binary(name, pgo, package = "./cmd/batch"):
    native.genrule(
        name = name,
        srcs = native.glob(["example/**"]) + [pgo],
        outs = [name],
        cmd = " && ".join([
            "pgo=$$PWD/$(location %s)" % pgo,
            "out=$$PWD/$@",
            "cd example",
            "GOTOOLCHAIN=local go build -trimpath -buildvcs=false -pgo=$$pgo -o $$out %s" % package,
        ]),
        message = "go build -pgo=%s %s" % (pgo, package),
    )

def host_go_test_binary(name, package, pgo = None):
    """go test -c of a package of the example: -pgo=off, or -pgo=PROFILE.

    Stands in for rules_go's go_test: built without the profile, and with it.
    """
    setup = ["out=$$PWD/$@"]
    flag = "-pgo=off"
    if pgo:
        setup.append("pgo=$$PWD/$(location %s)" % pgo)
        flag = "-pgo=$$pgo"
    native.genrule(
        name = name,
        srcs = native.glob(["example/**"]) + ([pgo] if pgo else []),
        outs = [name + ".bin"],
        executable = True,
        cmd = " && ".join(setup + [
            "cd example",
            "GOTOOLCHAIN=local go test -c -trimpath -buildvcs=false %s -o $$out %s" % (flag, package),
        ]),
        message = "go test -c %s %s" % (flag, package),
    )
