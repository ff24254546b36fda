# pgo.mk: fresh Go PGO profiles from pgofetch, as declared prerequisites of
# a Makefile-based Go build. GNU Make 3.81 or later.
#
#   include path/to/pgo.mk
#   $(eval $(call pgo_profile,cmd/foo,service:foo env:prod))
#
#   bin/foo: $(GO_SOURCES)                  # your rule, unchanged
#   	go build -o $@ ./cmd/foo
#
# The declaration makes cmd/foo/default.pgo a target that runs pgofetch on
# every make run (git's GIT-VERSION-FILE pattern); pgofetch rewrites the file
# only when the merged profile differs. bin/foo gets a stamp file beside it,
# bin/.foo.pgo-stamp, as a prerequisite: it records the content of
# cmd/foo/default.pgo ("none" while there is none) and is rewritten only when
# that changes, so bin/foo is rebuilt once when a profile first arrives, once
# per new profile, and never while there is no profile to be had. go build
# picks up default.pgo by itself (-pgo=auto, Go 1.21+). A phony build rule
# (build: ; go build -o foo ./cmd/foo) never asks for bin/foo as a file: give
# it pgo as a prerequisite (build: pgo).
#
# Fail-open, like pgofetch: when no profile can be had (no keys, an outage,
# no matching profile, no pgofetch binary) make says so in one line, keeps
# the default.pgo already there, byte for byte, and the build goes on.
# PGO_FAIL=1 makes any of these fail the build. A bad setting always stops it.
#
# Declaration
#   $(eval $(call pgo_profile,PKG[,QUERIES[,BINARY[,SOURCES]]]))
#   PKG      the main package's directory, relative to the Makefile
#            (cmd/foo, or . for the module root); its profile is PKG/default.pgo
#   QUERIES  Datadog queries, separated by ';' (empty: $(PGO_QUERIES)); write a
#            comma as $(pgo_comma)
#   BINARY   the file your Makefile builds from PKG, or several
#            (space-separated: one per GOOS/GOARCH, say); default
#            $(PGO_BINDIR)/<the name go build gives it>; - for none. Each
#            gets the stamp as a prerequisite, and pgo-check inspects it
#   SOURCES  -in sources for this package only: profile files (pprof, gzip,
#            zstd, ZIP) or http(s) URLs of net/http/pprof endpoints,
#            space-separated; a word -weight=W weighs the sources after it
#            (pgofetch's -weight W), up to the next -weight=
#   $(eval $(call pgo_list,FILE[,BINARIES]))
#   declares each main package of a pgofetch list file (the first word of
#   each line that is not blank or a # comment: its directory, relative to
#   FILE's), whose fetch is pgofetch refresh -list FILE PKG: the queries,
#   sources and weights are on its line, and PGO_QUERIES, PGO_IN,
#   PGO_PROFILES, PGO_WEIGHT, PGO_NORMALIZE and PGO_NOINLINE_* do not apply.
#   BINARIES: PKG=BINARY words for binaries not at the default place (PKG
#   relative to the Makefile; repeat PKG for several; PKG=- for none)
#   Declare each package once, after the variables its arguments use. The
#   profile's settings can also be given per package as target-specific
#   variables: cmd/foo/default.pgo: PGO_PROFILES = 10
#
# Targets
#   pgo        refresh every declared default.pgo
#   pgo-clean  delete every declared default.pgo (committed ones too)
#   pgo-check  fail unless every declared BINARY exists and shows -pgo= in
#              go version -m; and report, with pgofetch check, what share of
#              each default.pgo's weight names functions the package still
#              has, and the hottest missing ones (PGO_CHECK_BELOW: a floor)
#   pgo-compare  benchmark PGO_BENCH's packages without PGO and with the
#              profile of PGO_COMPARE, alternating rounds on CPU time, and
#              print benchstat's table, the load and advice (the pgo-compare
#              tool of a pgofetch checkout: PGO_COMPARE_TOOL)
#   pgo-help   this summary, the settings in effect and the declarations
#
# Variables (all ?=: set them before the include, on the make command line,
# or in the environment; empty means pgofetch's own default)
#   PGO_PGOFETCH   the pgofetch binary (default: built from PGO_SRC when that
#                  is set, else pgofetch on PATH, else built from the pgofetch
#                  checkout this file sits in, if it is one)
#   PGO_SRC        a pgofetch source checkout to build the binary from, with
#                  cmake (default: this file's checkout, when it has core/)
#   PGO_SRC_BUILD  its build directory (default $(PGO_SRC)/build, where the
#                  checkout's own make build puts it); the binary is
#                  $(PGO_SRC_BUILD)/core/pgofetch, brought up to date every run
#   PGO_CMAKE      cmake (default cmake)
#   PGO_QUERIES    Datadog queries, ';'-separated, for declarations that give none
#   PGO_IN         -in sources added to every declaration, space-separated,
#                  before its own; -weight=W words as in SOURCES (each of
#                  the two lists starts at weight 1)
#   PGO_WEIGHT     -weight of the Datadog queries (default 1)
#   PGO_NORMALIZE  1: -normalize, each profile scaled to the same total
#                  before its weight
#   PGO_PROFILES   -profiles: profiles per query (default 5)
#   PGO_FROM       -from: how far back to search (default 72h)
#   PGO_TIMEOUT    -timeout: bound on all fetching, per profile (default 1m)
#   PGO_MODE       fetch (default): run pgofetch as above; committed: never
#                  run it, use each checked-in default.pgo as it is (no keys,
#                  no network, no pgofetch binary); the stamps still rebuild
#                  a binary once when its default.pgo changes (a git pull)
#   PGO_MAX_AGE    -max-age for declarations that fetch over the network (a
#                  query or an http(s) source): no fetch while default.pgo is
#                  younger. Default 24h, or 0 (fetch every run) when CI is set
#   PGO_TRIM       -trim: 1 or 0 (default: pgofetch's)
#   PGO_FAIL       1: no fresh profile fails the build; default 0, fail-open
#   PGO_API_URL    -api-url: Datadog API base URL (default: pgofetch's,
#                  https://app.$DD_SITE or $PGOFETCH_API_URL)
#   PGO_ENDPOINT   -endpoint: gopgo or legacy (default: pgofetch's, gopgo)
#   PGO_NOINLINE_FUNC -noinline-func: regular expressions (POSIX ERE, each
#                  matching a whole function name; space-separated, write $
#                  as $$) of functions the compiler must not PGO-inline
#   PGO_NOINLINE_FILE -noinline-file: files of such expressions, one a line
#   PGO_FLAGS      more pgofetch flags, as shell words (e.g. -v, -json)
#   PGO_BINDIR     where default BINARY names point (default bin)
#   PGO_GO         the go command that builds: pgo-check and pgo-compare run
#                  it (default go), and each fetch passes it as -go, by which
#                  pgofetch writes the full profile, not a -trim one, for a Go
#                  newer than those its trim is proven for (default: none
#                  given, pgofetch asks the go on PATH)
#   PGO_CHECK_BELOW pgo-check fails when less than this percentage of a
#                  profile's weight matches the code (default: report only)
#   PGO_COMPARE    the declared package whose profile pgo-compare measures
#                  (default: the only one declared)
#   PGO_COMPARE_TOOL the pgo-compare tool's directory (default
#                  $(PGO_SRC)/integrations/pgo-compare)
#   PGO_BENCH      the packages pgo-compare benchmarks (default ./...)
#   PGO_BENCH_FLAGS pgo-compare's flags: -bench REGEXP, -benchtime 0.2s,
#                  -count 10, -build none, -benchstat BIN, -o DIR
#
# Environment read by pgofetch: DD_API_KEY, DD_APP_KEY, DD_SITE,
# PGOFETCH_API_URL, SSL_CERT_FILE, proxies. The keys never appear in what
# this file prints: pass them in the environment, not on the command line.

# The oldest GNU Make with every function this file uses ($(or), $(and),
# $(abspath), $(lastword), .DEFAULT_GOAL are 3.81's). Checked with functions
# that 3.80 has, before anything else.
_pgo_mkmajor := $(word 1,$(subst ., ,$(MAKE_VERSION)))
_pgo_mkminor := $(word 2,$(subst ., ,$(MAKE_VERSION)))
ifneq ($(filter 0 1 2,$(_pgo_mkmajor))$(filter 3,$(_pgo_mkmajor)),)
ifneq ($(filter 0 1 2,$(_pgo_mkmajor))$(filter 0 1 2 3 4 5 6 7 8 9 1% 2% 3% 4% 5% 6% 70 71 72 73 74 75 76 77 78 79 80,$(_pgo_mkminor)),)
$(error pgo.mk needs GNU Make 3.81 or later, and this is make $(MAKE_VERSION): install a newer one (macOS: brew install make, then run gmake))
endif
endif

ifndef _pgo_included
_pgo_included := 1

# This file's rules must not become the Makefile's default goal.
_pgo_saved_goal := $(.DEFAULT_GOAL)

_pgo_here := $(patsubst %/,%,$(dir $(abspath $(lastword $(MAKEFILE_LIST)))))
_pgo_here_src := $(if $(wildcard $(_pgo_here)/../core/CMakeLists.txt),$(abspath $(_pgo_here)/..))

# CI builds fetch every time; a developer's builds keep a profile a day.
_pgo_ci := $(filter-out 0 false FALSE False no,$(CI))

PGO_SRC ?= $(_pgo_here_src)
PGO_SRC_BUILD ?= $(if $(PGO_SRC),$(PGO_SRC)/build)
PGO_PGOFETCH ?= $(_pgo_default_pgofetch)
PGO_CMAKE ?= cmake
PGO_QUERIES ?=
PGO_IN ?=
PGO_WEIGHT ?=
PGO_NORMALIZE ?=
PGO_PROFILES ?= 5
PGO_FROM ?= 72h
PGO_TIMEOUT ?= 1m
PGO_MAX_AGE ?= $(if $(_pgo_ci),0,24h)
PGO_MODE ?= fetch
PGO_TRIM ?=
PGO_FAIL ?= 0
PGO_API_URL ?=
PGO_ENDPOINT ?=
PGO_FLAGS ?=
PGO_BINDIR ?= bin
PGO_GO ?=
PGO_COMPARE ?=
PGO_COMPARE_TOOL ?= $(if $(PGO_SRC),$(PGO_SRC)/integrations/pgo-compare)
PGO_BENCH ?= ./...
PGO_BENCH_FLAGS ?=
PGO_CHECK_BELOW ?=
PGO_NOINLINE_FUNC ?=
PGO_NOINLINE_FILE ?=

pgo_comma := ,
_pgo_go = $(or $(strip $(PGO_GO)),go)
_pgo_committed = $(filter committed,$(strip $(PGO_MODE)))
# Non-empty unless PGO_MODE is fetch, committed or empty (fetch).
_pgo_bad_mode = $(or $(filter-out fetch committed,$(PGO_MODE)),$(filter-out 0 1,$(words $(PGO_MODE))))
_PGO_PKGS :=
_pgo_empty :=
_pgo_sp := $(_pgo_empty) $(_pgo_empty)

# $(call _pgo_true,VALUE): non-empty when VALUE says yes.
_pgo_true = $(filter 1 y yes t true on Y YES T TRUE ON True Yes On,$(strip $(1)))
_pgo_failing = $(call _pgo_true,$(PGO_FAIL))
_pgo_rc = $(if $(_pgo_failing),1,0)
_pgo_sev = $(if $(_pgo_failing),error,warning)

# $(call _pgo_sq,TEXT): TEXT as one single-quoted shell word.
_pgo_sq = '$(subst ','\'',$(1))'

# The binary: PGO_SRC given (and not just this checkout) wins, then PATH,
# then this checkout. Looked up once, when first needed.
_pgo_src_bin = $(PGO_SRC_BUILD)/core/pgofetch
_pgo_src_given = $(and $(PGO_SRC),$(filter-out $(_pgo_here_src),$(PGO_SRC)))
_pgo_find_pgofetch = $(if $(_pgo_src_given),$(_pgo_src_bin),$(or $(shell command -v pgofetch 2>/dev/null),$(if $(PGO_SRC),$(_pgo_src_bin)),pgofetch))
_pgo_default_pgofetch = $(eval _pgo_default_pgofetch := $$(_pgo_find_pgofetch))$(_pgo_default_pgofetch)
# Non-empty when the binary is to be built from PGO_SRC.
_pgo_from_src = $(and $(PGO_SRC),$(PGO_SRC_BUILD),$(filter $(_pgo_src_bin),$(PGO_PGOFETCH)),$(wildcard $(PGO_SRC)/core/CMakeLists.txt))

# PKG normalised: no ./ in front, no / behind.
_pgo_norm = $(or $(patsubst ./%,%,$(patsubst %/,%,$(strip $(1)))),.)
# $(call _pgo_pkgarg,PKG): PKG as a go command's package argument.
_pgo_pkgarg = $(if $(filter .,$(1)),.,./$(1))
# $(call _pgo_file,PKG): the profile of PKG.
_pgo_file = $(if $(filter .,$(1)),default.pgo,$(1)/default.pgo)
# The name go build gives PKG's binary: the directory's name, or for the
# module root the last element of the module path, less a /vN suffix.
_pgo_modname = $(shell sed -n 's|^[[:space:]]*module[[:space:]]*"*\([^"[:space:]]*\).*|\1|p' go.mod 2>/dev/null | sed 's|/v[0-9][0-9]*$$||; s|.*/||')
_pgo_exe = $(if $(filter .,$(1)),$(_pgo_modname),$(notdir $(1)))
_pgo_default_bin = $(if $(strip $(PGO_BINDIR)),$(if $(call _pgo_exe,$(1)),$(PGO_BINDIR)/$(call _pgo_exe,$(1))))
_pgo_bin_of = $(if $(filter -,$(2)),,$(or $(2),$(call _pgo_default_bin,$(1))))
# $(call _pgo_stamp_of,BINARIES): the stamp beside the first,
# bin/foo -> bin/.foo.pgo-stamp. One stamp serves them all: make compares
# each binary's mtime with it.
_pgo_stamp_of = $(patsubst ./%,%,$(dir $(firstword $(1))).$(notdir $(firstword $(1))).pgo-stamp)
# Text that make reads back literally in a := assignment. (# is written
# through a variable: make before 4.3 takes it for a comment even inside
# a function call.)
_pgo_hash := \#
_pgo_mkesc = $(subst $(_pgo_hash),\$(_pgo_hash),$(subst $$,$$$$,$(1)))

# $(call _pgo_qargs,QUERIES): each ';'-separated query as a shell word.
_pgo_trimsemi = $(subst ;$(_pgo_sp),;,$(subst ;$(_pgo_sp),;,$(subst $(_pgo_sp);,;,$(subst $(_pgo_sp);,;,$(1)))))
_pgo_qargs = $(if $(strip $(1)),'$(subst ;,' ',$(call _pgo_trimsemi,$(subst ','\'',$(strip $(1)))))')

_pgo_queries = $(or $(strip $(_pgo_q.$(1))),$(strip $(PGO_QUERIES)))
# PKG's -in words as written, -weight=W among them, and its sources alone.
_pgo_inlist = $(strip $(PGO_IN) $(_pgo_in.$(1)))
_pgo_sources = $(filter-out -weight=%,$(call _pgo_inlist,$(1)))
# $(call _pgo_inword,WORD): -weight W for -weight=W, else -in WORD.
_pgo_inword = $(if $(filter -weight=%,$(1)),-weight $(call _pgo_sq,$(patsubst -weight=%,%,$(1))),-in $(call _pgo_sq,$(1)))
# PKG's -in arguments: PGO_IN's, then its own, which start again at
# weight 1 when PGO_IN weighed its sources.
_pgo_in_args = $(foreach _pgo_s,$(PGO_IN),$(call _pgo_inword,$(_pgo_s))) \
	$(if $(and $(filter -weight=%,$(PGO_IN)),$(_pgo_in.$(1))),$(if $(filter -weight=%,$(firstword $(_pgo_in.$(1)))),,-weight 1)) \
	$(foreach _pgo_s,$(_pgo_in.$(1)),$(call _pgo_inword,$(_pgo_s)))
# The queries' -weight, after the -in arguments (pgofetch gives QUERY
# arguments the weight in force after the last flag): PGO_WEIGHT, or 1
# when an -in source was weighed.
_pgo_qweight = $(if $(or $(strip $(PGO_WEIGHT)),$(filter -weight=%,$(call _pgo_inlist,$(1)))),-weight $(call _pgo_sq,$(or $(strip $(PGO_WEIGHT)),1)))
_pgo_opt = $(if $(strip $(2)),$(1)=$(call _pgo_sq,$(strip $(2))))
# Non-empty when PKG's profile comes over the network, where PGO_MAX_AGE applies.
_pgo_urls = $(filter http://% https://%,$(call _pgo_sources,$(1)))
_pgo_remote = $(or $(_pgo_list.$(1)),$(call _pgo_queries,$(1)),$(call _pgo_urls,$(1)))
# What builds with PKG's profile, for messages.
_pgo_what = $(or $(_pgo_bin.$(1)),the main package in $(1))

# $(call _pgo_cmd,PKG[,FLAG]): the pgofetch command line for PKG's profile.
# Always -fail: pgo.mk itself decides whether a failure stops the build, so
# that it can say in one line what the build goes on with. With -version as
# FLAG it only checks the flags, at once, and fetches nothing.
_pgo_cmd = $(call _pgo_cmd_q,$(1),$(2),$(call _pgo_queries,$(1)))
# $(call _pgo_cmd_q,PKG,FLAG,QUERIES): the same with these queries (none:
# the -in sources alone).
_pgo_cmd_q = $(call _pgo_sq,$(PGO_PGOFETCH)) -fail $(2) \
	$(call _pgo_opt,-profiles,$(PGO_PROFILES)) \
	$(call _pgo_run_opts,$(if $(or $(3),$(call _pgo_urls,$(1))),x)) \
	$(if $(call _pgo_true,$(PGO_NORMALIZE)),-normalize) \
	$(call _pgo_in_args,$(1)) $(if $(3),$(call _pgo_qweight,$(1))) \
	$(foreach _pgo_r,$(PGO_NOINLINE_FUNC),-noinline-func $(call _pgo_sq,$(_pgo_r))) \
	$(foreach _pgo_n,$(PGO_NOINLINE_FILE),-noinline-file $(call _pgo_sq,$(_pgo_n))) \
	$(PGO_FLAGS) -- $(call _pgo_qargs,$(3)) $(call _pgo_sq,$(call _pgo_file,$(1)))

# $(call _pgo_run_opts,MAXAGE): the flags of a whole run, the same for a
# single fetch and for pgofetch refresh; -max-age when MAXAGE is non-empty.
_pgo_run_opts = $(call _pgo_opt,-from,$(PGO_FROM)) \
	$(call _pgo_opt,-timeout,$(PGO_TIMEOUT)) \
	$(if $(1),$(call _pgo_opt,-max-age,$(PGO_MAX_AGE))) \
	$(call _pgo_opt,-api-url,$(PGO_API_URL)) \
	$(call _pgo_opt,-endpoint,$(PGO_ENDPOINT)) \
	$(call _pgo_opt,-go,$(PGO_GO)) \
	$(if $(strip $(PGO_TRIM)),-trim=$(if $(call _pgo_true,$(PGO_TRIM)),true,false))

# $(call _pgo_refresh_cmd,PKG): the command line of a listed package's
# profile: the list holds its queries and sources.
_pgo_refresh_cmd = $(call _pgo_sq,$(PGO_PGOFETCH)) refresh -fail -list $(call _pgo_sq,$(_pgo_list.$(1))) \
	$(call _pgo_run_opts,x) $(PGO_FLAGS) $(call _pgo_sq,$(_pgo_lword.$(1)))

# $(call _pgo_late,PKG): stops on a setting that changed after PKG's
# declaration had used it (the declaration would silently use the old one).
_pgo_late = $(if $(and $(_pgo_defbin.$(1)),$(filter-out $(_pgo_bindir.$(1)),$(PGO_BINDIR)$(if $(PGO_BINDIR),,-))),echo "pgo.mk: error: PGO_BINDIR is set after pgo_profile $(1) named its binary $(_pgo_bin.$(1)): set PGO_BINDIR before the declaration" >&2; exit 2;)

# Shell text that ends a profile's recipe saying, in one line, what the
# build goes on with and why ("$$why"); with PGO_FAIL=1, that it stops.
define _pgo_say
if $(if $(_pgo_failing),true,false); then echo "pgo.mk: error: $$f not refreshed, and PGO_FAIL=1 stops the build: $$why" >&2; exit 1; fi; \
if [ -f "$$f" ]; then what="$$w builds with the $$f already there"; else what="$$w builds without PGO: no $$f yet"; fi; \
echo "pgo.mk: $${sev:-warning}: $$what; $$why" >&2; exit 0
endef

# $(call _pgo_fetch,PKG): the recipe of PKG's default.pgo: nothing in
# committed mode, where the checked-in file is used as it is.
_pgo_fetch = $(if $(_pgo_committed),@$(call _pgo_late,$(1)) :,$(if $(_pgo_list.$(1)),$(call _pgo_refresh_run,$(1)),$(call _pgo_fetch_run,$(1))))

# $(call _pgo_fetch_run,PKG): the fetch. A usage error (2) always stops the
# build: it is a mistake in the settings, not an outage.
define _pgo_fetch_run
@$(call _pgo_late,$(1)) \
$(if $(or $(call _pgo_queries,$(1)),$(call _pgo_sources,$(1))),,echo "pgo.mk: error: $(1): no Datadog query and no -in source: give them to pgo_profile or set PGO_QUERIES or PGO_IN" >&2; exit 2;) \
$(if $(filter -weight=%,$(lastword $(PGO_IN))),echo "pgo.mk: error: PGO_IN ends in $(lastword $(PGO_IN)): a -weight= weighs the sources after it$(pgo_comma) and none follows" >&2; exit 2;) \
f=$(call _pgo_sq,$(call _pgo_file,$(1))); w=$(call _pgo_sq,$(call _pgo_what,$(1))); \
if command -v $(call _pgo_sq,$(PGO_PGOFETCH)) >/dev/null 2>&1 && \
	! msg=$$($(call _pgo_cmd,$(1),-version) 2>&1 >/dev/null); then \
	msg=$$(printf '%s\n' "$$msg" | sed 1q); \
	case "$$msg" in *"flag -from"*) v=PGO_FROM;; *"flag -timeout"*) v=PGO_TIMEOUT;; \
	*"flag -max-age"*) v=PGO_MAX_AGE;; *"flag -profiles"*) v=PGO_PROFILES;; \
	*"-noinline-file"*) v=PGO_NOINLINE_FILE;; *"-noinline-func"*) v=PGO_NOINLINE_FUNC;; \
	*'"'$(call _pgo_sq,$(strip $(PGO_WEIGHT)))'" for flag -weight'*) v=PGO_WEIGHT;; \
	*"flag -weight"*) v="-weight= in PGO_IN or SOURCES";; *) v=PGO_FLAGS;; esac; \
	echo "pgo.mk: error: bad setting $$v for $$f ($$msg)" >&2; exit 2; \
fi; \
nq=; if [ -n "$(if $(call _pgo_queries,$(1)),q)" ] && { [ -z "$$DD_API_KEY" ] || [ -z "$$DD_APP_KEY" ]; }; then \
	k="DD_API_KEY and DD_APP_KEY are"; [ -n "$$DD_API_KEY" ] && k="DD_APP_KEY is"; [ -n "$$DD_APP_KEY" ] && k="DD_API_KEY is"; \
	why="$$k not set to fetch one (PGO_IN can name a profile file instead)"; \
	$(if $(call _pgo_sources,$(1)),$(if $(_pgo_failing),$(_pgo_say);),sev=note; $(_pgo_say);) \
	echo "pgo.mk: note: $$k not set: $$f is made from the -in sources alone$(pgo_comma) without the Datadog queries" >&2; nq=1; \
fi; \
if ! command -v $(call _pgo_sq,$(PGO_PGOFETCH)) >/dev/null 2>&1; then \
	why="no pgofetch binary to fetch one (see above)"; $(_pgo_say); \
fi; \
rc=0; if [ -n "$$nq" ]; then \
	printf '%s\n' $(call _pgo_sq,$(strip $(call _pgo_cmd_q,$(1)))); $(call _pgo_cmd_q,$(1)) || rc=$$?; \
else \
	printf '%s\n' $(call _pgo_sq,$(strip $(call _pgo_cmd,$(1)))); $(call _pgo_cmd,$(1)) || rc=$$?; \
fi; \
$(call _pgo_outcome,a setting)
endef

# $(call _pgo_refresh_run,PKG): the fetch of a listed package, by pgofetch
# refresh. Without keys it runs all the same (make does not read what the
# line holds): a line of -in sources needs none.
define _pgo_refresh_run
@$(call _pgo_late,$(1)) \
f=$(call _pgo_sq,$(call _pgo_file,$(1))); w=$(call _pgo_sq,$(call _pgo_what,$(1))); \
if ! command -v $(call _pgo_sq,$(PGO_PGOFETCH)) >/dev/null 2>&1; then \
	why="no pgofetch binary to fetch one (see above)"; $(_pgo_say); \
fi; \
rc=0; printf '%s\n' $(call _pgo_sq,$(strip $(call _pgo_refresh_cmd,$(1)))); $(call _pgo_refresh_cmd,$(1)) || rc=$$?; \
if [ $$rc = 7 ] && { [ -z "$$DD_API_KEY" ] || [ -z "$$DD_APP_KEY" ]; }; then \
	sev=note; why="DD_API_KEY and DD_APP_KEY are not both set to fetch one"; $(_pgo_say); \
fi; \
$(call _pgo_outcome,a setting or $(_pgo_list.$(1))'s line)
endef

# $(call _pgo_outcome,WHAT): the end of a fetch's recipe: what pgofetch's
# exit status $$rc means for the build. Exit 2 means WHAT was rejected.
define _pgo_outcome
case $$rc in \
0) exit 0;; \
2) echo "pgo.mk: error: pgofetch rejected $(1) for $$f (its message is above)" >&2; exit 2;; \
3) why="a source could not be read";; 4) why="a source is not a usable profile";; \
5) why="$$f could not be written";; 6) why="no profile matched the query";; \
7) why="Datadog refused the keys, or one is missing";; *) why="pgofetch failed";; \
esac; why="$$why (pgofetch exit $$rc; its message is above)"; $(_pgo_say)
endef

# $(call _pgo_record,PKG,STAMP): the recipe of the stamp. It holds what
# PKG/default.pgo is (its checksum, or none) and is rewritten, so that the
# binary is rebuilt, only when that changes.
define _pgo_record
@f=$(call _pgo_sq,$(call _pgo_file,$(1))); s=$(call _pgo_sq,$(2)); \
if [ -f "$$f" ]; then now="$$f $$(cksum <"$$f")"; else now="$$f none"; fi; \
was=; [ -f "$$s" ] && was=$$(cat "$$s"); \
[ "$$was" = "$$now" ] && exit 0; \
mkdir -p "$$(dirname "$$s")" && printf '%s\n' "$$now" >"$$s" || exit 1; \
[ -n "$$was" ] || exit 0; \
case "$$now" in \
*" none") echo "pgo.mk: $$f is gone: $(_pgo_bin.$(1)) is rebuilt without PGO";; \
*) echo "pgo.mk: $$f changed: $(_pgo_bin.$(1)) is rebuilt with it, and so is every package it imports$(if $(and $(call _pgo_remote,$(1)),$(if $(_pgo_committed),,x)),$(if $(filter-out 0 0s,$(strip $(PGO_MAX_AGE))),; the next fetch is after PGO_MAX_AGE=$(strip $(PGO_MAX_AGE))))";; \
esac
endef

# The recipe that makes sure PGO_PGOFETCH can run: builds it from PGO_SRC,
# or explains how to get it.
define _pgo_build_tool
s=$(call _pgo_sq,$(PGO_SRC)); b=$(call _pgo_sq,$(PGO_SRC_BUILD)); \
fail() { echo "pgo.mk: $(_pgo_sev): $$*" >&2; \
	echo "pgo.mk: $(_pgo_sev): so no default.pgo is refreshed; set PGO_PGOFETCH to a pgofetch binary to use that instead" >&2; \
	exit $(_pgo_rc); }; \
command -v $(call _pgo_sq,$(PGO_CMAKE)) >/dev/null 2>&1 || \
	fail "cannot build pgofetch from $$s: no $(PGO_CMAKE) (install cmake, a C11 compiler, libcurl, zlib and libzstd: $$s/core/install-deps.sh does it on Debian)"; \
[ -x "$$b/core/pgofetch" ] || echo "pgo.mk: building pgofetch from $$s in $$b"; \
mkdir -p "$$b" || fail "cannot create $$b"; \
log="$$b/pgo-mk-build.log"; \
if [ -f "$$b/CMakeCache.txt" ]; then :; \
else g=; command -v ninja >/dev/null 2>&1 && g="-G Ninja"; \
	$(call _pgo_sq,$(PGO_CMAKE)) -S "$$s" -B "$$b" $$g -DCMAKE_BUILD_TYPE=RelWithDebInfo >"$$log" 2>&1 || \
	{ cat "$$log" >&2; fail "cannot configure pgofetch's build in $$b (log above; $$s/core/install-deps.sh installs what it needs on Debian)"; }; \
fi; \
$(call _pgo_sq,$(PGO_CMAKE)) --build "$$b" --target pgofetch >"$$log" 2>&1 || \
	{ cat "$$log" >&2; fail "cannot build pgofetch in $$b (log above; $$s/core/install-deps.sh installs what it needs on Debian)"; }
endef

define _pgo_missing_tool
command -v $(call _pgo_sq,$(PGO_PGOFETCH)) >/dev/null 2>&1 && exit 0; \
{ echo "pgo.mk: $(_pgo_sev): pgofetch not found (PGO_PGOFETCH="$(call _pgo_sq,$(PGO_PGOFETCH))"), so no default.pgo is refreshed."; \
$(if $(PGO_SRC),$(if $(wildcard $(PGO_SRC)/core/CMakeLists.txt),,echo "pgo.mk:   PGO_SRC="$(call _pgo_sq,$(PGO_SRC))" holds no pgofetch sources (core/CMakeLists.txt).";)) \
echo "pgo.mk:   Get it: put pgofetch on PATH or set PGO_PGOFETCH=/path/to/pgofetch,"; \
echo "pgo.mk:   or set PGO_SRC=/path/to/pgofetch-checkout to build it there with cmake"; \
echo "pgo.mk:   (make build in the checkout builds build/core/pgofetch the same way)."; \
} >&2; exit $(_pgo_rc)
endef

# Non-empty when some declaration may run pgofetch whatever the keys: it
# reads -in sources. Without them and without both keys, nothing runs
# pgofetch, so a contributor without keys needs no binary at all.
# PGO_ variables set in a Makefile or on the command line that pgo.mk does
# not know: a misspelt setting would otherwise be ignored in silence.
_pgo_unknown = $(strip $(foreach v,$(filter PGO_%,$(.VARIABLES)),$(if $(filter $(v),$(_pgo_help_vars)),,$(if $(filter file command override,$(firstword $(origin $(v)))),$(v)))))

_pgo_refuse_unknown = $(if $(_pgo_unknown),echo "pgo.mk: error: unknown setting $(_pgo_unknown) (the PGO_ names are pgo.mk's: $(_pgo_help_vars))" >&2; exit 2;)

_pgo_any_sources = $(strip $(filter-out -weight=%,$(PGO_IN) $(foreach p,$(_PGO_PKGS),$(_pgo_in.$(p)) $(_pgo_list.$(p)))))

.PHONY: pgo pgo-clean pgo-check pgo-compare pgo-help _pgo-tool _pgo-always

# One target for the binary, shared by every profile: under make -j it is
# built (or reported missing) once.
_pgo-tool:
	@$(_pgo_refuse_unknown) \
	$(if $(_pgo_committed),:,$(_pgo_tool_run))

_pgo_tool_run = $(if $(_pgo_any_sources),,[ -n "$$DD_API_KEY" ] && [ -n "$$DD_APP_KEY" ] || exit 0;) \
	$(if $(_pgo_from_src),$(_pgo_build_tool),$(_pgo_missing_tool))

_pgo-always:

pgo:

pgo-clean:
	rm -f $(foreach p,$(_PGO_PKGS),$(call _pgo_sq,$(call _pgo_file,$(p))))

# $(call _pgo_check_one,BINARY,PKG)
define _pgo_check_one
b=$(call _pgo_sq,$(1)); want=$(call _pgo_sq,$(call _pgo_file,$(2))); \
if [ ! -f "$$b" ]; then echo "pgo-check: FAIL $$b: not built; build it, then run make pgo-check" >&2; st=1; \
else pgo=$$($(call _pgo_sq,$(_pgo_go)) version -m "$$b" 2>/dev/null | sed -n 's/^[[:space:]]*build[[:space:]]*-pgo=//p'); \
	case "$$pgo" in \
	"") if [ -f "$$want" ]; then echo "pgo-check: FAIL $$b: built without PGO (no -pgo= in go version -m), though $$want is there: rebuild it" >&2; \
		else echo "pgo-check: FAIL $$b: built without PGO: there is no $$want (make says why; if it said nothing$(pgo_comma) make never built $$b as a file: give your build rule pgo as a prerequisite)" >&2; fi; st=1;; \
	default.pgo|*/"$$want") echo "pgo-check: ok $$b: -pgo=$$pgo";; \
	*) echo "pgo-check: FAIL $$b: built with -pgo=$$pgo, not with its declared $$want" >&2; st=1;; \
	esac; \
fi;
endef

# $(call _pgo_match_one,PKG): pgofetch check of PKG/default.pgo against
# the package's code as it is now: the share of the profile's weight whose
# functions still exist, and the hottest missing ones.
define _pgo_match_one
f=$(call _pgo_sq,$(call _pgo_file,$(1))); \
if [ ! -f "$$f" ]; then echo "pgo-check: FAIL $$f: not there, so its match with the code is not checked" >&2; st=1; \
elif [ -z "$$pf" ]; then echo "pgo-check: FAIL $$f: no pgofetch to check its match with the code (PGO_PGOFETCH="$(call _pgo_sq,$(PGO_PGOFETCH))"; $(if $(_pgo_committed),PGO_MODE=committed builds need none$(pgo_comma) this check does: put pgofetch on PATH,make pgo says how to get it))" >&2; st=1; \
else rc=0; "$$pf" check $(call _pgo_opt,-fail-below,$(PGO_CHECK_BELOW)) -go $(call _pgo_sq,$(_pgo_go)) "$$f" $(call _pgo_pkgarg,$(1)) >"$$out" 2>"$$out.err" || rc=$$?; \
	sed 's/^/  /' "$$out"; cat "$$out.err" >&2; m=$$(sed -n 's/^matched: \([0-9.]*%\).*/\1/p' "$$out"); \
	case $$rc in \
	0) echo "pgo-check: ok $$f: $$m of its weight names functions in $(call _pgo_pkgarg,$(1))";; \
	8) echo "pgo-check: FAIL $$f: only $$m of its weight names functions in $(call _pgo_pkgarg,$(1)), below PGO_CHECK_BELOW=$(strip $(PGO_CHECK_BELOW)): refresh it (make pgo PGO_MAX_AGE=0)" >&2; st=1;; \
	2) echo "pgo-check: FAIL $$f: pgofetch check refused PGO_CHECK_BELOW=$(strip $(PGO_CHECK_BELOW)) or PGO_GO (its message is above)" >&2; st=1;; \
	*) echo "pgo-check: FAIL $$f: pgofetch check could not check it (exit $$rc; its message is above)" >&2; st=1;; \
	esac; \
fi;
endef

pgo-check:
	@$(_pgo_refuse_unknown) st=0; \
	$(if $(strip $(foreach p,$(_PGO_PKGS),$(_pgo_bin.$(p)))),,echo "pgo-check: FAIL no binary declared: give pgo_profile a BINARY" >&2; st=1;) \
	$(foreach p,$(_PGO_PKGS),$(foreach b,$(_pgo_bin.$(p)),$(call _pgo_check_one,$(b),$(p)))) \
	pf=$$(command -v $(call _pgo_sq,$(PGO_PGOFETCH)) 2>/dev/null); \
	out=$$(mktemp) || exit 1; trap 'rm -f "$$out" "$$out.err"' EXIT; \
	$(foreach p,$(_PGO_PKGS),$(call _pgo_match_one,$(p))) \
	exit $$st

# pgo-compare: what the profile of PGO_COMPARE (default: the only declared
# package) buys the benchmarks of PGO_BENCH, measured by the pgo-compare
# tool of a pgofetch checkout (integrations/pgo-compare). The profiles are
# refreshed first, as a build would.
_pgo_cmp_pkg = $(if $(strip $(PGO_COMPARE)),$(call _pgo_norm,$(PGO_COMPARE)),$(if $(filter 1,$(words $(_PGO_PKGS))),$(strip $(_PGO_PKGS))))
_pgo_cmp_error = $(if $(_PGO_PKGS),$(if $(strip $(PGO_COMPARE)),$(if $(filter $(_PGO_PKGS),$(_pgo_cmp_pkg)),,PGO_COMPARE=$(strip $(PGO_COMPARE)) is not a declared package (declared: $(strip $(_PGO_PKGS)))),$(if $(_pgo_cmp_pkg),,several packages are declared: say whose profile to compare with PGO_COMPARE=PKG (one of: $(strip $(_PGO_PKGS))))),no package declared: declare one with pgo_profile)
_pgo_cmp_file = $(abspath $(call _pgo_file,$(_pgo_cmp_pkg)))
# The tool's arguments; its exit status tells a bad flag (2) from no
# comparison (1), which go run would not pass on, so it is built (into a
# temporary directory; the go build cache makes that quick) and run.
_pgo_cmp_args = -dir $(call _pgo_sq,$(CURDIR)) -profile $(call _pgo_sq,$(_pgo_cmp_file)) \
	-build $(call _pgo_pkgarg,$(_pgo_cmp_pkg)) $(PGO_BENCH_FLAGS) $(PGO_BENCH)

pgo-compare: pgo
	@$(_pgo_refuse_unknown) \
	$(if $(_pgo_cmp_error),echo "pgo.mk: error: pgo-compare: $(_pgo_cmp_error)" >&2; exit 2;) \
	t=$(call _pgo_sq,$(PGO_COMPARE_TOOL)); \
	if [ -z "$$t" ] || [ ! -f "$$t/main.go" ]; then \
		echo "pgo.mk: error: pgo-compare: no pgo-compare tool$${t:+ in $$t}: set PGO_COMPARE_TOOL=/path/to/pgofetch/integrations/pgo-compare (a pgofetch checkout's; a submodule gives it by itself)" >&2; exit 2; fi; \
	f=$(call _pgo_sq,$(_pgo_cmp_file)); \
	[ -f "$$f" ] || { echo "pgo.mk: error: pgo-compare: no $(call _pgo_file,$(_pgo_cmp_pkg)) to compare (make pgo says why above)" >&2; exit 1; }; \
	d=$$(mktemp -d) || exit 1; trap 'rm -rf "$$d"' EXIT; \
	$(call _pgo_sq,$(_pgo_go)) -C "$$t" build -o "$$d/pgo-compare" . || \
		{ echo "pgo.mk: error: pgo-compare: cannot build the tool in $$t (go's message is above)" >&2; exit 1; }; \
	echo "pgo.mk: comparing the benchmarks of $(strip $(PGO_BENCH)) without PGO and with $(call _pgo_file,$(_pgo_cmp_pkg))"; \
	printf '%s\n' "$$t: pgo-compare "$(call _pgo_sq,$(strip $(_pgo_cmp_args))); \
	rc=0; "$$d/pgo-compare" $(_pgo_cmp_args) || rc=$$?; \
	case $$rc in 0) ;; 2) echo "pgo.mk: error: pgo-compare rejected PGO_BENCH_FLAGS or PGO_BENCH (its message is above)" >&2;; esac; exit $$rc

# $(call _pgo_help_decl,PKG)
_pgo_help_decl = printf '  %s\n      queries: %s\n      sources: %s\n      binary:  %s\n      max-age: %s\n' \
	$(call _pgo_sq,$(call _pgo_file,$(1))) \
	$(call _pgo_sq,$(if $(_pgo_list.$(1)),(its line in $(_pgo_list.$(1))),$(or $(call _pgo_queries,$(1)),(none)))) \
	$(call _pgo_sq,$(if $(_pgo_list.$(1)),(its line in $(_pgo_list.$(1))),$(or $(call _pgo_inlist,$(1)),(none)))) \
	$(call _pgo_sq,$(if $(_pgo_bin.$(1)),$(_pgo_bin.$(1)) (stamp $(call _pgo_stamp_of,$(_pgo_bin.$(1)))),(none))) \
	$(call _pgo_sq,$(if $(_pgo_committed),never fetched (PGO_MODE=committed),$(if $(call _pgo_remote,$(1)),$(or $(strip $(PGO_MAX_AGE)),0),0 (profile files only: read on every run))));

# Environment variables, read without a warning when undefined.
_pgo_env = $(if $(filter undefined,$(origin $(1))),,$(value $(1)))
_pgo_isset = $(if $(call _pgo_env,$(1)),set,unset)

_pgo_help_vars := PGO_PGOFETCH PGO_SRC PGO_SRC_BUILD PGO_CMAKE PGO_QUERIES PGO_IN \
	PGO_MODE PGO_WEIGHT PGO_NORMALIZE \
	PGO_PROFILES PGO_FROM PGO_TIMEOUT PGO_MAX_AGE PGO_TRIM PGO_FAIL PGO_API_URL \
	PGO_ENDPOINT PGO_FLAGS PGO_BINDIR PGO_GO PGO_COMPARE PGO_COMPARE_TOOL \
	PGO_BENCH PGO_BENCH_FLAGS PGO_CHECK_BELOW PGO_NOINLINE_FUNC PGO_NOINLINE_FILE

pgo-help:
	@printf '%s\n' \
	'pgo.mk: Go PGO profiles (default.pgo) refreshed by pgofetch on make runs,' \
	'rewritten only when they change, so binaries relink only then. Fail-open unless PGO_FAIL=1.' \
	'' \
	'Declare each main package (QUERIES ;-separated, BINARY - for none, SOURCES are -in sources):' \
	'  $$(eval $$(call pgo_profile,PKG[,QUERIES[,BINARY[,SOURCES]]]))' \
	'or every package of a pgofetch list file, fetched with pgofetch refresh:' \
	'  $$(eval $$(call pgo_list,FILE[,PKG=BINARY ...]))' \
	'' \
	'Targets:' \
	'  pgo        refresh every declared default.pgo' \
	'  pgo-clean  delete every declared default.pgo' \
	'  pgo-check  check that every declared binary was built with -pgo=, and how much' \
	'             of each profile still matches the code (PGO_CHECK_BELOW: a floor)' \
	'  pgo-compare  benchmark PGO_BENCH without and with a profile (PGO_COMPARE)' \
	'  pgo-help   this text' \
	'' \
	'Settings (override on the command line, e.g. make PGO_FAIL=1):'
	@$(foreach v,$(_pgo_help_vars),printf '  %-14s %s\n' $(v) $(call _pgo_sq,$($(v)));)
	@printf '  %-14s %s\n' mode $(call _pgo_sq,$(if $(_pgo_committed),committed: each default.pgo is the checked-in file$(pgo_comma) used as it is; pgofetch never runs (no keys$(pgo_comma) no network),fetch: pgofetch refreshes each default.pgo on make runs (PGO_MODE=committed: never)))
	@printf '  %-14s %s\n' pgofetch $(call _pgo_sq,$(if $(_pgo_committed),not needed (PGO_MODE=committed),$(if $(_pgo_from_src),built from PGO_SRC,$(if $(shell command -v $(call _pgo_sq,$(PGO_PGOFETCH)) 2>/dev/null),found,NOT FOUND: make pgo says how to get it))))
	@printf '  %-14s %s\n' DD_API_KEY $(call _pgo_isset,DD_API_KEY) DD_APP_KEY $(call _pgo_isset,DD_APP_KEY) DD_SITE $(call _pgo_sq,$(or $(call _pgo_env,DD_SITE),(unset: datadoghq.com))) CI $(call _pgo_sq,$(if $(_pgo_ci),set: PGO_MAX_AGE defaults to 0,unset: PGO_MAX_AGE defaults to 24h))
	@echo ''
	@echo 'Declarations:'
	@$(if $(_PGO_PKGS),$(foreach p,$(_PGO_PKGS),$(call _pgo_help_decl,$(p))),echo '  (none)')

# $(call _pgo_decl_error,PKG,TEXT)
_pgo_decl_error = $(error pgo.mk: pgo_profile $(1): $(2))

# $(call _pgo_decl,PKG,QUERIES,BINARY,SOURCES): the rules of one declaration,
# for eval. Variables are set here, with eval, so that the text of QUERIES is
# never parsed as make syntax twice. What would wire it wrongly in silence
# stops make here, naming the declaration.
define _pgo_decl
$(if $(_pgo_bad_mode),$(error pgo.mk: error: bad setting PGO_MODE='$(PGO_MODE)': want fetch (pgofetch refreshes default.pgo on make runs) or committed (the checked-in default.pgo as it is; pgofetch never runs)))
$(if $(filter $(1),$(_PGO_PKGS)),$(call _pgo_decl_error,$(1),declared twice))
$(if $(wildcard $(1)/*.go),,$(call _pgo_decl_error,$(1),no .go files in $(CURDIR)/$(1): give the main package's directory relative to the Makefile's))
$(if $(findstring :,$(3)),$(call _pgo_decl_error,$(1),BINARY '$(3)' looks like part of a query: separate queries with ; and write a comma as $$(pgo_comma)))
$(if $(filter %/,$(3)),$(call _pgo_decl_error,$(1),BINARY '$(3)' ends in /: is a variable in it set only after this declaration?))
$(if $(wildcard $(addsuffix /.,$(3))),$(call _pgo_decl_error,$(1),BINARY '$(3)' is a directory: give the file your Makefile builds))
$(if $(filter -weight=%,$(lastword $(4))),$(call _pgo_decl_error,$(1),SOURCES end in $(lastword $(4)): a -weight= weighs the sources after it$(pgo_comma) and none follows))
$(if $(or $(3),$(call _pgo_default_bin,$(1))),,$(call _pgo_decl_error,$(1),give BINARY, the file your Makefile builds from it (no module path in ./go.mod to name it after)))
$(eval _PGO_PKGS += $(1))
$(eval _pgo_q.$(1) := $(call _pgo_mkesc,$(2)))
$(eval _pgo_in.$(1) := $(call _pgo_mkesc,$(4)))
$(eval _pgo_bin.$(1) := $(call _pgo_mkesc,$(call _pgo_bin_of,$(1),$(3))))
$(eval _pgo_defbin.$(1) := $(if $(3),,$(_pgo_bin.$(1))))
$(eval _pgo_bindir.$(1) := $(call _pgo_mkesc,$(PGO_BINDIR)$(if $(PGO_BINDIR),,-)))
_pgo_saved_goal := $$(.DEFAULT_GOAL)
.PRECIOUS: $(call _pgo_file,$(1))
$(call _pgo_file,$(1)): _pgo-tool
	$$(call _pgo_fetch,$(1))
pgo: $(call _pgo_file,$(1))
$(if $(_pgo_bin.$(1)),$(call _pgo_stamp_of,$(_pgo_bin.$(1))): $(call _pgo_file,$(1)) _pgo-always
	$$(call _pgo_record,$(1),$(call _pgo_stamp_of,$(_pgo_bin.$(1)))))
$(if $(_pgo_bin.$(1)),$(_pgo_bin.$(1)): $(call _pgo_stamp_of,$(_pgo_bin.$(1))))
.DEFAULT_GOAL := $$(_pgo_saved_goal)
endef

# $(call pgo_list,FILE[,BINARIES]): pgo_profile for each main package of a
# pgofetch list file (its directory is the first word of each line that is
# not blank or a comment; the rest of the line is pgofetch's, never read
# here), whose fetch is pgofetch refresh -list FILE PKG. BINARIES: words
# PKG=BINARY for packages whose binary is not the default (PKG as the
# Makefile sees it; repeat a PKG for several binaries; PKG=- for none).
pgo_list = $(if $(strip $(value 3)),$(error pgo.mk: pgo_list $(value 1): more than 2 arguments ('$(value 3)'...)))$(call _pgo_list,$(strip $(value 1)),$(strip $(value 2)))

_pgo_list_dir = $(patsubst %/,%,$(dir $(1)))
# $(call _pgo_list_pkg,FILE,DIR): DIR of FILE's line, seen from the Makefile.
_pgo_list_pkg = $(call _pgo_norm,$(if $(filter .,$(call _pgo_list_dir,$(1))),$(2),$(call _pgo_list_dir,$(1))/$(2)))
_pgo_list_dirs = $(shell sed -n 's/^[[:space:]]*\([^$(_pgo_hash)[:space:]][^[:space:]]*\).*/\1/p' $(call _pgo_sq,$(1)))
# $(call _pgo_bin_pkg,WORD): the PKG of a PKG=BINARY word.
_pgo_bin_pkg = $(call _pgo_norm,$(firstword $(subst =, ,$(1))))
# $(call _pgo_list_bins,PKG,BINARIES): the binaries BINARIES names for PKG.
_pgo_list_bins = $(strip $(foreach _pgo_b,$(2),$(if $(filter $(1),$(call _pgo_bin_pkg,$(_pgo_b))),$(patsubst $(firstword $(subst =, ,$(_pgo_b)))=%,%,$(_pgo_b)))))

_pgo_list = $(if $(1),,$(error pgo.mk: pgo_list: give the list file: $$(eval $$(call pgo_list,pgofetch.list))))$(if $(wildcard $(1)),,$(error pgo.mk: pgo_list $(1): no such file in $(CURDIR)))$(foreach _pgo_d,$(call _pgo_list_dirs,$(1)),$(call _pgo_list_one,$(1),$(_pgo_d),$(call _pgo_list_pkg,$(1),$(_pgo_d)),$(2)))$(foreach _pgo_b,$(2),$(if $(findstring =,$(_pgo_b)),,$(error pgo.mk: pgo_list $(1): '$(_pgo_b)' is not PKG=BINARY))$(if $(filter $(call _pgo_bin_pkg,$(_pgo_b)),$(foreach _pgo_d,$(call _pgo_list_dirs,$(1)),$(call _pgo_list_pkg,$(1),$(_pgo_d)))),,$(error pgo.mk: pgo_list $(1): '$(_pgo_b)' names a package the list does not have)))

# $(call _pgo_list_one,FILE,DIR,PKG,BINARIES): one package of the list.
_pgo_list_one = $(eval $(call _pgo_decl,$(3),,$(call _pgo_list_bins,$(3),$(4)),))$(eval _pgo_list.$(3) := $(call _pgo_mkesc,$(1)))$(eval _pgo_lword.$(3) := $(call _pgo_mkesc,$(2)))

pgo_profile = $(if $(strip $(value 5)),$(error pgo.mk: pgo_profile $(value 1): more than 4 arguments ('$(value 5)'...): write a comma in a query as $$(pgo_comma)))$(call _pgo_decl,$(call _pgo_norm,$(value 1)),$(strip $(value 2)),$(strip $(value 3)),$(strip $(value 4)))

.DEFAULT_GOAL := $(_pgo_saved_goal)

endif
