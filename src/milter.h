/*
 * NAME
 *	milter 3h - the libmilter glue
 * SYNOPSIS
 *	#include "milter.h"
 * DESCRIPTION
 *	milter_register() hands libmilter the callbacks (connect, helo,
 *	envfrom, envrcpt, header, eoh, eom, abort, close) and the actions
 *	they use (add and change headers). The callbacks gather facts per
 *	SMTP stage, run the checks, ask verdict_decide() and apply the
 *	verdict; each connection works on the policy snapshot it took at
 *	connect.
 *
 *	milter_active_sessions() counts connections between their first
 *	callback and xxfi_close, for the drain on stop;
 *	milter_set_draining() turns new connections away meanwhile.
 * DIAGNOSTICS
 *	milter_register returns libmilter's MI_SUCCESS or MI_FAILURE.
 */
#ifndef PM_MILTER_H
#define PM_MILTER_H

#include <stdbool.h>

#define PM_MILTER_NAME "policy-milter"

/* milter_register - smfi_register() our callbacks; MI_SUCCESS or MI_FAILURE */
int milter_register(void);

/* milter_active_sessions - connections open now (atomic read) */
unsigned milter_active_sessions(void);

/*
 * milter_set_draining - while on, new connections are refused at
 * connect with 421 4.3.2 (shutting down); sessions already open go on
 */
void milter_set_draining(bool on);

#endif
