# Slow: the whole factorial as a big integer (quadratic in n).
n = int(input())
f = 1
for i in range(2, n + 1):
    f *= i
    while f % 10 == 0:
        f //= 10
s = str(f % 1000) if f >= 1000 else str(f)
print(s.zfill(3) if f >= 1000 else s)
