# Correct but O(n^2) over all pairs of days: n is up to 10^5.
import sys

data = sys.stdin.buffer.read().split()
n, k = int(data[0]), int(data[1])
prices = [int(x) for x in data[2 : 2 + n]]
best = 0
for i in range(n):
    for j in range(i + 1, n):
        best = max(best, 100 * (prices[i] - prices[j]) - k * (j - i + 1))
print(best)
