# The answer is the number of divisors of b.
b = int(input())
count, d = 0, 1
while d * d <= b:
    if b % d == 0:
        count += 1 if d * d == b else 2
    d += 1
print(count)
