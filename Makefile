# policy-milter - a policy and anti-spam milter for Postfix and Sendmail
#
#   make            build src/policy-milter
#   make deps       install the Debian packages the build and tests need (idempotent)
#   make check      deps, build, unit tests (plain and ASan+UBSan), man lint, end-to-end tests
#   make demo       deps, build, a live demonstration in a private namespace
#   make install    PREFIX=/usr/local DESTDIR=

CC       ?= gcc
PREFIX   ?= /usr/local
SBINDIR  ?= $(PREFIX)/sbin
MANDIR   ?= $(PREFIX)/share/man
SYSCONFDIR ?= /etc

VERSION  := 0.1.0

PKGS     := milter libconfig opendkim
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)

WARN     := -Wall -Wextra -Werror -Wshadow -Wmissing-prototypes -Wformat=2
CFLAGS   ?= -O2 -g
CFLAGS   += -std=gnu11 $(WARN) -D_GNU_SOURCE -DPM_VERSION='"$(VERSION)"' -DPM_CONFIG_PATH='"$(SYSCONFDIR)/policy-milter/policy-milter.conf"' $(PKG_CFLAGS)
LDLIBS   := $(PKG_LIBS) -lspf2 -lidn2 -lresolv -lpthread

SAN_FLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all

# The daemon's sources, one file per concern (see README "Source layout").
LIB_SRCS := util.c cidr.c addr.c policy.c config.c log.c rcpt.c spf.c dns.c sender.c verdict.c authres.c dkim.c hdrfrom.c dmarc.c
DAEMON_SRCS := $(LIB_SRCS) milter.c main.c

OBJDIR   := build/obj
DAEMON_OBJS := $(addprefix $(OBJDIR)/,$(DAEMON_SRCS:.c=.o))

all: src/policy-milter

src/policy-milter: $(DAEMON_OBJS)
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

$(OBJDIR)/%.o: src/%.c src/*.h | $(OBJDIR)
	$(CC) $(CFLAGS) -c -o $@ $<

$(OBJDIR) build/asan/obj build/tests build/asan/tests:
	mkdir -p $@

# ---- unit tests (cmocka) -------------------------------------------------
# Each test links only the modules it exercises (so one module's tests run
# while another is being written).
UNIT_TESTS := test_util test_cidr test_addr test_config test_rcpt test_verdict test_authres test_log test_dns test_sender test_dkim test_hdrfrom test_dmarc
test_util_MODS    := util
test_cidr_MODS    := cidr util
test_addr_MODS    := addr util
test_config_MODS  := config policy cidr rcpt addr log util dmarc dkim dns
test_rcpt_MODS    := rcpt addr log util policy
test_verdict_MODS := verdict config policy cidr rcpt addr log util dmarc dkim dns
test_authres_MODS := authres policy util dkim dmarc dns
test_log_MODS     := log util
test_dns_MODS     := dns util
test_sender_MODS  := sender dns util
test_dkim_MODS    := dkim dns util
test_hdrfrom_MODS := hdrfrom addr util
test_dmarc_MODS   := dmarc dkim dns policy util

TEST_LIBS := $(shell pkg-config --libs cmocka 2>/dev/null) $(LDLIBS)

define unit_rules
build/tests/$(1): tests/unit/$(1).c $$(addprefix $(OBJDIR)/,$$(addsuffix .o,$$($(1)_MODS))) | build/tests
	$$(CC) $$(CFLAGS) -Isrc -o $$@ $$^ $$(TEST_LIBS)
build/asan/tests/$(1): tests/unit/$(1).c $$(addprefix build/asan/obj/,$$(addsuffix .o,$$($(1)_MODS))) | build/asan/tests
	$$(CC) $$(CFLAGS) $$(SAN_FLAGS) -Isrc -o $$@ $$^ $$(TEST_LIBS)
endef
$(foreach t,$(UNIT_TESTS),$(eval $(call unit_rules,$(t))))

build/asan/obj/%.o: src/%.c src/*.h | build/asan/obj
	$(CC) $(CFLAGS) $(SAN_FLAGS) -c -o $@ $<

unit-build: $(addprefix build/tests/,$(UNIT_TESTS))
asan-build: $(addprefix build/asan/tests/,$(UNIT_TESTS))

unit: unit-build
	@tests/run-unit.sh plain build/tests $(UNIT_TESTS)

unit-asan: asan-build
	@tests/run-unit.sh asan build/asan/tests $(UNIT_TESTS)

# ---- the rest ------------------------------------------------------------
deps:
	@tests/deps.sh

check: deps
	@rm -rf build/results && mkdir -p build/results
	$(MAKE) all unit-build asan-build
	@tests/check.sh

e2e: all
	@tests/e2e/run.sh

demo: deps
	$(MAKE) all
	@tests/e2e/demo.sh

bench:
	@echo "make bench: not yet (issue 6)"; exit 1

man-lint:
	@tests/man-lint.sh

install: all
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(SYSCONFDIR)/policy-milter
	install -m 0755 src/policy-milter $(DESTDIR)$(SBINDIR)/policy-milter
	install -m 0644 man/policy-milter.8 $(DESTDIR)$(MANDIR)/man8/policy-milter.8
	install -m 0644 man/policy-milter.conf.5 $(DESTDIR)$(MANDIR)/man5/policy-milter.conf.5
	test -e $(DESTDIR)$(SYSCONFDIR)/policy-milter/policy-milter.conf || \
	    install -m 0644 conf/policy-milter.conf $(DESTDIR)$(SYSCONFDIR)/policy-milter/policy-milter.conf

format:
	clang-format -i src/*.c src/*.h tests/unit/*.c

clean:
	rm -rf build src/policy-milter

.PHONY: all deps check e2e demo bench man-lint install format clean unit unit-asan unit-build asan-build
