// Slow: tries every divisor up to b (10^10 divisions on the largest tests).
#include <bits/stdc++.h>
int main() { long long b, c = 0; std::cin >> b;
  for (long long d = 1; d <= b; d++) if (b % d == 0) c++;
  std::cout << c << "\n"; }
