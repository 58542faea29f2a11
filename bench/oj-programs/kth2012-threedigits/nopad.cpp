// Wrong: drops leading zeros (12! gives 16, not 016).
#include <bits/stdc++.h>
int main() { long long n; std::cin >> n; long long p = 1, twos = 0;
  for (long long i = 2; i <= n; i++) { long long x = i;
    while (x % 5 == 0) { x /= 5; twos--; } while (x % 2 == 0) { x /= 2; twos++; }
    p = p * x % 1000; }
  for (long long i = 0; i < twos; i++) p = p * 2 % 1000;
  std::cout << p << "\n"; }
