/* fsutil.c: the only unit that writes files as root. See fsutil.h. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fsutil.h"

int fs_join(const char *root, const char *path, char *out, size_t outlen)
{
	int n = snprintf(out, outlen, "%s%s", root != NULL ? root : "", path);
	return n < 0 || (size_t)n >= outlen ? -1 : 0;
}

/* A directory is safe to write into when nobody but root (or us) can
 * change what its names point to: its owner is root or us, and neither
 * others nor a group other than root's (or, for an ordinary user, their
 * own) can write to it. */
static int dir_safe(int fd, const char *shown, struct dk_err *err)
{
	struct stat st;
	if (fstat(fd, &st) < 0)
		return dk_fail_errno(err, DK_SYSERR, errno, "%s", shown);
	if (st.st_mode & S_IWOTH)
		return dk_fail(err, DK_SYSERR, "refusing to write below %s: it is writable by others", shown);
	if ((st.st_mode & S_IWGRP) && st.st_gid != 0 && (geteuid() == 0 || st.st_gid != getegid()))
		return dk_fail(err, DK_SYSERR, "refusing to write below %s: it is writable by group %u",
			       shown, (unsigned)st.st_gid);
	if (st.st_uid != 0 && st.st_uid != geteuid())
		return dk_fail(err, DK_SYSERR, "refusing to write below %s: it belongs to uid %u, not root",
			       shown, (unsigned)st.st_uid);
	return 0;
}

/* Test builds link a strong fs_test_hook (tests/lib/hook.c) to pause at
 * named moments; in dkim-setup itself it is this empty weak one. */
__attribute__((weak)) void fs_test_hook(const char *moment, const char *path)
{
	(void)moment;
	(void)path;
}

/* Copy the next component of *p into comp and advance; "" at the end. */
static int next_component(const char **p, char comp[NAME_MAX + 1])
{
	while (**p == '/')
		(*p)++;
	const char *e = strchr(*p, '/');
	size_t n = e != NULL ? (size_t)(e - *p) : strlen(*p);
	if (n > NAME_MAX || (n == 2 && (*p)[0] == '.' && (*p)[1] == '.') || (n == 1 && (*p)[0] == '.'))
		return -1;
	memcpy(comp, *p, n);
	comp[n] = '\0';
	*p += n;
	return 0;
}

/*
 * As root, a directory on the way to --root (or to a text we read) is
 * trusted when no other user can change what its entries are: root owns
 * it, and whoever else can write to it is held off by the sticky bit (as
 * in /tmp: others cannot rename or remove root's entries there).
 */
static int on_the_way_safe(const struct stat *st, const char *shown, const char *what,
			   struct dk_err *err)
{
	if (geteuid() != 0)
		return 0;
	if (st->st_uid != 0) {
		struct passwd *pw = getpwuid(st->st_uid);
		return dk_fail(err, DK_USAGE,
			       "refusing %s as root: %s belongs to %s%s%s(uid %u), who could swap it while "
			       "root works there; run dkim-setup as that user (a sandbox needs no root), or use "
			       "a directory only root can change", what, shown, pw ? "user " : "",
			       pw ? pw->pw_name : "", pw ? " " : "", (unsigned)st->st_uid);
	}
	bool grp = (st->st_mode & S_IWGRP) && st->st_gid != 0;
	if ((grp || (st->st_mode & S_IWOTH)) && !(st->st_mode & S_ISVTX))
		return dk_fail(err, DK_USAGE,
			       "refusing %s as root: %s is writable by %s, who could swap what is in it while "
			       "root works there; use a directory only root can change", what, shown,
			       grp ? "its group" : "every user");
	return 0;
}

/*
 * Open the directory `abs` from / one component at a time, never
 * following a symlink; as root, every directory on the way must pass
 * on_the_way_safe and the last one dir_safe. Returns the descriptor.
 */
static int open_trusted(const char *abs, const char *what, struct dk_err *err)
{
	int fd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return dk_fail_errno(err, DK_SYSERR, errno, "cannot open /");
	char shown[PATH_MAX] = "/", comp[NAME_MAX + 1];
	const char *p = abs;
	struct stat st;
	for (;;) {
		if (fstat(fd, &st) < 0) {
			int e = errno;
			close(fd);
			return dk_fail_errno(err, DK_SYSERR, e, "%s", shown);
		}
		if (next_component(&p, comp) < 0) {
			close(fd);
			return dk_fail(err, DK_USAGE, "%s: not a plain path", what);
		}
		if (comp[0] == '\0')
			break;
		if (on_the_way_safe(&st, shown, what, err) < 0) {
			close(fd);
			return -1;
		}
		int next = openat(fd, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		int e = errno;
		close(fd);
		size_t sl = strlen(shown);
		snprintf(shown + sl, sizeof shown - sl, "%s%s", sl > 1 ? "/" : "", comp);
		if (next < 0)
			return dk_fail_errno(err, DK_USAGE, e, "%s: %s", what, shown);
		fd = next;
	}
	/* The last one (the root itself) must be root's too, and not open to
	 * writers even with the sticky bit: they could plant etc/ before us. */
	if (on_the_way_safe(&st, shown, what, err) < 0) {
		close(fd);
		return -1;
	}
	if (geteuid() == 0 && dir_safe(fd, shown, err) < 0) {
		char why[DK_ERRMSG_MAX];
		snprintf(why, sizeof why, "%s", err != NULL ? err->msg : "");
		close(fd);
		return dk_fail(err, DK_USAGE, "%s as root: %s", what, why);
	}
	return fd;
}

/* The root, opened once: every path below it is looked up from here. */
static struct {
	pthread_mutex_t lock;
	bool set;
	int fd;
	char path[PATH_MAX];
} held = { .lock = PTHREAD_MUTEX_INITIALIZER, .fd = -1 };

int fs_root_open(const char *root, struct dk_err *err)
{
	const char *r = root != NULL ? root : "";
	char what[PATH_MAX + 16];
	snprintf(what, sizeof what, "--root %s", r);
	pthread_mutex_lock(&held.lock);
	int rc = 0;
	if (!held.set || strcmp(held.path, r) != 0) {
		int fd = open_trusted(r, what, err);
		fs_test_hook("root-opened", r);
		if (fd < 0) {
			rc = -1;
		} else {
			if (held.set)
				close(held.fd);
			held.fd = fd;
			held.set = true;
			snprintf(held.path, sizeof held.path, "%s", r);
		}
	}
	pthread_mutex_unlock(&held.lock);
	return rc;
}

/* A new descriptor of the root (opened the first time it is named). */
static int root_fd(const char *root, struct dk_err *err)
{
	if (fs_root_open(root, err) < 0) {
		errno = EPERM;
		return -1;
	}
	pthread_mutex_lock(&held.lock);
	int fd = fcntl(held.fd, F_DUPFD_CLOEXEC, 0);
	int e = errno;
	pthread_mutex_unlock(&held.lock);
	if (fd < 0)
		return dk_fail_errno(err, DK_SYSERR, e, "--root");
	return fd;
}

/*
 * Open `dir` below root one component at a time, never following a
 * symlink. With `create`, missing components are made (0755, or
 * `last_mode` for the last one). errno is left as ENOENT for a missing one.
 */
static int open_dir(const char *root, const char *dir, bool create, mode_t last_mode,
		    struct dk_err *err)
{
	int fd = root_fd(root, err);
	if (fd < 0)
		return -1;
	char shown[PATH_MAX] = "";
	const char *p = dir;
	char comp[NAME_MAX + 1];
	for (;;) {
		if (next_component(&p, comp) < 0) {
			close(fd);
			errno = EINVAL;
			return dk_fail(err, DK_SYSERR, "invalid path %s", dir);
		}
		if (comp[0] == '\0')
			break;
		size_t sl = strlen(shown);
		snprintf(shown + sl, sizeof shown - sl, "/%s", comp);

		bool last = true;
		for (const char *q = p; *q != '\0'; q++)
			if (*q != '/')
				last = false;
		int next = openat(fd, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (next < 0 && errno == ENOENT && create) {
			if (mkdirat(fd, comp, last ? last_mode : 0755) < 0 && errno != EEXIST) {
				int e2 = errno;
				close(fd);
				errno = e2;
				return dk_fail_errno(err, DK_SYSERR, e2, "cannot create %s", shown);
			}
			next = openat(fd, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		}
		if (next < 0) {
			int e2 = errno;
			struct stat st;
			bool link = fstatat(fd, comp, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode);
			close(fd);
			errno = e2;
			if (link)
				return dk_fail(err, DK_SYSERR, "refusing to follow the symlink %s", shown);
			return dk_fail_errno(err, DK_SYSERR, e2, "%s", shown);
		}
		close(fd);
		fd = next;
		if (dir_safe(fd, shown, err) < 0) {
			close(fd);
			errno = EPERM;
			return -1;
		}
	}
	return fd;
}

/* Split "/a/b/c" into "/a/b" and "c". */
static int split_path(const char *path, char *dir, size_t dirlen, const char **base,
		      struct dk_err *err)
{
	const char *slash = strrchr(path, '/');
	if (path[0] != '/' || slash == NULL || slash[1] == '\0' || (size_t)(slash - path) >= dirlen)
		return dk_fail(err, DK_SYSERR, "invalid path %s", path);
	memcpy(dir, path, (size_t)(slash - path));
	dir[slash - path] = '\0';
	*base = slash + 1;
	if (strlen(*base) > NAME_MAX)
		return dk_fail(err, DK_SYSERR, "file name too long: %s", path);
	return 0;
}

static void restore_signals(const sigset_t *old)
{
	pthread_sigmask(SIG_SETMASK, old, NULL);
}

/* Read an open file completely, at most max bytes. */
static int read_fd(int fd, size_t max, char **buf, size_t *len, const char *shown,
		   struct dk_err *err)
{
	struct stat st;
	if (fstat(fd, &st) < 0)
		return dk_fail_errno(err, DK_SYSERR, errno, "%s", shown);
	if (!S_ISREG(st.st_mode))
		return dk_fail(err, DK_SYSERR, "%s is not a regular file", shown);
	if ((size_t)st.st_size > max)
		return dk_fail(err, DK_SYSERR, "%s is too large (%lld bytes)", shown, (long long)st.st_size);
	char *b = malloc((size_t)st.st_size + 1);
	if (b == NULL)
		return dk_fail(err, DK_SYSERR, "out of memory");
	size_t got = 0;
	while (got <= (size_t)st.st_size) {
		ssize_t n = read(fd, b + got, (size_t)st.st_size + 1 - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = errno;
			explicit_bzero(b, got);
			free(b);
			return dk_fail_errno(err, DK_SYSERR, e, "reading %s", shown);
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	if (got > (size_t)st.st_size) {
		explicit_bzero(b, got);
		free(b);
		return dk_fail(err, DK_SYSERR, "%s changed while being read", shown);
	}
	b[got] = '\0';
	*buf = b;
	*len = got;
	return 0;
}

/* Is the existing file byte-for-byte `data`, with this mode and owner? */
static bool same_file(int dirfd, const char *base, const struct fs_write *w)
{
	int fd = openat(dirfd, base, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return false;
	struct stat st;
	char *buf = NULL;
	size_t len = 0;
	bool same = fstat(fd, &st) == 0 && (st.st_mode & 07777) == w->mode &&
		    (w->uid == FS_KEEP_ID || st.st_uid == w->uid) &&
		    (w->gid == (gid_t)FS_KEEP_ID || st.st_gid == w->gid) &&
		    read_fd(fd, w->len + 1, &buf, &len, base, NULL) == 0 && len == w->len &&
		    memcmp(buf, w->data, len) == 0;
	if (buf != NULL) {
		/* It may have been a key. */
		explicit_bzero(buf, len);
		free(buf);
	}
	close(fd);
	return same;
}

static int write_all(int fd, const void *data, size_t len)
{
	const char *p = data;
	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Pick a backup name next to base that does not exist yet. */
static int backup_name(int dirfd, const char *base, char *out, size_t outlen)
{
	char stamp[32];
	time_t now = time(NULL);
	struct tm tm;
	localtime_r(&now, &tm);
	strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", &tm);
	for (int i = 0; i < 100; i++) {
		int n = i == 0 ? snprintf(out, outlen, "%s.bak-%s", base, stamp)
			       : snprintf(out, outlen, "%s.bak-%s-%d", base, stamp, i);
		if (n < 0 || (size_t)n >= outlen || (size_t)n > NAME_MAX) {
			errno = ENAMETOOLONG;
			return -1;
		}
		struct stat st;
		if (fstatat(dirfd, out, &st, AT_SYMLINK_NOFOLLOW) < 0 && errno == ENOENT)
			return 0;
	}
	errno = EEXIST;
	return -1;
}

/* A temp file of ours older than this was left by a run killed with
 * SIGKILL (or a power loss): no live run takes so long to write a file. */
#define STALE_TMP_SECS (10 * 60)

/* Remove such leftovers in dirfd: regular files named .dkim-setup.*.tmp.
 * Never a symlink, never anything else. */
static void remove_stale_temps(int dirfd)
{
	int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	if (d == NULL) {
		if (fd >= 0)
			close(fd);
		return;
	}
	time_t now = time(NULL);
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		size_t l = strlen(de->d_name);
		if (strncmp(de->d_name, ".dkim-setup.", 12) != 0 || l < 16 || strcmp(de->d_name + l - 4, ".tmp") != 0)
			continue;
		struct stat st;
		/* Whoever owns it (the OpenDKIM copy is chowned to opendkim while
		 * still a temp): in a directory that passed dir_safe only root, or
		 * we, can have made it. */
		if (fstatat(dirfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode) &&
		    now - st.st_mtime > STALE_TMP_SECS)
			unlinkat(dirfd, de->d_name, 0);
	}
	closedir(d);
}

int fs_write_file(struct fs_write *w, struct dk_err *err)
{
	char dir[PATH_MAX], shown[PATH_MAX], tmp[64], bak[NAME_MAX + 1];
	const char *base;
	w->unchanged = w->replaced = false;
	w->backup[0] = '\0';
	if (split_path(w->path, dir, sizeof dir, &base, err) < 0)
		return -1;
	snprintf(shown, sizeof shown, "%s", w->path);

	int dirfd = open_dir(w->root, dir, false, 0, err);
	if (dirfd < 0) {
		/* A dry run before the directory exists: a real run would make it. */
		if ((w->flags & FS_DRY_RUN) && errno == ENOENT) {
			dk_err_clear(err);
			return 0;
		}
		return -1;
	}

	struct stat st;
	bool exists = fstatat(dirfd, base, &st, AT_SYMLINK_NOFOLLOW) == 0;
	int rc = -1;
	if (!exists && errno != ENOENT) {
		dk_fail_errno(err, DK_SYSERR, errno, "%s", shown);
		goto out;
	}
	if (exists && S_ISLNK(st.st_mode)) {
		dk_fail(err, DK_SYSERR, "refusing to write %s: it is a symlink", shown);
		goto out;
	}
	if (exists && !S_ISREG(st.st_mode)) {
		dk_fail(err, DK_SYSERR, "refusing to write %s: it is not a regular file", shown);
		goto out;
	}
	if (exists && same_file(dirfd, base, w)) {
		w->unchanged = true;
		rc = 0;
		goto out;
	}
	if (exists && !(w->flags & FS_REPLACE)) {
		dk_fail(err, DK_USAGE, "%s exists already", shown);
		goto out;
	}
	if (w->flags & FS_DRY_RUN) {
		w->replaced = exists;
		rc = 0;
		goto out;
	}

	unsigned char rnd[6];
	if (getrandom(rnd, sizeof rnd, 0) != (ssize_t)sizeof rnd) {
		dk_fail_errno(err, DK_SYSERR, errno, "getrandom");
		goto out;
	}
	snprintf(tmp, sizeof tmp, ".dkim-setup.%02x%02x%02x%02x%02x%02x.tmp",
		 rnd[0], rnd[1], rnd[2], rnd[3], rnd[4], rnd[5]);

	sigset_t oldmask;
	/* Ctrl-C, kill or a dropped SSH session take effect once the file is whole. */
	dk_block_signals(&oldmask, false);
	/* Created with at most the final mode (umask can only take bits away),
	 * so the key is never readable by others, not even empty. */
	int fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, w->mode & 0777);
	if (fd < 0) {
		dk_fail_errno(err, DK_SYSERR, errno, "cannot create a file in %s", dir);
		restore_signals(&oldmask);
		goto out;
	}
	const char *step = "writing";
	int e = 0;
	if (fchown(fd, w->uid, w->gid) < 0) {
		step = "setting the owner of";
		e = errno;
	} else if (fchmod(fd, w->mode) < 0) {
		step = "setting the mode of";
		e = errno;
	} else if (write_all(fd, w->data, w->len) < 0 || fsync(fd) < 0) {
		e = errno;
	}
	if (close(fd) < 0 && e == 0)
		e = errno;
	if (e == 0 && exists && (w->flags & FS_BACKUP)) {
		step = "backing up";
		/* A hard link keeps the old file whole under the backup name. */
		if (backup_name(dirfd, base, bak, sizeof bak) < 0 || linkat(dirfd, base, dirfd, bak, 0) < 0)
			e = errno;
		else
			snprintf(w->backup, sizeof w->backup, "%s/%s", dir, bak);
	}
	if (e == 0) {
		step = "renaming into place";
		/* A file that appeared meanwhile is not silently replaced. */
		int r = exists ? renameat(dirfd, tmp, dirfd, base)
			       : renameat2(dirfd, tmp, dirfd, base, RENAME_NOREPLACE);
		if (r < 0)
			e = errno;
	}
	if (e != 0) {
		unlinkat(dirfd, tmp, 0);
		if (w->backup[0] != '\0') {
			unlinkat(dirfd, bak, 0);
			w->backup[0] = '\0';
		}
		restore_signals(&oldmask);
		dk_fail_errno(err, DK_SYSERR, e, "%s %s", step, shown);
		goto out;
	}
	fsync(dirfd);
	restore_signals(&oldmask);
	fs_test_hook("renamed", w->path);
	remove_stale_temps(dirfd);
	w->replaced = exists;
	rc = 0;
out:
	close(dirfd);
	return rc;
}

int fs_mkdir(const char *root, const char *path, mode_t mode, uid_t uid, gid_t gid,
	     unsigned flags, struct dk_err *err)
{
	char parent[PATH_MAX];
	const char *base;
	if (split_path(path, parent, sizeof parent, &base, err) < 0)
		return -1;
	fs_test_hook("mkdir", path);
	if (flags & FS_DRY_RUN) {
		/* Check what exists, create nothing. */
		int fd = open_dir(root, path, false, 0, err);
		if (fd >= 0) {
			close(fd);
			return 0;
		}
		return errno == ENOENT ? 0 : -1;
	}
	int pfd = open_dir(root, parent, true, 0755, err);
	if (pfd < 0)
		return -1;
	bool created = false;
	if (mkdirat(pfd, base, mode & 0777) == 0)
		created = true;
	else if (errno != EEXIST) {
		int e = errno;
		close(pfd);
		return dk_fail_errno(err, DK_SYSERR, e, "cannot create %s", path);
	}
	int fd = openat(pfd, base, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	int e = errno;
	close(pfd);
	if (fd < 0)
		return e == ELOOP || e == ENOTDIR
			       ? dk_fail(err, DK_SYSERR, "refusing to use %s: it is a symlink or not a directory", path)
			       : dk_fail_errno(err, DK_SYSERR, e, "%s", path);
	int rc = 0;
	if (created || (flags & FS_ENFORCE)) {
		if (fchown(fd, uid, gid) < 0 || fchmod(fd, mode) < 0)
			rc = dk_fail_errno(err, DK_SYSERR, errno, "setting owner and mode of %s", path);
	}
	if (rc == 0)
		rc = dir_safe(fd, path, err);
	close(fd);
	return rc;
}

int fs_read_file(const char *root, const char *path, size_t max, char **buf, size_t *len,
		 struct dk_err *err)
{
	char dir[PATH_MAX];
	const char *base;
	*buf = NULL;
	*len = 0;
	if (split_path(path, dir, sizeof dir, &base, err) < 0)
		return -1;
	int dirfd = open_dir(root, dir, false, 0, err);
	if (dirfd < 0)
		return -1;
	int fd = openat(dirfd, base, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	int e = errno;
	struct stat st;
	bool link = fd < 0 && fstatat(dirfd, base, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode);
	close(dirfd);
	if (fd < 0) {
		if (link)
			dk_fail(err, DK_SYSERR, "refusing to read %s: it is a symlink", path);
		else
			dk_fail_errno(err, DK_SYSERR, e, "%s", path);
		errno = e;
		return -1;
	}
	int rc;
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_nlink > 1)
		rc = dk_fail(err, DK_SYSERR, "refusing to read %s: it has %lu hard links",
			     path, (unsigned long)st.st_nlink);
	else
		rc = read_fd(fd, max, buf, len, path, err);
	close(fd);
	return rc;
}

int fs_stat(const char *root, const char *path, struct stat *st)
{
	char dir[PATH_MAX];
	const char *base;
	if (split_path(path, dir, sizeof dir, &base, NULL) < 0) {
		errno = EINVAL;
		return -1;
	}
	int dirfd = open_dir(root, dir, false, 0, NULL);
	if (dirfd < 0)
		return -1;
	int r = fstatat(dirfd, base, st, AT_SYMLINK_NOFOLLOW);
	int e = errno;
	close(dirfd);
	errno = e;
	return r;
}

int fs_read_trusted(const char *path, size_t max, char **buf, size_t *len, struct dk_err *err)
{
	char dir[PATH_MAX];
	const char *base;
	*buf = NULL;
	*len = 0;
	if (split_path(path, dir, sizeof dir, &base, err) < 0)
		return -1;
	int dirfd = open_trusted(dir, path, err);
	if (dirfd < 0)
		return -1;
	/* O_NONBLOCK: a FIFO planted here must not hang us; it is refused below. */
	int fd = openat(dirfd, base, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	int e = errno;
	close(dirfd);
	if (fd < 0)
		return dk_fail_errno(err, DK_SYSERR, e, "%s", path);
	struct stat st;
	int rc = 0;
	if (fstat(fd, &st) < 0)
		rc = dk_fail_errno(err, DK_SYSERR, errno, "%s", path);
	else if (!S_ISREG(st.st_mode))
		rc = dk_fail(err, DK_SYSERR, "%s is not a regular file", path);
	else if (geteuid() == 0 && (st.st_uid != 0 || (st.st_mode & S_IWOTH) ||
				    ((st.st_mode & S_IWGRP) && st.st_gid != 0)))
		rc = dk_fail(err, DK_SYSERR, "%s: not a file only root can change", path);
	if (rc == 0)
		rc = read_fd(fd, max, buf, len, path, err);
	close(fd);
	return rc;
}

int fs_exists(const char *root, const char *path)
{
	char dir[PATH_MAX];
	const char *base;
	if (split_path(path, dir, sizeof dir, &base, NULL) < 0)
		return -1;
	int dirfd = open_dir(root, dir, false, 0, NULL);
	if (dirfd < 0)
		return errno == ENOENT ? 0 : -1;
	struct stat st;
	int r = fstatat(dirfd, base, &st, AT_SYMLINK_NOFOLLOW) == 0 ? 1 : errno == ENOENT ? 0 : -1;
	close(dirfd);
	return r;
}

int fs_restore(const char *root, const char *path, const char *backup, struct dk_err *err)
{
	char *buf;
	size_t len;
	/* Backups are hard links of the replaced file until the original name
	 * moves on, so they may have two links: read them through the dir. */
	char dir[PATH_MAX];
	const char *base;
	if (split_path(backup, dir, sizeof dir, &base, err) < 0)
		return -1;
	int dirfd = open_dir(root, dir, false, 0, err);
	if (dirfd < 0)
		return -1;
	int fd = openat(dirfd, base, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	close(dirfd);
	if (fd < 0)
		return dk_fail_errno(err, DK_SYSERR, errno, "backup %s", backup);
	struct stat st;
	int rc = fstat(fd, &st) < 0 ? dk_fail_errno(err, DK_SYSERR, errno, "%s", backup)
				    : read_fd(fd, 64u << 20, &buf, &len, backup, err);
	close(fd);
	if (rc < 0)
		return -1;
	struct fs_write w = {
		.root = root, .path = path, .data = buf, .len = len, .mode = st.st_mode & 07777,
		.uid = st.st_uid, .gid = st.st_gid, .flags = FS_REPLACE,
	};
	rc = fs_write_file(&w, err);
	explicit_bzero(buf, len);
	free(buf);
	return rc;
}

/* unlinkat() of path's last component, through the no-follow directory
 * walk; `flags` 0 for a file, AT_REMOVEDIR for an empty directory. Missing
 * is fine, and so is a directory that is not empty. */
static int remove_at(const char *root, const char *path, int flags, struct dk_err *err)
{
	char dir[PATH_MAX];
	const char *base;
	if (split_path(path, dir, sizeof dir, &base, err) < 0)
		return -1;
	int dirfd = open_dir(root, dir, false, 0, err);
	if (dirfd < 0)
		return errno == ENOENT ? 0 : -1;
	int rc = 0;
	if (unlinkat(dirfd, base, flags) < 0 && errno != ENOENT &&
	    !(flags == AT_REMOVEDIR && (errno == ENOTEMPTY || errno == EEXIST)))
		rc = dk_fail_errno(err, DK_SYSERR, errno, "removing %s", path);
	else
		fsync(dirfd);
	close(dirfd);
	return rc;
}

int fs_remove(const char *root, const char *path, struct dk_err *err)
{
	return remove_at(root, path, 0, err);
}

int fs_remove_dir(const char *root, const char *path, struct dk_err *err)
{
	return remove_at(root, path, AT_REMOVEDIR, err);
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(a, b);
}

int fs_list(const char *root, const char *dir, const char *suffix, char (*names)[NAME_MAX + 1],
	    int max)
{
	int fd = open_dir(root, dir, false, 0, NULL);
	if (fd < 0)
		return errno == ENOENT ? 0 : -1;
	DIR *d = fdopendir(fd);
	if (d == NULL) {
		close(fd);
		return -1;
	}
	int n = 0;
	size_t sl = strlen(suffix);
	struct dirent *de;
	while ((de = readdir(d)) != NULL && n < max) {
		size_t l = strlen(de->d_name);
		if (de->d_name[0] == '.' || l <= sl || strcmp(de->d_name + l - sl, suffix) != 0)
			continue;
		snprintf(names[n++], NAME_MAX + 1, "%s", de->d_name);
	}
	closedir(d);
	qsort(names, (size_t)n, sizeof names[0], cmp_names);
	return n;
}
