/*
 * fsutil.h: the only unit that writes files as root.
 *
 * Every path is absolute as the target system sees it ("/etc/ssl/...");
 * `root` ("" for the real /) is prefixed. Directories below root are walked
 * one component at a time with O_NOFOLLOW: a symlink anywhere below root is
 * refused, as is a target directory writable by others. Files are written
 * to a temporary name created O_CREAT|O_EXCL|O_NOFOLLOW with their final
 * mode from the first byte, fsync'd, then renamed into place; an existing
 * file is replaced only when asked, and then kept as a backup first.
 *
 * The root is opened once (fs_root_open, which main calls before anything
 * else looks at files) and held as a descriptor: every lookup, stat,
 * write, rename, unlink, chown and chmod below it goes through that
 * descriptor and the *at() calls, never through the root's name again, so
 * renaming or replacing the root (or a parent) meanwhile changes nothing.
 */
#ifndef DKIM_FSUTIL_H
#define DKIM_FSUTIL_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "common.h"

#define FS_KEEP_ID ((uid_t)-1)   /* leave owner (or group) as the creator's */

enum fs_write_flags {
	FS_REPLACE = 1 << 0,   /* an existing file may be replaced ... */
	FS_BACKUP = 1 << 1,    /* ... after being kept as <name>.bak-<stamp> */
	FS_DRY_RUN = 1 << 2,   /* check everything, write nothing */
	FS_ENFORCE = 1 << 3,   /* fs_mkdir: fix mode and owner of an existing directory */
};

struct fs_write {
	const char *root;       /* "" for / */
	const char *path;       /* absolute target path */
	const void *data;
	size_t len;
	mode_t mode;            /* final mode, e.g. 0600 */
	uid_t uid;              /* FS_KEEP_ID or an id */
	gid_t gid;              /* (gid_t)FS_KEEP_ID or an id */
	unsigned flags;         /* enum fs_write_flags */
	/* out */
	bool unchanged;         /* the file already had these bytes, mode, owner */
	bool replaced;          /* an existing file was replaced */
	char backup[PATH_MAX];  /* backup path (without root) when one was made */
};

/*
 * Open `root` ("" for /) and hold it for every later call naming it. The
 * path is walked from / one component at a time without following a
 * symlink. Run as root, every directory from / down to the root must
 * belong to root and be writable by nobody else (a sticky directory such
 * as /tmp may be on the way), and the root itself must pass the checks
 * every target directory passes: otherwise -1 + err (DK_USAGE) with the
 * reason and what to do. Calling it again with the same root is a no-op;
 * another root replaces the held one (the unit tests use several).
 */
int fs_root_open(const char *root, struct dk_err *err);

/* Write w->data to w->path as described above. -1 + err: DK_USAGE when the
 * file exists and FS_REPLACE is not set; DK_SYSERR for symlinks, unsafe
 * directories and I/O errors (nothing is left behind under any name). */
int fs_write_file(struct fs_write *w, struct dk_err *err);

/* Create a directory (and missing parents, 0755) if absent, with the mode
 * and owner given; with FS_ENFORCE an existing one is given them too.
 * FS_DRY_RUN checks only. No symlinks followed. */
int fs_mkdir(const char *root, const char *path, mode_t mode, uid_t uid, gid_t gid,
	     unsigned flags, struct dk_err *err);

/* Read a regular file (no symlinks, no hard-linked files, at most `max`
 * bytes). *buf is NUL-terminated and malloc'd (wipe it with
 * keygen_secret_free when it held a key). -1 + err (DK_SYSERR); errno is
 * ENOENT when the file or a directory above it is missing. */
int fs_read_file(const char *root, const char *path, size_t max, char **buf, size_t *len,
		 struct dk_err *err);

/* Names in directory `dir` ending in `suffix`, sorted; at most `max` of
 * NAME_MAX+1 bytes each into names. Returns the count (0 when the directory
 * is missing), or -1. Symlinked directories are refused as elsewhere. */
int fs_list(const char *root, const char *dir, const char *suffix, char (*names)[NAME_MAX + 1],
	    int max);

/* lstat() of path below root, through the held root and the no-follow
 * walk. 0, or -1 with errno (ENOENT when it or a directory is missing). */
int fs_stat(const char *root, const char *path, struct stat *st);

/* Read a text that is not below --root and holds no secret (the training
 * texts): the directory is walked from / without following symlinks, and
 * as root every directory on the way and the file itself must belong to
 * root and be writable by nobody else. The file is opened O_NOFOLLOW |
 * O_NONBLOCK and must be a regular file of at most max bytes (a FIFO or
 * device is refused, never waited on). *buf as for fs_read_file. */
int fs_read_trusted(const char *path, size_t max, char **buf, size_t *len, struct dk_err *err);

/* Called at named moments ("root-opened", "renamed", "mkdir") with the
 * path; empty in dkim-setup, a pause point in the test build. */
void fs_test_hook(const char *moment, const char *path);

/* 1 if path exists (lstat), 0 if not, -1 on other errors. */
int fs_exists(const char *root, const char *path);

/* root + path into out. -1 if too long. */
int fs_join(const char *root, const char *path, char *out, size_t outlen);

/* Restore a backup made by fs_write_file over `path` (rollback). */
int fs_restore(const char *root, const char *path, const char *backup, struct dk_err *err);

/* Remove a file we created (rollback of a new file). Missing is fine. */
int fs_remove(const char *root, const char *path, struct dk_err *err);

/* Remove an empty directory (nothing happens when it is not empty or not
 * there). For undoing a directory this run created. */
int fs_remove_dir(const char *root, const char *path, struct dk_err *err);

#endif
