# Wrong: ignores when people leave and takes the T richest.
import sys

data = sys.stdin.buffer.read().split()
n, t = int(data[0]), int(data[1])
cash = sorted((int(data[2 + 2 * i]) for i in range(n)), reverse=True)
print(sum(cash[:t]))
