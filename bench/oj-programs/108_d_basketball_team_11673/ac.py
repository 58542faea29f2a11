n, m, h = map(int, input().split())
s = list(map(int, input().split()))
total = sum(s)
if total < n:
    print(-1)
else:
    # P(no teammate from h): the other n-1 places all go to students outside h.
    none = 1.0
    for i in range(n - 1):
        none *= (total - s[h - 1] - i) / (total - 1 - i)
    print(f"{1 - none:.10f}")
