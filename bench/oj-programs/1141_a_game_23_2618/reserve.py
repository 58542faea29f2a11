# Right answer, but first maps 800 MB of anonymous memory that it never touches: it counts
# against the address space, not the resident set. (Rewritten after the first run: the
# first version used bytearray(n), which zero-fills and so touches every page.)
import mmap
buf = mmap.mmap(-1, 800 * 2**20)
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
