# Wrong output format: two decimals only (the checker wants 1e-6).
n, m, h = map(int, input().split())
s = list(map(int, input().split()))
total = sum(s)
if total < n:
    print(-1)
else:
    none = 1.0
    for i in range(n - 1):
        none *= (total - s[h - 1] - i) / (total - 1 - i)
    print(f"{1 - none:.2f}")
