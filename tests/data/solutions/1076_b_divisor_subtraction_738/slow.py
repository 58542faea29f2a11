# Simulates every subtraction: up to 5 * 10^9 steps.
n = int(input())
steps = 0
while n:
    d = 2
    while d * d <= n and n % d:
        d += 1
    n -= d if d * d <= n else n
    steps += 1
print(steps)
