# Off by one: forgets that one letter may have an odd count.
from collections import Counter
print(sum(v % 2 for v in Counter(input().strip()).values()))
