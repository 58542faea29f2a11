# Borrow on day i, repay on day j > i: 100*p[i] - 100*p[j] - K*(j - i + 1); keep the best i so far.
import sys

data = sys.stdin.buffer.read().split()
n, k = int(data[0]), int(data[1])
prices = [int(x) for x in data[2 : 2 + n]]
best, best_start = 0, 100 * prices[0] + k * 0
for j in range(1, n):
    best = max(best, best_start - 100 * prices[j] - k * (j + 1))
    best_start = max(best_start, 100 * prices[j] + k * j)
print(best)
