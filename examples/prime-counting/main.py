"""Counts the primes in a half-open range [lo, hi) with a segmented sieve of Eratosthenes.

Each chunk gets {"lo": int, "hi": int}; the chunks tile [0, 10,000,000). Merge by summing `count`:
the total is pi(10^7) = 664,579. The chunk also reports its first and last prime and its twin-prime pairs
(p, p + 2 both prime, p in [lo, hi)) as a small extra statistic.
"""
import math


def small_primes(limit):
    """Primes <= limit, by a plain sieve (limit is at most a few thousand here)."""
    sieve = bytearray([1]) * (limit + 1)
    sieve[0:2] = b"\x00\x00"[: limit + 1]
    for p in range(2, math.isqrt(limit) + 1):
        if sieve[p]:
            sieve[p * p :: p] = bytes(len(range(p * p, limit + 1, p)))
    return [p for p in range(limit + 1) if sieve[p]]


def segment(lo, hi):
    """is_prime flags for lo..hi-1 as a bytearray."""
    flags = bytearray([1]) * (hi - lo)
    for n in range(lo, min(hi, 2)):
        flags[n - lo] = 0
    for p in small_primes(math.isqrt(max(hi - 1, 0))):
        start = max(p * p, (lo + p - 1) // p * p)
        if start < hi:
            flags[start - lo :: p] = bytes(len(range(start, hi, p)))
    return flags


def main(chunk):
    lo = int(chunk["lo"])
    hi = int(chunk["hi"])
    if not 0 <= lo <= hi:
        raise ValueError(f"need 0 <= lo <= hi, got lo={lo} hi={hi}")
    # Two extra numbers so twin pairs that start just below hi are seen.
    flags = segment(lo, hi + 2)
    count = flags.count(1, 0, hi - lo)
    first = flags.find(1, 0, hi - lo)
    last = flags.rfind(1, 0, hi - lo)
    twins = sum(1 for i in range(hi - lo) if flags[i] and flags[i + 2])
    return {
        "lo": lo,
        "hi": hi,
        "count": count,
        "first": lo + first if first >= 0 else None,
        "last": lo + last if last >= 0 else None,
        "twins": twins,
    }
