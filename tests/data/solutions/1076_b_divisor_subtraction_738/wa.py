# Wrong for odd n: assumes 2 is always the smallest prime divisor.
n = int(input())
print(n // 2)
