# Monte Carlo: phi accrual detector (Hayashibara; normal inter-arrival model,
# Akka/Cassandra style) on answers to probes sent every 1 s +/-10 % (uniform),
# RTT ~0.3 ms. Detection: stop at a random phase; false downs: 600 s at 2 %
# loss each way. Mean and stddev are learned from a window of 1000 answers.
import math, random, statistics
def phi(dt, mu, sd):
    y = (dt - mu) / sd
    z = y * (1.5976 + 0.070566 * y * y)  # e = exp(-z); phi = -log10(e/(1+e))
    if z > 30: return z / math.log(10)
    e = math.exp(-z)
    return -math.log10(e / (1 + e))
def arrivals(rng, T, loss):
    t, out = 0.0, []
    while t < T:
        ok = rng.random() >= loss and rng.random() >= loss
        if ok: out.append(t + 0.0003)
        t += 1.0 + rng.uniform(-0.1, 0.1)
    return out
rng = random.Random(1)
warm = arrivals(rng, 1000, 0.0)
gaps = [b - a for a, b in zip(warm, warm[1:])]
mu, sd = statistics.mean(gaps), max(statistics.pstdev(gaps), 0.01)
def threshold_time(th):  # gap after the last answer at which phi reaches th
    lo, hi = mu, 10.0
    for _ in range(60):
        m = (lo + hi) / 2
        (lo, hi) = (m, hi) if phi(m, mu, sd) < th else (lo, m)
    return hi
for th in (1, 3, 8, 16):
    T = threshold_time(th)
    det = []
    for _ in range(20000):
        a = arrivals(rng, 30, 0.0)
        stop = rng.uniform(10, 20)
        last = max(x for x in a if x < stop)
        det.append(max(last + T, stop) - stop)
    det.sort()
    fd = []
    for _ in range(200):
        a = arrivals(rng, 600, 0.02)
        fd.append(sum(1 for x, y in zip(a, a[1:]) if y - x > T))
    print(f"phi>={th:2}: suspect {T:.3f}s after last answer; detection median "
          f"{det[len(det)//2]:.3f} p99 {det[int(len(det)*.99)]:.3f} s; "
          f"false downs in 600 s at 2% loss: mean {statistics.mean(fd):.1f}")
