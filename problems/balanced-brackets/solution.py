import sys


def main() -> None:
    s = sys.stdin.readline().strip()
    match = {")": "(", "]": "[", "}": "{"}
    stack: list[str] = []
    depth = 0
    for pos, ch in enumerate(s, 1):
        if ch in "([{":
            stack.append(ch)
            depth = max(depth, len(stack))
        elif not stack or stack.pop() != match[ch]:
            print("NO", pos)
            return
    if stack:
        print("NO", len(s) + 1)
    else:
        print("YES", depth)


main()
