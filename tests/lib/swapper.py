#!/usr/bin/python3
"""swapper.py: the attacker of attack_swap.sh, run as an unprivileged user.

Waits with inotify for one event in a directory (as a real attacker would:
no polling, no timing), then swaps the sandbox: renames SB to SB.old and
puts a symlink to TARGET in its place; then, when given, writes one byte to
a FIFO (the hook build waits on it) and exits. Prints what it did.

usage: swapper.py WATCH_DIR EVENT NAME SB TARGET [FIFO]
  EVENT: open (the directory itself opened), moved_to, delete, create
  NAME:  the entry name for moved_to/delete/create ("-" for open)
"""
import ctypes
import os
import struct
import sys

IN_OPEN, IN_MOVED_TO, IN_CREATE, IN_DELETE, IN_ISDIR = 0x20, 0x80, 0x100, 0x200, 0x40000000
MASKS = {"open": IN_OPEN, "moved_to": IN_MOVED_TO, "delete": IN_DELETE, "create": IN_CREATE}


def main():
    watch, event, name, sb, target = sys.argv[1:6]
    fifo = sys.argv[6] if len(sys.argv) > 6 else None
    libc = ctypes.CDLL("libc.so.6", use_errno=True)
    fd = libc.inotify_init1(0)
    if fd < 0 or libc.inotify_add_watch(fd, watch.encode(), MASKS[event]) < 0:
        print("swapper: inotify failed", ctypes.get_errno(), flush=True)
        return 1
    print("swapper: watching", watch, event, name, flush=True)
    while True:
        buf = os.read(fd, 65536)
        off = 0
        hit = False
        while off < len(buf):
            _wd, mask, _cookie, ln = struct.unpack_from("iIII", buf, off)
            ename = buf[off + 16:off + 16 + ln].rstrip(b"\0").decode()
            off += 16 + ln
            if mask & MASKS[event] and (event == "open" and ename == "" or ename == name):
                hit = True
        if hit:
            break
    os.rename(sb, sb + ".old")
    os.symlink(target, sb)
    print("swapper: swapped", sb, "->", target, flush=True)
    if fifo:
        with open(fifo, "w") as f:
            f.write("x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
