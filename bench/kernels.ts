// The Python program the runtime benches share: a trial-division prime count, pure Python with no C helpers, so it
// measures the interpreter. As a function-mode job `main(n)` returns the count; run as a script
// (`python3 main.py N`) it prints `{"result", "seconds"}`, timed inside Python.
export const PRIME_COUNT = `
def main(n):
    count = 0
    for i in range(2, n):
        j = 2
        while j * j <= i:
            if i % j == 0:
                break
            j += 1
        else:
            count += 1
    return count

if __name__ == "__main__":
    import json, sys, time
    started = time.perf_counter()
    result = main(int(sys.argv[1]))
    print(json.dumps({"result": result, "seconds": time.perf_counter() - started}))
`;
