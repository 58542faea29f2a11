import math
import sys


def closest(points: list[tuple[int, int]]) -> float:
    """The smallest distance between two of the points: divide and conquer on x, each half
    returned sorted by y, then only a narrow strip around the split is compared (O(n log n))."""
    pts = sorted(points)
    best = math.inf  # squared distance, kept exact in integers
    def solve(lo: int, hi: int) -> list[tuple[int, int]]:
        nonlocal best
        if hi - lo <= 3:
            part = pts[lo:hi]
            for i in range(len(part)):
                for j in range(i + 1, len(part)):
                    dx = part[i][0] - part[j][0]
                    dy = part[i][1] - part[j][1]
                    d = dx * dx + dy * dy
                    if d < best:
                        best = d
            return sorted(part, key=lambda p: p[1])
        mid = (lo + hi) // 2
        mid_x = pts[mid][0]
        left = solve(lo, mid)
        right = solve(mid, hi)
        merged = sorted(left + right, key=lambda p: p[1])  # timsort merges two runs in O(n)
        strip = [p for p in merged if (p[0] - mid_x) ** 2 < best]
        for i, (x1, y1) in enumerate(strip):
            for j in range(i + 1, len(strip)):
                x2, y2 = strip[j]
                dy = y2 - y1
                if dy * dy >= best:
                    break
                d = (x2 - x1) ** 2 + dy * dy
                if d < best:
                    best = d
        return merged

    solve(0, len(pts))
    return math.sqrt(best)


def main() -> None:
    data = sys.stdin.buffer.read().split()
    n = int(data[0])
    points = [(int(data[1 + 2 * i]), int(data[2 + 2 * i])) for i in range(n)]
    print(f"{closest(points):.9f}")


main()
