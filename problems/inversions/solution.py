import sys


def main() -> None:
    data = sys.stdin.buffer.read().split()
    n = int(data[0])
    values = [int(x) for x in data[1 : n + 1]]
    # Compress values to ranks 1..m, then count earlier elements greater than each one
    # with a Fenwick tree: O(n log n).
    ranks = {v: i + 1 for i, v in enumerate(sorted(set(values)))}
    m = len(ranks)
    tree = [0] * (m + 1)
    inversions = 0
    for seen, v in enumerate(values):
        r = ranks[v]
        not_greater = 0
        i = r
        while i > 0:
            not_greater += tree[i]
            i -= i & -i
        inversions += seen - not_greater
        i = r
        while i <= m:
            tree[i] += 1
            i += i & -i
    print(inversions)


main()
