# Key generation: `dkim-setup --batch` (whole run: key, files, record) against
# `openssl genpkey` for the same key, alternating, in one run; ratio of
# medians, spread, and peak RSS of each.
exec /usr/bin/python3 - "$DKIM_SETUP" "${BENCH_RUNS:-31}" <<'PY'
import os, shutil, statistics, subprocess, sys, tempfile, time

prog, runs = sys.argv[1], int(sys.argv[2])

RSS = tempfile.mktemp(prefix="dkim-bench-rss.")

def run(argv):
    # GNU time reports the peak RSS of the program itself (a fork of this
    # Python process would count Python's pages).
    t0 = time.perf_counter()
    rc = subprocess.call(["/usr/bin/time", "-f", "%M", "-o", RSS] + argv,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    dt = time.perf_counter() - t0
    if rc != 0:
        sys.exit("failed: %s" % " ".join(argv))
    with open(RSS) as f:
        return dt, int(f.read().split()[-1])  # KiB

def bench(label, ours, theirs, n):
    a, b, ra, rb = [], [], [], []
    for i in range(n):
        root = tempfile.mkdtemp(prefix="dkim-bench.")
        out = os.path.join(root, "k.pem")
        try:
            # alternate which goes first, so drift hits both alike
            pair = [(a, ra, ours(root)), (b, rb, theirs(out))]
            if i % 2:
                pair.reverse()
            for times, rss, argv in pair:
                dt, m = run(argv)
                times.append(dt)
                rss.append(m)
        finally:
            shutil.rmtree(root)
    ma, mb = statistics.median(a), statistics.median(b)
    q = lambda v: statistics.quantiles(v, n=4)
    print(f"{label}: {n} runs each")
    print(f"  dkim-setup --batch : median {ma*1000:8.1f} ms  IQR {q(a)[0]*1000:.1f}-{q(a)[2]*1000:.1f} ms  peak RSS {max(ra)/1024:.1f} MiB")
    print(f"  openssl genpkey    : median {mb*1000:8.1f} ms  IQR {q(b)[0]*1000:.1f}-{q(b)[2]*1000:.1f} ms  peak RSS {max(rb)/1024:.1f} MiB")
    print(f"  ratio of medians (dkim-setup / openssl): {ma/mb:.2f}")

bench("RSA-2048",
      lambda r: [prog, "--batch", "--root", r, "-d", "example.com", "-s", "b1", "--mta", "none"],
      lambda o: ["openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", o],
      runs)
bench("Ed25519",
      lambda r: [prog, "--batch", "--root", r, "-d", "example.com", "-s", "b1", "-a", "ed25519", "--mta", "none"],
      lambda o: ["openssl", "genpkey", "-algorithm", "ED25519", "-out", o],
      max(runs, 51))
PY
