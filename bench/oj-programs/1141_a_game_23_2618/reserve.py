# Right answer, but first reserves 800 MB of zeroed memory that it never touches
# (calloc: the pages count against the address space, not the resident set).
buf = bytearray(800 * 2**20)
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
