# Other output format: Windows line ends (\r\n) between the categories.
import sys
from collections import Counter
w = sys.stdin.read().split()
c = Counter(w[1:int(w[0]) + 1])
low = min(c.values())
sys.stdout.write("".join(k + "\r\n" for k in sorted(k for k, v in c.items() if v == low)))
