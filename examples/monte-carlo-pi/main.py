"""Monte Carlo estimate of pi: throw random points into the unit square and count those inside the quarter circle.

Each chunk gets {"seed": int, "samples": int} and returns how many of its points fell inside. Every chunk has its
own seed, so chunks are independent and any chunk can be recomputed exactly. Merge by summing:
pi ~= 4 * sum(inside) / sum(samples).
"""
import random


def main(chunk):
    seed = int(chunk["seed"])
    samples = int(chunk["samples"])
    rng = random.Random(seed)
    draw = rng.random
    inside = 0
    for _ in range(samples):
        x = draw()
        y = draw()
        if x * x + y * y < 1.0:
            inside += 1
    return {"seed": seed, "samples": samples, "inside": inside, "estimate": 4 * inside / samples}
