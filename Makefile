# policy-milter - a policy and anti-spam milter for Postfix and Sendmail
#
#   make            build src/policy-milter
#   make deps       install the Debian packages the build and tests need (idempotent)
#   make check      deps, build, unit tests (plain and ASan+UBSan), man lint, end-to-end tests
#   make demo       deps, build, a live demonstration in a private namespace
#   make bench      policy-milter (default and like-for-like policies) beside no milter, a null milter, OpenDKIM+OpenDMARC and rspamd; greylisting and a rate limit on lmdb and redis (BENCH_QUICK=1, BENCH_SETUPS)
#   make soak       50,000 messages at concurrency 50: replies, RSS, fds; a LeakSanitizer run
#   make fuzz       the libFuzzer targets of tests/fuzz, FUZZ_SECONDS (60) each
#   make install    PREFIX=/usr/local DESTDIR=
#   make deb        the Debian package, built by dpkg-buildpackage from a copy of the tree: build/deb/*.deb

CC       ?= gcc
PREFIX   ?= /usr/local
SBINDIR  ?= $(PREFIX)/sbin
MANDIR   ?= $(PREFIX)/share/man
SYSCONFDIR ?= /etc

# The version is the newest entry of debian/changelog, the project's changelog.
VERSION  := $(shell head -n 1 debian/changelog | cut -d ' ' -f 2 | tr -d '()')

PKGS     := milter libconfig opendkim libcrypto lmdb hiredis
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)

WARN     := -Wall -Wextra -Werror -Wshadow -Wmissing-prototypes -Wformat=2
CFLAGS   ?= -O2 -g
CFLAGS   += -std=gnu11 $(WARN) -D_GNU_SOURCE -DPM_VERSION='"$(VERSION)"' -DPM_CONFIG_PATH='"$(SYSCONFDIR)/policy-milter/policy-milter.conf"' $(PKG_CFLAGS)
LDLIBS   := $(PKG_LIBS) -lidn2 -lresolv -lpthread

SAN_FLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all

# The daemon's sources, one file per concern (see README "Source layout").
LIB_SRCS := util.c cidr.c addr.c policy.c config_keys.c config_load.c config_check.c log.c jsonlog.c decision.c sink.c rcpt.c spf.c spfrecord.c dns.c dnscache.c sender.c verdict.c authres.c dkim.c hdrfrom.c dmarc.c psl.c iprev.c dnsbl.c lists.c filetable.c keycache.c bodyhash.c arc.c arctrust.c eom.c store.c store_lmdb.c store_redis.c greylist.c ratelimit.c
# the metrics endpoint's HTTP responder (its own thread; tests/metrics/http.sh)
LIB_SRCS += metrics_http.c
# the metrics: counters, gauges, the histogram and their text rendering (metrics.h)
LIB_SRCS += metrics.c
DAEMON_SRCS := $(LIB_SRCS) session.c milter.c main.c

OBJDIR   := build/obj
DAEMON_OBJS := $(addprefix $(OBJDIR)/,$(DAEMON_SRCS:.c=.o))

all: src/policy-milter

src/policy-milter: $(DAEMON_OBJS)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(OBJDIR)/%.o: src/%.c src/*.h | $(OBJDIR) build-deps
	$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

$(OBJDIR) build/asan/obj build/tests build/asan/tests:
	mkdir -p $@

# ---- unit tests (cmocka) -------------------------------------------------
# Each test links only the modules it exercises (so one module's tests run
# while another is being written). test_eom links no arc.o: it has its own
# fake ARC verifier (arc_verify_eom), so its cases choose the chain's result.
UNIT_TESTS := test_util test_cidr test_addr test_config test_rcpt test_verdict test_authres test_log test_dns test_sender test_dkim test_hdrfrom test_dmarc test_iprev test_dnsbl test_lists test_dnscache test_spfrecord test_eom test_filetable test_session test_arc test_arctrust test_store test_greylist test_ratelimit test_keycache test_metrics test_metrics_http
test_util_MODS    := util
test_cidr_MODS    := cidr util
test_addr_MODS    := addr util
test_config_MODS  := config_keys config_load config_check policy psl cidr rcpt addr log util dmarc dkim dns dnscache lists filetable bodyhash metrics metrics_http
test_rcpt_MODS    := rcpt addr log util policy psl lists filetable cidr
test_verdict_MODS := verdict config_keys config_load config_check policy psl cidr rcpt addr log util dmarc dkim dns dnscache lists filetable bodyhash metrics metrics_http
test_authres_MODS := authres policy psl util dkim dmarc dns dnscache lists filetable cidr addr log bodyhash metrics
test_log_MODS     := log jsonlog sink util
test_dns_MODS     := dns dnscache util metrics
test_sender_MODS  := sender dns dnscache util metrics
test_dkim_MODS    := dkim keycache dns dnscache util bodyhash metrics
test_hdrfrom_MODS := hdrfrom addr util
test_dmarc_MODS   := dmarc dkim dns dnscache policy psl util lists filetable cidr addr log bodyhash metrics
test_lists_MODS   := lists filetable cidr addr log util
test_filetable_MODS := filetable util
test_iprev_MODS   := iprev dns dnscache policy psl cidr util lists filetable addr log metrics
test_dnsbl_MODS   := dnsbl iprev dns dnscache policy psl cidr util lists filetable addr log metrics
test_dnscache_MODS := dnscache util metrics
test_spfrecord_MODS := spfrecord util
test_eom_MODS     := eom verdict config_keys config_load config_check policy psl cidr rcpt addr log util dmarc dkim dns dnscache lists filetable hdrfrom authres arctrust bodyhash metrics metrics_http
test_arc_MODS     := arc keycache dkim dns dnscache util bodyhash metrics
test_session_MODS := session eom verdict config_keys config_load config_check policy psl cidr rcpt addr log jsonlog decision sink util dmarc dkim dns dnscache lists filetable hdrfrom authres sender spf spfrecord dnsbl iprev arc keycache arctrust greylist ratelimit store store_lmdb store_redis bodyhash metrics metrics_http
test_arctrust_MODS := arctrust util
test_store_MODS   := store store_lmdb store_redis log util metrics
test_greylist_MODS := greylist store store_lmdb store_redis cidr log util metrics
test_ratelimit_MODS := ratelimit greylist store store_lmdb store_redis cidr log util metrics
test_keycache_MODS := keycache util
test_metrics_MODS := metrics util
test_metrics_http_MODS := metrics_http log util

TEST_LIBS := $(shell pkg-config --libs cmocka 2>/dev/null) $(LDLIBS)

define unit_rules
build/tests/$(1): tests/unit/$(1).c $$(addprefix $(OBJDIR)/,$$(addsuffix .o,$$($(1)_MODS))) | build/tests
	$$(CC) $$(CFLAGS) -Isrc -o $$@ $$^ $$(TEST_LIBS)
build/asan/tests/$(1): tests/unit/$(1).c $$(addprefix build/asan/obj/,$$(addsuffix .o,$$($(1)_MODS))) | build/asan/tests
	$$(CC) $$(CFLAGS) $$(SAN_FLAGS) -Isrc -o $$@ $$^ $$(TEST_LIBS)
endef
$(foreach t,$(UNIT_TESTS),$(eval $(call unit_rules,$(t))))

# The ARC driver (tests/arc/arcverify.c): one message in, one line out
# (the differential test against Mail::DKIM reads it).
ARCVERIFY_MODS := arc keycache dkim dns dnscache util bodyhash metrics
build/tests/arcverify: tests/arc/arcverify.c $(addprefix $(OBJDIR)/,$(addsuffix .o,$(ARCVERIFY_MODS))) | build/tests
	$(CC) $(CFLAGS) -Isrc -o $@ $^ $(LDLIBS)

# The metrics endpoint's test responder (tests/metrics/http.sh builds and runs
# both): the responder with a fixed render function, plain and ASan+UBSan.
METRICS_HTTPD_MODS := metrics_http log util
build/tests/metrics-httpd: tests/metrics/httpd.c $(addprefix $(OBJDIR)/,$(addsuffix .o,$(METRICS_HTTPD_MODS))) | build/tests
	$(CC) $(CFLAGS) -Isrc -o $@ $^ $(LDLIBS)
build/asan/tests/metrics-httpd: tests/metrics/httpd.c $(addprefix build/asan/obj/,$(addsuffix .o,$(METRICS_HTTPD_MODS))) | build/asan/tests
	$(CC) $(CFLAGS) $(SAN_FLAGS) -Isrc -o $@ $^ $(LDLIBS)

build/asan/obj/%.o: src/%.c src/*.h | build/asan/obj
	$(CC) $(CFLAGS) $(SAN_FLAGS) -c -o $@ $<

unit-build: $(addprefix build/tests/,$(UNIT_TESTS)) build/tests/arcverify
asan-build: $(addprefix build/asan/tests/,$(UNIT_TESTS))

unit: unit-build
	@tests/run-unit.sh plain build/tests $(UNIT_TESTS)

unit-asan: asan-build
	@tests/run-unit.sh asan build/asan/tests $(UNIT_TESTS)

# ---- the rest ------------------------------------------------------------
deps:
	@tests/deps.sh

# Before anything is compiled: a missing build dependency (debian/control's
# Build-Depends, the compiler) stops make with the Debian packages to install
# and "make deps", not with a compiler error about a missing header.
build-deps:
	@tests/deps.sh --build

check: deps
	@rm -rf build/results && mkdir -p build/results
	$(MAKE) -j$$(nproc) all unit-build asan-build
	@tests/check.sh

e2e: all
	@tests/e2e/run.sh

e2e-sendmail: all
	@tests/e2e/sendmail.sh

faults: all
	@tests/faults/run.sh
.PHONY: faults

# ARC chains made by Mail::DKIM at test time: our validator and Mail::DKIM agree (tests/arc/)
arc-diff: build/tests/arcverify
	@tests/arc/diff.sh
.PHONY: arc-diff

# 50,000 messages through Postfix + policy-milter, then a LeakSanitizer run (SOAK_MESSAGES)
soak: deps
	@tests/bench/deps.sh
	$(MAKE) all
	@tests/soak/run.sh
.PHONY: soak

demo: deps
	$(MAKE) all
	@tests/e2e/demo.sh

bench: deps
	@tests/bench/deps.sh
	$(MAKE) all
	@tests/bench/run.sh

man-lint:
	@tests/man-lint.sh

# cppcheck and clang-tidy (.clang-tidy, tests/lint/cppcheck.supp) over src/*.c, src/report/*.c
lint:
	@tests/lint.sh

# The systemd unit goes where Debian puts a package's units: /lib/systemd/system
# when PREFIX is /usr, else $(PREFIX)/lib/systemd/system (/usr/local/lib/systemd/system
# is on systemd's search path too); the sysusers.d(5) file that makes the
# policy-milter user goes to $(PREFIX)/lib/sysusers.d. The policy file is never
# overwritten: when one that differs is there, the shipped one goes beside it as
# policy-milter.conf.dist.
ifeq ($(PREFIX),/usr)
SYSTEMDUNITDIR ?= /lib/systemd/system
else
SYSTEMDUNITDIR ?= $(PREFIX)/lib/systemd/system
endif
SYSUSERSDIR ?= $(PREFIX)/lib/sysusers.d
POLICYDIR := $(DESTDIR)$(SYSCONFDIR)/policy-milter

install: all
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(MANDIR)/man5 $(POLICYDIR) $(DESTDIR)$(SYSTEMDUNITDIR) $(DESTDIR)$(SYSUSERSDIR)
	install -m 0644 systemd/policy-milter.sysusers $(DESTDIR)$(SYSUSERSDIR)/policy-milter.conf
	install -m 0755 src/policy-milter $(DESTDIR)$(SBINDIR)/policy-milter
	install -m 0644 man/policy-milter.8 $(DESTDIR)$(MANDIR)/man8/policy-milter.8
	install -m 0644 man/policy-milter.conf.5 $(DESTDIR)$(MANDIR)/man5/policy-milter.conf.5
	sed -e 's|@SBINDIR@|$(SBINDIR)|g' -e 's|@SYSCONFDIR@|$(SYSCONFDIR)|g' \
	    systemd/policy-milter.service.in >$(DESTDIR)$(SYSTEMDUNITDIR)/policy-milter.service.tmp
	chmod 0644 $(DESTDIR)$(SYSTEMDUNITDIR)/policy-milter.service.tmp
	mv -f $(DESTDIR)$(SYSTEMDUNITDIR)/policy-milter.service.tmp $(DESTDIR)$(SYSTEMDUNITDIR)/policy-milter.service
	@if [ ! -e $(POLICYDIR)/policy-milter.conf ]; then \
	    echo "install -m 0644 conf/policy-milter.conf $(POLICYDIR)/policy-milter.conf"; \
	    install -m 0644 conf/policy-milter.conf $(POLICYDIR)/policy-milter.conf; \
	elif ! cmp -s conf/policy-milter.conf $(POLICYDIR)/policy-milter.conf; then \
	    install -m 0644 conf/policy-milter.conf $(POLICYDIR)/policy-milter.conf.dist; \
	    echo "$(POLICYDIR)/policy-milter.conf exists and differs: kept;" \
	        "the shipped policy is installed beside it as policy-milter.conf.dist"; \
	fi

# uninstall - remove what install added; the policy file (and its .dist) only
# when byte-identical to the shipped one, /etc/policy-milter only when empty.
# The shared directories (sbin, man/manN, the unit directory) stay.
uninstall:
	rm -f $(DESTDIR)$(SBINDIR)/policy-milter $(DESTDIR)$(SBINDIR)/policy-milter-report
	rm -f $(DESTDIR)$(MANDIR)/man8/policy-milter.8 $(DESTDIR)$(MANDIR)/man5/policy-milter.conf.5 $(DESTDIR)$(MANDIR)/man1/policy-milter-report.1
	rm -f $(DESTDIR)$(SYSTEMDUNITDIR)/policy-milter.service $(DESTDIR)$(SYSUSERSDIR)/policy-milter.conf
	rm -f $(DESTDIR)$(SYSTEMDUNITDIR)/policy-milter-report.service $(DESTDIR)$(SYSTEMDUNITDIR)/policy-milter-report.timer
	@for f in $(POLICYDIR)/policy-milter.conf $(POLICYDIR)/policy-milter.conf.dist; do \
	    if [ -e $$f ] && cmp -s conf/policy-milter.conf $$f; then \
	        echo "rm -f $$f"; rm -f $$f; \
	    elif [ -e $$f ]; then \
	        echo "$$f differs from the shipped policy: kept"; \
	    fi; \
	done
	@if [ -d $(POLICYDIR) ]; then rmdir --ignore-fail-on-non-empty $(POLICYDIR); fi

# deb - the Debian package of debian/ (README "Install"), built by
# dpkg-buildpackage from a copy of the tree in build/deb, so that its
# "make clean" leaves this tree's build alone: build/deb/*.deb (and the
# .buildinfo and .changes beside it). It runs the unit tests unless
# DEB_BUILD_OPTIONS=nocheck. Root is not needed (Rules-Requires-Root: no).
DEB_TREE := build/deb/policy-milter-$(VERSION)
deb:
	@command -v dpkg-buildpackage >/dev/null && command -v dh >/dev/null || \
	    { echo "make deb needs dpkg-dev and debhelper: make deps (as root)" >&2; exit 1; }
	rm -rf build/deb && mkdir -p $(DEB_TREE)
	tar -c --exclude=./build --exclude=./.git --exclude=./src/policy-milter \
	    --exclude=./src/policy-milter-report --exclude=__pycache__ . | tar -x -C $(DEB_TREE)
	cd $(DEB_TREE) && dpkg-buildpackage -us -uc -b
	rm -rf $(DEB_TREE)
	@ls build/deb/*.deb

format:
	clang-format -i src/*.c src/*.h src/report/*.[ch] tests/unit/*.c tests/report/*.c tests/arc/*.c tests/metrics/*.c

clean:
	rm -rf build src/policy-milter

.PHONY: all deps build-deps check e2e e2e-sendmail demo bench man-lint lint install uninstall deb format clean unit unit-asan unit-build asan-build

# ---- policy-milter-report: the decision log report (issue 4) -------------
# Its own sources in src/report/, plus util, cidr and decision (the table
# of the JSON schema keys the daemon writes by) of the daemon; links only
# jansson and zlib. build/asan/policy-milter-report is the sanitizer
# build that tests/report/run.sh runs over the garbage fixture.
REPORT_SRCS := main.c input.c record.c timefmt.c filter.c tally.c aggregate.c out_text.c out_json.c out_csv.c out_html.c dmarcagg.c deliver.c dmarcmode.c
REPORT_MODS := util cidr decision psl
REPORT_CFLAGS := $(shell pkg-config --cflags jansson zlib libconfig 2>/dev/null)
REPORT_LIBS := $(shell pkg-config --libs jansson zlib libconfig 2>/dev/null) -lresolv
REPORT_OBJS := $(addprefix build/report/obj/,$(REPORT_SRCS:.c=.o)) $(addprefix $(OBJDIR)/,$(addsuffix .o,$(REPORT_MODS)))
REPORT_ASAN_OBJS := $(addprefix build/asan/report/obj/,$(REPORT_SRCS:.c=.o)) $(addprefix build/asan/obj/,$(addsuffix .o,$(REPORT_MODS)))

all: src/policy-milter-report

src/policy-milter-report: $(REPORT_OBJS)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(REPORT_LIBS)

build/report/obj/%.o: src/report/%.c src/report/*.h src/util.h src/cidr.h src/decision.h src/psl.h | build/report/obj build-deps
	$(CC) $(CPPFLAGS) $(CFLAGS) $(REPORT_CFLAGS) -c -o $@ $<

build/asan/policy-milter-report: $(REPORT_ASAN_OBJS)
	$(CC) $(CFLAGS) $(SAN_FLAGS) -o $@ $^ $(REPORT_LIBS)

build/asan/report/obj/%.o: src/report/%.c src/report/*.h src/util.h src/cidr.h src/decision.h src/psl.h | build/asan/report/obj
	$(CC) $(CFLAGS) $(SAN_FLAGS) $(REPORT_CFLAGS) -c -o $@ $<

build/report/obj build/asan/report/obj build/tests/report build/asan/tests/report:
	mkdir -p $@

# cmocka tests of its pure parts (everything but main.c), plain and ASan+UBSan;
# with the daemon's JSON writer (jsonlog), whose records must use only the
# keys of the schema table
REPORT_TEST_MODS := jsonlog
REPORT_TEST_LIBS := $(shell pkg-config --libs cmocka 2>/dev/null) $(REPORT_LIBS) -lpthread

build/tests/report/test_report: tests/report/test_report.c $(filter-out %/main.o,$(REPORT_OBJS)) $(addprefix $(OBJDIR)/,$(addsuffix .o,$(REPORT_TEST_MODS))) | build/tests/report
	$(CC) $(CFLAGS) $(REPORT_CFLAGS) -Isrc -o $@ $^ $(REPORT_TEST_LIBS)

build/asan/tests/report/test_report: tests/report/test_report.c $(filter-out %/main.o,$(REPORT_ASAN_OBJS)) $(addprefix build/asan/obj/,$(addsuffix .o,$(REPORT_TEST_MODS))) | build/asan/tests/report
	$(CC) $(CFLAGS) $(SAN_FLAGS) $(REPORT_CFLAGS) -Isrc -o $@ $^ $(REPORT_TEST_LIBS)

report-test: src/policy-milter-report build/asan/policy-milter-report build/tests/report/test_report build/asan/tests/report/test_report
	@tests/report/run.sh

install: install-report

# the timer and service of the daily DMARC aggregate reports, beside the daemon's unit
install-report: src/policy-milter-report
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(SYSTEMDUNITDIR)
	install -m 0755 src/policy-milter-report $(DESTDIR)$(SBINDIR)/policy-milter-report
	install -m 0644 man/policy-milter-report.1 $(DESTDIR)$(MANDIR)/man1/policy-milter-report.1
	sed -e 's|@SBINDIR@|$(SBINDIR)|g' -e 's|@SYSCONFDIR@|$(SYSCONFDIR)|g' \
	    systemd/policy-milter-report.service.in >$(DESTDIR)$(SYSTEMDUNITDIR)/policy-milter-report.service.tmp
	chmod 0644 $(DESTDIR)$(SYSTEMDUNITDIR)/policy-milter-report.service.tmp
	mv -f $(DESTDIR)$(SYSTEMDUNITDIR)/policy-milter-report.service.tmp $(DESTDIR)$(SYSTEMDUNITDIR)/policy-milter-report.service
	install -m 0644 systemd/policy-milter-report.timer $(DESTDIR)$(SYSTEMDUNITDIR)/policy-milter-report.timer

clean: clean-report

clean-report:
	rm -f src/policy-milter-report

.PHONY: report-test install-report clean-report

# ---- fuzzing (issue 7): libFuzzer targets, tests/fuzz/ -------------------
# Each target links the modules it exercises, built again with clang and
# -fsanitize=fuzzer-no-link,address,undefined into build/fuzz/obj. The
# dmarc and eom targets answer DNS themselves (a resolver function of
# their own set on the DNS budget: no query leaves the process). make fuzz runs each target FUZZ_SECONDS
# seconds (tests/fuzz/run.sh; make check runs each for 5).
FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 60
FUZZ_TARGETS := addr hdrfrom authres config rcpt lists dmarc eom spfrecord arc
FUZZ_SAN     := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_CFLAGS  := -O1 -g -std=gnu11 $(WARN) -D_GNU_SOURCE -DPM_VERSION='"$(VERSION)"' -DPM_CONFIG_PATH='"$(SYSCONFDIR)/policy-milter/policy-milter.conf"' $(PKG_CFLAGS) $(FUZZ_SAN)
# dns.c and its cache
FUZZ_DNS     := dns dnscache metrics
fuzz_addr_MODS    := addr util
fuzz_hdrfrom_MODS := hdrfrom addr util
fuzz_authres_MODS := authres policy psl util dkim dmarc $(FUZZ_DNS) lists filetable cidr addr log bodyhash
fuzz_config_MODS  := config_keys config_load config_check policy psl cidr rcpt addr log util dmarc dkim $(FUZZ_DNS) lists filetable bodyhash metrics_http
fuzz_rcpt_MODS    := rcpt addr log util policy psl lists filetable cidr
fuzz_lists_MODS   := lists filetable cidr addr log util
fuzz_dmarc_MODS   := dmarc dkim $(FUZZ_DNS) policy psl util lists filetable cidr addr log bodyhash
fuzz_spfrecord_MODS := spfrecord util
fuzz_eom_MODS     := eom verdict config_keys config_load config_check policy psl cidr rcpt addr log util dmarc dkim $(FUZZ_DNS) lists filetable hdrfrom authres arc keycache arctrust bodyhash metrics_http
# arc: what the arcverify driver links (src/arc.c and what it uses)
fuzz_arc_MODS     := $(ARCVERIFY_MODS)

build/fuzz/obj:
	mkdir -p $@

build/fuzz/obj/%.o: src/%.c src/*.h | build/fuzz/obj
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c -o $@ $<

build/fuzz/obj/fuzz_%.o: tests/fuzz/%.c tests/fuzz/fuzzlib.h src/*.h | build/fuzz/obj
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -DPM_SRCDIR='"$(CURDIR)"' -Isrc -Itests/fuzz -c -o $@ $<

define fuzz_rules
build/fuzz/$(1): build/fuzz/obj/fuzz_$(1).o build/fuzz/obj/fuzz_fuzzlib.o $$(addprefix build/fuzz/obj/,$$(addsuffix .o,$$(fuzz_$(1)_MODS)))
	$$(FUZZ_CC) $$(FUZZ_CFLAGS) -fsanitize=fuzzer $$(fuzz_$(1)_LDFLAGS) -o $$@ $$^ $$(LDLIBS)
endef
$(foreach t,$(FUZZ_TARGETS),$(eval $(call fuzz_rules,$(t))))

fuzz-build: $(addprefix build/fuzz/,$(FUZZ_TARGETS))

fuzz: fuzz-build
	@FUZZ_SECONDS=$(FUZZ_SECONDS) tests/fuzz/run.sh $(FUZZ_TARGETS)

format: format-fuzz
format-fuzz:
	clang-format -i tests/fuzz/*.[ch]

.PHONY: fuzz fuzz-build format-fuzz
