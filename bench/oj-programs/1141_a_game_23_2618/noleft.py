# Wrong: forgets to check that nothing but 2s and 3s is left of m / n.
n, m = map(int, input().split())
if m % n:
    print(-1)
else:
    q, moves = m // n, 0
    for p in (2, 3):
        while q % p == 0:
            q //= p
            moves += 1
    print(moves)
