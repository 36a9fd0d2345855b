/*
 * milter.h: a small milter client, enough to hand one message to a
 * running filter (OpenDKIM, rspamd's proxy) the way Postfix does, and to
 * apply the header changes it asks for. Protocol version 6 as libmilter
 * speaks it: option negotiation, then connect, helo, mail, rcpt, data,
 * headers, end of headers, body, end of body; the filter's "no reply"
 * and "skip this step" flags are honoured.
 */
#ifndef DKIM_MILTER_H
#define DKIM_MILTER_H

#include <stddef.h>

#include "common.h"

/* The SMTP session the filter is shown. */
struct milter_env {
	const char *client_addr;   /* "127.0.0.1": mail from this host (internal) */
	const char *client_name;   /* "localhost" */
	const char *helo;
	const char *sender;        /* envelope sender, no brackets */
	const char *rcpt;          /* envelope recipient, no brackets */
	const char *queue_id;      /* the "i" macro */
	const char *myhostname;    /* the "j" macro */
	int timeout_ms;            /* per reply; 0: 10 s */
};

enum milter_outcome {
	MILTER_PASSED,             /* accepted (continue or accept at the end): *msg has its changes */
	MILTER_ACCEPTED_EARLY,     /* the filter let it go before the end of the body (no changes) */
	MILTER_TEMPFAIL,           /* 4xx: `said` has the reply text when the filter gave one */
	MILTER_REJECT,             /* 5xx */
	MILTER_DISCARD,
	MILTER_NO_CONNECT,         /* nothing listens at the socket (connection refused, no such file) */
	MILTER_FAILED,             /* the conversation broke (timeout, protocol error): `said` says how */
};

/* Postfix's and OpenDKIM's spellings of a socket: "inet:HOST:PORT",
 * "inet:PORT@HOST", "inet6:...", "unix:/PATH", "local:/PATH", "/PATH".
 * 0, or -1 when it is none of those. `canon` gets one spelling for
 * comparisons ("inet:127.0.0.1:8891", "unix:/run/x.sock"; localhost is
 * 127.0.0.1). */
int milter_socket_canon(const char *spec, char *canon, size_t len);

/* Hand *msg (header and body, CRLF line ends) to the filter at `socket`
 * (any spelling above). On MILTER_PASSED, *msg is replaced (malloc'd; the
 * old one freed) by the message with the filter's header changes applied
 * (added, inserted, changed, deleted). `said` (saidlen) gets the filter's
 * reply text or what went wrong. Returns an outcome, or -1 + err (out of
 * memory only). */
int milter_send(const char *socket, const struct milter_env *env, char **msg, char *said, size_t saidlen,
		struct dk_err *err);

#endif
