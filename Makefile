# ehr — PGXS build.
#
#   make && make install       build and install into the PostgreSQL that PG_CONFIG names
#   make installcheck          pg_regress against a running server (preload ehr first)
#   make test                  everything, from a fresh machine: packages, build, throwaway
#                              clusters, pg_regress + pgTAP + isolation + shell suites
#   make demo                  a throwaway cluster loaded with the platform's scenario
#   make bench / make fuzz     benchmarks and the libFuzzer run (not part of make test)
#   make memcheck              the pg_regress suites with backends under valgrind

EXTENSION = ehr
EXTVERSION := $(shell sed -n "s/^default_version *= *'\(.*\)'/\1/p" $(dir $(lastword $(MAKEFILE_LIST)))ehr.control)

MODULE_big = ehr
# One object per concern: every src/*.c is part of the library.
OBJS = $(WIN32RES) $(patsubst %.c,%.o,$(sort $(wildcard src/*.c)))

PGFILEDESC = "ehr - health records, consent, de-identification and result recognition"

# The install script of the current version is assembled from sql/parts/ (one
# fragment per concern, applied in name order); install scripts of released
# versions and upgrade scripts are committed as they are.
DATA_built = sql/$(EXTENSION)--$(EXTVERSION).sql
DATA = $(filter-out $(DATA_built),$(wildcard sql/$(EXTENSION)--*.sql))
DOCS = $(wildcard docs/*.md)

# -Isrc: shared declarations in src/ehr.h.
# -DEHR_VERSION: the C code reports the version written in ehr.control.
# -Werror: the project compiles warning-free with PostgreSQL's own warning flags.
PG_CPPFLAGS = -Isrc -DEHR_VERSION='"$(EXTVERSION)"' -Werror
SHLIB_LINK = -lcrypto

# pg_regress suites: every sql/NAME.sql (-> expected/NAME.out) except the install
# scripts; security first, the rest in name order.
REGRESS_ALL = $(sort $(basename $(notdir $(filter-out sql/$(EXTENSION)--%,$(wildcard sql/*.sql)))))
REGRESS = security $(filter-out security,$(REGRESS_ALL))
REGRESS_OPTS = --load-extension=ehr

EXTRA_CLEAN = results regression.diffs regression.out

# Prefer PostgreSQL 15's pg_config when several majors are installed.
ifeq ($(origin PG_CONFIG),undefined)
PG_CONFIG := $(firstword $(wildcard /usr/lib/postgresql/15/bin/pg_config) pg_config)
endif
PGXS := $(shell $(PG_CONFIG) --pgxs 2>/dev/null)

ifneq ($(PGXS),)
include $(PGXS)
else
# No server headers yet: only the self-installing targets below can run.
all install installcheck:
	@echo "pg_config ($(PG_CONFIG)) not found: install postgresql-server-dev-15, or run 'make test' / 'make demo', which install what they need" >&2; exit 1
endif

sql/$(EXTENSION)--$(EXTVERSION).sql: $(sort $(wildcard sql/parts/*.sql)) sql/parts ehr.control
	@{ echo '/* ehr--$(EXTVERSION).sql: generated from sql/parts/ by the Makefile; edit the parts */'; \
	   printf '%s\n' '\echo Use "CREATE EXTENSION ehr" to load this file. \quit'; \
	   for f in $(sort $(wildcard sql/parts/*.sql)); do echo; echo "-- ==== $$f"; cat $$f; done; } > $@

.PHONY: test demo demo-stop bench fuzz memcheck print-regress print-regress-opts
print-regress:
	@echo $(REGRESS)
print-regress-opts:
	@echo $(REGRESS_OPTS)
test:
	bash scripts/test.sh
demo:
	bash scripts/demo.sh start
demo-stop:
	bash scripts/demo.sh stop
bench:
	bash scripts/bench.sh
fuzz:
	bash test/fuzz/run.sh
memcheck:
	bash scripts/memcheck.sh

# PGXS tracks no header dependencies unless the server was configured with
# --enable-depend: every object depends on every project header.
$(filter src/%.o,$(OBJS)): $(wildcard src/*.h)
