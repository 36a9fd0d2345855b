#!/usr/bin/python3
"""Write the cross-test corpus for src/verify.c (libopendkim) and dkimpy
into DIR: NNN-name.eml messages and one KEYS file ("sel._domainkey.dom
RECORD" lines) that both verifiers answer key lookups from.
Usage: dkim_corpus.py DIR [CAPTURED_DIR]

What is in it:
- RFC 8463's example (rfc6376.signed.msg: Ed25519 and RSA, the same
  message) and dkimpy's own signed test messages, with their key records;
- messages dkimpy signs here with the RSA and Ed25519 keys of tests/data
  and dkimpy's test keys: both canonicalisations in all four pairs, l=,
  repeated and over-signed headers in h=, folded headers, empty bodies,
  trailing blank lines and whitespace, several signatures;
- each of those changed after signing in a way that must fail (body,
  a signed header, the key record: another key, revoked, wrong k=) or
  must still pass (text past l=, whitespace under relaxed, an unsigned
  header added);
- CAPTURED_DIR/*.eml with CAPTURED_DIR/KEYS: messages our own Exim,
  OpenDKIM and rspamd runs signed (tests/data/corpus).
"""
import os
import sys

import dkim

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DATA = "/usr/lib/python3/dist-packages/dkim/tests/data"
out = sys.argv[1]
os.makedirs(out, exist_ok=True)
keys = {}
n = [0]


def rd(path):
    with open(path, "rb") as f:
        return f.read()


def put(name, msg):
    n[0] += 1
    with open(os.path.join(out, "%03d-%s.eml" % (n[0], name)), "wb") as f:
        f.write(msg)


def ed25519_seed(pem):
    """dkimpy signs with the raw 32-byte seed, base64: the tail of the PKCS#8 DER."""
    import base64
    der = base64.b64decode(b"".join(l for l in pem.splitlines() if not l.startswith(b"-----")))
    return base64.b64encode(der[-32:])


# ---- published examples ----
keys["test._domainkey.football.example.com"] = rd(DATA + "/test.txt").strip()
keys["brisbane._domainkey.football.example.com"] = b"v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo="
keys["test._domainkey.example.com"] = rd(DATA + "/test.txt").strip()
for f in ("rfc6376.signed.msg", "rfc6376.signed.rsa.msg"):
    put("dkimpy-" + f, rd(os.path.join(DATA, f)))
# the same with the body changed: must fail
put("dkimpy-rfc6376-body-changed", rd(DATA + "/rfc6376.signed.msg").replace(b"Joe", b"Jon"))

# ---- signed here ----
msg_plain = (b"X-Relay: from a.example by b.example; Mon, 1 Jan 2024 00:00:00 +0000\r\n"
             b"X-Relay: from c.example by a.example; Mon, 1 Jan 2024 00:00:00 +0000\r\n"
             b"From: Joe SixPack <joe@example.com>\r\n"
             b"To: Suzie Q <suzie@example.net>\r\n"
             b"Subject: Is dinner ready?\r\n"
             b"  folded   subject  line\r\n"
             b"Date: Fri, 11 Jul 2003 21:00:37 -0700 (PDT)\r\n"
             b"Message-ID: <20030712040037.46341.5F8J@football.example.com>\r\n"
             b"\r\n"
             b"Hi.\r\n"
             b"\r\n"
             b"We lost the game.  Are you hungry yet?   \r\n"
             b"\tJoe.\r\n"
             b"\r\n"
             b"\r\n")
msg_empty = (b"From: joe@example.com\r\nTo: suzie@example.net\r\nSubject: empty\r\n\r\n")

signers = []   # (label, private key bytes, domain, selector)
for label, path, rec, sel in (("rsa2048", TOP + "/tests/data/rsa2048.pem", TOP + "/tests/data/rsa2048.record", "rsa"),
                              ("ed25519", TOP + "/tests/data/ed25519.pem", TOP + "/tests/data/ed25519.record", "ed"),
                              ("rsa1024", DATA + "/test.private", DATA + "/test.txt", "r1024")):
    keys["%s._domainkey.example.com" % sel] = rd(rec).strip()
    key = rd(path)
    signers.append((label, ed25519_seed(key) if label == "ed25519" else key, sel))
# a record with another key, a revoked one, one of the wrong type
keys["other._domainkey.example.com"] = keys["r1024._domainkey.example.com"]
keys["revoked._domainkey.example.com"] = b"v=DKIM1; k=rsa; p="
keys["wrongk._domainkey.example.com"] = b"v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo="

CANONS = [(b"simple", b"simple"), (b"relaxed", b"relaxed"), (b"simple", b"relaxed"), (b"relaxed", b"simple")]
HDRS = [b"from", b"to", b"subject", b"date", b"message-id", b"x-relay", b"x-relay"]
OVER = HDRS + [b"x-relay", b"subject", b"reply-to"]   # over-signed: one more than there are


def sign(msg, key, sel, canon, include=HDRS, length=False):
    alg = b"ed25519-sha256" if sel == "ed" else b"rsa-sha256"
    sig = dkim.sign(msg, sel.encode(), b"example.com", key, canonicalize=canon,
                    include_headers=include, length=length, signature_algorithm=alg)
    return sig + msg


for label, key, sel in signers:
    for hc, bc in CANONS:
        tag = "%s-%s-%s" % (label, hc.decode(), bc.decode())
        s = sign(msg_plain, key, sel, (hc, bc))
        put(tag, s)
        put(tag + "-body-changed", s.replace(b"hungry", b"thirsty"))
        put(tag + "-subject-changed", s.replace(b"dinner", b"lunch"))
        put(tag + "-ws-in-body", s.replace(b"the game.", b"the  game. "))
        put(tag + "-ws-in-header", s.replace(b"Subject: Is", b"Subject:  Is"))
        put(tag + "-unsigned-header-added", s.replace(b"\r\n\r\nHi.", b"\r\nX-Added: yes\r\n\r\nHi."))
        put(tag + "-repeated-header-changed", s.replace(b"X-Relay: from a.example", b"X-Relay: from x.example"))
        put(tag + "-empty-body", sign(msg_empty, key, sel, (hc, bc)))
        put(tag + "-trailing-lines-added", s + b"\r\n\r\n")
    s = sign(msg_plain, key, sel, (b"relaxed", b"relaxed"), include=OVER)
    put(label + "-oversigned", s)
    put(label + "-oversigned-header-added", s.replace(b"\r\n\r\nHi.", b"\r\nReply-To: x@evil.example\r\n\r\nHi."))
    s = sign(msg_plain, key, sel, (b"relaxed", b"simple"), length=True)
    put(label + "-l", s)
    put(label + "-l-text-appended", s + b"Appended after signing.\r\n")
    put(label + "-l-body-changed", s.replace(b"hungry", b"thirsty"))
    s = sign(msg_plain, key, sel, (b"relaxed", b"relaxed"))
    put(label + "-other-key", s.replace(b"s=" + sel.encode() + b";", b"s=other;", 1))
    put(label + "-revoked", s.replace(b"s=" + sel.encode() + b";", b"s=revoked;", 1))
    put(label + "-wrong-k", s.replace(b"s=" + sel.encode() + b";", b"s=wrongk;", 1))
    put(label + "-no-record", s.replace(b"s=" + sel.encode() + b";", b"s=absent;", 1))

# two and three signatures on one message, one of them broken
s = sign(msg_plain, signers[0][1], "rsa", (b"relaxed", b"relaxed"))
s = sign(s, signers[1][1], "ed", (b"relaxed", b"relaxed"))
put("dual-rsa-ed25519", s)
put("dual-rsa-ed25519-body-changed", s.replace(b"hungry", b"thirsty"))
put("dual-one-broken", s.replace(b"s=ed;", b"s=other;", 1))
put("no-signature", msg_plain)

# ---- captured from our own MTA runs ----
if len(sys.argv) > 2 and os.path.isdir(sys.argv[2]):
    cap = sys.argv[2]
    for line in rd(os.path.join(cap, "KEYS")).splitlines():
        if line.strip():
            k, v = line.split(b" ", 1)
            keys[k.decode()] = v
    for f in sorted(os.listdir(cap)):
        if f.endswith(".eml"):
            m = rd(os.path.join(cap, f))
            put("captured-" + f[:-4], m)
            put("captured-" + f[:-4] + "-body-changed", m + b"Changed after signing.\r\n")

with open(os.path.join(out, "KEYS"), "wb") as f:
    for k, v in keys.items():
        f.write(k.encode() + b" " + v + b"\n")
print(n[0])
