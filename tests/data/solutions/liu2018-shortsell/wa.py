# Wrong: pays interest for j - i days instead of j - i + 1.
import sys

data = sys.stdin.buffer.read().split()
n, k = int(data[0]), int(data[1])
prices = [int(x) for x in data[2 : 2 + n]]
best, best_start = 0, 100 * prices[0]
for j in range(1, n):
    best = max(best, best_start - 100 * prices[j] - k * j)
    best_start = max(best_start, 100 * prices[j] + k * j)
print(best)
