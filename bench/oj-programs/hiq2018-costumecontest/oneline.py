# Other output format: every category on one line (a token checker accepts it).
import sys
from collections import Counter
w = sys.stdin.read().split()
c = Counter(w[1:int(w[0]) + 1])
low = min(c.values())
print(" ".join(sorted(k for k, v in c.items() if v == low)))
