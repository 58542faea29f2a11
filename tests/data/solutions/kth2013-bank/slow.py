# Correct but exponential: every subset of people, kept if it can be served in time.
import sys
from itertools import combinations

data = sys.stdin.buffer.read().split()
n, t = int(data[0]), int(data[1])
people = sorted(((int(data[3 + 2 * i]), int(data[2 + 2 * i])) for i in range(n)))
best = 0
for size in range(1, min(n, t) + 1):
    for chosen in combinations(people, size):
        if all(leave >= slot for slot, (leave, _) in enumerate(chosen)):
            best = max(best, sum(cash for _, cash in chosen))
print(best)
