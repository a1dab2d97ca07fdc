# asan-daemon.mk - the daemon built with the sanitizers of the unit tests
# (SAN_FLAGS), for tests/milter/run.sh. Used together with the Makefile:
#	make -f Makefile -f tests/milter/asan-daemon.mk build/asan-daemon/policy-milter
ASAN_DAEMON_DIR := build/asan-daemon
ASAN_DAEMON_OBJS := $(addprefix $(ASAN_DAEMON_DIR)/obj/,$(DAEMON_SRCS:.c=.o))

$(ASAN_DAEMON_DIR)/policy-milter: $(ASAN_DAEMON_OBJS)
	$(CC) $(CFLAGS) $(SAN_FLAGS) -o $@ $^ $(LDLIBS)

$(ASAN_DAEMON_DIR)/obj/%.o: src/%.c src/*.h
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(SAN_FLAGS) -c -o $@ $<
