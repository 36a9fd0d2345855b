/*
 * dns_watch.c: watching the servers from a worker thread.
 *
 * The worker owns all DNS traffic and the state; the caller only ever takes
 * a mutex to copy the latest view. Two pipes connect them: the worker writes
 * a byte to `ev` after each round (the UI polls its read end), the caller
 * writes to `wake` for "check now" and "stop" (the worker polls it while
 * waiting between rounds and while queries are in flight, so stopping never
 * waits for a timeout).
 *
 * Pace: one round (a TXT query per server, plus the SOA every tenth round or
 * after a change) per second for the first three minutes, every 3 s until
 * ten minutes, then every 10 s; "check now" asks at once and starts the
 * fast pace again. When every server failed, the server list is looked up
 * afresh (at most every 30 s).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dns_priv.h"

struct dns_watch {
	struct dns_state st;       /* the worker's */
	pthread_t thread;
	pthread_mutex_t mu;
	struct dns_view view;      /* latest, under mu */
	unsigned long gen, seen_gen;
	int ev[2];
	int wake[2];
	atomic_bool stop;
	atomic_bool now;
};

static void notify(int fd)
{
	char c = 1;
	while (write(fd, &c, 1) < 0 && errno == EINTR)
		;
}

static void drain(int fd)
{
	char buf[64];
	while (read(fd, buf, sizeof buf) > 0)
		;
}

static void publish(struct dns_watch *w)
{
	struct dns_view v;
	dns_state_view(&w->st, &v);
	pthread_mutex_lock(&w->mu);
	dns_view_clear(&w->view);
	w->view = v;
	w->view.generation = ++w->gen;
	pthread_mutex_unlock(&w->mu);
	notify(w->ev[1]);
}

/* Wait until `until` (monotonic), a "check now" or a stop.
 * Returns 1 for check-now, 0 for the time, -1 for stop. */
static int pause_until(struct dns_watch *w, double until)
{
	for (;;) {
		if (atomic_load(&w->stop))
			return -1;
		if (atomic_exchange(&w->now, false))
			return 1;
		double left = until - dns_now();
		if (left <= 0)
			return 0;
		struct pollfd p = { .fd = w->wake[0], .events = POLLIN };
		if (poll(&p, 1, (int)(left * 1000.0) + 1) > 0)
			drain(w->wake[0]);
	}
}

static double interval(double since_start, bool all_match)
{
	if (all_match)
		return 10.0;
	if (since_start < 180.0)
		return 1.0;
	if (since_start < 600.0)
		return 3.0;
	return 10.0;
}

static bool statuses_differ(const struct dns_srv *a, size_t na, const struct dns_view *b)
{
	if (na != b->n)
		return true;
	for (size_t i = 0; i < na; i++)
		if (a[i].v.status != b->servers[i].status)
			return true;
	return false;
}

static void *worker(void *arg)
{
	struct dns_watch *w = arg;
	double pace_start = dns_now(), last_discover = 0;
	bool need_discover = true, changed = true;
	unsigned backoff = 1;
	while (!atomic_load(&w->stop)) {
		if (need_discover) {
			last_discover = dns_now();
			int rc = dns_discover(&w->st);
			if (atomic_load(&w->stop))
				break;
			if (rc < 0) {
				publish(w);
				/* try again later; sooner if the admin asks */
				if (pause_until(w, dns_now() + backoff) < 0)
					break;
				backoff = backoff < 30 ? backoff * 2 : 30;
				continue;
			}
			need_discover = false;
			backoff = 1;
			changed = true;
			publish(w);   /* the servers, still "waiting" */
		}
		double round_start = dns_now();
		struct dns_view before;
		dns_state_view(&w->st, &before);
		bool with_soa = changed || w->st.rounds % 10 == 0;
		if (dns_round(&w->st, with_soa) == -2 || atomic_load(&w->stop)) {
			dns_view_clear(&before);
			break;
		}
		changed = statuses_differ(w->st.srv, w->st.n, &before);
		dns_view_clear(&before);
		publish(w);

		bool all_error = w->st.n > 0, all_match = w->st.n > 0;
		for (size_t i = 0; i < w->st.n; i++) {
			if (w->st.srv[i].v.status != DNS_ERROR)
				all_error = false;
			if (w->st.srv[i].v.status != DNS_MATCH)
				all_match = false;
		}
		if (all_error && w->st.n_given == 0 && dns_now() - last_discover >= 30.0)
			need_discover = true;

		int pr = pause_until(w, round_start + interval(round_start - pace_start, all_match));
		if (pr < 0)
			break;
		if (pr == 1) {
			pace_start = dns_now();
			if (w->st.n == 0 || all_error)
				need_discover = true;
		}
	}
	return NULL;
}

static int pipe_nb(int fds[2])
{
	return pipe2(fds, O_NONBLOCK | O_CLOEXEC);
}

struct dns_watch *dns_watch_start(const struct dns_watch_cfg *cfg, struct dk_err *err)
{
	struct dns_watch *w = calloc(1, sizeof *w);
	if (w == NULL) {
		dk_fail(err, DK_SYSERR, "out of memory");
		return NULL;
	}
	w->ev[0] = w->ev[1] = w->wake[0] = w->wake[1] = -1;
	if (dns_state_init(&w->st, cfg, err) < 0)
		goto fail;
	if (pipe_nb(w->ev) < 0 || pipe_nb(w->wake) < 0) {
		dk_fail_errno(err, DK_SYSERR, errno, "cannot create a pipe");
		goto fail;
	}
	w->st.cancel_fd = w->wake[0];
	w->st.stop = &w->stop;
	atomic_init(&w->stop, false);
	atomic_init(&w->now, false);
	pthread_mutex_init(&w->mu, NULL);
	int e = pthread_create(&w->thread, NULL, worker, w);
	if (e != 0) {
		pthread_mutex_destroy(&w->mu);
		dk_fail_errno(err, DK_SYSERR, e, "cannot start the DNS thread");
		goto fail;
	}
	return w;
fail:
	dns_state_free(&w->st);
	for (int i = 0; i < 2; i++) {
		if (w->ev[i] >= 0)
			close(w->ev[i]);
		if (w->wake[i] >= 0)
			close(w->wake[i]);
	}
	free(w);
	return NULL;
}

int dns_watch_fd(const struct dns_watch *w)
{
	return w != NULL ? w->ev[0] : -1;
}

void dns_watch_check_now(struct dns_watch *w)
{
	if (w == NULL)
		return;
	atomic_store(&w->now, true);
	notify(w->wake[1]);
}

int dns_watch_view(struct dns_watch *w, struct dns_view *out)
{
	memset(out, 0, sizeof *out);
	if (w == NULL)
		return 0;
	drain(w->ev[0]);
	pthread_mutex_lock(&w->mu);
	*out = w->view;
	out->servers = NULL;
	if (w->view.n > 0) {
		out->servers = malloc(w->view.n * sizeof *out->servers);
		if (out->servers != NULL)
			memcpy(out->servers, w->view.servers, w->view.n * sizeof *out->servers);
		else
			out->n = 0;
	}
	int changed = w->gen != w->seen_gen;
	w->seen_gen = w->gen;
	pthread_mutex_unlock(&w->mu);
	return changed;
}

void dns_watch_stop(struct dns_watch *w)
{
	if (w == NULL)
		return;
	atomic_store(&w->stop, true);
	notify(w->wake[1]);
	pthread_join(w->thread, NULL);
	pthread_mutex_destroy(&w->mu);
	dns_view_clear(&w->view);
	dns_state_free(&w->st);
	for (int i = 0; i < 2; i++) {
		close(w->ev[i]);
		close(w->wake[i]);
	}
	free(w);
}
