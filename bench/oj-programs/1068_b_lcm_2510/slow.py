# Slow: tries every divisor up to b.
b = int(input())
print(sum(1 for d in range(1, b + 1) if b % d == 0))
