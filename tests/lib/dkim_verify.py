#!/usr/bin/python3
"""Verify every DKIM-Signature of a message with dkimpy, answering the key
lookups from a DNS server on loopback (never the system resolver).
Usage: dkim_verify.py MESSAGE DNS_ADDR DNS_PORT
       dkim_verify.py MESSAGE --keys KEYS   (lines "sel._domainkey.dom RECORD")
Prints one line per signature: "pass d=... s=... a=..." or "fail ...";
exits 0 only when there is at least one signature and all pass."""
import ipaddress
import sys

import dkim
import dns.message
import dns.query
import dns.rdatatype

path = sys.argv[1]
KEYS = None
if sys.argv[2] == "--keys":
    KEYS = {}
    for line in open(sys.argv[3], "rb").read().splitlines():
        if line.strip():
            k, v = line.split(b" ", 1)
            KEYS[k.decode().lower().rstrip(".")] = v
else:
    ns, port = sys.argv[2], int(sys.argv[3])
    if not ipaddress.ip_address(ns).is_loopback:
        sys.exit("dkim_verify: loopback name servers only")


def dnsfunc(name, timeout=5):
    if KEYS is not None:
        if isinstance(name, bytes):
            name = name.decode("ascii", "replace")
        return KEYS.get(name.lower().rstrip("."))
    return dns_lookup(name, timeout)


def dns_lookup(name, timeout=5):
    if isinstance(name, bytes):
        name = name.decode()
    q = dns.message.make_query(name, dns.rdatatype.TXT)
    r = dns.query.udp(q, ns, port=port, timeout=timeout)
    if r.flags & 0x0200:  # truncated: ask again over TCP
        r = dns.query.tcp(q, ns, port=port, timeout=timeout)
    for rrset in r.answer:
        if rrset.rdtype == dns.rdatatype.TXT:
            for rd in rrset:
                return b"".join(rd.strings)
    return None


msg = open(path, "rb").read()
d = dkim.DKIM(msg)
sigs = [v for (k, v) in d.headers if k.lower() == b"dkim-signature"]
if not sigs:
    print("no DKIM-Signature")
    sys.exit(1)
ok = True
for i, v in enumerate(sigs):
    tags = dict(t.strip().split(b"=", 1) for t in v.split(b";") if b"=" in t)
    desc = "d=%s s=%s a=%s" % tuple(tags.get(k, b"?").strip().decode() for k in (b"d", b"s", b"a"))
    try:
        res = d.verify(idx=i, dnsfunc=dnsfunc)
    except Exception as e:  # dkimpy raises for malformed input
        res = False
        desc += " (%s)" % e
    print(("pass " if res else "fail ") + desc)
    ok = ok and res
sys.exit(0 if ok else 1)
