# lcm(a, b) / a = b / gcd(a, b) takes one value per divisor of b: count the divisors.
b = int(input())
count, d = 1, 2
while d * d <= b:
    e = 0
    while b % d == 0:
        b //= d
        e += 1
    count *= e + 1
    d += 1
if b > 1:
    count *= 2
print(count)
