# Runtime error: raises instead of printing -1.
n, m = map(int, input().split())
q, moves = m // n, 0
assert m % n == 0, "not a multiple"
for p in (2, 3):
    while q % p == 0:
        q //= p
        moves += 1
if q != 1:
    raise ValueError("impossible")
print(moves)
