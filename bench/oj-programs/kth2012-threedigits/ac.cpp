#include <bits/stdc++.h>
int main() { long long n; std::cin >> n; long long p = 1, twos = 0;
  for (long long i = 2; i <= n; i++) { long long x = i;
    while (x % 5 == 0) { x /= 5; twos--; } while (x % 2 == 0) { x /= 2; twos++; }
    p = p * x % 1000; }
  for (long long i = 0; i < twos; i++) p = p * 2 % 1000;
  if (n <= 6) { long long f = 1; for (int i = 2; i <= n; i++) f *= i; while (f % 10 == 0) f /= 10; std::cout << f << "\n"; }
  else printf("%03lld\n", p); }
