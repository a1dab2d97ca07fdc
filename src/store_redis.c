/*
 * NAME
 *	store_redis 3 - the state store in Redis (see store.h); being written
 */
#include <stddef.h>

#include "policy.h"
#include "store_int.h"
#include "util.h"

void *store_redis_open(const struct state_settings *ss, struct store_counters *c, char *errbuf,
                       size_t errsize)
{
	(void)ss;
	(void)c;
	pm_bprintf(errbuf, errsize, "state.backend redis: not built yet");
	return NULL;
}

const struct store_ops store_redis_ops = {
    .name = "redis",
};
