# Wrong output format: a label before the number.
from collections import Counter
odd = sum(v % 2 for v in Counter(input().strip()).values())
print("answer:", max(0, odd - 1))
