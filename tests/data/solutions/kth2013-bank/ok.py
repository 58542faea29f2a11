# Fill the minutes from the last to the first, each with the richest person still present.
import heapq
import sys

data = sys.stdin.buffer.read().split()
n, t = int(data[0]), int(data[1])
by_deadline: list[list[int]] = [[] for _ in range(t)]
for i in range(n):
    cash, leave = int(data[2 + 2 * i]), int(data[3 + 2 * i])
    by_deadline[leave].append(cash)
heap: list[int] = []
total = 0
for minute in range(t - 1, -1, -1):
    for cash in by_deadline[minute]:
        heapq.heappush(heap, -cash)
    if heap:
        total -= heapq.heappop(heap)
print(total)
