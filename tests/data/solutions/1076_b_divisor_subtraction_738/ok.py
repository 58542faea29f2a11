# After the first subtraction n is even, and 2 is subtracted from then on.
n = int(input())
d = next((p for p in range(2, int(n**0.5) + 1) if n % p == 0), n)
print(1 + (n - d) // 2)
