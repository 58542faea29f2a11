# Wrong output format: right answer in upper case (Kattis's default validator would accept it).
d = input().split()
print("YUP" if d in (["OCT", "31"], ["DEC", "25"]) else "NOPE")
