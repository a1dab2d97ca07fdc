# NAME
#	build.sh - build a probe over the daemon's SPF objects (sourced)
# SYNOPSIS
#	. tests/spf/build.sh; spf_build_probe NAME	(from the top of the checkout)
# DESCRIPTION
#	Makes the objects the SPF check is made of (plain and ASan+UBSan, as
#	the Makefile builds them for the daemon) and links tests/spf/NAME.c
#	with each into build/spf/NAME and build/spf/NAME-asan. Used by
#	tests/spf/run.sh (spfprobe) and tests/spf/rfc7208.sh (suiteprobe).
# DIAGNOSTICS
#	Returns 1 when make or the compiler fails.

# spf_build_probe NAME - build/spf/NAME and build/spf/NAME-asan from tests/spf/NAME.c
spf_build_probe() {
	local mods="spf spfrecord dns dnscache util cidr addr log jsonlog policy psl lists filetable metrics"
	local objs="" aobjs="" m
	local cflags="-O1 -g -std=gnu11 -Wall -Wextra -Werror -D_GNU_SOURCE -Isrc"
	local san="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all"
	local libs="-lidn2 -lresolv -lpthread"

	for m in $mods; do
		objs="$objs build/obj/$m.o"
		aobjs="$aobjs build/asan/obj/$m.o"
	done
	# shellcheck disable=SC2086 # word splitting wanted
	make -s $objs $aobjs || return 1
	mkdir -p build/spf
	# shellcheck disable=SC2086
	cc $cflags -o "build/spf/$1" "tests/spf/$1.c" $objs $libs || return 1
	# shellcheck disable=SC2086
	cc $cflags $san -o "build/spf/$1-asan" "tests/spf/$1.c" $aobjs $libs || return 1
}
