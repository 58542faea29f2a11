# The C++ algorithm in Python: right, but n = 10^7 iterations is several seconds of CPython.
n = int(input())
p, twos = 1, 0
for i in range(2, n + 1):
    while i % 5 == 0:
        i //= 5
        twos -= 1
    while i % 2 == 0:
        i //= 2
        twos += 1
    p = p * i % 1000
p = p * pow(2, twos, 1000) % 1000
if n <= 6:
    f = 1
    for i in range(2, n + 1):
        f *= i
    print(str(f).rstrip("0"))
else:
    print(f"{p:03d}")
