# lsan-daemon.mk - the ASan+UBSan daemon of tests/milter/asan-daemon.mk (the
# same objects), linked with tests/soak/lsanexit.c so that LeakSanitizer
# checks for leaks when main() leaves through _exit(); for tests/soak/run.sh.
#	make -f Makefile -f tests/milter/asan-daemon.mk -f tests/soak/lsan-daemon.mk \
#	    build/soak/policy-milter-lsan
SOAK_LSAN_DIR := build/soak

$(SOAK_LSAN_DIR)/policy-milter-lsan: $(ASAN_DAEMON_OBJS) $(SOAK_LSAN_DIR)/obj/lsanexit.o
	$(CC) $(CFLAGS) $(SAN_FLAGS) -Wl,--wrap=_exit -o $@ $^ $(LDLIBS)

$(SOAK_LSAN_DIR)/obj/lsanexit.o: tests/soak/lsanexit.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(SAN_FLAGS) -c -o $@ $<
