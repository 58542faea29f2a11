# Right answer, but first fills 800 MB (more than the 512 MB limit).
buf = bytearray(b"\1") * (800 * 2**20)
n, m = map(int, input().split())
if m % n:
    print(-1)
else:
    q, moves = m // n, 0
    for p in (2, 3):
        while q % p == 0:
            q //= p
            moves += 1
    print(moves if q == 1 else -1)
