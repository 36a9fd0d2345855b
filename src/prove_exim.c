/* prove_exim.c: the proof through Exim (the prove() op of signer_exim.c).
 *
 * The test message is handed to the running Exim over SMTP on 127.0.0.1:25
 * (as local mail, which Debian relays), addressed to a fresh domain under
 * .invalid that Debian's hubbed_hosts router (read at routing time, no
 * reload) sends to a listener we open for the moment on 127.0.0.2 (Exim
 * treats 127.0.0.1 as itself). So the message leaves through Exim's own
 * remote_smtp transport, signed by Exim's delivery process with the
 * privileges it really has, and what arrives is what a receiver gets.
 * The hubbed_hosts line is ours only for the duration and the file is put
 * back as it was; a message Exim could not deliver is removed from its
 * queue (no retry, no bounce).
 *
 * Smarthost and satellite setups send real mail by remote_smtp_smarthost
 * (never to be sent a test): the hubbed_hosts router still comes first,
 * and the proof through remote_smtp holds for the smarthost when `exim -bP`
 * shows both transports with the same dkim_* options (not_hooked when not).
 *
 * No safe route: a hand-written exim.conf (no hubbed_hosts router): then
 * what was checked instead is said (the key against the record, and the
 * transport's dkim_* options as `exim -bP` shows them).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fsutil.h"
#include "prove_signer.h"
#include "signer_util.h"

#define HUBBED "/etc/exim4/hubbed_hosts"
#define LISTEN_ADDR "127.0.0.2"
#define EXIM_BIN "/usr/sbin/exim4"
#define WAIT_MS 30000
#define EXIM_USER "Debian-exim"
#define EXIM_OWNER "root:Debian-exim"

/* ---- a tiny line-based SMTP conversation, both sides ---- */

struct line_io {
	int fd;
	char buf[8192];
	size_t have;
};

static long ms_left(const struct timespec *deadline)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return (long)(deadline->tv_sec - now.tv_sec) * 1000 + (deadline->tv_nsec - now.tv_nsec) / 1000000;
}

/* One line (without CRLF) into out; -1 on timeout, EOF or a line too long. */
static int read_line(struct line_io *io, char *out, size_t outlen, const struct timespec *deadline)
{
	for (;;) {
		char *nl = memchr(io->buf, '\n', io->have);
		if (nl != NULL) {
			size_t n = (size_t)(nl - io->buf);
			size_t k = n > 0 && io->buf[n - 1] == '\r' ? n - 1 : n;
			if (k >= outlen)
				return -1;
			memcpy(out, io->buf, k);
			out[k] = '\0';
			memmove(io->buf, nl + 1, io->have - n - 1);
			io->have -= n + 1;
			return 0;
		}
		if (io->have == sizeof io->buf)
			return -1;
		long left = ms_left(deadline);
		struct pollfd pf = { .fd = io->fd, .events = POLLIN };
		if (left <= 0 || poll(&pf, 1, (int)left) <= 0)
			return -1;
		ssize_t r = recv(io->fd, io->buf + io->have, sizeof io->buf - io->have, 0);
		if (r <= 0)
			return -1;
		io->have += (size_t)r;
	}
}

static int say(int fd, const char *text)
{
	size_t n = strlen(text);
	return send(fd, text, n, MSG_NOSIGNAL) == (ssize_t)n ? 0 : -1;
}

/* The client side: one reply (multi-line), its code; the last line in last. */
static int reply(struct line_io *io, char *last, size_t lastlen, const struct timespec *deadline)
{
	char line[1024];
	do {
		if (read_line(io, line, sizeof line, deadline) < 0 || strlen(line) < 3)
			return -1;
	} while (line[3] == '-');
	snprintf(last, lastlen, "%s", line);
	return atoi(line);
}

/* Submit the message to Exim at 127.0.0.1:25. 0 with Exim's message id
 * in id; -1 with why (refused: *refused). */
static int submit(const struct signer_testmsg *msg, char *id, size_t idlen, char *why, size_t whylen,
		  bool *refused)
{
	struct timespec deadline;
	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += 30;
	*refused = false;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(25) };
	inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
		*refused = errno == ECONNREFUSED;
		snprintf(why, whylen, "cannot connect to Exim on 127.0.0.1:25: %s", strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	struct line_io io = { .fd = fd };
	char last[1024], cmd[600];
	int rc = -1;
	const char *step = "greeting";
	if (reply(&io, last, sizeof last, &deadline) != 220)
		goto out;
	step = "EHLO";
	if (say(fd, "EHLO localhost\r\n") < 0 || reply(&io, last, sizeof last, &deadline) != 250)
		goto out;
	step = "MAIL FROM";
	snprintf(cmd, sizeof cmd, "MAIL FROM:<%s>\r\n", msg->sender);
	if (say(fd, cmd) < 0 || reply(&io, last, sizeof last, &deadline) != 250)
		goto out;
	step = "RCPT TO";
	snprintf(cmd, sizeof cmd, "RCPT TO:<%s>\r\n", msg->rcpt);
	if (say(fd, cmd) < 0 || reply(&io, last, sizeof last, &deadline) != 250)
		goto out;
	step = "DATA";
	if (say(fd, "DATA\r\n") < 0 || reply(&io, last, sizeof last, &deadline) != 354)
		goto out;
	/* the message has no line starting with a dot: no stuffing needed */
	if (say(fd, msg->text) < 0 || say(fd, ".\r\n") < 0 || reply(&io, last, sizeof last, &deadline) != 250)
		goto out;
	const char *p = strstr(last, "id=");
	snprintf(id, idlen, "%.*s", p != NULL ? (int)strcspn(p + 3, " \r\n") : 0, p != NULL ? p + 3 : "");
	say(fd, "QUIT\r\n");
	rc = 0;
out:
	if (rc < 0) {
		char pr[300];
		snprintf(why, whylen, "Exim did not take the test message at %s: %s", step,
			 dk_printable(last, pr, sizeof pr));
	}
	close(fd);
	return rc;
}

/* The server side: one connection from Exim, one message, into *out. */
static int receive(int lfd, char **out, char *why, size_t whylen)
{
	struct timespec deadline;
	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += WAIT_MS / 1000;
	*out = NULL;
	struct pollfd pf = { .fd = lfd, .events = POLLIN };
	long left = ms_left(&deadline);
	if (left <= 0 || poll(&pf, 1, (int)left) <= 0) {
		snprintf(why, whylen, "Exim did not deliver the test message within %d s", WAIT_MS / 1000);
		return -1;
	}
	int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	if (fd < 0) {
		snprintf(why, whylen, "accept: %s", strerror(errno));
		return -1;
	}
	struct line_io io = { .fd = fd };
	struct sbuf m = { 0 };
	char line[1024];
	int rc = -1;
	say(fd, "220 dkim-setup proof listener\r\n");
	while (rc < 0 && read_line(&io, line, sizeof line, &deadline) == 0) {
		if (strncasecmp(line, "EHLO", 4) == 0 || strncasecmp(line, "HELO", 4) == 0) {
			say(fd, "250 dkim-setup\r\n");
		} else if (strncasecmp(line, "DATA", 4) == 0) {
			say(fd, "354 go on\r\n");
			while (read_line(&io, line, sizeof line, &deadline) == 0 && strcmp(line, ".") != 0) {
				sb_add(&m, line[0] == '.' ? line + 1 : line);
				sb_add(&m, "\r\n");
			}
			if (strcmp(line, ".") == 0) {
				say(fd, "250 taken\r\n");
				rc = 0;
			}
		} else if (strncasecmp(line, "QUIT", 4) == 0) {
			break;
		} else {
			say(fd, "250 ok\r\n");   /* MAIL, RCPT, RSET, NOOP */
		}
	}
	if (rc == 0) {
		read_line(&io, line, sizeof line, &deadline);   /* QUIT */
		say(fd, "221 bye\r\n");
		*out = sb_take(&m);
		rc = *out != NULL ? 0 : -1;
	} else {
		free(sb_take(&m));
		snprintf(why, whylen, "Exim's delivery to the listener broke off");
	}
	close(fd);
	return rc;
}

/* ---- hubbed_hosts, ours for a moment ---- */

struct hubbed {
	char *old;          /* the file as it was, or NULL when absent */
	size_t oldlen;
	mode_t mode;
};

static int hubbed_add(const struct mta_request *req, const char *domain, unsigned port, struct hubbed *h,
		      struct dk_err *err)
{
	struct stat st;
	memset(h, 0, sizeof *h);
	h->mode = 0644;
	if (fs_stat(req->root, HUBBED, &st) == 0) {
		h->mode = st.st_mode & 0777;
		if (fs_read_file(req->root, HUBBED, 1 << 20, &h->old, &h->oldlen, err) < 0)
			return -1;
	}
	struct sbuf b = { 0 };
	if (h->old != NULL)
		sb_printf(&b, "%s%s", h->old, h->oldlen > 0 && h->old[h->oldlen - 1] != '\n' ? "\n" : "");
	/* the port after a doubled colon: a single one separates hosts */
	sb_printf(&b, "%s: " LISTEN_ADDR "::%u\n", domain, port);
	char *t = sb_take(&b);
	if (t == NULL)
		return dk_fail(err, DK_SYSERR, "out of memory");
	struct fs_write w = { .root = req->root, .path = HUBBED, .data = t, .len = strlen(t), .mode = h->mode,
			      .uid = 0, .gid = 0, .flags = FS_REPLACE };
	int rc = fs_write_file(&w, err);
	free(t);
	return rc;
}

static void hubbed_restore(const struct mta_request *req, struct hubbed *h)
{
	struct dk_err e;
	if (h->old == NULL) {
		fs_remove(req->root, HUBBED, &e);
	} else {
		struct fs_write w = { .root = req->root, .path = HUBBED, .data = h->old, .len = h->oldlen,
				      .mode = h->mode, .uid = 0, .gid = 0, .flags = FS_REPLACE };
		fs_write_file(&w, &e);
	}
	free(h->old);
	h->old = NULL;
}

static int listen_on(unsigned *port)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = 0 };
	socklen_t sl = sizeof sa;
	inet_pton(AF_INET, LISTEN_ADDR, &sa.sin_addr);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(fd, 4) < 0 ||
	    getsockname(fd, (struct sockaddr *)&sa, &sl) < 0) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	*port = ntohs(sa.sin_port);
	return fd;
}

/* ---- the op ---- */

/* What `exim -bP transport NAME` says about its dkim_* options, in words. */
static void transport_dkim(const char *transport, char *out, size_t outlen)
{
	char text[8192];
	const char *const argv[] = { EXIM_BIN, "-bP", "transport", transport, NULL };
	out[0] = '\0';
	if (mta_run(argv, text, sizeof text) != 0) {
		snprintf(out, outlen, "exim -bP transport %s failed", transport);
		return;
	}
	struct sbuf b = { 0 };
	for (char *save = NULL, *l = strtok_r(text, "\n", &save); l != NULL; l = strtok_r(NULL, "\n", &save)) {
		const char *eq = strchr(l, '=');
		bool set = eq != NULL && eq[1 + strspn(eq + 1, " ")] != '\0';   /* "dkim_domain = ": not set */
		if (set && (strncmp(l, "dkim_selector", 13) == 0 || strncmp(l, "dkim_private_key", 16) == 0 ||
			    strncmp(l, "dkim_domain", 11) == 0))
			sb_printf(&b, "%s%s", b.len ? "; " : "", l);
	}
	char *t = sb_take(&b);
	snprintf(out, outlen, "%s", t != NULL && t[0] ? t : "no dkim_* options set");
	free(t);
}

int prove_exim(const struct mta_request *req, const struct signer_testmsg *msg, struct mta_proof *out,
	       struct dk_err *err)
{
	struct mta_info info;
	memset(&info, 0, sizeof info);
	if (mta_detect(req->root, "exim", &info, err) < 0)
		return -1;
	bool smarthost = strcmp(info.configtype, "smarthost") == 0 || strcmp(info.configtype, "satellite") == 0;
	if (info.flavor == MTA_FL_EXIM_PLAIN) {
		char t[1024];
		transport_dkim("remote_smtp", t, sizeof t);
		out->cause = MTA_CAUSE_NO_ROUTE;
		snprintf(out->detail, sizeof out->detail, "no safe route for a test message through Exim here (a "
			 "hand-written exim.conf has no hubbed_hosts router to lend us): checked instead: exim -bP "
			 "transport remote_smtp shows %s", t);
		return -1;
	}
	if (smarthost) {
		/* Real mail leaves by remote_smtp_smarthost, which we must not
		 * send a test to; Debian's hubbed_hosts router still comes first
		 * and lends us remote_smtp. That proves the smarthost path when
		 * both transports have the same dkim_* options. */
		char plain[1024], smart[1024];
		transport_dkim("remote_smtp", plain, sizeof plain);
		transport_dkim("remote_smtp_smarthost", smart, sizeof smart);
		if (strcmp(plain, smart) != 0 || strncmp(smart, "dkim_", 5) != 0) {
			out->cause = MTA_CAUSE_NOT_HOOKED;
			snprintf(out->detail, sizeof out->detail, "Exim is a %s: every message leaves through its "
				 "remote_smtp_smarthost transport, whose dkim_* options (%s) are not those dkim-setup set "
				 "up (%s), so that mail leaves unsigned or not signed as proved", info.configtype, smart,
				 plain);
			snprintf(out->fix, sizeof out->fix, "dkim-setup --batch -d %s -s %s -m exim (puts the DKIM "
				 "options into remote_smtp_smarthost), then systemctl restart exim4", req->domain,
				 req->selector);
			return dk_fail(err, DK_MISMATCH, "%s", out->detail);
		}
	}
	char domain[128], id[64] = "", why[512] = "";
	snprintf(domain, sizeof domain, "%s", strchr(msg->rcpt, '@') + 1);
	unsigned port;
	int lfd = listen_on(&port);
	if (lfd < 0) {
		out->cause = MTA_CAUSE_ERROR;
		snprintf(out->detail, sizeof out->detail, "cannot open a listener on " LISTEN_ADDR ": %s",
			 strerror(errno));
		return dk_fail(err, DK_SYSERR, "%s", out->detail);
	}
	struct hubbed h;
	if (hubbed_add(req, domain, port, &h, err) < 0) {
		close(lfd);
		out->cause = MTA_CAUSE_ERROR;
		snprintf(out->detail, sizeof out->detail, "cannot route the test message: %s", err->msg);
		return -1;
	}
	bool refused;
	int rc = submit(msg, id, sizeof id, why, sizeof why, &refused);
	char *got = NULL;
	if (rc == 0)
		rc = receive(lfd, &got, why, sizeof why);
	close(lfd);
	hubbed_restore(req, &h);
	if (rc == 0) {
		out->message = got;
		if (smarthost)   /* kept by mta_prove in what it says */
			snprintf(out->detail, sizeof out->detail, "mail to the smarthost leaves by "
				 "remote_smtp_smarthost, whose dkim_* options are the same (exim -bP)");
		/* without DKIM_STRICT, Exim sends unsigned when it cannot read the key */
		if (prove_is_unsigned(got) && prove_key_unreadable(req, EXIM_USER, EXIM_OWNER, "0640",
								    "so it sends mail unsigned", out))
			return dk_fail(err, DK_MISMATCH, "%s", out->detail);
		return 0;
	}
	if (id[0] != '\0') {   /* not delivered: no retry, no bounce later */
		const char *const rm[] = { EXIM_BIN, "-Mrm", id, NULL };
		mta_run(rm, NULL, 0);
	}
	if (refused) {
		out->cause = MTA_CAUSE_NOT_RUNNING;
		snprintf(out->detail, sizeof out->detail, "Exim is not running (%s)", why);
		snprintf(out->fix, sizeof out->fix, "%s",
			 mta_have_systemd(req->root) ? "systemctl start exim4" : "invoke-rc.d exim4 start");
		return dk_fail(err, DK_MISMATCH, "%s", out->detail);
	}
	/* with DKIM_STRICT, Exim defers the message instead */
	if (prove_key_unreadable(req, EXIM_USER, EXIM_OWNER, "0640", "so it holds mail (DKIM_STRICT)", out))
		return dk_fail(err, DK_MISMATCH, "%s", out->detail);
	out->cause = MTA_CAUSE_ERROR;
	snprintf(out->detail, sizeof out->detail, "%s%s%s", why, id[0] ? "; its message " : "", id);
	return dk_fail(err, DK_SYSERR, "%s", out->detail);
}
