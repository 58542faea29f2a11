# Correct but O(b): b is up to 10^10.
b = int(input())
print(sum(1 for d in range(1, b + 1) if b % d == 0))
