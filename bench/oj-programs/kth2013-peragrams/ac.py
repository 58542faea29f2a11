from collections import Counter
odd = sum(v % 2 for v in Counter(input().strip()).values())
print(max(0, odd - 1))
