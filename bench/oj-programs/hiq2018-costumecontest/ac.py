import sys
from collections import Counter
w = sys.stdin.read().split()
c = Counter(w[1:int(w[0]) + 1])
low = min(c.values())
print("\n".join(sorted(k for k, v in c.items() if v == low)))
