# The proof through the signer (issue 12), Postfix + OpenDKIM in a throwaway
# Debian root (tests/lib/troot.sh): the time from "signer restarted" (the
# start command returned) to "verified through OpenDKIM" (check --prove
# exits 0, asked again until it does), median over BENCH_PROVE_RUNS
# restarts; the proof alone with the signer up (median); and the proof's
# peak RSS.
. "$TOP/tests/lib/lib.sh"
. "$TOP/tests/lib/mta.sh"
need_root
[ "${MTA_INNER:-}" = 1 ] || mta_in_root postfix

. "$TOP/tests/lib/knot.sh"
mta_mail_env dkim-bench.test
"$DKIM_SETUP" --batch --json --mta postfix --nameserver "$NS" -d "$DOM" -s b1 >"$W/s.json" 2>/dev/null
mapfile -t strs < <(mta_json_strings <"$W/s.json")
knot_set_txt "b1._domainkey" "${strs[@]}"
mkdir -p /run/opendkim && chown opendkim:opendkim /run/opendkim
exec /usr/bin/python3 - "$DKIM_SETUP" "$NS" "$DOM" "${BENCH_PROVE_RUNS:-7}" <<'PY'
import os, statistics, subprocess, sys, time
prog, ns, dom, runs = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
prove = [prog, "check", "--prove", "--nameserver", ns, "-d", dom, "-s", "b1"]
quiet = dict(stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
od = None

def restart():
    global od
    if od is not None:
        od.terminate()
        od.wait(timeout=15)
    od = subprocess.Popen(["/usr/sbin/opendkim", "-f", "-x", "/etc/opendkim.conf"], **quiet)

to_verified, alone = [], []
try:
    for i in range(runs):
        restart()
        t0 = time.perf_counter()
        while subprocess.call(prove, **quiet) != 0:
            if time.perf_counter() - t0 > 30:
                sys.exit("not verified within 30 s of a restart")
            time.sleep(0.02)
        to_verified.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        if subprocess.call(prove, **quiet) != 0:
            sys.exit("the proof failed with OpenDKIM up")
        alone.append(time.perf_counter() - t0)
    # the peak RSS of check --prove itself (wait4: this child's own figure)
    p = subprocess.Popen(prove, **quiet)
    _, status, ru = os.wait4(p.pid, 0)
    p.returncode = 0
    rss = ru.ru_maxrss   # KiB
    # and of check alone, to see what the proof adds
    p = subprocess.Popen(prove[:2] + prove[3:], **quiet)
    _, status, ru0 = os.wait4(p.pid, 0)
    p.returncode = 0
    t0 = time.perf_counter()
    for _ in range(runs):
        subprocess.call(prove[:2] + prove[3:], **quiet)
    check_only = (time.perf_counter() - t0) / runs
finally:
    if od is not None:
        od.terminate()
        od.wait(timeout=15)
ms = lambda v: "%.0f ms (min %.0f, max %.0f)" % (1000 * statistics.median(v), 1000 * min(v), 1000 * max(v))
print("OpenDKIM restarted -> verified through OpenDKIM: median %s over %d restarts" % (ms(to_verified), runs))
print("check --prove with OpenDKIM up: median %s" % ms(alone))
print("check alone (DNS and key copies, no proof): mean %.0f ms" % (1000 * check_only))
print("peak RSS: check --prove %d KiB, check alone %d KiB" % (rss, ru0.ru_maxrss))
PY
