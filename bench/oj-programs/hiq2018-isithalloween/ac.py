d = input().split()
print("yup" if d in (["OCT", "31"], ["DEC", "25"]) else "nope")
