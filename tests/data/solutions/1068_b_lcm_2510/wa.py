# Wrong: counts distinct prime factors plus one instead of divisors.
b = int(input())
count, d = 1, 2
while d * d <= b:
    if b % d == 0:
        count += 1
        while b % d == 0:
            b //= d
    d += 1
if b > 1:
    count += 1
print(count)
