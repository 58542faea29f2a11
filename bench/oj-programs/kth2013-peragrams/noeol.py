# Other output format: no newline after the number.
import sys
from collections import Counter
odd = sum(v % 2 for v in Counter(input().strip()).values())
sys.stdout.write(str(max(0, odd - 1)))
