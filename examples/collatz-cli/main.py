"""Finds the longest Collatz chains among starting values in a range: an ordinary command-line program.

The Collatz map sends n to n / 2 when n is even and to 3n + 1 when n is odd; a chain's length is the number of steps
from n down to 1. This file is run unmodified as a script, one run per chunk, with the chunk's arguments:

    python main.py --start 1 --stop 10001 --top 3

and prints a short report (the chunk's output is that text).
"""
import argparse


def chain_lengths(start, stop):
    """Steps to reach 1 for every n in [start, stop), sharing work through a cache of lengths already known."""
    known = {1: 0}
    lengths = {}
    for n in range(start, stop):
        path = []
        value = n
        while value not in known:
            path.append(value)
            value = value // 2 if value % 2 == 0 else 3 * value + 1
        steps = known[value]
        for visited in reversed(path):
            steps += 1
            known[visited] = steps
        lengths[n] = known[n]
    return lengths


def main():
    parser = argparse.ArgumentParser(description="Longest Collatz chains for start <= n < stop.")
    parser.add_argument("--start", type=int, required=True, help="first starting value (>= 1)")
    parser.add_argument("--stop", type=int, required=True, help="one past the last starting value")
    parser.add_argument("--top", type=int, default=3, help="how many of the longest chains to list")
    args = parser.parse_args()
    if not 1 <= args.start < args.stop:
        parser.error("need 1 <= start < stop")

    lengths = chain_lengths(args.start, args.stop)
    ranked = sorted(lengths.items(), key=lambda item: (-item[1], item[0]))
    print(f"Collatz chains for {args.start} <= n < {args.stop}")
    print(f"checked: {len(lengths)}")
    print(f"total steps: {sum(lengths.values())}")
    print(f"longest {args.top}:")
    for n, steps in ranked[: args.top]:
        print(f"  n={n} steps={steps}")


if __name__ == "__main__":
    main()
